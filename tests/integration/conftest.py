"""Integration tests over real sockets: the server runs as a subprocess on a fresh database.

Everything here is bounded: every wait has a deadline, every loop a count. A server is always
stopped by its PID (SIGTERM, then SIGKILL after a timeout). Clients connect from distinct loopback
source addresses (127.0.0.N) where failed binds are involved, because the server counts failed
binds per address as well as per account.

The helpers live here (not in a module of their own) so the integration suite is one directory
of a conftest and its test modules; test modules import them from ``tests.integration.conftest``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import queue
import re
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest
import smpplib.client
from aiosmpplib import ESME, AbstractHook, BindMode, SmppMessage
from click.testing import CliRunner

from smsc.cli import main as smsc_cli
from smsc.pdu import FrameBuffer, Tag, decode, pdus
from smsc.pdu.events import (
    ProtocolViolation,
    RequestReceived,
    RequestRefused,
    ResponseReceived,
    StreamFailed,
)
from smsc.pdu.session import Session
from smsc.pdu.transitions import Role
from tests import postgres_db

HOST = "127.0.0.1"
LISTEN = f"tcp:0:interface={HOST}"
STARTUP_TIMEOUT = 20.0  # the server prints its port within this
STOP_TIMEOUT = 10.0  # SIGTERM, then SIGKILL after this
IO_TIMEOUT = 5.0  # one response on a socket
RECEIPT_TIMEOUT = 10.0  # receipts of messages with a delay of a fraction of a second
PRICE = "0.03"  # per part on every route of the test configs
PRICE_CENTS = 3
UA_NUMBERS = ("380671234567", "380501234567", "380631234567", "380971112233", "380661112233")

_SMSC_SCRIPT = Path(sys.executable).with_name("smsc")
SMSC_COMMAND: tuple[str, ...] = (
    (str(_SMSC_SCRIPT),)
    if _SMSC_SCRIPT.exists()
    else (sys.executable, "-c", "from smsc.cli import main; main()")
)

_PASSWORD_LINE = re.compile(r"^test account: system_id=(\S+) password=(\S+)")
_LISTENING_LINE = re.compile(r"^listening on tcp:([\d.]+):(\d+)\s*$")
_METRICS_LINE = re.compile(r"^metrics on (http://\S+)\s*$")
_ANNOUNCED = re.compile(r"^listening on (\w+):[\d.]+:(\d+)\s*$")
_sources = itertools.count(2)
_accounts = itertools.count(1)


def new_source() -> str:
    """A loopback address of its own (127.0.0.2 ...), for a client whose failed binds must not
    lock the address other tests connect from."""
    n = next(_sources)
    return f"127.0.{n // 250}.{n % 250 + 2}"


# --- config files ---------------------------------------------------------------------------


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    raise TypeError(f"no TOML for {value!r}")


def operators_toml(delay: str) -> str:
    """One operator that delivers everything after ``delay`` (a delay table or a duration),
    with no throughput limit, no offline handsets and no outages."""
    return f"""
[simulation]
seed = 20240901
builtin_operators = false
test_numbers = true

[operators.default]
title = "Integration test operator"
throughput = 0
queue_limit = 1000000
default_validity = "24h"
max_validity = "72h"
delay = {delay}
outcomes = [{{ stat = "DELIVRD", weight = 1 }}]
outages = []
daily_outages = []
offline = {{ probability = 0.0, duration = "1s", retry_interval = "1s" }}
"""


ROUTES_TOML = f"""
[money]
currency = "EUR"
decimals = 2

[[routes]]
name = "ukraine"
prefix = "380"
operators = ["default"]
price = "{PRICE}"

[[routes]]
name = "australia"
prefix = "61"
operators = ["default"]
price = "{PRICE}"
"""

FAST_DELAY = '"50ms"'


def write_config(
    directory: Path, *, server: dict[str, object] | None = None, delay: str = FAST_DELAY
) -> Path:
    """smsc.toml with ``[server]`` settings, including operators.toml and routes.toml of its own;
    the test account has no throughput limit."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "operators.toml").write_text(operators_toml(delay))
    (directory / "routes.toml").write_text(ROUTES_TOML)
    lines = ['include = ["operators.toml", "routes.toml"]', "", "[server]"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in (server or {}).items()]
    lines += ["", "[test_account]", "throughput = 0", ""]
    path = directory / "smsc.toml"
    path.write_text("\n".join(lines))
    return path


