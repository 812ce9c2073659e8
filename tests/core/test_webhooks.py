"""smsc.core.webhooks, smsc.core.dlr_url and smsc.core.webhook_queue without Twisted: the
event made from real receipt and MO frames, the signature, the backoff and verdicts, Kannel's
dlr-url escapes, and the calls' order within their limits."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsc.core import dlr_url
from smsc.core.hooks import with_reference
from smsc.core.rounds import decide_part, frame_item
from smsc.core.webhook_queue import WebhookQueue
from smsc.core.webhooks import (
    ACK,
    EVENT_COUNT_HEADER,
    EVENT_ID_HEADER,
    FAIL,
    RETRY,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookEvent,
    WebhookPolicy,
    backoff,
    call_for,
    call_of,
    event_body,
    event_for,
    event_of,
    events_body,
    judge,
    signature,
    signature_matches,
)
from smsc.operators.mo import mo_deliver_sms
from smsc.pdu.codec import encode
from smsc.pdu.constants import MessageState, Tag
from smsc.pdu.pdus import DeliverSm
from smsc.pdu.receipt_text import stat_for_state
from smsc.pdu.tlv import NetworkErrorCode, Tlvs
from smsc.store.records import HookStyle, OutboxItem, OutboxKind
from tests.operators.factories import T0, message, simulator

SECRET = "5ec7e7" * 8
HOOK = "https://shop.example/hooks/smsc"
FMT = "{:08x}".format


def _receipt_item(**part: object) -> OutboxItem:
    """A real receipt: the operator simulation's decision on a part, framed by the core."""
    msg = message(**part)
    fate = decide_part(msg, T0 + 2.0, simulator=simulator(), refund_failed=False,
                       format_id=FMT, zone=UTC, mo_rules=None)
    assert fate.receipt is not None
    item = frame_item(msg, fate.receipt, T0 + 2.0, 3600.0)
    return dataclasses.replace(item, id=41, hook_url=HOOK, hook_style=int(HookStyle.JSON))


def _mo_item(text: str = "STOP please") -> OutboxItem:
    (pdu,) = mo_deliver_sms(source_addr="380671234567", destination_addr="4242", text=text,
                            reference=7)
    return OutboxItem(id=42, account="acct", kind=OutboxKind.MO, pdu=encode(pdu),
                      created_at=T0, expires_at=T0 + 3600, hook_url=HOOK,
                      hook_style=int(HookStyle.JSON))


# --- the event --------------------------------------------------------------------------------
def test_a_delivered_receipt_becomes_its_event() -> None:
    event = event_of(_receipt_item(), format_id=FMT)
    assert event == {
        "id": "evt-41", "account": "acct", "created_at": "2025-06-15T15:06:42Z",
        "type": "receipt", "message_id": FMT(1000), "final": True,
        "to": "380671234567", "from": "ShopName", "status": "DELIVRD", "error": 0,
        "submitted_at": "2025-06-15T15:06:00Z", "done_at": "2025-06-15T15:06:00Z",
        "parts": {"submitted": 1, "delivered": 1}, "text": "Hello from the test ",
        "network_error": 0,
    }


def test_an_undeliverable_receipt_carries_its_error() -> None:
    event = event_of(_receipt_item(forced_state=int(MessageState.UNDELIVERABLE),
                                   forced_error=1), format_id=FMT)
    assert (event["status"], event["error"], event["parts"]["delivered"]) == ("UNDELIV", 1, 0)


def test_an_mo_becomes_its_event_with_its_text() -> None:
    event = event_of(_mo_item("Привіт STOP"))
    assert event["type"] == "mo" and event["text"] == "Привіт STOP"
    assert (event["from"], event["to"], event["id"]) == ("380671234567", "4242", "evt-42")
    assert "part" not in event


def test_a_long_mo_part_says_which_part_it_is() -> None:
    pdus_ = mo_deliver_sms(source_addr="380671234567", destination_addr="4242",
                           text="x" * 200, reference=9)
    item = dataclasses.replace(_mo_item(), pdu=encode(pdus_[1]))
    event = event_of(item)
    assert event["part"] == {"reference": 9, "index": 2, "total": 2}
    assert event["text"] == "x" * (200 - 153)


