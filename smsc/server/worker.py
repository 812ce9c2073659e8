"""One thread that owns the store: every store call runs there.

SQLite releases the GIL while it works, so commits overlap with the reactor decoding the next
PDUs. Results come back to the reactor thread as Deferreds.

Two lanes: ``urgent`` calls (the group commit, which customers are waiting for) run before the
``routine`` ones (queue rounds, outbox reads and acknowledgements, binds, reports); within a lane
calls run in the order they were asked for, and results come back in that order (the outbox
dispatcher relies on it: a read queued after a write sees the write).
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorFromThreads
from twisted.python.failure import Failure

T = TypeVar("T")

URGENT = 0
ROUTINE = 1
_STOP = 2  # sorts after every call: the thread ends once both lanes are empty


class StoreWorker:
    def __init__(self, reactor: IReactorFromThreads, name: str = "smsc-store") -> None:
        self._reactor = reactor
        self._name = name
        self._queue: queue.PriorityQueue[tuple[int, int, Any]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self.pending = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Finish every queued call, then stop the thread (blocks until done)."""
        thread = self._thread
        if thread is None:
            return
        self._queue.put((_STOP, next(self._order), None))
        thread.join()
        self._thread = None

    def call(self, fn: Callable[..., T], *args: Any, lane: int = ROUTINE,
             **kwargs: Any) -> Deferred[T]:
        self.pending += 1
        d: Deferred[T] = Deferred()
        self._queue.put((lane, next(self._order), (d, fn, args, kwargs)))
        return d

    def urgent(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Deferred[T]:
        return self.call(fn, *args, lane=URGENT, **kwargs)

    def idle(self) -> bool:
        return self.pending == 0

    def _run(self) -> None:
        get = self._queue.get
        call_back = self._reactor.callFromThread
        while True:
            lane, _, job = get()
            if lane == _STOP:
                return
            d, fn, args, kwargs = job
            try:
                result = fn(*args, **kwargs)
            except BaseException:
                call_back(self._deliver, d, Failure())  # type: ignore[no-untyped-call]
            else:
                call_back(self._deliver, d, result)

    def _deliver(self, d: Deferred[Any], result: Any) -> None:
        self.pending -= 1
        if isinstance(result, Failure):
            d.errback(result)
        else:
            d.callback(result)
