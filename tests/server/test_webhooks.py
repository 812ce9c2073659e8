"""The webhook courier as an adapter: treq's in-memory agent for HTTP, a task.Clock, the store
worker inline. The limits in flight, a call that never answers (timeout, then a retry in the
store), acknowledgements removing items, and a stop that claims nothing more."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from treq.testing import RequestTraversalAgent
from twisted.internet import defer, task
from twisted.internet.endpoints import HostnameEndpoint
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.web.client import URI, HTTPConnectionPool
from twisted.web.error import SchemeNotSupported
from twisted.web.http_headers import Headers
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request

from smsc.core.webhook_desk import WebhookDesk
from smsc.core.webhook_queue import WebhookQueue
from smsc.core.webhooks import WebhookPolicy
from smsc.server.webhooks import KeptEndpoints, KeptTargetAgent, RequestUris, WebhookCourier
from smsc.store.memory import MemoryStore
from smsc.store.records import Account, OutboxItem
from tests.core.test_webhooks import FMT, SECRET, _receipt_item
from tests.operators.factories import T0
from tests.server.harness import InlineWorker

URL = "http://hooks.example/smsc"
POLICY = WebhookPolicy(timeout=2.0, retry_min=5.0, per_host=2, max_in_flight=3,
                       claim_batch=8, max_held=16, gather=0.0)


class Hooks(Resource):
    """The customer's receiver: answers ``status``, or never (``hang``)."""

    isLeaf = True  # noqa: N815  (twisted.web's name)

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.status = 200
        self.hang = False
        self.seen: list[tuple[str, bool]] = []  # event id, signature good
        self.waiting: list[Request] = []

    def render_POST(self, request: Request) -> bytes | int:
        body = request.content.read() if request.content is not None else b""
        timestamp = (request.getHeader("x-smsc-timestamp") or "").encode()
        mac = hmac.new(SECRET.encode(), timestamp + b"." + body, hashlib.sha256).hexdigest()
        signed = hmac.compare_digest("sha256=" + mac,
                                     request.getHeader("x-smsc-signature") or "")
        self.seen.append((request.getHeader("x-smsc-event-id") or "", signed))
        if self.hang:
            self.waiting.append(request)
            return NOT_DONE_YET
        request.setResponseCode(self.status)
        return b"ok"


Rig = tuple[WebhookCourier, MemoryStore, Hooks, task.Clock, RequestTraversalAgent]


@pytest.fixture
def rig() -> Iterator[Rig]:
    store = MemoryStore()
    store.create_account(Account(system_id="acct", password_hash="x", webhook_url=URL,
                                 webhook_secret=SECRET))
    clock = task.Clock()
    clock.advance(T0 + 10)
    hooks = Hooks()
    stub = RequestTraversalAgent(hooks)  # type: ignore[no-untyped-call]
    courier = WebhookCourier(clock, InlineWorker(),
                             WebhookDesk(store, policy=POLICY, format_id=FMT),
                             WebhookQueue(POLICY, draw=lambda: 0.5), agent=stub)
    yield courier, store, hooks, clock, stub
    courier.stop()


def _turn(clock: task.Clock, stub: RequestTraversalAgent) -> None:
    """One turn of the event loop: scheduled pumps run, the stub answers what it can."""
    clock.advance(0)
    stub.flush()  # type: ignore[no-untyped-call]
    clock.advance(0)


def _add(store: MemoryStore, count: int) -> list[OutboxItem]:
    return store.add_outbox([dataclasses.replace(_receipt_item(), id=0, hook_url=URL)
                             for _ in range(count)])


def test_acknowledged_items_leave_the_store(rig: Rig) -> None:
    courier, store, hooks, clock, stub = rig
    items = _add(store, 5)
    courier.offer(items)
    for _ in range(10):
        _turn(clock, stub)
        if store.outbox_count() == 0:
            break
    assert store.outbox_count() == 0
    assert sorted(hooks.seen) == sorted((f"evt-{i.id}", True) for i in items)
    assert courier.queue.counts == {"sent": 5, "acked": 5, "retried": 0, "failed": 0,
                                    "deferred": 0}
    assert courier.queue.held == 0 and courier.idle


