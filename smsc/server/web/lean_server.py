"""The HTTP API's server: HTTP/1.1 on a plain Twisted ``Protocol``, requests parsed by
``httptools`` (llhttp), answered by the site's resources
(:class:`smsc.server.web.site.ApiRoot`) through :class:`smsc.server.web.lean_request.LeanRequest`.

Why not twisted.web: its server cost about 130 us of CPU per small POST on the event loop
(its line reader, header objects, a Request per request with form and cookie handling), a
fifth of an HTTP send's whole cost; llhttp in C and one object per request cost a fraction of
it (docs/benchmark-http.md). What twisted.web gave and this keeps: keep-alive (HTTP/1.0's on
``Connection: keep-alive``), pipelined requests answered in order, ``Expect: 100-continue``,
chunked bodies, HEAD, a 413 for a body past ``max_body`` (read and dropped), a minute's idle
timeout, the client's address through a PROXY header (the listener's wrapper), TLS and UNIX
sockets (any endpoint). What is bounded:

- a request line and headers: ``max_head`` octets (431, 414 for a URL past ``max_url``),
  ``max_headers`` fields (431); an unreadable request is a 400, an unknown method a 501,
  each then closed;
- a body: ``max_body`` kept (in memory, or a temporary file past 100 kB), the rest dropped
  up to twice ``max_body``, then the 413 goes at once and the connection closes;
- octets read ahead while a request is answered: ``EAGER`` (16 KiB), then reading pauses;
  requests read ahead: those of one ``SLICE`` (2 KiB) of input at most;
- the answer: one request answered at a time; a streamed one follows the client's reading
  (the transport pauses the request's producer), and no next request starts while the
  client is not reading.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import httptools
from twisted.internet.interfaces import IPushProducer, IReactorTime
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.internet.tcp import Server
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.http import datetimeToString
from twisted.web.resource import Resource, getChildForRequest
from twisted.web.server import NOT_DONE_YET
from zope.interface import implementer

from smsc.http import problems as p
from smsc.http.problems import CONTENT_TYPE
from smsc.http.replies import problem
from smsc.server.web.lean_request import REASONS, LeanRequest, header_name, path_segments

_log = Logger()
SLICE = 2048  # input parsed at a time: the requests read ahead come from one slice at most
EAGER = 0x4000  # input held unparsed while a request is answered before reading pauses
CHUNK_FRAMING = 24  # octets allowed per body chunk for its size line and CRLFs
ABORT_AFTER = 15.0  # seconds a connection closed for idleness has to go before it is cut
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

BAD_REQUEST = p.Refusal("bad_request", 400, "The request cannot be read")
URI_TOO_LONG = p.Refusal("uri_too_long", 414, "The request's URI is too long")
HEADERS_TOO_LARGE = p.Refusal("headers_too_large", 431, "The request's headers are too large")
NOT_IMPLEMENTED = p.Refusal("not_implemented", 501, "Unknown method")
INTERNAL = p.Refusal("internal_error", 500, "Internal error")
_REFUSALS = {r.http: r for r in (BAD_REQUEST, URI_TOO_LONG, HEADERS_TOO_LARGE,
                                 NOT_IMPLEMENTED, INTERNAL)}


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """What one connection may send: ``max_body`` octets of a body kept, ``max_head`` of a
    request line and headers (``max_url`` of a URL, ``max_headers`` fields), and ``timeout``
    seconds idle (no request being answered) before it is closed."""

    max_body: int = 4 * 1024 * 1024
    max_head: int = 16384
    max_url: int = 8192
    max_headers: int = 100
    timeout: float = 60.0


_VERSIONS = {"1.1": b"HTTP/1.1", "1.0": b"HTTP/1.0"}  # llhttp's version -> clientproto
_STATUS_LINES: dict[tuple[int, bool], bytes] = {}


def _status_line(code: int, http10: bool) -> bytes:
    """``HTTP/1.x code reason\r\n`` (made once per status and version)."""
    line = _STATUS_LINES.get((code, http10))
    if line is None:
        line = b"%s %d %s\r\n" % (b"HTTP/1.0" if http10 else b"HTTP/1.1", code,
                                   REASONS.get(code, b"Unknown"))
        if len(_STATUS_LINES) < 1024:
            _STATUS_LINES[code, http10] = line
    return line


def _refusal(status: int) -> tuple[int, bytes, bytes]:
    """The answer to input that cannot be read on: (status, content type, problem document)."""
    return status, CONTENT_TYPE.encode("ascii"), problem(_REFUSALS[status]).body


class _Refused(Exception):
    """Raised in a parser callback to stop reading (the status is kept by the protocol)."""


class LeanHttpFactory(Factory):
    """Serves ``root`` (a twisted.web resource tree, looked up as twisted.web would) on each
    connection of a listener."""

    noisy = False

    def __init__(self, root: Resource, clock: IReactorTime, limits: HttpLimits) -> None:
        self.root = root
        self.clock = clock
        self.limits = limits
        self._date = b""
        self._date_line = b""
        self._date_second = -1

    def buildProtocol(self, addr: Any) -> LeanHttpProtocol:
        return LeanHttpProtocol(self)

    def date(self) -> bytes:
        """The Date header's value, made once a second."""
        now = int(self.clock.seconds())
        if now != self._date_second:
            self._date_second = now
            self._date = datetimeToString(now)  # type: ignore[no-untyped-call]
            self._date_line = b"Date: %s\r\nServer: smsc\r\n" % self._date
        return self._date

    def date_line(self) -> bytes:
        """The Date and Server header lines of an answer, made once a second."""
        if int(self.clock.seconds()) != self._date_second:
            self.date()
        return self._date_line


