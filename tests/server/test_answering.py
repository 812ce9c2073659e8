"""ApiResource on the lean server, its coroutine driven by smsc.server.web.answering: an
answer written once the send's Deferred fires, a failure of that Deferred raised in the send
(a problem answer), an unexpected error answered 500, and a client gone before its answer
getting nothing written while the answer is still counted."""
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace
from typing import Any

from twisted.internet import defer, task
from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from smsc.http import problems as p
from smsc.http.replies import JSON, ProblemReply, Reply, problem
from smsc.server.web.lean_server import HttpLimits, LeanHttpFactory, LeanHttpProtocol
from smsc.server.web.site import ApiResource, ApiRoot

PEER = IPv4Address("TCP", "192.0.2.7", 41000)
BODY = b'{"to":["380671000000"],"text":"hello"}'
SEND = (b"POST /v1/messages HTTP/1.1\r\nAuthorization: Bearer k\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY))


class StubApi:
    """The key taken; each send waits on a Deferred the test fires (its body recorded)."""

    def __init__(self) -> None:
        self.answers: Counter[int] = Counter()
        self.settings = SimpleNamespace(max_body=1000)
        self.waiting: list[defer.Deferred[Any]] = []
        self.bodies: list[bytes] = []

    async def authenticate(self, authorization: str | None, address: str) -> object:
        assert authorization == "Bearer k" and address == "192.0.2.7"
        return object()

    async def send(self, caller: object, body: bytes, key: str | None) -> Reply:
        self.bodies.append(body)
        d: defer.Deferred[Any] = defer.Deferred()
        self.waiting.append(d)
        got = await d
        if got == "boom":
            raise RuntimeError("an unexpected error")
        return Reply(200, JSON, b'{"n":%d}' % len(self.bodies))


def connect() -> tuple[StubApi, LeanHttpProtocol, StringTransport]:
    api = StubApi()
    clock = task.Clock()
    clock.advance(1_700_000_000)
    factory = LeanHttpFactory(ApiRoot(ApiResource(api)), clock, HttpLimits(max_body=1000))  # type: ignore[arg-type]
    protocol = factory.buildProtocol(PEER)
    transport = StringTransport(peerAddress=PEER)
    protocol.makeConnection(transport)
    return api, protocol, transport


def test_a_send_is_written_when_its_deferred_fires_then_the_next_is_read() -> None:
    api, protocol, transport = connect()
    protocol.dataReceived(SEND + SEND)
    assert transport.value() == b"" and len(api.waiting) == 1  # one answered at a time
    assert api.bodies == [BODY]
    api.waiting.pop().callback(None)
    first = transport.value()
    assert first.startswith(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                            b"Cache-Control: no-store\r\nContent-Length: 7\r\nDate: ")
    assert first.endswith(b'Server: smsc\r\n\r\n{"n":1}')
    api.waiting.pop().callback(None)
    assert transport.value().endswith(b'{"n":2}') and api.answers == Counter({200: 2})


def test_a_failed_deferred_is_raised_in_the_send_and_answered_as_its_problem() -> None:
    api, protocol, transport = connect()
    protocol.dataReceived(SEND)
    api.waiting.pop().errback(ProblemReply(problem(p.STORE_UNAVAILABLE, retry_after=1)))
    status_line, _, rest = transport.value().partition(b"\r\n")
    assert status_line == b"HTTP/1.1 503 Service Unavailable"
    assert b"\r\nRetry-After: 1\r\n" in rest and b"application/problem+json" in rest
    assert api.answers == Counter({503: 1})


def test_an_unexpected_error_is_a_500_and_the_connection_goes_on() -> None:
    api, protocol, transport = connect()
    protocol.dataReceived(SEND)
    api.waiting.pop().callback("boom")
    assert transport.value().startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    transport.clear()
    protocol.dataReceived(SEND)
    api.waiting.pop().callback(None)
    assert transport.value().startswith(b"HTTP/1.1 200 OK\r\n")
    assert api.answers == Counter({500: 1, 200: 1})


def test_a_client_gone_before_its_answer_gets_nothing_and_the_answer_is_counted() -> None:
    api, protocol, transport = connect()
    protocol.dataReceived(SEND)
    protocol.connectionLost(Failure(ConnectionError("gone")))
    api.waiting.pop().callback(None)
    assert transport.value() == b"" and api.answers == Counter({200: 1})
