"""The PostgreSQL store's lockout rows (failed binds counted per kind of lock, see
:mod:`smsc.core.binds`): a mixin of :class:`smsc.store.postgres.PostgresStore`. A failure is
counted under the row's lock, so several nodes counting failures of one key at once count every
one of them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg

from smsc.store.base import LOCK_KINDS, count_failure, lock_key
from smsc.store.records import BindLocks, Lock, LockKind, LockState
from smsc.store.row_records import LOCK_COLUMNS, lock_of
from smsc.store.sql_parts import SqlStoreParts

Conn = psycopg.Connection[Any]


class PostgresLocks(SqlStoreParts[Conn]):
    """Mixed into :class:`smsc.store.postgres.PostgresStore`."""

    if TYPE_CHECKING:  # PortableQueries'
        def _put_lock(self, conn: Conn, s: Lock) -> None: ...

        def _get_lock(self, conn: Conn, key: tuple[str, str, str], *,
                      for_update: bool = False) -> Lock | None: ...

    def bind_failed(self, kind: LockKind, system_id: str, address: str, now: float,
                    lock_after: int, lock_for: float) -> LockState:
        key = lock_key(kind, system_id, address)
        with self._write() as conn:
            # The row exists before it is read for update, so two nodes counting a failure of
            # the same key at once count both (the second waits for the first's row lock).
            conn.execute(f"INSERT INTO bind_locks ({LOCK_COLUMNS}) VALUES (%s, %s, %s, 0, 0, 0) "
                         "ON CONFLICT DO NOTHING", key)
            lock = count_failure(self._get_lock(conn, key, for_update=True), key, now,
                                 lock_after, lock_for)
            self._put_lock(conn, lock)
        return lock.state

    def bind_succeeded(self, system_id: str, address: str, now: float) -> None:
        with self._write() as conn:
            conn.cursor().executemany(
                "DELETE FROM bind_locks WHERE kind = %s AND system_id = %s AND address = %s "
                "AND locked_until <= %s",
                [(*lock_key(kind, system_id, address), now) for kind in LOCK_KINDS])

    def bind_locks(self, system_id: str, address: str) -> BindLocks:
        keys = [lock_key(kind, system_id, address) for kind in LOCK_KINDS]
        rows = self._read(f"SELECT {LOCK_COLUMNS} FROM bind_locks WHERE (kind, system_id, "
                          "address) IN ((%s, %s, %s), (%s, %s, %s), (%s, %s, %s))",
                          [v for k in keys for v in k])
        found = {(r[0], r[1], r[2]): lock_of(r) for r in rows}
        account, pair, at = (found[k].state if k in found else LockState() for k in keys)
        return BindLocks(account=account, pair=pair, address=at)

    def purge_locks(self, now: float, stale_before: float, max_counters: int) -> int:
        with self._write() as conn:
            gone = conn.execute("DELETE FROM bind_locks WHERE (locked_until > 0 AND "
                                "locked_until <= %s) OR (locked_until = 0 AND "
                                "last_failed_at < %s)", (now, stale_before)).rowcount
            row = conn.execute("SELECT count(*) FROM bind_locks WHERE locked_until = 0"
                               ).fetchone()
            counters = int(row[0]) if row is not None else 0
            if counters > max_counters:
                gone += conn.execute(
                    "DELETE FROM bind_locks WHERE (kind, system_id, address) IN (SELECT kind, "
                    "system_id, address FROM bind_locks WHERE locked_until = 0 "
                    "ORDER BY last_failed_at LIMIT %s)", (counters - max_counters,)).rowcount
        return gone
