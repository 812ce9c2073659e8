"""Claims with a lease (``take_due`` and ``outbox_for`` with ``lease``), against every store;
across handles (several nodes) where the store is shared (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest

from smsc.pdu.constants import MessageState
from smsc.store.base import Store
from smsc.store.records import MessageChange
from tests.store.conftest import StoreMaker
from tests.store.test_store_contract import NOW, final, funded, outbox_item, part

LEASE = 30.0


def _queued(store: Store, count: int) -> None:
    funded(store, "acme", 10 * count)
    store.accept([part(i) for i in range(1, count + 1)], NOW)


def test_a_claimed_part_is_left_out_until_its_lease_ends(store: Store) -> None:
    _queued(store, 3)
    first = store.take_due(NOW, 2, lease=LEASE)
    assert [m.message_id for m in first] == [1, 2]
    assert [m.message_id for m in store.take_due(NOW + 1, 10)] == [3]  # a plain read too
    assert [m.message_id for m in store.take_due(NOW + 1, 10, lease=LEASE)] == [3]
    assert store.take_due(NOW + 2, 10, lease=LEASE) == []
    # The claimer died: after the lease every part comes back, oldest first.
    again = store.take_due(NOW + 1 + LEASE, 10, lease=LEASE)
    assert [m.message_id for m in again] == [1, 2, 3]


def test_apply_ends_the_claim(store: Store) -> None:
    _queued(store, 2)
    a, b = store.take_due(NOW, 10, lease=LEASE)
    retry = MessageChange(id=a.id, state=MessageState.ENROUTE, next_at=NOW + 5, attempts=1)
    store.apply([retry, final(b)], [], NOW + 1)
    # a is due again at NOW + 5, long before its lease would have run out; b is final.
    assert [m.id for m in store.take_due(NOW + 5, 10, lease=LEASE)] == [a.id]
    assert store.queue_depths() == {"kyivstar": 1}


def test_claimed_outbox_items_are_left_out_until_acked_released_or_expired(
        store: Store) -> None:
    items = store.add_outbox([outbox_item() for _ in range(4)])
    ids = [i.id for i in items]
    first = store.outbox_for("acme", 0, 2, NOW, lease=LEASE)
    assert [i.id for i in first] == ids[:2]
    assert [i.id for i in store.outbox_for("acme", 0, 10, NOW + 1, lease=LEASE)] == ids[2:]
    assert store.outbox_for("acme", 0, 10, NOW + 2) == []
    store.ack_outbox([ids[0]])
    store.release_outbox([ids[2]])
    assert [i.id for i in store.outbox_for("acme", 0, 10, NOW + 3)] == [ids[2]]
    after = store.outbox_for("acme", 0, 10, NOW + 1 + LEASE)
    assert [i.id for i in after] == ids[1:]
    assert store.outbox_count("acme") == 3


def test_nodes_never_claim_the_same_part(shared_maker: StoreMaker, store: Store) -> None:
    """Several handles (nodes) claim at once: each part goes to exactly one of them."""
    if shared_maker.name == "sqlite":
        pytest.skip("SQLite keeps claims in the store object (one process per file)")
    count = 60
    _queued(store, count)
    handles = [store, *(shared_maker.again(store) for _ in range(3))]
    got: list[list[int]] = [[] for _ in handles]

    def claim(n: int) -> None:
        for _ in range(count):
            batch = handles[n].take_due(NOW, 4, lease=LEASE)
            if not batch:
                return
            got[n] += [m.id for m in batch]

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(len(handles))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    every = [i for ids in got for i in ids]
    assert len(every) == len(set(every)) == count


def test_nodes_never_claim_the_same_outbox_item(shared_maker: StoreMaker,
                                                store: Store) -> None:
    if shared_maker.name == "sqlite":
        pytest.skip("SQLite keeps claims in the store object (one process per file)")
    store.add_outbox([outbox_item() for _ in range(40)])
    other = shared_maker.again(store)
    a = store.outbox_for("acme", 0, 25, NOW, lease=LEASE)
    b = other.outbox_for("acme", 0, 25, NOW, lease=LEASE)
    assert (len(a), len(b)) == (25, 15)
    assert not {i.id for i in a} & {i.id for i in b}