def test_a_receiver_that_never_answers_times_out_within_the_limits(rig: Rig) -> None:
    courier, store, hooks, clock, stub = rig
    hooks.hang = True
    items = _add(store, 5)
    courier.offer(items[:1])  # one hooked item is enough to wake it: it claims all due
    _turn(clock, stub)
    assert len(hooks.seen) == 2 and courier.queue.in_flight == 2  # per_host
    assert courier.queue.held == 5
    clock.advance(POLICY.timeout)
    _turn(clock, stub)
    # both timed out: retries written to the store; the next two went out
    retried = [i for i in store.claim_webhooks(clock.seconds() + 5.0, 10, 1.0)
               if i.attempts == 1]
    assert len(retried) == 2 and len(hooks.seen) == 4
    assert courier.queue.counts["retried"] == 2


def test_each_call_times_out_at_its_own_deadline(rig: Rig) -> None:
    courier, store, hooks, clock, stub = rig
    hooks.hang = True
    courier.offer(_add(store, 4))
    _turn(clock, stub)
    assert courier.queue.in_flight == 2
    clock.advance(POLICY.timeout)  # the first two time out, the next two start now
    _turn(clock, stub)
    assert courier.queue.counts["retried"] == 2 and courier.queue.in_flight == 2
    clock.advance(POLICY.timeout - 0.01)
    _turn(clock, stub)
    assert courier.queue.counts["retried"] == 2 and courier.queue.in_flight == 2  # not yet
    clock.advance(0.01)
    _turn(clock, stub)
    assert courier.queue.counts["retried"] == 4 and courier.queue.in_flight == 0
    assert not courier._deadlines and not courier._flying  # nothing kept past its call


def test_a_stopped_courier_claims_nothing(rig: Rig) -> None:
    courier, store, hooks, clock, stub = rig
    courier.stop()
    courier.offer(_add(store, 2))
    _turn(clock, stub)
    assert hooks.seen == [] and store.outbox_count() == 2


def test_a_url_the_client_cannot_use_is_retried_not_stuck(rig: Rig) -> None:
    courier, store, hooks, clock, stub = rig
    (bad,) = store.add_outbox([dataclasses.replace(_receipt_item(), id=0,
                                                   hook_url="http://[::1/smsc")])
    good = _add(store, 3)
    courier.offer(good)
    for _ in range(10):
        _turn(clock, stub)
    assert courier.queue.in_flight == 0 and courier.queue.held == 0
    assert store.outbox_count() == 1  # the good ones acknowledged, the bad one waits
    (again,) = store.claim_webhooks(clock.seconds() + 6.0, 10, 1.0)
    assert again.id == bad.id and again.attempts == 1
    assert courier.queue.counts["retried"] == 1 and len(hooks.seen) == 3


def test_a_stop_gives_the_unsent_items_back_due_at_once(rig: Rig) -> None:
    courier, store, hooks, clock, stub = rig
    hooks.hang = True
    items = _add(store, 5)
    courier.offer(items)
    _turn(clock, stub)
    assert courier.queue.in_flight == 2 and courier.queue.waiting == 3
    courier.stop()
    due = {i.id for i in store.claim_webhooks(clock.seconds(), 10, 1.0)}
    assert len(due) == 3 and due <= {i.id for i in items}  # the two in flight keep their lease


def test_claims_and_acknowledgements_gather_into_few_store_calls() -> None:
    store = MemoryStore()
    store.create_account(Account(system_id="acct", password_hash="x", webhook_url=URL,
                                 webhook_secret=SECRET))
    clock = task.Clock()
    clock.advance(T0 + 10)
    hooks = Hooks()
    agent = RequestTraversalAgent(hooks)  # type: ignore[no-untyped-call]
    policy = dataclasses.replace(POLICY, per_host=8, max_in_flight=8, gather=0.01)
    calls = {"claim": 0, "ack": 0}
    claim, ack = store.claim_webhooks, store.ack_outbox

    def counted_claim(*args: object, **kwargs: object) -> list[OutboxItem]:
        calls["claim"] += 1
        return claim(*args, **kwargs)  # type: ignore[arg-type]

    def counted_ack(ids: Sequence[int]) -> None:
        calls["ack"] += 1
        ack(ids)

    store.claim_webhooks = counted_claim  # type: ignore[method-assign]
    store.ack_outbox = counted_ack  # type: ignore[method-assign]
    courier = WebhookCourier(clock, InlineWorker(), WebhookDesk(store, policy=policy,
                                                                format_id=FMT),
                             WebhookQueue(policy, draw=lambda: 0.5), agent=agent)
    for _ in range(3):  # three commits in a row, each waking the courier
        courier.offer(_add(store, 2))
    _turn(clock, agent)
    assert calls["claim"] == 0  # the claim waits for company
    clock.advance(0.01)
    _turn(clock, agent)
    assert calls == {"claim": 1, "ack": 0} and len(hooks.seen) == 6
    clock.advance(0.01)
    _turn(clock, agent)
    assert calls["ack"] == 1 and store.outbox_count() == 0  # six answers, one transaction
    courier.stop()