# --- the server process ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Login:
    system_id: str
    password: str


def _pump_lines(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def run_cli(db: Path | str, *args: str) -> str:
    """``smsc --db DB ARGS`` through the real click command, in this process (fast); its output,
    or an AssertionError with it."""
    result = CliRunner().invoke(smsc_cli, ["--db", str(db), *args], catch_exceptions=False)
    assert result.exit_code == 0, f"smsc {' '.join(args)} failed: {result.output}"
    return result.output


@dataclass
class SmscServer:
    """A running ``smsc serve`` subprocess."""

    process: subprocess.Popen[str]
    db: Path | str  # an SQLite file, or a PostgreSQL URL (database_at)
    config: Path
    log: Path
    port: int
    test_login: Login | None  # printed on the first start of a database only
    lines: list[str] = field(default_factory=list)
    workdir: Path = Path()  # the server's working directory (the SQLite file's)
    _reader: threading.Thread | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def kill9(self) -> None:
        """kill -9: no unbind, no flush."""
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT)
        self._close_pipe()

    def stop(self) -> int:
        """SIGTERM, SIGKILL if it has not exited after STOP_TIMEOUT; the exit code."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)
        self._close_pipe()
        return self.process.returncode

    def _close_pipe(self) -> None:
        if self._reader is not None:
            self._reader.join(timeout=STOP_TIMEOUT)
            self._reader = None
        if self.process.stdout is not None:
            self.process.stdout.close()

    def metrics_url(self) -> str:
        """The URL of the ``metrics on URL`` line (a server started with --metrics)."""
        for line in self.lines:
            if match := _METRICS_LINE.match(line):
                return match.group(1)
        raise LookupError(f"no metrics listener announced in {self.lines}")

    def announced_port(self, kind: str) -> int:
        """The port of the first ``listening on KIND:HOST:PORT`` line (``kind`` "tcp" or "ssl")."""
        for line in self.lines:
            if (match := _ANNOUNCED.match(line)) and match.group(1) == kind:
                return int(match.group(2))
        raise LookupError(f"no {kind} listener announced in {self.lines}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # --- the CLI on the same database ---------------------------------------------------------
    def cli(self, *args: str) -> str:
        return run_cli(self.db, *args)

    def add_account(self, *, credit: str = "100") -> Login:
        login = Login(system_id=f"it{next(_accounts):03d}", password=secrets.token_hex(4))
        self.cli(
            "account", "add", login.system_id, "--password", login.password, "--credit", credit
        )
        return login

    def account(self, system_id: str) -> dict[str, Any]:
        info: dict[str, Any] = json.loads(self.cli("account", "show", system_id, "--json"))
        return info

    def balance(self, system_id: str) -> int:
        """Available credit in cents."""
        available: int = self.account(system_id)["balance"]["available"]
        return available


def start_server(
    db: Path | str,
    config: Path,
    *,
    timeout: float = STARTUP_TIMEOUT,
    extra_listen: Sequence[str] = (),
    extra_args: Sequence[str] = (),
) -> SmscServer:
    """``smsc --db DB --config CONFIG serve --listen tcp:0:interface=127.0.0.1`` in the database's
    directory; returns once it printed its port (and, on a new database, the test account).

    ``extra_listen`` endpoints (``ssl:0:...``) are listed before the TCP one: the server opens
    them in order, so their announcements are in ``lines`` by then (see ``announced_port``)."""
    # Next to the database file (or, on PostgreSQL, the config): its log and working directory.
    where = db if isinstance(db, Path) else config.parent / "smsc.postgres"
    log = where.with_suffix(f".{int(time.time() * 1000) % 10**8}.log")
    listen = [arg for endpoint in (*extra_listen, LISTEN) for arg in ("--listen", endpoint)]
    with log.open("ab") as log_file:
        process = subprocess.Popen(
            [*SMSC_COMMAND, "--db", str(db), "--config", str(config), "serve", *listen,
             *extra_args],
            stdout=subprocess.PIPE,
            stderr=log_file,
            stdin=subprocess.DEVNULL,
            text=True,
            cwd=where.parent,
        )
    assert process.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_pump_lines, args=(process.stdout, lines), daemon=True)
    reader.start()
    seen: list[str] = []
    login: Login | None = None
    port = 0
    # With --metrics the metrics listener is announced after the SMPP ones: wait for it too.
    wants_metrics = "--metrics" in extra_args
    metrics_seen = False
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        try:
            line = lines.get(timeout=max(0.0, remaining)) if remaining > 0 else None
        except queue.Empty:
            line = None
        if line is None:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=STOP_TIMEOUT)
            reader.join(timeout=STOP_TIMEOUT)
            process.stdout.close()
            raise RuntimeError(
                f"smsc did not announce its port (exit {process.returncode}); "
                f"stdout: {seen}; log: {log.read_text(errors='replace')[-3000:]}"
            )
        seen.append(line.rstrip("\n"))
        if match := _PASSWORD_LINE.match(line):
            login = Login(system_id=match.group(1), password=match.group(2))
        elif match := _LISTENING_LINE.match(line):
            port = int(match.group(2))
        elif _METRICS_LINE.match(line):
            metrics_seen = True
        if port and (metrics_seen or not wants_metrics):
            return SmscServer(
                process=process,
                db=db,
                config=config,
                log=log,
                port=port,
                test_login=login,
                lines=seen,
                workdir=where.parent,
                _reader=reader,
            )


def database_at(kind: str, directory: Path) -> Path | str:
    """Where a test server keeps its data: ``kind`` "sqlite", a file in ``directory``;
    "postgres", a URL naming a schema of its own in the test run's PostgreSQL database
    (tests.postgres_db: the test skips without PostgreSQL, or fails where it is required)."""
    if kind == "sqlite":
        return directory / "smsc.sqlite"
    return postgres_db.new_schema_url("smsc_server")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_kind(request: pytest.FixtureRequest) -> str:
    """The store a test's servers run on, for tests parametrised over both."""
    kind: str = request.param
    return kind


