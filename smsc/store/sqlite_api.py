"""The HTTP API's part of the Store protocol (:class:`smsc.store.api_base.ApiStore`) on
SQLite: a mixin of :class:`smsc.store.sqlite.SqliteStore` (its tables are made by
:mod:`smsc.store.sqlite_api_schema`)."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from smsc.store.api_pages import PageFilter, page_of
from smsc.store.base import StoreError
from smsc.store.http_records import ApiKey, IdempotentAnswer, MessagePage
from smsc.store.row_records import ANSWER_COLUMNS, KEY_COLUMNS, answer_of
from smsc.store.sql_parts import SqlStoreParts
from smsc.store.sqlite_rows import SELECT_MESSAGE, message_from_row


class SqliteApiStore(SqlStoreParts[sqlite3.Connection]):
    """API keys, Idempotency-Key answers and message pages (see ApiStore for the contract)."""

    if TYPE_CHECKING:  # provided by SqliteStore
        _lock: Any
        _conn: sqlite3.Connection

    # --- API keys -----------------------------------------------------------------------------
    def add_api_key(self, key: ApiKey) -> None:
        with self._write() as conn:
            self._require_account(conn, key.account)
            try:
                conn.execute(f"INSERT INTO api_keys ({KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (key.key_id, key.account, key.secret_hash, key.created_at,
                              key.last_used_at, key.revoked_at, key.note))
            except sqlite3.IntegrityError:
                raise StoreError(f"API key id {key.key_id} exists already") from None

    # --- Idempotency-Key answers --------------------------------------------------------------
    def claim_idempotency(self, account: str, key: str, fingerprint: str, now: float,
                          lease_until: float, expires_at: float) -> IdempotentAnswer | None:
        with self._write() as conn:
            row = conn.execute(f"SELECT {ANSWER_COLUMNS} FROM idempotency WHERE account = ? "
                               "AND key = ?", (account, key)).fetchone()
            if row is not None:
                kept = answer_of(row)
                if kept.expires_at > now and not (kept.pending and kept.lease_until <= now):
                    return kept
            conn.execute(f"INSERT OR REPLACE INTO idempotency ({ANSWER_COLUMNS}) "
                         "VALUES (?, ?, ?, ?, ?, ?, 0, '', x'')",
                         (account, key, fingerprint, now, expires_at, lease_until))
            return None

    def purge_idempotency(self, now: float, max_rows: int) -> int:
        with self._write() as conn:
            gone = conn.execute("DELETE FROM idempotency WHERE expires_at <= ?",
                                (now,)).rowcount
            (count,) = conn.execute("SELECT count(*) FROM idempotency").fetchone()
            if count > max_rows:
                gone += conn.execute(
                    "DELETE FROM idempotency WHERE rowid IN (SELECT rowid FROM idempotency "
                    "ORDER BY created_at LIMIT ?)", (count - max_rows,)).rowcount
            return gone

    # --- an account's messages ----------------------------------------------------------------
    def message_page(self, account: str, *, before: int | None, limit: int, scan: int,
                     destination: str | None = None, since: float | None = None,
                     until: float | None = None,
                     reference: str | None = None) -> MessagePage:
        wanted = PageFilter(account=account, before=before, destination=destination,
                            since=since, until=until, reference=reference)
        with self._lock:
            floor = None
            if wanted.bounded:
                row = self._conn.execute(*wanted.floor_query("?", scan)).fetchone()
                floor = row[0] if row is not None else None
            rows = self._conn.execute(*wanted.parts_query(SELECT_MESSAGE, "?", floor))
            try:
                return page_of(wanted, (message_from_row(r) for r in rows), limit, floor)
            finally:
                rows.close()
