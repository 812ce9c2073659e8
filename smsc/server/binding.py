"""Binds in progress: the password hash in a pool of its own, and a bound on unauthenticated
binds so that binding in a loop is no lever against other customers.

A bind takes three steps (see smsc.binds): the account and its locks on the store thread, the
password hash (scrypt, milliseconds of CPU) in :class:`HashPool`, the verdict (failures
counted) on the store thread again. The store thread, which every submit's commit waits for,
never hashes.

At most ``total`` binds are in progress at once, and at most ``per_address`` from one address;
a bind past either limit is refused at once with ESME_RBINDFAIL (it costs no hash and no store
call, and counts toward no lock: the client may try again). So one address binding in a loop
holds at most ``per_address`` places, and a bind from elsewhere still finds room.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from twisted.internet import defer, threads
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.threadpool import ThreadPool

from smsc.binds import BindDesk, BindVerdict, canonical_address
from smsc.pdu.constants import CommandStatus
from smsc.routing.accounts import password_matches
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
        return threads.deferToThreadPool(self._reactor, self._pool, fn, *args)


class BindDispatcher:
    """Runs the steps of each bind on the store thread and the hash pool, within the limits."""

    def __init__(self, clock: IReactorTime, worker: Runner, hasher: Runner,
                 desk: Callable[[], BindDesk], *, total: int, per_address: int) -> None:
        self._clock = clock
        self._worker = worker
        self._hasher = hasher
        self._desk = desk
        self.total = total
        self.per_address = per_address
        self.in_progress: dict[str, int] = {}  # address -> binds under way (no zeros kept)
        self.count = 0
        self.refused = 0  # binds refused for the limits, since the start
        self._unlogged = 0
        self._logged_at = float("-inf")

    def authenticate(self, system_id: str, password: str, bind_type: BindType,
                     address: str) -> defer.Deferred[BindVerdict]:
        address = canonical_address(address)
        at_address = self.in_progress.get(address, 0)
        if self.count >= self.total or at_address >= self.per_address:
            return defer.succeed(self._refuse(address, at_address))
        self.count += 1
        self.in_progress[address] = at_address + 1
        return defer.ensureDeferred(self._steps(system_id, password, bind_type, address))

    async def _steps(self, system_id: str, password: str, bind_type: BindType,
                     address: str) -> BindVerdict:
        desk = self._desk()
        clock = self._clock
        try:
            check = await self._worker.call(desk.check, system_id, address, clock.seconds())
            if check.refused is not None:
                return check.refused
            ok = await self._hasher.call(password_matches, check.account, password)
            return await self._worker.call(desk.finish, check, ok, bind_type, clock.seconds())
        finally:
            self.count -= 1
            left = self.in_progress[address] - 1
            if left:
                self.in_progress[address] = left
            else:
                del self.in_progress[address]

    def _refuse(self, address: str, at_address: int) -> BindVerdict:
        self.refused += 1
        self._unlogged += 1
        if at_address >= self.per_address:
            why = (f"{at_address} binds from {address} in progress "
                   "(server.pending_binds_per_address)")
        else:
            why = f"{self.count} binds in progress (server.pending_binds)"
        now = self._clock.seconds()
        if now - self._logged_at >= REFUSAL_LOG_INTERVAL:
            _log.info("{n} bind(s) refused with ESME_RBINDFAIL since the last such line, the "
                      "latest from {address}: {why}", n=self._unlogged, address=address, why=why)
            self._logged_at = now
            self._unlogged = 0
        return BindVerdict(status=CommandStatus.ESME_RBINDFAIL, reason=why, logged=True)


__all__ = ["BindDispatcher", "HashPool", "Runner"]
