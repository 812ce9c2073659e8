"""The Store contract for several nodes on one database (smsc.store.cluster_base), against
every implementation: heartbeats and dead nodes, bind registrations counted across nodes,
throughput shares taken from a bucket in the store, outbox leases held by one node at a time.
The memory and SQLite stores keep these in the process (one node); the races between handles
run only where a second handle shares them (PostgreSQL)."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsc.store.base import Store
from smsc.store.cluster_base import BucketRow, grant
from tests.store.conftest import StoreMaker
from tests.store.test_store_contract import funded, outbox_item, part

NOW = 1_700_000_000.0
LEASE = 10.0


def test_a_node_that_started_is_listed_and_beats(store: Store) -> None:
    store.node_started("a", NOW, "tcp:2775")
    store.node_heartbeat("a", NOW + 1)
    store.node_heartbeat("b", NOW + 2)  # no start seen: its row is written anyway
    nodes = {n.node: n for n in store.nodes()}
    assert sorted(nodes) == ["a", "b"]
    assert (nodes["a"].started_at, nodes["a"].seen_at, nodes["a"].about) == (NOW, NOW + 1,
                                                                            "tcp:2775")
    assert nodes["b"].seen_at == NOW + 2
    assert nodes["a"].live(NOW + 5, LEASE) and not nodes["a"].live(NOW + 11, LEASE)


def test_max_binds_is_counted_over_every_live_node(store: Store) -> None:
    store.node_started("a", NOW)
    store.node_started("b", NOW)
    assert store.register_bind("a", 1, "acme", 3, NOW, LEASE) == 0
    assert store.register_bind("b", 1, "acme", 3, NOW, LEASE) == 1
    assert store.register_bind("b", 2, "other", 3, NOW, LEASE) == 0
    assert store.register_bind("a", 2, "acme", 3, NOW, LEASE) == 2
    assert store.register_bind("b", 3, "acme", 3, NOW, LEASE) == 3  # refused: not registered
    assert store.bind_counts(NOW, LEASE) == {"acme": 3, "other": 1}
    store.unregister_bind("b", 1)
    store.unregister_bind("b", 99)  # never registered: nothing
    assert store.register_bind("b", 4, "acme", 3, NOW, LEASE) == 2
    assert store.bind_counts(NOW, LEASE) == {"acme": 3, "other": 1}


def test_a_dead_nodes_binds_stop_counting_and_are_swept(store: Store) -> None:
    store.node_started("a", NOW)
    store.node_started("b", NOW)
    store.register_bind("a", 1, "acme", 2, NOW, LEASE)
    store.register_bind("b", 1, "acme", 2, NOW, LEASE)
    store.node_heartbeat("b", NOW + 8)
    later = NOW + 12  # a's last heartbeat is 12 s old: dead; b's 4 s: live
    assert store.bind_counts(later, LEASE) == {"acme": 1}
    assert store.register_bind("b", 2, "acme", 2, later, LEASE) == 1
    assert store.expire_nodes(later, LEASE) == ["a"]
    assert [n.node for n in store.nodes()] == ["b"]
    assert store.bind_counts(later, LEASE) == {"acme": 2}


def test_a_node_starting_again_forgets_its_previous_run(store: Store) -> None:
    store.node_started("a", NOW)
    store.register_bind("a", 1, "acme", 5, NOW, LEASE)
    assert store.lease_outboxes("a", ["acme"], NOW, LEASE) == ["acme"]
    store.node_started("a", NOW + 3)  # kill -9 and a restart under the same id
    assert store.bind_counts(NOW + 3, LEASE) == {}
    assert store.outbox_leases(NOW + 3) == {}
    store.register_bind("a", 1, "acme", 5, NOW + 3, LEASE)
    store.node_stopped("a")
    assert store.nodes() == [] and store.bind_counts(NOW + 3, LEASE) == {}


def test_tokens_come_from_one_bucket_filling_at_its_rate(store: Store) -> None:
    assert store.take_tokens("account:acme", 10.0, 20.0, 15, NOW) == 15  # starts full
    assert store.take_tokens("account:acme", 10.0, 20.0, 15, NOW) == 5
    assert store.take_tokens("account:acme", 10.0, 20.0, 15, NOW) == 0
    assert store.take_tokens("account:acme", 10.0, 20.0, 15, NOW + 0.5) == 5
    assert store.take_tokens("account:acme", 10.0, 20.0, 15, NOW + 0.4) == 0  # time went back
    assert store.take_tokens("account:other", 10.0, 20.0, 3, NOW) == 3  # a bucket per key
    assert store.take_tokens("account:acme", 10.0, 20.0, 50, NOW + 100) == 20  # at most burst


def test_an_outbox_lease_is_one_nodes_until_it_runs_out(store: Store) -> None:
    assert store.lease_outboxes("a", ["acme", "shop"], NOW, LEASE) == ["acme", "shop"]
    assert store.lease_outboxes("b", ["shop", "acme"], NOW + 1, LEASE) == []
    assert store.lease_outboxes("a", ["acme"], NOW + 5, LEASE) == ["acme"]  # renewed to +15
    assert store.outbox_leases(NOW + 12) == {"acme": "a"}  # shop's ran out at NOW + 10
    assert store.lease_outboxes("b", ["acme", "shop"], NOW + 12, LEASE) == ["shop"]
    store.release_outboxes("b", ["acme"])  # not b's: nothing
    store.release_outboxes("a", ["acme"])
    assert store.lease_outboxes("b", ["acme"], NOW + 12, LEASE) == ["acme"]
    assert store.outbox_leases(NOW + 12) == {"acme": "b", "shop": "b"}


def test_a_dead_nodes_leases_go_with_it(store: Store) -> None:
    store.node_started("a", NOW)
    store.lease_outboxes("a", ["acme"], NOW, 60.0)
    assert store.expire_nodes(NOW + 11, LEASE) == ["a"]
    assert store.lease_outboxes("b", ["acme"], NOW + 11, LEASE) == ["acme"]


@given(rate=st.floats(0.5, 1000), burst=st.floats(0, 2000),
       steps=st.lists(st.tuples(st.floats(0, 3), st.integers(0, 500)), max_size=30))
def test_grant_never_gives_more_than_the_bucket_made(rate: float, burst: float,
                                                     steps: list[tuple[float, int]]) -> None:
    row: BucketRow | None = None
    now, total, elapsed = NOW, 0, 0.0
    depth = burst if burst > 0 else max(1.0, rate)
    for gap, want in steps:
        now += gap
        elapsed += gap
        got, row = grant(row, rate, burst, want, now)
        assert 0 <= got <= want
        assert 0 <= row.tokens <= depth + 1e-6
        total += got
        assert total <= depth + elapsed * rate + 1e-6


# --- several handles on one database (PostgreSQL) ------------------------------------------------
def _shared(maker: StoreMaker, store: Store) -> None:
    if not store.shared_by_nodes:
        pytest.skip(f"a {maker.name} store is one node's: its cluster state is in the process")


def test_nodes_racing_for_the_last_binds_never_exceed_max_binds(maker: StoreMaker,
                                                                 store: Store) -> None:
    _shared(maker, store)
    handles = [store] + [maker.again(store) for _ in range(3)]
    admitted: list[int] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        for bind in range(10):
            if handles[n].register_bind(f"n{n}", bind, "acme", 7, NOW, LEASE) < 7:
                with lock:
                    admitted.append(n)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(len(handles))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(admitted) == 7
    assert store.bind_counts(NOW, LEASE) == {"acme": 7}


def test_nodes_racing_for_tokens_take_what_the_bucket_holds(maker: StoreMaker,
                                                            store: Store) -> None:
    _shared(maker, store)
    handles = [store] + [maker.again(store) for _ in range(3)]
    taken: list[int] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        for _ in range(20):
            got = handles[n].take_tokens("operator:x", 0.001, 100.0, 3, NOW)
            with lock:
                taken.append(got)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(len(handles))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(taken) == 100  # 80 asks of 3: the bucket's 100, no more


def test_nodes_racing_for_one_outbox_lease_get_it_once(maker: StoreMaker, store: Store) -> None:
    _shared(maker, store)
    handles = [store] + [maker.again(store) for _ in range(3)]
    holders: list[int] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        if handles[n].lease_outboxes(f"n{n}", ["acme"], NOW, LEASE):
            with lock:
                holders.append(n)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(len(handles))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(holders) == 1
    assert store.outbox_leases(NOW) == {"acme": f"n{holders[0]}"}


def test_other_nodes_hear_new_outbox_rows_due_parts_and_changes(maker: StoreMaker,
                                                                store: Store) -> None:
    """The hints (LISTEN/NOTIFY): an outbox row for an SMPP receiver names its account, a part
    due at once says so, an account changed moves the change counter. A store of one process
    has no other nodes to hear (wake_ups is None)."""
    wake = store.wake_ups()
    if not store.shared_by_nodes:
        assert wake is None
        return
    assert wake is not None
    try:
        other = maker.again(store)
        other.node_started("n2", time.time())
        funded(other, bought=1000)
        other.add_outbox([outbox_item("acme"), outbox_item("acme"), outbox_item("shop"),
                          outbox_item("hooked", hook_url="http://x.example/", hook_style=1)])
        now = time.time()
        other.accept([part(1, at=now, next_at=now)], now)
        heard: list[tuple[str, str]] = []
        deadline = time.monotonic() + 10
        wanted = {("smsc_outbox", "acme\tn2"), ("smsc_outbox", "shop\tn2"),
                  ("smsc_due", "n2"), ("smsc_changes", "n2")}
        while time.monotonic() < deadline and not wanted <= set(heard):
            heard.extend(wake.wait(0.5))
        assert wanted <= set(heard)  # each names the node whose commit it was
        assert not [h for h in heard if h[1].startswith("hooked")]  # the webhook courier's
        assert heard.count(("smsc_outbox", "acme\tn2")) == 1  # one per transaction
    finally:
        wake.close()
