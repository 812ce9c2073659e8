"""``GET /v1/webhooks/failed`` and ``POST /v1/webhooks/failed/replay`` (pure): the query and
the replay's request read, the core's failed webhooks and replayed items encoded as the API's
models (the same views as ``smsc webhook failed``: :func:`smsc.core.webhooks.failed_view`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import BaseModel, ConfigDict, Field

from smsc.core.webhooks import event_id, event_id_for, failed_view, item_id_of
from smsc.http import models as m
from smsc.http import problems as p
from smsc.http.answers import encode_cursor
from smsc.http.openapi import PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX
from smsc.http.replies import ProblemReply, Reply, ok, problem
from smsc.store.records import FailedWebhook, OutboxItem


class FailedQuery(BaseModel):
    """``GET /v1/webhooks/failed``'s query parameters (as the document declares them)."""

    model_config = ConfigDict(extra="forbid")
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=PAGE_LIMIT_DEFAULT, ge=1, le=PAGE_LIMIT_MAX)


def failed_page(found: Sequence[FailedWebhook], limit: int, *,
                format_id: Callable[[int], str]) -> Reply:
    """A page of failed webhooks, oldest first; ``next`` continues after the last when the
    page is full."""
    rows = [m.FailedWebhook.model_validate(failed_view(f, format_id=format_id))
            for f in found]
    more = len(found) >= limit and found
    return ok(m.FailedWebhookPage(webhooks=rows, next=encode_cursor(found[-1].item.id)
                                  if more else None))


def replay_ids(request: m.ReplayRequest) -> tuple[list[int] | None, list[str]]:
    """(the item ids to replay, None: every one; the ids given that name no item), for a
    request that gives exactly one of ``all``, ``ids`` and ``event_ids`` (else a 422)."""
    given = [name for name, value in (("all", request.all), ("ids", request.ids),
                                      ("event_ids", request.event_ids)) if value]
    if len(given) != 1:
        raise ProblemReply(problem(p.INVALID_REQUEST, "give one of all, ids and event_ids",
                                   errors=[m.FieldError(field=name or "body",
                                                        message="give exactly one")
                                           for name in (given or [""])]))
    if request.all:
        return None, []
    if request.ids is not None:
        return list(dict.fromkeys(request.ids)), []
    ids: list[int] = []
    unknown: list[str] = []
    for event in dict.fromkeys(request.event_ids or ()):
        number = item_id_of(event)
        if number is None:
            unknown.append(event)
        else:
            ids.append(number)
    return ids, unknown


def replay_answer(asked: list[int] | None, unknown: Sequence[str], back: Sequence[OutboxItem],
                  by_event: bool) -> Reply:
    """What was put back, and what was asked for and not found (as it was given)."""
    done = {item.id for item in back}
    missing = [event_id_or_id(i, by_event) for i in (asked or ()) if i not in done]
    return ok(m.ReplayAnswer(replayed=[event_id(item) for item in back],
                             not_found=[*unknown, *missing]))


def event_id_or_id(item_id: int, by_event: bool) -> str:
    return event_id_for(item_id) if by_event else str(item_id)


__all__ = ["FailedQuery", "failed_page", "replay_answer", "replay_ids"]
