"""Kannel's ``/cgi-bin/sendsms`` against a real ``smsc serve`` on loopback, with a Kannel-style
client (the standard library's urllib: a GET, a form-encoded POST, a POST with X-Kannel-*
headers) and a real dlr-url receiver (tests.integration.webhook_receiver): DLR callbacks with
Kannel's escapes for delivered and failed messages, only the kinds the dlr-mask asks for,
retried after a 500; smsbox's answers and statuses; a wrong password counted toward the
lockout as a bind's. The failed-webhook endpoints of /v1 list and replay what finally failed.

Test numbers (docs/operators.md): 61491570006 is DELIVRD after 2 s, 61491570156 UNDELIV."""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.http.conftest import HTTP_TIMEOUT, ApiServer, start_api_server
from tests.integration.webhook_receiver import WebhookReceiver

DELIVERED, UNDELIVERABLE = "61491570006", "61491570156"
FAST_WEBHOOKS = {"webhook_timeout": "1s", "webhook_retry_min": "1s", "webhook_retry_max": "2s"}
PASSWORD = "secret12"  # what ApiServer.account gives every account
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    server = start_api_server(tmp_path_factory.mktemp("sendsms"), server=dict(FAST_WEBHOOKS))
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    hook = WebhookReceiver().start()
    yield hook
    hook.stop()


def sendsms(api: ApiServer, **params: str) -> tuple[int, str, dict[str, str]]:
    """A Kannel client's GET: (status, answer, headers)."""
    return _call(api, f"{api.url}/cgi-bin/sendsms?{urllib.parse.urlencode(params)}")


def post(api: ApiServer, body: bytes, headers: dict[str, str]
         ) -> tuple[int, str, dict[str, str]]:
    """A Kannel client's POST: (status, answer, headers)."""
    return _call(api, f"{api.url}/cgi-bin/sendsms", body, headers)


def _call(api: ApiServer, url: str, body: bytes | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET",
                                     headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as answer:
            return answer.status, answer.read().decode(), dict(answer.headers)
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.read().decode(), dict(e.headers)


def dlr_url(receiver: WebhookReceiver, tag: str) -> str:
    return receiver.url + f"?tag={tag}&type=%d&to=%p&from=%P&reply=%A&smsc_id=%F&at=%t"


def callbacks(receiver: WebhookReceiver, tag: str) -> list[dict[str, str]]:
    out = []
    for request in receiver.acked():
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.path).query).items()}
        if query.get("tag") == tag:
            out.append(query)
    return out


def test_a_get_and_a_form_post_get_the_dlrs_their_mask_asks_for(
        api: ApiServer, receiver: WebhookReceiver) -> None:
    system_id, _ = api.account(credit="100")
    status, answer, headers = sendsms(
        api, username=system_id, password=PASSWORD, to=f"{DELIVERED} {UNDELIVERABLE}",
        text="Hello from Kannel", **{"from": "Shop", "dlr-mask": "3",
                                     "dlr-url": dlr_url(receiver, "get")})
    assert (status, answer, headers["Content-Type"]) == (
        202, "0: Accepted for delivery", "text/html")
    # A form-encoded POST; its receivers separated by '+', as Kannel allows (a form value's
    # '+' is a space); dlr-mask 9: the SMSC's acceptance and delivered, not failed.
    form = urllib.parse.urlencode({"username": system_id, "password": PASSWORD,
                                   "from": "Shop", "text": "Hello again", "dlr-mask": "9",
                                   "dlr-url": dlr_url(receiver, "post")})
    status, answer, _ = post(api, f"{form}&to={DELIVERED}+{UNDELIVERABLE}".encode(),
                             {"Content-Type": "application/x-www-form-urlencoded"})
    assert (status, answer) == (202, "0: Accepted for delivery")
    receiver.wait_for(lambda _: len(callbacks(receiver, "get")) >= 2
                      and len(callbacks(receiver, "post")) >= 3, "the DLR callbacks")
    time.sleep(1.0)  # a callback the masks do not ask for would have come by now
    got = sorted((d["to"], d["type"]) for d in callbacks(receiver, "get"))
    assert got == [(DELIVERED, "1"), (UNDELIVERABLE, "2")]
    for dlr in callbacks(receiver, "get"):
        stat = "DELIVRD" if dlr["type"] == "1" else "UNDELIV"
        assert dlr["from"] == "Shop" and f"stat:{stat}" in dlr["reply"]
        assert dlr["reply"].startswith(f"id:{dlr['smsc_id']} ")  # %F: the SMSC's id
        assert len(dlr["at"]) == len("2025-06-15 15:06:42")
    posted = callbacks(receiver, "post")
    assert sorted((d["to"], d["type"]) for d in posted) == [
        (DELIVERED, "1"), (DELIVERED, "8"), (UNDELIVERABLE, "8")]
    acks = {d["to"]: d for d in posted if d["type"] == "8"}
    assert all(d["reply"] == "ACK/" for d in acks.values())
    (final,) = [d for d in posted if d["type"] == "1"]
    assert final["smsc_id"] == acks[DELIVERED]["smsc_id"]  # one id from ack to receipt


