"""The part of the :class:`smsc.store.base.Store` protocol that lets several smsc nodes sharing
one database behave as one SMSC: the nodes' heartbeats, bind registrations (an account's
``max_binds`` counted across nodes), throughput shares (a token bucket kept in the store that
nodes draw small slices from) and outbox leases (which node delivers an account's receipts).

Every method is one transaction, like the rest of the protocol. A store used by one process
(memory, SQLite: :mod:`smsc.store.local_cluster`) keeps these in the process; the server then
keeps today's in-memory behaviour and never asks for them on the hot path. A store shared by
nodes (PostgreSQL: :mod:`smsc.store.postgres_cluster`) keeps them in tables.

A node is *live* while its last heartbeat is newer than ``now - lease``; what a node that is
not live registered (binds, outbox leases) no longer counts and is purged by
:meth:`ClusterStore.expire_nodes`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeInfo:
    """A node as the store knows it: its id, when it started, its last heartbeat and what it
    said about itself (its listeners, for ``smsc node list``)."""

    node: str
    started_at: float
    seen_at: float
    about: str = ""

    def live(self, now: float, lease: float) -> bool:
        return self.seen_at > now - lease


@dataclass(frozen=True, slots=True, kw_only=True)
class BucketRow:
    """A token bucket as stored: ``tokens`` at time ``at``."""

    tokens: float
    at: float


def grant(row: BucketRow | None, rate: float, burst: float, want: int,
          now: float) -> tuple[int, BucketRow]:
    """Up to ``want`` whole tokens from a bucket filling at ``rate`` a second up to ``burst``
    (a new bucket starts full), and the bucket after. Time that goes backwards adds nothing.
    The one arithmetic every store uses for :meth:`ClusterStore.take_tokens`."""
    burst = burst if burst > 0 else max(1.0, rate)
    if row is None:
        tokens, at = burst, now
    else:
        tokens, at = row.tokens, row.at
        if now > at:
            tokens = min(burst, tokens + (now - at) * rate)
            at = now
    tokens = min(tokens, burst)  # the burst was lowered since
    granted = max(0, min(want, math.floor(tokens + 1e-9)))
    return granted, BucketRow(tokens=max(0.0, tokens - granted), at=at)


CHANNELS = ("smsc_outbox", "smsc_due", "smsc_changes")  # wake-up channels (see WakeUps)


class WakeUps(Protocol):
    """Hints from other nodes, on a connection of their own (never the store's): a new outbox
    row (channel ``smsc_outbox``, payload ``account<TAB>node``), parts due at once in the
    operator queues (``smsc_due``, payload the node), accounts or routing data changed
    (``smsc_changes``, payload the node). ``node`` is the id of the node whose commit it was
    (as given to :meth:`ClusterStore.node_started`), "" for any other writer (the CLI), so a
    node can leave its own hints aside. Only hints: a hint
    may be lost (a dropped connection, a node that was not listening yet), so every reader
    also polls. Used from one thread (not the store's)."""

    def wait(self, timeout: float) -> list[tuple[str, str]]:
        """The (channel, payload) hints that came, waiting up to ``timeout`` seconds for the
        first; raises on a broken connection (the caller opens another)."""
        ...

    def close(self) -> None: ...


class ClusterStore(Protocol):
    # --- nodes --------------------------------------------------------------------------------
    def node_started(self, node: str, now: float, about: str = "") -> None:
        """A node starts (or starts again under the same id): its heartbeat row is written
        (``started_at`` = ``seen_at`` = now), and whatever a previous run of it registered
        (binds, outbox leases) is removed, in one transaction."""
        ...

    def node_heartbeat(self, node: str, now: float) -> None:
        """The node is alive at ``now`` (its row is written if it has none)."""
        ...

    def node_stopped(self, node: str) -> None:
        """A node stops cleanly: its row, its bind registrations and its outbox leases go."""
        ...

    def nodes(self) -> list[NodeInfo]:
        """Every node with a heartbeat row, live or not, by id."""
        ...

    def expire_nodes(self, now: float, lease: float) -> list[str]:
        """Remove the nodes not live (last heartbeat at or before ``now - lease``) with their
        bind registrations and outbox leases; returns their ids."""
        ...

    # --- binds --------------------------------------------------------------------------------
    def register_bind(self, node: str, bind_id: int, account: str, max_binds: int,
                      now: float, lease: float) -> int:
        """Count the binds of ``account`` registered by live nodes, and register this one
        (``node``, ``bind_id``) if that count is below ``max_binds``; returns the count before.
        Concurrent registrations of one account are serialised: two nodes cannot both take
        the last place."""
        ...

    def unregister_bind(self, node: str, bind_id: int) -> None:
        """The bind closed (nothing if it was not registered)."""
        ...

    def bind_counts(self, now: float, lease: float) -> dict[str, int]:
        """Binds registered by live nodes, per account (accounts with none left out)."""
        ...

    # --- throughput shares --------------------------------------------------------------------
    def take_tokens(self, key: str, rate: float, burst: float, want: int, now: float) -> int:
        """Up to ``want`` tokens from the shared bucket ``key`` (filling at ``rate`` a second
        up to ``burst``, created full), as :func:`grant` computes them; how many were taken.
        Concurrent takes of one key are serialised, so the nodes together never take more
        than the bucket gives."""
        ...

    # --- outbox leases ------------------------------------------------------------------------
    def lease_outboxes(self, node: str, accounts: Sequence[str], now: float,
                       lease: float) -> list[str]:
        """Claim (or renew) delivering the outbox of these accounts for ``node`` until
        ``now + lease``: an account whose lease is free, ran out, or is ``node``'s own is
        taken; one another node holds is left. Returns the accounts ``node`` holds now, in
        the order given."""
        ...

    def release_outboxes(self, node: str, accounts: Sequence[str]) -> None:
        """``node`` gives up these accounts' leases (its last receiver of them went)."""
        ...

    def outbox_leases(self, now: float) -> dict[str, str]:
        """Account -> the node holding its outbox lease, for leases not run out."""
        ...

    # --- the database's reach -----------------------------------------------------------------
    @property
    def shared_by_nodes(self) -> bool:
        """Whether other nodes may use this database at the same time (then the server counts
        binds and throughput in the store and leases outboxes)."""
        ...

    def wake_ups(self) -> WakeUps | None:
        """A new listener for the other nodes' hints, or None where there are no other nodes
        (memory, SQLite)."""
        ...


__all__ = ["CHANNELS", "BucketRow", "ClusterStore", "NodeInfo", "WakeUps", "grant"]
