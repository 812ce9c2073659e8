"""The group committer: where a commit runs and how its submits are answered."""

from __future__ import annotations

from collections.abc import Sequence

from twisted.internet.task import Clock

from smsc.core.centre import Committed
from smsc.server.committer import GroupCommitter
from smsc.server.storehealth import StoreHealth
from smsc.store.records import AcceptOutcome, NewMessage
from tests.server.harness import InlineWorker

DELAY = 0.002


class FakeCore:
    """Commits by answering every group with ROK; remembers the batches it saw."""

    def __init__(self) -> None:
        self.batches: list[int] = []
        self.fail = False

    def commit(self, parts: Sequence[NewMessage], now: float) -> Committed:
        if self.fail:
            raise RuntimeError("disk full")
        self.batches.append(len(parts))
        return Committed(outcomes=[AcceptOutcome(message_id=i, status=0)
                                   for i in range(len(parts))])


def part() -> NewMessage:
    return NewMessage(message_id=1, account="acme", credit_owner="acme", source_addr_ton=5,
                      source_addr_npi=0, source_addr="Shop", dest_addr_ton=1, dest_addr_npi=1,
                      destination_addr="380501234567", esm_class=0, data_coding=0,
                      registered_delivery=1, short_message=b"hi", operator="op", route="ua",
                      price=1, submitted_at=0.0, expires_at=60.0, next_at=0.0)


def rig() -> tuple[Clock, InlineWorker, FakeCore, GroupCommitter,
                  list[list[AcceptOutcome] | None]]:
    clock = Clock()
    worker = InlineWorker()
    core = FakeCore()
    answers: list[list[AcceptOutcome] | None] = []
    committer = GroupCommitter(clock, worker, core.commit, delay=DELAY,
                               health=StoreHealth(clock))
    return clock, worker, core, committer, answers


def test_even_a_one_part_commit_with_the_store_idle_goes_to_the_store_thread() -> None:
    # A commit can wait for SQLite's lock or the disk: never on the event loop.
    clock, worker, core, committer, answers = rig()
    worker.hold = True  # the store thread has not run it yet
    committer.add([part()], 1, answers.append)
    clock.advance(DELAY)
    assert core.batches == [] and answers == [] and worker.calls == 1
    worker.release()
    assert core.batches == [1]
    assert answers == [[AcceptOutcome(message_id=0, status=0)]]


def test_a_big_commit_goes_to_the_store_thread() -> None:
    clock, worker, core, committer, answers = rig()
    committer.add([part()] * 5, 5, answers.append)
    clock.advance(DELAY)
    assert (core.batches, worker.calls, len(answers)) == ([5], 1, 1)


def test_with_the_store_busy_a_small_commit_queues_behind_its_work() -> None:
    clock, worker, core, committer, answers = rig()
    worker.hold = True
    worker.call(lambda: None)  # a queue round, say, still running
    committer.add([part()], 1, answers.append)
    clock.advance(DELAY)
    assert core.batches == [] and answers == []
    worker.release()
    assert core.batches == [1] and len(answers) == 1


def test_a_failed_commit_answers_none_and_the_next_goes_on() -> None:
    clock, _worker, core, committer, answers = rig()
    core.fail = True
    committer.add([part()], 1, answers.append)
    clock.advance(DELAY)
    assert answers == [None]
    assert committer.health is not None and committer.health.failing
    core.fail = False
    committer.add([part()], 1, answers.append)
    clock.advance(DELAY)
    assert core.batches == [1] and answers[1] is not None
    assert committer.health.recoveries == 1  # the store recovered


def test_a_commit_of_its_own_runs_alone_in_turn_with_the_batches() -> None:
    clock, worker, core, committer, answers = rig()
    own: list[int] = []

    def alone(parts: Sequence[NewMessage], now: float) -> Committed:
        own.append(len(parts))
        return Committed(outcomes=[AcceptOutcome(message_id=9, status=0)])

    worker.hold = True  # a batch is committing
    committer.add([part()], 1, answers.append)
    clock.advance(DELAY)
    committer.add_alone([part(), part()], 1, answers.append, alone)
    committer.add([part()], 1, answers.append)
    committer.add([part()], 1, answers.append)
    assert committer.queued == 4
    worker.release()  # the first batch, then the one of its own, then the next batch
    clock.advance(DELAY)
    assert core.batches == [1, 2] and own == [2]
    assert [len(a or []) for a in answers] == [1, 1, 1, 1]
    assert answers[1] == [AcceptOutcome(message_id=9, status=0)]  # before the second batch
    assert committer.queued == 0 and committer.commits == 3
