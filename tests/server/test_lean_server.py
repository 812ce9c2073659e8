"""The lean HTTP/1.1 server (smsc.server.web.lean_server) on StringTransport and task.Clock:
keep-alive and close, pipelined requests answered in order one at a time, 100-continue,
chunked bodies, HEAD, bodies past max_body, limits on the head, idle timeouts, clients that go
away or stop reading, and any split of the input giving the same answers."""
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import io
import itertools
import socket
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import task, tcp
from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import IPushProducer
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET
from zope.interface import implementer

from smsc.server.web.lean_request import LeanRequest
from smsc.server.web.lean_server import HttpLimits, LeanHttpFactory, LeanHttpProtocol

PEER = IPv4Address("TCP", "192.0.2.7", 41000)


class Held(Resource):
    """Keeps every request unanswered (``pending``) for the test to answer."""

    isLeaf = True  # noqa: N815

    def __init__(self) -> None:
        super().__init__()
        self.pending: list[LeanRequest] = []
        self.lost: list[LeanRequest] = []

    def render(self, request: Any) -> Any:
        self.pending.append(request)
        request.notifyFinish().addErrback(lambda _: self.lost.append(request))
        return NOT_DONE_YET


class Echo(Resource):
    """Answers at once: method, path, args, body and the client's address."""

    isLeaf = True  # noqa: N815

    def render(self, request: Any) -> Any:
        body = request.content.read() if request.content is not None else b""
        args = b"&".join(b"%s=%s" % (k, b",".join(v)) for k, v in sorted(request.args.items()))
        request.setHeader(b"content-type", b"text/plain")
        return b"%s %s [%s] %s from %s" % (request.method, request.path, args, body,
                                           request.getClientAddress().host.encode())


def connect(resource: Resource, **limits: Any) -> tuple[LeanHttpProtocol, StringTransport,
                                                       task.Clock]:
    clock = task.Clock()
    clock.advance(1_700_000_000)
    factory = LeanHttpFactory(resource, clock, HttpLimits(**{"max_body": 1000, **limits}))
    protocol = factory.buildProtocol(PEER)
    transport = StringTransport(peerAddress=PEER)
    protocol.makeConnection(transport)
    return protocol, transport, clock


def answers(transport: StringTransport) -> list[tuple[int, dict[str, str], bytes]]:
    return parse(transport.value())


def parse(data: bytes, heads: tuple[int, ...] = ()) -> list[tuple[int, dict[str, str], bytes]]:
    """The answers in ``data``: (status, headers lower-cased, body by Content-Length or
    chunks; none for the answers numbered in ``heads``, to HEAD requests)."""
    out: list[tuple[int, dict[str, str], bytes]] = []
    while data:
        head, _, data = data.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {n.lower(): v.strip() for n, _, v in (x.partition(":") for x in lines)}
        status = int(status_line.split()[1])
        if status == 100:
            out.append((100, headers, b""))
            continue
        if headers.get("transfer-encoding") == "chunked":
            body = b""
            while True:
                size_line, _, data = data.partition(b"\r\n")
                size = int(size_line, 16)
                body, data = body + data[:size], data[size + 2:]
                if size == 0:
                    break
        elif len(out) in heads:
            body = b""
        else:
            size = int(headers.get("content-length", "0"))
            body, data = data[:size], data[size:]
        out.append((status, headers, body))
    return out


def answer(request: LeanRequest, body: bytes, status: int = 200) -> None:
    request.setResponseCode(status)
    request.write(body)
    request.finish()


def test_a_request_is_answered_with_its_length_date_and_server_and_kept_alive() -> None:
    protocol, transport, _ = connect(Echo())
    protocol.dataReceived(b"GET /a%20b?x=1&y=%C3%A9&z= HTTP/1.1\r\nHost: h\r\n\r\n")
    [(status, headers, body)] = answers(transport)
    assert status == 200 and body == b"GET /a%20b [x=1&y=\xc3\xa9&z=]  from 192.0.2.7"
    assert headers["content-length"] == str(len(body))
    assert headers["date"].endswith("GMT") and headers["server"] == "smsc"
    assert "connection" not in headers and not transport.disconnecting


