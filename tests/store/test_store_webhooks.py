"""The Store contract for receipts and MO by webhook, against every implementation (see
conftest.py): the hook a part and an outbox item carry, which reader takes which items, and the
webhook courier's claims, retries, failed list and replays."""

from __future__ import annotations

import dataclasses

from smsc.store.base import Store
from smsc.store.records import DAY, HookStyle
from tests.store.test_store_contract import NOW, funded, outbox_item, part

HOOK = "http://app.example/dlr?id=%I&s=%d"
JSON_URL = "https://shop.example/hook"


def test_a_part_keeps_its_hook(store: Store) -> None:
    funded(store, bought=100)
    hooked = dataclasses.replace(part(1), hook_url=HOOK, hook_style=int(HookStyle.KANNEL))
    store.accept([hooked, part(2)], NOW)
    (first,) = store.get_messages(1)
    (second,) = store.get_messages(2)
    assert (first.hook_url, first.hook_style) == (HOOK, HookStyle.KANNEL)
    assert (second.hook_url, second.hook_style) == ("", 0)


def test_an_account_keeps_its_webhook_settings(store: Store) -> None:
    funded(store, webhook_url=JSON_URL, webhook_secret="k" * 64)
    found = store.get_account("acme")
    assert found is not None
    assert (found.webhook_url, found.webhook_secret) == (JSON_URL, "k" * 64)


def test_the_smpp_reader_never_sees_hooked_items(store: Store) -> None:
    funded(store)
    plain, hooked, other = store.add_outbox([
        outbox_item(),
        outbox_item(hook_url=JSON_URL, hook_style=int(HookStyle.JSON)),
        outbox_item(hook_url=HOOK, hook_style=int(HookStyle.KANNEL)),
    ])
    assert (hooked.hook_url, hooked.hook_style) == (JSON_URL, HookStyle.JSON)
    assert store.outbox_for("acme", 0, 10, NOW) == [plain]
    assert store.outbox_count("acme") == 3
    assert other.id > hooked.id > plain.id


def test_hooked_items_come_back_from_apply_with_their_hook(store: Store) -> None:
    funded(store)
    (item,) = store.apply([], [outbox_item(hook_url=JSON_URL, hook_style=1,
                                           expires_at=NOW + DAY)], NOW)
    assert item.id and item.hook_url == JSON_URL and item.hook_style == 1
