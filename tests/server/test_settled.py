"""Parts settled on acceptance: with an operator that delivers at once, the group commit stores
a part already final with its receipt, and the receipt follows the submit_sm_resp at once; parts
that need more (a queue to wait in, a refund, a receipt per whole message) take the queue."""

from __future__ import annotations

from typing import Any

import pytest

from smsc.config.loader import config_from_tables
from smsc.pdu import pdus
from smsc.pdu.constants import MessageState, Tag
from smsc.pdu.tlv import Tlvs
from smsc.store.base import Store
from tests.server.harness import COMMIT_DELAY, Esme, Rig, add_account, base_tables, receipt_of

# Two GSM parts, in one message_payload.
LONG = {"text": b"", "tlvs": Tlvs([(Tag.MESSAGE_PAYLOAD, b"x" * 300)])}


def at_once_rig(store: Store, **operator: Any) -> Rig:
    tables = base_tables()
    tables["operators"]["op"].update({"delay": {"kind": "fixed", "value": 0}, **operator})
    return Rig(store, config_from_tables(tables))


def submit_and_read(rig: Rig, esme: Esme, **fields: Any) -> tuple[str, list[pdus.DeliverSm]]:
    """Submit one message and let the commit run: its id and the deliver_sm sent meanwhile."""
    sent = esme.submit(**fields)
    rig.advance(COMMIT_DELAY)
    got = esme.read()
    (resp,) = [p for p in got if isinstance(p, pdus.SubmitSmResp)]
    assert resp.sequence_number == sent.sequence_number and resp.command_status == 0
    return resp.message_id, [p for p in got if isinstance(p, pdus.DeliverSm)]


def test_the_receipt_follows_the_submit_sm_resp_in_the_same_turn(store: Store) -> None:
    rig = at_once_rig(store)
    esme = rig.bound()
    sent = esme.submit()
    rig.advance(COMMIT_DELAY)  # the commit; no operator round has run since
    resp, deliver = esme.read()
    assert isinstance(resp, pdus.SubmitSmResp) and resp.sequence_number == sent.sequence_number
    assert isinstance(deliver, pdus.DeliverSm)
    assert receipt_of(deliver).message_id == resp.message_id
    assert receipt_of(deliver).stat == "DELIVRD"
    (stored,) = store.get_messages(int(resp.message_id))
    assert (stored.state, stored.next_at, stored.attempts) == (MessageState.DELIVERED, None, 1)
    assert store.queue_depths() == {}
    assert rig.service.core.intake.queue_depths.get("op", 0) == 0
    assert store.outbox_count("acme") == 1  # kept until answered
    esme.answer(deliver)
    rig.advance(0.1)
    assert store.outbox_count("acme") == 0
    rig.advance(30.0)
    assert esme.deliveries() == []  # exactly once


def test_one_receipt_for_a_message_smsc_split_itself(store: Store) -> None:
    """A message_payload smsc splits in two: one message id, one receipt (sub 2, dlvrd 2),
    on every account (the receipt_per_message flag is off here)."""
    rig = at_once_rig(store)
    esme = rig.bound()
    message_id, receipts = submit_and_read(rig, esme, **LONG)
    assert receipts == []  # not settled part by part on acceptance
    rig.advance(0.2)  # an operator round
    (deliver,) = esme.deliveries()
    text = receipt_of(deliver)
    assert (text.message_id, text.submitted, text.delivered, text.stat) == (
        message_id, 2, 2, "DELIVRD")
    assert deliver.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) == message_id
    assert {p.state for p in store.get_messages(int(message_id))} == {MessageState.DELIVERED}
    esme.answer(deliver)
    rig.advance(30.0)
    assert esme.deliveries() == []  # and no other


def test_a_long_short_message_gets_one_receipt_too(store: Store) -> None:
    rig = at_once_rig(store)
    esme = rig.bound()
    message_id, receipts = submit_and_read(rig, esme, text=b"y" * 250)  # two GSM parts
    assert receipts == []
    rig.advance(0.2)
    (deliver,) = esme.deliveries()
    assert (receipt_of(deliver).message_id, receipt_of(deliver).submitted) == (message_id, 2)


def test_parts_the_customer_split_get_a_receipt_each_with_their_own_text(
        store: Store) -> None:
    """UDH parts submitted one by one: each has its own id and its own receipt, settled on
    acceptance, whose text is that part's first 20 characters (parts 2..n too)."""
    rig = at_once_rig(store)
    esme = rig.bound()
    ids = []
    texts = [b"First part of it. ", b"Second part here...", b"third"]
    for index, body in enumerate(texts, start=1):
        udh = bytes((5, 0, 3, 0x42, len(texts), index))
        message_id, (deliver,) = submit_and_read(rig, esme, text=udh + body, esm_class=0x40)
        text = receipt_of(deliver)
        assert (text.message_id, text.submitted, text.stat) == (message_id, 1, "DELIVRD")
        assert text.text == body.decode()[:20]
        ids.append(message_id)
    assert len(set(ids)) == 3


def test_a_receipt_per_whole_message_takes_the_queue(store: Store) -> None:
    add_account(store, "whole", receipt_per_message=True)
    rig = at_once_rig(store)
    esme = rig.bound(system_id="whole")
    message_id, receipts = submit_and_read(rig, esme, **LONG)
    assert receipts == []  # not settled on acceptance
    rig.advance(0.2)  # an operator round
    (deliver,) = esme.deliveries()
    assert receipt_of(deliver).message_id == message_id
    assert receipt_of(deliver).submitted == receipt_of(deliver).delivered == 2