def test_a_post_with_x_kannel_headers_sends_its_body(api: ApiServer,
                                                      receiver: WebhookReceiver) -> None:
    system_id, _ = api.account(credit="100")
    headers = {"Content-Type": "text/plain; charset=utf-8", "X-Kannel-Username": system_id,
               "X-Kannel-Password": PASSWORD, "X-Kannel-From": "Shop",
               "X-Kannel-To": DELIVERED, "X-Kannel-DLR-Mask": "8",
               "X-Kannel-DLR-URL": dlr_url(receiver, "headers")}
    status, answer, _ = post(api, "Привіт".encode(), headers)
    assert (status, answer) == (202, "0: Accepted for delivery")
    receiver.wait_for(lambda _: bool(callbacks(receiver, "headers")), "the SMSC's ack")
    del headers["X-Kannel-To"]
    status, answer, _ = post(api, b"x", headers)
    assert (status, answer) == (400, "Missing receiver(s) number(s), rejected")


def stored_texts(api: ApiServer, account: str) -> list[tuple[int, bytes]]:
    """(data_coding, short_message) of the account's stored parts, read from the database."""
    with contextlib.closing(sqlite3.connect(f"file:{api.db}?mode=ro", uri=True)) as db:
        return [(int(c), bytes(m)) for c, m in db.execute(
            "SELECT data_coding, short_message FROM messages WHERE account = ? ORDER BY id",
            (account,))]


def xml_submit(system_id: str, numbers: list[str], text: str, *, dlr: str = "",
               extra: str = "", declaration: str = "") -> bytes:
    """smsbox's XML sendsms document."""
    da = "".join(f"<number>{n}</number>" for n in numbers)
    return (f"{declaration}<message><submit><da>{da}</da><oa><number>Shop</number></oa>"
            f"<ud>{text}</ud><from><username>{system_id}</username>"
            f"<password>{PASSWORD}</password></from>{dlr}{extra}</submit></message>"
            ).encode()


