"""The HTTP load client: single-message or batch POSTs to ``/v1/messages``, with keep-alive.

Run as its own process (it never shares a GIL with the server) and prints one JSON object::

    python -m bench.http_load --port 8080 --key KEY --connections 8 --count 20000
    python -m bench.http_load --port 8080 --key KEY --connections 2 --count 20000 --batch 1000
    ... --webhook-port 0     # also count the receipts the server POSTs back (its URL printed)

Each connection sends one request, reads its whole answer, and sends the next (HTTP/1.1
keep-alive, no pipelining); a request's latency runs from its write to the end of its answer.
With ``--batch N`` every request carries N destinations and a message counts as sent when its
destination got an id. Receipts: with ``--webhook-port`` the client runs a small HTTP receiver
that answers every POST 204 and counts the receipts by message id; it stops waiting when every
accepted message has one, or at ``--receipt-timeout``. A webhook call's body is
``{"events": [...]}`` with one or more events (docs/webhooks.md); each event counts, and the
calls are counted too (``receipts_calls``: events per call = received / calls).

Requests are built once as bytes; per request only the destination digits change. Everything
is bounded: ``--count`` messages at most, ``--max-seconds`` of sending, ``--receipt-timeout``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import resource
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.load import percentile

__all__ = ["HttpLoadResult", "HttpLoadSettings", "WebhookTally", "main", "run_http_load"]

MAX_CONNECTIONS = 256
MAX_BATCH = 10_000
MAX_COUNT = 2_000_000
MAX_HEADER = 65536
MESSAGE_TEXT = "Benchmark message from the smsc HTTP load client"
SENDER = "Bench"


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpLoadSettings:
    host: str = "127.0.0.1"
    port: int
    key: str
    connections: int = 8
    batch: int = 1  # destinations per request
    count: int = 10_000  # messages (destinations) in all
    destination_base: int = 380671000000
    max_seconds: float = 60.0
    receipts: bool = False  # ask for receipts (``"receipt": true``)
    webhook_port: int | None = None  # run a receiver on this port (0: any) and count receipts
    receipt_timeout: float = 60.0
    connect_timeout: float = 10.0


@dataclass(slots=True, kw_only=True)
class HttpLoadResult:
    """Everything one run measured; printed as one JSON object."""

    connections: int
    batch: int
    count: int
    requests: int = 0
    sent: int = 0  # destinations in the requests sent
    acked_ok: int = 0  # destinations that got a message id
    refused: int = 0  # destinations refused in a 2xx answer
    errors: dict[str, int] = field(default_factory=dict)  # HTTP status -> requests
    elapsed_s: float = 0.0
    throughput: float = 0.0  # messages per second
    requests_per_s: float = 0.0
    p50_ms: float = 0.0  # per request
    p99_ms: float = 0.0
    max_ms: float = 0.0
    receipts_expected: int = 0
    receipts_received: int = 0
    receipts_duplicates: int = 0
    receipts_calls: int = 0  # webhook calls that carried them
    receipts_elapsed_s: float = 0.0
    receipts_throughput: float = 0.0
    receipts_timed_out: bool = False
    webhook_url: str = ""
    timed_out: bool = False
    client_cpu_s: float = 0.0
    client_cpu_us_per_msg: float = 0.0
    fatal: str = ""

    def as_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))


class _Numbers:
    """Destination numbers handed out in order, ``count`` at most."""

    def __init__(self, base: int, count: int) -> None:
        self._next = base
        self._end = base + count

    def take(self, n: int) -> list[str]:
        first = self._next
        last = min(first + n, self._end)
        self._next = last
        return [str(number) for number in range(first, last)]


def _request(settings: HttpLoadSettings, destinations: Sequence[str], webhook_url: str) -> bytes:
    body: dict[str, object] = {"to": list(destinations), "text": MESSAGE_TEXT, "from": SENDER}
    if settings.receipts:
        body["receipt"] = True
    if webhook_url:
        body["webhook_url"] = webhook_url
    payload = json.dumps(body, separators=(",", ":")).encode()
    head = (
        f"POST /v1/messages HTTP/1.1\r\nHost: {settings.host}:{settings.port}\r\n"
        f"Authorization: Bearer {settings.key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One HTTP/1.1 answer with a Content-Length or chunked body: (status, body)."""
    head = await reader.readuntil(b"\r\n\r\n")
    if len(head) > MAX_HEADER:
        raise ValueError("answer header too long")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = None
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        return status, b"".join(parts)
    return status, await reader.readexactly(length or 0)


class WebhookTally:
    """A tiny HTTP receiver that answers every request 204 and counts receipts by message id
    (every event of a call's ``{"events": [...]}``)."""

    def __init__(self, expected: set[str]) -> None:
        self.expected = expected
        self.seen: set[str] = set()
        self.duplicates = 0
        self.calls = 0
        self.first_at = 0.0
        self.last_at = 0.0
        self.done = asyncio.Event()

    def tally(self, body: bytes) -> None:
        try:
            call = json.loads(body)
        except ValueError:
            return
        events = call.get("events") if isinstance(call, dict) else None
        if not isinstance(events, list):
            return
        self.calls += 1
        now = time.perf_counter()
        if not self.first_at:
            self.first_at = now
        self.last_at = now
        for event in events:
            if not isinstance(event, dict):
                continue
            message_id = str(event.get("message_id") or event.get("id") or "")
            if message_id in self.seen:
                self.duplicates += 1
            else:
                self.seen.add(message_id)
        if self.expected and self.expected <= self.seen:
            self.done.set()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                self.tally(await reader.readexactly(length))
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        except asyncio.CancelledError:  # the receiver closes at the end of the run
            pass
        finally:
            writer.close()


