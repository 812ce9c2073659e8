"""smsc.core.rounds without Twisted: ``decide_part``, the one decision on a part's attempt that
the group commit (parts final at acceptance) and the queue rounds share, and the rounds' one
receipt for a message smsc split."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from smsc.core.accounts import ensure_test_account
from smsc.core.centre import SmscCore
from smsc.core.ids import MessageIdFormat
from smsc.core.rounds import PartFate, decide_part
from smsc.core.routebook import Routed
from smsc.core.submit import BindContext
from smsc.operators.mo import MoMode, MoRule, MoRules
from smsc.operators.profile import HOUR, MINUTE, OfflineHandsets
from smsc.pdu import pdus
from smsc.pdu.codec import decode
from smsc.pdu.constants import MessageState
from smsc.store.memory import MemoryStore
from smsc.store.records import Account, OutboxKind
from tests.operators.factories import T0, message, profile, simulator

DUE = T0 + 2.0


def _decide(part: Any = None, *, sim: Any = None, refund: bool = False,
            mo_rules: MoRules | None = None, now: float = DUE) -> PartFate:
    return decide_part(part if part is not None else message(), now,
                       simulator=sim if sim is not None else simulator(), refund_failed=refund,
                       format_id=lambda n: f"{n:X}", zone=UTC, mo_rules=mo_rules)


def _receipt_text(frame: bytes | None) -> str:
    assert frame is not None
    pdu = decode(frame)
    assert isinstance(pdu, pdus.DeliverSm)
    return pdu.short_message.decode()


def test_a_delivered_part_is_final_at_once_with_its_receipt() -> None:
    fate = _decide()
    assert fate.change.state == MessageState.DELIVERED and fate.change.next_at is None
    assert fate.counted and fate.final_at_once and not fate.reply
    assert "stat:DELIVRD" in _receipt_text(fate.receipt)
    assert fate.enroute is None and fate.alert is None


def test_no_receipt_when_the_customer_asked_for_none() -> None:
    fate = _decide(message(registered_delivery=0))
    assert fate.receipt is None and fate.final_at_once


def test_an_undeliverable_part_is_final_at_once_unless_it_is_refunded() -> None:
    part = message(forced_state=int(MessageState.UNDELIVERABLE), forced_error=1)
    kept = _decide(part)
    assert kept.change.state == MessageState.UNDELIVERABLE and kept.final_at_once
    assert "stat:UNDELIV" in _receipt_text(kept.receipt)
    refunded = _decide(part, refund=True)
    assert refunded.change.refund and not refunded.final_at_once  # the refund takes the queue


def test_a_rejected_part_is_final_with_a_rejectd_receipt() -> None:
    fate = _decide(message(forced_state=int(MessageState.REJECTED), forced_error=2))
    assert fate.change.state == MessageState.REJECTED and fate.change.next_at is None
    assert "stat:REJECTD" in _receipt_text(fate.receipt)


def test_a_part_past_its_validity_expires() -> None:
    fate = _decide(now=T0 + 25 * HOUR)
    assert fate.change.state == MessageState.EXPIRED and fate.change.next_at is None
    assert "stat:EXPIRED" in _receipt_text(fate.receipt)


def test_an_offline_handset_is_tried_again_with_no_receipt_yet() -> None:
    sim = simulator(profile(offline=OfflineHandsets(probability=1.0,
                                                    retry_interval=5 * MINUTE)))
    fate = _decide(sim=sim)
    assert fate.change.next_at == DUE + 5 * MINUTE
    assert fate.receipt is None and not fate.final_at_once
    noted = _decide(message(registered_delivery=0x11), sim=sim)  # intermediate notifications
    assert noted.enroute is not None and "stat:ENROUTE" in _receipt_text(noted.enroute)


def test_a_delivered_part_with_an_mo_rule_waits_for_the_handset_reply() -> None:
    rules = MoRules([MoRule(account="acct", mode=MoMode.FIXED, text="thanks")])
    fate = _decide(mo_rules=rules)
    assert fate.reply and not fate.final_at_once
    assert not _decide(mo_rules=MoRules([MoRule(account="other", mode=MoMode.FIXED,
                                                text="x")])).reply


def _route(account: Account, *, source_addr: str, source_ton: int, source_npi: int,
           destination_addr: str, dest_ton: int, dest_npi: int, now: float) -> Routed:
    return Routed(source_addr=source_addr, source_ton=source_ton, source_npi=source_npi,
                  destination_addr=destination_addr, time_zone=None, operator="op", route="r",
                  price=1)


def test_a_message_smsc_split_gets_one_receipt_from_the_rounds() -> None:
    store = MemoryStore()
    account, _ = ensure_test_account(store, system_id="acct", password="pw", credit=1000,
                                     currency="EUR", throughput=0, now=T0)
    ids = iter(range(store.reserve_ids(10), 10**6))
    core = SmscCore(store, simulator=simulator(), route=_route,
                    id_format=MessageIdFormat(hex_ids=True), take_id=lambda: next(ids))
    core.begin()
    pdu = pdus.SubmitSm(sequence_number=1, source_addr="Shop", destination_addr="380671000001",
                        registered_delivery=1, short_message=b"x" * 300)
    prepared = core.intake.submit_sm(BindContext(account=account, throttle=None), pdu, T0)
    assert len(prepared.parts) == 2
    committed = core.commit(prepared.parts, T0)
    assert not committed.items  # a split message is not final at acceptance
    done = core.due_round(T0 + 10.0)
    assert done.finals == {"op": 2}
    receipts = [i for i in done.items if i.kind == OutboxKind.RECEIPT]
    assert len(receipts) == 1 and "stat:DELIVRD" in _receipt_text(receipts[0].pdu)
