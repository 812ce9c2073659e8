"""The Store contract for the HTTP API (smsc.store.api_base.ApiStore), against every
implementation (see conftest.py): API keys, Idempotency-Key answers, pages of an account's
messages."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from smsc.store.base import Store, StoreError, UnknownAccount
from smsc.store.http_records import ApiKey
from smsc.store.records import Bucket
from tests.store.test_store_contract import NOW, account, funded, part, parts

Entry = tuple[int, str, list[int]]


def key(key_id: str = "k1", owner: str = "acme", at: float = NOW) -> ApiKey:
    return ApiKey(key_id=key_id, account=owner, secret_hash="h" + key_id, created_at=at,
                  note="shop")


def test_api_keys_round_trip_list_revoke_and_touch(store: Store) -> None:
    funded(store)
    store.create_account(account("other"))
    store.add_api_key(key("k2", at=NOW + 1))
    store.add_api_key(key("k1"))
    store.add_api_key(key("k3", owner="other"))
    assert store.api_key("k1") == key("k1")
    assert store.api_key("nope") is None
    assert [k.key_id for k in store.api_keys("acme")] == ["k1", "k2"]
    with pytest.raises(StoreError):
        store.add_api_key(key("k1", owner="other"))
    with pytest.raises(UnknownAccount):
        store.add_api_key(key("k9", owner="ghost"))
    store.touch_api_key("k1", NOW + 5)
    store.touch_api_key("nope", NOW + 5)
    before = store.change_counter()
    assert store.revoke_api_key("k1", NOW + 9) is True
    revoked = store.change_counter()
    assert revoked > before  # a running server forgets the keys it verified lately
    assert store.revoke_api_key("k1", NOW + 10) is False
    assert store.revoke_api_key("nope", NOW) is False
    found = store.api_key("k1")
    assert found is not None and found.revoked and found.revoked_at == NOW + 9
    assert found.last_used_at == NOW + 5
    assert [k.key_id for k in store.api_keys("acme")] == ["k1", "k2"]  # revoked still listed


def test_deleting_an_account_deletes_its_keys(store: Store) -> None:
    funded(store)
    store.add_api_key(key("k1"))
    store.delete_account("acme", now=NOW)
    assert store.api_key("k1") is None
    funded(store)
    assert store.api_keys("acme") == []


def test_an_idempotency_key_is_claimed_once_then_answers(store: Store) -> None:
    claim = store.claim_idempotency("acme", "order-1", "fp", NOW, NOW + 60, NOW + 3600)
    assert claim is None  # ours
    pending = store.claim_idempotency("acme", "order-1", "fp", NOW + 1, NOW + 61, NOW + 3601)
    assert pending is not None and pending.pending and pending.fingerprint == "fp"
    assert store.claim_idempotency("other", "order-1", "fp", NOW, NOW + 60, NOW + 3600) is None
    store.finish_idempotency("acme", "order-1", 200, "application/json", b'{"a":1}')
    kept = store.claim_idempotency("acme", "order-1", "fp2", NOW + 2, NOW + 62, NOW + 3602)
    assert kept is not None and not kept.pending
    assert (kept.status, kept.content_type, kept.body) == (200, "application/json", b'{"a":1}')
    assert kept.fingerprint == "fp" and kept.expires_at == NOW + 3600
    store.release_idempotency("acme", "order-1")  # a finished answer stays
    assert store.claim_idempotency("acme", "order-1", "fp", NOW + 3, NOW + 63,
                                   NOW + 3603) == kept
    # expired: claimed afresh
    assert store.claim_idempotency("acme", "order-1", "fp3", NOW + 3600, NOW + 3660,
                                   NOW + 7200) is None


def test_a_claim_whose_lease_ran_out_is_taken_over_and_a_released_one_is_free(
        store: Store) -> None:
    assert store.claim_idempotency("acme", "k", "fp", NOW, NOW + 60, NOW + 3600) is None
    assert store.claim_idempotency("acme", "k", "fp", NOW + 60, NOW + 120, NOW + 3660) is None
    store.release_idempotency("acme", "k")
    assert store.claim_idempotency("acme", "k", "fp", NOW + 61, NOW + 121, NOW + 3661) is None


def test_purge_forgets_the_expired_then_the_oldest(store: Store) -> None:
    for i in range(5):
        store.claim_idempotency("acme", f"k{i}", "fp", NOW + i, NOW + 60, NOW + 100 + i)
    assert store.purge_idempotency(NOW + 101, 10) == 2  # k0, k1 expired
    assert store.purge_idempotency(NOW + 101, 2) == 1  # k2, the oldest left
    assert store.claim_idempotency("acme", "k3", "fp", NOW + 5, NOW + 60, NOW + 200) is not None
    assert store.claim_idempotency("acme", "k2", "fp", NOW + 5, NOW + 60, NOW + 200) is None


def test_message_pages_walk_an_account_s_messages_newest_first(store: Store) -> None:
    funded(store, bought=10_000)
    store.create_account(account("other"))
    store.credit("other", 10_000, Bucket.BOUGHT, NOW)
    store.accept([part(1), *parts(2, 2), part(3, account="other"), part(4, dest="380671112233"),
                  part(5, at=NOW + 10)], NOW)
    page = store.message_page("acme", before=None, limit=2, scan=1000)
    assert [e[0].message_id for e in page.messages] == [5, 4]
    assert page.next_before == 4
    page = store.message_page("acme", before=4, limit=2, scan=1000)
    assert [[p.part_index for p in e] for e in page.messages] == [[1, 2], [1]]
    assert [e[0].message_id for e in page.messages] == [2, 1]
    assert page.next_before is None  # nothing older
    last = store.message_page("acme", before=1, limit=2, scan=1000)
    assert last.messages == () and last.next_before is None
    only = store.message_page("acme", before=None, limit=10, scan=1000,
                              destination="380671112233")
    assert [e[0].message_id for e in only.messages] == [4] and only.next_before is None
    timed = store.message_page("acme", before=None, limit=10, scan=1000, since=NOW + 5)
    assert [e[0].message_id for e in timed.messages] == [5]
    early = store.message_page("acme", before=None, limit=10, scan=1000, until=NOW + 5)
    assert [e[0].message_id for e in early.messages] == [4, 2, 1]


def test_a_message_s_reference_round_trips_and_filters_a_page(store: Store) -> None:
    """The customer's reference is stored with every part (None when not given) and read back
    by ``get_messages`` and ``message_page``, which can match it exactly."""
    funded(store, bought=10_000)
    ref = "order-42 \u00e9t\u00e9"
    store.accept([replace(part(1), reference=ref),
                  *(replace(p, reference=ref) for p in parts(2, 2)),
                  replace(part(3), reference="other"), part(4)], NOW)
    assert [p.reference for p in store.get_messages(2)] == [ref, ref]
    assert store.get_messages(4)[0].reference is None
    found = store.message_page("acme", before=None, limit=10, scan=1000, reference=ref)
    assert [e[0].message_id for e in found.messages] == [2, 1]
    assert all(p.reference == ref for e in found.messages for p in e)
    none = store.message_page("acme", before=None, limit=10, scan=1000, reference="order-4")
    assert none.messages == ()


def walk(store: Store, *, limit: int, scan: int, **filters: Any) -> tuple[list[Entry], int]:
    """Every entry of ``acme``'s pages from the newest, following the cursor, as (message id,
    destination, part indexes), and how many pages it took (at most 100)."""
    seen: list[Entry] = []
    before: int | None = None
    for pages in range(1, 101):
        page = store.message_page("acme", before=before, limit=limit, scan=scan, **filters)
        seen += [(e[0].message_id, e[0].destination_addr, [p.part_index for p in e])
                 for e in page.messages]
        if page.next_before is None:
            return seen, pages
        assert before is None or page.next_before < before  # the cursor always moves on
        before = page.next_before
    raise AssertionError("the pages never ended")


def test_a_page_finds_an_account_s_messages_among_many_of_another(store: Store) -> None:
    """Only the account's own parts are read: 12,000 newer messages of another account cost
    a page nothing, with or without filters, and the page says nothing older is left."""
    funded(store, bought=100)
    store.create_account(account("bulk"))
    store.credit("bulk", 200_000, Bucket.BOUGHT, NOW)
    store.accept([part(1), *parts(2, 2, dest="380671112233"),
                  replace(part(3), reference="r-3")], NOW)
    for first in range(4, 12_004, 2_000):
        store.accept([part(i, account="bulk", dest="380671112233")
                      for i in range(first, first + 2_000)], NOW)
    page = store.message_page("acme", before=None, limit=10, scan=5_000)
    assert [e[0].message_id for e in page.messages] == [3, 2, 1]
    assert page.next_before is None
    to = store.message_page("acme", before=None, limit=10, scan=5_000,
                            destination="380671112233")
    assert [[p.part_index for p in e] for e in to.messages] == [[1, 2]]
    assert to.messages[0][0].message_id == 2 and to.next_before is None
    ref = store.message_page("acme", before=None, limit=10, scan=5_000, reference="r-3")
    assert [e[0].message_id for e in ref.messages] == [3] and ref.next_before is None
    assert store.message_page("bulk", before=12_003, limit=2, scan=5_000).next_before == 12_001


def test_pages_with_filters_follow_the_cursor_to_every_match_once(store: Store) -> None:
    """Destination, time and reference filters across pages: short pages (a walk of at most
    ``scan`` parts) are followed by the cursor, every match comes once, newest first, each
    with all its parts and a submit_multi's destinations as entries of one message id."""
    funded(store, bought=100_000)
    store.create_account(account("bulk"))
    store.credit("bulk", 100_000, Bucket.BOUGHT, NOW)
    a, b = "380501111111", "380502222222"
    multi_ids = (7, 14)
    batch = []
    for m in range(1, 41):
        if m % 4 == 0:
            batch.append(part(m, account="bulk", dest=a, at=NOW + m))
        elif m % 5 == 0:  # a long message with a reference
            batch += [replace(p, reference="r") for p in parts(m, 3, dest=a, at=NOW + m)]
        elif m in multi_ids:  # a submit_multi to both
            batch += [part(m, dest=a, at=NOW + m), part(m, dest=b, at=NOW + m)]
        else:
            batch.append(part(m, dest=b if m % 3 == 0 else a, at=NOW + m))
    store.accept(batch, NOW)
    mine = [m for m in range(40, 0, -1) if m % 4]
    everything, _ = walk(store, limit=3, scan=1_000)
    assert [e[0] for e in everything] == [m for m in mine
                                          for _ in range(2 if m in multi_ids else 1)]
    assert all(len(e[2]) == (3 if e[0] % 5 == 0 else 1) for e in everything)
    to_a = [m for m in mine if m % 5 == 0 or m in multi_ids or m % 3]
    for scan in (1, 3, 1_000):
        found, pages = walk(store, limit=2, scan=scan, destination=a)
        assert found == [(m, a, [1, 2, 3] if m % 5 == 0 else [1]) for m in to_a]
        assert pages >= len(to_a) // 2
        timed, _ = walk(store, limit=2, scan=scan, destination=a, since=NOW + 10,
                        until=NOW + 30)
        assert [e[0] for e in timed] == [m for m in to_a if 10 <= m < 30]
        refs, _ = walk(store, limit=1, scan=scan, reference="r", until=NOW + 30)
        assert [e[0] for e in refs] == [25, 15, 10, 5]
    short = store.message_page("acme", before=None, limit=5, scan=3, destination=b)
    assert [e[0].message_id for e in short.messages] == [39]  # 39, 38, 37 read: 39 is to b
    assert short.next_before == 37
    multi = store.message_page("acme", before=15, limit=1, scan=1_000)
    assert [e[0].destination_addr for e in multi.messages] == [a, b]  # both, past the limit
    assert multi.next_before == 14
