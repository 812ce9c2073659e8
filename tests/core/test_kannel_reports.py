"""Kannel's dlr-mask without Twisted: which reports a mask asks for, the hook that carries it,
the SMSC's answer reports (8 and 16) made from a send's answers, and the desk removing
without a call the receipts a mask does not ask for; every account's webhooks are signed."""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsc.core import dlr_url
from smsc.core.batch import BatchAnswer, BatchItem, prepare_batch
from smsc.core.smsc_reports import answer_reports
from smsc.core.submit import Answer, BindContext
from smsc.core.webhook_desk import WebhookDesk
from smsc.core.webhooks import (
    SIGNATURE_HEADER,
    call_for,
    call_of,
    failed_view,
    kannel_wanted,
)
from smsc.pdu.constants import CommandStatus, MessageState
from smsc.store.memory import MemoryStore
from smsc.store.records import Account, HookStyle, MessageHook, OutboxItem
from tests.core.test_batch_and_quote import ACCOUNT, _intake, _requests
from tests.core.test_webhooks import FMT, _mo_item, _receipt_item
from tests.operators.factories import T0

S = CommandStatus
TEMPLATE = "http://app.example/dlr?d=%d&to=%p&from=%P&id=%F&reply=%A"


@given(st.integers(0, 31))
def test_a_mask_asks_for_its_own_kinds_and_nack_with_failures(mask: int) -> None:
    for value in (1, 2, 4, 8):
        assert dlr_url.wanted(mask, value) == bool(mask & value)
    assert dlr_url.wanted(mask, 16) == bool(mask & 18)  # bearerbox: 16, or 2 (failures)


@given(st.integers(0, 31))
def test_the_registered_delivery_of_a_mask_makes_every_receipt_it_wants(mask: int) -> None:
    """Whatever the mask, each receipt kind it wants is made (then :func:`wanted` filters)."""
    registered = dlr_url.registered_delivery_for(mask)
    mode, intermediate = registered & 3, bool(registered & 0x10)
    if mask & 1:
        assert mode in (1, 3)  # DELIVRD
    if mask & 2:
        assert mode in (1, 2)  # failures
    if mask & 4:
        assert mode == 1 and intermediate  # ACCEPTD finals and ENROUTE notifications
    if not mask & 7:
        assert registered == 0


def test_a_hook_carries_its_mask_and_an_old_one_asks_for_everything() -> None:
    hook = dlr_url.kannel_hook(TEMPLATE, 3)
    assert hook.style == HookStyle.KANNEL
    assert dlr_url.split_hook(hook.url) == (3, TEMPLATE)
    assert dlr_url.split_hook(TEMPLATE) == (31, TEMPLATE)


def _kannel_receipt(mask: int, state: MessageState) -> OutboxItem:
    item = _receipt_item(forced_state=int(state), forced_error=0 if state ==
                         MessageState.DELIVERED else 11)
    return dataclasses.replace(item, hook_url=dlr_url.kannel_hook(TEMPLATE, mask).url,
                               hook_style=int(HookStyle.KANNEL))


@pytest.mark.parametrize(("mask", "state", "called"), [
    (1, MessageState.DELIVERED, True), (1, MessageState.UNDELIVERABLE, False),
    (2, MessageState.UNDELIVERABLE, True), (2, MessageState.DELIVERED, False),
    (3, MessageState.ACCEPTED, False), (4, MessageState.ACCEPTED, True),
    (3, MessageState.REJECTED, True), (8, MessageState.DELIVERED, False)])
def test_a_receipt_is_called_only_when_the_mask_asks(mask: int, state: MessageState,
                                                     called: bool) -> None:
    assert kannel_wanted(_kannel_receipt(mask, state)) == called


def test_the_call_expands_the_template_not_the_mask() -> None:
    call = call_for(_kannel_receipt(3, MessageState.DELIVERED), "", T0, format_id=FMT)
    assert call.url.startswith("http://app.example/dlr?d=1&to=380671234567&from=ShopName")
    query = parse_qs(urlsplit(call.url).query)
    assert query["id"] == [FMT(1000)]


