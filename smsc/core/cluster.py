"""Several nodes on one database as one SMSC: the decisions a node makes about the others.

- **Liveness.** Each node writes a heartbeat every ``heartbeat`` seconds; a node whose last
  heartbeat is ``lease`` seconds old is dead: its bind registrations stop counting and its
  outbox leases can be taken (:meth:`smsc.store.base.Store.expire_nodes` removes them).
- **Binds.** An account's ``max_binds`` holds across the cluster: a bind the credentials let
  in is registered in the store with its node (:meth:`BindRegistry.admit`, store thread);
  the store counts the registrations of live nodes and refuses the one past the limit.
- **Receipts and MO.** An account's outbox is delivered by one node at a time: a node with a
  receiver of that account bound leases the account's outbox (:class:`OutboxLeases`) and
  renews the lease with each heartbeat; the others leave those rows alone. The lease holder
  reads and delivers them as a single node does, removing each after its deliver_sm_resp. A
  lease held by a dead node runs out and a node with a receiver takes it (and reads the
  account's outbox from the start: what the dead node sent and had not removed goes out
  again, at most its receivers' windows).
- **Throughput**: :mod:`smsc.core.shares`.

A single node on SQLite uses none of this: its binds, throughput and outbox stay in memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from smsc.core.binds import BindVerdict, admit
from smsc.core.shares import DEFAULT_SHARE_POLICY, SharePolicy, account_key, share_size
from smsc.pdu.constants import CommandStatus
from smsc.store.base import Store


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterPolicy:
    heartbeat: float = 1.0  # seconds between a node's heartbeats (and outbox lease renewals)
    lease: float = 10.0  # a node silent this long is dead; an outbox lease lasts this long
    claim: float = 10.0  # a part a round took is another node's to take after this (a crash)
    shares: SharePolicy = DEFAULT_SHARE_POLICY


    @classmethod
    def for_lease(cls, lease: float) -> ClusterPolicy:
        """A node lease of ``lease`` seconds (``server.node_lease``): parts claimed as long,
        heartbeats five or more times a lease (at most every second)."""
        return cls(heartbeat=min(1.0, lease / 5), lease=lease, claim=lease)


DEFAULT_CLUSTER_POLICY = ClusterPolicy()


@dataclass(frozen=True, slots=True, kw_only=True)
class Admission:
    """A bind's verdict once registered across the cluster, and the first share of its
    account's throughput (tokens; 0 without a limit or when the bucket is empty)."""

    verdict: BindVerdict
    share: int = 0


class BindRegistry:
    """A node's binds as the cluster counts them (store thread)."""

    def __init__(self, store: Store, node: str,
                 policy: ClusterPolicy = DEFAULT_CLUSTER_POLICY) -> None:
        self.store = store
        self.node = node
        self.policy = policy

    def admit(self, verdict: BindVerdict, bind_id: int, now: float) -> Admission:
        """Register an admitted bind (refused with ESME_RBINDFAIL when the account has
        ``max_binds`` binds on live nodes already), and take its account's first share."""
        account = verdict.account
        if verdict.status != CommandStatus.ESME_ROK or account is None:
            return Admission(verdict=verdict)
        store = self.store
        open_binds = store.register_bind(self.node, bind_id, account.system_id,
                                         account.max_binds, now, self.policy.lease)
        verdict = admit(verdict, open_binds)
        if verdict.status != CommandStatus.ESME_ROK or account.throughput <= 0:
            return Admission(verdict=verdict)
        size = share_size(account.throughput, account.burst, self.policy.shares)
        share = store.take_tokens(account_key(account.system_id), account.throughput,
                                  account.burst, size, now)
        return Admission(verdict=verdict, share=share)

    def release(self, bind_id: int) -> None:
        """The bind closed."""
        self.store.unregister_bind(self.node, bind_id)


class OutboxLeases:
    """Which accounts' outboxes this node wants (it has a receiver of them bound) and holds
    (the store granted the lease, renewed each heartbeat). Event loop only; the server runs
    the store calls: :meth:`wanted` to lease, :meth:`take_releases` to give up, and hands
    the answers back with :meth:`leased`."""

    def __init__(self, policy: ClusterPolicy = DEFAULT_CLUSTER_POLICY) -> None:
        self.policy = policy
        self._wanted: set[str] = set()
        self._until: dict[str, float] = {}  # held -> when the lease runs out (as asked)
        self._release: set[str] = set()

    def want(self, account: str) -> bool:
        """A receiver of ``account`` bound here; whether the account was not wanted before
        (then ask for its lease now rather than at the next heartbeat)."""
        self._release.discard(account)
        if account in self._wanted:
            return False
        self._wanted.add(account)
        return True

    def unwant(self, account: str) -> None:
        """The last receiver of ``account`` here went: give its lease up."""
        self._wanted.discard(account)
        if self._until.pop(account, None) is not None:
            self._release.add(account)

    def wanted(self) -> list[str]:
        """The accounts to lease (or renew) now."""
        return sorted(self._wanted)

    def leased(self, asked: Iterable[str], held: Iterable[str],
               asked_at: float) -> tuple[list[str], list[str]]:
        """The store's answer to a lease asked at ``asked_at``: the accounts gained (to read
        from the start) and lost (another node holds them now: forget what is loaded)."""
        held_now = set(held)
        until = asked_at + self.policy.lease
        gained, lost = [], []
        for account in asked:
            if account in held_now and account in self._wanted:
                if account not in self._until:
                    gained.append(account)
                self._until[account] = until
            elif account in self._until:
                del self._until[account]
                lost.append(account)
        for account in held_now - self._wanted:  # unwanted while the lease was asked for
            self._release.add(account)
        return gained, lost

    def holds(self, account: str, now: float) -> bool:
        """Whether this node may deliver ``account``'s outbox now."""
        return self._until.get(account, 0.0) > now

    def held(self, now: float) -> list[str]:
        return sorted(a for a, until in self._until.items() if until > now)

    def expired(self, now: float) -> list[str]:
        """Leases that ran out without a renewal (the store was unreachable): no longer
        held; the caller forgets what it loaded of them."""
        gone = [a for a, until in self._until.items() if until <= now]
        for account in gone:
            del self._until[account]
        return gone

    def take_releases(self) -> list[str]:
        out, self._release = sorted(self._release), set()
        return out


__all__ = ["DEFAULT_CLUSTER_POLICY", "Admission", "BindRegistry", "ClusterPolicy",
           "OutboxLeases"]