def test_an_xml_post_sends_to_each_number_and_reports_to_its_dlr_url(
        api: ApiServer, receiver: WebhookReceiver) -> None:
    """smsbox's text/xml POST: every <da><number> a receiver, <ud> URL-decoded, the dlr-mask
    and dlr-url of <statusrequest> followed; smsbox's answers and refusals."""
    system_id, key = api.account(credit="100")
    dlr = (f"<statusrequest><dlr-mask>3</dlr-mask><dlr-url>"
           f"{dlr_url(receiver, 'xml').replace('&', '&amp;')}</dlr-url></statusrequest>")
    body = xml_submit(system_id, [DELIVERED, f" {UNDELIVERABLE} "], "Hello%20from+XML", dlr=dlr,
                      declaration='<?xml version="1.0" encoding="UTF-8"?>')
    status, answer, headers = post(api, body, {"Content-Type": "text/xml"})
    assert (status, answer, headers["Content-Type"]) == (
        202, "0: Accepted for delivery", "text/html")
    receiver.wait_for(lambda _: len(callbacks(receiver, "xml")) >= 2, "the DLR callbacks")
    got = sorted((d["to"], d["type"], d["from"]) for d in callbacks(receiver, "xml"))
    assert got == [(DELIVERED, "1", "Shop"), (UNDELIVERABLE, "2", "Shop")]
    listed = api.request("GET", "/v1/messages?limit=10", key=key).json["messages"]
    assert sorted(m["to"] for m in listed) == sorted([DELIVERED, UNDELIVERABLE])
    # The text as smsbox reads it (7-bit, as a text/plain POST's), in the store.
    assert stored_texts(api, system_id) == [(0, b"Hello from XML")] * 2
    xml = {"Content-Type": "text/xml; charset=utf-8"}
    assert post(api, xml_submit(system_id, [], "x"), xml)[:2] == (
        400, "Missing receiver(s) number(s), rejected")
    assert post(api, xml_submit(system_id, [DELIVERED], "x",
                                extra="<dcs><coding>abc</coding></dcs>"), xml)[:2] == (
        400, "Coding field misformed, rejected")
    assert post(api, b"<message><submit><from>", xml)[:2] == (
        403, "Authorization failed for sendsms")  # unreadable: no login in it, as smsbox
    entity = xml_submit(system_id, [DELIVERED], "&e;", declaration=(
        '<!DOCTYPE message [<!ENTITY e SYSTEM "file:///etc/passwd">]>'))
    assert post(api, entity, xml)[:2] == (400, "Sending failed. A DTD (<!DOCTYPE) is not accepted")
    assert api.balance(system_id) == 100 * 100 - 2 * 3  # two messages of 3, nothing more


def test_refusals_in_smsbox_words(api: ApiServer, receiver: WebhookReceiver) -> None:
    system_id, _ = api.account(credit="100")
    base = {"username": system_id, "password": PASSWORD, "from": "Shop", "text": "x"}
    assert sendsms(api, **base)[:2] == (400, "Missing receiver number, rejected")
    assert sendsms(api, **base, to=" ")[:2] == (
        400, "Empty receiver number not allowed, rejected")
    assert sendsms(api, **base, to=DELIVERED, coding="7")[:2] == (
        400, "Coding field misformed, rejected")
    assert sendsms(api, **base, to=DELIVERED, **{"dlr-url": "ftp://x/"})[:2] == (
        400, "DLR-URL field misformed, rejected")
    # Some receivers refused (12 is too short): the others are sent, as smsbox answers; the
    # refused are listed in a header, and reported to a dlr-url asking for type 16.
    status, answer, headers = sendsms(api, **base, to=f"{DELIVERED} 12", **{
        "dlr-mask": "16", "dlr-url": dlr_url(receiver, "nack")})
    assert (status, answer) == (202, "0: Accepted for delivery")
    assert headers["X-Smsc-Denied-Receivers"] == "12 (invalid_destination)"
    receiver.wait_for(lambda _: bool(callbacks(receiver, "nack")), "the SMSC's nack")
    (nack,) = callbacks(receiver, "nack")
    assert nack["type"] == "16" and nack["to"] == "12"
    assert nack["reply"].startswith("NACK/0x")
    status, answer, _ = sendsms(api, **base, to="12")
    assert status == 422 and answer.startswith("Sending failed. ")
    assert sendsms(api, **{**base, "username": "nobody"}, to=DELIVERED)[:2] == (
        403, "Authorization failed for sendsms")
    del base["from"]  # and the account has no default sender
    assert sendsms(api, **base, to=DELIVERED)[:2] == (
        400, "Sender missing and no global set, rejected")


