"""The HTTP API on every kind of listener ``[http] listen`` takes, over real sockets: TCP with
keep-alive and pipelining, TLS, a UNIX socket, and ``haproxy:`` behind a PROXY header, whose
client address (not the balancer's) is the one the API sees; plus what a raw client sending
bad or partial input gets."""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.http.conftest import ApiServer, lines_until, spawn_serve
from tests.integration.conftest import STARTUP_TIMEOUT, STOP_TIMEOUT, write_config
from tests.integration.test_tls import certificate, trusting  # noqa: F401 - the fixture

TIMEOUT = 15.0


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory,
           certificate: tuple[Path, Path]) -> Iterator[tuple[ApiServer, dict[str, Any]]]:  # noqa: F811
    """A server with four HTTP listeners: its API (the TCP one) and where each listens."""
    directory = tmp_path_factory.mktemp("listeners")
    cert, key = certificate
    sock = directory / "api.sock"
    config = write_config(directory / "conf")
    listen = ["tcp:0:interface=127.0.0.1",
              f"ssl:0:privateKey={key}:certKey={cert}:interface=127.0.0.1",
              f"unix:{sock}", "haproxy:tcp:0:interface=127.0.0.1"]
    with config.open("a") as f:
        f.write("\n[http]\nlisten = [" + ", ".join(json.dumps(x) for x in listen) + "]\n")
    db, log = directory / "smsc.sqlite", directory / "server.log"
    process, lines = spawn_serve(directory, db, config, log, "--listen",
                                 "tcp:0:interface=127.0.0.1")
    announced: list[str] = []
    for line in lines_until(lines, time.monotonic() + STARTUP_TIMEOUT):
        if line.startswith("HTTP API on "):
            announced.append(line.strip().removeprefix("HTTP API on ").removesuffix("/v1"))
        if len(announced) == 4:
            break
    api = ApiServer(process=process, db=db, url=announced[0] if announced else "", smpp_port=0,
                    log=log)
    try:
        assert len(announced) == 4, (announced, log.read_text()[-2000:])
        tcp, tls, unix, proxied = announced
        assert tls.startswith("https://") and unix == f"unix:{sock}"
        yield api, {"tcp": _port(tcp), "tls": _port(tls), "unix": str(sock),
                    "proxied": _port(proxied), "cert": cert}
    finally:
        api.stop()
        assert process.wait(timeout=STOP_TIMEOUT) is not None


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def exchange(sock: socket.socket, data: bytes, answers: int) -> bytes:
    """Send ``data`` and read until ``answers`` complete answers (by Content-Length) came,
    or the server closed."""
    sock.settimeout(TIMEOUT)
    sock.sendall(data)
    got = b""
    while _complete(got) < answers:
        chunk = sock.recv(65536)
        if not chunk:
            break
        got += chunk
    return got


def _complete(data: bytes) -> int:
    return len(statuses(data))


def statuses(data: bytes) -> list[int]:
    """The statuses of the complete answers in ``data`` (bodies by Content-Length; a HEAD's
    answer must come last)."""
    out: list[int] = []
    while True:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            return out
        lines = head.split(b"\r\n")
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if len(rest) < length:
            return out
        out.append(int(lines[0].split()[1]))
        data = rest[length:]


def test_tcp_keeps_the_connection_and_answers_pipelined_requests_in_order(
        served: tuple[ApiServer, dict[str, Any]]) -> None:
    api, where = served
    _, key = api.account()
    auth = f"Authorization: Bearer {key}\r\n".encode()
    with socket.create_connection(("127.0.0.1", where["tcp"])) as sock:
        got = exchange(sock, b"GET /v1/balance HTTP/1.1\r\nHost: x\r\n" + auth + b"\r\n"
                       b"GET /v1/nothing HTTP/1.1\r\nHost: x\r\n" + auth + b"\r\n"
                       b"PUT /v1/balance HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n" + auth
                       + b"\r\nGET /v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n", 4)
        assert statuses(got) == [200, 404, 405, 200], got[:3000]
        got = exchange(sock, b"HEAD /v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n"
                       b"GET /v1/balance HTTP/1.1\r\nConnection: close\r\n" + auth
                       + b"\r\n", 1)  # a HEAD's Content-Length has no body: read to the end
        while chunk := sock.recv(65536):
            got += chunk
    head, _, rest = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"Content-Length: " in head
    assert statuses(rest) == [200] and b"Connection: close" in rest