def _answers() -> list[BatchAnswer]:
    intake, _, _ = _intake()
    batch = prepare_batch(intake, BindContext(account=ACCOUNT, throttle=None),
                          _requests("380671234567"), T0)
    prepared = batch.items[0].prepared
    assert prepared is not None
    return [BatchAnswer(item=BatchItem(to="380671234567", prepared=prepared),
                        answer=Answer(status=0, cause=0, message_id=FMT(prepared.message_id))),
            BatchAnswer(item=BatchItem(to="12", status=S.ESME_RINVDSTADR),
                        answer=Answer(status=S.ESME_RINVDSTADR, cause=S.ESME_RINVDSTADR))]


@pytest.mark.parametrize(("mask", "kinds"), [
    (31, ["ACK/", "NACK/0x0000000b/ESME_RINVDSTADR"]), (8, ["ACK/"]),
    (16, ["NACK/0x0000000b/ESME_RINVDSTADR"]), (2, ["NACK/0x0000000b/ESME_RINVDSTADR"]),
    (1, []), (0, [])])
def test_the_smsc_answers_are_reported_as_the_mask_asks(mask: int, kinds: list[str]) -> None:
    account = Account(system_id="acct", password_hash="x", receipt_ttl=600.0)
    hook = dlr_url.kannel_hook(TEMPLATE, mask)
    items = answer_reports(_answers(), hook, account, "Shop", T0)
    got = []
    for item in items:
        assert item.hook_style == HookStyle.KANNEL and item.expires_at == T0 + 600.0
        query = parse_qs(urlsplit(call_for(item, "", T0, format_id=FMT).url).query)
        got.append(query["reply"][0])
        if query["reply"][0] == "ACK/":
            assert query["d"] == ["8"] and query["to"] == ["380671234567"]
            assert query["id"] == [FMT(item.message_id or 0)]
        else:
            assert query["d"] == ["16"] and query["to"] == ["12"] and "id" not in query
    assert got == kinds
    json_hook = MessageHook(url="https://x/", style=HookStyle.JSON)
    assert answer_reports(_answers(), json_hook, account, "Shop", T0) == []


def _desk(secret: str = "s" * 64) -> tuple[WebhookDesk, MemoryStore]:
    store = MemoryStore()
    store.create_account(Account(system_id="acct", password_hash="x",
                                 webhook_url="https://shop.example/hooks/smsc",
                                 webhook_secret=secret, receipt_ttl=600.0))
    return WebhookDesk(store, format_id=FMT), store


def test_the_desk_removes_without_a_call_what_the_mask_does_not_ask() -> None:
    desk, store = _desk()
    wanted, unwanted = store.add_outbox([
        dataclasses.replace(_kannel_receipt(1, MessageState.DELIVERED), id=0),
        dataclasses.replace(_kannel_receipt(1, MessageState.UNDELIVERABLE), id=0)])
    calls = desk.claim(T0 + 10, 10)
    assert [c.item.id for c in calls] == [wanted.id]
    assert store.outbox_count() == 1  # the unwanted one is gone, not failed
    assert desk.failed() == []
    assert unwanted.id not in {c.item.id for c in calls}


def test_an_account_without_a_secret_gets_one_on_first_use() -> None:
    desk, store = _desk(secret="")
    store.add_outbox([dataclasses.replace(_mo_item(), id=0)])
    (event,) = desk.claim(T0, 10)
    secret = store.get_account("acct").webhook_secret  # type: ignore[union-attr]
    assert len(secret) == 64 and event.secret == secret
    assert dict(call_of([event], T0).headers)[SIGNATURE_HEADER]


def test_a_failed_kannel_webhook_shows_its_template() -> None:
    desk, store = _desk()
    (item,) = store.add_outbox([dataclasses.replace(
        _kannel_receipt(3, MessageState.DELIVERED), id=0)])
    store.fail_webhook(item.id, 3, "HTTP 500", T0)
    (row,) = [failed_view(f) for f in desk.failed()]
    assert (row["url"], row["style"]) == (TEMPLATE, "kannel")
