"""Starting and stopping the running service: stopService unbinds every customer, answers and
flushes what is pending, then stops the store worker and closes the store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from smsc.pdu import pdus
from smsc.store.records import MessageFilter
from smsc.store.sqlite import SqliteStore
from tests.server.harness import OPERATOR_DELAY, Rig, add_account, receipt_of, submit_sm


@pytest.fixture
def path(tmp_path: Path) -> Path:
    path = tmp_path / "smsc.sqlite"
    store = SqliteStore(path)
    add_account(store)
    store.close()
    return path


def test_start_listens_on_the_configured_endpoint(rig: Rig) -> None:
    assert rig.worker.started
    assert [(port, interface) for port, _, _, interface in rig.clock.tcpServers] == [
        (2775, "127.0.0.1")
    ]
    assert any("listening on tcp:" in line for line in rig.announced)


def test_stop_unbinds_everyone_and_closes_the_store(path: Path) -> None:
    store = SqliteStore(path)
    rig = Rig(store)
    tx = rig.bound(pdus.BindTransmitter)
    rx = rig.bound(pdus.BindReceiver)
    unbound = rig.connect()
    stopped = rig.stop()
    rig.turn()
    assert unbound.closing()  # nothing to unbind: closed at once
    for esme in (tx, rx):
        (unbind,) = esme.read()
        assert type(unbind) is pdus.Unbind
        esme.answer(unbind)
    rig.advance(0.1)
    assert tx.closing() and rx.closing()
    assert stopped.called
    assert rig.worker.stopped
    with pytest.raises(sqlite3.ProgrammingError):
        store.get_account("acme")


def test_stop_closes_customers_that_do_not_answer_the_unbind(rig: Rig) -> None:
    esme = rig.bound()
    stopped = rig.stop()
    assert [type(p) for p in esme.read()] == [pdus.Unbind]
    rig.advance(1.5)
    assert not stopped.called
    rig.advance(2.0)
    assert esme.closing()
    assert stopped.called


def test_connections_during_stop_are_refused(rig: Rig) -> None:
    stayer = rig.bound()
    rig.stop()
    late = rig.connect()
    assert late.closing()
    assert not stayer.closing()


def test_stop_flushes_acknowledged_receipts(path: Path) -> None:
    rig = Rig(SqliteStore(path))
    esme = rig.bound()
    esme.submit_and_commit()
    rig.advance(OPERATOR_DELAY + 0.1)
    (receipt,) = esme.deliveries()
    esme.answer(receipt)  # its removal from the store is batched: not written yet
    stopped = rig.stop()
    (unbind,) = esme.read()
    esme.answer(unbind)
    rig.advance(0.1)
    assert stopped.called
    reopened = SqliteStore(path)
    assert reopened.outbox_count("acme") == 0
    reopened.close()


def test_stop_answers_a_submit_waiting_for_its_commit(path: Path) -> None:
    """A submit that arrived just before the stop is committed (it is billed and will be
    delivered), so the customer must get its submit_sm_resp before the connection closes,
    even when it answers the server's unbind at once."""
    rig = Rig(SqliteStore(path))
    esme = rig.bound()
    (sent,) = esme.send(submit_sm())
    stopped = rig.stop()
    for pdu in esme.read():
        if type(pdu) is pdus.Unbind:
            esme.answer(pdu)
    rig.advance(3.5)
    assert stopped.called
    esme.read()
    reopened = SqliteStore(path)
    assert len(list(reopened.messages(MessageFilter()))) == 1  # committed and billed
    reopened.close()
    answers = [p for p in esme.inbox if isinstance(p, pdus.SubmitSmResp)]
    assert [(a.sequence_number, a.command_status) for a in answers] == [
        (sent.sequence_number, 0)
    ], "committed, but the customer was never told"


def test_a_restarted_service_continues_with_fresh_message_ids(path: Path) -> None:
    rig = Rig(SqliteStore(path))
    esme = rig.bound()
    first = esme.submit_and_commit()
    stopped = rig.stop()
    rig.advance(3.5)
    assert stopped.called
    again = Rig(SqliteStore(path), start_at=rig.clock.seconds())
    esme = again.bound()
    second = esme.submit_and_commit()
    assert int(second, 16) > int(first, 16)
    again.advance(OPERATOR_DELAY + 0.1)
    # Both messages reach their end: the first one's operator round runs in the new service.
    assert sorted(receipt_of(d).message_id for d in esme.deliveries()) == [first, second]
