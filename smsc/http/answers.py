"""The core's answers encoded as the API's models (pure): a send's destinations, a quote, a
message with its parts; the query of a listing and its cursor. The decisions are the core's;
this says how they look over HTTP (a send whose every destination is refused alike is that
refusal's problem document, with Retry-After when waiting helps)."""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic_core import to_json

from smsc.core.batch import Batch, BatchAnswer
from smsc.core.lookup import MessageView
from smsc.core.quote import Quote
from smsc.http import models as m
from smsc.http import problems as p
from smsc.http.openapi import PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX
from smsc.http.replies import JSON, ProblemReply, Reply, ok, ok_data, problem
from smsc.http.translate import encoding_name
from smsc.pdu.constants import CommandStatus, MessageState
from smsc.pdu.receipt_text import stat_for_state
from smsc.slotted import slot_constructor
from smsc.store.records import Account

S = CommandStatus
STATES = {int(s): s.name.lower() for s in MessageState}
STATE_BY_NAME = {v: k for k, v in STATES.items()}


def iso(t: float | None) -> datetime | None:
    return None if t is None else datetime.fromtimestamp(t, UTC)


def _refused(status: int, answered: int, detail: str) -> m.Refused:
    return m.Refused.model_validate(_refusal(status, answered, detail))


class AnswerTemplate:
    """An answer of one shape written by its model's own validator and serializer once, with
    a marker in place of each value; :meth:`fill` puts the values in (a string by
    pydantic-core's ``to_json``, as the serializer encodes it; an int in decimal), so a send
    answered this way costs no model per request. The shape and the fixed values are the
    model's, checked by it once; the values filled in are the server's own (ids, counts, the
    account's currency) and the request's, validated already, of the types the markers stand
    for (the tests compare filled answers with what the model writes, byte for byte)."""

    def __init__(self, model: type[BaseModel], sample: dict[str, Any],
                 markers: Sequence[object]) -> None:
        checked = model.__pydantic_validator__.validate_python(sample)
        written = model.__pydantic_serializer__.to_json(checked, by_alias=True)
        pieces: list[bytes] = []
        for marker in markers:
            before, found, written = written.partition(to_json(marker))
            if not found or to_json(marker) in written:
                raise ValueError(f"marker {marker!r} not found once in the template")
            pieces.append(before)
        pieces.append(written)
        # One %-format: an int marker's place takes %d (an int's JSON), any other's %b with the
        # value's to_json.
        places = [b"%d" if type(marker) is int else b"%b" for marker in markers]
        self._format = b"".join(piece.replace(b"%", b"%%") + place
                                for piece, place in zip(pieces, [*places, b""], strict=True))
        self._encoded = tuple(i for i, place in enumerate(places) if place == b"%b")

    def fill(self, *values: Any) -> bytes:
        filled = list(values)
        for i in self._encoded:
            filled[i] = to_json(filled[i])
        return self._format % tuple(filled)


# SendAnswer of one accepted destination: to, id, parts, charged, duplicates, total parts,
# total charged, currency, decimals, reference (markers in that order).
_ONE_SENT_MARKERS = ("\x00to", "\x00id", 910_000_001, 910_000_002, 910_000_003, 910_000_004,
                     910_000_005, "\x00currency", 910_000_006, "\x00reference")
_ONE_SENT = AnswerTemplate(m.SendAnswer, {
    "messages": [{"to": "\x00to", "id": "\x00id", "parts": 910_000_001,
                  "charged": 910_000_002}],
    "accepted": 1, "refused": 0, "duplicates": 910_000_003, "parts": 910_000_004,
    "charged": 910_000_005, "currency": "\x00currency", "decimals": 910_000_006,
    "reference": "\x00reference"}, _ONE_SENT_MARKERS)
_reply = slot_constructor(Reply)  # status, content_type, body, headers


def _refusal(status: int, answered: int, detail: str) -> dict[str, object]:
    r = p.refusal(status)
    return {"code": r.code, "smpp_status": answered, "detail": detail or r.title}


