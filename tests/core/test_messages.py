"""smsc.core.messages without Twisted: query, cancel and replace answered in the core's own terms
(MessageStatus, Cancelled, Replaced), every status decided there, with a memory store; and their
SMPP encoding by the server (smsc.server.responses.message_response)."""

from __future__ import annotations

from datetime import UTC, datetime

from smsc.core.accounts import ensure_test_account
from smsc.core.centre import SmscCore
from smsc.core.ids import MessageIdFormat
from smsc.core.messages import Cancelled, MessageStatus, Replaced
from smsc.core.routebook import Routed
from smsc.core.submit import BindContext
from smsc.pdu import pdus
from smsc.pdu.constants import CommandStatus, MessageState
from smsc.pdu.smpptime import format_absolute
from smsc.server.responses import message_response
from smsc.store.memory import MemoryStore
from smsc.store.records import Account, OutboxKind
from tests.operators.factories import T0, simulator

S = CommandStatus


def _route(account: Account, *, source_addr: str, source_ton: int, source_npi: int,
           destination_addr: str, dest_ton: int, dest_npi: int, now: float) -> Routed:
    return Routed(source_addr=source_addr, source_ton=source_ton, source_npi=source_npi,
                  destination_addr=destination_addr, time_zone=None, operator="op", route="r",
                  price=1)


class _Centre:
    """A core on a memory store with two accounts, ``acct`` and ``other``."""

    def __init__(self) -> None:
        self.store = MemoryStore()
        self.account, _ = ensure_test_account(self.store, system_id="acct", password="pw",
                                              credit=1000, currency="EUR", throughput=0, now=T0)
        self.other, _ = ensure_test_account(self.store, system_id="other", password="pw",
                                            credit=1000, currency="EUR", throughput=0, now=T0)
        ids = iter(range(self.store.reserve_ids(100), 10**6))
        self.core = SmscCore(self.store, simulator=simulator(), route=_route,
                             id_format=MessageIdFormat(hex_ids=True), take_id=lambda: next(ids))
        self.core.begin()

    def submit(self, text: bytes = b"hi", **kw: object) -> str:
        """A message of ``acct`` committed at T0 (pending: the operator takes 2 s)."""
        pdu = pdus.SubmitSm(sequence_number=1, source_addr="Shop",
                            destination_addr="380671000001", short_message=text,
                            **kw)  # type: ignore[arg-type]
        prepared = self.core.intake.submit_sm(BindContext(account=self.account, throttle=None),
                                              pdu, T0)
        committed = self.core.commit(prepared.parts, T0)
        assert not committed.items
        return self.core.id_format.format(prepared.message_id)

    def query(self, message_id: str, account: Account | None = None) -> MessageStatus:
        return self.core.query(account or self.account,
                               pdus.QuerySm(message_id=message_id, source_addr="Shop"))

    def cancel(self, message_id: str, account: Account | None = None) -> Cancelled:
        return self.core.cancel(account or self.account,
                                pdus.CancelSm(message_id=message_id, source_addr="Shop"), T0 + 1)

    def replace(self, message_id: str, text: bytes = b"new", account: Account | None = None,
                **kw: object) -> Replaced:
        pdu = pdus.ReplaceSm(message_id=message_id, source_addr="Shop", short_message=text,
                             **kw)  # type: ignore[arg-type]
        return self.core.replace(account or self.account, pdu, T0 + 1)


def test_query_of_a_pending_message_gives_its_state_and_no_final_date() -> None:
    c = _Centre()
    message_id = c.submit()
    assert c.query(message_id) == MessageStatus(status=0, message_id=message_id,
                                                state=MessageState.ENROUTE)


def test_query_of_a_final_message_gives_when_it_became_final() -> None:
    c = _Centre()
    message_id = c.submit()
    c.core.due_round(T0 + 10.0)
    answer = c.query(message_id)
    assert answer.status == 0 and answer.state == MessageState.DELIVERED
    assert answer.final_at is not None and T0 < answer.final_at <= T0 + 10.0


def test_query_of_an_unknown_or_foreign_message_fails() -> None:
    c = _Centre()
    message_id = c.submit()
    assert c.query("FFFFFF") == MessageStatus(status=S.ESME_RQUERYFAIL)
    assert c.query("not hex") == MessageStatus(status=S.ESME_RQUERYFAIL)
    assert c.query(message_id, c.other) == MessageStatus(status=S.ESME_RQUERYFAIL)


