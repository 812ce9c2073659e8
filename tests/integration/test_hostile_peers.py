"""Hostile peers over real sockets: peers that send and never read, floods of PDUs a peer must
not send, connection caps, the open files limit (docs/operations.md)."""

from __future__ import annotations

import contextlib
import resource
import select
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from smsc.pdu import pdus
from smsc.pdu.codec import encode
from smsc.pdu.constants import CommandStatus
from tests.integration.conftest import (
    HOST,
    IO_TIMEOUT,
    UA_NUMBERS,
    CodecEsme,
    Login,
    RawConnection,
    SmscServer,
    bound_esme,
    new_source,
    start_server,
    write_config,
)
from tests.integration.test_metrics import scrape

OUTPUT_BUFFER = 64 * 1024
# Above output_buffer, a paused connection still gets what was under way: answers of commits
# running and deliver_sm of a receipt window. Far less than the megabytes it would take.
SLACK = 48 * 1024
FLOOD_SECONDS = 8.0  # a flood stops here at the latest (the server should stall it long before)
STALLED = 1.0  # the kernel took nothing for this long: the server stopped reading


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmscServer]:
    directory = tmp_path_factory.mktemp("hostile")
    config = write_config(directory, server={
        "output_buffer": OUTPUT_BUFFER, "drain_timeout": "2s", "bind_timeout": "60s",
        "unbound_error_limit": 10, "max_connections_per_address": 3})
    server = start_server(directory / "smsc.sqlite", config,
                          extra_args=("--metrics", f"tcp:0:interface={HOST}"))
    yield server
    server.stop()


def _read_pdu(sock: socket.socket) -> bytes:
    data = b""
    deadline = time.monotonic() + IO_TIMEOUT
    while len(data) < 4 or len(data) < int.from_bytes(data[:4], "big"):
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(4096)
        assert chunk, "closed before a whole PDU"
        data += chunk
    return data


