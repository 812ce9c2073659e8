"""Contact lists, campaigns and opt-outs over HTTP, against a real server on loopback with a
real HTTP client: a CSV import with invalid and duplicate rows, pages and CSV export, a
campaign's preview (the CLI's figures), its life (start, pause, resume, cancel, and 409 for
what its state refuses), its report; opted-out numbers refused in a send and counted in a
quote (and denied by Kannel's sendsms, which sends through the same path); one account never
sees another's lists or campaigns. (Whether a started campaign is sent is the server's
campaign runner's business: these tests assert states and figures.)"""

from __future__ import annotations

import csv
import io
import json
import time
import urllib.parse
import urllib.request
from typing import Any

from tests.http.conftest import Answer, ApiServer

PRICE = 3  # cents per part on every route of the test config
CSV_HEADERS = {"Content-Type": "text/csv"}
FILE = (
    '\ufeffphone;name;city\n'
    '0671234567;Ann;Kyiv\n'  # national, read with the list's country
    '+380501234567;Bob;Lviv\n'
    '"380 67 123-45-67";Ann again;Kyiv\n'  # the first number again: a duplicate
    '12;Nobody;Nowhere\n'  # line 5: not a number
    '\n'
    '00380631234567;"Smith; John";"Odesa"\n'
)


def post(api: ApiServer, key: str, path: str, body: Any = None, **kw: Any) -> Answer:
    return api.request("POST", path, key=key, body=body if body is not None else {}, **kw)


def get(api: ApiServer, key: str, path: str, **kw: Any) -> Answer:
    return api.request("GET", path, key=key, **kw)


def new_list(api: ApiServer, key: str, name: str = "spring") -> int:
    made = post(api, key, "/v1/lists", {"name": name, "country": "UA"})
    assert made.status == 200, made.body
    return int(made.json["id"])


def import_file(api: ApiServer, key: str, list_id: int, text: str = FILE) -> Answer:
    return api.request("POST", f"/v1/lists/{list_id}/contacts", key=key,
                       raw=text.encode("utf-8"), headers=CSV_HEADERS)


def test_a_list_is_created_imported_paged_and_exported(api: ApiServer) -> None:
    _, key = api.account()
    list_id = new_list(api, key)
    again = post(api, key, "/v1/lists", {"name": "spring"})
    assert again.status == 409 and again.json["code"] == "list_exists"
    bad = post(api, key, "/v1/lists", {"name": "x", "country": "ZZ"})
    assert bad.status == 422 and bad.json["errors"][0]["field"] == "country"

    done = import_file(api, key, list_id)
    assert done.status == 200, done.body
    summary = done.json
    assert (summary["rows"], summary["added"], summary["duplicates"], summary["invalid"],
            summary["blacklisted"]) == (5, 3, 1, 1, 0)
    assert summary["number_column"] == "phone" and summary["columns"] == ["name", "city"]
    [problem] = summary["problems"]
    assert problem["line"] == 5 and problem["kind"] == "invalid" and problem["value"] == "12"
    assert summary["list"]["size"] == 3

    more = post(api, key, f"/v1/lists/{list_id}/contacts",
                {"contacts": [{"number": "+380971112233", "fields": {"name": "Dan"}},
                              {"number": "0501234567", "fields": {"name": "Bob"}},
                              {"number": "nope"}]})
    assert more.status == 200, more.body
    assert (more.json["added"], more.json["duplicates"], more.json["invalid"]) == (1, 1, 1)
    assert more.json["problems"][0]["line"] == 3

    first = get(api, key, f"/v1/lists/{list_id}/contacts?limit=3").json
    assert [c["number"] for c in first["contacts"]] == ["380671234567", "380501234567",
                                                       "380631234567"]
    assert first["contacts"][2]["fields"] == {"name": "Smith; John", "city": "Odesa"}
    rest = get(api, key, f"/v1/lists/{list_id}/contacts?limit=3&cursor={first['next']}").json
    assert [c["number"] for c in rest["contacts"]] == ["380971112233"] and rest["next"] is None
    forged = get(api, key, f"/v1/lists/{list_id}/contacts?cursor=bm9wZQ")
    assert forged.status == 422 and forged.json["errors"][0]["field"] == "cursor"

    exported = get(api, key, f"/v1/lists/{list_id}/contacts", headers={"Accept": "text/csv"})
    assert exported.status == 200 and exported.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.body.decode("utf-8"))))
    assert rows[0] == ["number", "name", "city"] and len(rows) == 5
    assert ["380631234567", "Smith; John", "Odesa"] in rows

    listed = get(api, key, "/v1/lists").json["lists"]
    assert [(x["id"], x["name"], x["size"]) for x in listed] == [(list_id, "spring", 4)]
    assert api.request("DELETE", f"/v1/lists/{list_id}", key=key).json["deleted"] is True
    assert get(api, key, f"/v1/lists/{list_id}").status == 404


