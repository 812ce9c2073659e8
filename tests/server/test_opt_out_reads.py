"""The opt-out reads of HTTP sends gathered per turn of the event loop (task.Clock, the store
worker inline): one store call for the sends of a turn, each send told its own numbers, and a
store failure told to every one of them."""

from __future__ import annotations

from twisted.internet import task
from twisted.python.failure import Failure

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
