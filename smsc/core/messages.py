"""A customer's messages after their submit: query_sm, cancel_sm, replace_sm, and the pending
messages a submit_sm with replace_if_present_flag replaces (store thread)."""

from __future__ import annotations

from datetime import UTC, datetime

from smsc.core.parts import summary_state, text_snippet
from smsc.core.queues import Queues
from smsc.core.rounds import Rounds, pdu_item
from smsc.operators import receipts
from smsc.operators.schedule import parse_schedule_delivery_time, resolve_schedule
from smsc.operators.validity import parse_validity_period, resolve_expiry
from smsc.pdu import pdus
from smsc.pdu.constants import CommandStatus, MessageState
from smsc.pdu.errors import PduError
from smsc.pdu.smpptime import format_absolute
from smsc.store.records import Account, MessageChange, NewMessage, OutboxItem, StoredMessage

S = CommandStatus
_DELETED = int(MessageState.DELETED)


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

    def query(self, account: Account, pdu: pdus.QuerySm) -> pdus.QuerySmResp:
        parts = self._owned(account, pdu.message_id, pdu.source_addr)
        if not parts:
            return pdus.QuerySmResp(sequence_number=pdu.sequence_number,
                                    command_status=S.ESME_RQUERYFAIL)
        state = summary_state(p.state for p in parts)
        final_date = ""
        if MessageState(state).is_final:
            done = max((p.done_at or p.submitted_at) for p in parts)
            final_date = format_absolute(datetime.fromtimestamp(done, UTC))
        error = next((p.error_code for p in parts if p.state == state and p.error_code), 0)
        return pdus.QuerySmResp(sequence_number=pdu.sequence_number, message_id=pdu.message_id,
                                final_date=final_date, message_state=state,
                                error_code=min(error, 255))

    def cancel(self, account: Account, pdu: pdus.CancelSm,
               now: float) -> tuple[pdus.CancelSmResp, list[OutboxItem]]:
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
            return pdus.CancelSmResp(sequence_number=pdu.sequence_number,
                                     command_status=S.ESME_RCANCELFAIL), []
        added = self._delete(account, waiting, now)
        return pdus.CancelSmResp(sequence_number=pdu.sequence_number), added

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
                outbox.append(pdu_item(p, receipt, now, account.receipt_ttl))
        if per_message:
            outbox.extend(self.rounds.message_receipts(per_message, changes, now))
        return self.store.apply(changes, outbox, now)

    def replace(self, account: Account, pdu: pdus.ReplaceSm, now: float) -> pdus.ReplaceSmResp:
        fail = pdus.ReplaceSmResp(sequence_number=pdu.sequence_number,
                                  command_status=S.ESME_RREPLACEFAIL)
        parts = self._owned(account, pdu.message_id, pdu.source_addr)
        if len(parts) != 1 or parts[0].next_at is None:
            return fail
        part = parts[0]
        if len(pdu.short_message) > 254:
            return pdus.ReplaceSmResp(sequence_number=pdu.sequence_number,
                                      command_status=S.ESME_RINVMSGLEN)
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
            return pdus.ReplaceSmResp(sequence_number=pdu.sequence_number,
                                      command_status=e.command_status)
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
        return pdus.ReplaceSmResp(sequence_number=pdu.sequence_number)


def _user_data(part: StoredMessage, short_message: bytes) -> bytes:
    """The text octets of a short_message (after its UDH when the part has one)."""
    if part.esm_class & 0x40 and short_message:
        return short_message[1 + short_message[0]:]
    return short_message
