"""submit_sm with replace_if_present_flag = 1: a message still pending with the same source
address, destination address and service_type is deleted (DELETED, its receipt if asked for)
and the new one is accepted in its place; anything else is left alone."""

from __future__ import annotations

from smsc.pdu import pdus
from smsc.pdu.constants import MessageState
from tests.server.harness import (
    COMMIT_DELAY,
    DESTINATION,
    OPERATOR_DELAY,
    Esme,
    Rig,
    receipt_of,
)


def state_of(rig: Rig, message_id: str) -> int:
    (part,) = rig.store.get_messages(int(message_id, 16))
    return part.state


def submit(rig: Rig, esme: Esme, **fields: object) -> tuple[str, list[pdus.DeliverSm]]:
    esme.submit(**fields)  # type: ignore[arg-type]
    rig.advance(COMMIT_DELAY)
    got = esme.read()
    (resp,) = [p for p in got if isinstance(p, pdus.SubmitSmResp)]
    assert resp.command_status == 0
    return resp.message_id, [p for p in got if isinstance(p, pdus.DeliverSm)]


def test_the_pending_message_is_deleted_and_the_new_one_delivered(rig: Rig) -> None:
    esme = rig.bound()
    old, _ = submit(rig, esme, text=b"first")
    new, receipts = submit(rig, esme, text=b"second", replace_if_present_flag=1)
    assert new != old
    (deleted,) = receipts
    assert receipt_of(deleted).message_id == old and receipt_of(deleted).stat == "DELETED"
    assert state_of(rig, old) == MessageState.DELETED
    esme.answer(deleted)
    rig.advance(OPERATOR_DELAY + 0.2)
    (delivered,) = esme.deliveries()
    assert receipt_of(delivered).message_id == new and receipt_of(delivered).stat == "DELIVRD"
    assert state_of(rig, new) == MessageState.DELIVERED


def test_without_the_flag_both_are_delivered(rig: Rig) -> None:
    esme = rig.bound()
    first, _ = submit(rig, esme, text=b"first")
    second, receipts = submit(rig, esme, text=b"second")
    assert receipts == []
    rig.advance(OPERATOR_DELAY + 0.2)
    assert {receipt_of(d).message_id for d in esme.deliveries()} == {first, second}


def test_only_the_same_source_destination_and_service_type_are_replaced(rig: Rig) -> None:
    esme = rig.bound()
    other_type, _ = submit(rig, esme, service_type="CMT")
    other_number, _ = submit(rig, esme, destination="380501234568")
    _, receipts = submit(rig, esme, replace_if_present_flag=1)
    assert receipts == []
    assert state_of(rig, other_type) == MessageState.ENROUTE
    assert state_of(rig, other_number) == MessageState.ENROUTE


def test_a_delivered_message_is_not_replaced(rig: Rig) -> None:
    esme = rig.bound()
    old, _ = submit(rig, esme)
    rig.advance(OPERATOR_DELAY + 0.2)
    (receipt,) = esme.deliveries()
    esme.answer(receipt)
    _, receipts = submit(rig, esme, replace_if_present_flag=1, destination=DESTINATION)
    assert receipts == []
    assert state_of(rig, old) == MessageState.DELIVERED
