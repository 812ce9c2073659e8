"""The HTTP ceiling responder: a twisted.web server that does no work but the I/O.

It answers every ``POST /v1/messages`` with an id per destination (the JSON shape smsc answers,
as far as the load client reads it), and with ``--receipts`` makes one receipt event per message
for the request's ``webhook_url`` and POSTs them through a keep-alive connection pool (Twisted's
``Agent`` over an ``HTTPConnectionPool``, the client smsc's webhook courier uses, at most
``--per-host`` calls at once per host, the rest queued), batched as smsc batches them: a call
carries ``{"events": [...]}`` with the events waiting for its URL when a call may start, at
most ``--webhook-batch`` (smsc's ``webhook_batch``, 100), never waiting to fill one. No
store, no auth, no validation, no routing: the fastest a server on Twisted's HTTP server and
client can take single POSTs and carry their webhooks, on the same machine, with the same load
client. :mod:`bench.http_bench` measures smsc against it, as :mod:`bench.ceiling` is the SMPP
path's yardstick.

    python -m bench.http_ceiling --port 0 --receipts

The first line on stdout is ``HTTP API on http://HOST:PORT/v1`` (the form ``smsc serve``
prints), so a parent process can read the port it got.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import deque
from collections.abc import Sequence
from typing import Any

__all__ = ["CeilingApi", "CeilingIds", "main"]

MAX_QUEUED = 1_000_000  # receipts waiting for a connection, at most (then dropped and counted)
WEBHOOK_BATCH = 100  # events per call at most: smsc's default webhook_batch
MAX_WEBHOOK_BATCH = 1000  # smsc's bound of the setting


def events_body(events: list[bytes]) -> bytes:
    """A webhook call's body from the events' JSON: ``{"events": [...]}``."""
    return b'{"events":[%s]}' % b",".join(events)


def take_batch(waiting: deque[tuple[bytes, bytes]], batch: int) -> tuple[bytes, list[bytes]]:
    """The first waiting event's URL and the events waiting for it at the head of the queue,
    at most ``batch`` (what smsc groups: only what is waiting, in order)."""
    url, first = waiting.popleft()
    events = [first]
    while waiting and len(events) < batch and waiting[0][0] == url:
        events.append(waiting.popleft()[1])
    return url, events


class _Octets:
    """A request body in memory, written whole (twisted.web's IBodyProducer)."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.length = len(body)

    def startProducing(self, consumer: Any) -> Any:
        from twisted.internet import defer

        consumer.write(self.body)
        return defer.succeed(None)

    def stopProducing(self) -> None:
        pass

    def pauseProducing(self) -> None:
        pass

    def resumeProducing(self) -> None:
        pass


class CeilingIds:
    """What every ceiling responder does but its I/O: the next message id, the answer's JSON
    and the receipts waiting to be POSTed (``pump`` sends them; the subclass's HTTP client)."""

    def __init__(self, *, receipts: bool, per_host: int, batch: int = WEBHOOK_BATCH) -> None:
        self.receipts = receipts
        self.per_host = per_host
        self.batch = batch
        self.next_id = 1
        self.waiting: deque[tuple[bytes, bytes]] = deque()  # (url, one event's JSON)
        self.running = 0
        self.dropped = 0

    def answer(self, body: bytes) -> bytes:
        request = json.loads(body)
        url = request.get("webhook_url")
        out = []
        for to in request.get("to", ()):
            message_id = str(self.next_id)
            self.next_id += 1
            out.append({"to": to, "id": message_id, "parts": 1, "charged": 1})
            if self.receipts and url:
                if len(self.waiting) < MAX_QUEUED:
                    self.waiting.append((url.encode(), json.dumps(
                        {"id": "evt-" + message_id, "type": "receipt",
                         "message_id": message_id, "status": "DELIVRD"}).encode()))
                else:
                    self.dropped += 1
        if self.waiting:
            self.pump()
        return json.dumps({"messages": out, "accepted": len(out)}).encode()

    def pump(self) -> None:
        raise NotImplementedError


class CeilingApi(CeilingIds):
    """The twisted.web ceiling's state: receipts POSTed through Twisted's Agent."""

    def __init__(self, reactor: Any, *, receipts: bool, per_host: int,
                 batch: int = WEBHOOK_BATCH) -> None:
        from twisted.web.client import Agent, HTTPConnectionPool
        from twisted.web.http_headers import Headers
        from twisted.web.iweb import IBodyProducer
        from zope.interface import classImplements

        super().__init__(receipts=receipts, per_host=per_host, batch=batch)
        classImplements(_Octets, IBodyProducer)
        self.reactor = reactor
        pool = HTTPConnectionPool(reactor, persistent=True)  # type: ignore[no-untyped-call]
        pool.maxPersistentPerHost = per_host
        pool.retryAutomatically = False
        self.agent = Agent(reactor, pool=pool)  # type: ignore[no-untyped-call]
        self.headers = Headers({b"Content-Type": [b"application/json"]})

    def pump(self) -> None:
        """Receipts out, at most ``per_host`` calls at once (one receiver: the load client's),
        each with the events waiting (at most ``batch``), through Twisted's Agent and its
        keep-alive pool, as smsc's webhook courier sends."""
        import treq

        while self.waiting and self.running < self.per_host:
            url, events = take_batch(self.waiting, self.batch)
            self.running += 1
            d = self.agent.request(b"POST", url, self.headers.copy(),
                                   _Octets(events_body(events)))
            d.addCallback(treq.content)
            d.addBoth(self._done)

    def _done(self, _: object) -> None:
        self.running -= 1
        self.pump()


def site(api: CeilingApi) -> Any:
    from twisted.web.resource import Resource
    from twisted.web.server import Site

    class Messages(Resource):
        isLeaf = True  # noqa: N815 - the name Twisted looks for

        def render_POST(self, request: Any) -> bytes:
            request.setHeader(b"content-type", b"application/json")
            return api.answer(request.content.read())

    class Quiet(Site):
        def log(self, request: Any) -> None:
            pass

    made = Quiet(Messages())  # type: ignore[no-untyped-call]
    made.noisy = False
    return made


def _parse_args(argv: Sequence[str] | None,
                prog: str = "python -m bench.http_ceiling") -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog,
                                     description="Trivial HTTP API responder (the ceiling).")
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one")
    parser.add_argument("--interface", default="127.0.0.1")
    parser.add_argument("--receipts", action="store_true",
                        help="POST a receipt per message to the request's webhook_url")
    parser.add_argument("--per-host", type=int, default=8,
                        help="receipt calls at once per host (smsc's webhook_per_host)")
    parser.add_argument("--webhook-batch", type=int, default=WEBHOOK_BATCH,
                        help="events per receipt call at most (smsc's webhook_batch, default "
                             f"{WEBHOOK_BATCH}); only those waiting are grouped")
    parser.add_argument("--lifetime", type=float, default=3600.0,
                        help="stop by itself after this many seconds (default 3600)")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error("--port must be 0..65535")
    if not 1 <= args.per_host <= 256:
        parser.error("--per-host must be 1..256")
    if not 1 <= args.webhook_batch <= MAX_WEBHOOK_BATCH:
        parser.error(f"--webhook-batch must be 1..{MAX_WEBHOOK_BATCH}")
    if not 0 < args.lifetime <= 86400:
        parser.error("--lifetime must be in (0, 86400] seconds")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    from twisted.internet import reactor

    api = CeilingApi(reactor, receipts=args.receipts, per_host=args.per_host,
                     batch=args.webhook_batch)
    return serve(reactor, site(api), args)


def serve(reactor: Any, factory: Any, args: argparse.Namespace) -> int:
    """Listen with ``factory`` as the arguments say, announce the address on stdout (the load
    client waits for it) and run the reactor for the run's lifetime."""
    port = reactor.listenTCP(args.port, factory, interface=args.interface)
    host: Any = port.getHost()

    def announce() -> None:
        sys.stdout.write(f"HTTP API on http://{host.host}:{host.port}/v1\n")
        sys.stdout.flush()

    reactor.callWhenRunning(announce)
    reactor.callLater(args.lifetime, reactor.stop)
    reactor.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