# --- the call and its signature ----------------------------------------------------------------
def test_a_json_call_is_signed_over_timestamp_and_body() -> None:
    call = call_for(_receipt_item(), SECRET, T0 + 5, format_id=FMT)
    headers = dict(call.headers)
    assert call.method == "POST" and call.url == HOOK
    assert headers[EVENT_COUNT_HEADER] == "1" and EVENT_ID_HEADER not in headers
    assert headers[TIMESTAMP_HEADER] == str(int(T0 + 5))
    assert headers["Content-Type"] == "application/json"
    (event,) = json.loads(call.body)["events"]
    assert event["id"] == "evt-41" and event["message_id"] == FMT(1000)
    assert call.items == (_receipt_item(),)
    assert signature_matches(SECRET, headers[TIMESTAMP_HEADER], call.body,
                             headers[SIGNATURE_HEADER])
    assert not signature_matches("other", headers[TIMESTAMP_HEADER], call.body,
                                 headers[SIGNATURE_HEADER])
    assert not signature_matches(SECRET, str(int(T0 + 6)), call.body, headers[SIGNATURE_HEADER])


_KEYS = st.text(min_size=1, max_size=8)
_LEAVES = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text()


@given(st.dictionaries(_KEYS, _LEAVES | st.dictionaries(_KEYS, _LEAVES, max_size=4),
                       max_size=12))
def test_the_body_is_compact_json_with_its_keys_in_order(event: dict[str, object]) -> None:
    assert event_body(event) == json.dumps(event, ensure_ascii=False, separators=(",", ":"),
                                           sort_keys=True).encode()


@given(st.lists(st.dictionaries(_KEYS, _LEAVES | st.dictionaries(_KEYS, _LEAVES, max_size=4),
                                max_size=8), max_size=5))
def test_a_calls_body_is_its_events_in_compact_json(events: list[dict[str, object]]) -> None:
    in_order = [json.loads(event_body(event)) for event in events]  # as event_for makes them
    assert events_body(in_order) == json.dumps({"events": events}, ensure_ascii=False,
                                               separators=(",", ":"), sort_keys=True).encode()


def test_several_events_go_in_one_call_signed_once() -> None:
    receipt, mo = _receipt_item(), _mo_item()
    events = [event_for(item, SECRET, format_id=FMT) for item in (receipt, mo)]
    call = call_of(events, T0 + 5)
    headers = dict(call.headers)
    assert call.method == "POST" and call.url == HOOK and call.items == (receipt, mo)
    assert call.key == receipt.id
    assert headers[EVENT_COUNT_HEADER] == "2"
    body = json.loads(call.body)
    assert body == {"events": [event_of(receipt, format_id=FMT), event_of(mo, format_id=FMT)]}
    assert signature_matches(SECRET, headers[TIMESTAMP_HEADER], call.body,
                             headers[SIGNATURE_HEADER])


def test_the_signature_is_hmac_sha256_hex() -> None:
    # computed independently: printf '1700000000.{}' | openssl dgst -sha256 -hmac key
    assert signature("key", "1700000000", b"{}") == (
        "sha256=" + __import__("hmac").new(b"key", b"1700000000.{}", "sha256").hexdigest())


def test_no_secret_no_signature_header() -> None:
    call = call_for(_receipt_item(), "", T0, format_id=FMT)
    assert SIGNATURE_HEADER not in dict(call.headers)


# --- backoff and verdicts ---------------------------------------------------------------------
POLICY = WebhookPolicy(retry_min=5.0, retry_max=600.0, jitter=0.2)


@pytest.mark.parametrize(("attempts", "base"), [(1, 5.0), (2, 10.0), (3, 20.0), (8, 600.0),
                                                (60, 600.0)])
def test_backoff_doubles_to_its_cap_within_its_jitter(attempts: int, base: float) -> None:
    assert backoff(attempts, POLICY, lambda: 0.5) == base
    assert backoff(attempts, POLICY, lambda: 0.0) == pytest.approx(base * 0.8)
    assert backoff(attempts, POLICY, lambda: 1.0) == pytest.approx(base * 1.2)


