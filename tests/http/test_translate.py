"""The pure part of the HTTP API: requests validated by the models, made into the submit_sm an
SMPP client would send; the problem code table; API keys checked with the binds' lockout."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from smsc.core.apikeys import ApiKeyDesk, make_key, parse_token
from smsc.core.binds import BindDesk, LockPolicy
from smsc.core.content import TAG_RECIPIENT_LOCAL_TIME
from smsc.http.models import SendRequest
from smsc.http.openapi import document
from smsc.http.problems import BY_STATUS, all_codes, refusal
from smsc.http.translate import InputError, submits
from smsc.pdu import pdus
from smsc.pdu.constants import CommandStatus, Tag
from smsc.store.memory import MemoryStore
from smsc.store.records import Account

S = CommandStatus
NOW = 1_700_000_000.0


def request(**kw: Any) -> SendRequest:
    kw.setdefault("to", ["380671234567"])
    kw.setdefault("text", "hello")
    return SendRequest.model_validate_json(json.dumps(kw))


def test_text_is_encoded_as_smpp_would_and_long_text_goes_as_message_payload() -> None:
    (_, short), = submits(request()).requests
    assert (short.data_coding, short.short_message, short.tlvs.raw(Tag.MESSAGE_PAYLOAD)) == (
        0, b"hello", None)
    made = submits(request(text="жук" * 100))
    (_, long), = made.requests
    assert made.data_coding == 8 and long.short_message == b""
    assert long.tlvs.raw(Tag.MESSAGE_PAYLOAD) == ("жук" * 100).encode("utf-16-be")
    assert submits(request(text="café", encoding="latin1")).data_coding == 3
    with pytest.raises(InputError) as bad:
        submits(request(text="жук", encoding="gsm"))
    assert bad.value.field == "text"


def test_destinations_senders_and_receipts() -> None:
    made = submits(request(to=["+380671234567", " 380501234567"], sender="Shop"))
    assert [(to, p.destination_addr, p.dest_addr_ton) for to, p in made.requests] == [
        ("+380671234567", "+380671234567", 0), (" 380501234567", "380501234567", 0)]
    assert [(p.source_addr, p.source_addr_ton) for _, p in made.requests] == [("Shop", 5)] * 2
    (_, intl), = submits(request(**{"from": "+380501112233"})).requests
    assert (intl.source_addr, intl.source_addr_ton, intl.source_addr_npi) == (
        "380501112233", 1, 1)
    (_, none), = submits(request()).requests
    assert (none.source_addr, none.registered_delivery) == ("", 0)
    (_, hooked), = submits(request(webhook_url="https://shop.example/dlr")).requests
    assert hooked.registered_delivery == 1
    (_, off), = submits(request(webhook_url="https://shop.example/dlr", receipt=False)).requests
    assert off.registered_delivery == 0


def test_schedules_and_validity() -> None:
    (_, kyiv), = submits(request(schedule="2027-03-01T09:00:00+02:00")).requests
    assert kyiv.schedule_delivery_time == "270301090000008+"
    assert kyiv.tlvs.raw(TAG_RECIPIENT_LOCAL_TIME) is None
    (_, nepal), = submits(request(schedule="2027-03-01T09:00:00+05:45")).requests
    assert nepal.schedule_delivery_time == "270301090000023+"  # 5:45 is 23 quarters
    (_, odd), = submits(request(schedule="2027-03-01T09:00:00+05:20")).requests
    assert odd.schedule_delivery_time == "270301034000000+"  # no quarter: written in UTC
    (_, local), = submits(request(schedule="2027-03-01T09:00:00")).requests
    assert local.schedule_delivery_time == "270301090000000+"
    assert local.tlvs.raw(TAG_RECIPIENT_LOCAL_TIME) == b"\x01"
    (_, valid), = submits(request(validity=90061)).requests
    assert valid.validity_period == "000001010101000R"
    with pytest.raises(InputError) as bad:
        submits(request(schedule="1999-01-01T00:00:00Z"))
    assert bad.value.field == "schedule"


@pytest.mark.parametrize("body", [
    {"to": [], "text": "x"}, {"to": ["1"] * 10_001, "text": "x"}, {"to": ["1"]},
    {"to": ["1"], "text": "x", "validity": 0}, {"to": ["1"], "text": "x", "receipt": "true"},
    {"to": ["1"], "text": "x", "extra": 1}, {"to": ["1"], "text": "x", "webhook_url": "ftp://x"},
    {"to": [1], "text": "x"},
])
def test_the_models_refuse_what_the_document_refuses(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SendRequest.model_validate_json(json.dumps(body))


def test_every_vendor_status_has_a_code_and_codes_are_in_the_document() -> None:
    for status in (S.SMSC_RNOCREDIT, S.SMSC_RSENDERNOTREG, S.SMSC_RBLACKLISTED,
                   S.SMSC_RNOROUTE, S.SMSC_RTOOMANYPARTS, S.SMSC_RINVPARTS, S.SMSC_RCOVERAGE,
                   S.SMSC_RACCOUNTDISABLED, S.ESME_RTHROTTLED, S.ESME_RINVDSTADR):
        assert status in BY_STATUS
    assert refusal(S.SMSC_RNOCREDIT).code == "no_credit" and refusal(S.SMSC_RNOCREDIT).http == 402
    assert refusal(S.ESME_RTHROTTLED).http == 429
    assert refusal(0x4FF).code == "unknown_error"
    enum = document()["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
    assert enum == all_codes() and len(set(enum)) == len(enum)


def test_api_keys_check_with_the_binds_lockout() -> None:
    store = MemoryStore()
    store.create_account(Account(system_id="acme", password_hash="x"))
    desk = ApiKeyDesk(BindDesk(store, LockPolicy(lock_after=2, unknown_id_lock_after=2)))
    made = make_key("acme", NOW)
    store.add_api_key(made.record)
    assert made.record.secret_hash not in made.token and parse_token(made.token) is not None
    verdict = desk.authenticate(made.token, "10.0.0.1", NOW)
    assert verdict.account is not None and verdict.account.system_id == "acme"
    wrong = made.token[:-4] + "AAAA"
    assert desk.authenticate(wrong, "10.0.0.2", NOW).account is None
    assert desk.authenticate(wrong, "10.0.0.2", NOW).account is None
    assert desk.authenticate(made.token, "10.0.0.2", NOW).account is None  # the pair is locked
    assert desk.authenticate(made.token, "10.0.0.3", NOW).account is not None  # not elsewhere
    for token in ("nonsense", "smsc_000000000000." + "x" * 43):
        assert desk.authenticate(token, "10.0.0.4", NOW).account is None
    assert desk.authenticate(made.token, "10.0.0.4", NOW).account is None  # address locked
    store.revoke_api_key(made.record.key_id, NOW)
    assert desk.authenticate(made.token, "10.0.0.5", NOW).account is None


def test_each_destination_s_submit_sm_is_the_one_its_fields_make() -> None:
    """The submit_sm made through the slots equals (and hashes as) one made by its dataclass,
    each with its own destination."""
    made = submits(request(to=["+380671234567", " 380671234568 "], sender="+380501234567",
                           validity=60, webhook_url="https://shop.example/dlr"))
    fields: dict[str, Any] = {
        "source_addr": "380501234567", "source_addr_ton": 1, "source_addr_npi": 1,
        "dest_addr_ton": 0, "dest_addr_npi": 1, "validity_period": "000000000100000R",
        "registered_delivery": 1, "data_coding": 0, "short_message": b"hello"}
    expected = [("+380671234567", pdus.SubmitSm(destination_addr="+380671234567", **fields)),
                (" 380671234568 ", pdus.SubmitSm(destination_addr="380671234568", **fields))]
    assert list(made.requests) == expected
    assert [hash(r) for _, r in made.requests] == [hash(r) for _, r in expected]
    with pytest.raises(AttributeError):
        made.requests[0][1].destination_addr = "1"  # type: ignore[misc]


def test_a_webhook_url_refused_names_the_field_as_before() -> None:
    with pytest.raises(ValidationError) as e:
        SendRequest.model_validate_json(json.dumps({"to": ["1"], "text": "x",
                                                    "webhook_url": "ftp://x"}))
    assert [(x["loc"], x["msg"]) for x in e.value.errors()] == [
        (("webhook_url",), "URL scheme should be 'http' or 'https'")]
    ok = SendRequest.model_validate_json(json.dumps({"to": ["1"], "text": "x",
                                                     "webhook_url": "https://a.example/d"}))
    assert str(ok.webhook_url) == "https://a.example/d"
