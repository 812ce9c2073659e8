"""A customer's messages after their submit: query_sm, cancel_sm, replace_sm, and the pending
messages a submit_sm with replace_if_present_flag replaces (store thread).

Every status is decided here, and answered in the core's own terms (:class:`MessageStatus`,
:class:`Cancelled`, :class:`Replaced`) that name no transport: the SMPP server encodes them into
query_sm_resp, cancel_sm_resp and replace_sm_resp (``smsc.server.responses.message_response``),
another transport into its own answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from smsc.core.parts import summary_state, text_snippet
from smsc.core.queues import Queues
from smsc.core.rounds import Rounds, pdu_item
from smsc.operators import receipts
from smsc.operators.schedule import parse_schedule_delivery_time, resolve_schedule
from smsc.operators.validity import parse_validity_period, resolve_expiry
from smsc.pdu import pdus
from smsc.pdu.constants import CommandStatus, MessageState
from smsc.pdu.errors import PduError
from smsc.store.records import Account, MessageChange, NewMessage, OutboxItem, StoredMessage

S = CommandStatus
_DELETED = int(MessageState.DELETED)


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageStatus:
    """The answer to a query: ``status`` 0 with the message's ``state`` (its parts' summary),
    ``final_at`` (when it became final; None while it is not), and ``error`` (the error code of
    a part in that state), or ``ESME_RQUERYFAIL`` for a message not found (or not the
    caller's)."""

    status: int
    message_id: str = ""
    state: int = 0
    final_at: float | None = None
    error: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Cancelled:
    """The answer to a cancel: ``status`` 0 (the pending parts were deleted; ``items``, their
    receipts, stored in the outbox with their ids) or ``ESME_RCANCELFAIL`` (nothing pending)."""

    status: int
    items: tuple[OutboxItem, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Replaced:
    """The answer to a replace: ``status`` 0 (the pending part now carries the new text,
    schedule and validity) or the refusal: ``ESME_RREPLACEFAIL`` (not found, not the caller's,
    not pending, or a message of several parts), ``ESME_RINVMSGLEN`` (text too long), or the
    status of a bad schedule_delivery_time or validity_period."""

    status: int


class Messages:
    def __init__(self, queues: Queues, rounds: Rounds) -> None:
        self.queues = queues
        self.rounds = rounds
        self.store = queues.store

    def _owned(self, account: Account, message_id: str, source_addr: str) -> list[StoredMessage]:
        number = self.queues.id_format.parse(message_id)
        if number is None:
            return []
        return [m for m in self.store.get_messages(number)
                if m.account == account.system_id
                and (not source_addr or m.source_addr == source_addr)]

    def query(self, account: Account, pdu: pdus.QuerySm) -> MessageStatus:
        parts = self._owned(account, pdu.message_id, pdu.source_addr)
        if not parts:
            return MessageStatus(status=S.ESME_RQUERYFAIL)
        state = summary_state(p.state for p in parts)
        final_at = None
        if MessageState(state).is_final:
            final_at = max((p.done_at or p.submitted_at) for p in parts)
        error = next((p.error_code for p in parts if p.state == state and p.error_code), 0)
        return MessageStatus(status=0, message_id=pdu.message_id, state=state,
                             final_at=final_at, error=error)

    def cancel(self, account: Account, pdu: pdus.CancelSm, now: float) -> Cancelled:
        if pdu.message_id:
            parts = [p for p in self._owned(account, pdu.message_id, pdu.source_addr)
                     if not pdu.destination_addr or p.destination_addr == pdu.destination_addr]
        elif pdu.source_addr and pdu.destination_addr:
            parts = self.store.find_pending(account.system_id, pdu.source_addr,
                                            pdu.destination_addr, pdu.service_type)
        else:
            parts = []
        waiting = [p for p in parts if p.next_at is not None]
        if not waiting:
            return Cancelled(status=S.ESME_RCANCELFAIL)
        return Cancelled(status=0, items=tuple(self._delete(account, waiting, now)))

    def replace_pending(self, account: Account, part: NewMessage, now: float) -> list[OutboxItem]:
        """submit_sm with replace_if_present_flag: the account's messages still pending with
        the same source address, destination address and service_type as ``part`` (the new
        message's first part) are deleted, as cancel_sm would; returns their receipts."""
        waiting = self.store.find_pending(account.system_id, part.source_addr,
                                          part.destination_addr, part.service_type)
        waiting = [p for p in waiting if p.source_addr == part.source_addr
                   and p.service_type == part.service_type]
        return self._delete(account, waiting, now) if waiting else []

    def _delete(self, account: Account, waiting: list[StoredMessage],
                now: float) -> list[OutboxItem]:
        """Take pending parts out of their queues as DELETED (refunded per the account's
        policy), with the receipts their registered_delivery asks for."""
        queues = self.queues
        changes = [MessageChange(id=p.id, state=_DELETED, next_at=None, attempts=p.attempts,
                                 done_at=now, refund=account.refund_failed) for p in waiting]
        queues.changed(p.id for p in waiting)
        outbox = []
        per_message: dict[tuple[int, str], list[StoredMessage]] = {}
        for p, c in zip(waiting, changes, strict=True):
            if p.part_total > 1:
                key = receipts.group_key(p)
                if key in per_message:
                    continue
                rows = self.rounds.split_rows(p)
                if rows is not None:
                    per_message[key] = rows
                    continue
            receipt = receipts.final_receipt(p, c, queues.id_format.format,
                                             zone=queues.receipt_zone)
            if receipt is not None:
                outbox.append(pdu_item(p, receipt, now, account.receipt_ttl, account))
        if per_message:
            outbox.extend(self.rounds.message_receipts(per_message, changes, now))
        return self.store.apply(changes, outbox, now)

    def replace(self, account: Account, pdu: pdus.ReplaceSm, now: float) -> Replaced:
        parts = self._owned(account, pdu.message_id, pdu.source_addr)
        if len(parts) != 1 or parts[0].next_at is None:
            return Replaced(status=S.ESME_RREPLACEFAIL)
        part = parts[0]
        if len(pdu.short_message) > 254:
            return Replaced(status=S.ESME_RINVMSGLEN)
        try:
            scheduled = resolve_schedule(parse_schedule_delivery_time(
                pdu.schedule_delivery_time, now), now=now)
            expires = None
            if pdu.validity_period:
                start = now if scheduled is None else scheduled
                expires = resolve_expiry(parse_validity_period(pdu.validity_period, now),
                                         now=now, start=start,
                                         profile=self.queues.simulator.profile(part.operator))
        except PduError as e:
            return Replaced(status=e.command_status)
        waiting_until = part.next_at if part.next_at is not None else now
        next_at = waiting_until if scheduled is None else max(scheduled, waiting_until)
        change = MessageChange(id=part.id, state=part.state, next_at=next_at,
                               attempts=part.attempts, error_code=part.error_code,
                               short_message=pdu.short_message,
                               text_snippet=text_snippet(_user_data(part, pdu.short_message),
                                                         part.data_coding),
                               registered_delivery=pdu.registered_delivery,
                               scheduled_at=scheduled, expires_at=expires)
        self.store.apply([change], [], now)
        self.queues.changed([part.id])  # held in memory: the store's queue has it now
        return Replaced(status=0)


def _user_data(part: StoredMessage, short_message: bytes) -> bytes:
    """The text octets of a short_message (after its UDH when the part has one)."""
    if part.esm_class & 0x40 and short_message:
        return short_message[1 + short_message[0]:]
    return short_message
