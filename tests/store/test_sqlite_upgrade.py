"""A database made before the lock kinds: its locks carry over when the store opens it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from smsc.store.columns import MESSAGE_COLUMNS
from smsc.store.http_records import ApiKey
from smsc.store.records import Account, BindLocks, LockKind, LockState, OutboxItem, OutboxKind
from smsc.store.sqlite import SqliteStore
from smsc.store.sqlite_schema import SCHEMA_VERSION

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


def test_a_database_from_before_webhooks_gains_the_hook_columns(tmp_path: Path) -> None:
    """Schema 2 had no hooks: its parts and outbox items read as having none (SMPP), and the
    new ones keep theirs."""
    path = tmp_path / "v2.sqlite"
    old_columns = [c for c in MESSAGE_COLUMNS if c not in ("hook_url", "hook_style")]
    with sqlite3.connect(path) as conn:
        conn.execute(f"CREATE TABLE messages ({', '.join(old_columns)})")
        conn.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT, "
                     "kind INTEGER, pdu BLOB, created_at FLOAT, expires_at FLOAT, "
                     "message_id INTEGER, attempts INTEGER, not_before FLOAT)")
        conn.execute("INSERT INTO outbox (account, kind, pdu, created_at, expires_at, "
                     "message_id, attempts, not_before) VALUES ('acme', 1, x'00', ?, ?, 7, 0, 0)",
                     (NOW, NOW + 3600))
    conn.close()
    store = SqliteStore(str(path))
    try:
        (old,) = store.outbox_for("acme", 0, 10, NOW)
        assert (old.hook_url, old.hook_style, old.message_id) == ("", 0, 7)
        (new,) = store.add_outbox([OutboxItem(account="acme", kind=OutboxKind.RECEIPT,
                                              pdu=b"\x00", created_at=NOW, expires_at=NOW + 60,
                                              hook_url="https://h/x", hook_style=1)])
        assert store.outbox_for("acme", 0, 10, NOW) == [old]
    finally:
        store.close()
    with sqlite3.connect(path) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(messages)")}
        hooked = conn.execute("SELECT hook_style FROM outbox WHERE id = ?", (new.id,)).fetchone()
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    conn.close()
    assert {"hook_url", "hook_style"} <= columns and hooked == (1,)
    assert version == (str(SCHEMA_VERSION),)


def test_a_database_from_before_the_http_api_gains_its_tables(tmp_path: Path) -> None:
    """A database without the API's tables (api_keys, idempotency) gets them when opened, its
    accounts kept, and the new methods work on it."""
    path = tmp_path / "before-api.sqlite"
    store = SqliteStore(str(path))
    store.create_account(Account(system_id="acme", password_hash="x"))
    store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE api_keys")
        conn.execute("DROP TABLE idempotency")
    conn.close()
    store = SqliteStore(str(path))
    try:
        store.add_api_key(ApiKey(key_id="k1", account="acme", secret_hash="h", created_at=NOW))
        assert [k.key_id for k in store.api_keys("acme")] == ["k1"]
        assert store.claim_idempotency("acme", "k", "fp", NOW, NOW + 1, NOW + 2) is None
    finally:
        store.close()


def test_a_database_from_before_references_gains_the_column_once(tmp_path: Path) -> None:
    """Schema 4 had no message reference: its parts read as having none, opening it again
    changes nothing, and new parts keep theirs."""
    from dataclasses import replace

    from tests.store.test_store_contract import funded, part

    path = tmp_path / "v4.sqlite"
    store = SqliteStore(str(path))
    funded(store, bought=1_000)
    store.accept([part(1)], NOW)
    store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP INDEX messages_reference")  # schema 6's, on the column
        conn.execute("ALTER TABLE messages DROP COLUMN reference")
        conn.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    conn.close()
    for _ in range(2):  # the upgrade is idempotent
        SqliteStore(str(path)).close()
    store = SqliteStore(str(path))
    try:
        assert store.get_messages(1)[0].reference is None
        store.accept([replace(part(2), reference="r-2")], NOW)
        assert store.get_messages(2)[0].reference == "r-2"
    finally:
        store.close()


def test_a_database_from_before_the_page_indexes_gains_them_and_pages_by_them(
        tmp_path: Path) -> None:
    """Schema 5 had no index by account: opening it adds messages_account and
    messages_reference (once), its messages are paged as before, and a page reads them."""
    from dataclasses import replace

    from tests.store.test_store_contract import funded, part

    path = tmp_path / "v5.sqlite"
    store = SqliteStore(str(path))
    funded(store, bought=1_000)
    store.accept([part(1), replace(part(2), reference="r-2")], NOW)
    store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP INDEX messages_account")
        conn.execute("DROP INDEX messages_reference")
        conn.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    conn.close()
    for _ in range(2):  # the upgrade is idempotent
        SqliteStore(str(path)).close()
    with sqlite3.connect(path) as conn:
        indexes = {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages'")}
        (version,) = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        plan = " ".join(r[-1] for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM messages WHERE account = 'acme' "
            "ORDER BY message_id DESC"))
    conn.close()
    assert {"messages_account", "messages_reference"} <= indexes
    assert version == str(SCHEMA_VERSION) == "6"
    assert "messages_account" in plan
    store = SqliteStore(str(path))
    try:
        page = store.message_page("acme", before=None, limit=10, scan=100)
        assert [e[0].message_id for e in page.messages] == [2, 1] and page.next_before is None
        found = store.message_page("acme", before=None, limit=10, scan=100, reference="r-2")
        assert [e[0].message_id for e in found.messages] == [2]
    finally:
        store.close()