def test_cancel_deletes_a_pending_message_with_its_receipt() -> None:
    c = _Centre()
    message_id = c.submit(registered_delivery=1)
    cancelled = c.cancel(message_id)
    assert cancelled.status == 0
    assert [i.kind for i in cancelled.items] == [OutboxKind.RECEIPT]
    assert all(i.id for i in cancelled.items)  # stored in the outbox
    assert c.query(message_id).state == MessageState.DELETED


def test_cancel_fails_for_an_unknown_foreign_or_final_message() -> None:
    c = _Centre()
    message_id = c.submit()
    assert c.cancel("FFFFFF") == Cancelled(status=S.ESME_RCANCELFAIL)
    assert c.cancel(message_id, c.other) == Cancelled(status=S.ESME_RCANCELFAIL)
    c.core.due_round(T0 + 10.0)
    assert c.cancel(message_id) == Cancelled(status=S.ESME_RCANCELFAIL)
    assert c.query(message_id).state == MessageState.DELIVERED


def test_replace_changes_the_text_of_a_pending_message() -> None:
    c = _Centre()
    message_id = c.submit()
    assert c.replace(message_id, b"new text") == Replaced(status=0)
    (part,) = c.store.get_messages(c.core.id_format.parse(message_id) or 0)
    assert part.short_message == b"new text"


def test_replace_fails_for_an_unknown_foreign_or_final_message() -> None:
    c = _Centre()
    message_id = c.submit()
    assert c.replace("FFFFFF") == Replaced(status=S.ESME_RREPLACEFAIL)
    assert c.replace(message_id, account=c.other) == Replaced(status=S.ESME_RREPLACEFAIL)
    c.core.due_round(T0 + 10.0)
    assert c.replace(message_id) == Replaced(status=S.ESME_RREPLACEFAIL)


def test_replace_refuses_a_message_of_several_parts() -> None:
    c = _Centre()
    message_id = c.submit(b"x" * 300)
    assert c.replace(message_id) == Replaced(status=S.ESME_RREPLACEFAIL)


def test_replace_refuses_text_too_long_a_bad_schedule_and_a_bad_validity() -> None:
    c = _Centre()
    message_id = c.submit()
    assert c.replace(message_id, b"x" * 255) == Replaced(status=S.ESME_RINVMSGLEN)
    assert c.replace(message_id, schedule_delivery_time="not a time") == Replaced(
        status=S.ESME_RINVSCHED)
    assert c.replace(message_id, schedule_delivery_time="000400000000000R") == Replaced(
        status=S.ESME_RINVSCHED)  # more than the days ahead accepted
    assert c.replace(message_id, validity_period="200101000000000+") == Replaced(
        status=S.ESME_RINVEXPIRY)  # ended before now
    (part,) = c.store.get_messages(c.core.id_format.parse(message_id) or 0)
    assert part.short_message == b"hi"  # every refusal left the message as it was


def test_the_server_encodes_each_answer_into_its_response() -> None:
    query = pdus.QuerySm(sequence_number=7, message_id="1A")
    done = T0 + 5
    resp = message_response(query, MessageStatus(status=0, message_id="1A", state=2,
                                                 final_at=done, error=300))
    assert resp == pdus.QuerySmResp(
        sequence_number=7, message_id="1A", message_state=2, error_code=255,
        final_date=format_absolute(datetime.fromtimestamp(done, UTC)))
    assert message_response(query, MessageStatus(status=S.ESME_RQUERYFAIL)) == pdus.QuerySmResp(
        sequence_number=7, command_status=S.ESME_RQUERYFAIL)
    cancel = pdus.CancelSm(sequence_number=8)
    assert message_response(cancel, Cancelled(status=0)) == pdus.CancelSmResp(sequence_number=8)
    assert message_response(cancel, Cancelled(status=S.ESME_RCANCELFAIL)) == pdus.CancelSmResp(
        sequence_number=8, command_status=S.ESME_RCANCELFAIL)
    replace = pdus.ReplaceSm(sequence_number=9)
    assert message_response(replace, Replaced(status=S.ESME_RINVSCHED)) == pdus.ReplaceSmResp(
        sequence_number=9, command_status=S.ESME_RINVSCHED)
