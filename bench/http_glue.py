"""The lean HTTP server's own cost per request, alone: a ``POST /v1/messages`` read by
:class:`smsc.server.web.lean_server.LeanHttpProtocol`, routed to
:class:`smsc.server.web.site.ApiResource`, answered by a stub API after one suspension (as a
real send waits for its commit) and written, on 16 in-memory connections (no sockets, no
reactor: the HTTP layer's glue only, without the send's own work or the syscalls).

    python -m bench.http_glue --count 20000

Prints the best of ``--repeat`` rounds in microseconds of CPU per request.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from types import SimpleNamespace

from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from smsc.http.replies import JSON, Reply
from smsc.server.web.lean_server import HttpLimits, LeanHttpFactory
from smsc.server.web.site import ApiResource, ApiRoot

ANSWER = b'{"messages":[{"id":"1","to":"380671000000","status":"accepted"}]}'
BODY = b'{"to":["380671000000"],"from":"bench","text":"hello","webhook_url":"http://127.0.0.1:1/r"}'
REQUEST = (b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1:1\r\nAuthorization: Bearer abcdef\r\n"
           b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY))
CONNECTIONS = 16


class StubApi:
    """What ApiResource asks of HttpApi for a send: the key accepted, the send answered once
    the test fires the Deferred it waits on."""

    def __init__(self) -> None:
        self.answers: Counter[int] = Counter()
        self.settings = SimpleNamespace(max_body=1 << 20)
        self.waiting: list[defer.Deferred[None]] = []

    async def authenticate(self, authorization: str | None, address: str) -> object:
        return object()

    async def send(self, caller: object, body: bytes, key: str | None) -> Reply:
        d: defer.Deferred[None] = defer.Deferred()
        self.waiting.append(d)
        await d
        return Reply(200, JSON, ANSWER)


def run(count: int, repeat: int) -> float:
    api = StubApi()
    factory = LeanHttpFactory(ApiRoot(ApiResource(api)), Clock(), HttpLimits())  # type: ignore[arg-type]
    connections = []
    for _ in range(CONNECTIONS):
        protocol = factory.buildProtocol(None)
        transport = StringTransport()  # type: ignore[no-untyped-call]
        protocol.makeConnection(transport)  # type: ignore[no-untyped-call]
        connections.append((protocol, transport))
    rounds = max(1, count // CONNECTIONS)
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for _ in range(rounds):
            for protocol, _transport in connections:
                protocol.dataReceived(REQUEST)
            waiting, api.waiting = api.waiting, []
            for d in waiting:
                d.callback(None)
            for _protocol, transport in connections:
                if not transport.value().endswith(ANSWER):  # type: ignore[no-untyped-call]
                    raise SystemExit("no answer written")
                transport.clear()  # type: ignore[no-untyped-call]
        best = min(best, (time.process_time() - start) / (rounds * CONNECTIONS) * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20000, help="requests per round")
    parser.add_argument("--repeat", type=int, default=5, help="rounds (the best is shown)")
    args = parser.parse_args()
    print(f"lean HTTP glue: {run(args.count, args.repeat):.2f} us of CPU per request")


if __name__ == "__main__":
    main()
