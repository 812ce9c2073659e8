"""Two nodes of a cluster in one process, on fake clocks and one shared store (a memory store
that says it is shared by nodes): binds counted across the nodes, receipts delivered by the
node holding the account's outbox lease, the lease handed over when its receiver goes, an
account's throughput drawn in shares, its own hints left aside. The PostgreSQL side is in
tests/cluster (real processes); this is the server's wiring without a database."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from smsc.operators.mo import mo_deliver_sms
from smsc.pdu import pdus
from smsc.pdu.codec import encode
from smsc.pdu.constants import CommandStatus
from smsc.server.cluster import cluster_metrics
from smsc.store.campaign_records import MarkState
from smsc.store.memory import MemoryStore
from smsc.store.records import MessageFilter, OutboxItem, OutboxKind
from tests.campaigns.test_campaign_server import _campaign as start_campaign
from tests.server.harness import OPERATOR_DELAY, Esme, Rig, add_account, make_config

S = CommandStatus


class SharedMemoryStore(MemoryStore):
    """A memory store the server treats as a database shared by nodes."""

    @property
    def shared_by_nodes(self) -> bool:
        return True


@pytest.fixture
def nodes() -> Iterator[tuple[SharedMemoryStore, Rig, Rig]]:
    store = SharedMemoryStore()
    add_account(store, "acme", max_binds=2)
    a = Rig(store, make_config({"node": "a", "node_lease": "3s"}))
    b = Rig(store, make_config({"node": "b", "node_lease": "3s"}))
    yield store, a, b
    a.stop()
    b.stop()


def advance(rigs: tuple[Rig, ...], seconds: float, step: float = 0.05) -> None:
    """Both clocks on together, in small steps."""
    for _ in range(int(seconds / step + 0.5)):
        for rig in rigs:
            rig.advance(step)


def test_both_nodes_register_and_beat(nodes: tuple[SharedMemoryStore, Rig, Rig]) -> None:
    store, a, b = nodes
    assert "cluster node a" in a.announced and "cluster node b" in b.announced
    advance((a, b), 2.0)
    assert [n.node for n in store.nodes()] == ["a", "b"]
    assert all(n.seen_at >= a.clock.seconds() - 1.0 for n in store.nodes())
    assert a.service.cluster is not None
    (beats, _, _) = cluster_metrics(a.service.cluster)
    assert beats.samples[0][1] >= 2


def test_max_binds_counts_the_binds_of_every_node(
        nodes: tuple[SharedMemoryStore, Rig, Rig]) -> None:
    store, a, b = nodes
    first = a.bound(pdus.BindTransmitter)
    b.bound(pdus.BindReceiver)
    third = a.connect()
    assert third.bind(pdus.BindTransceiver, "acme").command_status == S.ESME_RBINDFAIL
    assert store.bind_counts(a.clock.seconds(), 3.0) == {"acme": 2}
    first.write_pdu(pdus.Unbind(sequence_number=9))
    advance((a, b), 0.2)
    assert store.bind_counts(a.clock.seconds(), 3.0) == {"acme": 1}
    assert a.bound(pdus.BindTransmitter).is_bound()


def test_a_receipt_goes_to_the_receiver_on_the_other_node(
        nodes: tuple[SharedMemoryStore, Rig, Rig]) -> None:
    store, a, b = nodes
    sender = a.bound(pdus.BindTransmitter)
    receiver = b.bound(pdus.BindReceiver)
    advance((a, b), 0.2)
    assert store.outbox_leases(b.clock.seconds()) == {"acme": "b"}
    message_id = sender.submit_and_commit()
    advance((a, b), OPERATOR_DELAY + 1.5)  # the round on a node, then b's outbox poll
    (deliver,) = receiver.deliveries()
    assert deliver.short_message.startswith(f"id:{message_id} ".encode())
    receiver.answer(deliver)
    advance((a, b), 0.2)
    assert store.outbox_count("acme") == 0


def test_the_lease_moves_to_the_other_node_when_its_receiver_goes(
        nodes: tuple[SharedMemoryStore, Rig, Rig]) -> None:
    store, a, b = nodes
    on_a = a.bound(pdus.BindReceiver)
    advance((a, b), 0.2)
    on_b = b.bound(pdus.BindReceiver)
    advance((a, b), 1.2)
    assert store.outbox_leases(a.clock.seconds()) == {"acme": "a"}  # b waits its turn
    on_a.write_pdu(pdus.Unbind(sequence_number=9))
    advance((a, b), 1.5)  # a gives the lease up; b takes it at its next heartbeat
    assert store.outbox_leases(b.clock.seconds()) == {"acme": "b"}
    assert on_b.is_bound()


def test_an_accounts_throughput_is_drawn_in_shares_from_the_store(
        nodes: tuple[SharedMemoryStore, Rig, Rig]) -> None:
    """10 a second, burst 10, for the account as a whole: a's binds spend shares of the store's
    bucket (a share is one token here: a tenth of a second of 10/s), b's what is left of it."""
    store, a, b = nodes
    add_account(store, "paced", throughput=10.0)
    on_a = a.bound(pdus.BindTransmitter, "paced")
    on_b = b.bound(pdus.BindTransmitter, "paced")

    def statuses(esme: Esme, rig: Rig, count: int) -> list[int]:
        sent = [esme.submit().sequence_number for _ in range(count)]
        rig.advance(0.05)
        answers = {p.sequence_number: p.command_status for p in esme.read()}
        return [answers[seq] for seq in sent]

    def in_hand(rig: Rig) -> float:
        account = store.get_account("paced")
        assert account is not None
        bucket = rig.service.sessions.throttles.throttle(account)
        assert bucket is not None
        return bucket.available(rig.clock.seconds())

    first = statuses(on_a, a, 8) + statuses(on_b, b, 8)  # within 0.1 s of each other
    passed = first.count(S.ESME_ROK)
    assert passed + first.count(S.ESME_RTHROTTLED) == 16
    # The bucket's burst between the two nodes: spent, or held as a share not yet spent.
    assert passed + in_hand(a) + in_hand(b) == 10
    assert passed >= 8  # at most one share (a token) unspent per node
    advance((a, b), 1.5)  # shares dropped after a second; the bucket refilled
    assert statuses(on_b, b, 12).count(S.ESME_ROK) == 10