async def _connection(settings: HttpLoadSettings, numbers: _Numbers, result: HttpLoadResult,
                      latencies: list[float], accepted: set[str], deadline: float) -> None:
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(settings.host, settings.port), settings.connect_timeout)
    try:
        while time.perf_counter() < deadline:
            destinations = numbers.take(settings.batch)
            if not destinations:
                return
            started = time.perf_counter()
            writer.write(_request(settings, destinations, result.webhook_url))
            result.requests += 1
            result.sent += len(destinations)
            status, body = await _read_answer(reader)
            latencies.append(time.perf_counter() - started)
            if status // 100 != 2:
                result.errors[str(status)] = result.errors.get(str(status), 0) + 1
                continue
            for entry in json.loads(body).get("messages", []):
                if entry.get("id"):
                    result.acked_ok += 1
                    accepted.add(str(entry["id"]))
                else:
                    result.refused += 1
        result.timed_out = True
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def run_http_load(settings: HttpLoadSettings) -> HttpLoadResult:
    result = HttpLoadResult(connections=settings.connections, batch=settings.batch,
                            count=settings.count)
    accepted: set[str] = set()
    tally = WebhookTally(set())
    receiver = None
    if settings.webhook_port is not None:
        receiver = await asyncio.start_server(tally.serve, settings.host, settings.webhook_port)
        port = receiver.sockets[0].getsockname()[1]
        result.webhook_url = f"http://{settings.host}:{port}/receipts"
    numbers = _Numbers(settings.destination_base, settings.count)
    latencies: list[float] = []
    cpu_before = time.process_time()
    started = time.perf_counter()
    deadline = started + settings.max_seconds
    try:
        outcomes = await asyncio.gather(
            *(_connection(settings, numbers, result, latencies, accepted, deadline)
              for _ in range(settings.connections)),
            return_exceptions=True,
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                result.fatal = f"{type(outcome).__name__}: {outcome}"
        result.elapsed_s = time.perf_counter() - started
        if receiver is not None and settings.receipts:
            result.receipts_expected = len(accepted)
            tally.expected = accepted
            if accepted and not accepted <= tally.seen:
                try:
                    await asyncio.wait_for(tally.done.wait(), settings.receipt_timeout)
                except TimeoutError:
                    result.receipts_timed_out = True
            result.receipts_received = len(tally.seen & accepted)
            result.receipts_duplicates = tally.duplicates
            result.receipts_calls = tally.calls
            if tally.first_at:
                result.receipts_elapsed_s = tally.last_at - started
                if result.receipts_elapsed_s > 0:
                    result.receipts_throughput = round(
                        result.receipts_received / result.receipts_elapsed_s, 1)
    finally:
        if receiver is not None:
            receiver.close()
    if result.elapsed_s > 0:
        result.throughput = round(result.acked_ok / result.elapsed_s, 1)
        result.requests_per_s = round(result.requests / result.elapsed_s, 1)
    ordered = sorted(latencies)
    result.p50_ms = round(percentile(ordered, 0.50) * 1000, 3)
    result.p99_ms = round(percentile(ordered, 0.99) * 1000, 3)
    result.max_ms = round((ordered[-1] if ordered else 0.0) * 1000, 3)
    result.client_cpu_s = round(time.process_time() - cpu_before, 3)
    if result.sent:
        result.client_cpu_us_per_msg = round(result.client_cpu_s / result.sent * 1e6, 1)
    return result


def _parse(argv: Sequence[str] | None) -> HttpLoadSettings:
    parser = argparse.ArgumentParser(prog="python -m bench.http_load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key", required=True, help="the account's API key")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--batch", type=int, default=1, help="destinations per request")
    parser.add_argument("--count", type=int, default=10_000, help="messages in all")
    parser.add_argument("--destination-base", type=int, default=380671000000)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument("--receipts", action="store_true", help='ask for receipts')
    parser.add_argument("--webhook-port", type=int, default=None,
                        help="count the receipts POSTed to a receiver on this port (0: any)")
    parser.add_argument("--receipt-timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    if not 1 <= args.connections <= MAX_CONNECTIONS:
        parser.error(f"--connections must be 1..{MAX_CONNECTIONS}")
    if not 1 <= args.batch <= MAX_BATCH:
        parser.error(f"--batch must be 1..{MAX_BATCH}")
    if not 1 <= args.count <= MAX_COUNT:
        parser.error(f"--count must be 1..{MAX_COUNT}")
    return HttpLoadSettings(host=args.host, port=args.port, key=args.key,
                            connections=args.connections, batch=args.batch, count=args.count,
                            destination_base=args.destination_base,
                            max_seconds=args.max_seconds, receipts=args.receipts,
                            webhook_port=args.webhook_port,
                            receipt_timeout=args.receipt_timeout)


def main(argv: Sequence[str] | None = None) -> int:
    settings = _parse(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    del soft
    result = asyncio.run(run_http_load(settings))
    print(result.as_json())
    return 0 if not result.fatal else 1


if __name__ == "__main__":
    sys.exit(main())
