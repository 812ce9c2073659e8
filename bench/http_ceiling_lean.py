"""The lean HTTP ceiling: :mod:`bench.http_ceiling`'s behaviour on a plain Twisted Protocol.

The same do-nothing responder (``POST /v1/messages`` answered with an id per destination in the
same JSON; with ``--receipts`` one receipt event per message POSTed to the request's
``webhook_url``, batched the same way, keep-alive both ways), but without twisted.web or its
HTTP client: requests in and the answers of the webhook calls are parsed by ``httptools`` (the
llhttp bindings), answers and webhook requests are written as bytes directly, and the webhook
calls go through a small keep-alive pool per receiver host (``--per-host`` connections, one
call at a time on each: no pipelining; events beyond that wait in the host's queue, and a
connection that is free takes those waiting for its URL, at most ``--webhook-batch``, in one
call). It measures what one HTTP request in and one webhook out cost on Twisted's reactor in
CPython when the HTTP layer is as thin as it gets: :mod:`bench.http_bench` runs it as the
``ceiling-lean`` rows.

    python -m bench.http_ceiling_lean --port 0 --receipts

The first line on stdout is ``HTTP API on http://HOST:PORT/v1``, as for the other ceiling.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import httptools
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.python.failure import Failure

from bench.http_ceiling import (
    MAX_QUEUED,
    WEBHOOK_BATCH,
    CeilingIds,
    _parse_args,
    events_body,
    serve,
    take_batch,
)

__all__ = ["LeanApi", "LeanServer", "main"]

MAX_BODY = 4 * 1024 * 1024  # a request body longer than this is refused (413) and closed
MAX_URLS = 1024  # receiver URLs remembered parsed
OK_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
REFUSALS = {
    400: b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
    404: b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
    413: b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
}


class LeanServer(Protocol):
    """One client connection: requests parsed by llhttp, answers written as bytes."""

    def __init__(self, api: LeanApi) -> None:
        self.api = api
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""
        self.body: list[bytes] = []
        self.size = 0

    def dataReceived(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.write(REFUSALS[400])  # type: ignore[union-attr]
            self.transport.loseConnection()  # type: ignore[union-attr]

    # llhttp's callbacks
    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size > MAX_BODY:
            self.transport.write(REFUSALS[413])  # type: ignore[union-attr]
            self.transport.loseConnection()  # type: ignore[union-attr]
            raise httptools.HttpParserError("body too long")
        self.body.append(body)

    def on_message_complete(self) -> None:
        transport: Any = self.transport
        url, body = self.url, b"".join(self.body)
        self.url, self.body, self.size = b"", [], 0
        if self.parser.get_method() != b"POST" or not url.startswith(b"/v1/messages"):
            transport.write(REFUSALS[404])
        else:
            try:
                answer = self.api.answer(body)
            except (ValueError, AttributeError, TypeError):
                transport.write(REFUSALS[400])
            else:
                transport.write(b"%s%d\r\n\r\n%s" % (OK_HEAD, len(answer), answer))
        if not self.parser.should_keep_alive():
            transport.loseConnection()


class _WebhookConnection(Protocol):
    """One kept connection to a receiver: one call at a time, its answer parsed by llhttp."""

    def __init__(self, host: _HostPool) -> None:
        self.host = host
        self.parser = httptools.HttpResponseParser(self)
        self.busy = False

    def connectionMade(self) -> None:
        self.host.connected(self)

    def call(self, request: bytes) -> None:
        self.busy = True
        self.transport.write(request)  # type: ignore[union-attr]

    def dataReceived(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.loseConnection()  # type: ignore[union-attr]

    def on_message_complete(self) -> None:
        self.busy = False
        keep = self.parser.should_keep_alive()
        if keep:
            self.parser = httptools.HttpResponseParser(self)
        else:
            self.transport.loseConnection()  # type: ignore[union-attr]
        self.host.answered(self if keep else None)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.host.lost(self)


class _HostPool:
    """The kept connections to one receiver (host, port): at most ``size``, each idle one
    takes the next waiting call; a lost one is replaced while calls wait."""

    def __init__(self, api: LeanApi, host: str, port: int) -> None:
        self.api = api
        self.host = host
        self.port = port
        self.size = api.per_host
        self.waiting: deque[tuple[bytes, bytes]] = deque()  # (request head, one event's JSON)
        self.idle: list[_WebhookConnection] = []
        self.open = 0  # connections made or being made

    def send(self, head: bytes, event: bytes) -> None:
        if len(self.waiting) >= MAX_QUEUED:
            self.api.dropped += 1
            return
        self.waiting.append((head, event))
        self._next()

    def _next(self) -> None:
        while self.waiting and self.idle:
            head, events = take_batch(self.waiting, self.api.batch)
            body = events_body(events)
            self.api.running += 1
            self.idle.pop().call(b"%s%d\r\n\r\n%s" % (head, len(body), body))
        if self.waiting and self.open < self.size:
            self.open += 1
            self.api.connect(self)

    def connected(self, connection: _WebhookConnection) -> None:
        self.idle.append(connection)
        self._next()

    def failed(self) -> None:
        """A connection could not be made: its place is free; the first waiting event fails."""
        self.open -= 1
        if self.waiting:
            self.waiting.popleft()
            self.api.failed += 1
        self._next()

    def answered(self, connection: _WebhookConnection | None) -> None:
        self.api.running -= 1
        self.api.delivered += 1
        if connection is not None:
            self.idle.append(connection)
        self._next()

    def lost(self, connection: _WebhookConnection) -> None:
        self.open -= 1
        if connection.busy:  # lost with a call on it: the call is not retried
            self.api.running -= 1
            self.api.failed += 1
        elif connection in self.idle:
            self.idle.remove(connection)
        self._next()


class _Servers(Factory):
    """Makes a :class:`LeanServer` per connection, all on one :class:`LeanApi`."""

    noisy = False

    def __init__(self, api: LeanApi) -> None:
        self.api = api

    def buildProtocol(self, addr: Any) -> LeanServer:
        return LeanServer(self.api)


class LeanApi(CeilingIds):
    """The lean ceiling's state: the ids (as the other ceiling) and a pool per receiver."""

    def __init__(self, reactor: Any, *, receipts: bool, per_host: int,
                 batch: int = WEBHOOK_BATCH) -> None:
        super().__init__(receipts=receipts, per_host=per_host, batch=batch)
        self.reactor = reactor
        self.pools: dict[tuple[str, int], _HostPool] = {}
        self.targets: dict[bytes, tuple[_HostPool, bytes]] = {}  # url: (pool, request head)
        self.delivered = 0
        self.failed = 0

    def pump(self) -> None:
        while self.waiting:
            url, event = self.waiting.popleft()
            target = self.targets.get(url) or self._target(url)
            if target is None:
                self.failed += 1
                continue
            pool, head = target
            pool.send(head, event)

    def _target(self, url: bytes) -> tuple[_HostPool, bytes] | None:
        """The pool and the request head (up to the length) for a receiver URL, made once."""
        parts = urlsplit(url.decode("ascii", "replace"))
        if parts.scheme != "http" or not parts.hostname:
            return None
        port = parts.port or 80
        pool = self.pools.get((parts.hostname, port))
        if pool is None:
            pool = self.pools[(parts.hostname, port)] = _HostPool(self, parts.hostname, port)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        head = (f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                "Content-Type: application/json\r\nContent-Length: ").encode()
        if len(self.targets) >= MAX_URLS:
            self.targets.clear()
        self.targets[url] = (pool, head)
        return pool, head

    def connect(self, pool: _HostPool) -> None:
        from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol

        endpoint = TCP4ClientEndpoint(self.reactor, pool.host, pool.port, timeout=10)
        d = connectProtocol(endpoint, _WebhookConnection(pool))  # type: ignore[no-untyped-call]
        d.addErrback(lambda _: pool.failed())


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv, prog="python -m bench.http_ceiling_lean")
    from twisted.internet import reactor as the_reactor

    reactor: Any = the_reactor
    api = LeanApi(reactor, receipts=args.receipts, per_host=args.per_host,
                  batch=args.webhook_batch)
    return serve(reactor, _Servers(api), args)


if __name__ == "__main__":
    raise SystemExit(main())