def send_answer(batch: Batch, answered: Sequence[BatchAnswer], account: Account, decimals: int,
                reference: str | None) -> Reply:
    """A send's answer: each destination's id or refusal (200); a problem when every
    destination was refused with the same status."""
    statuses = {a.answer.cause for a in answered}
    if len(statuses) == 1 and 0 not in statuses:
        status = statuses.pop()
        retry = None
        if status == S.ESME_RTHROTTLED:
            retry = max(1, math.ceil(batch.retry_after))
        elif status in (S.ESME_RSYSERR, S.ESME_RMSGQFUL):
            retry = 1
        first = answered[0]
        raise ProblemReply(problem(p.refusal(status),
                                   first.item.detail or p.refusal(status).title,
                                   smpp_status=first.answer.status, retry_after=retry))
    if len(answered) == 1 and not answered[0].answer.status and answered[0].answer.message_id:
        a = answered[0]  # one destination, accepted: the common single send
        return _reply(200, JSON, _ONE_SENT.fill(
            a.item.to, a.answer.message_id, a.parts, a.charged, batch.duplicates, a.parts,
            a.charged, account.currency, decimals, reference), ())
    # Built as plain data, then validated and encoded by SendAnswer's own pydantic validator
    # and serializer (cheaper than a model object per destination; the same checks).
    messages: list[dict[str, object]] = []
    accepted = parts = charged = 0
    for a in answered:
        answer = a.answer
        if answer.status or not answer.message_id:
            messages.append({"to": a.item.to, "error": _refusal(answer.cause, answer.status,
                                                                a.item.detail)})
        else:
            accepted += 1
            parts += a.parts
            charged += a.charged
            messages.append({"to": a.item.to, "id": answer.message_id, "parts": a.parts,
                             "charged": a.charged})
    return ok_data(m.SendAnswer, {
        "messages": messages, "accepted": accepted, "refused": len(messages) - accepted,
        "duplicates": batch.duplicates, "parts": parts, "charged": charged,
        "currency": account.currency, "decimals": decimals, "reference": reference})


def quote_answer(q: Quote, account: Account, decimals: int, available: int,
                 data_coding: int) -> Reply:
    lines = []
    for line in q.lines:
        if line.status:
            lines.append(m.QuotedMessage(to=line.to, error=_refused(line.status, line.status,
                                                                    line.detail)))
        else:
            lines.append(m.QuotedMessage(to=line.to, destination=line.destination,
                                         route=line.route, operator=line.operator,
                                         parts=line.parts, price_per_part=line.price,
                                         price=line.total, blacklisted=line.blacklisted))
    return ok(m.Quote(currency=account.currency, decimals=decimals,
                      encoding=encoding_name(data_coding),  # type: ignore[arg-type]
                      messages=lines, destinations=len(lines) + q.duplicates,
                      routes=[m.RouteTotal(route=r, destinations=d, parts=n, total=t)
                              for r, d, n, t in q.by_route()],
                      valid=len(lines) - q.refused, invalid=q.refused,
                      duplicates=q.duplicates, blacklisted=q.blacklisted,
                      opted_out=q.opted_out, parts=q.parts,
                      total=q.total, balance=available, enough_credit=q.total <= available))


def message(v: MessageView, account: Account, decimals: int) -> m.Message:
    first = v.first
    parts = [m.Part(index=x.part_index, state=STATES.get(x.state, "unknown"),  # type: ignore[arg-type]
                    error=x.error_code, price=x.price,
                    charged=x.charged_subscription + x.charged_bought, refunded=x.refunded,
                    attempts=x.attempts, next_attempt_at=iso(x.next_at), done_at=iso(x.done_at))
             for x in v.parts]
    stat = stat_for_state(v.state) if v.final_at is not None else None
    return m.Message.model_validate({
        "id": v.message_id, "to": first.destination_addr, "from": first.source_addr,
        "state": STATES.get(v.state, "unknown"), "error": v.error,
        "submitted_at": iso(first.submitted_at), "scheduled_at": iso(first.scheduled_at),
        "expires_at": iso(first.expires_at), "final_at": iso(v.final_at), "route": first.route,
        "operator": first.operator, "price": sum(x.price for x in v.parts),
        "charged": v.charged, "refunded": v.refunded, "currency": account.currency,
        "decimals": decimals,
        "receipt": m.Receipt(requested=v.receipt_requested,
                             stat=stat if v.receipt_requested else None),
        "parts": parts, "reference": first.reference})


class ListQuery(BaseModel):
    """``GET /v1/messages``'s query parameters (as the document declares them)."""

    model_config = ConfigDict(extra="forbid")
    state: m.State | None = None
    to: str | None = Field(default=None, min_length=1, max_length=24)
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    cursor: str | None = Field(default=None, max_length=200)
    reference: str | None = Field(default=None, max_length=64)
    limit: int = Field(default=PAGE_LIMIT_DEFAULT, ge=1, le=PAGE_LIMIT_MAX)

    @property
    def destination(self) -> str | None:
        """``to`` as stored: international digits ('+' or '00' dropped)."""
        if self.to is None:
            return None
        digits = self.to.strip().removeprefix("+")
        return digits[2:] if digits.startswith("00") else digits


def encode_cursor(before: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{before}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The message id a cursor continues below; a 422 problem for anything else."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    kind, _, number = text.partition(":")
    if kind != "v1" or not number.isdigit() or not number.isascii():
        raise ProblemReply(problem(p.INVALID_REQUEST, "the cursor is not one this API gave",
                                   errors=[m.FieldError(field="cursor",
                                                        message="not a cursor")]))
    return int(number)


__all__ = ["STATES", "STATE_BY_NAME", "ListQuery", "decode_cursor", "encode_cursor", "iso",
           "message", "quote_answer", "send_answer"]
