"""Where outbox items go (smsc.core.hooks), without Twisted: a part's own hook
(``Intake.prepare(hook=...)``), else its account's webhook_url, else the SMPP receivers; decided
when the core makes the item, through the group commit and the queue rounds alike."""

from __future__ import annotations

import dataclasses

import pytest

from smsc.core.accounts import ensure_test_account
from smsc.core.centre import SmscCore
from smsc.core.hooks import item_hook, new_webhook_secret, webhook_url_problem
from smsc.core.ids import MessageIdFormat
from smsc.core.submit import BindContext
from smsc.pdu import pdus
from smsc.pdu.constants import Tag
from smsc.pdu.tlv import Tlvs
from smsc.store.memory import MemoryStore
from smsc.store.records import (
    Account,
    HookStyle,
    MessageFilter,
    MessageHook,
    OutboxItem,
    OutboxKind,
)
from tests.core.test_rounds import _route
from tests.operators.factories import T0, message, simulator


def _to(number: str) -> pdus.SmeAddress:
    return pdus.SmeAddress(dest_addr_ton=1, dest_addr_npi=1, destination_addr=number)


KANNEL = MessageHook(url="http://app.example/dlr?s=%d&to=%p", style=HookStyle.KANNEL)


def _core(**account: object) -> tuple[SmscCore, Account, MemoryStore]:
    store = MemoryStore()
    found, _ = ensure_test_account(store, system_id="acct", password="pw", credit=1000,
                                   currency="EUR", throughput=0, now=T0)
    if account:
        found = dataclasses.replace(found, **account)  # type: ignore[arg-type]
        store.update_account(found)
    ids = iter(range(store.reserve_ids(100), 10**6))
    core = SmscCore(store, simulator=simulator(), route=_route,
                    id_format=MessageIdFormat(hex_ids=True), take_id=lambda: next(ids))
    core.begin()
    return core, found, store


def _send(core: SmscCore, account: Account, text: bytes = b"hi",
          hook: MessageHook | None = None) -> list[OutboxItem]:
    """Submit with a receipt asked for; every outbox item the commit and a round made."""
    pdu = pdus.SubmitSm(sequence_number=1, source_addr="Shop", destination_addr="380671000001",
                        registered_delivery=1, short_message=text)
    prepared = core.intake.prepare(BindContext(account=account, throttle=None), pdu, T0,
                                   hook=hook)
    committed = core.commit(prepared.parts, T0)
    return [*committed.items, *core.due_round(T0 + 10.0).items]


def test_the_part_hook_wins_then_the_account_url_then_smpp() -> None:
    plain = Account(system_id="a", password_hash="x")
    hooked = dataclasses.replace(plain, webhook_url="https://shop.example/hook")
    own = dataclasses.replace(message(), hook_url=KANNEL.url, hook_style=int(KANNEL.style))
    assert item_hook(message(), plain) == ("", 0)
    assert item_hook(message(), hooked) == ("https://shop.example/hook", HookStyle.JSON)
    assert item_hook(own, hooked) == (KANNEL.url, HookStyle.KANNEL)
    assert item_hook(None, hooked) == ("https://shop.example/hook", HookStyle.JSON)  # an MO
    assert item_hook(None, None) == ("", 0)


def test_every_part_prepared_with_a_hook_carries_it_and_so_does_its_receipt() -> None:
    core, account, store = _core()
    items = _send(core, account, b"x" * 300, hook=KANNEL)
    parts = list(store.messages(MessageFilter(account="acct")))
    assert len(parts) == 2
    assert {(p.hook_url, p.hook_style) for p in parts} == {(KANNEL.url, HookStyle.KANNEL)}
    receipts = [i for i in items if i.kind == OutboxKind.RECEIPT]
    assert len(receipts) == 1  # one per message smsc split
    assert (receipts[0].hook_url, receipts[0].hook_style) == (KANNEL.url, HookStyle.KANNEL)
    assert store.outbox_for("acct", 0, 10, T0) == []  # not the SMPP courier's


def test_an_account_webhook_takes_receipts_final_at_acceptance() -> None:
    core, account, store = _core(webhook_url="https://shop.example/hook")
    items = _send(core, account)
    assert [(i.hook_url, i.hook_style) for i in items] == [
        ("https://shop.example/hook", HookStyle.JSON)]
    assert store.outbox_for("acct", 0, 10, T0) == []


def test_without_any_hook_receipts_go_to_the_smpp_receivers() -> None:
    core, account, store = _core()
    items = _send(core, account)
    assert len(items) == 1 and items[0].hook_style == 0 and items[0].hook_url == ""
    assert store.outbox_for("acct", 0, 10, T0) == items


