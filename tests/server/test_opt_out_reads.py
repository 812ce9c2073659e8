"""The opt-out reads of HTTP sends gathered per turn of the event loop (task.Clock, the store
worker inline): one store call for the sends of a turn, each send told its own numbers, and a
store failure told to every one of them; an account with no opt-out answered without the store
until an opt-out may have been added."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from twisted.internet import defer, task
from twisted.python.failure import Failure

from smsc.server.web import opt_out_reads
from smsc.server.web.opt_out_reads import OptOutReads
from smsc.store.memory import MemoryStore
from smsc.store.records import Account
from tests.server.harness import InlineWorker

NOW = 1_000_000.0


def _store() -> MemoryStore:
    store = MemoryStore()
    for name in ("acme", "other"):
        store.create_account(Account(system_id=name, password_hash="x"))
    store.opt_out("acme", "380671000001", NOW)
    store.opt_out("other", "380671000002", NOW)
    return store


def _unexpected(value: object) -> None:
    raise AssertionError(f"unexpected {value!r}")


def test_the_sends_of_one_turn_share_one_store_call() -> None:
    clock, worker = task.Clock(), InlineWorker()
    reads = OptOutReads(clock, worker, _store())
    got: list[set[str]] = []
    for account, numbers in (("acme", ["380671000001", "380671000002"]),
                             ("acme", ["380671000003"]),
                             ("other", ["380671000001", "380671000002"])):
        reads.read(account, numbers, got.append, _unexpected)
    assert got == [] and worker.calls == 0  # waiting for the end of the turn
    clock.advance(0)
    assert worker.calls == 1 and reads.reads == 1
    assert got == [{"380671000001"}, set(), {"380671000002"}]  # each its own list's
    reads.read("acme", ["380671000001"], got.append, _unexpected)
    clock.advance(0)
    assert worker.calls == 2 and got[-1] == {"380671000001"}


def test_a_failing_store_fails_every_send_of_the_turn() -> None:
    store = _store()

    def broken(account: str, numbers: object) -> set[str]:
        raise OSError("disk I/O error")

    store.opted_out = broken  # type: ignore[method-assign]
    clock = task.Clock()
    reads = OptOutReads(clock, InlineWorker(), store)
    errors: list[object] = []

    def failed(failure: Failure) -> None:
        errors.append(type(failure.value))

    for account in ("acme", "other"):
        reads.read(account, ["1"], _unexpected, failed)
    clock.advance(0)
    assert errors == [OSError, OSError]


def test_a_caller_failing_on_its_answer_spares_the_others() -> None:
    clock = task.Clock()
    reads = OptOutReads(clock, InlineWorker(), _store())
    got: list[set[str]] = []

    def broken(opted: set[str]) -> None:
        raise RuntimeError("the caller's own fault")

    reads.read("acme", ["380671000001"], broken, _unexpected)
    reads.read("acme", ["380671000001", "380671000009"], got.append, _unexpected)
    clock.advance(0)
    assert got == [{"380671000001"}]


class _LateWorker(InlineWorker):
    """Runs each call at once but hands its answer back only at :meth:`deliver`: a read done
    on the store thread whose answer is still on its way to the event loop."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[tuple[defer.Deferred[Any], Any]] = []

    def call(self, fn: Callable[..., Any], *args: Any, lane: int = 1,
             **kwargs: Any) -> defer.Deferred[Any]:
        self.calls += 1
        d: defer.Deferred[Any] = defer.Deferred()
        self.answers.append((d, fn(*args, **kwargs)))
        return d

    def deliver(self) -> None:
        answers, self.answers = self.answers, []
        for d, value in answers:
            d.callback(value)


def _clean(worker: InlineWorker) -> tuple[MemoryStore, task.Clock, OptOutReads]:
    """The store with an account "clean" that has no opt-out, a clock, and reads over them."""
    store = _store()
    store.create_account(Account(system_id="clean", password_hash="x"))
    clock = task.Clock()
    return store, clock, OptOutReads(clock, worker, store)


def test_an_account_without_opt_outs_is_answered_without_the_store_until_forgotten() -> None:
    worker = InlineWorker()
    store, clock, reads = _clean(worker)
    got: list[set[str]] = []
    reads.read("clean", ["380671000001"], got.append, _unexpected)
    clock.advance(0)
    assert worker.calls == 1 and got == [set()]  # read once: it has no opt-out at all
    for _ in range(3):
        reads.read("clean", ["380671000001"], got.append, _unexpected)
    assert worker.calls == 1 and got == [set()] * 4  # then answered at once, no store call
    store.opt_out("clean", "380671000001", NOW)
    reads.forget()  # what the server does when it adds one, or the change counter moves
    reads.read("clean", ["380671000001", "380671000003"], got.append, _unexpected)
    assert got[-1] == set() and len(got) == 4  # to the store again
    clock.advance(0)
    assert worker.calls == 2 and got[-1] == {"380671000001"}
    reads.read("clean", ["380671000003"], got.append, _unexpected)
    clock.advance(0)
    assert worker.calls == 3 and got[-1] == set()  # it has one now: every send reads


def test_an_account_with_opt_outs_is_read_every_time() -> None:
    clock, worker = task.Clock(), InlineWorker()
    reads = OptOutReads(clock, worker, _store())
    got: list[set[str]] = []
    for n in range(1, 4):
        reads.read("acme", ["380671000009"], got.append, _unexpected)
        clock.advance(0)
        assert worker.calls == n
    assert got == [set()] * 3


def test_a_read_on_its_way_while_an_opt_out_is_added_is_not_remembered() -> None:
    worker = _LateWorker()
    store, clock, reads = _clean(worker)
    got: list[set[str]] = []
    reads.read("clean", ["380671000001"], got.append, _unexpected)
    clock.advance(0)  # read on the store thread: no opt-out yet
    store.opt_out("clean", "380671000001", NOW)
    reads.forget()
    worker.deliver()
    assert got == [set()]  # true when it was read
    reads.read("clean", ["380671000001"], got.append, _unexpected)
    clock.advance(0)
    worker.deliver()
    assert worker.calls == 2 and got[-1] == {"380671000001"}  # read again, not remembered


def test_accounts_remembered_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(opt_out_reads, "MAX_KNOWN", 2)
    store = MemoryStore()
    for n in range(3):
        store.create_account(Account(system_id=f"a{n}", password_hash="x"))
    clock, worker = task.Clock(), InlineWorker()
    reads = OptOutReads(clock, worker, store)
    got: list[set[str]] = []
    for _ in range(2):
        for n in range(3):
            reads.read(f"a{n}", ["380671000001"], got.append, _unexpected)
        clock.advance(0)
    assert worker.calls == 2 and got == [set()] * 6  # a2 read both times: not remembered
    reads.read("a2", ["380671000001"], got.append, _unexpected)
    assert len(got) == 6  # still waits for the store
