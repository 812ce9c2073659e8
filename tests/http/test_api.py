"""The HTTP API against a real server over loopback with a real HTTP client: send, status,
list, cancel, quote, balance, idempotency, throttling, bad input, authentication and its
lockout, and a message sent over HTTP beside one sent over SMPP."""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from smsc.pdu import pdus
from tests.http.conftest import Answer, ApiServer, start_api_server
from tests.integration.conftest import Login, accepted, bound_esme

UA = ("380671234567", "380501234567", "380631234567", "380971112233", "380661112233")
PRICE = 3  # cents per part on every route of the test config
DEADLINE = 10.0


def send(api: ApiServer, key: str, **body: Any) -> Answer:
    body.setdefault("from", "Shop")
    body.setdefault("text", "hello")
    return api.request("POST", "/v1/messages", key=key, body=body)


def poll(check: Callable[[], Any], what: str) -> Any:
    """``check()`` until it returns something true; bounded by DEADLINE."""
    deadline = time.monotonic() + DEADLINE
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"{what} not within {DEADLINE} s"
        time.sleep(0.05)


def test_send_status_and_balance(api: ApiServer) -> None:
    system_id, key = api.account()
    answer = send(api, key, to=[UA[0], "+" + UA[0], UA[1], "12"], receipt=True,
                  reference="order-7")
    assert answer.status == 200, answer.body
    body = answer.json
    assert body["accepted"] == 2 and body["refused"] == 1 and body["duplicates"] == 1
    assert body["reference"] == "order-7" and body["charged"] == 2 * PRICE
    first, _, bad = body["messages"]
    assert first["to"] == UA[0] and first["parts"] == 1 and first["charged"] == PRICE
    assert bad["error"]["code"] == "invalid_destination" and bad["error"]["smpp_status"] == 0x0B
    assert api.balance(system_id) == 10_000 - 2 * PRICE
    balance = api.request("GET", "/v1/balance", key=key).json
    assert balance["available"] == 10_000 - 2 * PRICE and balance["currency"] == "EUR"

    def delivered() -> Any:
        got = api.request("GET", f"/v1/messages/{first['id']}", key=key).json
        return got if got["state"] == "delivered" else None

    message = poll(delivered, "the delivery")
    assert message["to"] == UA[0] and message["from"] == "Shop" and message["route"]
    assert message["receipt"] == {"requested": True, "stat": "DELIVRD"}
    assert [p["state"] for p in message["parts"]] == ["delivered"]
    assert message["charged"] == PRICE and message["final_at"]


def test_long_text_is_split_and_billed_per_part(api: ApiServer) -> None:
    system_id, key = api.account()
    answer = send(api, key, to=[UA[2]], text="ж" * 100)  # UCS2: 2 parts of 67
    assert answer.status == 200, answer.body
    [message] = answer.json["messages"]
    assert message["parts"] == 2 and message["charged"] == 2 * PRICE
    got = api.request("GET", f"/v1/messages/{message['id']}", key=key).json
    assert [p["index"] for p in got["parts"]] == [1, 2]
    assert api.balance(system_id) == 10_000 - 2 * PRICE


def test_quote_equals_what_the_send_bills(api: ApiServer) -> None:
    system_id, key = api.account()
    body = {"to": [UA[0], UA[1], "00" + UA[1], "999", UA[2]], "text": "x" * 200,
            "from": "Shop"}
    quote = api.request("POST", "/v1/quote", key=key, body=body)
    assert quote.status == 200, quote.body
    q = quote.json
    assert (q["valid"], q["invalid"], q["duplicates"]) == (3, 1, 1)
    assert q["encoding"] == "gsm" and q["parts"] == 6 and q["total"] == 6 * PRICE
    assert q["balance"] == 10_000 and q["enough_credit"] is True
    assert q["routes"] == [{"route": "ukraine", "destinations": 3, "parts": 6,
                            "total": 6 * PRICE}]
    assert api.balance(system_id) == 10_000  # nothing billed
    assert api.request("GET", "/v1/messages", key=key).json["messages"] == []  # nor stored
    sent = api.request("POST", "/v1/messages", key=key, body=body).json
    assert sent["charged"] == q["total"] and sent["parts"] == q["parts"]
    assert api.balance(system_id) == 10_000 - q["total"]