def test_a_hook_of_style_none_leaves_the_parts_as_they_are() -> None:
    core, account, _ = _core()
    pdu = pdus.SubmitSm(sequence_number=1, source_addr="Shop", destination_addr="380671000001")
    prepared = core.intake.prepare(BindContext(account=account, throttle=None), pdu, T0,
                                   hook=MessageHook(url="", style=HookStyle.NONE))
    assert prepared.parts[0].hook_style == 0


@pytest.mark.parametrize(("url", "problem"), [
    ("https://shop.example/hook", None),
    ("http://127.0.0.1:8080/x?a=b", None),
    ("ftp://shop.example/", "must start with http:// or https://"),
    ("https:///path", "has no host"),
    ("http://h:99999/", "has a bad port"),
    ("http://h/a b", "has spaces or control characters"),
    ("http://h/" + "a" * 2000, "longer than 2000 characters"),
])
def test_webhook_urls_are_checked(url: str, problem: str | None) -> None:
    assert webhook_url_problem(url) == problem


def test_secrets_are_fresh_and_long() -> None:
    first, second = new_webhook_secret(), new_webhook_secret()
    assert first != second and len(first) == 64 and int(first, 16) >= 0



@pytest.mark.parametrize(("hook", "expected"), [
    (None, ("", 0, None)),
    (MessageHook(url="", style=HookStyle.NONE, reference="order-7"), ("", 0, "order-7")),
    (MessageHook(url="https://shop.example/dlr", style=HookStyle.JSON, reference="r"),
     ("https://shop.example/dlr", int(HookStyle.JSON), "r")),
    (KANNEL, (KANNEL.url, int(HookStyle.KANNEL), None)),
])
def test_every_part_of_every_submit_kind_is_made_with_its_hook_and_reference(
        hook: MessageHook | None, expected: tuple[str, int, str | None]) -> None:
    core, account, _ = _core()
    caller = BindContext(account=account, throttle=None)
    long = b"x" * 400  # three parts of 153
    submit = pdus.SubmitSm(sequence_number=1, source_addr="Shop",
                           destination_addr="380671000001", short_message=long)
    data = pdus.DataSm(sequence_number=2, source_addr="Shop", destination_addr="380671000002",
                       tlvs=Tlvs([(int(Tag.MESSAGE_PAYLOAD), long)]))
    multi = pdus.SubmitMulti(sequence_number=3, source_addr="Shop", short_message=long,
                             dest_addresses=(_to("380671000003"), _to("380671000004")))
    for request, parts in ((submit, 3), (data, 3), (multi, 6)):
        prepared = core.intake.prepare(caller, request, T0, hook=hook)
        assert len(prepared.parts) == parts
        assert {(p.hook_url, p.hook_style, p.reference) for p in prepared.parts} == {expected}


def test_a_part_holds_each_field_of_its_submit_where_the_record_names_it() -> None:
    core, account, _ = _core()
    pdu = pdus.SubmitSm(sequence_number=1, service_type="CMT", source_addr_ton=5,
                        source_addr_npi=0, source_addr="Shop", dest_addr_ton=1, dest_addr_npi=1,
                        destination_addr="380671000009", esm_class=0, protocol_id=3,
                        priority_flag=2, registered_delivery=1, data_coding=3,
                        short_message=b"hello")
    prepared = core.intake.prepare(BindContext(account=account, throttle=None), pdu, T0,
                                   hook=MessageHook(url="https://a.example/d",
                                                    style=HookStyle.JSON, reference="ref"))
    (part,) = prepared.parts
    assert dataclasses.asdict(part) | {"next_at": 0.0, "expires_at": 0.0} == {
        "message_id": prepared.message_id, "account": "acct", "credit_owner": "acct",
        "source_addr_ton": 5, "source_addr_npi": 0, "source_addr": "Shop", "dest_addr_ton": 1,
        "dest_addr_npi": 1, "destination_addr": "380671000009", "esm_class": 0,
        "protocol_id": 3, "priority_flag": 2, "data_coding": 3, "registered_delivery": 1,
        "short_message": b"hello", "tlvs": b"", "service_type": "CMT", "part_ref": 0,
        "part_total": 1, "part_index": 1, "operator": "op", "route": "r", "price": 1,
        "submitted_at": T0, "scheduled_at": None, "expires_at": 0.0, "next_at": 0.0,
        "text_snippet": "hello", "blacklisted": False, "forced_state": 0, "forced_error": 0,
        "hook_url": "https://a.example/d", "hook_style": int(HookStyle.JSON),
        "reference": "ref"}
    assert part.expires_at > T0 and part.next_at >= T0