def test_a_bad_csv_body_is_refused_with_why(api: ApiServer) -> None:
    _, key = api.account()
    list_id = new_list(api, key)
    no_number = import_file(api, key, list_id, "name,city\nAnn,Kyiv\n")
    assert no_number.status == 422 and no_number.json["code"] == "invalid_csv"
    latin = api.request("POST", f"/v1/lists/{list_id}/contacts", key=key,
                        raw="number,name\n380671234567,Zo\u00eb\n".encode("latin-1"),
                        headers=CSV_HEADERS)
    assert latin.status == 422 and "line 2" in latin.json["detail"]
    assert get(api, key, f"/v1/lists/{list_id}").json["size"] == 0  # nothing half-imported
    big = api.request("POST", f"/v1/lists/{list_id}/contacts", key=key,
                      raw=b"number\n" + b"380671234567\n" * 400_000, headers=CSV_HEADERS)
    assert big.status == 413 and big.json["code"] == "request_too_large"
    wrong = api.request("POST", f"/v1/lists/{list_id}/contacts", key=key, raw=b"x",
                        headers={"Content-Type": "application/xml"})
    assert wrong.status == 415


def test_a_campaign_is_previewed_and_goes_through_its_states(api: ApiServer) -> None:
    system_id, key = api.account()
    list_id = new_list(api, key, "autumn")
    assert import_file(api, key, list_id).status == 200
    opted = post(api, key, "/v1/opt-outs", {"numbers": ["380501234567"]})
    assert opted.json == {"added": 1, "numbers": 1}
    text = "Hi {name|there}, -20% in {city}"
    made = post(api, key, "/v1/campaigns", {"name": "sale", "lists": [list_id], "text": text,
                                            "from": "Shop", "window": "09:00-20:00",
                                            "throughput": 5, "validity": 3600,
                                            "receipts": False})
    assert made.status == 200, made.body
    campaign = made.json
    assert (campaign["state"], campaign["window"], campaign["lists"], campaign["receipts"],
            campaign["validity"]) == ("draft", "09:00-20:00", [list_id], False, 3600)
    cid = campaign["id"]

    preview = post(api, key, f"/v1/campaigns/{cid}/preview")
    assert preview.status == 200, preview.body
    figures = preview.json
    assert (figures["contacts"], figures["sendable"], figures["opted_out"],
            figures["duplicates"]) == (3, 2, 1, 0)
    assert figures["total"] == 2 * PRICE and figures["enough_credit"] is True
    assert figures["rows"][0]["text"] == "Hi Ann, -20% in Kyiv"
    cli = json.loads(api.cli("campaign", "preview", "--list", "autumn", "--account",
                             system_id, "--text", text, "--from", "Shop", "--json"))
    assert (cli["contacts"], cli["sendable"], cli["parts"], cli["total_minor"],
            cli["opted_out"], cli["blacklisted"], cli["invalid"]) == (
        figures["contacts"], figures["sendable"], figures["parts"], figures["total"],
        figures["opted_out"], figures["blacklisted"], figures["invalid"])

    def act(action: str) -> Answer:
        return post(api, key, f"/v1/campaigns/{cid}/{action}")

    early = act("pause")
    assert early.status == 409 and early.json["code"] == "illegal_transition"
    assert act("start").json["state"] == "running"
    paused = act("pause").json
    assert paused["state"] == "paused" and paused["pause_reason"] == "by hand"
    assert act("resume").json["state"] == "running"
    assert act("cancel").json["state"] == "cancelled"
    late = act("resume")
    assert late.status == 409 and late.json["code"] == "illegal_transition"
    assert "cancelled" in late.json["detail"]

    shown = get(api, key, f"/v1/campaigns/{cid}").json
    assert shown["state"] == "cancelled" and isinstance(shown["counts"], dict)
    assert [c["id"] for c in get(api, key, "/v1/campaigns").json["campaigns"]] == [cid]
    report = get(api, key, f"/v1/campaigns/{cid}/report")
    assert report.status == 200, report.body
    assert report.json["state"] == "cancelled" and report.json["currency"] == "EUR"
    # a short GSM text: one part per contact sent (none, until a runner sends it)
    assert report.json["charged"] == PRICE * report.json["marks"].get("sent", 0)
    outcomes = get(api, key, f"/v1/campaigns/{cid}/report", headers={"Accept": "text/csv"})
    assert outcomes.status == 200
    header = outcomes.body.decode().splitlines()[0]
    assert header == "number,mark,note,message_id,stat,err,parts,charged"
    cleaned = post(api, key, f"/v1/campaigns/{cid}/clean", {"dry_run": True})
    assert cleaned.json == {"removed": 0, "moved": 0, "dry_run": True}


