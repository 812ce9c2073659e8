"""Periodic work: connection timers every half second; every second the outbox scan (and the
webhooks' claim), the config files' check and the store's change counter (accounts, outbind
targets, routing data edited by the CLI); the outbinds every 5 s; every minute expiry and the
queue depths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsc.core.centre import SmscCore
from smsc.server.connections import Connections
from smsc.server.delivery import OutboxCourier
from smsc.server.lograte import LogLimiter, suppressed_note
from smsc.server.outbind import Outbinder
from smsc.server.reload import ConfigReload
from smsc.server.sessions import BoundSessions
from smsc.server.storehealth import StoreHealth
from smsc.server.worker import StoreWorker
from smsc.store.base import Store

_log = Logger()


class Upkeep:
    """The timers of the running service; owns them and the last change counter seen."""

    def __init__(self, clock: IReactorTime, store: Store, core: SmscCore, worker: StoreWorker,
                 courier: OutboxCourier, outbinder: Outbinder, connections: Connections,
                 sessions: BoundSessions, reloader: ConfigReload, health: StoreHealth,
                 logs: LogLimiter) -> None:
        self.clock = clock
        self.store = store
        self.core = core
        self.worker = worker
        self.courier = courier
        self.outbinder = outbinder
        self.connections = connections
        self.sessions = sessions
        self.reloader = reloader
        self.health = health
        self.logs = logs
        self.change_counter = -1
        self._loops: list[LoopingCall] = []
        self.rescans: list[Callable[[], None]] = []  # more every-second pulls (webhooks)
        self.changed: list[Callable[[], None]] = []  # told when the change counter moves

    def start(self) -> None:
        for interval, fn in ((0.5, self.connections.housekeeping), (1.0, self._every_second),
                             (5.0, self.outbinder.check), (60.0, self._every_minute)):
            loop = LoopingCall(fn)
            loop.clock = self.clock
            loop.start(interval, now=False).addErrback(self._periodic_failed)
            self._loops.append(loop)

    def stop(self) -> None:
        for loop in self._loops:
            if loop.running:
                loop.stop()

    def _periodic_failed(self, failure: Failure) -> None:
        self._log_failure("loop", "a periodic task failed", failure)

    def _log_failure(self, cause: str, fmt: str, failure: Failure, **fields: Any) -> None:
        """A traceback, at most a few per cause in a burst, then one every few seconds."""
        left_out = self.logs.allow(cause, self.clock.seconds())
        if left_out is not None:
            _log.failure(fmt + "{suppressed}", failure, suppressed=suppressed_note(left_out),
                         **fields)

    def _loop_failed(self, failure: Failure) -> None:
        """A routine store call failed (logged at a bounded rate; the next round tries again)."""
        self.health.failed("a routine store call", failure)

    def _every_second(self) -> None:
        self.courier.pull(rescan=True)
        for rescan in self.rescans:
            rescan()
        self.reloader.poll()
        self.check_changes()

    def check_changes(self) -> None:
        """Read the store's change counter; accounts, outbind targets and routing data are
        read again when it moved (every second, and at once on another node's hint)."""
        d = self.worker.call(self.store.change_counter)
        d.addCallback(self._changes_seen)
        d.addErrback(self._loop_failed)

    def _changes_seen(self, counter: int) -> None:
        if counter == self.change_counter:
            return
        self.change_counter = counter
        for told in self.changed:
            told()
        self.reloader.rebuild_routes()
        outbind = self.worker.call(self.outbinder.load_targets)
        outbind.addCallback(self.outbinder.use_targets)
        outbind.addErrback(self._loop_failed)
        accounts = list(self.sessions.by_account)
        store = self.store
        d = self.worker.call(lambda: {a: store.get_account(a) for a in accounts})
        d.addCallback(self.sessions.accounts_reloaded)
        d.addErrback(self._loop_failed)

    def _every_minute(self) -> None:
        now = self.clock.seconds()
        self.core.intake.expire_sets(now)
        d = self.worker.call(self.store.expire_outbox, now)
        d.addErrback(self._loop_failed)
        purged = self.worker.call(self.core.binds.purge, now)
        purged.addErrback(self._loop_failed)
        d2 = self.worker.call(self.store.queue_depths)
        d2.addCallback(self._depths_reloaded)
        d2.addErrback(self._loop_failed)

    def _depths_reloaded(self, depths: dict[str, int]) -> None:
        self.core.queue_depths.reload(depths)


__all__ = ["Upkeep"]
