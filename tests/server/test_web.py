"""The HTTP API's resource on the real service over a fake clock (the adapter rig): a send is
answered only after its group commit, in the same commit as SMPP's; a store that fails gives
503 problems (never a success) and service comes back with it."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path
from typing import Any

from twisted.internet.address import IPv4Address
from twisted.web.test.requesthelper import DummyRequest

from smsc.core.apikeys import make_key
from smsc.server.metrics import exposition
from smsc.server.web.site import ApiResource, web_metrics
from smsc.store.memory import MemoryStore
from smsc.store.records import MessageFilter
from smsc.store.sqlite import SqliteStore
from tests.server.harness import COMMIT_DELAY, DESTINATION, START, Rig, add_account
from tests.server.test_store_faults import FullDisk


def call(rig: Rig, method: str, path: str, key: str | None, body: Any = None,
         headers: dict[str, str] | None = None) -> Any:
    request: Any = DummyRequest([s.encode() for s in path.lstrip("/").split("/")])
    request.method = method.encode()
    request.path = path.encode()
    request.uri = path.encode()
    request.client = IPv4Address("TCP", "127.0.0.1", 40000)
    if key is not None:
        request.requestHeaders.setRawHeaders(b"authorization", [f"Bearer {key}".encode()])
    for name, value in (headers or {}).items():
        request.requestHeaders.setRawHeaders(name.encode(), [value.encode()])
    if body is not None:
        request.content = io.BytesIO(json.dumps(body).encode())
        request.requestHeaders.setRawHeaders(b"content-type", [b"application/json"])
    ApiResource(rig.service.web).render(request)
    return request


def answer(request: Any) -> tuple[int, dict[str, Any]]:
    assert request.finished, "not answered"
    return request.responseCode or 200, json.loads(b"".join(request.written))


def keyed(rig: Rig) -> str:
    made = make_key("acme", START)
    rig.store.add_api_key(made.record)
    return made.token


def test_a_send_is_answered_only_after_its_commit() -> None:
    rig = Rig(MemoryStore())
    add_account(rig.store, sender_ids=("Shop",))
    key = keyed(rig)
    commits = rig.service.committer.commits
    request = call(rig, "POST", "/v1/messages", key,
                   {"to": [DESTINATION], "text": "hi", "from": "Shop"})
    assert not request.finished  # waiting for the group commit
    assert list(rig.store.messages(MessageFilter())) == []
    rig.advance(COMMIT_DELAY)
    status, body = answer(request)
    assert status == 200 and body["accepted"] == 1
    assert rig.service.committer.commits == commits + 1
    (stored,) = rig.store.messages(MessageFilter())
    assert rig.service.core.id_format.format(stored.message_id) == body["messages"][0]["id"]
    call(rig, "POST", "/v1/messages", key, {"to": ["12"], "text": "hi", "from": "Shop"})
    text = exposition(web_metrics(rig.service.web))
    assert 'smsc_http_answers_total{code="200"} 1' in text
    assert 'smsc_http_answers_total{code="422"} 1' in text
    assert "smsc_http_messages_total 1" in text
    assert 'smsc_http_messages_refused_total{status="ESME_RINVDSTADR"} 1' in text


def test_a_failing_store_gives_503_problems_and_service_comes_back(tmp_path: Path) -> None:
    disk = FullDisk(SqliteStore(tmp_path / "smsc.sqlite"))
    rig = Rig(disk)
    add_account(rig.store, sender_ids=("Shop",))
    key = keyed(rig)
    body = {"to": [DESTINATION], "text": "hi", "from": "Shop"}
    disk.full = True
    request = call(rig, "POST", "/v1/messages", key, body)
    rig.advance(COMMIT_DELAY)
    status, problem = answer(request)
    assert status == 503 and problem["code"] == "system_error"
    assert request.responseHeaders.getRawHeaders(b"retry-after") == [b"1"]
    assert list(disk.inner.messages(MessageFilter())) == []
    disk.full = False
    request = call(rig, "POST", "/v1/messages", key, body)
    rig.advance(COMMIT_DELAY)
    assert answer(request)[0] == 200


class BrokenReads(MemoryStore):
    broken = False

    def api_key(self, key_id: str) -> Any:
        if self.broken:
            raise sqlite3.OperationalError("database is locked")
        return super().api_key(key_id)


def test_a_store_that_cannot_check_keys_is_a_503_not_a_401() -> None:
    store = BrokenReads()
    rig = Rig(store)
    add_account(store)
    key = keyed(rig)
    store.broken = True
    status, problem = answer(call(rig, "GET", "/v1/balance", key))
    assert status == 503 and problem["code"] == "store_unavailable"
    store.broken = False
    status, balance = answer(call(rig, "GET", "/v1/balance", key))
    assert status == 200 and balance["available"] == 100_000


def test_a_verified_key_skips_the_store_until_a_refusal_or_a_change() -> None:
    rig = Rig(MemoryStore())
    add_account(rig.store, sender_ids=("Shop",))
    key = keyed(rig)
    looked_up: list[str] = []
    api_key = rig.store.api_key

    def counted(key_id: str) -> Any:
        looked_up.append(key_id)
        return api_key(key_id)

    rig.store.api_key = counted  # type: ignore[method-assign]
    for _ in range(3):
        assert answer(call(rig, "GET", "/v1/balance", key))[0] == 200
    assert len(looked_up) == 1  # the next two took the key verified a moment ago
    wrong = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    assert answer(call(rig, "GET", "/v1/balance", wrong))[0] == 401
    assert answer(call(rig, "GET", "/v1/balance", key))[0] == 200
    assert len(looked_up) == 3  # the refusal emptied what was verified: asked again
    key_id = key.removeprefix("smsc_").split(".")[0]
    assert rig.store.revoke_api_key(key_id, START)
    rig.advance(1.0)  # the upkeep sees the change counter move
    assert answer(call(rig, "GET", "/v1/balance", key))[0] == 401


class BrokenOptOuts(MemoryStore):
    broken = False

    def opted_out(self, account: str, numbers: Any) -> set[str]:
        if self.broken:
            raise sqlite3.OperationalError("database is locked")
        return super().opted_out(account, numbers)


def test_a_send_whose_opt_outs_cannot_be_read_is_a_503_that_holds_no_queue_room() -> None:
    store = BrokenOptOuts()
    rig = Rig(store)
    add_account(store, sender_ids=("Shop",))
    key = keyed(rig)
    depths = rig.service.core.intake.queue_depths
    before = dict(depths.items())
    store.broken = True
    request = call(rig, "POST", "/v1/messages", key,
                   {"to": [DESTINATION], "text": "hi", "from": "Shop"})
    rig.advance(COMMIT_DELAY)
    status, problem = answer(request)
    assert status == 503 and problem["code"] == "store_unavailable"
    assert {k: v for k, v in depths.items() if v} == {k: v for k, v in before.items() if v}
    assert list(store.messages(MessageFilter())) == []
    store.broken = False
    request = call(rig, "POST", "/v1/messages", key,
                   {"to": [DESTINATION], "text": "hi", "from": "Shop"})
    rig.advance(COMMIT_DELAY)
    assert answer(request)[0] == 200
    assert len(list(store.messages(MessageFilter()))) == 1
