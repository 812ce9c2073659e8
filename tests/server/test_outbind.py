"""Outbind: an account with receipts waiting and no receiver, that asked for it (outbind_to),
gets a connection from the server carrying an outbind; it binds as a receiver on it and gets
its receipts. Failed or unused connections are tried again after a pause that doubles."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionRefusedError
from twisted.python.failure import Failure

from smsc.pdu import pdus
from smsc.server.protocol import SmppServerProtocol
from smsc.store.base import Store
from tests.server.harness import (
    OPERATOR_DELAY,
    ClosingTransport,
    Esme,
    Rig,
    add_account,
    receipt_of,
)

TARGET = "tcp:host=127.0.0.1:port=2776"
CHECK = 5.0  # the server looks for accounts to outbind to this often
RETRY_MIN = 10.0


@pytest.fixture
def rig(store: Store) -> Rig:
    add_account(store, "far", outbind_to=TARGET, outbind_password="knock")
    return Rig(store)


def attempts(rig: Rig) -> list[tuple[str, int]]:
    return [(host, port) for host, port, *_ in rig.clock.tcpClients]


def accept(rig: Rig, index: int = -1) -> Esme:
    """The customer's side of the server's last outbound connection, connected."""
    host, port, factory, *_ = rig.clock.tcpClients[index]
    peer = IPv4Address("TCP", host, port)
    wrapper: Any = factory.buildProtocol(peer)
    transport = ClosingTransport(rig, peer)
    transport.connection = wrapper
    wrapper.makeConnection(transport)
    protocol = wrapper._wrappedProtocol
    assert isinstance(protocol, SmppServerProtocol)
    return Esme(rig, protocol, transport)


def refuse(rig: Rig, index: int = -1) -> None:
    _, _, factory, *_ = rig.clock.tcpClients[index]
    reason = Failure(ConnectionRefusedError())  # type: ignore[no-untyped-call]
    factory.clientConnectionFailed(None, reason)  # type: ignore[arg-type]


def receipt_waiting(rig: Rig) -> str:
    sender = rig.bound(pdus.BindTransmitter, "far")
    message_id = sender.submit_and_commit()
    rig.advance(OPERATOR_DELAY + 0.2)
    assert rig.store.outbox_count("far") == 1
    return message_id


def test_nothing_waiting_no_outbind(rig: Rig) -> None:
    rig.advance(3 * CHECK)
    assert attempts(rig) == []


def test_the_customer_binds_on_the_outbind_connection_and_gets_its_receipt(rig: Rig) -> None:
    message_id = receipt_waiting(rig)
    rig.advance(CHECK)
    assert attempts(rig) == [("127.0.0.1", 2776)]
    esme = accept(rig)
    outbind = esme.read_one()
    assert isinstance(outbind, pdus.Outbind)
    assert (outbind.system_id, outbind.password) == ("smsc", "knock")
    resp = esme.bind(pdus.BindReceiver, "far")
    assert resp.command_status == 0
    rig.advance(0.1)
    (deliver,) = esme.deliveries()
    assert receipt_of(deliver).message_id == message_id
    esme.answer(deliver)
    rig.advance(0.1)
    assert rig.store.outbox_count("far") == 0
    rig.advance(6 * CHECK)
    assert len(attempts(rig)) == 1  # bound: no other connection


def test_a_refused_connection_is_tried_again_after_a_doubling_pause(rig: Rig) -> None:
    receipt_waiting(rig)
    rig.advance(CHECK)
    refuse(rig)
    rig.advance(RETRY_MIN - 1)
    assert len(attempts(rig)) == 1
    rig.advance(2 * CHECK)  # the first look after the pause
    assert len(attempts(rig)) == 2
    refuse(rig)
    rig.advance(2 * RETRY_MIN - 1)
    assert len(attempts(rig)) == 2
    rig.advance(2 * CHECK)
    assert len(attempts(rig)) == 3


def test_a_connection_left_without_a_bind_is_closed_and_tried_again(rig: Rig) -> None:
    receipt_waiting(rig)
    rig.advance(CHECK)
    esme = accept(rig)
    assert isinstance(esme.read_one(), pdus.Outbind)
    rig.advance(31.0)  # past the bind timeout
    assert esme.gone()
    count = len(attempts(rig))
    rig.advance(RETRY_MIN - 1)
    assert len(attempts(rig)) == count
    rig.advance(2 * CHECK)
    assert len(attempts(rig)) == count + 1


def test_a_receiver_bound_the_usual_way_makes_the_outbind_needless(rig: Rig) -> None:
    receipt_waiting(rig)
    receiver = rig.bound(pdus.BindReceiver, "far")
    rig.advance(0.1)
    (deliver,) = receiver.deliveries()
    receiver.answer(deliver)
    rig.advance(3 * CHECK)
    assert attempts(rig) == []
