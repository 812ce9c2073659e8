"""The cluster's decisions without Twisted (smsc.core.cluster, smsc.core.shares): throughput
shares that never let the nodes together exceed the bucket in the store, binds registered
across nodes, outbox leases, and the dispatcher delivering only what its node leased."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from smsc.core.binds import BindVerdict, Throttles
from smsc.core.cluster import BindRegistry, ClusterPolicy, OutboxLeases
from smsc.core.outbox import OutboxDispatcher
from smsc.core.shares import SharedBucket, SharedPacing, account_key, share_size
from smsc.operators.pacing import UNLIMITED
from smsc.pdu.constants import CommandStatus
from smsc.store.memory import MemoryStore
from smsc.store.records import Account
from tests.operators.factories import profile
from tests.test_outbox import Receiver, item, send

NOW = 1_000.0
S = CommandStatus
ACME = Account(system_id="acme", password_hash="x", throughput=100.0, max_binds=2)


def test_a_share_is_a_tenth_of_a_second_within_the_burst() -> None:
    assert share_size(100.0, 0) == 10
    assert share_size(1.0, 0) == 1
    assert share_size(5000.0, 200.0) == 200
    assert share_size(0.2, 5.0) == 1


def test_a_shared_bucket_spends_its_share_and_asks_when_low() -> None:
    asked: list[SharedBucket] = []
    bucket = SharedBucket("account:acme", 100.0, 0, asked.append)
    assert not bucket.take(NOW)  # nothing in hand yet: refused, and a share asked for
    assert asked == [bucket] and bucket.asking
    assert not bucket.take(NOW)
    assert asked == [bucket]  # one request at a time
    bucket.granted(10, NOW)
    assert [bucket.take(NOW) for _ in range(6)] == [True] * 6
    assert len(asked) == 2  # below half a share (4 left): asks again while it still has some
    bucket.granted(10, NOW + 0.01)
    assert bucket.available(NOW + 0.01) == 14
    assert bucket.available(NOW + 1.02) == 0  # an unspent share is dropped after its ttl
    assert bucket.wait(NOW + 1.02, 5) == 0.05
    bucket.refused()
    assert not bucket.asking


def test_throttles_of_a_cluster_node_are_shared_buckets() -> None:
    asked: list[SharedBucket] = []
    throttles = Throttles(asked.append)
    context = throttles.caller(ACME)
    assert isinstance(context.throttle, SharedBucket)
    assert context.throttle.key == account_key("acme")
    assert throttles.caller(ACME).throttle is context.throttle
    assert not Throttles().shared and throttles.shared


@given(rate=st.floats(1, 500), nodes=st.integers(1, 4),
       steps=st.lists(st.tuples(st.integers(0, 3), st.floats(0, 0.3), st.integers(1, 40)),
                      max_size=60))
def test_nodes_together_never_spend_more_than_the_store_bucket_gives(
        rate: float, nodes: int, steps: list[tuple[int, float, int]]) -> None:
    """Each node spends only what it was granted, and grants come from one bucket: over any
    run the parts let through are at most burst + rate x elapsed."""
    store = MemoryStore()
    now = NOW
    pending: list[SharedBucket] = []
    buckets = [SharedBucket("account:acme", rate, 0, pending.append) for _ in range(nodes)]
    spent = 0
    for node, gap, submits in steps:
        now += gap
        for bucket in pending:  # the store thread answers the requests in order
            bucket.granted(store.take_tokens(bucket.key, bucket.rate, bucket.burst,
                                             bucket.wanted(), now), now)
        pending.clear()
        bucket = buckets[node % nodes]
        spent += sum(bucket.take(now) for _ in range(submits))
        assert spent <= max(1.0, rate) + (now - NOW) * rate + 1e-6


def test_shared_pacing_takes_shares_of_the_operator_bucket() -> None:
    store = MemoryStore()
    op = profile("op", throughput=50.0)
    calls: list[tuple[str, int]] = []

    def take(key: str, rate: float, burst: float, want: int, now: float) -> int:
        calls.append((key, want))
        return store.take_tokens(key, rate, burst, want, now)

    a = SharedPacing({"op": op}, take)
    b = SharedPacing({"op": op}, take)
    assert a.available("op", NOW) == 5  # a share: a tenth of a second
    a.consume("op", 3, NOW)
    assert a.available("op", NOW) == 2 + 5  # below half a share: topped up
    assert calls == [("operator:op", 5), ("operator:op", 5)]
    spent = 3
    for _ in range(20):  # both spend all they can, as often as they like, at one instant
        for pacing in (a, b):
            n = pacing.available("op", NOW)
            pacing.consume("op", n, NOW)
            spent += n
    assert spent == 50  # the bucket's depth (one second) between them, no more
    assert a.next_slot_at("op", NOW) == NOW + 1 / 50
    assert len(calls) < 30  # nothing asked again while the bucket is empty (retry pause)
    unlimited = SharedPacing({"free": profile("free", throughput=0.0)}, take)
    assert unlimited.available("free", NOW) == UNLIMITED


def test_a_bind_is_registered_across_nodes_and_gets_a_first_share() -> None:
    store = MemoryStore()
    a, b = BindRegistry(store, "a"), BindRegistry(store, "b")
    ok = BindVerdict(status=S.ESME_ROK, account=ACME)
    first = a.admit(ok, 1, NOW)
    assert first.verdict.status == S.ESME_ROK and first.share == 10
    assert b.admit(ok, 1, NOW).verdict.status == S.ESME_ROK
    refused = b.admit(ok, 2, NOW)
    assert refused.verdict.status == S.ESME_RBINDFAIL and refused.share == 0
    assert "max_binds is 2" in refused.verdict.reason
    a.release(1)
    assert b.admit(ok, 3, NOW).verdict.status == S.ESME_ROK
    wrong = BindVerdict(status=S.ESME_RINVPASWD, account=None)
    assert b.admit(wrong, 4, NOW).verdict is wrong
    assert store.bind_counts(NOW, 10.0) == {"acme": 2}


def test_outbox_leases_follow_the_receivers_and_the_stores_answers() -> None:
    leases = OutboxLeases(ClusterPolicy(lease=10.0))
    assert leases.want("acme") and not leases.want("acme")
    leases.want("shop")
    assert leases.wanted() == ["acme", "shop"]
    assert leases.leased(["acme", "shop"], ["acme"], NOW) == (["acme"], [])
    assert leases.holds("acme", NOW + 9) and not leases.holds("shop", NOW)
    assert leases.leased(["acme", "shop"], ["acme", "shop"], NOW + 1) == (["shop"], [])
    assert leases.leased(["acme", "shop"], ["shop"], NOW + 2) == ([], ["acme"])  # taken over
    leases.unwant("shop")
    assert leases.take_releases() == ["shop"] and leases.take_releases() == []
    assert not leases.holds("shop", NOW + 2)
    leases.leased(["acme"], ["acme"], NOW + 3)
    assert leases.expired(NOW + 13) == ["acme"]  # no renewal came: not held any more
    assert not leases.holds("acme", NOW + 13)


def test_a_dispatcher_delivers_only_the_accounts_its_node_leased() -> None:
    held = {"acme"}
    d = OutboxDispatcher(per_account=100)
    d.may_deliver = held.__contains__
    ra, rs = Receiver(window=5), Receiver(window=1)
    d.bound("acme", ra)
    d.bound("shop", rs)
    (pull,) = d.pulls()
    assert pull.account == "acme"  # shop's outbox is another node's
    assert d.offer([item(2, account="shop")], NOW) == set()  # not taken, not read back
    d.loaded(pull, [item(1)], NOW)
    assert [(r, i.id) for r, i in send(d)] == [(ra, 1)]
    held.add("shop")  # the lease came
    (pull,) = d.pulls()
    d.loaded(pull, [item(3, account="shop"), item(4, account="shop")], NOW)
    assert [(r, i.id) for r, i in send(d)] == [(rs, 3)]
    d.forget_loaded("shop")  # lost: another node delivers shop's outbox now
    held.discard("shop")
    rs.unanswered.clear()
    d.delivered(item(3, account="shop"))
    assert send(d) == [] and d.pulls() == []
    held.add("shop")  # leased again: read from the start, item 4 comes back
    (pull,) = d.pulls()
    assert (pull.account, pull.after_id) == ("shop", 0)
    d.loaded(pull, [item(4, account="shop")], NOW)
    assert [(r, i.id) for r, i in send(d)] == [(rs, 4)]
