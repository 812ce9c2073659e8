"""Group commit: accepted parts wait a moment for company, are committed together, and every
waiting submit is answered after the commit.

At most one commit runs at a time, on the store thread. While it runs, new parts gather; when
it ends they go in the next commit at once. When the store is idle, a commit waits ``delay``
seconds (a few ms) to collect what the same read brought in. So batches grow with the load and
latency stays low when there is little of it. Every commit runs on the store thread, however
small: a commit can wait for SQLite's write lock (another process writing) or for the disk, and
the event loop must never wait (every other bind's PDUs would wait with it).

A caller whose parts must share a transaction with writes of its own (a campaign's step: its
contacts' marks and cursor with its messages, smsc.server.campaigns) gives its own commit
function (:meth:`GroupCommitter.add_alone`): that commit runs alone, in turn with the batches
(one batch, then one such commit, when both wait), through the same store lane, answers and
``after``.

Failures go to ``health`` (a :class:`~smsc.server.storehealth.StoreHealth`), which logs them at
a bounded rate; each waiting submit is answered None (the service answers ESME_RSYSERR) and the
next commit is tried as usual, so service comes back with the store.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsc.core.centre import Committed
from smsc.server.storehealth import StoreHealth
from smsc.server.worker import StoreWorker
from smsc.store.records import AcceptOutcome, NewMessage

Answer = Callable[[list[AcceptOutcome] | None], None]
Commit = Callable[[Sequence[NewMessage], float], Committed]

_log = Logger()


class GroupCommitter:
    def __init__(self, reactor: IReactorTime, worker: StoreWorker, commit: Commit, *,
                 delay: float = 0.002, max_batch: int = 1000,
                 after: Callable[[Committed], None] | None = None,
                 health: StoreHealth | None = None) -> None:
        self._reactor = reactor
        self._worker = worker
        self._commit = commit
        self._after = after  # called once every submit of a commit has been answered
        self.health = health
        self.delay = delay
        self.max_batch = max_batch
        self._parts: list[NewMessage] = []
        self._waiting: list[tuple[int, Answer]] = []  # (number of groups, answer)
        self._timer: IDelayedCall | None = None
        self._running = False
        # Commits that run alone: (parts, groups, answer, commit), in the order added.
        self._alone: deque[tuple[Sequence[NewMessage], int, Answer, Commit]] = deque()
        self._last_alone = False  # whether the last commit ran alone: turns alternate
        self.commits = 0
        self.batch_commits = 0  # commits of batches (those of their own aside)
        self.committed_parts = 0

    @property
    def queued(self) -> int:
        """Parts waiting for a commit (a commit of its own with no parts counts as one)."""
        return len(self._parts) + sum(max(1, len(parts)) for parts, *_ in self._alone)

    @property
    def running(self) -> bool:
        return self._running

    def add(self, parts: Sequence[NewMessage], groups: int, answer: Answer) -> None:
        """Queue parts forming ``groups`` (message, destination) groups; ``answer`` gets their
        outcomes in order, or None if the commit failed."""
        self._parts.extend(parts)
        self._waiting.append((groups, answer))
        if self._running:
            return
        if len(self._parts) >= self.max_batch:
            self._flush()
        elif self._timer is None:
            self._timer = self._reactor.callLater(self.delay, self._flush)

    def add_alone(self, parts: Sequence[NewMessage], groups: int, answer: Answer,
                  commit: Commit) -> None:
        """Parts committed by ``commit`` (store thread) in a commit of their own, which may
        write more in its transaction; answered like :meth:`add`."""
        self._alone.append((parts, groups, answer, commit))
        if not self._running and self._timer is None:
            self._timer = self._reactor.callLater(0, self._flush)

    def _flush(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        if self._running or not (self._waiting or self._alone):
            return
        commit = self._commit
        if self._alone and (not self._waiting or not self._last_alone):
            parts, groups, answer, commit = self._alone.popleft()
            waiting = [(groups, answer)]
            self._last_alone = True
        else:
            parts, self._parts = self._parts, []
            waiting, self._waiting = self._waiting, []
            self._last_alone = False
            self.batch_commits += 1
        self._running = True
        d = self._worker.urgent(commit, parts, self._reactor.seconds())
        d.addCallbacks(self._done, self._failed, callbackArgs=(waiting, len(parts)),
                       errbackArgs=(waiting,))

    def _done(self, committed: Committed, waiting: list[tuple[int, Answer]],
              parts: int) -> None:
        self._running = False
        self.commits += 1
        self.committed_parts += parts
        if self.health is not None:
            self.health.ok()
        outcomes = committed.outcomes
        position = 0
        for groups, answer in waiting:
            answer(outcomes[position:position + groups])
            position += groups
        if self._after is not None:
            self._after(committed)
        if self._waiting or self._alone:
            self._flush()

    def _failed(self, failure: Failure, waiting: list[tuple[int, Answer]]) -> Any:
        self._running = False
        if self.health is not None:
            self.health.failed("group commit (submits answered ESME_RSYSERR)", failure)
        else:
            _log.failure("group commit failed; answering ESME_RSYSERR", failure)
        for _, answer in waiting:
            answer(None)
        if self._waiting or self._alone:
            self._timer = self._reactor.callLater(self.delay, self._flush)
        return None

    def flush_now(self) -> None:
        """Commit what is queued without waiting (shutdown)."""
        if not self._running:
            self._flush()
