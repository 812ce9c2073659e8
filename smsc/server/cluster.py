"""This node among the others on one database (PostgreSQL): its heartbeat, its binds'
registrations, its throughput shares, the outbox leases of the accounts it has receivers of,
and the other nodes' hints (LISTEN/NOTIFY) heard on a thread of its own.

The decisions are the core's (:mod:`smsc.core.cluster`, :mod:`smsc.core.shares`); this runs
their store calls on the store thread and hands the answers back. Nothing depends on a hint
arriving: the outbox is looked at every second and the queues every ``due_interval`` anyway;
a hint only makes that sooner.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsc.core.cluster import DEFAULT_CLUSTER_POLICY, BindRegistry, ClusterPolicy, OutboxLeases
from smsc.core.shares import SharedBucket
from smsc.server.delivery import OutboxCourier
from smsc.server.metrics import Metric
from smsc.server.storehealth import StoreHealth
from smsc.server.worker import StoreWorker
from smsc.store.base import Store

_log = Logger()
EXPIRE_EVERY = 10  # heartbeats between sweeps of dead nodes
LISTEN_WAIT = 0.5  # seconds the listener waits for a hint before looking at ``stopping``
LISTEN_RETRY = 1.0  # seconds before the listener connects again after a failure


CAMPAIGN_KEY = "campaign "  # a campaign's lease key: this and its id


def campaign_key(campaign_id: int) -> str:
    return f"{CAMPAIGN_KEY}{campaign_id}"


class ClusterNode:
    """One node's part in the cluster; built by the service when the store is shared."""

    def __init__(self, reactor: Any, store: Store, worker: StoreWorker, node: str, *,
                 courier: OutboxCourier, health: StoreHealth,
                 policy: ClusterPolicy = DEFAULT_CLUSTER_POLICY, about: str = "") -> None:
        self.reactor = reactor
        self.clock: IReactorTime = reactor
        self.store = store
        self.worker = worker
        self.node = node
        self.courier = courier
        self.health = health
        self.policy = policy
        self.about = about
        self.leases = OutboxLeases(policy)
        # Running campaigns, each stepped by one node: leased like outboxes, under keys no
        # account can have (a system_id has no space).
        self.campaign_leases = OutboxLeases(policy)
        self.registry = BindRegistry(store, node, policy)
        self._bind_ids = itertools.count(1)
        self.beats = 0  # heartbeats asked for since the start
        self._beating = False  # one heartbeat at a time
        self._loop: LoopingCall | None = None
        self._stopping = threading.Event()
        self._listener: threading.Thread | None = None
        self.hints = 0  # hints heard since the start
        # Who acts on hints (set by the service): a new due part, accounts or routes edited.
        self.on_due: Callable[[], None] | None = None
        self.on_changes: Callable[[], None] | None = None

    # --- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        """Register the node (clearing what a previous run of it left), then beat and listen."""
        await self.worker.call(self.store.node_started, self.node, self.clock.seconds(),
                               self.about)
        loop = self._loop = LoopingCall(self._beat)
        loop.clock = self.clock
        loop.start(self.policy.heartbeat, now=False).addErrback(self._beat_failed)
        listener = self._listener = threading.Thread(target=self._listen, daemon=True,
                                                     name=f"smsc-listen-{self.node}")
        listener.start()

    async def stop(self) -> None:
        """No more heartbeats; the node's registrations and leases leave the store at once
        (the others need not wait for its lease)."""
        self._stopping.set()
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        try:
            await self.worker.call(self.store.node_stopped, self.node)
        except Exception:  # the store is gone: the lease will run out
            _log.failure("could not take node {node} off the store", node=self.node)

    # --- binds --------------------------------------------------------------------------------
    def next_bind_id(self) -> int:
        return next(self._bind_ids)

    def release_bind(self, bind_id: int) -> None:
        d = self.worker.call(self.registry.release, bind_id)
        d.addErrback(self._failed, "taking a closed bind off the store")

    # --- receivers and outbox leases ----------------------------------------------------------
    def receiver_bound(self, account: str) -> None:
        if self.leases.want(account):
            self._lease([account], [], campaigns=[])

    def receiver_gone(self, account: str) -> None:
        self.leases.unwant(account)
        releases = self.leases.take_releases()
        if releases:
            d = self.worker.call(self.store.release_outboxes, self.node, releases)
            d.addErrback(self._failed, "giving outbox leases up")

    def may_deliver(self, account: str) -> bool:
        return self.leases.holds(account, self.clock.seconds())

    # --- campaigns --------------------------------------------------------------------------
    def campaigns_found(self, campaign_ids: list[int]) -> None:
        """The campaigns running now (the campaign sender's poll): lease the new ones, give up
        those no longer running."""
        keys = {campaign_key(i) for i in campaign_ids}
        leases = self.campaign_leases
        new = [key for key in sorted(keys) if leases.want(key)]
        for key in set(leases.wanted()) - keys:
            leases.unwant(key)
        if new:
            self._lease([], [], campaigns=new)

    def may_run(self, campaign_id: int) -> bool:
        return self.campaign_leases.holds(campaign_key(campaign_id), self.clock.seconds())

    def _lease(self, wanted: list[str], releases: list[str], expire: bool = False, *,
               campaigns: list[str] | None = None) -> None:
        now = self.clock.seconds()
        asked_campaigns = self.campaign_leases.wanted() if campaigns is None else campaigns
        releases = releases + self.campaign_leases.take_releases()
        d = self.worker.call(self._beat_in_store, now, wanted + asked_campaigns, releases,
                             expire)
        d.addCallbacks(self._leased, self._beat_failed,
                       callbackArgs=(wanted, asked_campaigns, now))

    def _beat_in_store(self, now: float, wanted: list[str], releases: list[str],
                       expire: bool) -> list[str]:
        """Store thread: the heartbeat, leases given up and asked for, dead nodes swept."""
        store = self.store
        store.node_heartbeat(self.node, now)
        if releases:
            store.release_outboxes(self.node, releases)
        held = store.lease_outboxes(self.node, wanted, now, self.policy.lease) if wanted else []
        if expire:
            dead = store.expire_nodes(now, self.policy.lease)
            if dead:
                _log.info("nodes {dead} stopped heartbeating: their binds and leases are "
                          "released", dead=", ".join(dead))
        return held

    def _leased(self, held: list[str], wanted: list[str], campaigns: list[str],
                asked_at: float) -> None:
        self._beating = False
        held_campaigns = [key for key in held if key.startswith(CAMPAIGN_KEY)]
        held_outboxes = [key for key in held if not key.startswith(CAMPAIGN_KEY)]
        self.campaign_leases.leased(campaigns, held_campaigns, asked_at)
        gained, lost = self.leases.leased(wanted, held_outboxes, asked_at)
        self._forget(lost)
        if gained:
            self.courier.dispatcher.announce(gained)
            self.courier.pull(rescan=True)  # from the start: what another node left unsent

    def _forget(self, accounts: list[str]) -> None:
        for account in accounts:
            _log.info("the outbox of {account} is delivered by another node now",
                      account=account)
            self.courier.dispatcher.forget_loaded(account)

    # --- heartbeat ----------------------------------------------------------------------------
    def _beat(self) -> None:
        now = self.clock.seconds()
        self._forget(self.leases.expired(now))
        self.campaign_leases.expired(now)
        if self._beating:  # the store is slow: the running one is enough
            return
        self._beating = True
        self.beats += 1
        self._lease(self.leases.wanted(), self.leases.take_releases(),
                    expire=self.beats % EXPIRE_EVERY == 0)

    def _beat_failed(self, failure: Failure) -> None:
        self._beating = False
        self.health.failed("the cluster heartbeat", failure)

    # --- throughput shares --------------------------------------------------------------------
    def ask(self, bucket: SharedBucket) -> None:
        """An account's share runs low: take more from the store's bucket."""
        now = self.clock.seconds()
        d = self.worker.call(self.store.take_tokens, bucket.key, bucket.rate, bucket.burst,
                             bucket.wanted(), now)
        d.addCallbacks(bucket.granted, self._share_failed, callbackArgs=(now,),
                       errbackArgs=(bucket,))

    def _share_failed(self, failure: Failure, bucket: SharedBucket) -> None:
        bucket.refused()
        self.health.failed("taking a throughput share", failure)

    def _failed(self, failure: Failure, what: str) -> None:
        self.health.failed(what, failure)

    # --- hints from the other nodes -----------------------------------------------------------
    def _listen(self) -> None:
        """The listener thread: hints handed to the event loop until the node stops."""
        stopping = self._stopping
        while not stopping.is_set():
            try:
                wake = self.store.wake_ups()
                if wake is None:
                    return
                try:
                    while not stopping.is_set():
                        hints = wake.wait(LISTEN_WAIT)
                        if hints:
                            self.reactor.callFromThread(self._hinted, hints)
                finally:
                    wake.close()
            except Exception as e:  # the database went away: the polls go on meanwhile
                if not stopping.is_set():
                    self.reactor.callFromThread(self._listen_failed, str(e))
                stopping.wait(LISTEN_RETRY)

    def _listen_failed(self, why: str) -> None:
        self.health.failed("listening for the other nodes' hints",
                           Failure(ConnectionError(why)))  # type: ignore[no-untyped-call]

    def _hinted(self, hints: list[tuple[str, str]]) -> None:
        """Hints from the other nodes (this node's own are left aside: what it committed it
        has in hand)."""
        self.hints += len(hints)
        now = self.clock.seconds()
        me = self.node
        announce: list[str] = []
        due = changes = False
        for channel, payload in hints:
            if channel == "smsc_outbox":
                account, _, origin = payload.partition("\t")
                if origin != me and self.leases.holds(account, now):
                    announce.append(account)
            elif payload == me:
                continue
            elif channel == "smsc_due":
                due = True
            elif channel == "smsc_changes":
                changes = True
        if announce:
            self.courier.dispatcher.announce(announce)
            self.courier.pull()
        if due and self.on_due is not None:
            self.on_due()
        if changes and self.on_changes is not None:
            self.on_changes()


def cluster_metrics(node: ClusterNode) -> list[Metric]:
    """What the metrics page shows of a node of a cluster (nothing here reads the store)."""
    labels = (("node", node.node),)
    return [
        Metric("smsc_cluster_heartbeats_total", "counter",
               "Heartbeats this node wrote to the store since the start.",
               [(labels, node.beats)]),
        Metric("smsc_cluster_outbox_leases", "gauge",
               "Accounts whose outbox this node delivers (it holds their lease).",
               [(labels, len(node.leases.held(node.clock.seconds())))]),
        Metric("smsc_cluster_hints_total", "counter",
               "Hints heard from other nodes (LISTEN/NOTIFY) since the start.",
               [(labels, node.hints)]),
    ]


__all__ = ["CAMPAIGN_KEY", "ClusterNode", "campaign_key", "cluster_metrics"]