def test_a_chunked_post_with_100_continue_sends_a_message(
        served: tuple[ApiServer, dict[str, Any]]) -> None:
    api, where = served
    _, key = api.account()
    body = json.dumps({"to": ["380671234567"], "text": "chunked", "from": "Shop"}).encode()
    with socket.create_connection(("127.0.0.1", where["tcp"])) as sock:
        sock.settimeout(TIMEOUT)
        sock.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                     + key.encode() + b"\r\nContent-Type: application/json\r\n"
                     b"Expect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n")
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        got = exchange(sock, b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body), 1)
    answer = got.partition(b"\r\n\r\n")[2]
    assert statuses(got) == [200], got
    assert json.loads(answer)["messages"][0]["to"] == "380671234567"


def test_bad_input_is_a_400_and_an_unknown_method_a_501_then_closed(
        served: tuple[ApiServer, dict[str, Any]]) -> None:
    _, where = served
    for request, status in ((b"GET /v1/balance HTTP/1.1\r\nno colon here\r\n\r\n", 400),
                            (b"FROB /v1/balance HTTP/1.1\r\n\r\n", 501)):
        with socket.create_connection(("127.0.0.1", where["tcp"])) as sock:
            got = exchange(sock, request, 1)
            assert statuses(got) == [status] and b"Connection: close" in got
            assert sock.recv(100) == b""


def test_tls(served: tuple[ApiServer, dict[str, Any]]) -> None:
    api, where = served
    _, key = api.account()
    conn = http.client.HTTPSConnection("127.0.0.1", where["tls"], timeout=TIMEOUT,
                                       context=trusting(where["cert"]))
    try:
        for _ in range(2):  # the same connection, kept alive
            conn.request("GET", "/v1/balance", headers={"Authorization": f"Bearer {key}"})
            response = conn.getresponse()
            assert response.status == 200 and "available" in json.loads(response.read())
    finally:
        conn.close()
    with socket.create_connection(("127.0.0.1", where["tls"])) as plain:
        got = exchange(plain, b"GET /v1/balance HTTP/1.1\r\n\r\n", 1)
    assert statuses(got) == []  # plain HTTP to the TLS port gets no answer


def test_a_unix_socket(served: tuple[ApiServer, dict[str, Any]]) -> None:
    api, where = served
    _, key = api.account()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(where["unix"])
        got = exchange(sock, b"GET /v1/balance HTTP/1.1\r\nAuthorization: Bearer "
                       + key.encode() + b"\r\n\r\n", 1)
    assert statuses(got) == [200]


def test_behind_a_proxy_header_the_api_sees_the_customer_s_address(
        served: tuple[ApiServer, dict[str, Any]]) -> None:
    api, where = served
    with socket.create_connection(("127.0.0.1", where["proxied"])) as sock:
        got = exchange(sock, b"PROXY TCP4 203.0.113.9 127.0.0.1 50000 80\r\n"
                       b"GET /v1/balance HTTP/1.1\r\nAuthorization: Bearer smsc_00000000.x\r\n"
                       b"\r\n", 1)
    assert statuses(got) == [401]
    deadline = time.monotonic() + TIMEOUT
    while "refused from 203.0.113.9" not in api.log.read_text():
        assert time.monotonic() < deadline, api.log.read_text()[-2000:]
        time.sleep(0.05)
    with socket.create_connection(("127.0.0.1", where["proxied"])) as sock:
        got = exchange(sock, b"GET /v1/balance HTTP/1.1\r\n\r\n", 1)  # no header: closed unread
    assert got == b""
