"""The operator queues' rounds: a timer asks the core for the parts due (on the store thread);
what became final leaves the queue depths, and receipts go to the courier."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sized
from typing import Any

from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure

from smsc.config.server import ServerSettings
from smsc.core.centre import DueRound, SmscCore
from smsc.core.optout import OptOutChange
from smsc.server.delivery import OutboxCourier
from smsc.server.storehealth import StoreHealth
from smsc.server.worker import StoreWorker
from smsc.store.records import Account

SHORT_ROUND = 64  # parts per queue round while submits wait for their commit


class QueueRounds:
    """The due loop, one round at a time; owns the count of parts final by operator.
    ``bound`` is the registry of binds (rounds stay short while it is not empty)."""

    def __init__(self, clock: IReactorTime, settings: ServerSettings, core: SmscCore,
                 worker: StoreWorker, courier: OutboxCourier, health: StoreHealth,
                 bound: Sized) -> None:
        self.clock = clock
        self.settings = settings  # swapped by a config reload
        self.core = core
        self.worker = worker
        self.courier = courier
        self.health = health
        self.bound = bound
        self.finals: Counter[str] = Counter()  # parts final, by operator, for the metrics
        self._due_call: Any = None
        self.stopping = False  # set when the service stops: no more timers
        # Who submits the confirmations of opt-out words handsets replied (set by the service).
        self.on_opt_outs: Callable[[list[tuple[Account | None, OptOutChange]]], None] | None = None

    def stop(self) -> None:
        """No more rounds: the next is cancelled (``stopping`` is set first)."""
        self.stopping = True
        if self._due_call is not None and self._due_call.active():
            self._due_call.cancel()

    def left_queues(self, finals: dict[str, int]) -> None:
        self.core.queue_depths.left(finals)
        self.finals.update(finals)

    def schedule(self, delay: float) -> None:
        if self.stopping:
            return
        self._due_call = self.clock.callLater(delay, self._run_due)

    def wake(self) -> None:
        """New parts may be due (another node's hint): the next round now, unless one runs
        (its end schedules the next)."""
        call = self._due_call
        if call is not None and call.active() and not self.stopping:
            call.reset(0.0)

    def _run_due(self) -> None:
        self._due_call = None
        # While customers are bound, rounds stay short so their commits get the store thread
        # often (a round holds it for as long as it takes); otherwise a round takes a full
        # batch (a backlog drains fastest that way).
        limit = SHORT_ROUND if len(self.bound) else None
        d = self.worker.call(self.core.due_round, self.clock.seconds(), limit)
        d.addCallbacks(self._due_done, self._due_failed)

    def _due_done(self, result: DueRound) -> None:
        self.left_queues(result.finals)
        if result.items:
            self.courier.offer(result.items)
        if result.opt_outs and self.on_opt_outs is not None:
            self.on_opt_outs(result.opt_outs)
        self.schedule(0.0 if result.full else self.settings.due_interval)

    def _due_failed(self, failure: Failure) -> None:
        self.health.failed("an operator queue round", failure)
        self.schedule(1.0)


__all__ = ["SHORT_ROUND", "QueueRounds"]
