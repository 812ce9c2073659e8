"""A database made before the lock kinds: its locks carry over when the store opens it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from smsc.store.records import BindLocks, LockKind, LockState
from smsc.store.sqlite import SqliteStore

NOW = 1_700_000_000.0


def test_the_old_locks_table_carries_over(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    SqliteStore(str(path)).close()  # today's schema, then the old table as earlier versions had it
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE locks (kind TEXT, key TEXT, failures INTEGER, "
                     "locked_until FLOAT, PRIMARY KEY (kind, key))")
        conn.execute("INSERT INTO locks VALUES ('account', 'acme', 3, ?), "
                     "('address', '10.0.0.1', 2, 0)", (NOW + 60,))
    conn.close()
    store = SqliteStore(str(path))
    try:
        assert store.bind_locks("acme", "10.0.0.1") == BindLocks(
            account=LockState(failures=3, locked_until=NOW + 60),
            address=LockState(failures=2))
        assert [f.kind for f in store.locks(NOW)] == [LockKind.ACCOUNT, LockKind.ADDRESS]
    finally:
        store.close()
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert "locks" not in tables and "bind_locks" in tables