@given(st.integers(1, 200), st.floats(0.0, 1.0))
def test_backoff_stays_within_its_bounds(attempts: int, draw: float) -> None:
    wait = backoff(attempts, POLICY, lambda: draw)
    assert POLICY.retry_min * 0.8 <= wait <= POLICY.retry_max * 1.2


def test_any_2xx_acknowledges_and_the_rest_retry_until_the_ttl() -> None:
    item = dataclasses.replace(_receipt_item(), attempts=2, expires_at=T0 + 100)
    for status in (200, 201, 204, 299):
        assert judge(item, status, "", T0, POLICY).action == ACK
    answers: tuple[tuple[int | None, str], ...] = (
        (500, ""), (404, ""), (301, ""), (None, "timeout"), (None, "connection refused"))
    for code, error in answers:
        verdict = judge(item, code, error, T0, POLICY, lambda: 0.5)
        assert (verdict.action, verdict.attempts, verdict.at) == (RETRY, 3, T0 + 20.0)
        assert verdict.error == (error or f"HTTP {code}")
    late = judge(item, 503, "", T0 + 85, POLICY, lambda: 0.5)
    assert (late.action, late.attempts, late.error) == (FAIL, 3, "HTTP 503")


# --- Kannel's dlr-url ----------------------------------------------------------------------------
def _kannel(template: str, **part: object) -> str:
    item = dataclasses.replace(_receipt_item(**part), hook_url=template,
                               hook_style=int(HookStyle.KANNEL))
    call = call_for(item, SECRET, T0, format_id=FMT)
    assert call.method == "GET" and call.body == b""
    assert SIGNATURE_HEADER not in dict(call.headers)
    return call.url


def test_a_kannel_dlr_url_gets_its_escapes() -> None:
    url = _kannel("http://app.example/dlr?st=%d&to=%p&from=%P&id=%I&err=%F&smsc=%i"
                  "&at=%T&when=%t&reply=%A&pct=100%%&keep=%Z&acct=%o")
    query = parse_qs(urlsplit(url).query, keep_blank_values=True)
    assert query["st"] == ["1"] and query["to"] == ["380671234567"]
    assert query["from"] == ["ShopName"] and query["id"] == [FMT(1000)]
    assert query["err"] == [FMT(1000)] and query["smsc"] == ["smsc"]  # %F: the SMSC's id
    assert query["at"] == [str(int(T0 + 2))] and query["when"] == ["2025-06-15 15:06:42"]
    assert "when=2025-06-15+15:06:42&" in url  # as Kannel writes %t, not encoded again
    assert query["reply"][0].startswith(f"id:{FMT(1000)} sub:001 dlvrd:001")
    assert query["pct"] == ["100%"] and query["acct"] == ["acct"]
    assert "keep=%Z" in url  # an unknown escape stays as written


@pytest.mark.parametrize(("state", "value"), [
    (MessageState.UNDELIVERABLE, 2), (MessageState.REJECTED, 2), (MessageState.EXPIRED, 2),
    (MessageState.DELIVERED, 1), (MessageState.ACCEPTED, 4)])
def test_kannel_dlr_values_follow_the_state(state: MessageState, value: int) -> None:
    url = _kannel("http://a/x?d=%d&F=%F", forced_state=int(state), forced_error=11)
    query = parse_qs(urlsplit(url).query)
    assert query["d"] == [str(value)]


def test_dlr_values_of_each_stat() -> None:
    assert [dlr_url.dlr_value(s) for s in ("DELIVRD", "UNDELIV", "EXPIRED", "DELETED",
                                           "UNKNOWN", "REJECTD", "ACCEPTD", "ENROUTE")] == [
        1, 2, 2, 2, 2, 2, 4, 4]  # as Kannel's SMPP module reads a receipt's stat
    assert dlr_url.dlr_value("DELIVRD", final=False) == 4


