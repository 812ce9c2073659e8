"""The CLI against a running server: ``smsc operator set`` changes the outcome mix, the next
messages follow it, and the customer's bind stays up throughout.

The server is a subprocess (``smsc --db ... --config ... serve --listen tcp:0:...``), stopped by
its PID; the customer is one transceiver bind, kept open across every change. A change is
picked up on SIGHUP or when a config file changes; a bad config never replaces a good one.
Every wait is bounded.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from smsc.cli.esme import BlockingEsme
from smsc.pdu import pdus
from smsc.pdu.receipt_text import ReceiptText
from tests.cli.conftest import Cli

STARTUP = 20.0
STOP = 10.0
SWITCH = 15.0  # how long a change may take to show in the outcomes (watching polls each second)
NUMBER = "380671234567"

SMSC_TOML = """\
# The live test's config.
include = ["operators.toml", "routes.toml"]

[test_account]
throughput = 0
"""

OPERATORS_TOML = """\
[simulation]
seed = 1
builtin_operators = false
test_numbers = false

# The only operator: fast, everything delivered.
[operators.default]
title = "Live test operator"
throughput = 0
delay = "50ms"   # quick receipts
outcomes = [{ stat = "DELIVRD", weight = 1 }]
offline = { probability = 0.0 }
"""

ROUTES_TOML = """\
[[routes]]
name = "ukraine"
prefix = "380"
operators = ["default"]
price = "0.01"
"""

_SMSC = Path(sys.executable).with_name("smsc")
COMMAND = (
    (str(_SMSC),) if _SMSC.exists() else (sys.executable, "-c", "from smsc.cli import main; main()")
)


@dataclass
class Server:
    process: subprocess.Popen[str]
    port: int
    password: str
    cli: Cli
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def hup(self) -> None:
        os.kill(self.process.pid, signal.SIGHUP)

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A server of its own for each test (it starts in about a second)."""
    directory = tmp_path
    (directory / "smsc.toml").write_text(SMSC_TOML)
    (directory / "operators.toml").write_text(OPERATORS_TOML)
    (directory / "routes.toml").write_text(ROUTES_TOML)
    db = directory / "smsc.sqlite"
    log = directory / "server.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [
                *COMMAND,
                "--db",
                str(db),
                "--config",
                str(directory / "smsc.toml"),
                "serve",
                "--listen",
                "tcp:0:interface=127.0.0.1",
            ],
            stdout=subprocess.PIPE,
            stderr=log_file,
            stdin=subprocess.DEVNULL,
            text=True,
            cwd=directory,
        )
    assert process.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
    password = port = None
    deadline = time.monotonic() + STARTUP
    while port is None:
        try:
            line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            line = None
        if line is None:
            process.kill()
            process.wait(STOP)
            raise RuntimeError(f"the server did not start: {log.read_text()[-2000:]}")
        if found := re.match(r"test account: system_id=\S+ password=(\S+)", line):
            password = found.group(1)
        if found := re.match(r"listening on tcp:[\d.]+:(\d+)", line):
            port = int(found.group(1))
    assert password is not None
    running = Server(
        process=process,
        port=port,
        password=password,
        cli=Cli(db=db, config=directory / "smsc.toml"),
        log=log,
    )
    yield running
    running.stop()
    running.cli.close()


@pytest.fixture
def esme(server: Server) -> Iterator[BlockingEsme]:
    with BlockingEsme("127.0.0.1", server.port, timeout=5.0) as client:
        response, _ = client.bind_transceiver("smsctest", server.password)
        assert response.command_status == 0
        yield client


def outcome(esme: BlockingEsme) -> tuple[str, int]:
    """Submit one message and wait for its receipt: (stat, err)."""
    response, _ = esme.request(
        pdus.SubmitSm(
            source_addr_ton=5,
            source_addr="Live",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr=NUMBER,
            short_message=b"live",
            registered_delivery=1,
        )
    )
    assert response.command_status == 0, response
    message_id = response.message_id  # type: ignore[attr-defined]
    found: list[ReceiptText] = []

    def arrived() -> bool:
        for item in esme.take_delivered():
            receipt = ReceiptText.parse(item.pdu.short_message)
            if receipt.message_id == message_id:
                found.append(receipt)
        return bool(found)

    assert esme.wait_for(arrived, 5.0), f"no receipt for {message_id}"
    return found[0].stat, found[0].err


def switch_to(esme: BlockingEsme, server: Server, wanted: tuple[str, int]) -> None:
    """Send messages until one ends as ``wanted`` (the new config is in force), then check that
    the next ones all do."""
    deadline = time.monotonic() + SWITCH
    seen = outcome(esme)
    while seen != wanted:
        assert time.monotonic() < deadline, (
            f"still {seen} after {SWITCH} s, wanted {wanted}; server log:\n{server.tail()}"
        )
        time.sleep(0.2)
        seen = outcome(esme)
    assert [outcome(esme) for _ in range(5)] == [wanted] * 5


def bind_is_up(esme: BlockingEsme, server: Server) -> None:
    assert server.process.poll() is None, f"the server exited:\n{server.tail()}"
    assert not esme.closed and not esme.unbound_by_server
    response, _ = esme.request(pdus.EnquireLink())
    assert response.command_status == 0


def test_operator_set_changes_the_outcomes_on_sighup(server: Server, esme: BlockingEsme) -> None:
    assert outcome(esme) == ("DELIVRD", 0)
    server.cli("operator", "set", "default", "--outcome", "UNDELIV:1:1")
    server.hup()
    switch_to(esme, server, ("UNDELIV", 1))
    bind_is_up(esme, server)


def test_operator_set_is_picked_up_without_a_signal(server: Server, esme: BlockingEsme) -> None:
    server.cli("operator", "set", "default", "--outcome", "REJECTD:1:13")
    switch_to(esme, server, ("REJECTD", 13))
    bind_is_up(esme, server)


def test_a_bad_config_never_replaces_the_good_one(server: Server, esme: BlockingEsme) -> None:
    before = outcome(esme)
    operators = server.cli.config.parent / "operators.toml"
    good = operators.read_text()
    try:
        operators.write_text(good.replace('delay = "50ms"', 'delay = "soon"'))
        server.hup()
        time.sleep(1.5)  # a reload attempt, and a watch poll, have happened
        assert [outcome(esme) for _ in range(3)] == [before] * 3
        bind_is_up(esme, server)
    finally:
        operators.write_text(good)
