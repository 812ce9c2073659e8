"""smsc.server.worker.StoreWorker: calls run on its thread; their results come back on the
event loop in the order asked, urgent calls before routine ones."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from twisted.python.failure import Failure

from smsc.server.worker import StoreWorker


class HeldLoop:
    """A reactor stand-in whose loop is busy: calls from the thread wait until ``run``."""

    def __init__(self) -> None:
        self.calls: list[Callable[[], Any]] = []
        self.lock = threading.Lock()

    def callFromThread(self, f: Callable[..., Any], *args: Any) -> None:
        with self.lock:
            self.calls.append(lambda: f(*args))

    def run(self) -> int:
        with self.lock:
            calls, self.calls = self.calls, []
        for call in calls:
            call()
        return len(calls)


def _started() -> tuple[HeldLoop, StoreWorker]:
    """A started worker whose results wait for the loop's :meth:`HeldLoop.run`."""
    loop = HeldLoop()
    worker = StoreWorker(loop)  # type: ignore[arg-type]
    worker.start()
    return loop, worker


def test_results_that_wait_for_the_loop_come_back_in_order() -> None:
    loop, worker = _started()
    gate = threading.Event()
    got: list[object] = []
    first = worker.call(gate.wait, 10.0)
    first.addCallback(lambda _: got.append("first"))
    for n in range(5):
        worker.call(lambda n=n: n * n).addCallback(got.append)
    failing = worker.call(lambda: 1 // 0)

    def failed(failure: Failure) -> None:
        got.append(failure.value.__class__.__name__)

    failing.addErrback(failed)
    gate.set()
    worker.stop()  # every queued call done
    assert got == [] and worker.pending == 7
    assert loop.run() == 7  # one wake-up per result
    assert got == ["first", 0, 1, 4, 9, 16, "ZeroDivisionError"]
    assert worker.pending == 0 and worker.idle()


def test_a_restarted_worker_runs_its_calls_again() -> None:
    loop, worker = _started()
    got: list[int] = []
    worker.call(lambda: 1).addCallback(got.append)
    worker.stop()
    assert loop.run() == 1 and got == [1]
    worker.start()
    worker.call(lambda: 2).addCallback(got.append)
    worker.stop()
    assert loop.run() == 1 and got == [1, 2]


def test_urgent_calls_run_before_routine_ones_each_lane_in_order() -> None:
    loop, worker = _started()
    gate = threading.Event()
    ran: list[str] = []
    worker.call(gate.wait, 10.0)
    for name in ("r1", "u1", "r2", "u2", "r3"):
        if name.startswith("u"):
            worker.urgent(ran.append, name)
        else:
            worker.call(ran.append, name)
    gate.set()
    worker.stop()  # the stop waits for every call queued before it
    assert ran == ["u1", "u2", "r1", "r2", "r3"]
    loop.run()
    assert worker.idle()