def test_pipelined_requests_are_answered_in_order_one_at_a_time() -> None:
    held = Held()
    protocol, transport, _ = connect(held)
    protocol.dataReceived(b"GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 2\r\n"
                          b"\r\nhiGET /3 HTTP/1.1\r\n\r\n")
    assert [r.path for r in held.pending] == [b"/1"]  # the next waits its turn
    answer(held.pending[0], b"one")
    assert [r.path for r in held.pending] == [b"/1", b"/2"]
    assert held.pending[1].content is not None and held.pending[1].content.read() == b"hi"
    answer(held.pending[1], b"two")
    answer(held.pending[2], b"three")
    assert [a[2] for a in answers(transport)] == [b"one", b"two", b"three"]
    assert not transport.disconnecting


def test_reading_pauses_while_a_request_is_answered_and_much_is_waiting() -> None:
    held = Held()
    protocol, transport, _ = connect(held)
    protocol.dataReceived(b"GET /1 HTTP/1.1\r\n\r\n")
    assert transport.producerState == "producing"
    protocol.dataReceived(b"GET /2 HTTP/1.1\r\nX: " + b"y" * 10_000 + b"\r\n\r\n")
    protocol.dataReceived(b"GET /3 HTTP/1.1\r\nX: " + b"y" * 10_000 + b"\r\n\r\n")
    assert transport.producerState == "paused" and len(held.pending) == 1
    answer(held.pending[0], b"one")
    answer(held.pending[1], b"two")
    assert transport.producerState == "producing" and len(held.pending) == 3


