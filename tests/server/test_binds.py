"""Binds through the running service: credentials, lockout, limits, addresses, bind states,
unbind and the bind timeout, all read back from the bytes the server writes."""

from __future__ import annotations

import dataclasses

import pytest

from smsc.pdu import pdus
from smsc.pdu.constants import INTERFACE_VERSION, Tag
from smsc.store.base import Store
from smsc.store.records import BindType
from tests.server.harness import COMMIT_DELAY, PASSWORD, Rig, S, add_account, submit_sm

BINDS = [
    (pdus.BindTransmitter, pdus.BindTransmitterResp),
    (pdus.BindReceiver, pdus.BindReceiverResp),
    (pdus.BindTransceiver, pdus.BindTransceiverResp),
]


@pytest.mark.parametrize(("request_class", "response_class"), BINDS)
def test_bind_succeeds_with_system_id_and_interface_version(
    rig: Rig, request_class: type[pdus.BindRequest], response_class: type[pdus.Pdu]
) -> None:
    esme = rig.connect()
    (sent,) = esme.send(request_class(system_id="acme", password=PASSWORD))
    resp = esme.read_one()
    assert type(resp) is response_class
    assert resp.sequence_number == sent.sequence_number
    assert resp.command_status == S.ESME_ROK
    assert isinstance(resp, pdus.BindResponse)
    assert resp.system_id == "smsc"
    assert resp.tlvs.get_int(Tag.SC_INTERFACE_VERSION) == INTERFACE_VERSION
    assert esme.is_bound()
    assert not esme.closing()


def test_wrong_password_is_refused_with_rinvpaswd(rig: Rig) -> None:
    esme = rig.connect()
    resp = esme.bind(password="wrong")
    assert type(resp) is pdus.BindTransceiverResp
    assert resp.command_status == S.ESME_RINVPASWD
    assert not esme.is_bound()
    # A failed bind leaves the connection open for another try.
    assert esme.bind().command_status == S.ESME_ROK


def test_unknown_system_id_is_refused_with_rinvsysid(rig: Rig) -> None:
    resp = rig.connect().bind(pdus.BindTransmitter, system_id="nobody")
    assert type(resp) is pdus.BindTransmitterResp
    assert resp.command_status == S.ESME_RINVSYSID


def test_two_failures_do_not_lock_and_a_success_resets_the_count(rig: Rig) -> None:
    esme = rig.connect()
    for _ in range(2):
        assert esme.bind(password="wrong").command_status == S.ESME_RINVPASWD
    assert esme.bind().command_status == S.ESME_ROK
    # The count started again: two more failures still do not lock.
    other = rig.connect()
    for _ in range(2):
        assert other.bind(password="wrong").command_status == S.ESME_RINVPASWD
    assert other.bind().command_status == S.ESME_ROK


def test_lockout_after_three_failures_and_its_expiry(rig: Rig) -> None:
    esme = rig.connect()
    for _ in range(3):
        assert esme.bind(password="wrong").command_status == S.ESME_RINVPASWD
    # Locked: the right password fails too, and a wrong one no longer says it is wrong.
    assert esme.bind().command_status == S.ESME_RBINDFAIL
    assert esme.bind(password="wrong").command_status == S.ESME_RBINDFAIL
    # Only this account from this address: another account from it binds, and so does this
    # account from another address (see tests/server/test_lockout.py).
    add_account(rig.store, "beta", credit=0)
    assert rig.connect().bind(system_id="beta").command_status == S.ESME_ROK
    assert rig.connect("10.9.9.9").bind().command_status == S.ESME_ROK

    lock_for = rig.config.server.lock_for
    rig.advance(lock_for - 1.0)
    assert rig.connect().bind().command_status == S.ESME_RBINDFAIL
    rig.advance(1.5)
    fresh = rig.connect()
    assert fresh.bind().command_status == S.ESME_ROK
    assert fresh.is_bound()


def test_max_binds_per_account(store: Store) -> None:
    add_account(store, "small", max_binds=2)
    rig = Rig(store)
    first = rig.bound(system_id="small")
    rig.bound(pdus.BindReceiver, system_id="small")
    third = rig.connect()
    assert third.bind(system_id="small").command_status == S.ESME_RBINDFAIL
    # Other accounts are not affected.
    assert rig.connect().bind().command_status == S.ESME_ROK
    # When one bind goes away, there is room again.
    first.send(pdus.Unbind())
    assert type(first.read_one()) is pdus.UnbindResp
    rig.advance(0.01)
    assert first.gone()
    assert third.bind(system_id="small").command_status == S.ESME_ROK


def test_binds_checked_at_once_get_no_more_than_max_binds(store: Store) -> None:
    """Two binds of an account that may bind once wait for the store thread together: one
    gets in, the other is refused once, for the limit (smsc.core.binds.admit)."""
    add_account(store, "single", max_binds=1)
    rig = Rig(store)
    first, second = rig.connect(), rig.connect("127.0.0.2")
    rig.worker.hold = True  # the store thread is busy: both binds wait for their checks
    for esme in (first, second):
        esme.send(pdus.BindTransceiver(system_id="single", password=PASSWORD))
    rig.worker.release()
    rig.turn()
    statuses = sorted(esme.read_one().command_status for esme in (first, second))
    assert statuses == [S.ESME_ROK, S.ESME_RBINDFAIL]
    assert len(rig.service.binds["single"]) == 1
    assert rig.service.bind_refusals[S.ESME_RBINDFAIL] == 1


