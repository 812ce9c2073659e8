"""Receipts and MO by webhook, end to end: a real server (subprocess), real SMPP submits (smpplib
and the suite's codec client), and a real HTTP receiver on loopback that checks each signature
with the account's secret.

The server here retries webhooks after 1 s, doubling to 2 s, and gives a call 1 s.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from smsc.core.centre import SmscCore
from smsc.core.ids import MessageIdFormat
from smsc.core.routebook import Routed
from smsc.core.submit import BindContext
from smsc.pdu import pdus
from smsc.store.location import open_store
from smsc.store.records import Account, HookStyle, MessageHook
from tests.integration.conftest import (
    UA_NUMBERS,
    Login,
    SmscServer,
    accepted,
    bound_esme,
    smpplib_client,
    start_server,
    submit,
    write_config,
)
from tests.integration.test_restart import Submitter
from tests.integration.webhook_receiver import WebhookReceiver, events_of
from tests.operators.factories import simulator

FAST_WEBHOOKS = {"webhook_timeout": "1s", "webhook_retry_min": "1s", "webhook_retry_max": "2s"}
SLOW_DELAY = '{ kind = "uniform", low = "300ms", high = "3s" }'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmscServer]:
    directory = tmp_path_factory.mktemp("webhooks")
    started = start_server(directory / "smsc.sqlite",
                           write_config(directory, server=dict(FAST_WEBHOOKS)))
    yield started
    started.stop()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    hook = WebhookReceiver().start()
    yield hook
    hook.stop()


def hooked_account(server: SmscServer, receiver: WebhookReceiver, *extra: str) -> Login:
    """A fresh account whose receipts and MO go to ``receiver`` (which learns its secret)."""
    login = server.add_account()
    server.cli("account", "set", login.system_id, "--webhook-url", receiver.url, *extra)
    receiver.secret = server.account(login.system_id)["webhook_secret"]
    assert len(receiver.secret) == 64
    return login


def submit_many(server: SmscServer, login: Login, count: int) -> list[str]:
    with bound_esme(server.port, "tx", login) as esme:
        return [accepted(esme.request(submit(UA_NUMBERS[n % 5], f"message {n}".encode())))
                for n in range(count)]


def receipts_of(seen: list, ids: set[str]) -> bool:  # type: ignore[type-arg]
    return {e["message_id"] for e in events_of([r for r in seen if r.status == 200])} >= ids


def test_receipts_arrive_signed_with_the_account_secret(server: SmscServer,
                                                        receiver: WebhookReceiver) -> None:
    login = hooked_account(server, receiver)
    with smpplib_client(server.port) as client:
        client.bind_transmitter(system_id=login.system_id, password=login.password)
        for n in range(3):
            client.send_message(source_addr_ton=5, source_addr="Tester", dest_addr_ton=1,
                                dest_addr_npi=1, destination_addr=UA_NUMBERS[n],
                                short_message=f"hello {n}".encode(), registered_delivery=1)
        client.read_until(lambda: len(client.sent) >= 3, what="3 submit_sm_resp")
        ids = {pdu.message_id.decode() if isinstance(pdu.message_id, bytes)
               else pdu.message_id for pdu in client.sent}
    seen = receiver.wait_for(lambda s: receipts_of(s, ids), "3 receipts")
    for request in seen:
        assert request.method == "POST" and request.path == "/hooks/smsc"
        assert request.signed is True, request.headers
        assert request.headers["content-type"] == "application/json"
        assert request.headers["x-smsc-event-count"] == str(len(request.events))
        assert "x-smsc-event-id" not in request.headers
        assert abs(int(request.headers["x-smsc-timestamp"]) - time.time()) < 60
        for event in request.events:
            assert event["type"] == "receipt" and event["status"] == "DELIVRD"
            assert event["id"].startswith("evt-") and event["account"] == login.system_id
            assert event["from"] == "Tester" and event["to"] in UA_NUMBERS[:3]
            assert event["parts"] == {"submitted": 1, "delivered": 1} and event["final"]
    events = events_of(seen)
    assert len({e["id"] for e in events}) == len(events) == 3
    # and nothing for the SMPP receivers
    with bound_esme(server.port, "rx", login) as rx:
        rx.listen(1.0)
        assert rx.receipts() == []


def test_an_mo_arrives_as_an_event(server: SmscServer, receiver: WebhookReceiver) -> None:
    login = hooked_account(server, receiver)
    server.cli("mo", "inject", "--account", login.system_id, "--from", "380671234567",
               "--to", "4242", "STOP ads please")
    (request,) = receiver.wait_for(lambda s: len(s) >= 1, "the MO")
    event = request.event  # one event waiting: a call of its own, sent at once
    assert request.headers["x-smsc-event-count"] == "1"
    assert request.signed is True
    assert (event["type"], event["from"], event["to"], event["text"]) == (
        "mo", "380671234567", "4242", "STOP ads please")


def test_a_receiver_answering_500_gets_the_same_event_again(
        server: SmscServer, receiver: WebhookReceiver) -> None:
    receiver.answer = lambda n: 500 if n < 2 else 200
    login = hooked_account(server, receiver)
    (message_id,) = submit_many(server, login, 1)
    seen = receiver.wait_for(lambda s: len(s) >= 3 and s[-1].status == 200, "a third try")
    assert [r.status for r in seen] == [500, 500, 200]
    assert len({r.event["id"] for r in seen}) == 1 and seen[0].event["message_id"] == message_id
    assert all(r.body == seen[0].body or r.event == seen[0].event for r in seen)
    assert all(r.signed for r in seen)
    time.sleep(2.5)  # a removed item is not sent again: nothing more arrives
    assert len(receiver.seen()) == 3


def test_a_receiver_that_was_down_gets_every_receipt_when_it_is_up(
        server: SmscServer, receiver: WebhookReceiver) -> None:
    login = hooked_account(server, receiver)
    receiver.stop()  # refused connections now
    ids = set(submit_many(server, login, 5))
    time.sleep(2.0)  # at least one attempt each, refused
    assert receiver.seen() == []
    receiver.start()  # the same port
    seen = receiver.wait_for(lambda s: receipts_of(s, ids), "5 receipts")
    assert sorted(receiver.acked_events().values()) == [1] * 5
    assert all(r.signed for r in seen)


def test_past_its_ttl_a_webhook_is_listed_as_failed_and_replay_sends_it_again(
        server: SmscServer, receiver: WebhookReceiver) -> None:
    receiver.answer = lambda n: 503
    login = hooked_account(server, receiver, "--receipt-ttl", "3s")
    (message_id,) = submit_many(server, login, 1)
    failed: list = []  # type: ignore[type-arg]
    deadline = time.monotonic() + 30
    while not failed and time.monotonic() < deadline:
        failed = json.loads(server.cli("webhook", "failed", "--account", login.system_id,
                                       "--json"))
        time.sleep(0.3)
    (row,) = failed
    assert row["message_id"] == message_id and row["last_error"].startswith("HTTP 503")
    assert row["attempts"] >= 1 and row["url"] == receiver.url
    tries = len(receiver.seen())
    assert tries == row["attempts"]
    receiver.answer = lambda n: 200
    out = server.cli("webhook", "replay", "--all", "--account", login.system_id)
    assert "1 webhook(s) back in the outbox" in out
    seen = receiver.wait_for(lambda s: len(s) > tries and s[-1].status == 200, "the replay")
    assert seen[-1].event["id"] == seen[0].event["id"] == row["event_id"]
    assert json.loads(server.cli("webhook", "failed", "--account", login.system_id,
                                 "--json")) == []


def test_kill_9_with_webhooks_pending_then_every_receipt_arrives_once_per_event(
        tmp_path: Path, servers: Callable[..., SmscServer], receiver: WebhookReceiver) -> None:
    """Nothing is acknowledged before the kill (503s; some receipts made, most messages still
    with their operator); after the restart every receipt arrives, each event acknowledged
    once."""
    receiver.answer = lambda n: 503
    db = tmp_path / "smsc.sqlite"
    config = write_config(tmp_path, server=dict(FAST_WEBHOOKS), delay=SLOW_DELAY)
    first = servers(db, config)
    login = hooked_account(first, receiver)
    with bound_esme(first.port, "tx", login) as esme:
        submitter = Submitter(esme, window=32)
        submitter.run(100)
        assert len(submitter.acked) == 100 and not submitter.broken
    receiver.wait_for(lambda s: len(s) >= 10, "some refused calls before the kill")
    first.kill9()
    acked = set(submitter.acked)
    receiver.answer = lambda n: 200
    second = servers(db, config)
    receiver.wait_for(lambda s: receipts_of(s, acked), "every receipt", timeout=60)
    time.sleep(1.0)  # anything more would be a duplicate
    counts = receiver.acked_events()
    assert [e for e, n in counts.items() if n > 1] == []
    by_message = {e["message_id"] for e in events_of(receiver.acked())}
    assert by_message == acked
    assert second.running


def _route(account: Account, *, source_addr: str, source_ton: int, source_npi: int,
           destination_addr: str, dest_ton: int, dest_npi: int, now: float) -> Routed:
    return Routed(source_addr=source_addr, source_ton=source_ton, source_npi=source_npi,
                  destination_addr=destination_addr, time_zone=None, operator="op",
                  route="r", price=1)


def test_a_kannel_dlr_url_given_with_a_message_is_fetched_with_its_escapes(
        server: SmscServer, receiver: WebhookReceiver) -> None:
    """A part prepared with a KANNEL hook (as the Kannel-compatible sendsms gives one), by a
    core in this process on the server's database: the running server finds its receipt and
    GETs the template with the escapes replaced."""
    login = server.add_account()
    store = open_store(str(server.db))
    try:
        account = store.get_account(login.system_id)
        assert account is not None
        ids = iter(range(store.reserve_ids(10), 10**9))
        core = SmscCore(store, simulator=simulator(), route=_route,
                        id_format=MessageIdFormat(hex_ids=True), take_id=lambda: next(ids))
        core.begin()
        template = receiver.url + "?type=%d&to=%p&from=%P&id=%I&reply=%A&smsc=%i&ts=%T"
        pdu = pdus.SubmitSm(sequence_number=1, source_addr="Shop",
                            destination_addr="380671000001", registered_delivery=1,
                            short_message=b"kannel style")
        now = time.time()
        prepared = core.intake.prepare(BindContext(account=account, throttle=None), pdu, now,
                                       hook=MessageHook(url=template, style=HookStyle.KANNEL))
        committed = core.commit(prepared.parts, now)
        made = [*committed.items, *core.due_round(now + 5.0).items]
        assert [i.hook_style for i in made] == [HookStyle.KANNEL]
    finally:
        store.close()
    (request,) = receiver.wait_for(lambda s: len(s) >= 1, "the dlr-url GET")
    assert request.method == "GET" and request.body == b""
    assert "x-smsc-signature" not in request.headers
    query = parse_qs(urlsplit(request.path).query)
    message_id = f"{prepared.message_id:08x}"
    assert query["type"] == ["1"] and query["to"] == ["380671000001"]
    assert query["from"] == ["Shop"] and query["id"] == [message_id]
    assert query["reply"][0].startswith(f"id:{message_id} sub:001 dlvrd:001")
    assert query["smsc"] == ["smsc"] and abs(int(query["ts"][0]) - now) < 60


def test_sigterm_with_webhooks_pending_exits_0_and_the_rest_arrive_after_restart(
        tmp_path: Path, servers: Callable[..., SmscServer], receiver: WebhookReceiver) -> None:
    receiver.answer = lambda n: 503
    db = tmp_path / "smsc.sqlite"
    config = write_config(tmp_path, server=dict(FAST_WEBHOOKS), delay=SLOW_DELAY)
    first = servers(db, config)
    login = hooked_account(first, receiver)
    acked = set(submit_many(first, login, 40))
    receiver.wait_for(lambda s: len(s) >= 5, "some refused calls before the stop")
    assert first.stop() == 0
    receiver.answer = lambda n: 200
    servers(db, config)
    receiver.wait_for(lambda s: receipts_of(s, acked), "every receipt", timeout=60)
    time.sleep(1.0)  # anything more would be a duplicate
    assert [e for e, n in receiver.acked_events().items() if n > 1] == []


# --- several events per call ---------------------------------------------------------------
def _each_once(receiver: WebhookReceiver, ids: set[str]) -> list[dict[str, object]]:
    """Every receipt of ``ids`` acknowledged, and no event acknowledged twice; the events
    acknowledged."""
    receiver.wait_for(lambda s: receipts_of(s, ids), f"{len(ids)} receipts", timeout=60)
    time.sleep(1.0)  # anything more would be a duplicate
    assert [e for e, n in receiver.acked_events().items() if n > 1] == []
    acked = events_of(receiver.acked())
    assert {e["message_id"] for e in acked} == ids and len(acked) == len(ids)
    return acked


def test_a_busy_receiver_gets_several_events_per_call_each_once(
        server: SmscServer, receiver: WebhookReceiver) -> None:
    receiver.delay = 0.2  # each answer takes a while: receipts wait meanwhile, and group
    login = hooked_account(server, receiver)
    ids = set(submit_many(server, login, 120))
    _each_once(receiver, ids)
    seen = receiver.seen()
    assert all(r.signed and r.status == 200 for r in seen)
    assert max(len(r.events) for r in seen) > 1  # grouped under load
    assert len(seen) < len(ids)
    for request in seen:  # in the order they were made, within a call
        assert request.headers["x-smsc-event-count"] == str(len(request.events))
        numbers = [int(e["id"].removeprefix("evt-")) for e in request.events]
        assert numbers == sorted(numbers)
        assert len(request.events) <= 100  # webhook_batch's default


def test_a_500_to_a_call_of_several_events_sends_each_again(
        server: SmscServer, receiver: WebhookReceiver) -> None:
    login = hooked_account(server, receiver)
    receiver.stop()  # refused: the receipts wait for their retries, together
    ids = set(submit_many(server, login, 30))
    time.sleep(1.5)
    receiver.answer = lambda n: 500 if n < 2 else 200
    receiver.start()
    acked = _each_once(receiver, ids)
    seen = receiver.seen()
    refused = [r for r in seen if r.status == 500]
    assert len(refused) == 2 and max(len(r.events) for r in refused) > 1
    again = {e["id"] for e in acked}
    assert {e["id"] for e in events_of(refused)} <= again  # none lost
    assert all(r.signed for r in seen)


def test_with_webhook_batch_1_every_call_carries_one_event(
        tmp_path: Path, servers: Callable[..., SmscServer], receiver: WebhookReceiver) -> None:
    one = servers(tmp_path / "smsc.sqlite",
                  write_config(tmp_path, server={**FAST_WEBHOOKS, "webhook_batch": 1}))
    login = hooked_account(one, receiver)
    receiver.stop()
    ids = set(submit_many(one, login, 10))
    time.sleep(1.5)  # waiting together: they would group if they could
    receiver.start()
    _each_once(receiver, ids)
    assert {len(r.events) for r in receiver.seen()} == {1}
