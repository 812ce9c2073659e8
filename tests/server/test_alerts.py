"""alert_notification: a message that set the delivery pending flag (set_dpf = 1) and found its
handset offline; when the operator's retry finds the handset back, the sender's receivers are
told, once, durably, without waiting for a response."""

from __future__ import annotations

import pytest

from smsc.config.loader import config_from_tables
from smsc.operators.alerts import alert_frame, delivery_pending_flag
from smsc.pdu import pdus
from smsc.pdu.codec import decode
from smsc.pdu.constants import MessageState, Tag
from smsc.pdu.tlv import Tlvs
from smsc.store.base import Store
from smsc.store.records import StoredMessage
from tests.server.harness import COMMIT_DELAY, DESTINATION, SENDER, Esme, Rig, base_tables

DELAY = 1.0  # to the first attempt
OFFLINE = 10.0  # the handset is off for this long from the first attempt
RETRY = 4.0  # the operator tries again this often: attempts at 1, 5, 9, 13 s
BACK = DELAY + 3 * RETRY  # the first try that finds the handset on


@pytest.fixture
def rig(store: Store) -> Rig:
    tables = base_tables()
    tables["operators"]["op"].update({
        "delay": {"kind": "fixed", "value": DELAY},
        "offline": {"probability": 1.0, "duration": {"kind": "fixed", "value": OFFLINE},
                    "retry_interval": f"{RETRY:g}s"},
    })
    return Rig(store, config_from_tables(tables))


def data_sm(set_dpf: int | None = 1, registered_delivery: int = 1) -> pdus.DataSm:
    tlvs: list[tuple[int, bytes]] = [(Tag.MESSAGE_PAYLOAD, b"are you there?")]
    if set_dpf is not None:
        tlvs.append((Tag.SET_DPF, bytes([set_dpf])))
    return pdus.DataSm(source_addr_ton=1, source_addr_npi=1, source_addr=SENDER, dest_addr_ton=1,
                       dest_addr_npi=1, destination_addr=DESTINATION,
                       registered_delivery=registered_delivery, tlvs=Tlvs(tlvs))


def submit(rig: Rig, esme: Esme, pdu: pdus.DataSm) -> str:
    esme.send(pdu)
    rig.advance(COMMIT_DELAY)
    (resp,) = [p for p in esme.read() if isinstance(p, pdus.DataSmResp)]
    assert resp.command_status == 0
    return resp.message_id


def requests(esme: Esme) -> tuple[list[pdus.AlertNotification], list[pdus.DeliverSm]]:
    got = esme.read()
    return ([p for p in got if isinstance(p, pdus.AlertNotification)],
            [p for p in got if isinstance(p, pdus.DeliverSm)])


def test_the_sender_is_alerted_once_when_the_handset_is_back(rig: Rig) -> None:
    esme = rig.bound()
    message_id = submit(rig, esme, data_sm())
    rig.advance(BACK - 0.5)
    assert requests(esme) == ([], [])  # tried at 1, 5 and 9 s: the handset is off
    (stored,) = rig.store.get_messages(int(message_id, 16))
    assert (stored.state, stored.attempts) == (MessageState.ENROUTE, 3)
    rig.advance(1.0)
    (alert,), (receipt,) = requests(esme)
    assert (alert.source_addr, alert.source_addr_ton, alert.source_addr_npi) == (DESTINATION, 1, 1)
    assert (alert.esme_addr, alert.esme_addr_ton, alert.esme_addr_npi) == (SENDER, 1, 1)
    assert alert.tlvs.get_int(Tag.MS_AVAILABILITY_STATUS) == 0
    assert receipt.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) == message_id
    # The alert needs no answer: it left the store at once; the receipt waits for its own.
    rig.advance(0.1)
    assert rig.store.outbox_count("acme") == 1
    esme.answer(receipt)
    rig.advance(0.1)
    assert rig.store.outbox_count("acme") == 0
    rig.advance(120.0)
    assert requests(esme) == ([], [])
    assert esme.is_bound()


@pytest.mark.parametrize("set_dpf", [None, 0])
def test_no_alert_without_the_delivery_pending_flag(rig: Rig, set_dpf: int | None) -> None:
    esme = rig.bound()
    submit(rig, esme, data_sm(set_dpf))
    rig.advance(BACK + 1.0)
    alerts, receipts = requests(esme)
    assert alerts == [] and len(receipts) == 1


def test_the_alert_waits_for_a_receiver(rig: Rig) -> None:
    sender = rig.bound(pdus.BindTransmitter)
    submit(rig, sender, data_sm(registered_delivery=0))
    rig.advance(BACK + 1.0)
    assert sender.read() == []  # a transmitter gets nothing
    assert rig.store.outbox_count("acme") == 1
    receiver = rig.bound(pdus.BindReceiver)
    rig.advance(0.1)
    (alert,), receipts = requests(receiver)
    assert alert.source_addr == DESTINATION and receipts == []
    rig.advance(0.1)
    assert rig.store.outbox_count("acme") == 0


def stored(tlvs: bytes, part_index: int = 1) -> StoredMessage:
    return StoredMessage(
        id=1, message_id=7, account="acme", credit_owner="acme", source_addr_ton=5,
        source_addr_npi=0, source_addr="Shop", dest_addr_ton=1, dest_addr_npi=1,
        destination_addr="380501234567", esm_class=0, protocol_id=0, priority_flag=0,
        data_coding=0, registered_delivery=1, short_message=b"", tlvs=tlvs, service_type="",
        part_ref=0, part_total=1, part_index=part_index, operator="op", route="ua", price=1,
        charged_subscription=0, charged_bought=1, submitted_at=0.0, scheduled_at=None,
        expires_at=60.0, next_at=None, state=2, attempts=2, done_at=9.0, error_code=0,
        text_snippet="", blacklisted=False, refunded=0)


def test_the_flag_is_read_from_the_stored_tlvs() -> None:
    assert delivery_pending_flag(stored(Tlvs([(Tag.SET_DPF, b"\x01")]).encoded()))
    assert not delivery_pending_flag(stored(Tlvs([(Tag.SET_DPF, b"\x00")]).encoded()))
    assert not delivery_pending_flag(stored(b""))
    assert not delivery_pending_flag(stored(b"\x04\x21\x00"))  # cut short: asks for nothing


def test_the_alert_frame() -> None:
    pdu = decode(alert_frame(stored(b"")))
    assert isinstance(pdu, pdus.AlertNotification)
    assert pdu.sequence_number == 0
    assert (pdu.source_addr, pdu.esme_addr, pdu.esme_addr_ton) == ("380501234567", "Shop", 5)
    assert pdu.tlvs.get_int(Tag.MS_AVAILABILITY_STATUS) == 0


def test_a_submit_sm_may_set_the_flag_too(rig: Rig) -> None:
    esme = rig.bound()
    esme.submit(tlvs=Tlvs([(Tag.SET_DPF, b"\x01")]), registered_delivery=0)
    rig.advance(BACK + 1.0)
    (alert,), receipts = requests(esme)
    assert alert.esme_addr == SENDER and receipts == []
