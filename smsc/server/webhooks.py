"""Receipts and MO by webhook: carries outbox items with a hook over HTTP, I/O only.

Every decision is the core's: :class:`smsc.core.webhook_desk.WebhookDesk` (store thread)
claims due items and makes them events and writes the verdicts back;
:class:`smsc.core.webhook_queue.WebhookQueue` (event loop) groups the events waiting into calls
(up to ``webhook_batch`` JSON events of one URL and secret per call), says which call goes out
next and judges each answer. This courier runs the store calls on the store thread, the HTTP
calls on the event loop through one bounded connection pool, and is woken when items are
committed here (``wake``, from ``OutboxCourier.offer``) and every second (``Upkeep``), which
also finds items another process wrote and retries that came due.

The calls go through Twisted's ``Agent`` (``Agent.usingEndpointFactory``) over a persistent
``HTTPConnectionPool`` (keep-alive, ``per_host`` connections kept per host); answers are read
with ``treq.collect``. treq's ``HTTPClient`` is not in the way of each call: its per-request
wrapping (the URL parsed and re-encoded, a cookie agent, a gzip decoder, a buffered response)
cost about as much CPU as the rest of the call together, and a webhook needs none of it (no
cookies, no redirects, no gzip asked). A URL is made ASCII (an IRI's host in IDNA, its path
percent-encoded) once and kept, and so is the endpoint of each host (:class:`KeptEndpoints`).

Delivery is at least once: an item leaves the outbox only once a 2xx answer's removal is
committed; a crash before that sends it again when its claim's lease runs out, under the same
event id.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import treq
from hyperlink import EncodedURL
from twisted.internet import defer
from twisted.internet.endpoints import HostnameEndpoint, wrapClientTLS
from twisted.internet.error import (
    ConnectError,
    ConnectionRefusedError,
    DNSLookupError,
    TimeoutError,
)
from twisted.internet.interfaces import (
    IDelayedCall,
    IProtocol,
    IProtocolFactory,
    IReactorTime,
    IStreamClientEndpoint,
)
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.client import (
    URI,
    Agent,
    BrowserLikePolicyForHTTPS,
    HTTPConnectionPool,
    ResponseFailed,
)
from twisted.web.error import SchemeNotSupported
from twisted.web.http_headers import Headers
from twisted.web.iweb import IAgent, IAgentEndpointFactory, IBodyProducer, IResponse
from zope.interface import implementer

from smsc.core.webhook_desk import WebhookDesk
from smsc.core.webhook_queue import WebhookQueue
from smsc.core.webhooks import ACK, RETRY, Verdict, WebhookCall, WebhookEvent
from smsc.server.lograte import LogLimiter, suppressed_note
from smsc.server.storehealth import StoreHealth
from smsc.server.worker import StoreWorker
from smsc.store.records import OutboxItem

_log = Logger()
ERROR_TEXT = 200  # characters of an answer's body kept in the error of a failed call
MAX_URLS = 4096  # URLs kept made into request octets


@implementer(IBodyProducer)
class _Octets:
    """A request body already in memory, written whole at once."""

    __slots__ = ("body", "length")

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.length = len(body)

    def startProducing(self, consumer: Any) -> Any:
        consumer.write(self.body)
        return defer.succeed(None)

    def stopProducing(self) -> None:
        pass

    def pauseProducing(self) -> None:
        pass

    def resumeProducing(self) -> None:
        pass


@implementer(IStreamClientEndpoint)
class _Quiet:
    """An endpoint whose connections' factories say nothing (the pool's factory logs a
    start and a stop line per connection: a flood with receivers that close every one)."""

    __slots__ = ("endpoint",)

    def __init__(self, endpoint: IStreamClientEndpoint) -> None:
        self.endpoint = endpoint

    def connect(self, protocolFactory: IProtocolFactory  # noqa: N803 (the interface's name)
                ) -> defer.Deferred[IProtocol]:
        protocolFactory.noisy = False  # type: ignore[attr-defined]
        return self.endpoint.connect(protocolFactory)


@implementer(IAgentEndpointFactory)
class KeptEndpoints:
    """The endpoint of each (scheme, host, port), made once and kept (the most recent
    ``limit``): Twisted's Agent makes a new one, its host name through IDNA, for every
    request. The same endpoints it would make: TCP for http, TLS (a browser-like policy:
    the certificate checked against the host) for https; their connections' factories
    quiet."""

    def __init__(self, reactor: Any, connect_timeout: float, limit: int = MAX_URLS) -> None:
        self._reactor = reactor
        self._timeout = connect_timeout
        self._tls = BrowserLikePolicyForHTTPS()  # type: ignore[no-untyped-call]
        self._known: dict[tuple[bytes, bytes, int], IStreamClientEndpoint] = {}
        self.limit = limit

    def endpointForURI(self, uri: URI) -> IStreamClientEndpoint:
        key = (uri.scheme, uri.host, uri.port)
        known = self._known.get(key)
        if known is not None:
            return known
        endpoint = HostnameEndpoint(self._reactor, uri.host.decode("ascii"), uri.port,
                                    timeout=self._timeout)
        made: IStreamClientEndpoint
        if uri.scheme == b"http":
            made = _Quiet(endpoint)
        elif uri.scheme == b"https":
            made = _Quiet(wrapClientTLS(self._tls.creatorForNetloc(uri.host, uri.port),
                                        endpoint))
        else:
            raise SchemeNotSupported(f"Unsupported scheme: {uri.scheme!r}")
        if len(self._known) >= self.limit:
            del self._known[next(iter(self._known))]
        self._known[key] = made
        return made


class RequestUris:
    """URLs as the octets of a request target: ASCII kept as it is, an IRI made a URI (as
    treq does); remembered, the most recent ``limit``."""

    def __init__(self, limit: int = MAX_URLS) -> None:
        self._known: dict[str, bytes] = {}
        self.limit = limit

    def __call__(self, url: str) -> bytes:
        known = self._known.get(url)
        if known is not None:
            return known
        made = (url if url.isascii() else EncodedURL.from_text(url).to_uri().to_text()
                ).encode("ascii")
        if len(self._known) >= self.limit:
            del self._known[next(iter(self._known))]
        self._known[url] = made
        return made


class _Body:
    """The first octets of an answer's body (the rest is read and dropped)."""

    __slots__ = ("kept", "limit")

    def __init__(self, limit: int) -> None:
        self.kept = bytearray()
        self.limit = limit

    def __call__(self, data: bytes) -> None:
        room = self.limit - len(self.kept)
        if room > 0:
            self.kept += data[:room]


