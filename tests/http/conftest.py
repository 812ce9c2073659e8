"""The HTTP API against a real ``smsc serve`` subprocess on loopback (port 0 for SMPP and HTTP),
with a real HTTP client: the standard library's ``urllib`` (blocking, one call per request,
bounded by a timeout) and, where the SMPP side is needed, smpplib.

The server is started like the integration suite's (``tests.integration.conftest``), with
``--http tcp:0:interface=127.0.0.1``; its ``HTTP API on URL`` line gives the address."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import (
    SMSC_COMMAND,
    STARTUP_TIMEOUT,
    STOP_TIMEOUT,
    run_cli,
    write_config,
)

HTTP_TIMEOUT = 15.0
_accounts = iter(range(1, 10_000))


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class ApiServer:
    process: subprocess.Popen[str]
    db: Path
    url: str  # http://127.0.0.1:PORT
    smpp_port: int
    log: Path
    lines: list[str] = field(default_factory=list)

    def cli(self, *args: str) -> str:
        return run_cli(self.db, *args)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def account(self, *, credit: str = "100", **settings: str) -> tuple[str, str]:
        """A new account with ``credit`` and an API key: (system_id, key)."""
        system_id = f"http{next(_accounts):03d}"
        self.cli("account", "add", system_id, "--password", "secret12", "--credit", credit)
        for name, value in settings.items():
            self.cli("account", "set", system_id, f"--{name.replace('_', '-')}", value)
        key = json.loads(self.cli("apikey", "create", system_id, "--json"))["key"]
        return system_id, key

    def balance(self, system_id: str) -> int:
        info = json.loads(self.cli("account", "show", system_id, "--json"))
        return int(info["balance"]["available"])

    def request(self, method: str, path: str, *, key: str | None = None, body: Any = None,
                raw: bytes | None = None, headers: dict[str, str] | None = None,
                source: str | None = None) -> Answer:
        data = raw if raw is not None else (
            json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if key is not None:
            request.add_header("Authorization", f"Bearer {key}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
                return Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as e:
            with e:
                return Answer(e.code, dict(e.headers), e.read())


def spawn_serve(directory: Path, db: Path, config: Path, log: Path, *args: str,
                ) -> tuple[subprocess.Popen[str], queue.Queue[str | None]]:
    """``smsc serve ARGS`` on ``db`` and ``config`` in ``directory``, its stderr appended to
    ``log``: the process and the lines of its stdout as they come (None at its end)."""
    with log.open("ab") as log_file:
        process = subprocess.Popen(
            [*SMSC_COMMAND, "--db", str(db), "--config", str(config), "serve", *args],
            stdout=subprocess.PIPE, stderr=log_file, stdin=subprocess.DEVNULL, text=True,
            cwd=directory)
    assert process.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return process, lines


def lines_until(lines: queue.Queue[str | None], deadline: float) -> Iterator[str]:
    """The server's stdout lines as they come, until it ends or ``deadline`` (monotonic)."""
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return
        if line is None:
            return
        yield line


def start_api_server(directory: Path, *, server: dict[str, object] | None = None,
                     delay: str = '"50ms"') -> ApiServer:
    config = write_config(directory / "conf", server=server, delay=delay)
    db = directory / "smsc.sqlite"
    log = directory / "server.log"
    process, lines = spawn_serve(directory, db, config, log, "--listen",
                                 "tcp:0:interface=127.0.0.1", "--http",
                                 "tcp:0:interface=127.0.0.1")
    seen: list[str] = []
    smpp = 0
    for line in lines_until(lines, time.monotonic() + STARTUP_TIMEOUT):
        seen.append(line.strip())
        if line.startswith("listening on tcp:"):
            smpp = int(line.strip().rsplit(":", 1)[1])
        if line.startswith("HTTP API on "):
            url = line.strip().removeprefix("HTTP API on ").removesuffix("/v1")
            return ApiServer(process=process, db=db, url=url, smpp_port=smpp, log=log,
                             lines=seen)
    process.kill()
    process.wait(timeout=STOP_TIMEOUT)
    raise RuntimeError(f"no HTTP API announced: {seen}; log: {log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """One server per test module, operators delivering after 50 ms."""
    server = start_api_server(tmp_path_factory.mktemp("http"))
    yield server
    server.stop()
