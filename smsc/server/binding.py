"""Binds in progress: the password hash in a pool of its own, and a bound on unauthenticated
binds so that binding in a loop is no lever against other customers.

A bind takes four steps (see smsc.core.binds): the account and its locks on the store thread, the
password hash (scrypt, milliseconds of CPU) in :class:`HashPool`, the verdict (failures
counted) on the store thread again, and back on the event loop, where the binds open are
counted, the account's max_binds (:func:`smsc.core.binds.admit`). The store thread, which every
submit's commit waits for, never hashes.

At most ``total`` binds are checked at once. A bind that finds no free place waits; a freed place
goes to the waiting address with the fewest binds being checked, the one served least recently
among equals, so a bind from a quiet address takes the next free place however many binds busy
addresses send, and busy addresses take turns. An address may have at most ``per_address``
binds checked or waiting, and at most ``queue`` binds wait in all: past either, a bind is
refused with ESME_RBINDFAIL (no hash, no store call, no count toward any lock: the client may
try again), answered after ``refusal_delay`` so that a peer binding in a loop is slowed down
instead of keeping the event loop busy with refusals.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from twisted.internet import defer, threads
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.threadpool import ThreadPool

from smsc.core.binds import BindDesk, BindVerdict, admit, canonical_address
from smsc.core.verified_logins import VerifiedLogins
from smsc.pdu.constants import CommandStatus
from smsc.routing.accounts import password_matches
from smsc.server.affinity import everywhere
from smsc.store.records import BindType

T = TypeVar("T")
_log = Logger()
REFUSAL_LOG_INTERVAL = 10.0  # seconds between log lines about binds refused for the limits


class Runner(Protocol):
    """Runs calls somewhere else and hands their results back as Deferreds."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def call(self, fn: Callable[..., T], *args: Any) -> defer.Deferred[T]: ...


class HashPool:
    """A small thread pool of its own for password hashes (hashlib.scrypt releases the GIL)."""

    def __init__(self, reactor: Any, threads: int = 2, name: str = "smsc-hash") -> None:
        self._reactor = reactor
        self._pool = ThreadPool(minthreads=0, maxthreads=threads, name=name)

    def start(self) -> None:
        self._pool.start()

    def stop(self) -> None:
        """Finish the hashes under way and stop the threads (blocks until done)."""
        self._pool.stop()

    def call(self, fn: Callable[..., T], *args: Any) -> defer.Deferred[T]:
        """``fn(*args)`` on a hash thread (on every CPU, even when ``pin_cpu`` keeps the
        server's other threads on one: smsc.server.affinity)."""
        return threads.deferToThreadPool(self._reactor, self._pool, everywhere(fn), *args)