def flood(port: int, chunk: bytes, *, bind: Login | None = None) -> tuple[socket.socket, int]:
    """Connect with a small receive buffer (bind first if asked, reading that one answer), then
    send ``chunk`` over and over without ever reading, until the kernel takes nothing for
    STALLED seconds or FLOOD_SECONDS passed. The socket and the bytes sent."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.bind((new_source(), 0))
    sock.settimeout(IO_TIMEOUT)
    sock.connect((HOST, port))
    if bind is not None:
        sock.sendall(encode(pdus.BindTransceiver(sequence_number=1, system_id=bind.system_id,
                                                 password=bind.password)))
        assert int.from_bytes(_read_pdu(sock)[8:12], "big") == 0
    sock.setblocking(False)
    sent = 0
    start = last_progress = time.monotonic()
    while (now := time.monotonic()) - start < FLOOD_SECONDS and now - last_progress < STALLED:
        _, writable, _ = select.select([], [sock], [], 0.1)
        if writable:
            with contextlib.suppress(BlockingIOError):
                sent += sock.send(chunk)
                last_progress = time.monotonic()
    return sock, sent


def closed_by_server(sock: socket.socket, timeout: float) -> bool:
    """Read (and drop) what the server sent until it closes or resets the connection."""
    sock.setblocking(True)
    deadline = time.monotonic() + timeout
    for _ in range(100_000):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        sock.settimeout(remaining)
        try:
            if not sock.recv(1 << 20):
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except TimeoutError:
            return False
    return False


def metric(server: SmscServer, name: str) -> float:
    return scrape(server.metrics_url()).get(name, 0.0)


def wait_metric(server: SmscServer, name: str, value: float, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while (seen := metric(server, name)) != value:
        assert time.monotonic() < deadline, f"{name} is {seen}, not {value}"
        time.sleep(0.1)


ENQUIRE_LINKS = b"".join(encode(pdus.EnquireLink(sequence_number=n + 1)) for n in range(2048))
SUBMITS = b"".join(encode(pdus.SubmitSm(
    sequence_number=n + 1, source_addr_ton=5, source_addr="Tester", dest_addr_ton=1,
    dest_addr_npi=1, destination_addr=UA_NUMBERS[n % len(UA_NUMBERS)], short_message=b"flood",
    registered_delivery=1)) for n in range(512))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["unbound enquire_link", "bound submit_sm"])
def test_a_peer_that_never_reads_is_stalled_bounded_and_aborted(
    guarded: SmscServer, kind: str
) -> None:
    server = guarded
    closed_before = metric(server, 'smsc_connections_closed_total{reason="drain_timeout"}')
    bind = server.add_account(credit="1000") if kind.startswith("bound") else None
    sock, sent = flood(server.port, SUBMITS if bind else ENQUIRE_LINKS, bind=bind)
    try:
        samples = scrape(server.metrics_url())
        # The server stopped reading: the flood stalled, its output held at the bound.
        assert samples["smsc_connections_paused"] == 1, f"sent {sent} bytes"
        assert samples["smsc_output_unsent_max_bytes"] <= OUTPUT_BUFFER + SLACK
        # A bystander is answered meanwhile.
        login = server.add_account()
        with bound_esme(server.port, "trx", login) as esme:
            assert isinstance(esme.request(pdus.EnquireLink()), pdus.EnquireLinkResp)
        # drain_timeout (2 s) later the flooder is aborted (reading would let it drain).
        wait_metric(server, 'smsc_connections_closed_total{reason="drain_timeout"}',
                    closed_before + 1, 10.0)
        assert closed_by_server(sock, IO_TIMEOUT)
        assert metric(server, "smsc_connections_paused") == 0
    finally:
        sock.close()


def _log_lines(server: SmscServer) -> int:
    return len(server.log.read_text(errors="replace").splitlines())


def test_a_flood_of_unsolicited_responses_before_a_bind_is_cut_short(
    guarded: SmscServer,
) -> None:
    server = guarded
    before = _log_lines(server)
    raw = RawConnection(server.port, source=new_source())
    try:
        flood_bytes = b"".join(encode(pdus.DeliverSmResp(sequence_number=n + 1))
                               for n in range(10_000))
        with contextlib.suppress(OSError):  # the server may close while this is sent
            raw.send(flood_bytes)
        nack = raw.read()
        assert isinstance(nack, pdus.GenericNack), nack
        assert nack.command_status == CommandStatus.ESME_RINVBNDSTS
        assert raw.closed_within(IO_TIMEOUT)
    finally:
        raw.close()
    time.sleep(0.2)  # the server's last lines about it
    assert _log_lines(server) - before < 20


@pytest.mark.slow
def test_connections_per_address_and_in_total_are_capped(
    tmp_path: Path, servers: Callable[..., SmscServer]
) -> None:
    config = write_config(tmp_path, server={"max_connections_per_address": 2,
                                            "max_connections": 4})
    server = servers(tmp_path / "smsc.sqlite", config, "--metrics", f"tcp:0:interface={HOST}")
    url = server.metrics_url()

    def open_now(count: int) -> None:
        """Wait until the server itself counts ``count`` open connections (each step starts
        from what the server has accepted, not from what the client has sent)."""
        deadline = time.monotonic() + IO_TIMEOUT
        while scrape(url)["smsc_connections"] != count:
            assert time.monotonic() < deadline, f"the server never had {count} open"
            time.sleep(0.02)

    def refused(source: str) -> bool:
        """A connection from ``source`` that the server closes at once. Its reset may come
        before connect() returns, which is a refusal too."""
        try:
            conn = RawConnection(server.port, source=source)
        except ConnectionResetError:
            return True
        try:
            return conn.closed_within(IO_TIMEOUT)
        finally:
            conn.close()

    login = server.add_account()
    a, b, c, d = (new_source() for _ in range(4))
    opened: list[RawConnection] = []
    try:
        first = RawConnection(server.port, source=a)
        opened.append(first)
        open_now(1)  # the first is the oldest
        second = RawConnection(server.port, source=a)
        opened.append(second)
        open_now(2)
        assert refused(a)  # a third from one address
        open_now(2)
        others = [RawConnection(server.port, source=b), RawConnection(server.port, source=c)]
        opened.extend(others)
        open_now(4)
        assert not second.closed_within(0.2)
        # Four open, none bound: a newcomer makes the oldest never-bound one go. (That bound
        # connections are never evicted is an adapter test: tests/server/test_peers.py.)
        newcomer = RawConnection(server.port, source=d)
        opened.append(newcomer)
        assert first.closed_within(IO_TIMEOUT)
        open_now(4)
        assert not second.closed_within(0.2)
        assert not newcomer.closed_within(0.2)
        with bound_esme(server.port, "trx", login, source=d) as esme:  # evicts second, binds
            assert isinstance(esme.request(pdus.EnquireLink()), pdus.EnquireLinkResp)
    finally:
        for conn in opened:
            conn.close()


@pytest.mark.slow
def test_the_open_files_soft_limit_is_raised_to_the_hard_one(
    tmp_path: Path, servers: Callable[..., SmscServer]
) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    low = min(256, hard)
    if low == hard:
        pytest.skip("the hard limit of open files is already as low as the test's")
    resource.setrlimit(resource.RLIMIT_NOFILE, (low, hard))
    try:  # the server inherits the low soft limit
        server = servers(tmp_path / "smsc.sqlite", write_config(tmp_path))
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    limits = Path(f"/proc/{server.pid}/limits").read_text()
    (line,) = [row for row in limits.splitlines() if row.startswith("Max open files")]
    server_soft, server_hard = line.split()[3:5]
    assert server_soft == server_hard
    with CodecEsme(server.port) as esme:
        assert isinstance(esme.request(pdus.EnquireLink()), pdus.EnquireLinkResp)
