"""A customer's webhook receiver on loopback for the integration tests: records every request
(method, path and query, headers, body), checks the HMAC signature on its own (the standard
library's hmac, not smsc's code) and answers with the status the test sets, after ``delay``
seconds if set (a busy receiver). A JSON call carries ``{"events": [...]}``; a Kannel GET one
event named by its X-Smsc-Event-Id header.

It can stop listening and start again on the same port (a receiver that was down). Bounded:
at most MAX_REQUESTS are kept; every wait has a deadline.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOST = "127.0.0.1"
MAX_REQUESTS = 10_000
WAIT = 30.0


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str  # with its query
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered
    signed: bool | None  # the signature checked out (None: no signature header)

    @property
    def events(self) -> list[dict[str, Any]]:
        """The events of a JSON call (none for a GET)."""
        if self.method != "POST":
            return []
        events: list[dict[str, Any]] = json.loads(self.body)["events"]
        return events

    @property
    def event(self) -> dict[str, Any]:
        """The event of a call that carries one (an AssertionError otherwise)."""
        (only,) = self.events
        return only

    @property
    def event_ids(self) -> list[str]:
        """The ids of the events the call carries: the JSON events' ids, a GET's header."""
        if self.method != "POST":
            return [self.headers.get("x-smsc-event-id", "")]
        return [event["id"] for event in self.events]


class WebhookReceiver:
    def __init__(self, secret: str = "") -> None:
        self.secret = secret
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        # the status for the next request (a function of how many came before)
        self.answer: Callable[[int], int] = lambda n: 200
        self.delay = 0.0  # seconds before each answer
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/hooks/smsc"

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the courier's pool expects
            disable_nagle_algorithm = True  # as a real web server: no 40 ms delayed-ACK waits
            wbufsize = 64 * 1024  # the answer in one write

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status = receiver._record(self.command, self.path, headers, body)
                if receiver.delay:
                    time.sleep(min(receiver.delay, WAIT))
                self.send_response(status)
                reply = b"ok" if status < 300 else b"try again later"
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_POST = do_GET = _serve  # noqa: N815  (the names http.server calls)

            def log_message(self, *_: Any) -> None:
                pass

        server = ThreadingHTTPServer((HOST, self.port), Handler)
        server.daemon_threads = True
        server.allow_reuse_address = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening (the port stays this receiver's for a later start)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=WAIT)
            self._thread = None

    def _record(self, method: str, path: str, headers: dict[str, str], body: bytes) -> int:
        signed: bool | None = None
        header = headers.get("x-smsc-signature")
        if header is not None:
            timestamp = headers.get("x-smsc-timestamp", "")
            mac = hmac.new(self.secret.encode(), timestamp.encode() + b"." + body,
                           hashlib.sha256).hexdigest()
            signed = hmac.compare_digest("sha256=" + mac, header)
        with self._lock:
            status = self.answer(len(self.requests))
            if len(self.requests) < MAX_REQUESTS:
                self.requests.append(Request(method, path, headers, body, status, signed))
        return status

    # --- what the tests read -------------------------------------------------------------------
    def seen(self) -> list[Request]:
        with self._lock:
            return list(self.requests)

    def acked(self) -> list[Request]:
        return [r for r in self.seen() if 200 <= r.status < 300]

    def wait_for(self, condition: Callable[[list[Request]], bool], what: str,
                 timeout: float = WAIT) -> list[Request]:
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.05) + 1):
            seen = self.seen()
            if condition(seen):
                return seen
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        raise TimeoutError(f"webhook receiver: no {what} within {timeout} s; "
                           f"{len(self.seen())} request(s) seen")

    def acked_events(self) -> Counter[str]:
        """2xx answers per event id."""
        return Counter(event_id for r in self.acked() for event_id in r.event_ids)


def events_of(requests: list[Request]) -> list[dict[str, Any]]:
    """Every event the JSON calls ``requests`` carried, in order."""
    return [event for r in requests for event in r.events]
