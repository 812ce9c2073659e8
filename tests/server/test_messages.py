"""query_sm, cancel_sm and replace_sm through the running service: the happy paths and their
refusals, read back as bytes (and as the receipts they cause)."""

from __future__ import annotations

from smsc.pdu import pdus
from smsc.pdu.constants import MessageState, Tag
from smsc.pdu.tlv import Tlvs
from smsc.store.base import Store
from tests.server.harness import (
    DESTINATION,
    OPERATOR_DELAY,
    SENDER,
    Esme,
    Rig,
    S,
    add_account,
    receipt_of,
)

DUE_SLACK = 0.1


def query(esme: Esme, message_id: str, source_addr: str = SENDER) -> pdus.QuerySmResp:
    (sent,) = esme.send(
        pdus.QuerySm(
            message_id=message_id, source_addr_ton=1, source_addr_npi=1, source_addr=source_addr
        )
    )
    resp = esme.read_one()
    assert isinstance(resp, pdus.QuerySmResp)
    assert resp.sequence_number == sent.sequence_number
    return resp


def cancel(esme: Esme, message_id: str = "", destination: str = "") -> pdus.Pdu:
    esme.send(
        pdus.CancelSm(
            message_id=message_id,
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr=SENDER,
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr=destination,
        )
    )
    (resp,) = [p for p in esme.read() if not isinstance(p, pdus.DeliverSm)]
    assert type(resp) is pdus.CancelSmResp
    return resp


def replace(
    esme: Esme,
    message_id: str,
    text: bytes,
    *,
    registered_delivery: int = 1,
    schedule_delivery_time: str = "",
) -> pdus.Pdu:
    """replace_sm; its registered_delivery replaces the message's, so it asks for a receipt
    unless told otherwise."""
    esme.send(
        pdus.ReplaceSm(
            message_id=message_id,
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr=SENDER,
            short_message=text,
            registered_delivery=registered_delivery,
            schedule_delivery_time=schedule_delivery_time,
        )
    )
    resp = esme.read_one()
    assert type(resp) is pdus.ReplaceSmResp
    return resp


# --- query_sm -----------------------------------------------------------------------------------
def test_query_sm_follows_the_message_to_its_final_state(rig: Rig) -> None:
    esme = rig.bound()
    message_id = esme.submit_and_commit()
    enroute = query(esme, message_id)
    assert enroute.command_status == S.ESME_ROK
    assert enroute.message_id == message_id
    assert enroute.message_state == MessageState.ENROUTE
    assert enroute.final_date == ""
    rig.advance(OPERATOR_DELAY + DUE_SLACK)
    (receipt,) = esme.deliveries()
    esme.answer(receipt)
    done = query(esme, message_id)
    assert done.command_status == S.ESME_ROK
    assert done.message_state == MessageState.DELIVERED
    assert done.final_date  # an absolute SMPP time
    assert done.error_code == 0


def test_query_sm_of_an_unknown_or_foreign_message_fails(rig: Rig) -> None:
    add_account(rig.store, "other")
    esme = rig.bound()
    message_id = esme.submit_and_commit()
    assert query(esme, "7fffff00").command_status == S.ESME_RQUERYFAIL
    assert query(esme, "not-an-id").command_status == S.ESME_RQUERYFAIL
    assert query(esme, message_id, source_addr="380000000000").command_status == S.ESME_RQUERYFAIL
    stranger = rig.bound(system_id="other")
    assert query(stranger, message_id).command_status == S.ESME_RQUERYFAIL


# --- cancel_sm ----------------------------------------------------------------------------------
def test_cancel_sm_deletes_a_waiting_message_with_a_deleted_receipt(rig: Rig) -> None:
    esme = rig.bound()
    message_id = esme.submit_and_commit()
    resp = cancel(esme, message_id)
    assert resp.command_status == S.ESME_ROK
    rig.turn()
    (receipt,) = esme.deliveries()
    text = receipt_of(receipt)
    assert text.message_id == message_id
    assert text.stat == "DELETED"
    assert receipt.tlvs.get_int(Tag.MESSAGE_STATE) == MessageState.DELETED
    assert receipt.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) == message_id
    esme.answer(receipt)
    # The operator never gets it: no other receipt follows.
    rig.advance(OPERATOR_DELAY + 1.0)
    assert esme.deliveries() == []
    assert query(esme, message_id).message_state == MessageState.DELETED
    # Twice is once too many.
    assert cancel(esme, message_id).command_status == S.ESME_RCANCELFAIL


def test_cancel_sm_by_source_and_destination(rig: Rig) -> None:
    esme = rig.bound()
    first = esme.submit_and_commit()
    second = esme.submit_and_commit()
    assert cancel(esme, destination=DESTINATION).command_status == S.ESME_ROK
    rig.turn()
    assert sorted(receipt_of(d).message_id for d in esme.deliveries()) == sorted([first, second])