class BindDispatcher:
    """Runs the steps of each bind on the store thread and the hash pool, within the limits."""

    def __init__(self, clock: IReactorTime, worker: Runner, hasher: Runner,
                 desk: Callable[[], BindDesk], *, open_binds: Callable[[str], int],
                 total: int, per_address: int, queue: int, refusal_delay: float = 0.0) -> None:
        self._clock = clock
        self._worker = worker
        self._hasher = hasher
        self._desk = desk
        self._open_binds = open_binds  # an account's binds open now (event loop)
        self.total = total
        self.per_address = per_address
        self.queue = queue
        self.refusal_delay = refusal_delay
        self.in_progress: dict[str, int] = {}  # address -> binds checked or waiting (no zeros)
        self.running = 0  # binds being checked
        self.queued = 0  # binds waiting for a place
        self._waiting: dict[str, deque[Callable[[], None]]] = {}  # address -> binds, oldest first
        # Per address with binds in progress: how many are being checked, and when (a serial
        # number) it last got a place.
        self._running_at: dict[str, int] = {}
        self._served_at: dict[str, int] = {}
        self._serial = 0
        self.refused = 0  # binds refused for the limits, since the start
        self._unlogged = 0
        self._logged_at = float("-inf")

    def authenticate(self, system_id: str, password: str, bind_type: BindType, address: str,
                     alive: Callable[[], bool] = lambda: True, *,
                     opens_bind: bool = True,
                     verified: VerifiedLogins | None = None) -> defer.Deferred[BindVerdict]:
        """The verdict on a bind. ``alive`` tells whether its connection is still open: a bind
        whose connection closed while it waited is dropped unchecked. The verdict has counted
        the account's binds open (``open_binds``) just before it fires: a caller registering an
        admitted bind in its callback keeps the count exact. ``opens_bind`` False: a login that
        opens no bind (a Kannel-style sendsms request), checked and counted alike but not held
        to the account's max_binds. ``verified``: logins that matched recently need no hash
        (a login sent with every request); a match is remembered there."""
        address = canonical_address(address)
        held = self.in_progress.get(address, 0)
        if held >= self.per_address:
            return defer.succeed(self._refuse(
                address, f"{held} binds from {address} in progress "
                         "(server.pending_binds_per_address)"))
        full = self.running >= self.total
        if full and self.queued >= self.queue:
            return defer.succeed(self._refuse(
                address, f"{self.queued} binds waiting (server.queued_binds)"))
        self.in_progress[address] = held + 1
        verdict: defer.Deferred[BindVerdict] = defer.Deferred()

        def start() -> None:
            if not alive():
                self._forget(address)
                verdict.callback(BindVerdict(status=CommandStatus.ESME_RBINDFAIL, logged=True,
                                             reason="the connection closed while its bind waited"))
                return
            self.running += 1
            self._running_at[address] = self._running_at.get(address, 0) + 1
            self._serial += 1
            self._served_at[address] = self._serial
            steps = defer.ensureDeferred(self._steps(system_id, password, bind_type, address,
                                                     verified))
            steps.chainDeferred(verdict)

        if opens_bind:
            verdict.addCallback(self._admit)
        if full:
            self._waiting.setdefault(address, deque()).append(start)
            self.queued += 1
        else:
            start()
        return verdict

    def _admit(self, verdict: BindVerdict) -> BindVerdict:
        account = verdict.account
        if account is None:
            return verdict
        return admit(verdict, self._open_binds(account.system_id))

    async def _steps(self, system_id: str, password: str, bind_type: BindType,
                     address: str, verified: VerifiedLogins | None = None) -> BindVerdict:
        desk = self._desk()
        clock = self._clock
        try:
            check = await self._worker.call(desk.check, system_id, address, clock.seconds())
            if check.refused is not None:
                return check.refused
            if verified is not None and verified.holds(check.account, password,
                                                       clock.seconds()):
                ok = True
            else:
                ok = await self._hasher.call(password_matches, check.account, password)
                if ok and verified is not None and check.account is not None:
                    verified.remember(check.account, password, clock.seconds())
            return await self._worker.call(desk.finish, check, ok, bind_type, clock.seconds())
        finally:
            self._done(address)

    def _done(self, address: str) -> None:
        self.running -= 1
        running = self._running_at[address] - 1
        if running:
            self._running_at[address] = running
        else:
            del self._running_at[address]
        self._forget(address)
        while self._waiting and self.running < self.total:
            running_at, served_at = self._running_at, self._served_at
            turn = min(self._waiting,
                       key=lambda a: (running_at.get(a, 0), served_at.get(a, 0)))
            waiting = self._waiting[turn]
            start = waiting.popleft()
            if not waiting:
                del self._waiting[turn]
            self.queued -= 1
            start()

    def _forget(self, address: str) -> None:
        """One bind of ``address`` is over (checked, or dropped unchecked)."""
        left = self.in_progress[address] - 1
        if left:
            self.in_progress[address] = left
        else:
            del self.in_progress[address]
            self._served_at.pop(address, None)

    def _refuse(self, address: str, why: str) -> BindVerdict:
        self.refused += 1
        self._unlogged += 1
        now = self._clock.seconds()
        if now - self._logged_at >= REFUSAL_LOG_INTERVAL:
            _log.info("{n} bind(s) refused with ESME_RBINDFAIL since the last such line, the "
                      "latest from {address}: {why}", n=self._unlogged, address=address, why=why)
            self._logged_at = now
            self._unlogged = 0
        return BindVerdict(status=CommandStatus.ESME_RBINDFAIL, reason=why, logged=True,
                           delay=self.refusal_delay)


__all__ = ["BindDispatcher", "HashPool", "Runner"]