@pytest.fixture(scope="module")
def smsc(request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmscServer]:
    """One server per test module: a fresh database, operators that deliver after 50 ms. On
    SQLite, unless a test asks for "postgres" (``parametrize("smsc", [...], indirect=True)``)."""
    directory = tmp_path_factory.mktemp("smsc")
    kind = getattr(request, "param", "sqlite")
    server = start_server(database_at(kind, directory), write_config(directory))
    yield server
    server.stop()


@pytest.fixture
def login(smsc: SmscServer) -> Login:
    """A fresh account with 100 EUR on the module's server: its receipts go to this test only."""
    return smsc.add_account()


@pytest.fixture
def servers() -> Iterator[Callable[..., SmscServer]]:
    """Start servers in a test; every one is stopped by its PID at the end."""
    started: list[SmscServer] = []

    def start(db: Path | str, config: Path, *extra_args: str) -> SmscServer:
        server = start_server(db, config, extra_args=extra_args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


# --- our own codec: a raw connection and a blocking ESME -----------------------------------


def connect(
    port: int, *, source: str | None = None, tls: ssl.SSLContext | None = None
) -> socket.socket:
    """A connection to the server; over TLS with ``tls`` (the server's name is HOST)."""
    sock = socket.create_connection(
        (HOST, port), timeout=IO_TIMEOUT, source_address=(source, 0) if source else None
    )
    return sock if tls is None else tls.wrap_socket(sock, server_hostname=HOST)


class RawConnection:
    """Bytes out as given, PDUs in through FrameBuffer and decode: for input no client would
    send."""

    def __init__(self, port: int, *, source: str | None = None) -> None:
        self.sock = connect(port, source=source)
        self.frames = FrameBuffer()
        self.closed_by_peer = False

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read(self, timeout: float = IO_TIMEOUT) -> pdus.Pdu | None:
        """The next PDU, or None when the server closed the connection."""
        deadline = time.monotonic() + timeout
        while (frame := self.frames.next_frame()) is None:
            if self.closed_by_peer:
                return None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no PDU from the server in time")
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                self.closed_by_peer = True
            self.frames.feed(data)
        return decode(frame)

    def closed_within(self, timeout: float = IO_TIMEOUT) -> bool:
        """Whether the server closes the connection within ``timeout`` (PDUs before it are
        dropped)."""
        deadline = time.monotonic() + timeout
        for _ in range(10_000):
            try:
                if self.read(max(0.0, deadline - time.monotonic())) is None:
                    return True
            except TimeoutError:
                return False
        return False

    def close(self) -> None:
        self.sock.close()


BIND_KINDS: dict[str, type[pdus.BindRequest]] = {
    "tx": pdus.BindTransmitter,
    "rx": pdus.BindReceiver,
    "trx": pdus.BindTransceiver,
}


class CodecEsme:
    """A blocking ESME on a real socket, built on smsc.pdu.Session in the ESME role.

    Requests from the server are answered at once (deliver_sm with ESME_ROK, enquire_link,
    unbind) and deliver_sm kept in ``delivered``; responses are kept by sequence_number."""

    def __init__(
        self,
        port: int,
        *,
        source: str | None = None,
        window: int = 64,
        tls: ssl.SSLContext | None = None,
        sock: socket.socket | None = None,
    ) -> None:
        # ``sock``: a connection the server opened (outbind) instead of one to ``port``.
        self.sock = sock if sock is not None else connect(port, source=source, tls=tls)
        self.session = Session(Role.ESME, now=time.monotonic(), window=window)
        self.delivered: list[pdus.DeliverSm] = []
        self.responses: dict[int, pdus.Pdu] = {}
        self.requests: list[pdus.Pdu] = []  # every request the server sent, in order
        # The status to answer each deliver_sm with; None leaves it unanswered.
        self.deliver_status: Callable[[pdus.DeliverSm], int | None] = lambda _: 0
        self.unbound_by_server = False
        self.closed = False

    def __enter__(self) -> CodecEsme:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()
        self.closed = True

    def send(self, pdu: pdus.Pdu) -> int:
        """Send a request; its sequence_number."""
        seq = self.session.next_sequence_number()
        self.sock.sendall(self.session.send(pdu.replace(sequence_number=seq), time.monotonic()))
        return seq

    def pump(self, timeout: float) -> None:
        """Read once (waiting at most ``timeout``) and handle every event it brings."""
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return
        except ConnectionResetError:
            data = b""
        if not data:
            self.closed = True
            return
        now = time.monotonic()
        self.session.receive_data(data, now)
        for _ in range(100_000):
            event = self.session.next_event()
            if event is None:
                return
            if isinstance(event, ResponseReceived):
                self.responses[event.pdu.sequence_number] = event.pdu
            elif isinstance(event, RequestReceived):
                self._answer(event.pdu)
            elif isinstance(event, RequestRefused):
                self.sock.sendall(event.data)
            elif isinstance(event, ProtocolViolation | StreamFailed):
                raise AssertionError(f"the server broke the protocol: {event}")

    def _answer(self, pdu: pdus.Pdu) -> None:
        self.requests.append(pdu)
        if isinstance(pdu, pdus.DeliverSm):
            self.delivered.append(pdu)
            status = self.deliver_status(pdu)
            if status is None:
                return
            answer: pdus.Pdu = pdus.DeliverSmResp(
                sequence_number=pdu.sequence_number, command_status=status
            )
        elif isinstance(pdu, pdus.Unbind):
            self.unbound_by_server = True
            answer = pdus.UnbindResp(sequence_number=pdu.sequence_number)
        elif isinstance(pdu, pdus.Outbind | pdus.AlertNotification):
            return  # requests without a response
        else:
            answer = pdu.response()
        self.sock.sendall(self.session.send(answer, time.monotonic()))

    def wait_for(
        self,
        condition: Callable[[], object],
        timeout: float = IO_TIMEOUT,
        what: str = "a condition",
    ) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"timed out waiting for {what}")
            if self.closed:
                raise ConnectionError(f"the server closed the connection waiting for {what}")
            self.pump(remaining)

    def listen(self, seconds: float) -> None:
        """Read and handle whatever the server sends for ``seconds`` (or until it closes)."""
        deadline = time.monotonic() + seconds
        while not self.closed and (remaining := deadline - time.monotonic()) > 0:
            self.pump(remaining)

    def response(self, seq: int, timeout: float = IO_TIMEOUT) -> pdus.Pdu:
        self.wait_for(lambda: seq in self.responses, timeout, f"the response to {seq}")
        return self.responses.pop(seq)

    def request(self, pdu: pdus.Pdu, timeout: float = IO_TIMEOUT) -> pdus.Pdu:
        return self.response(self.send(pdu), timeout)

    def bind(self, kind: str, login: Login) -> pdus.Pdu:
        return self.request(BIND_KINDS[kind](system_id=login.system_id, password=login.password))

    def receipts(self) -> list[pdus.DeliverSm]:
        return [d for d in self.delivered if d.esm_class & 0x3C == 0x04]

    def wait_receipts(self, count: int, timeout: float = RECEIPT_TIMEOUT) -> list[pdus.DeliverSm]:
        self.wait_for(lambda: len(self.receipts()) >= count, timeout, f"{count} receipts")
        return self.receipts()