@pytest.mark.parametrize(("mask", "registered"), [
    (0, 0), (1, 3), (2, 2), (3, 1), (4, 0x11), (5, 0x11), (7, 0x11), (31, 0x11), (8, 0),
    (24, 0), (9, 3)])
def test_a_dlr_mask_asks_for_the_receipts_it_wants(mask: int, registered: int) -> None:
    assert dlr_url.registered_delivery_for(mask) == registered


def test_the_word_escapes_walk_the_text() -> None:
    values = {"b": "FOO BAR  FOOBAR BAZ"}
    assert dlr_url.expand("%k|%s|%r|%a", values) == "FOO|BAR|FOOBAR+BAZ|FOO+BAR+FOOBAR+BAZ"
    assert dlr_url.expand("%s,%s,%s,%s", values) == "BAR,FOOBAR,BAZ,"
    assert dlr_url.expand("%S", {"b": "k a*b/c"}) == "a~b/c"  # not encoded


_VALUE = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)


@given(st.lists(st.tuples(st.sampled_from(sorted(dlr_url.ESCAPES - {"b", "t", "e", "R"})),
                          _VALUE),
                min_size=1, max_size=8, unique_by=lambda t: t[0]),
       st.text("abcxyz/:.-", max_size=8))
def test_every_escape_is_replaced_by_its_value_encoded(pairs: list[tuple[str, str]],
                                                       literal: str) -> None:
    """Whatever the values, each escape becomes exactly its value as a form value (decoding
    the query gives every value back) and the text around it stays as written."""
    values = dict(pairs)
    template = f"http://h/{literal}?" + "&".join(f"v{n}=%{code}"
                                                for n, (code, _) in enumerate(pairs))
    url = dlr_url.expand(template, values)
    assert url.startswith(f"http://h/{literal}?")
    query = parse_qs(urlsplit(url).query, keep_blank_values=True)
    assert {name: got for name, (got,) in query.items()} == {
        f"v{n}": value for n, (_, value) in enumerate(pairs)}


@given(_VALUE)
def test_a_doubled_percent_is_one_and_nothing_else_changes(text: str) -> None:
    template = text.replace("%", "%%")
    assert dlr_url.expand(template, {}) == text


# --- the queue ---------------------------------------------------------------------------------
def _event(item_id: int, url: str = HOOK, secret: str = SECRET,
           created: float = T0) -> WebhookEvent:
    item = OutboxItem(id=item_id, account="acct", kind=OutboxKind.RECEIPT, pdu=b"",
                      created_at=created, expires_at=T0 + 3600, hook_url=url, hook_style=1)
    return WebhookEvent(item=item, url=url, secret=secret, event={"id": f"evt-{item_id}"})


def _ids(call: object) -> list[int]:
    return [item.id for item in call.items]  # type: ignore[attr-defined]


ONE = 1  # events per call, where a test counts calls as events


def test_calls_go_out_within_the_limits_per_host_and_in_all() -> None:
    queue = WebhookQueue(WebhookPolicy(max_in_flight=5, per_host=2, claim_batch=10,
                                       max_held=20, batch=ONE))
    asked = queue.claim_size()
    assert asked == 10 and queue.claim_size() == 0  # one claim at a time
    calls = [_event(n) for n in range(1, 5)] + [_event(n, "http://b.example:81/x")
                                               for n in range(5, 9)]
    assert queue.claimed(calls, asked)  # short, but a wake-up came meanwhile: claim again
    first = queue.sendable()
    assert len(first) == 4 and queue.in_flight == 4  # 2 per host
    assert {c.host for c in first} == {"https://shop.example", "http://b.example:81"}
    assert queue.sendable() == []
    ((item, verdict),) = queue.answered(first[0], 200, "", T0)
    assert verdict.action == ACK and (item,) == first[0].items
    (next_one,) = queue.sendable()
    assert next_one.host == first[0].host
    assert queue.take_verdicts() == [(item, verdict)]
    assert queue.held == 8
    queue.written([item])
    assert queue.held == 7


