"""One HTTP request on :mod:`smsc.server.web.lean_server`'s connections, with the part of
twisted.web's ``Request`` interface the API's resources use (:class:`WebRequest`): what was
read (method, raw path, query and form arguments, headers, body, the client's address) and
the answer (status, headers, body written whole with its Content-Length, or streamed chunked
under the client's back-pressure)."""

from __future__ import annotations

import io
import tempfile
from collections import defaultdict
from email import message_from_bytes
from http import HTTPStatus
from typing import IO, Any, Protocol
from urllib.parse import unquote_to_bytes

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure
from twisted.web.http import parse_qs

SPOOL = 100_000  # a body longer than this (declared or read) is kept in a temporary file
STREAM_ABOVE = 1 << 16  # octets written before finish past which the answer goes chunked
REASONS: dict[int, bytes] = {s.value: s.phrase.encode("latin-1") for s in HTTPStatus}
_FORMS = (b"application/x-www-form-urlencoded", b"multipart/form-data")
# header names as written (b"content-type" -> b"Content-Type"), twisted.web's exceptions first
_NAMES: dict[bytes, bytes] = {b"www-authenticate": b"WWW-Authenticate", b"etag": b"ETag",
                              b"te": b"TE", b"content-md5": b"Content-MD5", b"dnt": b"DNT",
                              b"x-xss-protection": b"X-XSS-Protection", b"p3p": b"P3P"}


def header_name(name: bytes) -> bytes:
    """A header name as twisted.web writes it (each word capitalised); at most 256 kept."""
    written = _NAMES.get(name)
    if written is None:
        written = b"-".join(word.capitalize() for word in name.split(b"-"))
        if len(_NAMES) < 256:
            _NAMES[name] = written
    return written


class ReadHeaders:
    """A request's headers as read: ``getAllRawHeaders`` (twisted.web's ``Headers`` reader,
    names lower-cased, values in order) and the last value of each name. The connection
    fills ``raw`` and ``last`` as llhttp hands it each header."""

    __slots__ = ("last", "raw")

    def __init__(self) -> None:
        self.raw: list[tuple[bytes, bytes]] = []
        self.last: dict[bytes, bytes] = {}

    def getAllRawHeaders(self) -> list[tuple[bytes, list[bytes]]]:
        grouped: dict[bytes, list[bytes]] = {}
        for name, value in self.raw:
            grouped.setdefault(name, []).append(value)
        return list(grouped.items())

    def getRawHeaders(self, name: bytes) -> list[bytes] | None:
        name = name.lower()
        found = [v for n, v in self.raw if n == name]
        return found or None


class Channel(Protocol):
    """What a request needs of its connection (:class:`smsc.server.web.lean_server.
    LeanHttpProtocol`)."""

    peer: Any
    transport: Any

    def head(self, request: LeanRequest, fields: bytes | None = None) -> bytes: ...
    def send(self, data: bytes) -> None: ...
    def answered(self, request: LeanRequest) -> None: ...
    def request_producer(self, request: LeanRequest, producer: Any) -> None: ...
    def abort(self) -> None: ...