@contextmanager
def bound_esme(
    port: int,
    kind: str,
    login: Login,
    *,
    source: str | None = None,
    tls: ssl.SSLContext | None = None,
) -> Iterator[CodecEsme]:
    with CodecEsme(port, source=source, tls=tls) as esme:
        response = esme.bind(kind, login)
        assert response.command_status == 0, f"bind {kind} of {login.system_id}: {response}"
        yield esme


def accepted(response: pdus.Pdu) -> str:
    """The message_id of a submit_sm_resp, data_sm_resp or submit_multi_resp with ESME_ROK."""
    assert isinstance(response, pdus.MessageIdResponse), response
    assert response.command_status == 0, response
    return response.message_id


def submit(
    destination: str = UA_NUMBERS[0], text: bytes = b"hello", **fields: Any
) -> pdus.SubmitSm:
    fields.setdefault("registered_delivery", 1)
    return pdus.SubmitSm(
        source_addr_ton=5,
        source_addr="Tester",
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr=destination,
        short_message=text,
        **fields,
    )


# --- receipts, read the same way whoever received them --------------------------------------

_RECEIPT_ID = re.compile(rb"^id:(\S+) ")


def receipt_id(short_message: bytes) -> bytes:
    match = _RECEIPT_ID.match(short_message)
    assert match, f"not a receipt text: {short_message!r}"
    return match.group(1)


