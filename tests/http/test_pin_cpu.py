"""``[server] pin_cpu`` on a real server: every thread of ``smsc serve`` keeps to the CPU and the
API answers; a CPU the process may not use stops the start with a clear error."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.http.conftest import start_api_server
from tests.integration.conftest import SMSC_COMMAND, write_config

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="Linux only")


def _allowed(pid: int) -> dict[int, str]:
    """Each thread of ``pid``: its Cpus_allowed_list."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        for line in (task / "status").read_text().splitlines():
            if line.startswith("Cpus_allowed_list:"):
                out[int(task.name)] = line.split(":", 1)[1].strip()
    return out


def test_every_thread_of_a_pinned_server_keeps_to_its_cpu(tmp_path: Path) -> None:
    cpu = max(os.sched_getaffinity(0))
    server = start_api_server(tmp_path, server={"pin_cpu": cpu})
    try:
        _, key = server.account()
        sent = server.request("POST", "/v1/messages", key=key, body={
            "to": ["380671234567"], "text": "pinned", "from": "Shop"})
        assert sent.status == 200 and sent.json["accepted"] == 1, sent.body
        threads = _allowed(server.process.pid)
        assert len(threads) >= 2  # the event loop and the store thread at least
        assert set(threads.values()) == {str(cpu)}, threads
    finally:
        server.stop()


def test_a_cpu_the_process_may_not_use_is_refused_at_start(tmp_path: Path) -> None:
    config = write_config(tmp_path / "conf", server={"pin_cpu": 4095})
    done = subprocess.run([*SMSC_COMMAND, "--db", str(tmp_path / "s.sqlite"), "--config",
                           str(config), "serve", "--listen", "tcp:0:interface=127.0.0.1"],
                          capture_output=True, text=True, timeout=60, check=False,
                          cwd=tmp_path)
    assert done.returncode != 0
    assert "pin_cpu = 4095: this process may use CPUs " in done.stderr, done.stderr
