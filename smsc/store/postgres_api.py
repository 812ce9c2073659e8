"""The HTTP API's part of the Store protocol (:class:`smsc.store.api_base.ApiStore`) on
PostgreSQL: a mixin of :class:`smsc.store.postgres.PostgresStore`."""

from __future__ import annotations

from typing import Any

import psycopg

from smsc.store.api_pages import PageFilter, page_of
from smsc.store.base import StoreError
from smsc.store.http_records import ApiKey, IdempotentAnswer, MessagePage
from smsc.store.postgres_rows import SELECT_MESSAGE, message_from_row
from smsc.store.row_records import ANSWER_COLUMNS, KEY_COLUMNS, answer_of
from smsc.store.sql_parts import SqlStoreParts


class PostgresApiStore(SqlStoreParts[psycopg.Connection[Any]]):
    """API keys, Idempotency-Key answers and message pages (see ApiStore for the contract)."""

    # --- API keys -----------------------------------------------------------------------------
    def add_api_key(self, key: ApiKey) -> None:
        with self._write() as conn:
            self._require_account(conn, key.account)
            added = conn.execute(f"INSERT INTO api_keys ({KEY_COLUMNS}) VALUES "
                                 "(%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                                 (key.key_id, key.account, key.secret_hash, key.created_at,
                                  key.last_used_at, key.revoked_at, key.note)).rowcount
            if not added:
                raise StoreError(f"API key id {key.key_id} exists already")

    # --- Idempotency-Key answers --------------------------------------------------------------
    def claim_idempotency(self, account: str, key: str, fingerprint: str, now: float,
                          lease_until: float, expires_at: float) -> IdempotentAnswer | None:
        with self._write() as conn:
            # A pending row first (nothing if one is there), then read it locked: two nodes
            # claiming one key at once are served one after the other.
            conn.execute(f"INSERT INTO idempotency ({ANSWER_COLUMNS}) "
                         "VALUES (%s, %s, %s, %s, %s, %s, 0, '', '') ON CONFLICT DO NOTHING",
                         (account, key, fingerprint, now, expires_at, -1.0))
            row = conn.execute(f"SELECT {ANSWER_COLUMNS} FROM idempotency WHERE account = %s "
                               "AND key = %s FOR UPDATE", (account, key)).fetchone()
            assert row is not None
            kept = answer_of(row)
            if kept.lease_until != -1.0 and kept.expires_at > now and not (
                    kept.pending and kept.lease_until <= now):
                return kept
            conn.execute("UPDATE idempotency SET fingerprint = %s, created_at = %s, "
                         "expires_at = %s, lease_until = %s, status = 0, content_type = '', "
                         "body = '' WHERE account = %s AND key = %s",
                         (fingerprint, now, expires_at, lease_until, account, key))
            return None

    def purge_idempotency(self, now: float, max_rows: int) -> int:
        with self._write() as conn:
            gone = conn.execute("DELETE FROM idempotency WHERE expires_at <= %s",
                                (now,)).rowcount
            row = conn.execute("SELECT count(*) FROM idempotency").fetchone()
            count = int(row[0]) if row is not None else 0
            if count > max_rows:
                gone += conn.execute(
                    "DELETE FROM idempotency WHERE (account, key) IN (SELECT account, key "
                    "FROM idempotency ORDER BY created_at LIMIT %s)",
                    (count - max_rows,)).rowcount
            return gone

    # --- an account's messages ----------------------------------------------------------------
    def message_page(self, account: str, *, before: int | None, limit: int, scan: int,
                     destination: str | None = None, since: float | None = None,
                     until: float | None = None,
                     reference: str | None = None) -> MessagePage:
        wanted = PageFilter(account=account, before=before, destination=destination,
                            since=since, until=until, reference=reference)
        with self._write() as conn:
            floor = None
            if wanted.bounded:
                row = conn.execute(*wanted.floor_query("%s", scan)).fetchone()
                floor = int(row[0]) if row is not None else None
            # A server-side cursor: only as far as the walk goes is read.
            with conn.cursor(name="smsc_message_page") as rows:
                rows.itersize = min(max(limit + 10, 50), 2000)
                rows.execute(*wanted.parts_query(SELECT_MESSAGE, "%s", floor))
                return page_of(wanted, (message_from_row(r) for r in rows), limit, floor)