def receipt_field(short_message: bytes, key: bytes) -> bytes:
    """The value of ``key:`` in a receipt text (``text`` is the rest of it)."""
    if key == b"text":
        return short_message.split(b" text:", 1)[1]
    match = re.search(rb"(?:^| )" + re.escape(key) + rb":(\S*)", short_message)
    assert match, f"no {key!r} in {short_message!r}"
    return match.group(1)


def tlv_raw(pdu: pdus.DeliverSm, tag: int) -> bytes | None:
    return pdu.tlvs.raw(tag)


def check_receipt(receipt: pdus.DeliverSm, message_id: str, *, state: int = 2) -> None:
    """The receipt is about ``message_id`` in text and TLV, byte for byte, and carries
    message_state and network_error_code."""
    wanted = message_id.encode("ascii")
    assert receipt.esm_class == 0x04
    assert receipt_id(receipt.short_message) == wanted
    assert tlv_raw(receipt, Tag.RECEIPTED_MESSAGE_ID) == wanted + b"\x00"
    assert tlv_raw(receipt, Tag.MESSAGE_STATE) == bytes((state,))
    network_error = tlv_raw(receipt, Tag.NETWORK_ERROR_CODE)
    assert network_error is not None and len(network_error) == 3


# --- smpplib ----------------------------------------------------------------------------------


class SourcedClient(smpplib.client.Client):  # type: ignore[misc]
    """smpplib's client, optionally connecting from a given loopback address."""

    def __init__(
        self,
        port: int,
        *,
        source: str | None = None,
        timeout: float = 2.0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(
            HOST, port, timeout=timeout, allow_unknown_opt_params=True, ssl_context=tls
        )
        self._source = source
        self.received: list[Any] = []
        self.sent: list[Any] = []
        self.set_message_received_handler(self._keep_received)
        self.set_message_sent_handler(self._keep_sent)

    def _keep_received(self, pdu: Any, **_: Any) -> None:
        self.received.append(pdu)

    def _keep_sent(self, pdu: Any, **_: Any) -> None:
        self.sent.append(pdu)

    def _create_socket(self) -> socket.socket:
        sock: socket.socket = super()._create_socket()
        if self._source:
            sock.bind((self._source, 0))
        return sock

    def read_until(
        self,
        condition: Callable[[], object],
        timeout: float = RECEIPT_TIMEOUT,
        what: str = "a condition",
    ) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"smpplib: timed out waiting for {what}")
            try:
                self.read_once(auto_send_enquire_link=False)
            except TimeoutError:
                continue