def test_a_wrong_password_counts_toward_the_lockout_of_binds(api: ApiServer) -> None:
    system_id, _ = api.account(credit="100")
    right = {"username": system_id, "password": PASSWORD, "from": "Shop", "to": DELIVERED,
             "text": "x"}
    assert sendsms(api, **right)[0] == 202  # a login that matched (and is remembered)
    for _ in range(3):  # server.lock_after: 3 in a row lock (account, address)
        assert sendsms(api, **{**right, "password": "wrong"})[:2] == (
            403, "Authorization failed for sendsms")
    assert sendsms(api, **right)[:2] == (403, "Authorization failed for sendsms")  # locked
    assert "wrong password 3 of 3" in api.log.read_text()
    api.cli("account", "unlock", system_id, "--address", "127.0.0.1")
    assert sendsms(api, **right)[0] == 202
    api.cli("account", "passwd", system_id, "--password", "changed9")
    assert sendsms(api, **right)[0] == 403  # the old password, remembered before: refused
    assert sendsms(api, **{**right, "password": "changed9"})[0] == 202


def test_a_dlr_url_answering_500_is_called_again(api: ApiServer,
                                                 receiver: WebhookReceiver) -> None:
    receiver.answer = lambda n: 500 if n == 0 else 200
    system_id, _ = api.account(credit="100")
    status, _, _ = sendsms(api, username=system_id, password=PASSWORD, to=DELIVERED,
                           text="x", **{"from": "Shop", "dlr-mask": "8",
                                        "dlr-url": dlr_url(receiver, "retry")})
    assert status == 202
    first, second = receiver.wait_for(lambda seen: len(seen) >= 2, "the call and its retry")
    assert (first.status, second.status) == (500, 200)
    assert first.path == second.path and first.event_ids == second.event_ids


def _failed(api: ApiServer, key: str) -> list[dict[str, object]]:
    answer = api.request("GET", "/v1/webhooks/failed?limit=1", key=key)
    assert answer.status == 200
    rows: list[dict[str, object]] = list(answer.json["webhooks"])
    while answer.json["next"]:
        answer = api.request("GET", f"/v1/webhooks/failed?limit=1&cursor="
                                    f"{answer.json['next']}", key=key)
        rows.extend(answer.json["webhooks"])
    return rows


def test_failed_webhooks_are_listed_and_replayed_over_the_api(
        api: ApiServer, receiver: WebhookReceiver) -> None:
    receiver.answer = lambda n: 503
    system_id, key = api.account(credit="100", receipt_ttl="2s")
    for number in (DELIVERED, UNDELIVERABLE):
        assert sendsms(api, username=system_id, password=PASSWORD, to=number, text="x",
                       **{"from": "Shop", "dlr-mask": "8",
                          "dlr-url": dlr_url(receiver, "failed")})[0] == 202
    deadline = time.monotonic() + 30
    while len(rows := _failed(api, key)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [r["style"] for r in rows] == ["kannel", "kannel"]
    assert rows[0]["url"] == dlr_url(receiver, "failed")  # the template, as given
    assert str(rows[0]["last_error"]).startswith("HTTP 503")
    other = api.account()[1]
    assert _failed(api, other) == []  # an account sees its own only
    answer = api.request("POST", "/v1/webhooks/failed/replay", key=other,
                         body={"event_ids": [rows[0]["event_id"]]})
    assert answer.json == {"replayed": [], "not_found": [rows[0]["event_id"]]}
    receiver.answer = lambda n: 200
    answer = api.request("POST", "/v1/webhooks/failed/replay", key=key,
                         body={"ids": [rows[0]["id"], 999999]})
    assert answer.status == 200
    assert answer.json == {"replayed": [rows[0]["event_id"]], "not_found": ["999999"]}
    receiver.wait_for(lambda seen: any(r.status == 200 and r.event_ids == [rows[0]["event_id"]]
                                       for r in seen), "the replayed call")
    answer = api.request("POST", "/v1/webhooks/failed/replay", key=key, body={"all": True})
    assert answer.json["replayed"] == [rows[1]["event_id"]]
    bad = api.request("POST", "/v1/webhooks/failed/replay", key=key,
                      body={"all": True, "ids": [1]})
    assert bad.status == 422 and bad.json["code"] == "invalid_request"
