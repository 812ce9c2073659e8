"""Keeping the server's threads on one CPU (``[server] pin_cpu``, Linux).

The event loop and the store thread take turns at Python's GIL many times per message: every
socket call and every SQLite step lets go of it. When the two threads run on different CPUs,
each turn is a wake-up of the other CPU (on a virtual machine an interrupt through the
hypervisor); on one CPU it is a switch of threads. One process cannot run Python on more than
one CPU at a time anyway, so on a small machine pinning costs little and saves those
wake-ups (measured in docs/benchmark-http.md: single-message HTTP POSTs 20-30 % faster on a
2-core VM, the SMPP path unchanged).

Threads started after :func:`pin` inherit its CPU. The password-hash threads do not keep it:
``hashlib.scrypt`` lets go of the GIL, so they run on every CPU the process had
(:func:`everywhere`), and a storm of binds does not share the event loop's CPU.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_before: set[int] | None = None  # the CPUs the process had before pin(): None if not pinned
_local = threading.local()


class AffinityError(Exception):
    """The CPU asked for cannot be used here (with the CPUs that can)."""


def pin(cpu: int) -> set[int]:
    """Keep the calling thread, and threads it starts from now on, on ``cpu``; returns the
    CPUs it had before. AffinityError when ``cpu`` is not one of them or the system cannot."""
    global _before
    if not hasattr(os, "sched_setaffinity"):
        raise AffinityError("pin_cpu needs Linux (this system cannot set CPU affinity)")
    allowed = os.sched_getaffinity(0)
    if cpu not in allowed:
        raise AffinityError(f"pin_cpu = {cpu}: this process may use CPUs "
                            f"{_ranges(allowed)} only")
    os.sched_setaffinity(0, {cpu})
    if _before is None:
        _before = set(allowed)
    return set(allowed)


def everywhere(fn: Callable[..., T]) -> Callable[..., T]:
    """``fn`` run on every CPU the process had before :func:`pin` (the calling thread is
    unpinned once, on its first call); ``fn`` itself when nothing was pinned."""
    def run(*args: Any, **kwargs: Any) -> T:
        if _before is not None and not getattr(_local, "unpinned", False):
            os.sched_setaffinity(0, _before)
            _local.unpinned = True
        return fn(*args, **kwargs)
    return run


def _ranges(cpus: set[int]) -> str:
    """CPUs as Linux lists them: ``0-3,6``."""
    out: list[str] = []
    for cpu in sorted(cpus):
        if out and out[-1].split("-")[-1] == str(cpu - 1):
            out[-1] = f"{out[-1].split('-')[0]}-{cpu}"
        else:
            out.append(str(cpu))
    return ",".join(out)


__all__ = ["AffinityError", "everywhere", "pin"]