def test_an_iri_is_sent_as_its_uri() -> None:
    uris = RequestUris(limit=2)
    assert uris("http://hooks.example/a?b=1") == b"http://hooks.example/a?b=1"
    assert uris("http://bücher.example/ä") == b"http://xn--bcher-kva.example/%C3%A4"
    uris("http://third.example/")
    assert len(uris._known) == 2  # the oldest went


def test_endpoints_are_made_once_per_host_as_the_agent_would() -> None:
    endpoints = KeptEndpoints(MemoryReactorClock(), 5.0, limit=2)  # type: ignore[no-untyped-call]

    def endpoint(url: bytes) -> Any:
        return endpoints.endpointForURI(URI.fromBytes(url))  # type: ignore[no-untyped-call]

    plain = endpoint(b"http://hooks.example:8080/a")
    assert type(plain) is HostnameEndpoint
    assert endpoint(b"http://hooks.example:8080/b") is plain
    secure = endpoint(b"https://hooks.example/a")
    assert type(secure) is not HostnameEndpoint  # TLS around one
    with pytest.raises(SchemeNotSupported):
        endpoint(b"ftp://hooks.example/a")
    endpoint(b"http://other.example/")
    assert endpoint(b"http://hooks.example:8080/") is not plain  # the oldest went


class _WiredEndpoints:
    """Endpoints that connect at once to a StringTransport each (what the agent writes)."""

    def __init__(self) -> None:
        self.transports: list[StringTransport] = []
        self.asked: list[URI] = []

    def endpointForURI(self, uri: URI) -> Any:
        if uri.scheme != b"http":
            raise SchemeNotSupported(uri.scheme)
        self.asked.append(uri)
        outer = self

        class _Wired:
            def connect(self, factory: Any) -> Any:
                protocol = factory.buildProtocol(None)
                transport = StringTransport()  # type: ignore[no-untyped-call]
                protocol.makeConnection(transport)
                outer.transports.append(transport)
                return defer.succeed(protocol)

        return _Wired()


def test_the_agent_parses_each_target_once_and_writes_it_as_the_agent_would() -> None:
    endpoints = _WiredEndpoints()
    pool = HTTPConnectionPool(MemoryReactorClock(), persistent=False)  # type: ignore[no-untyped-call]
    agent = KeptTargetAgent.over(MemoryReactorClock(), endpoints, pool)  # type: ignore[no-untyped-call,arg-type]
    agent.limit = 2
    agent.request(b"POST", b"http://hooks.example:8080/a?b=1", Headers(), None)
    agent.request(b"POST", b"http://hooks.example:8080/a?b=1", None, None)
    sent = [t.value() for t in endpoints.transports]  # type: ignore[no-untyped-call]
    assert len(sent) == 2 and len(endpoints.asked) == 1  # the second call: the kept target
    for request in sent:
        assert request.startswith(b"POST /a?b=1 HTTP/1.1\r\n")
        assert b"\r\nHost: hooks.example:8080\r\n" in request
    agent.request(b"GET", b"http://[::1]/x", None, None)
    assert b"\r\nHost: [::1]\r\n" in endpoints.transports[-1].value()  # type: ignore[no-untyped-call]
    agent.request(b"GET", b"http://third.example/", None, None)
    assert len(agent._targets) == 2  # the oldest went
    refused: list[Any] = []
    agent.request(b"GET", b"ftp://hooks.example/", None, None).addErrback(refused.append)
    assert refused and refused[0].check(SchemeNotSupported)