def test_allowed_ips_by_cidr(store: Store) -> None:
    add_account(store, "fenced", allowed_ips=("10.1.0.0/16", "192.0.2.7/32"))
    rig = Rig(store)
    assert rig.connect("10.1.200.3").bind(system_id="fenced").command_status == S.ESME_ROK
    assert rig.connect("192.0.2.7").bind(system_id="fenced").command_status == S.ESME_ROK
    for host in ("10.2.0.1", "192.0.2.8"):
        esme = rig.connect(host)
        assert esme.bind(system_id="fenced").command_status == S.ESME_RBINDFAIL
        assert not esme.is_bound()


def test_bind_type_not_allowed_is_refused(store: Store) -> None:
    add_account(store, "sender", bind_types=frozenset({BindType.TRANSMITTER}))
    rig = Rig(store)
    assert rig.connect().bind(pdus.BindReceiver, "sender").command_status == S.ESME_RBINDFAIL
    assert rig.connect().bind(pdus.BindTransmitter, "sender").command_status == S.ESME_ROK


def test_submit_before_bind_gets_rinvbndsts(rig: Rig) -> None:
    esme = rig.connect()
    esme.write_pdu(submit_sm().replace(sequence_number=5))
    (resp,) = esme.read_raw()
    assert type(resp) is pdus.SubmitSmResp
    assert resp.sequence_number == 5
    assert resp.command_status == S.ESME_RINVBNDSTS
    rig.advance(1.0)
    assert esme.read_raw() == []  # nothing more, not even after a commit would have run


def test_submit_on_a_receiver_bind_gets_rinvbndsts(rig: Rig) -> None:
    esme = rig.bound(pdus.BindReceiver)
    esme.write_pdu(submit_sm().replace(sequence_number=9))
    (resp,) = esme.read_raw()
    assert resp.command_status == S.ESME_RINVBNDSTS


def test_second_bind_on_a_bound_connection_gets_ralybnd(rig: Rig) -> None:
    esme = rig.bound()
    esme.write_pdu(pdus.BindTransmitter(sequence_number=7, system_id="acme", password=PASSWORD))
    (resp,) = esme.read_raw()
    assert type(resp) is pdus.BindTransmitterResp
    assert resp.command_status == S.ESME_RALYBND


def test_unbind_is_answered_and_the_connection_closed(rig: Rig) -> None:
    esme = rig.bound()
    (sent,) = esme.send(pdus.Unbind())
    resp = esme.read_one()
    assert type(resp) is pdus.UnbindResp
    assert resp.sequence_number == sent.sequence_number
    assert resp.command_status == S.ESME_ROK
    rig.advance(0.01)
    assert esme.closing()


def test_bind_timeout_closes_an_unbound_connection(rig: Rig) -> None:
    bind_timeout = rig.config.server.bind_timeout
    idle = rig.connect()
    failed = rig.connect()
    assert failed.bind(password="wrong").command_status == S.ESME_RINVPASWD
    bound = rig.bound()
    rig.advance(bind_timeout - 0.5)
    assert not idle.closing() and not failed.closing()
    rig.advance(1.0)
    assert idle.closing()
    assert failed.closing()  # a failed bind does not count as bound
    assert not bound.closing()


def test_a_connection_lost_while_its_bind_is_checked_takes_no_bind_slot(
    store: Store,
) -> None:
    """The bind is checked on the store thread; if the customer goes away meanwhile, the late
    verdict must not register the dead connection as a bind (it would hold one of max_binds
    for ever, and receive receipts that can never be sent)."""
    add_account(store, "single", max_binds=1)
    rig = Rig(store)
    gone = rig.connect()
    rig.worker.hold = True  # the store thread is busy
    gone.send(pdus.BindReceiver(system_id="single", password=PASSWORD))
    gone.transport.loseConnection()
    rig.turn()
    assert gone.gone()
    rig.worker.release()  # the verdict arrives for a connection that is no more
    assert gone.read_raw() == []
    late = rig.connect()
    assert late.bind(pdus.BindReceiver, system_id="single").command_status == S.ESME_ROK


def test_disabling_an_account_unbinds_its_customers(rig: Rig) -> None:
    esme = rig.bound()
    account = rig.store.get_account("acme")
    assert account is not None
    rig.store.update_account(dataclasses.replace(account, enabled=False))
    rig.advance(1.1)  # edits are noticed within a second
    assert [type(p) for p in esme.read()] == [pdus.Unbind]
    rig.advance(2.5)
    assert esme.closing()
    assert rig.connect().bind().command_status == S.SMSC_RACCOUNTDISABLED


def test_a_throughput_edit_applies_to_a_bound_customer(rig: Rig) -> None:
    esme = rig.bound(pdus.BindTransmitter)
    account = rig.store.get_account("acme")
    assert account is not None
    rig.store.update_account(dataclasses.replace(account, throughput=1.0, burst=1))
    rig.advance(1.1)
    esme.send(submit_sm(), submit_sm())
    assert [r.command_status for r in esme.read()] == [S.ESME_RTHROTTLED]


def test_a_burst_edit_applies_to_a_bound_customer(rig: Rig) -> None:
    """Only the burst changes (the throughput stays): the bucket is rebuilt all the same."""
    account = rig.store.get_account("acme")
    assert account is not None
    rig.store.update_account(dataclasses.replace(account, throughput=1.0, burst=1))
    esme = rig.bound(pdus.BindTransmitter)
    rig.store.update_account(dataclasses.replace(account, throughput=1.0, burst=3))
    rig.advance(1.1)  # edits are noticed within a second
    esme.send(submit_sm(), submit_sm(), submit_sm(), submit_sm())
    rig.advance(COMMIT_DELAY)
    statuses = [r.command_status for r in esme.read()]
    assert sorted(statuses) == [S.ESME_ROK] * 3 + [S.ESME_RTHROTTLED]
