"""The webhook courier as an adapter: treq's in-memory agent for HTTP, a task.Clock, the store
worker inline. The limits in flight, a call that never answers (timeout, then a retry in the
store), acknowledgements removing items, and a stop that claims nothing more."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from treq.testing import RequestTraversalAgent
from twisted.internet import defer, task
from twisted.internet.endpoints import HostnameEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.web.client import URI
from twisted.web.error import SchemeNotSupported
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request

from smsc.core.webhook_desk import WebhookDesk
from smsc.core.webhook_queue import WebhookQueue
from smsc.core.webhooks import WebhookPolicy
from smsc.server.webhooks import KeptEndpoints, RequestUris, WebhookCourier, _Quiet
from smsc.store.memory import MemoryStore
from smsc.store.records import Account, OutboxItem
from tests.core.test_webhooks import FMT, SECRET, _receipt_item
from tests.operators.factories import T0
from tests.server.harness import InlineWorker

URL = "http://hooks.example/smsc"
# one event per call: the tests of the limits count calls; BATCHED groups them
POLICY = WebhookPolicy(timeout=2.0, retry_min=5.0, per_host=2, max_in_flight=3,
                       claim_batch=8, max_held=16, gather=0.0, batch=1)
BATCHED = dataclasses.replace(POLICY, batch=4)


class Hooks(Resource):
    """The customer's receiver: answers ``status``, or never (``hang``)."""

    isLeaf = True  # noqa: N815  (twisted.web's name)

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.status = 200
        self.hang = False
        self.seen: list[tuple[str, bool]] = []  # event id, signature good (each event)
        self.calls: list[list[str]] = []  # the event ids of each call
        self.waiting: list[Request] = []

    def render_POST(self, request: Request) -> bytes | int:
        body = request.content.read() if request.content is not None else b""
        timestamp = (request.getHeader("x-smsc-timestamp") or "").encode()
        mac = hmac.new(SECRET.encode(), timestamp + b"." + body, hashlib.sha256).hexdigest()
        signed = hmac.compare_digest("sha256=" + mac,
                                     request.getHeader("x-smsc-signature") or "")
        ids = [event["id"] for event in json.loads(body)["events"]]
        assert request.getHeader("x-smsc-event-count") == str(len(ids))
        self.calls.append(ids)
        self.seen.extend((event_id, signed) for event_id in ids)
        if self.hang:
            self.waiting.append(request)
            return NOT_DONE_YET
        request.setResponseCode(self.status)
        return b"ok"


Rig = tuple[WebhookCourier, MemoryStore, Hooks, task.Clock, RequestTraversalAgent]


@pytest.fixture
def rig() -> Iterator[Rig]:
    yield from _rig(POLICY)


@pytest.fixture
def batched() -> Iterator[Rig]:
    yield from _rig(BATCHED)


def _rig(policy: WebhookPolicy) -> Iterator[Rig]:
    store = MemoryStore()
    store.create_account(Account(system_id="acct", password_hash="x", webhook_url=URL,
                                 webhook_secret=SECRET))
    clock = task.Clock()
    clock.advance(T0 + 10)
    hooks = Hooks()
    stub = RequestTraversalAgent(hooks)  # type: ignore[no-untyped-call]
    courier = WebhookCourier(clock, InlineWorker(),
                             WebhookDesk(store, policy=policy, format_id=FMT),
                             WebhookQueue(policy, draw=lambda: 0.5), agent=stub)
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
                                    "deferred": 0, "calls": 5}
    assert courier.queue.held == 0 and courier.idle


def test_waiting_events_go_together_within_the_batch(batched: Rig) -> None:
    courier, store, hooks, clock, stub = batched
    items = _add(store, 11)
    courier.offer(items)
    for _ in range(10):
        _turn(clock, stub)
        if store.outbox_count() == 0:
            break
    assert store.outbox_count() == 0
    # 4 per call at most, 2 calls at once, each event once, in order within its call
    assert [len(ids) for ids in hooks.calls] == [4, 4, 3]
    assert sorted(hooks.seen) == sorted((f"evt-{i.id}", True) for i in items)
    for ids in hooks.calls:
        assert ids == sorted(ids, key=lambda e: int(e[4:]))
    assert courier.queue.counts["calls"] == 3 and courier.queue.counts["acked"] == 11


def test_a_failed_call_retries_every_event_it_carried(batched: Rig) -> None:
    courier, store, hooks, clock, stub = batched
    hooks.status = 500
    items = _add(store, 3)
    courier.offer(items)
    for _ in range(5):
        _turn(clock, stub)
    assert hooks.calls == [[f"evt-{i.id}" for i in items]]
    assert courier.queue.held == 0 and store.outbox_count() == 3
    again = store.claim_webhooks(clock.seconds() + 6.0, 10, 1.0)
    assert sorted((i.id, i.attempts) for i in again) == sorted((i.id, 1) for i in items)
    assert courier.queue.counts["retried"] == 3


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
    assert type(plain.endpoint) is HostnameEndpoint
    assert endpoint(b"http://hooks.example:8080/b") is plain
    secure = endpoint(b"https://hooks.example/a")
    assert type(secure.endpoint) is not HostnameEndpoint  # TLS around one
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


def test_the_endpoints_connections_are_quiet() -> None:
    endpoints = KeptEndpoints(MemoryReactorClock(), 5.0)  # type: ignore[no-untyped-call]
    made = endpoints.endpointForURI(URI.fromBytes(b"http://hooks.example/"))  # type: ignore[no-untyped-call]
    assert isinstance(made, _Quiet) and type(made.endpoint) is HostnameEndpoint
    wired = _WiredEndpoints().endpointForURI(URI.fromBytes(b"http://hooks.example/"))  # type: ignore[no-untyped-call]
    factory = Factory.forProtocol(Protocol)
    assert factory.noisy  # a factory's default: a line when it starts and when it stops
    _Quiet(wired).connect(factory)
    assert not factory.noisy