def test_idempotent_retry_gets_the_same_answer_and_is_billed_once(api: ApiServer) -> None:
    system_id, key = api.account()
    body = {"to": [UA[0], UA[1]], "text": "once", "from": "Shop"}
    headers = {"Idempotency-Key": "order-42"}
    first = api.request("POST", "/v1/messages", key=key, body=body, headers=headers)
    again = api.request("POST", "/v1/messages", key=key, body=body, headers=headers)
    assert first.status == again.status == 200
    assert again.body == first.body
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert api.balance(system_id) == 10_000 - 2 * PRICE
    other = api.request("POST", "/v1/messages", key=key, body={**body, "text": "twice"},
                        headers=headers)
    assert other.status == 422 and other.json["code"] == "idempotency_key_reused"
    # another account's key of the same name is its own
    _, key2 = api.account()
    theirs = api.request("POST", "/v1/messages", key=key2, body=body, headers=headers)
    assert theirs.status == 200 and theirs.body != first.body


def test_list_with_a_cursor_and_filters(api: ApiServer) -> None:
    _, key = api.account()
    ids = []
    for number in UA:
        answer = send(api, key, to=[number])
        ids.append(answer.json["messages"][0]["id"])
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        path = "/v1/messages?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.request("GET", path, key=key).json
        seen += [m["id"] for m in page["messages"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    one = api.request("GET", f"/v1/messages?to=%2B{UA[3]}", key=key).json
    assert [m["id"] for m in one["messages"]] == [ids[3]]
    bad = api.request("GET", "/v1/messages?cursor=nonsense", key=key)
    assert bad.status == 422 and bad.json["errors"][0]["field"] == "cursor"
    other = api.request("GET", "/v1/messages?limit=0", key=key)
    assert other.status == 422 and other.json["errors"][0]["field"] == "limit"


def test_cancel_while_pending_then_not(api: ApiServer) -> None:
    _, key = api.account()
    answer = send(api, key, to=[UA[0]], schedule="2099-01-01T10:00:00Z")
    assert answer.status == 422 and answer.json["code"] == "invalid_schedule"  # > 30 days
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    answer = send(api, key, to=[UA[0]], schedule=later)
    assert answer.status == 200, answer.body
    message_id = answer.json["messages"][0]["id"]
    got = api.request("GET", f"/v1/messages/{message_id}", key=key).json
    assert got["state"] == "enroute" and got["scheduled_at"]
    cancelled = api.request("DELETE", f"/v1/messages/{message_id}", key=key)
    assert cancelled.status == 200 and cancelled.json == {"id": message_id, "state": "deleted"}
    assert api.request("GET", f"/v1/messages/{message_id}", key=key).json["state"] == "deleted"
    again = api.request("DELETE", f"/v1/messages/{message_id}", key=key)
    assert again.status == 409 and again.json["code"] == "not_pending"
    missing = api.request("DELETE", "/v1/messages/ffffffff", key=key)
    assert missing.status == 404 and missing.json["code"] == "not_found"
    _, stranger = api.account()
    assert api.request("GET", f"/v1/messages/{message_id}", key=stranger).status == 404


def test_bad_input_is_a_422_naming_the_field(api: ApiServer) -> None:
    _, key = api.account()
    cases = [
        ({"to": [], "text": "x"}, "to"),
        ({"to": ["380671234567"], "text": "x", "validity": 0}, "validity"),
        ({"to": ["380671234567"], "text": "x", "encoding": "klingon"}, "encoding"),
        ({"to": ["380671234567"], "text": "x", "receipt": "yes"}, "receipt"),
        ({"to": ["380671234567"], "text": "x", "colour": "red"}, "colour"),
        ({"to": ["380671234567"], "text": "жук", "encoding": "gsm"}, "text"),
    ]
    for body, field in cases:
        answer = api.request("POST", "/v1/messages", key=key, body=body)
        assert answer.status == 422, (body, answer.body)
        assert answer.headers["Content-Type"] == "application/problem+json"
        problem = answer.json
        assert problem["status"] == 422 and problem["code"] == "invalid_request"
        assert field in [e["field"] for e in problem["errors"]], (body, problem)
    garbage = api.request("POST", "/v1/messages", key=key, raw=b"{not json")
    assert garbage.status == 422 and garbage.json["errors"][0]["field"] == "body"


def test_every_destination_refused_alike_is_one_problem(api: ApiServer) -> None:
    system_id, key = api.account(credit="0.02")  # less than one part
    answer = send(api, key, to=[UA[0], UA[1]])
    assert answer.status == 402
    assert answer.json["code"] == "no_credit" and answer.json["smpp_status"] == 0x400
    assert api.balance(system_id) == 2


def test_throughput_spent_is_a_429_with_retry_after(api: ApiServer) -> None:
    _, key = api.account(throughput="1", burst="2")
    first = send(api, key, to=[UA[0], UA[1], UA[2]])  # 2 tokens: two sent, one throttled
    assert first.status == 200, first.body
    codes = [m["error"]["code"] if m["error"] else "sent" for m in first.json["messages"]]
    assert codes == ["sent", "sent", "throttled"]
    second = send(api, key, to=[UA[3]])
    assert second.status == 429, second.body
    assert second.json["code"] == "throttled" and second.json["smpp_status"] == 0x58
    assert int(second.headers["Retry-After"]) >= 1


def test_sms_over_http_and_smpp_are_alike_in_the_store(api: ApiServer) -> None:
    system_id, key = api.account()
    login = Login(system_id=system_id, password="secret12")
    over_http = send(api, key, to=[UA[0]], text="same text", receipt=True)
    http_id = over_http.json["messages"][0]["id"]
    with bound_esme(api.smpp_port, "trx", login) as esme:
        smpp_id = accepted(esme.request(pdus.SubmitSm(
            source_addr="Shop", source_addr_ton=5, dest_addr_ton=1, dest_addr_npi=1,
            destination_addr=UA[0], short_message=b"same text", registered_delivery=1)))
        receipts = esme.wait_receipts(2)
    assert sorted(str(r.tlvs.get_str(0x001E)) for r in receipts) == sorted([http_id, smpp_id])

    def final(message_id: str) -> Any:
        got = api.request("GET", f"/v1/messages/{message_id}", key=key).json
        return got if got["state"] == "delivered" else None

    a, b = poll(lambda: final(http_id), "HTTP"), poll(lambda: final(smpp_id), "SMPP")
    keep = ("to", "from", "state", "error", "route", "operator", "price", "charged",
            "refunded", "receipt")
    assert {k: a[k] for k in keep} == {k: b[k] for k in keep}
    assert [(p["state"], p["price"]) for p in a["parts"]] == [
        (p["state"], p["price"]) for p in b["parts"]]
    report = json.loads(api.cli("report", "messages", "--account", system_id, "--json"))
    by_id = {r["message_id"]: r for r in report}
    differ = {"message_id", "submitted_at", "done_at", "next_attempt_at", "expires_at"}
    assert by_id[http_id]["receipt"] == "sent" and by_id[http_id]["text"] == "same text"
    assert {k: v for k, v in by_id[http_id].items() if k not in differ} == {
        k: v for k, v in by_id[smpp_id].items() if k not in differ}


def test_authentication_and_its_lockout(tmp_path: Path) -> None:
    api = start_api_server(tmp_path, server={"unknown_id_lock_after": 3, "lock_after": 2})
    try:
        system_id, key = api.account()
        assert api.request("GET", "/v1/balance").status == 401
        assert api.request("GET", "/v1/balance", headers={"Authorization": "Basic x"}
                           ).status == 401
        key_id, _, secret = key.partition(".")
        wrong = f"{key_id}.{'A' * len(secret)}"
        for _ in range(2):  # wrong secrets of a known key: the (account, address) pair
            answer = api.request("GET", "/v1/balance", key=wrong)
            assert answer.status == 401 and answer.json["code"] == "unauthorized"
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        locked = api.request("GET", "/v1/balance", key=key)  # right key, locked pair
        assert locked.status == 401 and locked.body == answer.body
        locks = api.cli("account", "locks")
        assert f"pair  {system_id}  127.0.0.1" in locks
        api.cli("account", "unlock", system_id, "--address", "127.0.0.1")
        assert api.request("GET", "/v1/balance", key=key).status == 200
        revoked_id = key_id
        api.cli("apikey", "revoke", system_id, revoked_id)
        # the server verified the key a moment ago; it forgets it when it next sees the
        # store's change counter move (every second)
        poll(lambda: api.request("GET", "/v1/balance", key=key).status == 401,
             "the revoked key refused")
        assert "revoked" not in api.request("GET", "/v1/balance", key=key).body.decode()
        for _ in range(3):  # unknown keys count against the address
            api.request("GET", "/v1/balance", key="smsc_000000000000." + "B" * 43)
        _, fresh = api.account()
        assert api.request("GET", "/v1/balance", key=fresh).status == 401  # address locked
        listed = json.loads(api.cli("apikey", "list", system_id, "--json"))
        assert listed[0]["id"] == revoked_id and listed[0]["revoked_at"]
    finally:
        api.stop()


def test_openapi_document_and_unknown_paths(api: ApiServer) -> None:
    document = api.request("GET", "/v1/openapi.json")
    assert document.status == 200 and document.json["openapi"].startswith("3.1")
    assert set(document.json["paths"]) >= {"/v1/messages", "/v1/messages/{id}",
                                           "/v1/balance", "/v1/quote", "/v1/webhooks/failed",
                                           "/v1/webhooks/failed/replay", "/v1/lists",
                                           "/v1/campaigns", "/v1/opt-outs"}
    _, key = api.account()
    missing = api.request("GET", "/v2/nothing", key=key)
    assert missing.status == 404 and missing.json["code"] == "not_found"
    wrong = api.request("PUT", "/v1/balance", key=key, body={})
    assert wrong.status == 405 and wrong.headers["Allow"] == "GET"
    media = api.request("POST", "/v1/messages", key=key, raw=b"to=1",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert media.status == 415


@pytest.mark.parametrize("size", [5_000_000])
def test_a_body_past_the_limit_is_a_413(api: ApiServer, size: int) -> None:
    _, key = api.account()
    answer = api.request("POST", "/v1/messages", key=key, raw=b" " * size)
    assert answer.status == 413 and answer.json["code"] == "request_too_large"
    # chunked, without a Content-Length: counted as it comes
    host, port = api.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=15)
    try:
        conn.request("POST", "/v1/messages", body=iter([b" " * 65536] * (size // 65536 + 1)),
                     headers={"Authorization": f"Bearer {key}",
                              "Content-Type": "application/json"}, encode_chunked=True)
        response = conn.getresponse()
        assert response.status == 413 and json.loads(response.read())["code"] == (
            "request_too_large")
    finally:
        conn.close()


@contextlib.contextmanager
def bodies_received() -> Iterator[tuple[str, list[bytes]]]:
    """A webhook receiver on loopback answering 204: its URL and the bodies it got."""
    got: list[bytes] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(self.rfile.read(int(self.headers["Content-Length"] or 0)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{receiver.server_address[1]}/dlr", got
    finally:
        receiver.shutdown()
        receiver.server_close()
        thread.join(timeout=5)


def test_a_message_s_webhook_url_gets_its_receipt(api: ApiServer) -> None:
    with bodies_received() as (url, got):
        _, key = api.account()
        answer = send(api, key, to=[UA[4]], webhook_url=url)
        assert answer.status == 200, answer.body
        message_id = answer.json["messages"][0]["id"]
        body = poll(lambda: next((b for b in got if message_id.encode() in b), None),
                    "the webhook")
        assert json.loads(body)


def test_a_sub_account_has_its_own_keys_and_spends_its_parent_s_credit(api: ApiServer) -> None:
    parent, parent_key = api.account()
    sub = parent + "s"
    api.cli("account", "add", sub, "--password", "secret12", "--parent", parent)
    sub_key = json.loads(api.cli("apikey", "create", sub, "--json"))["key"]
    sent = send(api, sub_key, to=[UA[0]])
    assert sent.status == 200, sent.body
    message_id = sent.json["messages"][0]["id"]
    assert api.request("GET", "/v1/balance", key=sub_key).json["available"] == 10_000 - PRICE
    assert api.balance(parent) == 10_000 - PRICE
    assert api.request("GET", f"/v1/messages/{message_id}", key=sub_key).status == 200
    assert api.request("GET", f"/v1/messages/{message_id}", key=parent_key).status == 404


def test_smpp_binds_and_the_api_share_the_account_s_throughput(api: ApiServer) -> None:
    system_id, key = api.account(throughput="0.5", burst="1")
    login = Login(system_id=system_id, password="secret12")
    with bound_esme(api.smpp_port, "tx", login) as esme:
        accepted(esme.request(pdus.SubmitSm(
            source_addr="Shop", source_addr_ton=5, dest_addr_ton=1, dest_addr_npi=1,
            destination_addr=UA[0], short_message=b"over SMPP")))
        answer = send(api, key, to=[UA[1]])  # the bucket's one token is spent
        assert answer.status == 429 and int(answer.headers["Retry-After"]) >= 1
        refused = esme.request(pdus.SubmitSm(
            source_addr="Shop", source_addr_ton=5, dest_addr_ton=1, dest_addr_npi=1,
            destination_addr=UA[2], short_message=b"over SMPP"))
        assert refused.command_status == 0x58


def test_a_send_s_reference_is_kept_listed_and_in_its_receipt_event(api: ApiServer) -> None:
    """The reference comes back in the answer, the message by id, a list filtered by it, and
    the JSON receipt event of the message's webhook; a send without one shows null."""
    with bodies_received() as (url, got):
        _, key = api.account()
        ref = "order-42/\u00e9"
        hooked = send(api, key, to=[UA[0]], webhook_url=url, reference=ref)
        assert hooked.status == 200 and hooked.json["reference"] == ref, hooked.body
        plain = send(api, key, to=[UA[1]], reference=ref)  # the account's default receipts
        none = send(api, key, to=[UA[2]])
        ids = [a.json["messages"][0]["id"] for a in (hooked, plain, none)]
        assert [api.request("GET", f"/v1/messages/{i}", key=key).json["reference"]
                for i in ids] == [ref, ref, None]
        query = "/v1/messages?reference=order-42%2F%C3%A9"
        listed = api.request("GET", query, key=key).json
        assert [m["id"] for m in listed["messages"]] == ids[1::-1]
        assert all(m["reference"] == ref for m in listed["messages"])
        other = api.request("GET", "/v1/messages?reference=order-4", key=key).json
        assert other["messages"] == []
        event = poll(lambda: next((e for b in got for e in json.loads(b)["events"]
                                   if e["message_id"] == ids[0]), None), "the webhook")
        assert event["type"] == "receipt" and event["reference"] == ref
