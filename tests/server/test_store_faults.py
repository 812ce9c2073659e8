"""A failing store heals by itself: submits are refused (never acknowledged) while it fails and
served again once it works, without a restart; faults are logged at a bounded rate. And a config
reload switches routing and operators at the same moment."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from twisted.logger import LogLevel, globalLogPublisher

from smsc.config.loader import config_from_tables
from smsc.core.ids import IdBlock
from smsc.pdu import pdus
from smsc.pdu.constants import CommandStatus
from smsc.server import run as server_run
from smsc.server.observed import service_metrics
from smsc.store.records import MessageFilter
from smsc.store.sqlite import SqliteStore
from tests.server.harness import (
    COMMIT_DELAY,
    DESTINATION,
    OPERATOR_DELAY,
    Rig,
    add_account,
    base_tables,
    make_config,
    submit_sm,
)

S = CommandStatus
BLOCK = 8  # ids per block: a handful of refused submits spend it
_WRITES = frozenset({"accept", "reserve_ids", "apply", "ack_outbox", "add_outbox",
                     "expire_outbox", "bind_failed", "bind_succeeded", "take_due"})


class FullDisk:
    """A SQLite store whose writes fail like a full disk while ``full`` is set."""

    def __init__(self, store: SqliteStore) -> None:
        self.inner = store
        self.full = False
        self.refused = 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name not in _WRITES:
            return attr

        def write(*args: Any, **kwargs: Any) -> Any:
            if self.full:
                self.refused += 1
                raise sqlite3.OperationalError("database or disk is full")
            return attr(*args, **kwargs)

        return write


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_run, "IdBlock", lambda: IdBlock(block_size=BLOCK))


@pytest.fixture
def store_log() -> Iterator[list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []

    def keep(event: dict[str, Any]) -> None:
        if event.get("log_namespace") == "smsc.server.storehealth":
            events.append(event)

    globalLogPublisher.addObserver(keep)  # type: ignore[arg-type]
    yield events
    globalLogPublisher.removeObserver(keep)  # type: ignore[arg-type]


def metric(rig: Rig, name: str) -> float:
    (found,) = [m for m in service_metrics(rig.service) if m.name == name]
    return found.samples[0][1]


def submit_status(rig: Rig, esme: Any) -> int:
    sent = esme.submit()
    rig.advance(COMMIT_DELAY)
    (resp,) = [p for p in esme.read() if p.sequence_number == sent.sequence_number]
    return int(resp.command_status)


def test_a_full_disk_refuses_submits_and_service_returns_by_itself(
        tmp_path: Path, small_blocks: None, store_log: list[dict[str, Any]]) -> None:
    disk = FullDisk(SqliteStore(tmp_path / "smsc.sqlite"))
    add_account(disk.inner)
    rig = Rig(disk)
    esme = rig.bound()
    assert submit_status(rig, esme) == 0

    disk.full = True
    # Far more submits than the id block holds, over 30 s: every one is refused, none
    # acknowledged; the id block runs dry and its refill fails too.
    statuses = []
    for _ in range(6 * BLOCK):
        statuses.append(submit_status(rig, esme))
        rig.advance(0.6)
    assert set(statuses) == {S.ESME_RSYSERR}
    assert rig.service.ids.remaining == 0
    assert metric(rig, "smsc_store_failing") == 1
    assert metric(rig, "smsc_store_failures_total") >= len(statuses)

    # The space comes back: within a few seconds, with no submit to trigger anything, the id
    # block is refilled, and submits are accepted again.
    disk.full = False
    rig.advance(3.0)
    assert rig.service.ids.remaining > 0
    assert submit_status(rig, esme) == 0
    assert len(list(disk.inner.messages(MessageFilter()))) == 2
    assert metric(rig, "smsc_store_failing") == 0

    # Logged: the first failure with its traceback, a summary per 10 s, one recovery line;
    # not a line per failed call.
    assert disk.refused > 3 * BLOCK
    failures = [e for e in store_log if e.get("log_failure") is not None]
    summaries = [e for e in store_log if "still failing" in e.get("log_format", "")]
    recovered = [e for e in store_log if "recovered" in e.get("log_format", "")]
    assert len(failures) == 1
    assert 1 <= len(summaries) <= 3
    assert len(recovered) == 1 and recovered[0]["log_level"] == LogLevel.info


def test_real_sqlite_full_refuses_the_commit_and_the_next_one_works(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "smsc.sqlite")
    add_account(store)
    rig = Rig(store)
    esme = rig.bound()
    assert submit_status(rig, esme) == 0
    with store._lock:  # the file may not grow: SQLITE_FULL on the next page wanted
        (pages,) = store._conn.execute("PRAGMA page_count").fetchone()
        store._conn.execute(f"PRAGMA max_page_count = {pages}")
    statuses = [submit_status(rig, esme) for _ in range(300)]
    assert set(statuses) == {0, S.ESME_RSYSERR}  # the last pages fill up, then nothing fits
    first_refusal = statuses.index(S.ESME_RSYSERR)
    assert set(statuses[first_refusal:]) == {S.ESME_RSYSERR}
    assert rig.service.health.failing
    with store._lock:
        store._conn.execute("PRAGMA max_page_count = 1073741823")
    assert submit_status(rig, esme) == 0
    assert rig.service.health.recoveries == 1  # and it is no longer failing
    # Every acknowledged message is stored; no refused one is.
    assert len(list(store.messages(MessageFilter()))) == 2 + first_refusal


def test_a_reload_switches_routing_and_operators_together(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "smsc.sqlite")
    add_account(store)
    rig = Rig(store)
    esme = rig.bound()
    assert submit_status(rig, esme) == 0  # one message waits in op's queue (depth 1)

    # The new config sends 380 to a new operator op2, and gives op a queue of one message:
    # under either config alone a submit to 380 is accepted.
    tables = base_tables()
    tables["operators"]["op"]["queue_limit"] = 1
    tables["operators"]["op2"] = dict(tables["operators"]["op"], queue_limit=1000)
    tables["routes"] = [{"name": "ua", "prefix": "380", "operators": ["op2"], "price": "0.01"}]
    new = config_from_tables(tables)
    rig.service.reloader.read = lambda: new
    rig.worker.hold = True  # the store thread is busy: the reload's store part waits
    assert rig.service.reload("test")
    sent = esme.submit()  # routed and checked while the reload is under way
    refused_at_once = [p for p in esme.read() if p.sequence_number == sent.sequence_number]
    assert refused_at_once == []  # not refused by new operators on old routes
    rig.worker.release()
    rig.advance(COMMIT_DELAY)
    (resp,) = [p for p in esme.read() if p.sequence_number == sent.sequence_number]
    assert resp.command_status == 0
    assert submit_status(rig, esme) == 0  # the new routes: op2
    operators = [m.operator for m in store.messages(MessageFilter())]
    assert sorted(operators) == ["op", "op", "op2"]
    assert DESTINATION.startswith("380")


def test_an_answered_receipt_holds_its_window_slot_until_its_removal_is_committed(
        tmp_path: Path) -> None:
    # What a crash can send twice is what was sent and not yet removed: never more than the
    # receipt window per receiver.
    store = SqliteStore(tmp_path / "smsc.sqlite")
    add_account(store)
    rig = Rig(store, make_config({"receipt_window": 2}))
    sender = rig.bound(pdus.BindTransmitter)
    receiver = rig.bound(pdus.BindReceiver)
    sender.send(*(submit_sm() for _ in range(4)))
    rig.advance(OPERATOR_DELAY + 1.0)
    got = receiver.deliveries()
    assert len(got) == 2
    rig.worker.hold = True  # the store thread is busy: the removals wait
    for pdu in got:
        receiver.answer(pdu)
    rig.advance(0.1)
    assert receiver.deliveries() == []  # answered, not yet removed: the window is still full
    assert store.outbox_count("acme") == 4
    rig.worker.release()
    rig.advance(0.1)
    assert store.outbox_count("acme") == 2
    assert len(receiver.deliveries()) == 2


def test_removals_the_store_refused_are_retried_and_keep_the_window(tmp_path: Path) -> None:
    disk = FullDisk(SqliteStore(tmp_path / "smsc.sqlite"))
    add_account(disk.inner)
    rig = Rig(disk, make_config({"receipt_window": 2}))
    sender = rig.bound(pdus.BindTransmitter)
    receiver = rig.bound(pdus.BindReceiver)
    sender.send(*(submit_sm() for _ in range(4)))
    rig.advance(OPERATOR_DELAY + 1.0)
    got = receiver.deliveries()
    assert len(got) == 2
    disk.full = True
    for pdu in got:
        receiver.answer(pdu)
    rig.advance(3.0)
    assert receiver.deliveries() == []
    assert disk.inner.outbox_count("acme") == 4
    disk.full = False
    rig.advance(1.5)
    assert disk.inner.outbox_count("acme") == 2
    assert len(receiver.deliveries()) == 2