def test_a_call_claimed_again_while_held_is_not_sent_twice() -> None:
    queue = WebhookQueue(WebhookPolicy(claim_batch=4, max_held=8))
    assert not queue.claimed([_event(1)], queue.claim_size())  # short: nothing more due
    asked = queue.claim_size()
    assert queue.claimed([_event(1), _event(2)], asked) is False
    assert [_ids(c) for c in queue.sendable()] == [[1, 2]]  # each once, in one call


def test_memory_is_bounded_by_what_is_held() -> None:
    queue = WebhookQueue(WebhookPolicy(claim_batch=4, max_held=4))
    asked = queue.claim_size()
    assert queue.claimed([_event(n) for n in range(1, 5)], asked)  # full: claim again
    assert queue.claim_size() == 0  # nothing while 4 are held
    for call in queue.sendable():
        queue.answered(call, 500, "", T0)
    queue.written([item for item, _ in queue.take_verdicts()])
    assert queue.claim_size() == 4


def test_a_struggling_host_keeps_only_its_share_waiting() -> None:
    """A host whose last call failed (or was slow) keeps 2 x per_host calls waiting; the rest
    of a claim for it is left to its lease, and other hosts' calls still come in."""
    policy = WebhookPolicy(per_host=2, max_in_flight=10, claim_batch=20, max_held=40,
                           timeout=8.0, batch=ONE)
    queue = WebhookQueue(policy)
    slow = "http://slow.example/h"
    queue.claimed([_event(1, slow)], queue.claim_size())
    (first,) = queue.sendable(T0)
    queue.answered(first, 503, "", T0 + 0.1)
    assert queue.struggling("http://slow.example")
    calls = [_event(n, slow) for n in range(2, 12)] + [_event(n) for n in range(12, 20)]
    queue.claimed(calls, queue.claim_size())
    assert queue.held == 1 + 4 + 8 and queue.counts["deferred"] == 6
    sent = queue.sendable(T0 + 1)
    assert sum(1 for c in sent if c.host == "http://slow.example") == 2
    for call in sent:
        took = 3.0 if call.host == "http://slow.example" else 0.1  # slow: over timeout / 4
        queue.answered(call, 200, "", T0 + 1 + took)
    assert queue.struggling("http://slow.example")
    assert not queue.struggling("https://shop.example")
    (again,) = [c for c in queue.sendable(T0 + 5) if c.host == "http://slow.example"][:1]
    queue.answered(again, 200, "", T0 + 5.5)  # fast and fine: no longer struggling
    assert not queue.struggling("http://slow.example")


# --- grouping events into calls ------------------------------------------------------------------
def test_events_of_one_url_and_secret_share_a_call_and_no_others() -> None:
    queue = WebhookQueue(WebhookPolicy(per_host=8, max_in_flight=8, claim_batch=20))
    other_path = "https://shop.example/other"
    events = [_event(1), _event(2, secret="another"), _event(3, other_path), _event(4),
              _event(5, secret="another"), _event(6)]
    queue.claimed(events, queue.claim_size())
    calls = queue.sendable(T0)
    assert sorted(_ids(c) for c in calls) == [[1, 4, 6], [2, 5], [3]]
    for call in calls:  # each signed with its own secret, over its own body
        headers = dict(call.headers)
        secret = "another" if call.key == 2 else SECRET
        assert signature_matches(secret, headers[TIMESTAMP_HEADER], call.body,
                                 headers[SIGNATURE_HEADER])
        assert [e["id"] for e in json.loads(call.body)["events"]] == [
            f"evt-{n}" for n in _ids(call)]
        assert headers[EVENT_COUNT_HEADER] == str(len(call.items))
    assert queue.counts["sent"] == 6 and queue.counts["calls"] == 3


