"""The cluster part of the Store protocol (:mod:`smsc.store.cluster_base`) for stores used by
one process: the memory store and SQLite. Everything is kept in the process (an SQLite file
is served by one node; a CLI command opening it meanwhile registers no binds and takes no
shares), so these calls are cheap and the server, seeing ``shared_by_nodes`` False, does not
use them on its hot path at all."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from smsc.store.cluster_base import BucketRow, NodeInfo, WakeUps, grant

_CREATE = threading.Lock()  # guards the lazy creation of each store's state


@dataclass(slots=True)
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    nodes: dict[str, NodeInfo] = field(default_factory=dict)
    binds: dict[tuple[str, int], str] = field(default_factory=dict)  # (node, bind) -> account
    buckets: dict[str, BucketRow] = field(default_factory=dict)
    leases: dict[str, tuple[str, float]] = field(default_factory=dict)  # account -> (node, until)


class LocalCluster:
    """Mixed into :class:`smsc.store.memory.MemoryStore` and
    :class:`smsc.store.sqlite.SqliteStore`."""

    _local_cluster_state: _State | None = None

    @property
    def _cluster(self) -> _State:
        state = self._local_cluster_state
        if state is None:
            with _CREATE:
                state = self._local_cluster_state
                if state is None:
                    state = self._local_cluster_state = _State()
        return state

    @property
    def shared_by_nodes(self) -> bool:
        return False

    def wake_ups(self) -> WakeUps | None:
        return None

    # --- nodes --------------------------------------------------------------------------------
    def node_started(self, node: str, now: float, about: str = "") -> None:
        state = self._cluster
        with state.lock:
            _forget_node(state, node)
            state.nodes[node] = NodeInfo(node=node, started_at=now, seen_at=now, about=about)

    def node_heartbeat(self, node: str, now: float) -> None:
        state = self._cluster
        with state.lock:
            old = state.nodes.get(node)
            state.nodes[node] = NodeInfo(node=node, started_at=old.started_at if old else now,
                                         seen_at=now, about=old.about if old else "")

    def node_stopped(self, node: str) -> None:
        state = self._cluster
        with state.lock:
            _forget_node(state, node)
            state.nodes.pop(node, None)

    def nodes(self) -> list[NodeInfo]:
        state = self._cluster
        with state.lock:
            return [state.nodes[n] for n in sorted(state.nodes)]

    def expire_nodes(self, now: float, lease: float) -> list[str]:
        state = self._cluster
        with state.lock:
            dead = sorted(n for n, info in state.nodes.items() if not info.live(now, lease))
            for node in dead:
                _forget_node(state, node)
                del state.nodes[node]
            return dead

    # --- binds --------------------------------------------------------------------------------
    def register_bind(self, node: str, bind_id: int, account: str, max_binds: int,
                      now: float, lease: float) -> int:
        state = self._cluster
        with state.lock:
            live = _live(state, now, lease)
            count = sum(1 for (n, _), a in state.binds.items() if a == account and n in live)
            if count < max_binds:
                state.binds[(node, bind_id)] = account
            return count

    def unregister_bind(self, node: str, bind_id: int) -> None:
        state = self._cluster
        with state.lock:
            state.binds.pop((node, bind_id), None)

    def bind_counts(self, now: float, lease: float) -> dict[str, int]:
        state = self._cluster
        with state.lock:
            live = _live(state, now, lease)
            out: dict[str, int] = {}
            for (node, _), account in state.binds.items():
                if node in live:
                    out[account] = out.get(account, 0) + 1
            return out

    # --- throughput shares --------------------------------------------------------------------
    def take_tokens(self, key: str, rate: float, burst: float, want: int, now: float) -> int:
        state = self._cluster
        with state.lock:
            granted, row = grant(state.buckets.get(key), rate, burst, want, now)
            state.buckets[key] = row
            return granted

    # --- outbox leases ------------------------------------------------------------------------
    def lease_outboxes(self, node: str, accounts: Sequence[str], now: float,
                       lease: float) -> list[str]:
        state = self._cluster
        with state.lock:
            held = []
            for account in accounts:
                holder = state.leases.get(account)
                if holder is None or holder[0] == node or holder[1] <= now:
                    state.leases[account] = (node, now + lease)
                    held.append(account)
            return held

    def release_outboxes(self, node: str, accounts: Sequence[str]) -> None:
        state = self._cluster
        with state.lock:
            for account in accounts:
                holder = state.leases.get(account)
                if holder is not None and holder[0] == node:
                    del state.leases[account]

    def outbox_leases(self, now: float) -> dict[str, str]:
        state = self._cluster
        with state.lock:
            return {a: n for a, (n, until) in sorted(state.leases.items()) if until > now}


def _live(state: _State, now: float, lease: float) -> set[str]:
    """Nodes live at ``now``; a bind registered by a node with no heartbeat row (a store used
    without one, as in the contract tests) counts as live."""
    dead = {n for n, info in state.nodes.items() if not info.live(now, lease)}
    return {n for n, _ in state.binds} - dead


def _forget_node(state: _State, node: str) -> None:
    for key in [k for k in state.binds if k[0] == node]:
        del state.binds[key]
    for account in [a for a, (n, _) in state.leases.items() if n == node]:
        del state.leases[account]


__all__ = ["LocalCluster"]