def _read(response: IResponse, body: _Body) -> defer.Deferred[int]:
    """Read an answer's body (its first octets kept); its status."""
    return treq.collect(response, body).addCallback(lambda _: response.code)


def why(failure: Failure) -> str:
    """A short reason for a call that got no answer."""
    error = failure.value
    if isinstance(error, TimeoutError | defer.TimeoutError | defer.CancelledError):
        return "timeout"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, DNSLookupError):
        return "host not found"
    if isinstance(error, ConnectError):
        return f"cannot connect: {error.osError or error}"
    if isinstance(error, ResponseFailed):
        return "connection lost: " + "; ".join(
            r.getErrorMessage() for r in error.reasons)[:ERROR_TEXT]
    return f"{type(error).__name__}: {error}"[:ERROR_TEXT]


class WebhookCourier:
    """Carries hooked outbox items to their URLs and their verdicts back to the store."""

    def __init__(self, reactor: Any, worker: StoreWorker, desk: WebhookDesk,
                 queue: WebhookQueue, *, health: StoreHealth | None = None,
                 agent: IAgent | None = None) -> None:
        self._reactor = reactor
        self._clock: IReactorTime = reactor
        self._worker = worker
        self.desk = desk
        self.queue = queue
        self._health = health
        policy = queue.policy
        self._pool = HTTPConnectionPool(reactor, persistent=True)  # type: ignore[no-untyped-call]
        self._pool.maxPersistentPerHost = policy.per_host
        self._pool.cachedConnectionTimeout = 60
        self._pool.retryAutomatically = False  # a retry is the queue's decision, not the pool's
        self._logs = LogLimiter()  # failed calls: a few lines per host, then one per 5 s
        self._agent: IAgent = agent if agent is not None else Agent.usingEndpointFactory(
            reactor, KeptEndpoints(reactor, policy.connect_timeout),
            pool=self._pool)  # type: ignore[no-untyped-call]
        self._uris = RequestUris()
        self._writing = False
        self._pump_call: IDelayedCall | None = None
        self._claim_call: IDelayedCall | None = None
        self._write_call: IDelayedCall | None = None
        self._flying: dict[int, defer.Deferred[Any]] = {}  # call key -> the call in flight
        self._deadlines: deque[tuple[float, int, defer.Deferred[Any]]] = deque()
        self._deadline_call: IDelayedCall | None = None
        self.stopping = False

    # --- claims -------------------------------------------------------------------------------
    def offer(self, items: list[OutboxItem]) -> None:
        """Items this process just committed: claim them if any has a hook."""
        for item in items:
            if item.hook_style:
                self.wake()
                return

    def wake(self) -> None:
        """Claim due items from the store soon (after the policy's ``gather``, so the items
        of the next few commits come in one claim), unless a claim is due already, runs (it
        claims again after) or memory holds enough already."""
        if self.stopping or self._claim_call is not None:
            return
        self._claim_call = self._clock.callLater(self.queue.policy.gather, self._claim)

    def _claim(self) -> None:
        pending = self._claim_call
        if pending is not None and pending.active():  # called early: the timer is not needed
            pending.cancel()
        self._claim_call = None
        if self.stopping:
            return
        asked = self.queue.claim_size()
        if not asked:
            return
        d = self._worker.call(self.desk.claim, self._clock.seconds(), asked)
        d.addCallbacks(self._claimed, self._claim_failed, callbackArgs=(asked,))

    def _claimed(self, events: list[WebhookEvent], asked: int) -> None:
        again = self.queue.claimed(events, asked)
        self._schedule_pump()
        if again and not self.stopping:
            self._claim()  # it came back full: more are due now

    def _claim_failed(self, failure: Failure) -> None:
        self.queue.claim_failed()
        self._store_failed(failure, "claiming webhooks")

    # --- calls --------------------------------------------------------------------------------
    def _schedule_pump(self) -> None:
        """Start what may start, on the next turn of the event loop (so answers that come at
        once, such as a URL the client refuses, never recurse)."""
        if self._pump_call is None:
            self._pump_call = self._clock.callLater(0, self._pump)

    def _pump(self) -> None:
        self._pump_call = None
        for call in self.queue.sendable(self._clock.seconds()):
            self._send(call)

    def _send(self, call: WebhookCall) -> None:
        body = _Body(ERROR_TEXT)
        headers = Headers()
        for name, value in call.headers:
            headers.addRawHeader(name, value)
        try:
            d = self._request(call, headers)
        except Exception:
            d = defer.fail()
        self._limit_time(call.key, d)
        d.addCallback(_read, body)
        d.addCallbacks(self._answered, self._no_answer, callbackArgs=(call, body),
                       errbackArgs=(call,))

    def _limit_time(self, key: int, d: defer.Deferred[Any]) -> None:
        """Cancel the call (a timeout) if it has not ended after the policy's ``timeout``.
        One timer for every call in flight, not one each: calls start in time order and share
        the limit, so their deadlines queue in order; the timer wakes at the first."""
        self._flying[key] = d
        self._deadlines.append((self._clock.seconds() + self.queue.policy.timeout, key, d))
        if self._deadline_call is None:
            self._deadline_call = self._clock.callLater(self.queue.policy.timeout,
                                                        self._expire)

    def _expire(self) -> None:
        self._deadline_call = None
        now = self._clock.seconds()
        deadlines, flying = self._deadlines, self._flying
        while deadlines and deadlines[0][0] <= now:
            _, key, d = deadlines.popleft()
            if flying.get(key) is d:
                d.cancel()
        self._drop_ended()
        if deadlines:
            self._deadline_call = self._clock.callLater(max(0.0, deadlines[0][0] - now),
                                                        self._expire)

    def _drop_ended(self) -> None:
        """Forget the deadlines of calls that ended, from the oldest (so the queue holds
        about what is in flight)."""
        deadlines, flying = self._deadlines, self._flying
        while deadlines and flying.get(deadlines[0][1]) is not deadlines[0][2]:
            deadlines.popleft()

    def _request(self, call: WebhookCall, headers: Headers) -> defer.Deferred[IResponse]:
        return self._agent.request(call.method.encode("ascii"), self._uris(call.url), headers,
                                   _Octets(call.body) if call.method == "POST" else None)

    def _answered(self, status: int, call: WebhookCall, body: _Body) -> None:
        error = "" if 200 <= status < 300 else (
            f"HTTP {status}" + (": " + body.kept.decode("utf-8", "replace").strip()
                                if body.kept.strip() else ""))
        self._settle(call, status, error)

    def _no_answer(self, failure: Failure, call: WebhookCall) -> None:
        self._settle(call, None, why(failure))

    def _settle(self, call: WebhookCall, status: int | None, error: str) -> None:
        self._flying.pop(call.key, None)
        self._drop_ended()
        verdicts = self.queue.answered(call, status, error, self._clock.seconds())
        _, verdict = verdicts[0]
        if verdict.action != ACK:
            left_out = self._logs.allow(call.host, self._clock.seconds())
            if left_out is not None:
                events = (f"{call.key}" if len(verdicts) == 1
                          else f"{call.key} (and {len(verdicts) - 1} more events)")
                _log.info("webhook {event} to {host}: {error}; {next}{suppressed}",
                          event=events, host=call.host, error=verdict.error,
                          next=_next(verdict, self._clock), suppressed=suppressed_note(left_out))
        self._schedule_write()
        self._schedule_pump()

    # --- verdicts to the store ------------------------------------------------------------------
    def _schedule_write(self) -> None:
        """Write the verdicts waiting after the policy's ``gather`` (at once when a claim's
        worth waits), so one transaction acknowledges many."""
        if self.queue.verdicts >= self.queue.policy.claim_batch:
            self._write()
        elif self._write_call is None and not self._writing:
            self._write_call = self._clock.callLater(self.queue.policy.gather, self._write)

    def _write(self) -> None:
        """Write the verdicts waiting (one write at a time; the next takes what came meanwhile)."""
        if self._write_call is not None:
            if self._write_call.active():
                self._write_call.cancel()
            self._write_call = None
        if self._writing or not self.queue.has_verdicts:
            return
        verdicts = self.queue.take_verdicts()
        self._writing = True
        d = self._worker.call(self.desk.record, verdicts, self._clock.seconds())
        d.addErrback(self._store_failed, "writing webhook results")
        d.addBoth(self._written, [item for item, _ in verdicts])

    def _written(self, _: object, items: list[OutboxItem]) -> None:
        self._writing = False
        self.queue.written(items)
        if self.queue.has_verdicts:
            self._schedule_write()
        self.wake()

    def _store_failed(self, failure: Failure, what: str) -> None:
        if self._health is not None:
            self._health.failed(what, failure)
        else:
            _log.failure(what + " failed", failure)

    # --- lifecycle ------------------------------------------------------------------------------
    @property
    def idle(self) -> bool:
        return not (self.queue.in_flight or self._writing or self.queue.has_verdicts
                    or self.queue.claiming)

    def stop(self) -> Any:
        """Claim nothing more, give the items still waiting for a slot back to the store (due
        at once for the next start) and close the kept connections. Calls in flight are left
        to their timeouts; their items come back after their lease."""
        self.stopping = True
        for pending in (self._pump_call, self._claim_call):
            if pending is not None and pending.active():
                pending.cancel()
        self._pump_call = self._claim_call = None
        self._write()  # the verdicts gathering now, without waiting for company
        unsent = self.queue.unsent()
        released = (self._worker.call(self.desk.release, unsent, self._clock.seconds())
                    if unsent else defer.succeed(None))
        released.addErrback(self._store_failed, "releasing unsent webhooks")
        closed = defer.maybeDeferred(self._pool.closeCachedConnections)
        return defer.gatherResults([released, closed])


def _next(verdict: Verdict, clock: IReactorTime) -> str:
    if verdict.action == RETRY:
        return f"retry {verdict.attempts + 1} in {max(0.0, verdict.at - clock.seconds()):.0f} s"
    return f"moved to the failed list after {verdict.attempts} attempt(s)"
