"""A listener behind a load balancer (``haproxy:tcp:...``, docs/cluster.md) reads the PROXY
protocol header HAProxy sends first: the bind is judged by the customer's address it names,
not by the balancer's (here, loopback)."""

from __future__ import annotations

from pathlib import Path

from smsc.pdu import encode, pdus
from smsc.pdu.constants import CommandStatus
from tests.integration.conftest import (
    LISTEN,
    RawConnection,
    SmscServer,
    run_cli,
    start_server,
    write_config,
)


def _bind_from(port: int, header: bytes, password: str) -> int | None:
    """The bind's status, or None when the connection closed without an answer."""
    conn = RawConnection(port)
    try:
        conn.send(header + encode(pdus.BindTransmitter(sequence_number=1, system_id="proxied",
                                                       password=password)))
        answer = conn.read()
        return None if answer is None else answer.command_status
    finally:
        conn.close()


def test_an_account_allowed_one_network_binds_through_the_balancer_from_it(
        tmp_path: Path) -> None:
    db = tmp_path / "smsc.sqlite"
    run_cli(db, "account", "add", "proxied", "--password", "pw123456", "--credit", "1",
            "--allowed-ip", "203.0.113.0/24")
    server: SmscServer = start_server(db, write_config(tmp_path),
                                      extra_listen=["haproxy:" + LISTEN])
    try:
        proxied = server.port  # the haproxy: listener, announced first
        inside = b"PROXY TCP4 203.0.113.7 127.0.0.1 40000 2775\r\n"
        outside = b"PROXY TCP4 198.51.100.9 127.0.0.1 40000 2775\r\n"
        v2_inside = (b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c"
                     + bytes([203, 0, 113, 8, 127, 0, 0, 1]) + b"\x9c\x40\x0a\xd7")
        assert _bind_from(proxied, inside, "pw123456") == CommandStatus.ESME_ROK
        assert _bind_from(proxied, v2_inside, "pw123456") == CommandStatus.ESME_ROK
        assert _bind_from(proxied, outside, "pw123456") == CommandStatus.ESME_RBINDFAIL
        assert _bind_from(proxied, b"", "pw123456") is None  # no header: not a balancer
    finally:
        server.stop()
