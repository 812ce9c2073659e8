"""The SQLite store's background checkpoints (the server's): commits leave the WAL to a thread
of its own, which copies it into the database file while commits go on."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from smsc.store.records import Account
from smsc.store.sqlite import SqliteStore


def accounts_in_the_database_file(path: Path) -> int:
    """Accounts in the main database file alone, the WAL ignored (immutable=1); -1 while the
    file does not even have the table yet."""
    conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM accounts").fetchone()[0])
    except sqlite3.OperationalError:
        return -1
    finally:
        conn.close()


def add_accounts(store: SqliteStore, count: int) -> None:
    for n in range(count):
        store.create_account(Account(system_id=f"acct{n}", password_hash="h"))


def test_commits_leave_checkpoints_to_the_background_thread(tmp_path: Path) -> None:
    path = tmp_path / "smsc.sqlite"
    store = SqliteStore(path)
    store.checkpoint_in_background(interval=0.02)
    try:
        add_accounts(store, 30)
        deadline = time.monotonic() + 10.0
        while store.checkpoints_completed == 0:  # the thread copied a whole WAL in
            assert time.monotonic() < deadline, "no background checkpoint within 10 s"
            time.sleep(0.02)
        assert store.get_account("acct29") is not None
    finally:
        store.close()
    assert accounts_in_the_database_file(path) == 30  # nothing writes the file any more
    reopened = SqliteStore(path)
    assert len(reopened.list_accounts()) == 30
    reopened.close()


def test_without_the_thread_commits_do_not_checkpoint_below_the_mark(tmp_path: Path) -> None:
    # The control: a few commits stay in the WAL (SQLite checkpoints at 1,000 pages).
    path = tmp_path / "smsc.sqlite"
    store = SqliteStore(path)
    try:
        before = accounts_in_the_database_file(path)
        add_accounts(store, 30)
        time.sleep(0.1)
        assert accounts_in_the_database_file(path) == before
    finally:
        store.close()
