"""Several smsc nodes on one PostgreSQL database, as subprocesses on loopback.

Each node is ``smsc --db postgresql://... serve`` with a config directory of its own
(``[server] node`` names it, a short ``node_lease`` lets the tests see a dead node's binds,
leases and claims go within seconds) and listens on a port of its own (``tcp:0``, read from
its announcement). The database is a schema of its own in the test run's database
(tests.postgres_db), dropped afterwards. Nodes are stopped by PID: SIGTERM, then SIGKILL
after a timeout.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import unquote

from smsc.routing.accounts import hash_password
from smsc.store.records import Account, Bucket
from tests.integration.conftest import SMSC_COMMAND, Login, write_config
from tests.postgres_db import drop_schema, new_schema_url

STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
_LISTENING = re.compile(r"^listening on tcp:([\d.]+):(\d+)\s*$")


@dataclass
class Node:
    name: str
    process: subprocess.Popen[str]
    log: Path
    port: int = 0
    lines: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def kill9(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)
        if self.reader is not None:
            self.reader.join(timeout=STOP_TIMEOUT)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode

    def log_tail(self, count: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-count:])
        except OSError:
            return ""


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def launch(url: str, directory: Path, name: str, *, node_lease: str = "3s",
           server: dict[str, object] | None = None, delay: str = '"50ms"') -> tuple[
               Node, queue.Queue[str | None]]:
    """Start one node, ``smsc --db URL --config CONFIG serve`` (not waiting for it)."""
    settings: dict[str, object] = {"node": name, "node_lease": node_lease,
                                   "listen": "tcp:0:interface=127.0.0.1"}
    settings.update(server or {})
    config = write_config(directory / name, server=settings, delay=delay)
    log = directory / f"{name}.{int(time.time() * 1000) % 10**8}.log"
    with log.open("ab") as log_file:
        process = subprocess.Popen(
            [*SMSC_COMMAND, "--db", url, "--config", str(config), "serve"],
            stdout=subprocess.PIPE, stderr=log_file, stdin=subprocess.DEVNULL, text=True,
            cwd=directory)
    assert process.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True)
    reader.start()
    return Node(name=name, process=process, log=log, reader=reader), lines


def wait_started(node: Node, lines: queue.Queue[str | None]) -> Node:
    """Until the node announced its port and its cluster membership."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    member = False
    while not (node.port and member):
        remaining = deadline - time.monotonic()
        try:
            line = lines.get(timeout=remaining) if remaining > 0 else None
        except queue.Empty:
            line = None
        if line is None:
            node.stop()
            raise RuntimeError(f"node {node.name} did not start: {node.lines}; "
                               f"log: {node.log_tail()}")
        node.lines.append(line.rstrip("\n"))
        if match := _LISTENING.match(line):
            node.port = int(match.group(2))
        elif line.startswith("cluster node "):
            member = True
    return node


def start_nodes(url: str, directory: Path, names: Sequence[str], **kwargs: object) -> list[Node]:
    """Start the nodes together; each waited for in turn."""
    launched = [launch(url, directory, name, **kwargs) for name in names]  # type: ignore[arg-type]
    nodes: list[Node] = []
    try:
        for node, lines in launched:
            nodes.append(wait_started(node, lines))
    except BaseException:
        for node, _ in launched:
            node.stop()
        raise
    return nodes


@contextmanager
def cluster_database() -> Iterator[str]:
    """A fresh schema for one cluster: the ``postgresql://`` URL ``smsc --db`` takes (the
    schema in its ``options``), dropped afterwards."""
    url = new_schema_url("smsc_cluster")
    schema = re.search(r"search_path=(\w+)", unquote(url))
    assert schema is not None, url
    try:
        yield url
    finally:
        drop_schema(schema.group(1))


def add_account(store: object, system_id: str, *, credit_cents: int = 100_000,
                max_binds: int = 10, throughput: float = 0.0) -> Login:
    """An account made in the store directly (no CLI on PostgreSQL needed)."""
    password = "pw" + system_id[-6:]
    account = Account(system_id=system_id, password_hash=hash_password(password, n=2**4),
                      max_binds=max_binds, throughput=throughput, created_at=time.time())
    store.create_account(account)  # type: ignore[attr-defined]
    if credit_cents:
        store.credit(system_id, credit_cents, Bucket.BOUGHT, time.time())  # type: ignore[attr-defined]
    return Login(system_id=system_id, password=password)