class LeanRequest:
    """A request read by :class:`smsc.server.web.lean_server.LeanHttpProtocol`. Reading fills
    ``method``, ``uri``, the headers and the body; the resource then answers through
    :meth:`setResponseCode`, :meth:`setHeader`, :meth:`write` and :meth:`finish`."""

    __slots__ = ("_buffer", "_buffered", "_chunked", "_chunks", "_content", "_file",
                 "_finish_waiters", "_taken", "args", "channel", "clientproto", "code",
                 "finished", "gone", "headers", "keep_alive", "method", "path", "postpath",
                 "prepath", "producer", "received", "refusal", "requestHeaders", "started",
                 "too_large", "uri")

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.too_large = False  # the body passed max_body: dropped (the resource answers 413)
        self.refusal: tuple[int, bytes, bytes] | None = None  # (status, type, body): no resource
        self.method = b"GET"
        self.uri = b""
        self.path = b""
        self.clientproto = b"HTTP/1.1"
        self.args: dict[bytes, list[bytes]] = {}
        self.prepath: list[bytes] = []
        self.postpath: list[bytes] = []
        self.requestHeaders = ReadHeaders()
        self.keep_alive = True
        self.received = 0  # body octets read (kept or dropped)
        self._chunks: list[bytes] = []
        self._file: IO[bytes] | None = None
        self._content: IO[bytes] | None = None
        self._taken = False
        # the answer
        self.code = 200
        self.headers: dict[bytes, bytes] = {}
        self.started = False  # the status line and headers are written
        self.finished = False
        self.gone = False  # the client went away first
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._chunked = False
        self._finish_waiters: list[Deferred[None]] | None = None
        self.producer: Any = None

    # --- reading ------------------------------------------------------------------------------
    def head_read(self, method: bytes, clientproto: bytes) -> None:
        self.method = method
        self.clientproto = clientproto
        path, _, query = self.uri.partition(b"?")
        self.path = path
        if query:
            self.args = parse_qs(query, 1)  # type: ignore[no-untyped-call]

    def body_read(self, data: bytes, max_body: int) -> None:
        """A piece of the body; past ``max_body`` the body is dropped and ``too_large`` set."""
        self.received += len(data)
        if self.too_large:
            return
        if self.received > max_body:
            self.too_large = True
            self._chunks = []
            if self._file is not None:
                self._file.close()
                self._file = None
            return
        if self._file is not None:
            self._file.write(data)
        elif self.received > SPOOL:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the request
            for chunk in self._chunks:
                self._file.write(chunk)
            self._file.write(data)
            self._chunks = []
        else:
            self._chunks.append(data)

    def body_done(self) -> bool:
        """The body is read: a form POSTed outside ``/v1`` is parsed into ``args`` (as
        twisted.web does, a form's values in place of the query's of the same name; ``/v1``
        takes JSON only). False: a multipart body that is not one."""
        if (self.method != b"POST" or self.too_large or not self.received
                or self.path.startswith(b"/v1/")):
            return True
        content_type = self.getHeader(b"content-type") or b""
        kind = content_type.partition(b";")[0].strip().lower()
        if kind == _FORMS[0]:
            self.args.update(parse_qs(self._read_all(), 1))  # type: ignore[no-untyped-call]
        elif kind == _FORMS[1]:
            fields = _multipart(content_type, self._read_all())
            if fields is None:
                return False
            self.args.update(fields)
        return True

    def _read_all(self) -> bytes:
        content = self.content
        if content is None:
            return b""
        data = content.read()
        content.seek(0)
        return data

    def body(self) -> bytes:
        """The body read, whole (as ``content`` read from its start; b"" once taken)."""
        if self._content is None and self._file is None and not self._taken:
            chunks = self._chunks
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
        content = self.content
        if content is None:
            return b""
        content.seek(0)
        return content.read()

    @property
    def content(self) -> IO[bytes] | None:
        """The body as a file at its start (a large one is a temporary file)."""
        if self._content is None and not self._taken:
            if self._file is not None:
                self._file.seek(0)
                self._content = self._file
            else:
                self._content = io.BytesIO(b"".join(self._chunks))
            self._chunks = []
        return self._content

    @content.setter
    def content(self, value: IO[bytes] | None) -> None:
        self._content = value
        self._taken = value is None

    def getHeader(self, key: bytes) -> bytes | None:
        """A header's last value (as twisted.web's), or None."""
        return self.requestHeaders.last.get(key.lower())

    def getClientAddress(self) -> Any:
        return self.channel.peer

    def getHost(self) -> Any:
        return self.channel.transport.getHost()

    # --- answering ----------------------------------------------------------------------------
    def setResponseCode(self, code: int, message: bytes | None = None) -> None:
        self.code = code

    def setHeader(self, name: bytes, value: bytes) -> None:
        self.headers[name.lower()] = value

    def write(self, data: bytes) -> None:
        """Body octets: kept until :meth:`finish` (the answer then goes whole with its
        Content-Length), or written at once as chunks once a producer streams the answer or
        more than STREAM_ABOVE octets wait."""
        if self.finished or self.gone or not data:
            return
        if not self.started:
            self._buffer.append(data)
            self._buffered += len(data)
            if self.producer is None and self._buffered <= STREAM_ABOVE:
                return
            self._start_stream()
            return
        if self.method == b"HEAD":
            return
        if self._chunked:
            self.channel.send(b"%x\r\n%s\r\n" % (len(data), data))
        else:
            self.channel.send(data)

    def _start_stream(self) -> None:
        """The head, and the body so far: with the length the resource set, else chunked
        for HTTP/1.1, else the end of the connection ends the body."""
        pending, self._buffer = b"".join(self._buffer), []
        self._buffered = 0
        if b"content-length" in self.headers:
            pass
        elif self.clientproto == b"HTTP/1.1":
            self._chunked = True
            self.headers[b"transfer-encoding"] = b"chunked"
        else:
            self.keep_alive = False
        self.started = True
        head = self.channel.head(self)
        if self.method == b"HEAD" or not pending:
            self.channel.send(head)
        elif self._chunked:
            self.channel.send(b"%s%x\r\n%s\r\n" % (head, len(pending), pending))
        else:
            self.channel.send(head + pending)

    def finish(self) -> None:
        if self.finished or self.gone:
            return
        self.finished = True
        if not self.started:
            self.started = True
            body = b"".join(self._buffer)
            self._buffer = []
            if b"content-length" not in self.headers:
                self.headers[b"content-length"] = b"%d" % len(body)
            head = self.channel.head(self)
            self.channel.send(head if self.method == b"HEAD" or not body else head + body)
        elif self._chunked and self.method != b"HEAD":
            self.channel.send(b"0\r\n\r\n")
        self._answered()

    def answer(self, code: int, fields: bytes, body: bytes) -> None:
        """The whole answer at once (as :meth:`setResponseCode`, :meth:`setHeader`,
        :meth:`write` and :meth:`finish` would write it, without a header set one by one):
        ``fields`` the header lines (each ``Name: value\r\n``), then its Content-Length;
        the body is not sent to a HEAD."""
        if self.finished or self.gone:
            return
        self.finished = self.started = True
        self.code = code
        channel = self.channel
        head = channel.head(self, b"%sContent-Length: %d\r\n" % (fields, len(body)))
        channel.send(head if self.method == b"HEAD" or not body else head + body)
        self._answered()

    def _answered(self) -> None:
        """The answer is written whole: the body let go, the connection and the waiters told."""
        self._close_body()
        self.channel.answered(self)
        waiters, self._finish_waiters = self._finish_waiters, None
        for d in waiters or ():
            d.callback(None)

    def notifyFinish(self) -> Deferred[None]:
        """Fires when the answer is written whole; fails if the client goes away first."""
        d: Deferred[None] = Deferred()
        if self.finished:
            d.callback(None)
        elif self.gone:
            d.errback(Failure(ConnectionError("the client went away")))  # type: ignore[no-untyped-call]
        else:
            if self._finish_waiters is None:
                self._finish_waiters = []
            self._finish_waiters.append(d)
        return d

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        """A push producer the connection pauses and resumes with the client's reading."""
        self.producer = producer
        self.channel.request_producer(self, producer)

    def unregisterProducer(self) -> None:
        self.producer = None
        self.channel.request_producer(self, None)

    def loseConnection(self) -> None:
        """The connection dropped (a streamed answer cut half way stays visibly cut)."""
        self.channel.abort()

    def connection_lost(self, reason: Failure) -> None:
        """The client went before the answer was written."""
        if self.finished or self.gone:
            return
        self.gone = True
        self._close_body()
        waiters, self._finish_waiters = self._finish_waiters, None
        for d in waiters or ():
            d.errback(reason)

    def _close_body(self) -> None:
        self._chunks = []
        for body in (self._content, self._file):
            if body is not None:
                body.close()
        self._file = None


def _multipart(content_type: bytes, body: bytes) -> dict[bytes, list[bytes]] | None:
    """The fields of a ``multipart/form-data`` body, as twisted.web's form parsing reads
    them (None: not a multipart body)."""
    message = message_from_bytes(b"MIME-Version: 1.0\r\nContent-Type: " + content_type
                                 + b"\r\n" + body)
    if not message.is_multipart():
        return None
    out: dict[bytes, list[bytes]] = defaultdict(list)
    for part in message.get_payload():
        name = part.get_param("name", header="content-disposition")  # type: ignore[union-attr]
        if not name:
            continue
        payload: Any = part.get_payload(decode=True)  # type: ignore[union-attr]
        out[str(name).encode("utf-8")].append(payload)
    return dict(out)


def path_segments(path: bytes) -> list[bytes]:
    """The path's segments percent-decoded, as twisted.web's resource lookup takes them."""
    segments = path[1:].split(b"/")
    if b"%" not in path:
        return segments
    return [unquote_to_bytes(segment) for segment in segments]


__all__ = ["REASONS", "Channel", "LeanRequest", "ReadHeaders", "header_name", "path_segments"]