def test_a_refunded_failure_takes_the_queue_and_is_refunded(store: Store) -> None:
    add_account(store, "refunds", refund_failed=True)
    rig = at_once_rig(store, outcomes=[{"stat": "REJECTD", "weight": 1}])
    esme = rig.bound(system_id="refunds")
    before = store.balance("refunds", rig.clock.seconds()).bought
    message_id, receipts = submit_and_read(rig, esme)
    assert receipts == []
    rig.advance(0.2)
    (deliver,) = esme.deliveries()
    assert receipt_of(deliver).stat == "REJECTD"
    (stored,) = store.get_messages(int(message_id))
    assert stored.refunded == stored.price > 0
    assert store.balance("refunds", rig.clock.seconds()).bought == before


def test_parts_past_the_operator_throughput_wait_their_turn(store: Store) -> None:
    rig = at_once_rig(store, throughput=1)
    esme = rig.bound()
    first = esme.submit()
    second = esme.submit()
    rig.advance(COMMIT_DELAY)
    got = esme.read()
    resps = [p for p in got if isinstance(p, pdus.SubmitSmResp)]
    assert [r.sequence_number for r in resps] == [first.sequence_number, second.sequence_number]
    (deliver,) = [p for p in got if isinstance(p, pdus.DeliverSm)]  # one token: one settled
    assert receipt_of(deliver).message_id == resps[0].message_id
    (waiting,) = store.get_messages(int(resps[1].message_id))
    assert waiting.state == MessageState.ENROUTE and waiting.next_at is not None
    rig.advance(1.1)  # the next token
    (later,) = esme.deliveries()
    assert receipt_of(later).message_id == resps[1].message_id
    # And a third submit, with nothing older waiting, is settled again.
    rig.advance(1.0)
    third, (last,) = submit_and_read(rig, esme)
    assert receipt_of(last).message_id == third


@pytest.mark.parametrize("registered_delivery", [0, 2])
def test_no_receipt_unless_asked_for(store: Store, registered_delivery: int) -> None:
    rig = at_once_rig(store)
    esme = rig.bound()
    message_id, receipts = submit_and_read(rig, esme, registered_delivery=registered_delivery)
    assert receipts == []
    (stored,) = store.get_messages(int(message_id))
    assert stored.state == MessageState.DELIVERED
    assert store.outbox_count() == 0


def test_the_receipt_carries_the_state_tlv(store: Store) -> None:
    rig = at_once_rig(store, outcomes=[{"stat": "UNDELIV", "weight": 1}])
    esme = rig.bound()
    _, (deliver,) = submit_and_read(rig, esme)
    assert receipt_of(deliver).stat == "UNDELIV"
    assert deliver.tlvs.get_int(Tag.MESSAGE_STATE) == MessageState.UNDELIVERABLE


# --- incomplete sets of parts the customer splits ------------------------------------------------
def udh_part(reference: int, total: int, index: int, body: bytes) -> dict[str, Any]:
    return {"text": bytes((5, 0, 3, reference, total, index)) + body, "esm_class": 0x40}


def test_a_holding_account_sends_a_set_only_when_it_is_complete(store: Store) -> None:
    """hold_incomplete_sets: parts 1 and 3 of 3 are accepted (each its own id) but wait; part
    2 completes the set and all three go to the operator, each with its receipt."""
    add_account(store, "holder", hold_incomplete_sets=60.0)
    rig = at_once_rig(store)
    esme = rig.bound(system_id="holder")
    first, receipts = submit_and_read(rig, esme, **udh_part(9, 3, 1, b"one"))
    third, more = submit_and_read(rig, esme, **udh_part(9, 3, 3, b"three"))
    assert receipts == more == []
    rig.advance(30.0)
    assert esme.deliveries() == []  # held: the set is not complete
    states = {p.state for i in (first, third) for p in store.get_messages(int(i))}
    assert states == {MessageState.ENROUTE}
    second, _ = submit_and_read(rig, esme, **udh_part(9, 3, 2, b"two"))
    rig.advance(0.5)  # the released parts' operator round
    got = {receipt_of(d).message_id: receipt_of(d) for d in esme.deliveries()}
    assert sorted(got) == sorted((first, second, third))
    assert {r.stat for r in got.values()} == {"DELIVRD"}
    assert got[third].text == "three"


def test_a_set_that_never_completes_goes_as_it_is_when_the_hold_ends(store: Store) -> None:
    add_account(store, "holder", hold_incomplete_sets=60.0)
    rig = at_once_rig(store)
    esme = rig.bound(system_id="holder")
    first, receipts = submit_and_read(rig, esme, **udh_part(4, 2, 1, b"alone"))
    assert receipts == []
    rig.advance(59.0)
    assert esme.deliveries() == []
    rig.advance(2.0)
    (deliver,) = esme.deliveries()
    assert (receipt_of(deliver).message_id, receipt_of(deliver).stat) == (first, "DELIVRD")


def test_other_sets_and_other_accounts_are_not_held(store: Store) -> None:
    """A set with another reference stays held while this one completes; an account without
    the setting gets each part's receipt at once."""
    add_account(store, "holder", hold_incomplete_sets=60.0)
    rig = at_once_rig(store)
    esme = rig.bound(system_id="holder")
    other, _ = submit_and_read(rig, esme, **udh_part(1, 2, 1, b"other set"))
    done = [submit_and_read(rig, esme, **udh_part(2, 2, i, b"part"))[0] for i in (1, 2)]
    rig.advance(0.5)
    assert sorted(receipt_of(d).message_id for d in esme.deliveries()) == sorted(done)
    assert store.get_messages(int(other))[0].state == MessageState.ENROUTE
    plain = rig.bound()
    message_id, (deliver,) = submit_and_read(rig, plain, **udh_part(1, 2, 1, b"x"))
    assert receipt_of(deliver).message_id == message_id
