"""Lockout through the running service, and binds in progress: who gets locked (the pair, the
address, the account where it asks), what the log says, and that binding in a loop is no lever
(the hash runs in its own pool, binds in progress are bounded per address and in all)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from twisted.logger import formatEvent, globalLogPublisher

from smsc.config.loader import Config, config_from_tables
from smsc.pdu import pdus
from smsc.routing.accounts import password_matches
from smsc.store.base import Store
from smsc.store.records import LockKind, LockScope
from tests.server.harness import PASSWORD, Rig, S, add_account, base_tables, make_config

CUSTOMER, STRANGER = "127.0.0.1", "127.0.0.2"


@pytest.fixture
def log() -> Iterator[list[str]]:
    lines: list[str] = []

    def observe(event: dict[str, Any]) -> None:
        text = formatEvent(event)
        if text:
            lines.append(text)

    globalLogPublisher.addObserver(observe)  # type: ignore[arg-type]
    yield lines
    globalLogPublisher.removeObserver(observe)  # type: ignore[arg-type]


def test_a_stranger_cannot_lock_a_customer_out(rig: Rig) -> None:
    for _ in range(10):
        rig.connect(STRANGER).bind(password="wrong")
    assert rig.connect(STRANGER).bind().command_status == S.ESME_RBINDFAIL
    assert rig.connect(CUSTOMER).bind().command_status == S.ESME_ROK
    assert [(f.kind, f.address) for f in rig.store.locks(rig.clock.seconds())] == [
        (LockKind.PAIR, STRANGER)]


def test_unknown_ids_lock_only_their_address_after_their_own_count(rig: Rig) -> None:
    typo = rig.connect(STRANGER)
    for n in range(9):
        assert typo.bind(system_id=f"acm{n}").command_status == S.ESME_RINVSYSID
    # Nine: not yet (lock_after is 3, unknown ids have their own count, 10).
    assert rig.connect(STRANGER).bind().command_status == S.ESME_ROK
    # The success reset the count: ten more in a row lock the address.
    for n in range(10):
        assert typo.bind(system_id=f"ghost{n}").command_status == S.ESME_RINVSYSID
    assert rig.connect(STRANGER).bind().command_status == S.ESME_RBINDFAIL
    assert typo.bind(system_id="ghost").command_status == S.ESME_RBINDFAIL
    # Every account from elsewhere is untouched.
    assert rig.connect(CUSTOMER).bind().command_status == S.ESME_ROK


def test_the_test_account_never_locks_by_default(store: Store) -> None:
    add_account(store, "smsctest", test_account=True)
    rig = Rig(store)
    esme = rig.connect(CUSTOMER)
    for _ in range(25):
        assert esme.bind(system_id="smsctest", password="wrong").command_status == (
            S.ESME_RINVPASWD)
    assert esme.bind(system_id="smsctest").command_status == S.ESME_ROK
    assert not any(f.locked(rig.clock.seconds()) for f in store.locks(rig.clock.seconds()))


def test_the_test_account_locks_when_the_config_says(store: Store) -> None:
    add_account(store, "smsctest", test_account=True)
    rig = Rig(store, config_with_test_lock(2))
    esme = rig.connect(CUSTOMER)
    for _ in range(2):
        assert esme.bind(system_id="smsctest", password="wrong").command_status == (
            S.ESME_RINVPASWD)
    assert esme.bind(system_id="smsctest").command_status == S.ESME_RBINDFAIL


def config_with_test_lock(lock_after: int) -> Config:
    tables = base_tables()
    tables["test_account"] = {"lock_after": lock_after}
    return config_from_tables(tables)


def test_an_account_that_asks_is_locked_from_every_address(store: Store) -> None:
    add_account(store, "careful", lock_scope=LockScope.ACCOUNT)
    add_account(store, "lenient", lock_after=0)
    rig = Rig(store)
    for source in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        assert rig.connect(source).bind(system_id="careful", password="x").command_status == (
            S.ESME_RINVPASWD)
    assert rig.connect(CUSTOMER).bind(system_id="careful").command_status == S.ESME_RBINDFAIL
    # An account with lock_after 0 never locks.
    for _ in range(5):
        rig.connect(STRANGER).bind(system_id="lenient", password="x")
    assert rig.connect(STRANGER).bind(system_id="lenient").command_status == S.ESME_ROK


def test_the_log_names_the_lock_its_end_and_the_command_that_lifts_it(
    rig: Rig, log: list[str]
) -> None:
    esme = rig.connect(STRANGER)
    for _ in range(3):
        esme.bind(password="wrong")
    assert any("wrong password 3 of 3" in line and "is locked" in line
               and "`smsc account unlock acme --address 127.0.0.2`" in line for line in log)
    log.clear()
    assert esme.bind().command_status == S.ESME_RBINDFAIL
    (line,) = [line for line in log if "refused" in line]
    assert "account 'acme' from 127.0.0.2 is locked (after wrong passwords) until" in line
    assert "UTC; lift it with `smsc account unlock acme --address 127.0.0.2`" in line
    for n in range(10):
        esme.bind(system_id=f"ghost{n}")
    log.clear()
    esme.bind(system_id="ghost")
    assert any("address 127.0.0.2 is locked" in line
               and "`smsc account unlock --address 127.0.0.2`" in line for line in log)
    rig.store.set_lock("acme", rig.clock.seconds() + 60)
    log.clear()
    rig.connect(CUSTOMER).bind()
    assert any("account 'acme' is locked (from every address)" in line
               and "`smsc account unlock acme`" in line for line in log)


def test_counts_that_ran_out_are_purged_every_minute(rig: Rig) -> None:
    for n in range(5):
        rig.connect(f"10.0.1.{n}").bind(system_id=f"ghost{n}")
    rig.connect(STRANGER).bind(password="wrong")
    assert len(rig.store.locks(rig.clock.seconds())) == 6
    rig.advance(125.0)  # lock_for is 60 s: the counts are older than that at the 2nd minute
    assert rig.store.locks(rig.clock.seconds()) == []


# --- binds in progress ----------------------------------------------------------------------


def test_the_password_is_hashed_in_the_pool_not_on_the_store_thread(rig: Rig) -> None:
    store_calls: list[Any] = []
    hash_calls: list[Any] = []
    worker_call, hasher_call = rig.worker.call, rig.hasher.call

    def on_store(fn: Any, *args: Any, **kwargs: Any) -> Any:
        store_calls.append(fn)
        return worker_call(fn, *args, **kwargs)

    def on_pool(fn: Any, *args: Any, **kwargs: Any) -> Any:
        hash_calls.append(fn)
        return hasher_call(fn, *args, **kwargs)

    rig.worker.call = on_store  # type: ignore[method-assign]
    rig.hasher.call = on_pool  # type: ignore[method-assign]
    assert rig.connect().bind().command_status == S.ESME_ROK
    assert rig.connect().bind(password="wrong").command_status == S.ESME_RINVPASWD
    assert hash_calls == [password_matches, password_matches]
    assert password_matches not in store_calls
    names = [getattr(fn, "__name__", "") for fn in store_calls]
    assert [n for n in names if n in ("check", "finish")] == ["check", "finish"] * 2


def hashes_of(rig: Rig) -> list[str]:
    """The system_ids whose passwords go to the hash pool, in order (from now on)."""
    order: list[str] = []
    hasher_call = rig.hasher.call

    def on_pool(fn: Any, *args: Any, **kwargs: Any) -> Any:
        order.append(args[0].system_id if args[0] is not None else "?")
        return hasher_call(fn, *args, **kwargs)

    rig.hasher.call = on_pool  # type: ignore[method-assign]
    return order


def test_a_bind_storm_waits_its_turn_while_a_customer_binds(store: Store) -> None:
    add_account(store, "smsctest", test_account=True)  # never locks: every bind costs a hash
    rig = Rig(store, make_config({"pending_binds": 2, "pending_binds_per_address": 6,
                                  "bind_refusal_delay": "1s"}))
    rig.hasher.hold = True  # the pool is busy: binds stay in progress
    hashed = hashes_of(rig)
    storm = [rig.connect(STRANGER) for _ in range(50)]
    for esme in storm:
        esme.send(pdus.BindTransceiver(system_id="smsctest", password="wrong"))
    # Two of the stranger's binds are checked, four wait; the other 44 were refused, without a
    # hash or a store call, and without counting toward any lock; the refusals are answered
    # after bind_refusal_delay, which slows a peer that binds in a loop.
    assert [esme.read() for esme in storm] == [[]] * 50
    rig.advance(0.9)
    assert [esme.read() for esme in storm] == [[]] * 50
    rig.advance(0.1)
    answered = [esme.read() for esme in storm]
    refused = [got for got in answered if got]
    assert len(refused) == 44
    assert all(got[0].command_status == S.ESME_RBINDFAIL for got in refused)
    binder = rig.service.binder
    assert (binder.in_progress, binder.running, binder.queued) == ({STRANGER: 6}, 2, 4)
    # A customer from its own address waits for the next place, and takes it before the
    # stranger's four waiting binds (the address with the fewest binds checked goes first).
    customer = rig.connect(CUSTOMER)
    customer.send(pdus.BindTransceiver(system_id="acme", password=PASSWORD))
    assert customer.read() == []
    waiting = [esme for esme, got in zip(storm, answered, strict=True) if not got]
    rig.hasher.release()  # the two hashes under way finish; their places are given out again
    assert hashed == ["smsctest", "smsctest", "acme"] + ["smsctest"] * 4
    (resp,) = customer.read()
    assert resp.command_status == S.ESME_ROK
    assert [esme.read()[0].command_status for esme in waiting] == [S.ESME_RINVPASWD] * 6
    assert (binder.in_progress, binder.running, binder.queued) == ({}, 0, 0)
    # The refused binds counted toward nothing: the pair counts only the six checked.
    assert store.bind_locks("smsctest", STRANGER).pair.failures == 6


def test_a_freed_place_goes_to_the_address_served_least(store: Store) -> None:
    rig = Rig(store, make_config({"pending_binds": 1, "pending_binds_per_address": 3,
                                  "bind_refusal_delay": "0s"}))
    rig.hasher.hold = True
    order = hashes_of(rig)
    for name in ("b", "c"):
        add_account(store, name, credit=0)
    plan = [("10.0.3.1", "acme")] * 3 + [("10.0.3.2", "b")] * 3 + [("10.0.3.3", "c")]
    conns = []
    for source, system_id in plan:
        esme = rig.connect(source)
        esme.send(pdus.BindTransceiver(system_id=system_id, password=PASSWORD))
        conns.append(esme)
    assert [esme.read() for esme in conns] == [[]] * 7  # one checked, six waiting
    assert rig.service.binder.queued == 6
    # A fourth from 10.0.3.1 is one too many for its address.
    refused = rig.connect("10.0.3.1").bind(system_id="acme", password=PASSWORD)
    assert refused.command_status == S.ESME_RBINDFAIL
    rig.hasher.release()
    # The first place freed goes to an address not yet served (b, then c), then the addresses
    # take turns, whoever got a place longest ago first.
    assert order == ["acme", "b", "c", "acme", "b", "acme", "b"]
    assert [esme.read()[0].command_status for esme in conns] == [S.ESME_ROK] * 7


def test_binds_waiting_in_all_are_bounded(store: Store) -> None:
    rig = Rig(store, make_config({"pending_binds": 2, "queued_binds": 3,
                                  "bind_refusal_delay": "0s"}))
    rig.hasher.hold = True
    conns = [rig.connect(f"10.0.2.{n}") for n in range(8)]
    for esme in conns:
        esme.send(pdus.BindTransceiver(system_id="acme", password=PASSWORD))
    statuses = [[p.command_status for p in esme.read()] for esme in conns]
    assert statuses == [[]] * 5 + [[S.ESME_RBINDFAIL]] * 3
    rig.hasher.release()
    assert [esme.read()[0].command_status for esme in conns[:5]] == [S.ESME_ROK] * 5


def test_a_bind_whose_connection_closed_while_it_waited_is_not_checked(store: Store) -> None:
    rig = Rig(store, make_config({"pending_binds": 1}))
    rig.hasher.hold = True
    hashed = hashes_of(rig)
    add_account(store, "gone", credit=0)
    first, leaving, last = rig.connect("10.0.4.1"), rig.connect("10.0.4.2"), rig.connect("10.0.4.3")
    first.send(pdus.BindTransceiver(system_id="acme", password=PASSWORD))
    leaving.send(pdus.BindTransceiver(system_id="gone", password=PASSWORD))
    last.send(pdus.BindTransceiver(system_id="acme", password=PASSWORD))
    assert rig.service.binder.queued == 2
    leaving.transport.loseConnection()
    rig.turn()
    assert leaving.gone()
    rig.hasher.release()
    assert hashed == ["acme", "acme"]  # the closed connection's bind cost no hash
    assert [first.read()[0].command_status, last.read()[0].command_status] == [S.ESME_ROK] * 2
    binder = rig.service.binder
    assert (binder.in_progress, binder.running, binder.queued) == ({}, 0, 0)


def test_binds_pending_and_refused_for_the_limits_are_counted(store: Store) -> None:
    rig = Rig(store, make_config({"pending_binds": 1, "pending_binds_per_address": 2,
                                  "bind_refusal_delay": "0s"}))
    rig.hasher.hold = True
    for _ in range(3):
        rig.connect(STRANGER).send(pdus.BindTransceiver(system_id="acme", password=PASSWORD))
    binder = rig.service.binder
    assert (binder.running, binder.queued, binder.refused) == (1, 1, 1)
    assert rig.service.bind_refusals[S.ESME_RBINDFAIL] == 1


def test_a_bind_storm_writes_a_few_lines_not_one_per_bind(rig: Rig, log: list[str]) -> None:
    """Unknown system_ids from many addresses (none reaching its lock) and wrong passwords: a
    few lines per cause, then one every few seconds saying how many were left out."""
    for n in range(60):
        rig.connect(f"10.0.2.{n}").bind(system_id=f"ghost{n}")
        rig.connect(f"10.0.3.{n}").bind(password="wrong")
    refused = [line for line in log if "refused" in line]
    assert 2 <= len(refused) <= 2 * 5  # a burst of 5 per cause, all in the same instant
    log.clear()
    rig.advance(6.0)
    rig.connect("10.0.4.1").bind(system_id="ghost")
    (line,) = [line for line in log if "refused" in line]
    assert "similar lines suppressed" in line
    # A line that announces a new lock is written even while the others are held back.
    log.clear()
    for _ in range(3):
        rig.connect("10.0.6.1").bind(password="wrong")
    assert any("now account 'acme' from 10.0.6.1 is locked" in line for line in log), log
    # Another account's wrong password is not held back by the storm against acme.
    log.clear()
    add_account(rig.store, "other")
    rig.connect("10.0.5.1").bind(system_id="other", password="wrong")
    assert [line for line in log if "'other'" in line]
