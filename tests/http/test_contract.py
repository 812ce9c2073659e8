"""schemathesis against a live server: every operation of the OpenAPI document, with generated
requests (valid and not), answers no 5xx and only what the document allows (status codes,
content types, bodies, headers). The document is the one the server serves
(``/v1/openapi.json``, checked equal to :func:`smsc.http.openapi.document`)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks as st_checks
from schemathesis.specs.openapi import checks as openapi_checks

from smsc.http.openapi import document
from smsc.store.records import HookStyle, OutboxItem, OutboxKind
from smsc.store.sqlite import SqliteStore
from tests.http.conftest import ApiServer, start_api_server

schema = schemathesis.openapi.from_dict(document())
CHECKS = [st_checks.not_a_server_error, openapi_checks.status_code_conformance,
          openapi_checks.content_type_conformance,
          openapi_checks.response_schema_conformance,
          openapi_checks.response_headers_conformance]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApiServer, str]]:
    server = start_api_server(tmp_path_factory.mktemp("contract"))
    system_id, key = server.account(credit="100000")
    _failed_webhook(server, system_id)  # so that its listing has rows to check
    # a list (id 1) with contacts, a campaign (id 1) on it and an opt-out, so that generated
    # requests for id 1 (a boundary hypothesis tries first) reach the endpoints' real work
    made = server.request("POST", "/v1/lists", key=key, body={"name": "seed", "country": "UA"})
    assert made.status == 200 and made.json["id"] == 1, made.body
    server.request("POST", "/v1/lists/1/contacts", key=key,
                   raw=b"number,name\n0671234567,Ann\n380501234567,\n",
                   headers={"Content-Type": "text/csv"})
    campaign = server.request("POST", "/v1/campaigns", key=key, body={
        "name": "seed", "lists": [1], "text": "Hi {name|there}", "from": "Shop"})
    assert campaign.status == 200 and campaign.json["id"] == 1, campaign.body
    server.request("POST", "/v1/opt-outs", key=key, body={"numbers": ["380501234567"]})
    yield server, key
    server.stop()


def _failed_webhook(server: ApiServer, account: str) -> None:
    store = SqliteStore(server.db)
    try:
        now = time.time()
        (item,) = store.add_outbox([OutboxItem(
            account=account, kind=OutboxKind.RECEIPT, pdu=b"\x00", created_at=now,
            expires_at=now + 60, message_id=1, hook_url="http://127.0.0.1:9/dlr?d=%d",
            hook_style=int(HookStyle.KANNEL))])
        store.fail_webhook(item.id, 3, "HTTP 503: busy", now)
    finally:
        store.close()


def test_the_served_document_is_the_contract(live: tuple[ApiServer, str]) -> None:
    server, _ = live
    served = server.request("GET", "/v1/openapi.json")
    assert served.status == 200
    assert served.json == json.loads(json.dumps(document()))


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_the_contract(case: Any,
                                            live: tuple[ApiServer, str]) -> None:
    server, key = live
    case.call_and_validate(base_url=server.url, headers={"Authorization": f"Bearer {key}"},
                           checks=CHECKS, timeout=15)


