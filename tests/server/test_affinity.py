"""pin_cpu (smsc.server.affinity): the pinning thread and the threads it starts keep to the
CPU; a hash thread runs on every CPU the process had; a CPU the process may not use is a clear
error. Each case runs in a child process, so the test process keeps its CPUs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="Linux only")

CHILD = r"""
import os, sys, threading
from smsc.server.affinity import AffinityError, everywhere, pin
before = os.sched_getaffinity(0)
cpu = max(before)
try:
    pin(10_000)
except AffinityError as e:
    print("refused:", e)
assert os.sched_getaffinity(0) == before  # a refusal changes nothing
assert pin(cpu) == before and os.sched_getaffinity(0) == {cpu}
seen = {}
def started():
    seen["thread"] = os.sched_getaffinity(0)
    seen["hash"] = everywhere(lambda: os.sched_getaffinity(0))()
    seen["after"] = os.sched_getaffinity(0)
t = threading.Thread(target=started); t.start(); t.join()
assert seen["thread"] == {cpu}, seen  # inherited
assert seen["hash"] == before and seen["after"] == before, seen  # a hash thread: every CPU
assert os.sched_getaffinity(0) == {cpu}  # the pinning thread keeps its CPU
print("ok", cpu, len(before))
"""


def test_pinned_threads_keep_the_cpu_and_hash_threads_do_not() -> None:
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("refused: pin_cpu = 10000: this process may use CPUs ")
    assert lines[-1].startswith("ok ")