@implementer(IPushProducer)
class LeanHttpProtocol(Protocol):
    """One client connection. Input is parsed a slice at a time, only while no request is
    being answered; each complete request waits its turn in ``queue`` and is answered in
    order, one at a time. The protocol is its transport's producer: a client that does not
    read pauses the streamed answer and the next request."""

    def __init__(self, site: LeanHttpFactory) -> None:
        self.site = site
        self.limits = site.limits
        self.parser = httptools.HttpRequestParser(self)
        self.peer: Any = None
        self.queue: deque[LeanRequest] = deque()  # read, waiting to be answered
        self.current: LeanRequest | None = None  # being answered
        self._reading: LeanRequest | None = None  # being read
        self._unparsed = b""
        self._at = 0  # where the unparsed input starts in _unparsed
        self._advancing = False
        self._reading_paused = False
        self._output_paused = False
        self._producer: Any = None  # the current answer's push producer
        self._ending = False  # no request after the ones queued: the connection then closes
        self._lost = False
        self._closed = False  # the connection is being closed (what was written goes first)
        self._continue_owed: LeanRequest | None = None
        self._fed = 0  # octets of the request being read fed to the parser
        self._counted = 0  # of which body and chunk framing
        self._headers = 0
        self._in_head = True
        self._refuse = 0  # the status a callback stopped the parser for
        self._last = 0.0  # when the connection last moved
        self._timer: Any = None

    # --- the connection -----------------------------------------------------------------------
    def connectionMade(self) -> None:
        transport: Any = self.transport
        self.peer = transport.getPeer()
        transport.registerProducer(self, True)
        clock = self.site.clock
        self._last = clock.seconds()
        self._timer = clock.callLater(self.limits.timeout, self._idle_check)

    def dataReceived(self, data: bytes) -> None:
        self._last = self.site.clock.seconds()
        if self._ending:
            return  # a request said it was the last, or one could not be read: unread
        if self._unparsed:
            self._unparsed = self._unparsed[self._at:] + data
            self._at = 0
        else:
            self._unparsed = data
        self._advance()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._lost = True
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        producer, self._producer = self._producer, None
        if producer is not None:
            producer.stopProducing()
        for request in (self.current, *self.queue, self._reading):
            if request is not None:
                request.connection_lost(reason)
        self.queue.clear()
        self.current = self._reading = None
        self._unparsed = b""

    # --- the transport's producer: the client's reading -----------------------------------------
    def pauseProducing(self) -> None:
        self._output_paused = True
        if self._producer is not None:
            self._producer.pauseProducing()
        self._pace_reading()

    def resumeProducing(self) -> None:
        self._output_paused = False
        if self._producer is not None:
            self._producer.resumeProducing()
        self._advance()

    def stopProducing(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            producer.stopProducing()

    # --- the loop -----------------------------------------------------------------------------
    def _advance(self) -> None:
        """Answer the next request read, or read more; never re-entered (a request answered
        at once inside :meth:`_start` or a parser callback comes back here)."""
        if self._advancing or self._lost:
            return
        self._advancing = True
        try:
            while self.current is None:
                if self.queue:
                    if self._output_paused:
                        break
                    self._start(self.queue.popleft())
                elif self._ending:
                    self._close()
                    break
                else:
                    if self._continue_owed is not None:  # its turn: the client may send it
                        self.send(CONTINUE)
                        self._continue_owed = None
                    if not self._unparsed:
                        break
                    self._feed()
        finally:
            self._advancing = False
        self._pace_reading()

    def _pace_reading(self) -> None:
        if self._lost or self._closed:
            return
        held = len(self._unparsed) - self._at
        pause = self._output_paused or self._ending or held > EAGER
        if pause != self._reading_paused:
            self._reading_paused = pause
            transport: Any = self.transport
            if pause:
                transport.pauseProducing()
            else:
                transport.resumeProducing()

    def _feed(self) -> None:
        """Parse one slice of the input (the requests it completes are queued)."""
        data, at = self._unparsed, self._at
        piece = memoryview(data)[at:at + SLICE] if len(data) - at > SLICE or at else data
        at += len(piece)
        if at >= len(data):
            self._unparsed, self._at = b"", 0
        else:
            self._at = at
        self._fed += len(piece)
        try:
            self.parser.feed_data(piece)
        except httptools.HttpParserError as e:
            if not self._ending:  # (input after a last request is not read, nor refused)
                self._parse_failed(e)
            return
        if self._fed - self._counted > self.limits.max_head + SLICE:
            self._refused(431)  # a head, chunk line or trailer that never ends

    def _parse_failed(self, error: Exception) -> None:
        if isinstance(error, httptools.HttpParserUpgrade):
            # a request to switch protocols: answered as any, then the connection closes
            if self.queue:
                self.queue[-1].keep_alive = False
            self._end()
        elif isinstance(error, httptools.HttpParserInvalidMethodError):
            self._refused(self._refuse or 501)  # a method llhttp does not know
        else:
            self._refused(self._refuse or 400)

    def _refused(self, status: int) -> None:
        """The input cannot be read on: the refusal is answered after the requests before it,
        then the connection closes."""
        request = LeanRequest(self)
        request.refusal = _refusal(status)
        request.keep_alive = False
        if self._reading is not None:
            request.clientproto = self._reading.clientproto
            self._reading = None
        self.queue.append(request)
        self._end()

    def _end(self) -> None:
        self._ending = True
        self._unparsed, self._at = b"", 0
        self._continue_owed = None

    # --- llhttp's callbacks -------------------------------------------------------------------
    def on_message_begin(self) -> None:
        self._reading = LeanRequest(self)
        self._headers = 0
        self._in_head = True

    def on_url(self, url: bytes) -> None:
        request = self._reading
        assert request is not None
        request.uri += url
        if len(request.uri) > self.limits.max_url:
            self._refuse = 414
            raise _Refused()

    def on_header(self, name: bytes, value: bytes) -> None:
        request = self._reading
        assert request is not None
        self._headers += 1
        if self._headers > self.limits.max_headers:
            self._refuse = 431
            raise _Refused()
        if self._in_head:  # not a trailer
            headers = request.requestHeaders
            name = name.lower()
            headers.raw.append((name, value))
            headers.last[name] = value

    def on_headers_complete(self) -> None:
        request = self._reading
        assert request is not None
        parser = self.parser
        self._in_head = False
        version = parser.get_http_version()
        request.head_read(parser.get_method(), _VERSIONS.get(version, b"HTTP/0.9"))
        self._counted = self._fed  # the head is read: what follows is body and framing
        last = request.requestHeaders.last
        declared = last.get(b"content-length")
        length = int(declared) if declared is not None and declared.isdigit() else 0
        if length > self.limits.max_body:
            request.too_large = True
        expect = last.get(b"expect")
        if expect is None or expect.lower() != b"100-continue" or version != "1.1":
            return
        chunked = b"chunked" in last.get(b"transfer-encoding", b"").lower()
        if not (length or chunked):
            return
        if request.too_large:  # answered now, without its body; the connection then closes
            self._answer_unread(request)
            return
        if self.queue or self.current is not None:
            self._continue_owed = request  # after the answers before it
        else:
            self.send(CONTINUE)

    def on_chunk_header(self) -> None:
        self._counted += CHUNK_FRAMING

    def on_body(self, body: bytes) -> None:
        request = self._reading
        if request is not None:
            self._counted += len(body)
            request.body_read(body, self.limits.max_body)
            if request.too_large and request.received > 2 * self.limits.max_body:
                # Dropped long enough (a client that writes its whole body before reading
                # has had max_body octets more to see the answer): answered now, without
                # the rest, and the connection then closes - no peer holds it for ever.
                self._answer_unread(request)

    def _answer_unread(self, request: LeanRequest) -> None:
        """``request`` (too large) queued for its answer without the rest of its body; nothing
        more is read and the connection closes after the answer."""
        request.keep_alive = False
        self.queue.append(request)
        self._reading = None
        self._end()

    def on_message_complete(self) -> None:
        request, self._reading = self._reading, None
        self._fed = self._counted = 0
        if self._continue_owed is request:
            self._continue_owed = None
        if request is None or self._ending:
            return
        request.keep_alive = self.parser.should_keep_alive()
        if not request.body_done():
            request.refusal = _refusal(400)
            request.keep_alive = False
        self.queue.append(request)
        if not request.keep_alive:
            self._end()

    # --- answering ----------------------------------------------------------------------------
    def _start(self, request: LeanRequest) -> None:
        self.current = request
        self._producer = None
        if request.refusal is not None:
            status, kind, body = request.refusal
            request.setResponseCode(status)
            request.setHeader(b"content-type", kind)
            request.write(body)
            request.finish()
            return
        try:
            request.postpath = path_segments(request.path)
            resource = getChildForRequest(self.site.root, request)  # type: ignore[no-untyped-call]
            body = resource.render(request)
        except Exception:
            _log.failure("HTTP request failed")
            if not request.started and not request.finished:
                request.setResponseCode(500)
                request.setHeader(b"content-type", CONTENT_TYPE.encode("ascii"))
                request.write(problem(INTERNAL).body)
            request.finish()
            return
        if body is not NOT_DONE_YET and isinstance(body, bytes):
            request.write(body)
            request.finish()

    def head(self, request: LeanRequest, fields: bytes | None = None) -> bytes:
        """The status line and headers of ``request``'s answer: ``fields`` the header lines
        made by the caller (each ``Name: value\r\n``), else those of ``request.headers``."""
        http10 = request.clientproto == b"HTTP/1.0"
        status = _status_line(request.code, http10)
        if fields is None:
            fields = b"".join([b"%s: %s\r\n" % (header_name(name), value)
                               for name, value in request.headers.items()])
        if not request.keep_alive or (self._ending and not self.queue):
            end = b"Connection: close\r\n\r\n"
        elif http10:
            end = b"Connection: keep-alive\r\n\r\n"
        else:
            end = b"\r\n"
        return b"".join((status, fields, self.site.date_line(), end))

    def send(self, data: bytes) -> None:
        if self._lost:
            return
        self._last = self.site.clock.seconds()
        transport: Any = self.transport
        if (type(transport) is Server and transport.connected and not transport.disconnecting
                and not getattr(transport, "dataBuffer", True)
                and not getattr(transport, "_tempDataBuffer", True)):
            # Nothing waits in the transport: sent now, without registering the socket for
            # writing and unregistering it on the next turn of the loop (two epoll_ctl
            # calls and a turn per answer); what the socket does not take goes through
            # the transport as always (an error too: its own write meets it and closes).
            # The two buffers are Twisted's FileDescriptor's own; should a Twisted release
            # name them otherwise, every answer simply goes through transport.write
            # (tests/server/test_lean_server.py notices: no writer registered is asserted).
            try:
                sent = transport.socket.send(data)
            except OSError:
                sent = 0
            if sent == len(data):
                return
            data = data[sent:]
        transport.write(data)

    def answered(self, request: LeanRequest) -> None:
        """``request``'s answer is written whole: the next one, or the end."""
        if request is not self.current:
            return
        self.current = None
        self._producer = None
        self._last = self.site.clock.seconds()
        if not request.keep_alive:
            self._end()
        self._advance()

    def request_producer(self, request: LeanRequest, producer: Any) -> None:
        if request is not self.current:
            return
        self._producer = producer
        if producer is not None and self._output_paused:
            producer.pauseProducing()

    def abort(self) -> None:
        """A request gave up its answer half way: the connection closes (what was written
        goes first), so the client sees a cut answer."""
        self._end()
        self._close()

    def _close(self) -> None:
        if not self._lost and not self._closed:
            self._closed = True
            self.transport.loseConnection()  # type: ignore[union-attr]

    # --- idleness -----------------------------------------------------------------------------
    def _idle_check(self) -> None:
        """Closes a connection idle for ``timeout`` seconds: no request being answered by the
        server (a client that does not read a streamed answer counts as idle)."""
        self._timer = None
        if self._lost:
            return
        clock, timeout = self.site.clock, self.limits.timeout
        working = self.current is not None and not self._output_paused
        due = self._last + timeout
        now = clock.seconds()
        if working or now < due:
            self._timer = clock.callLater(timeout if working else due - now, self._idle_check)
            return
        self._end()
        self._close()
        self._timer = clock.callLater(ABORT_AFTER, self._abort_late)

    def _abort_late(self) -> None:
        self._timer = None
        if not self._lost:
            self.transport.abortConnection()  # type: ignore[union-attr]


__all__ = ["HttpLimits", "LeanHttpFactory", "LeanHttpProtocol"]