def test_a_call_carries_at_most_batch_events_in_the_order_they_were_made() -> None:
    queue = WebhookQueue(WebhookPolicy(per_host=1, max_in_flight=8, claim_batch=20, batch=3))
    # claimed out of order (a retry comes due after newer events): sent by creation
    events = [_event(n, created=T0 + (10 - n)) for n in range(1, 8)]
    queue.claimed(events, queue.claim_size())
    (first,) = queue.sendable(T0)
    assert _ids(first) == [3, 2, 1]  # the first three claimed, oldest first
    assert queue.sendable(T0) == []  # per_host = 1: the rest wait for it
    queue.answered(first, 200, "", T0)
    (second,) = queue.sendable(T0)
    assert _ids(second) == [6, 5, 4]
    queue.answered(second, 200, "", T0)
    (third,) = queue.sendable(T0)
    assert _ids(third) == [7] and queue.waiting == 0


def test_with_batch_one_every_call_carries_one_event() -> None:
    queue = WebhookQueue(WebhookPolicy(per_host=8, max_in_flight=8, claim_batch=20, batch=1))
    queue.claimed([_event(n) for n in range(1, 6)], queue.claim_size())
    calls = queue.sendable(T0)
    assert [_ids(c) for c in calls] == [[1], [2], [3], [4], [5]]
    assert all(json.loads(c.body)["events"] == [{"id": f"evt-{c.key}"}] for c in calls)


def test_one_waiting_event_goes_alone_at_once() -> None:
    queue = WebhookQueue(WebhookPolicy(claim_batch=20))
    queue.claimed([_event(1)], queue.claim_size())
    (call,) = queue.sendable(T0)
    assert _ids(call) == [1] and dict(call.headers)[EVENT_COUNT_HEADER] == "1"
    queue.claimed([_event(2)], queue.claim_size())  # comes while the first is in flight
    (later,) = queue.sendable(T0)
    assert _ids(later) == [2]  # not held back for company


def test_a_failed_call_retries_each_of_its_events() -> None:
    policy = WebhookPolicy(claim_batch=20, retry_min=5.0, jitter=0.0)
    queue = WebhookQueue(policy)
    queue.claimed([_event(n) for n in range(1, 4)], queue.claim_size())
    (call,) = queue.sendable(T0)
    verdicts = queue.answered(call, 500, "HTTP 500", T0)
    assert [(item.id, v.action, v.attempts, v.at) for item, v in verdicts] == [
        (n, RETRY, 1, T0 + 5.0) for n in range(1, 4)]
    assert queue.take_verdicts() == verdicts
    assert queue.counts["retried"] == 3 and queue.counts["calls"] == 1


def _kannel_item() -> OutboxItem:
    return dataclasses.replace(_receipt_item(), hook_url="http://app.example/dlr?st=%d",
                               hook_style=int(HookStyle.KANNEL))


def test_kannel_events_are_never_grouped() -> None:
    queue = WebhookQueue(WebhookPolicy(per_host=8, claim_batch=20))
    items = [dataclasses.replace(_kannel_item(), id=n) for n in (1, 2)]
    events = [event_for(item, "", format_id=FMT) for item in items]
    assert events[0].url == events[1].url
    queue.claimed(events, queue.claim_size())
    calls = queue.sendable(T0)
    assert [(c.method, _ids(c)) for c in calls] == [("GET", [1]), ("GET", [2])]
    assert dict(calls[0].headers)[EVENT_ID_HEADER] == "evt-1"


@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 1)), min_size=1, max_size=40),
       st.integers(1, 5))
def test_grouping_sends_every_event_once_within_the_cap(picks: list[tuple[int, int]],
                                                       batch: int) -> None:
    queue = WebhookQueue(WebhookPolicy(per_host=2, max_in_flight=3, claim_batch=64,
                                       max_held=64, batch=batch))
    urls = ["https://shop.example/a", "https://shop.example/b", "http://other.example/c"]
    secrets = [SECRET, "another"]
    events = [_event(n + 1, urls[u], secrets[k], created=T0 + n)
              for n, (u, k) in enumerate(picks)]
    queue.claimed(events, queue.claim_size())
    by_id = {e.item.id: e for e in events}
    sent: list[int] = []
    for _ in range(len(events) + 1):
        calls = queue.sendable(T0)
        if not calls:
            break
        for call in calls:
            ids = _ids(call)
            assert 1 <= len(ids) <= batch and ids == sorted(ids)
            assert len({(by_id[i].url, by_id[i].secret) for i in ids}) == 1
            sent.extend(ids)
            queue.answered(call, 200, "", T0)
    assert sorted(sent) == sorted(by_id) and queue.waiting == 0


