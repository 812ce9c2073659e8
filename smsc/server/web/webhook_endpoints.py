"""The API's failed webhooks: ``GET /v1/webhooks/failed`` (the account's, cursor pages) and
``POST /v1/webhooks/failed/replay``, each one core call on the store thread
(:class:`smsc.core.webhook_desk.WebhookDesk`, as ``smsc webhook failed`` and ``smsc webhook
replay`` make) and its answer encoded (:mod:`smsc.http.webhook_answers`)."""

from __future__ import annotations

from pydantic import ValidationError

from smsc.core.webhook_desk import WebhookDesk
from smsc.http import models as m
from smsc.http import problems as p
from smsc.http.answers import decode_cursor
from smsc.http.replies import ProblemReply, Reply, field_errors, problem
from smsc.http.webhook_answers import FailedQuery, failed_page, replay_answer, replay_ids
from smsc.server.web.api import Caller, HttpApi, parse_body


class WebhookEndpoints:
    def __init__(self, api: HttpApi, desk: WebhookDesk) -> None:
        self.api = api
        self.desk = desk

    async def failed(self, caller: Caller, query: dict[str, str]) -> Reply:
        try:
            q = FailedQuery.model_validate(query)
        except ValidationError as e:
            raise ProblemReply(problem(p.INVALID_REQUEST, "the query is not valid",
                                       errors=field_errors(e))) from None
        after = decode_cursor(q.cursor) if q.cursor is not None else 0
        found = await self.api._store("listing failed webhooks", lambda: self.desk.failed(
            caller.account.system_id, after_id=after, limit=q.limit))
        return failed_page(found, q.limit, format_id=self.desk.format_id)

    async def replay(self, caller: Caller, body: bytes) -> Reply:
        request = parse_body(m.ReplayRequest, body)
        ids, unknown = replay_ids(request)
        back = []
        if ids is None or ids:
            back = await self.api._store(
                "replaying failed webhooks", lambda: self.desk.replay(
                    ids, self.api.clock.seconds(), account=caller.account.system_id))
        if back:
            self.api.courier.offer(list(back))
        return replay_answer(ids, unknown, back, by_event=request.event_ids is not None)


__all__ = ["WebhookEndpoints"]
