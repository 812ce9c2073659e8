"""The cluster part of the Store protocol (:mod:`smsc.store.cluster_base`) on PostgreSQL, mixed
into :class:`smsc.store.postgres.PostgresStore`: the nodes' heartbeats, bind registrations,
throughput buckets and outbox leases in tables, and the wake-up hints as LISTEN/NOTIFY.

- **Binds**: a registration takes a transaction-scoped advisory lock on its account, then
  counts the registrations of live nodes and inserts: two nodes never both take the last
  place of an account's ``max_binds``.
- **Buckets**: a take locks the bucket's row (``FOR UPDATE``), computes the grant with
  :func:`smsc.store.cluster_base.grant` and writes the row back: nodes take turns per bucket,
  and only about ten times a second per busy bucket and node.
- **Leases**: one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` takes the accounts whose
  lease is free, ran out or is the node's own, and returns those the node holds.
- **Hints**: triggers notify ``smsc_outbox`` (the account) when outbox rows for SMPP receivers
  are added, ``smsc_due`` when parts due at once are stored, ``smsc_changes`` when the change
  counter moves; :meth:`PostgresCluster.wake_ups` listens on a connection of its own. A
  node's store connection carries its id (the setting ``smsc.node``, set with each heartbeat)
  and the hints carry it too (the outbox's as ``account<TAB>node``), so a node can tell
  its own commits' hints, whose items it has in hand already, from the others'.

The tables and triggers are step 2 of the store's versioned schema
(:data:`smsc.store.postgres_schema.STEPS`), applied on start like every step.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import psycopg
import psycopg.conninfo

from smsc.store.cluster_base import CHANNELS, BucketRow, NodeInfo, WakeUps, grant

_BIND_LOCK = 0x736D6362  # first key of the per-account bind locks ("smcb")

_LISTENER_DEFAULTS: dict[str, Any] = {
    "application_name": "smsc-listen", "keepalives": 1, "keepalives_idle": 10,
    "keepalives_interval": 5, "keepalives_count": 3, "tcp_user_timeout": 30_000,
}
_LIVE = ("node NOT IN (SELECT node FROM cluster_nodes WHERE seen_at <= %s)")  # now - lease



class PostgresCluster:
    """Mixed into :class:`smsc.store.postgres.PostgresStore` (which provides ``dsn``,
    ``_write`` and ``_read``)."""

    dsn: str

    if TYPE_CHECKING:  # the host class's plumbing
        def _write(self) -> contextlib.AbstractContextManager[Any]: ...

        def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...

    @contextlib.contextmanager
    def _cluster(self) -> Iterator[Any]:
        """One transaction on the cluster tables (step 2 of the versioned schema)."""
        with self._write() as conn:
            yield conn

    @property
    def shared_by_nodes(self) -> bool:
        return True

    def wake_ups(self) -> WakeUps | None:
        with self._cluster():
            pass  # the triggers exist before anyone listens
        return PostgresWakeUps(self.dsn)

    # --- nodes -------------------------------------------------------------------------------
    def node_started(self, node: str, now: float, about: str = "") -> None:
        with self._cluster() as conn:
            conn.execute("SELECT set_config('smsc.node', %s, false)", (node,))
            conn.execute("DELETE FROM cluster_binds WHERE node = %s", (node,))
            conn.execute("DELETE FROM cluster_leases WHERE node = %s", (node,))
            conn.execute("INSERT INTO cluster_nodes (node, started_at, seen_at, about) "
                         "VALUES (%s, %s, %s, %s) ON CONFLICT (node) DO UPDATE SET "
                         "started_at = EXCLUDED.started_at, seen_at = EXCLUDED.seen_at, "
                         "about = EXCLUDED.about", (node, now, now, about))

    def node_heartbeat(self, node: str, now: float) -> None:
        with self._cluster() as conn:
            # again: a connection replaced after a break starts without it
            conn.execute("SELECT set_config('smsc.node', %s, false)", (node,))
            conn.execute("INSERT INTO cluster_nodes (node, started_at, seen_at) "
                         "VALUES (%s, %s, %s) ON CONFLICT (node) DO UPDATE SET "
                         "seen_at = EXCLUDED.seen_at", (node, now, now))

    def node_stopped(self, node: str) -> None:
        with self._cluster() as conn:
            for table in ("cluster_binds", "cluster_leases", "cluster_nodes"):
                conn.execute(f"DELETE FROM {table} WHERE node = %s", (node,))

    def nodes(self) -> list[NodeInfo]:
        with self._cluster() as conn:
            rows = conn.execute("SELECT node, started_at, seen_at, about FROM cluster_nodes "
                                "ORDER BY node").fetchall()
        return [NodeInfo(node=r[0], started_at=r[1], seen_at=r[2], about=r[3]) for r in rows]

    def expire_nodes(self, now: float, lease: float) -> list[str]:
        with self._cluster() as conn:
            dead = [r[0] for r in conn.execute(
                "DELETE FROM cluster_nodes WHERE seen_at <= %s RETURNING node",
                (now - lease,)).fetchall()]
            if dead:
                conn.execute("DELETE FROM cluster_binds WHERE node = ANY(%s)", (dead,))
                conn.execute("DELETE FROM cluster_leases WHERE node = ANY(%s)", (dead,))
        return sorted(dead)

    # --- binds -------------------------------------------------------------------------------
    def register_bind(self, node: str, bind_id: int, account: str, max_binds: int,
                      now: float, lease: float) -> int:
        with self._cluster() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_BIND_LOCK, account))
            row = conn.execute(f"SELECT count(*) FROM cluster_binds WHERE account = %s "
                               f"AND {_LIVE}", (account, now - lease)).fetchone()
            count = int(row[0]) if row is not None else 0
            if count < max_binds:
                conn.execute("INSERT INTO cluster_binds (node, bind_id, account, at) "
                             "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                             (node, bind_id, account, now))
        return count

    def unregister_bind(self, node: str, bind_id: int) -> None:
        with self._cluster() as conn:
            conn.execute("DELETE FROM cluster_binds WHERE node = %s AND bind_id = %s",
                         (node, bind_id))

    def bind_counts(self, now: float, lease: float) -> dict[str, int]:
        with self._cluster() as conn:
            rows = conn.execute(f"SELECT account, count(*) FROM cluster_binds WHERE {_LIVE} "
                                f"GROUP BY account", (now - lease,)).fetchall()
        return {r[0]: int(r[1]) for r in rows}

    # --- throughput shares ---------------------------------------------------------------------
    def take_tokens(self, key: str, rate: float, burst: float, want: int, now: float) -> int:
        select = "SELECT tokens, at FROM cluster_buckets WHERE key = %s FOR UPDATE"
        with self._cluster() as conn:
            found = conn.execute(select, (key,)).fetchone()
            if found is None:  # made full, once: of two nodes making it, one inserts
                depth = burst if burst > 0 else max(1.0, rate)
                conn.execute("INSERT INTO cluster_buckets (key, tokens, at) VALUES (%s, %s, %s) "
                             "ON CONFLICT (key) DO NOTHING", (key, depth, now))
                found = conn.execute(select, (key,)).fetchone()
            assert found is not None
            row = BucketRow(tokens=found[0], at=found[1])
            granted, after = grant(row, rate, burst, want, now)
            conn.execute("INSERT INTO cluster_buckets (key, tokens, at) VALUES (%s, %s, %s) "
                         "ON CONFLICT (key) DO UPDATE SET tokens = EXCLUDED.tokens, "
                         "at = EXCLUDED.at", (key, after.tokens, after.at))
        return granted

    # --- outbox leases -------------------------------------------------------------------------
    def lease_outboxes(self, node: str, accounts: Sequence[str], now: float,
                       lease: float) -> list[str]:
        if not accounts:
            return []
        with self._cluster() as conn:
            held = {r[0] for r in conn.execute(
                "INSERT INTO cluster_leases AS l (account, node, until) "
                "SELECT a, %s, %s FROM unnest(%s::text[]) AS a "
                "ON CONFLICT (account) DO UPDATE SET node = EXCLUDED.node, "
                "until = EXCLUDED.until WHERE l.node = EXCLUDED.node OR l.until <= %s "
                "RETURNING account", (node, now + lease, list(accounts), now)).fetchall()}
        return [a for a in accounts if a in held]

    def release_outboxes(self, node: str, accounts: Sequence[str]) -> None:
        if accounts:
            with self._cluster() as conn:
                conn.execute("DELETE FROM cluster_leases WHERE node = %s AND account = ANY(%s)",
                             (node, list(accounts)))

    def outbox_leases(self, now: float) -> dict[str, str]:
        with self._cluster() as conn:
            rows = conn.execute("SELECT account, node FROM cluster_leases WHERE until > %s "
                                "ORDER BY account", (now,)).fetchall()
        return {r[0]: r[1] for r in rows}


class PostgresWakeUps:
    """LISTEN on a connection of its own (autocommit), read from one thread."""

    def __init__(self, dsn: str) -> None:
        given = psycopg.conninfo.conninfo_to_dict(dsn)
        # As the store's connection: keepalives, so a database gone from the network without a
        # reset is noticed (the listener then connects again; the polls go on meanwhile).
        extra = {k: v for k, v in _LISTENER_DEFAULTS.items() if k not in given}
        self._conn = psycopg.connect(dsn, autocommit=True, connect_timeout=10, **extra)
        self._lock = threading.Lock()
        for channel in CHANNELS:
            self._conn.execute(f"LISTEN {channel}")

    def wait(self, timeout: float) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for note in self._conn.notifies(timeout=timeout, stop_after=1):
            out.append((note.channel, note.payload))
        if out:  # whatever else came meanwhile, without waiting again
            for note in self._conn.notifies(timeout=0.0):
                out.append((note.channel, note.payload))
                if len(out) >= 4096:
                    break
        return out

    def close(self) -> None:
        with contextlib.suppress(psycopg.Error):
            self._conn.close()


__all__ = ["PostgresCluster", "PostgresWakeUps"]