def test_campaign_refusals_name_the_field(api: ApiServer) -> None:
    _, key = api.account()
    list_id = new_list(api, key)
    assert import_file(api, key, list_id).status == 200
    base = {"name": "c1", "lists": [list_id], "text": "Hi {name}", "from": "Shop"}
    window = post(api, key, "/v1/campaigns", {**base, "window": "25:00-26:00"})
    assert window.status == 422 and window.json["code"] == "invalid_campaign"
    assert window.json["errors"][0]["field"] == "window"
    field = post(api, key, "/v1/campaigns", {**base, "text": "Hi {surname}"})
    assert field.status == 422 and field.json["errors"][0]["field"] == "text"
    unknown = post(api, key, "/v1/campaigns", {**base, "lists": [list_id, 999_999]})
    assert unknown.status == 422 and unknown.json["errors"][0]["field"] == "lists.1"
    missing = post(api, key, "/v1/campaigns", {"name": "c2"})
    assert missing.status == 422 and {e["field"] for e in missing.json["errors"]} >= {
        "lists", "text"}
    made = post(api, key, "/v1/campaigns", base)
    assert made.status == 200 and made.json["window"] == ""  # any time, as it is written
    twice = post(api, key, "/v1/campaigns", base)
    assert twice.status == 409 and twice.json["code"] == "campaign_exists"
    # a contact of the list has no name and the template gives no default: it cannot start
    assert post(api, key, f"/v1/lists/{list_id}/contacts",
                {"contacts": [{"number": "380971112233"}]}).json["added"] == 1
    start = post(api, key, f"/v1/campaigns/{made.json['id']}/start")
    assert start.status == 422 and start.json["code"] == "campaign_not_ready"
    assert start.json["errors"][0]["field"] == "text" and "380971112233" in start.json["detail"]
    assert get(api, key, f"/v1/campaigns/{made.json['id']}").json["state"] == "draft"
    assert get(api, key, "/v1/campaigns/12x").status == 404


def test_a_key_sees_only_its_own_account(api: ApiServer) -> None:
    _, key = api.account()
    _, other = api.account()
    list_id = new_list(api, key)
    cid = post(api, key, "/v1/campaigns", {"name": "mine", "lists": [list_id],
                                           "text": "Hi", "from": "Shop"}).json["id"]
    for method, path in (("GET", f"/v1/lists/{list_id}"),
                         ("GET", f"/v1/lists/{list_id}/contacts"),
                         ("DELETE", f"/v1/lists/{list_id}"),
                         ("GET", f"/v1/campaigns/{cid}"),
                         ("POST", f"/v1/campaigns/{cid}/start"),
                         ("GET", f"/v1/campaigns/{cid}/report")):
        answer = api.request(method, path, key=other, body={} if method == "POST" else None)
        assert answer.status == 404 and answer.json["code"] == "not_found", (method, path)
    stolen = post(api, other, "/v1/campaigns", {"name": "theirs", "lists": [list_id],
                                                "text": "Hi", "from": "Shop"})
    assert stolen.status == 422 and stolen.json["errors"][0]["field"] == "lists.0"
    assert get(api, other, "/v1/lists").json["lists"] == []
    assert get(api, other, "/v1/campaigns").json["campaigns"] == []
    assert get(api, key, f"/v1/campaigns/{cid}").json["state"] == "draft"