def test_http_1_0_closes_unless_it_asks_to_keep_alive() -> None:
    protocol, transport, _ = connect(Echo())
    protocol.dataReceived(b"GET /k HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    [(_, headers, _)] = answers(transport)
    assert headers["connection"] == "keep-alive" and not transport.disconnecting
    assert transport.value().startswith(b"HTTP/1.0 200 OK\r\n")
    protocol.dataReceived(b"GET /c HTTP/1.0\r\n\r\nGET /never HTTP/1.0\r\n\r\n")
    assert [a[1].get("connection") for a in answers(transport)] == ["keep-alive", "close"]
    assert transport.disconnecting


def test_connection_close_ends_after_its_answer_and_reads_nothing_after() -> None:
    held = Held()
    protocol, transport, _ = connect(held)
    protocol.dataReceived(b"GET /1 HTTP/1.1\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\n\r\n")
    answer(held.pending[0], b"bye")
    [(_, headers, body)] = answers(transport)
    assert headers["connection"] == "close" and body == b"bye"
    assert transport.disconnecting and len(held.pending) == 1


def test_100_continue_is_sent_before_the_body_is_read() -> None:
    held = Held()
    protocol, transport, _ = connect(held)
    protocol.dataReceived(b"POST /up HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5"
                          b"\r\n\r\n")
    assert transport.value() == b"HTTP/1.1 100 Continue\r\n\r\n" and not held.pending
    protocol.dataReceived(b"hello")
    assert held.pending[0].content is not None and held.pending[0].content.read() == b"hello"


def test_100_continue_of_a_pipelined_request_waits_for_the_answers_before_it() -> None:
    held = Held()
    protocol, transport, _ = connect(held)
    protocol.dataReceived(b"GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nExpect: 100-continue\r\n"
                          b"Content-Length: 2\r\n\r\n")
    assert transport.value() == b""
    answer(held.pending[0], b"one")
    assert [a[0] for a in answers(transport)] == [200, 100]
    protocol.dataReceived(b"ok")
    answer(held.pending[1], b"two")
    assert [a[0] for a in answers(transport)] == [200, 100, 200]


def test_a_body_declared_too_large_with_100_continue_is_answered_unread_then_closed() -> None:
    held = Held()
    protocol, transport, _ = connect(held, max_body=10)
    protocol.dataReceived(b"POST /big HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 11"
                          b"\r\n\r\n")
    [request] = held.pending
    assert request.too_large and transport.value() == b""
    answer(request, b"too large", 413)
    [(status, headers, _)] = answers(transport)
    assert status == 413 and headers["connection"] == "close" and transport.disconnecting


def test_a_body_past_max_body_is_read_and_dropped_and_the_connection_kept() -> None:
    held = Held()
    protocol, transport, _ = connect(held, max_body=10)
    protocol.dataReceived(b"POST /big HTTP/1.1\r\nContent-Length: 20\r\n\r\n" + b"x" * 20
                          + b"POST /chunked HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                          + b"8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n")
    [big] = held.pending
    assert big.too_large and big.content is not None and big.content.read() == b""
    answer(big, b"413", 413)
    chunked = held.pending[1]
    assert chunked.too_large and chunked.received == 16
    answer(chunked, b"413", 413)
    assert [a[0] for a in answers(transport)] == [413, 413] and not transport.disconnecting


def test_a_body_endlessly_past_max_body_is_answered_and_closed_without_the_rest() -> None:
    held = Held()
    protocol, transport, _ = connect(held, max_body=10)
    protocol.dataReceived(b"POST /endless HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
    for _ in range(100):  # a client that would send chunks for ever
        protocol.dataReceived(b"8\r\n12345678\r\n")
    [request] = held.pending
    assert request.too_large and 20 < request.received <= 32  # dropped up to twice max_body
    answer(request, b"413", 413)
    [(status, headers, _)] = answers(transport)
    assert status == 413 and headers["connection"] == "close" and transport.disconnecting


def test_a_chunked_body_is_put_together() -> None:
    protocol, transport, _ = connect(Echo())
    protocol.dataReceived(b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                          b"3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nTrailer: x\r\n\r\n")
    [(status, _, body)] = answers(transport)
    assert status == 200 and body.startswith(b"POST /c [] abcde ")


def test_head_is_answered_with_the_length_and_no_body() -> None:
    held = Held()
    protocol, transport, _ = connect(held)
    protocol.dataReceived(b"HEAD /h HTTP/1.1\r\n\r\nGET /g HTTP/1.1\r\n\r\n")
    answer(held.pending[0], b"12345")
    answer(held.pending[1], b"abc")
    head, _, rest = transport.value().partition(b"\r\n\r\n")
    assert b"Content-Length: 5" in head and rest.startswith(b"HTTP/1.1 200 OK")


def test_a_form_post_outside_v1_is_read_into_args() -> None:
    protocol, transport, _ = connect(Echo())
    body = b"b=2&text=hi+there&a=1"
    protocol.dataReceived(b"POST /cgi-bin/x?a=0&c=3 HTTP/1.1\r\nContent-Type: application/"
                          b"x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s"
                          % (len(body), body))
    [(_, _, answer_body)] = answers(transport)
    assert answer_body.startswith(b"POST /cgi-bin/x [a=1&b=2&c=3&text=hi there] ")
    protocol.dataReceived(b"POST /v1/x HTTP/1.1\r\nContent-Type: application/"
                          b"x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\na=1")
    assert answers(transport)[1][2].startswith(b"POST /v1/x [] a=1 ")  # /v1 takes no forms


def test_a_multipart_form_is_read_into_args() -> None:
    protocol, transport, _ = connect(Echo())
    body = (b"--XX\r\nContent-Disposition: form-data; name=\"to\"\r\n\r\n123\r\n"
            b"--XX\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nhello\r\n--XX--\r\n")
    protocol.dataReceived(b"POST /f HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=XX"
                          b"\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    assert answers(transport)[0][2].startswith(b"POST /f [text=hello&to=123] ")


def test_unreadable_input_is_a_400_then_closed() -> None:
    protocol, transport, _ = connect(Echo())
    protocol.dataReceived(b"GET /ok HTTP/1.1\r\n\r\nGET /bad HTTP/1.1\r\nno colon\r\n\r\n")
    statuses = [a[0] for a in answers(transport)]
    assert statuses == [200, 400] and transport.disconnecting
    assert answers(transport)[1][1]["content-type"] == "application/problem+json"


def test_an_unknown_method_is_a_501() -> None:
    protocol, transport, _ = connect(Echo())
    protocol.dataReceived(b"FROB /x HTTP/1.1\r\n\r\n")
    assert [a[0] for a in answers(transport)] == [501] and transport.disconnecting


def test_a_head_past_its_limits_is_refused_and_closed() -> None:
    for request, status in (
            (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", 414),
            (b"GET / HTTP/1.1\r\n" + b"X-A: 1\r\n" * 101 + b"\r\n", 431),
            (b"GET / HTTP/1.1\r\nX-A: " + b"b" * 40_000, 431)):  # never ends
        protocol, transport, _ = connect(Echo())
        for at in range(0, len(request), 1000):
            protocol.dataReceived(request[at:at + 1000])
        assert [a[0] for a in answers(transport)] == [status] and transport.disconnecting


def test_an_idle_connection_is_closed_after_the_timeout_but_not_while_answered() -> None:
    held = Held()
    protocol, transport, clock = connect(held, timeout=60.0)
    clock.advance(59)
    protocol.dataReceived(b"GET /1 HTTP/1.1\r\n\r\n")
    clock.advance(120)  # the server is still working on it: not idle
    assert not transport.disconnecting
    answer(held.pending[0], b"one")
    clock.advance(59)
    assert not transport.disconnecting
    clock.advance(2)
    assert transport.disconnecting


def test_a_client_gone_during_an_answer_gets_nothing_written() -> None:
    held = Held()
    protocol, transport, _ = connect(held)
    protocol.dataReceived(b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n")
    [first] = held.pending
    protocol.connectionLost(Failure(ConnectionError("gone")))
    assert held.lost == [first]
    answer(first, b"late")
    assert transport.value() == b"" and len(held.pending) == 1


@implementer(IPushProducer)
class Producer:
    def __init__(self) -> None:
        self.state = "producing"

    def pauseProducing(self) -> None:
        self.state = "paused"

    def resumeProducing(self) -> None:
        self.state = "producing"

    def stopProducing(self) -> None:
        self.state = "stopped"


def test_a_streamed_answer_is_chunked_and_follows_the_client_s_reading() -> None:
    held = Held()
    protocol, transport, _ = connect(held)
    protocol.dataReceived(b"GET /csv HTTP/1.1\r\n\r\nGET /next HTTP/1.1\r\n\r\n")
    [request] = held.pending
    producer = Producer()
    request.registerProducer(producer, True)
    request.write(b"a,b\n")
    protocol.pauseProducing()  # the client stopped reading
    assert producer.state == "paused" and transport.producerState == "paused"
    protocol.resumeProducing()
    assert producer.state == "producing"
    request.write(b"1,2\n")
    request.unregisterProducer()
    protocol.pauseProducing()
    request.finish()
    assert len(held.pending) == 1  # the next waits while the client does not read
    protocol.resumeProducing()
    assert len(held.pending) == 2
    [(status, headers, body)] = answers(transport)
    assert status == 200 and headers["transfer-encoding"] == "chunked" and body == b"a,b\n1,2\n"


def test_a_stream_cut_half_way_closes_the_connection_without_the_last_chunk() -> None:
    held = Held()
    protocol, transport, _ = connect(held)
    protocol.dataReceived(b"GET /csv HTTP/1.1\r\n\r\n")
    request = held.pending[0]
    request.registerProducer(Producer(), True)
    request.write(b"a,b\n")
    request.loseConnection()
    assert transport.disconnecting and not transport.value().endswith(b"0\r\n\r\n")


def test_a_client_that_stops_reading_a_stream_is_closed_as_idle() -> None:
    held = Held()
    protocol, transport, clock = connect(held, timeout=60.0)
    protocol.dataReceived(b"GET /csv HTTP/1.1\r\n\r\n")
    held.pending[0].registerProducer(Producer(), True)
    protocol.pauseProducing()
    clock.advance(61)
    assert transport.disconnecting


def test_a_large_body_is_kept_in_a_file_and_closed_with_the_request() -> None:
    held = Held()
    protocol, _, _ = connect(held, max_body=300_000)
    protocol.dataReceived(b"POST /f HTTP/1.1\r\nContent-Length: 200000\r\n\r\n")
    for _ in range(20):
        protocol.dataReceived(b"z" * 10_000)
    [request] = held.pending
    content = request.content
    assert content is not None and not isinstance(content, io.BytesIO)
    assert content.read() == b"z" * 200_000
    answer(request, b"ok")
    assert content.closed


STREAM = (b"GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n"
          b"POST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
          b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
          b"HEAD /d HTTP/1.1\r\n\r\n"
          b"POST /e HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok"
          b"GET /f HTTP/1.0\r\n\r\n")


def _served(pieces: list[bytes]) -> bytes:
    protocol, transport, _ = connect(Echo())
    for piece in pieces:
        protocol.dataReceived(piece)
    served: bytes = transport.value()
    return served


WHOLE = _served([STREAM])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_any_split_of_the_input_gives_the_same_answers(cuts: list[int]) -> None:
    points = [0, *sorted(cuts), len(STREAM)]
    served = _served([STREAM[a:b] for a, b in itertools.pairwise(points)])
    # the 100 Continue goes out only while the body is not there yet
    assert served.replace(b"HTTP/1.1 100 Continue\r\n\r\n", b"") == WHOLE.replace(
        b"HTTP/1.1 100 Continue\r\n\r\n", b"")
    assert [a[0] for a in parse(WHOLE, heads=(3,))] == [200] * 6


def test_a_body_without_a_length_is_no_body_and_what_follows_is_read_as_a_request() -> None:
    protocol, transport, _ = connect(Echo())
    protocol.dataReceived(b"POST /nolength HTTP/1.1\r\nContent-Type: application/json\r\n\r\n"
                          b'{"to": "1"}\r\n\r\n')
    first, second = answers(transport)
    assert first[0] == 200 and first[2].startswith(b"POST /nolength []  from ")
    assert second[0] == 501 and transport.disconnecting  # '{"to"' read as a method



class Sized(Resource):
    """Answers ``/N`` with N octets of a repeating pattern, whole (with its length)."""

    isLeaf = True  # noqa: N815

    def render(self, request: Any) -> Any:
        return pattern(int(request.path[1:]))


def pattern(size: int) -> bytes:
    return (b"0123456789abcdef" * (size // 16 + 1))[:size]


def tcp_connection(resource: Resource) -> tuple[LeanHttpProtocol, Any, socket.socket,
                                               MemoryReactorClock]:
    """The server's end of a real (UNIX) socket pair as a Twisted TCP transport, on a
    MemoryReactor that records which descriptors are registered for writing."""
    reactor = MemoryReactorClock()
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    theirs.settimeout(0.5)
    factory = LeanHttpFactory(resource, reactor, HttpLimits())
    protocol = factory.buildProtocol(PEER)
    port = SimpleNamespace(_realPortNumber=80)  # what a transport shows of its listener
    transport = tcp.Server(ours, protocol, ("192.0.2.7", 41000), port, 1,  # type: ignore[arg-type]
                           reactor)
    protocol.makeConnection(transport)
    return protocol, transport, theirs, reactor


def read_all(sock: socket.socket) -> bytes:
    """What ``sock`` has to read until nothing comes for half a second (bounded)."""
    out = b""
    for _ in range(10_000):
        try:
            piece = sock.recv(1 << 20)
        except TimeoutError:
            break
        if not piece:
            break
        out += piece
    return out


def test_an_answer_goes_straight_to_an_idle_socket_without_registering_a_writer() -> None:
    protocol, transport, theirs, reactor = tcp_connection(Sized())
    try:
        protocol.dataReceived(b"GET /5 HTTP/1.1\r\nHost: x\r\n\r\n"
                              b"GET /7 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert transport not in reactor.getWriters()  # nothing left for the loop to write
        assert [(s, b) for s, _, b in parse(read_all(theirs))] == [(200, b"01234"),
                                                                    (200, b"0123456")]
    finally:
        transport.socket.close()
        theirs.close()


def test_an_answer_larger_than_the_socket_takes_goes_on_through_the_transport_in_order(
) -> None:
    size = 8 * 1024 * 1024  # beyond a socket pair's buffers
    protocol, transport, theirs, reactor = tcp_connection(Sized())
    try:
        protocol.dataReceived(b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n"
                              b"GET /3 HTTP/1.1\r\nHost: x\r\n\r\n" % size)
        assert transport in reactor.getWriters()  # the rest waits in the transport
        received = b""
        for _ in range(100_000):  # the client reads, the loop writes what it can
            if transport not in reactor.getWriters():
                break
            transport.doWrite()
            received += theirs.recv(1 << 20)
        received += read_all(theirs)
        assert [(s, b) for s, _, b in parse(received)] == [(200, pattern(size)), (200, b"012")]
    finally:
        transport.socket.close()
        theirs.close()
