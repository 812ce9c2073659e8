"""smsc.core.webhook_desk without Twisted, on a memory store: claims made into signed calls,
verdicts written back, failed webhooks listed and replayed."""

from __future__ import annotations

import dataclasses
import json

from smsc.core.webhook_desk import WebhookDesk
from smsc.core.webhooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Verdict,
    WebhookPolicy,
    call_of,
    signature_matches,
)
from smsc.store.memory import MemoryStore
from smsc.store.records import Account, HookStyle, OutboxItem
from tests.core.test_webhooks import FMT, SECRET, _mo_item, _receipt_item
from tests.operators.factories import T0

POLICY = WebhookPolicy(timeout=2.0)


def _desk(**account: object) -> tuple[WebhookDesk, MemoryStore]:
    store = MemoryStore()
    store.create_account(Account(system_id="acct", password_hash="x",
                                 webhook_url="https://shop.example/hooks/smsc",
                                 webhook_secret=SECRET, receipt_ttl=600.0,
                                 **account))  # type: ignore[arg-type]
    return WebhookDesk(store, policy=POLICY, format_id=FMT), store


def _add(store: MemoryStore, *items: OutboxItem) -> list[OutboxItem]:
    return store.add_outbox([dataclasses.replace(i, id=0) for i in items])


def test_claims_become_events_signed_with_the_account_secret() -> None:
    desk, store = _desk()
    receipt, mo = _add(store, _receipt_item(), _mo_item())
    events = desk.claim(T0 + 10, 10)
    assert [e.item.id for e in events] == [receipt.id, mo.id]
    assert {(e.url, e.secret) for e in events} == {("https://shop.example/hooks/smsc", SECRET)}
    call = call_of(events, T0 + 10)
    headers = dict(call.headers)
    assert signature_matches(SECRET, headers[TIMESTAMP_HEADER], call.body,
                             headers[SIGNATURE_HEADER])
    assert [e["id"] for e in json.loads(call.body)["events"]] == [
        f"evt-{receipt.id}", f"evt-{mo.id}"]
    assert desk.claim(T0 + 10, 10) == []  # leased
    assert events[0].item.not_before == T0 + 10 + POLICY.lease


def test_verdicts_are_written_back() -> None:
    desk, store = _desk()
    acked, retried, failed = _add(store, _receipt_item(), _receipt_item(), _receipt_item())
    desk.claim(T0, 10)
    desk.record([(acked, Verdict("ack", 1, "")),
                 (retried, Verdict("retry", 1, "HTTP 500", T0 + 5)),
                 (failed, Verdict("fail", 4, "timeout"))], T0 + 1)
    assert store.outbox_count() == 1
    (again,) = desk.claim(T0 + 5, 10)
    assert again.item.id == retried.id and again.item.attempts == 1
    (gone,) = desk.failed()
    assert (gone.item.id, gone.attempts, gone.last_error) == (failed.id, 4, "timeout")


def test_an_item_whose_account_is_gone_fails_at_once() -> None:
    desk, store = _desk()
    store.create_account(Account(system_id="gone", password_hash="x"))
    (item,) = _add(store, dataclasses.replace(_receipt_item(), account="gone"))
    store.delete_account("gone")
    assert desk.claim(T0, 10) == []
    assert [(f.item.id, f.last_error) for f in desk.failed()] == [(item.id, "account removed")]


def test_a_replay_takes_the_account_url_as_it_is_now_and_a_fresh_ttl() -> None:
    desk, store = _desk()
    json_item, kannel = _add(store, _receipt_item(), dataclasses.replace(
        _receipt_item(), hook_url="http://app.example/dlr?d=%d",
        hook_style=int(HookStyle.KANNEL)))
    for item in (json_item, kannel):
        store.fail_webhook(item.id, 3, "HTTP 404", T0)
    found = store.get_account("acct")
    assert found is not None
    store.update_account(dataclasses.replace(found, webhook_url="https://fixed.example/h"))
    assert [i.id for i in desk.replay([kannel.id, 999], T0 + 50)] == [kannel.id]
    (back,) = desk.replay(None, T0 + 60, account="acct")
    assert (back.id, back.hook_url, back.expires_at) == (json_item.id, "https://fixed.example/h",
                                                         T0 + 60 + 600.0)
    urls = {c.item.id: c.url for c in desk.claim(T0 + 60, 10)}
    assert urls == {json_item.id: "https://fixed.example/h",
                    kannel.id: "http://app.example/dlr?d=1"}
    assert desk.failed() == []


def test_a_changed_secret_signs_the_next_claim() -> None:
    """Accounts are kept between claims until the store says accounts changed: a secret
    rotated, an account removed, each seen by the next claim."""
    desk, store = _desk()
    _add(store, _receipt_item())
    assert [e.secret for e in desk.claim(T0, 10)] == [SECRET]
    account = store.get_account("acct")
    assert account is not None
    store.update_account(dataclasses.replace(account, webhook_secret="new" * 16))
    _add(store, _receipt_item())
    assert [e.secret for e in desk.claim(T0, 10)] == ["new" * 16]
    store.delete_account("acct", now=T0)
    (gone,) = _add(store, _receipt_item())
    assert desk.claim(T0, 10) == []
    assert [f.item.id for f in desk.failed()] == [gone.id]