@contextmanager
def smpplib_client(
    port: int, *, source: str | None = None, tls: ssl.SSLContext | None = None
) -> Iterator[SourcedClient]:
    """smpplib connected (over TLS with ``tls``: smpplib gives no server name, so the context
    must not check host names)."""
    client = SourcedClient(port, source=source, tls=tls)
    client.connect()
    try:
        yield client
    finally:
        client.disconnect()


# --- aiosmpplib ---------------------------------------------------------------------------------


class Recorder(AbstractHook):  # type: ignore[misc]
    """Keeps every PDU aiosmpplib receives, parsed and raw."""

    def __init__(self) -> None:
        self.pdus: list[tuple[SmppMessage | None, bytes]] = []
        self.errors: list[Exception] = []
        self.changed = asyncio.Event()

    async def sending(self, smpp_message: SmppMessage, pdu: bytes, client_id: str) -> None:
        return None

    async def received(self, smpp_message: SmppMessage | None, pdu: bytes, client_id: str) -> None:
        self.pdus.append((smpp_message, pdu))
        self.changed.set()

    async def send_error(self, smpp_message: SmppMessage, error: Exception, client_id: str) -> None:
        self.errors.append(error)
        self.changed.set()

    def of(self, kind: type) -> list[Any]:
        return [m for m, _ in self.pdus if isinstance(m, kind)]

    def raw_of(self, kind: type) -> list[bytes]:
        return [raw for m, raw in self.pdus if isinstance(m, kind)]

    async def wait_until(
        self,
        condition: Callable[[], object],
        timeout: float = RECEIPT_TIMEOUT,
        what: str = "a condition",
    ) -> None:
        async def loop() -> None:
            while not condition():
                self.changed.clear()
                await self.changed.wait()

        try:
            await asyncio.wait_for(loop(), timeout)
        except TimeoutError:
            raise TimeoutError(f"aiosmpplib: timed out waiting for {what}") from None


def smpplib_send_for_receipt(client: Any, destination: str, text: bytes,
                             what: str = "response and receipt") -> None:
    """Submit ``text`` from the alphanumeric sender "Tester" asking for a receipt, and read until
    the submit_sm_resp and a deliver_sm (the receipt) have arrived."""
    client.send_message(
        source_addr_ton=5,
        source_addr="Tester",
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr=destination,
        short_message=text,
        registered_delivery=1,
    )
    client.read_until(lambda: client.sent and client.received, what=what)


def aio_esme(
    port: int,
    login: Login,
    mode: BindMode,
    recorder: Recorder,
    *,
    enquire_link_interval: float = 30.0,
) -> ESME:
    return ESME(
        smsc_host=HOST,
        smsc_port=port,
        system_id=login.system_id,
        password=login.password,
        bind_mode=mode,
        hook=recorder,
        log_level="CRITICAL",
        socket_timeout=IO_TIMEOUT,
        enquire_link_interval=enquire_link_interval,
    )


async def aio_bound(esme: ESME, timeout: float = IO_TIMEOUT) -> asyncio.Task[None]:
    """Start ``esme`` (connect, bind, then its loops) in a task; returns once it is bound."""
    task = asyncio.create_task(esme.start())
    deadline = time.monotonic() + timeout
    while esme.session_state != esme.bind_mode.session_state:
        if task.done() or time.monotonic() > deadline:
            await aio_stop(esme, task)
            raise TimeoutError(f"aiosmpplib did not bind (state {esme.session_state.name})")
        await asyncio.sleep(0.01)
    return task


async def aio_stop(esme: ESME, task: asyncio.Task[None]) -> None:
    """Stop ``esme`` and its task; close the stream it leaves open (aiosmpplib half-closes its
    connection on stop and drops the writer without closing it)."""
    writer = esme._writer
    with suppress(TimeoutError):
        await asyncio.wait_for(esme.stop(), IO_TIMEOUT)
    if not task.done():
        task.cancel()
    with suppress(asyncio.CancelledError, TimeoutError):
        await asyncio.wait_for(task, IO_TIMEOUT)
    if writer is not None:
        writer.close()
        with suppress(OSError, TimeoutError):
            await asyncio.wait_for(writer.wait_closed(), IO_TIMEOUT)