def test_hints_from_other_nodes_wake_this_one_and_its_own_are_left_aside(
        nodes: tuple[SharedMemoryStore, Rig, Rig]) -> None:
    store, a, _ = nodes
    cluster = a.service.cluster
    assert cluster is not None
    woken: list[str] = []
    cluster.on_due = lambda: woken.append("due")
    cluster.on_changes = lambda: woken.append("changes")
    cluster._hinted([("smsc_due", "a"), ("smsc_changes", "a")])  # a's own commits
    assert woken == []
    cluster._hinted([("smsc_due", "b"), ("smsc_changes", "")])  # b's, and the CLI's
    assert woken == ["due", "changes"]
    receiver = a.bound(pdus.BindReceiver)
    advance((a,), 1.2)  # the lease taken, the first polls done
    now = a.clock.seconds()
    (mo,) = mo_deliver_sms(source_addr="380501112233", destination_addr="1234", text="hi",
                           reference=1)
    store.add_outbox([OutboxItem(account="acme", kind=OutboxKind.MO, pdu=encode(mo),
                                 created_at=now, expires_at=now + 3600)])
    cluster._hinted([("smsc_outbox", "acme\ta")])  # a claims to have written it: no read
    a.advance(0.05)
    assert receiver.deliveries() == []
    cluster._hinted([("smsc_outbox", "acme\tb")])  # another node wrote it: read at once
    a.advance(0.05)
    (delivered,) = receiver.deliveries()
    assert delivered.short_message == b"hi"


def test_a_running_campaign_is_stepped_by_one_node(
        nodes: tuple[SharedMemoryStore, Rig, Rig]) -> None:
    """Both nodes see the running campaign; the one that leased it sends every contact once,
    the other none."""
    store, a, b = nodes
    numbers = [f"3805012{i:05d}" for i in range(40)]
    # 10 a second: steps over four seconds, both nodes polling all the while
    campaign_id = start_campaign(store, numbers, throughput=10, now=a.clock.seconds())
    advance((a, b), 6.0)
    sent = Counter(m.destination_addr for m in store.messages(MessageFilter(account="acme")))
    assert sent == Counter(numbers)
    assert sorted([a.service.campaigns.sent, b.service.campaigns.sent]) == [0, 40]
    assert store.campaign_counts(campaign_id) == {MarkState.SENT: 40}