@given(st.floats(min_value=0, max_value=4e9, allow_nan=False) | st.integers(0, 4_000_000_000))
def test_times_are_written_as_datetime_writes_them(moment: float) -> None:
    from datetime import datetime

    from smsc.core.webhooks import _iso

    expected = datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")
    assert _iso(moment) == expected


def test_an_events_keys_are_in_order_all_the_way_down() -> None:
    parts = mo_deliver_sms(source_addr="380671234567", destination_addr="4242",
                           text="x" * 200, reference=9)
    long_mo = dataclasses.replace(_mo_item(), pdu=encode(parts[1]))
    for item in (_receipt_item(), long_mo):
        event = event_for(item, SECRET, format_id=FMT).event
        assert event is not None and ("parts" in event or "part" in event)
        assert json.dumps(event, separators=(",", ":")) == json.dumps(
            event, separators=(",", ":"), sort_keys=True)


@given(st.booleans(), st.booleans(), st.sampled_from([None, 1, 2, 5, 8]),
       st.sampled_from([b"", b"id:1 stat:DELIVRD", b"no receipt here"]))
def test_a_receipt_events_keys_are_in_order_whatever_it_carries(
        referenced: bool, with_network_error: bool, state: int | None,
        text: bytes) -> None:
    """A receipt event made from a deliver_sm without a readable receipt text (its status and
    error from the TLVs) and with every optional field or none: keys still in order, each
    field what the TLVs say."""
    tlvs: list[tuple[int, int | NetworkErrorCode]] = []
    if state is not None:
        tlvs.append((Tag.MESSAGE_STATE, state))
    if with_network_error:
        tlvs.append((Tag.NETWORK_ERROR_CODE, NetworkErrorCode(3, 17)))
    pdu = DeliverSm(source_addr="380671234567", destination_addr="Shop", esm_class=0x04,
                    short_message=text, tlvs=Tlvs.of(tlvs))
    frame = encode(pdu)
    if referenced:  # the customer's reference, as smsc.core.hooks keeps it
        frame = with_reference(frame, int(HookStyle.JSON), "order-7")
    item = dataclasses.replace(_mo_item(), kind=OutboxKind.RECEIPT, pdu=frame, message_id=77)
    event = event_for(item, SECRET, format_id=FMT).event
    assert event is not None
    assert list(event) == sorted(event)
    assert event["status"] == (stat_for_state(state) if state is not None else "UNKNOWN")
    assert event["error"] == (17 if with_network_error else 0)
    assert event.get("network_error") == (17 if with_network_error else None)
    assert event.get("reference") == ("order-7" if referenced else None)
    assert event["message_id"] == FMT(77) and "parts" not in event


def test_the_receivers_check_in_the_docs_takes_a_call_of_several_events() -> None:
    """docs/webhooks.md's Python receiver, run on a real call: it checks the signature, takes
    every event once and acknowledges the call."""
    import pathlib
    import time

    text = (pathlib.Path(__file__).parents[2] / "docs" / "webhooks.md").read_text()
    code = text.split("### Checking the signature", 1)[1].split("```python", 1)[1]
    handled: list[str] = []
    scope: dict[str, object] = {"handle": lambda event: handled.append(event["id"])}
    exec(code.split("```", 1)[0], scope)  # the documentation's own example
    receive = scope["receive"]
    call = call_of([event_for(item, SECRET, format_id=FMT) for item in (_receipt_item(),
                                                                        _mo_item())],
                   time.time())
    headers = dict(call.headers)
    done: set[str] = set()
    assert receive(SECRET, headers, call.body, done) == 204  # type: ignore[operator]
    assert handled == ["evt-41", "evt-42"]
    assert receive(SECRET, headers, call.body, done) == 204  # type: ignore[operator]
    assert handled == ["evt-41", "evt-42"]  # a retry: nothing twice
    assert receive("other", headers, call.body, done) == 401  # type: ignore[operator]