def test_cancel_sm_failures(rig: Rig) -> None:
    add_account(rig.store, "other")
    esme = rig.bound()
    message_id = esme.submit_and_commit()
    assert cancel(esme, "7fffff00").command_status == S.ESME_RCANCELFAIL
    stranger = rig.bound(system_id="other")
    assert cancel(stranger, message_id).command_status == S.ESME_RCANCELFAIL
    rig.advance(OPERATOR_DELAY + DUE_SLACK)  # delivered: too late to cancel
    (receipt,) = esme.deliveries()
    esme.answer(receipt)
    assert cancel(esme, message_id).command_status == S.ESME_RCANCELFAIL


# --- replace_sm ---------------------------------------------------------------------------------
def test_replace_sm_changes_a_waiting_message(rig: Rig) -> None:
    esme = rig.bound()
    message_id = esme.submit_and_commit(text=b"first version")
    assert replace(esme, message_id, b"second version").command_status == S.ESME_ROK
    rig.advance(OPERATOR_DELAY + DUE_SLACK)
    (receipt,) = esme.deliveries()
    text = receipt_of(receipt)
    assert text.message_id == message_id
    assert text.stat == "DELIVRD"
    # The receipt quotes the text that was delivered: the replacement.
    assert text.text == "second version"


def test_replace_sm_can_ask_for_no_receipt(rig: Rig) -> None:
    esme = rig.bound()
    message_id = esme.submit_and_commit()
    assert replace(esme, message_id, b"quiet", registered_delivery=0).command_status == 0
    rig.advance(OPERATOR_DELAY + 1.0)
    assert esme.deliveries() == []


def test_replace_sm_with_a_later_schedule_postpones_delivery(rig: Rig) -> None:
    esme = rig.bound()
    message_id = esme.submit_and_commit()
    resp = replace(esme, message_id, b"later", schedule_delivery_time="000000000100000R")
    assert resp.command_status == S.ESME_ROK
    rig.advance(OPERATOR_DELAY + 1.0)
    assert esme.deliveries() == []
    assert query(esme, message_id).message_state == MessageState.ENROUTE
    rig.advance(60.0)
    assert [receipt_of(d).message_id for d in esme.deliveries()] == [message_id]


def test_replace_sm_failures(store: Store) -> None:
    add_account(store, "other")
    rig = Rig(store)
    esme = rig.bound()
    message_id = esme.submit_and_commit()
    assert replace(esme, "7fffff00", b"x").command_status == S.ESME_RREPLACEFAIL
    stranger = rig.bound(system_id="other")
    assert replace(stranger, message_id, b"x").command_status == S.ESME_RREPLACEFAIL
    bad = replace(esme, message_id, b"x", schedule_delivery_time="not a time")
    assert bad.command_status == S.ESME_RINVSCHED
    rig.advance(OPERATOR_DELAY + DUE_SLACK)  # delivered: too late to replace
    (receipt,) = esme.deliveries()
    esme.answer(receipt)
    assert replace(esme, message_id, b"x").command_status == S.ESME_RREPLACEFAIL


# --- a message smsc split itself: one id, one receipt ---------------------------------------------
PAYLOAD_250 = Tlvs([(Tag.MESSAGE_PAYLOAD, b"Long message payload " + b"z" * 229)])


def test_a_data_sm_with_a_long_payload_gets_one_receipt_from_the_queue(rig: Rig) -> None:
    """250 characters in message_payload: two parts inside smsc, one message id for the
    customer, and one final receipt when the last part is final (through the operator queue)."""
    esme = rig.bound()
    esme.send(pdus.DataSm(
        source_addr_ton=1, source_addr_npi=1, source_addr=SENDER, dest_addr_ton=1,
        dest_addr_npi=1, destination_addr=DESTINATION, registered_delivery=1,
        tlvs=PAYLOAD_250))
    rig.advance(0.01)
    resp = esme.read_one()
    assert isinstance(resp, pdus.DataSmResp) and resp.command_status == S.ESME_ROK
    message_id = resp.message_id
    assert len(rig.store.get_messages(int(message_id))) == 2
    assert query(esme, message_id).message_state == MessageState.ENROUTE
    rig.advance(OPERATOR_DELAY + DUE_SLACK)
    (receipt,) = esme.deliveries()
    text = receipt_of(receipt)
    assert (text.message_id, text.submitted, text.delivered, text.stat) == (
        message_id, 2, 2, "DELIVRD")
    assert text.text == "Long message payload"
    assert receipt.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) == message_id
    esme.answer(receipt)
    rig.advance(OPERATOR_DELAY + 1.0)
    assert esme.deliveries() == []
    done = query(esme, message_id)
    assert (done.message_state, done.command_status) == (MessageState.DELIVERED, S.ESME_ROK)


def test_cancel_sm_of_a_message_smsc_split_gives_one_deleted_receipt(rig: Rig) -> None:
    esme = rig.bound()
    message_id = esme.submit_and_commit(text=b"", tlvs=PAYLOAD_250)
    assert cancel(esme, message_id).command_status == S.ESME_ROK
    rig.turn()
    (receipt,) = esme.deliveries()
    text = receipt_of(receipt)
    assert (text.message_id, text.submitted, text.delivered, text.stat) == (
        message_id, 2, 0, "DELETED")
    esme.answer(receipt)
    rig.advance(OPERATOR_DELAY + 1.0)
    assert esme.deliveries() == []
    assert query(esme, message_id).message_state == MessageState.DELETED
