"""One thread that owns the store: every store call runs there, in the order it was asked for.

SQLite releases the GIL while it works, so commits overlap with the reactor decoding the next
PDUs. Results come back to the reactor thread as Deferreds, in FIFO order (the dispatcher relies
on that: a pull queued after a commit sees the commit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from twisted.internet import threads
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorFromThreads
from twisted.python.threadpool import ThreadPool

T = TypeVar("T")


class StoreWorker:
    def __init__(self, reactor: IReactorFromThreads, name: str = "smsc-store") -> None:
        self._reactor = reactor
        self._pool = ThreadPool(minthreads=1, maxthreads=1, name=name)
        self.pending = 0

    def start(self) -> None:
        self._pool.start()

    def stop(self) -> None:
        """Finish every queued call, then stop the thread (blocks until done)."""
        self._pool.stop()

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Deferred[T]:
        self.pending += 1
        d: Deferred[T] = threads.deferToThreadPool(self._reactor, self._pool, fn, *args,
                                                   **kwargs)

        def done(result: T) -> T:
            self.pending -= 1
            return result

        d.addBoth(done)
        return d

    def idle(self) -> bool:
        return self.pending == 0