def test_opted_out_numbers_are_refused_in_a_send_and_counted_in_a_quote(
        api: ApiServer) -> None:
    system_id, key = api.account()
    assert post(api, key, "/v1/opt-outs", {"numbers": ["380671234567", "380671234567"],
                                           "note": "asked by phone"}).json == {
        "added": 1, "numbers": 1}
    body = {"to": ["+380671234567", "380501234567"], "text": "hello", "from": "Shop"}
    quote = post(api, key, "/v1/quote", body).json
    assert quote["opted_out"] == 1 and quote["total"] == PRICE and quote["invalid"] == 1
    assert quote["messages"][0]["error"]["code"] == "opted_out"
    sent = post(api, key, "/v1/messages", body)
    assert sent.status == 200, sent.body
    refused, accepted = sent.json["messages"]
    assert refused["error"]["code"] == "opted_out" and refused["error"]["smpp_status"] == 0x409
    assert accepted["id"] and sent.json["charged"] == PRICE
    assert api.balance(system_id) == 10_000 - PRICE
    alone = post(api, key, "/v1/messages", {**body, "to": ["00380671234567"]})
    assert alone.status == 422 and alone.json["code"] == "opted_out"

    page = get(api, key, "/v1/opt-outs").json
    assert [(o["number"], o["note"]) for o in page["opt_outs"]] == [("380671234567",
                                                                     "asked by phone")]
    assert api.request("DELETE", "/v1/opt-outs/380671234567", key=key).json == {
        "number": "380671234567", "opted_out": False}
    assert api.request("DELETE", "/v1/opt-outs/380671234567", key=key).status == 404
    again = post(api, key, "/v1/messages", {**body, "to": ["380671234567"]})
    assert again.status == 200 and again.json["accepted"] == 1


def test_an_opt_out_added_after_sends_is_refused_from_the_next_send(api: ApiServer) -> None:
    """Sends of an account with no opt-out skip the store's opt-out read; an opt-out added from
    the CLI (another process) is honoured within a few seconds (the change counter, read every
    second), one added by the API from the very next send."""
    system_id, key = api.account(credit="1000")
    time.sleep(1.5)  # the server has seen the account made (it forgets what it knew then)
    body = {"to": ["380671234567"], "text": "hello", "from": "Shop"}
    for _ in range(3):  # known by now to have no opt-out
        assert post(api, key, "/v1/messages", body).json["accepted"] == 1
    api.cli("optout", "add", "380671234567", "--account", system_id)
    deadline = time.monotonic() + 10
    while True:
        sent = post(api, key, "/v1/messages", body)
        if sent.status == 422:
            break
        assert sent.json["accepted"] == 1 and time.monotonic() < deadline, sent.body
        time.sleep(0.2)
    assert sent.json["code"] == "opted_out"

    body = {"to": ["380501234567"], "text": "hello", "from": "Shop"}
    assert api.request("DELETE", "/v1/opt-outs/380671234567", key=key).status == 200
    for _ in range(3):  # known again to have no opt-out
        assert post(api, key, "/v1/messages", body).json["accepted"] == 1
    assert post(api, key, "/v1/opt-outs", {"numbers": ["380501234567"]}).json["added"] == 1
    refused = post(api, key, "/v1/messages", body)
    assert refused.status == 422 and refused.json["code"] == "opted_out"


def test_an_export_of_several_pages_has_every_contact_once(api: ApiServer) -> None:
    _, key = api.account()
    list_id = new_list(api, key, "big")
    numbers = [f"38067{i:07d}" for i in range(2_500)]
    done = import_file(api, key, list_id, "number,n\n" + "".join(
        f"{n},{i}\n" for i, n in enumerate(numbers)))
    assert done.status == 200 and done.json["added"] == 2_500, done.body
    exported = get(api, key, f"/v1/lists/{list_id}/contacts", headers={"Accept": "text/csv"})
    rows = list(csv.reader(io.StringIO(exported.body.decode("utf-8"))))
    assert rows[0] == ["number", "n"] and [r[0] for r in rows[1:]] == numbers
    assert [r[1] for r in rows[1:]] == [str(i) for i in range(2_500)]


def test_kannel_sendsms_refuses_opted_out_receivers_too(api: ApiServer) -> None:
    """sendsms goes through the same send (HttpApi.submit): an opted-out receiver is denied."""
    system_id, key = api.account()
    assert post(api, key, "/v1/opt-outs", {"numbers": ["380671234567"]}).json["added"] == 1
    query = urllib.parse.urlencode({"username": system_id, "password": "secret12",
                                    "from": "Shop", "text": "hi",
                                    "to": "380671234567 380501234567"})
    with urllib.request.urlopen(f"{api.url}/cgi-bin/sendsms?{query}", timeout=15) as answer:
        assert answer.status == 202 and answer.read() == b"0: Accepted for delivery"
        assert answer.headers["X-Smsc-Denied-Receivers"] == "380671234567 (opted_out)"
    assert api.balance(system_id) == 10_000 - PRICE
