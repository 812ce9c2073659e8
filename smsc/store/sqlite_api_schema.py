"""The SQLite tables of the customer HTTP API (API keys, Idempotency-Key answers), created
idempotently with the rest of the schema: an older database gets them when it is opened."""

from __future__ import annotations

import sqlite_utils


def create_api_tables(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE IF NOT EXISTS api_keys (key_id TEXT PRIMARY KEY, "
               "account TEXT NOT NULL, secret_hash TEXT NOT NULL, created_at FLOAT NOT NULL, "
               "last_used_at FLOAT, revoked_at FLOAT, note TEXT NOT NULL DEFAULT '')")
    db.execute("CREATE INDEX IF NOT EXISTS api_keys_account ON api_keys (account, created_at)")
    db.execute("CREATE TABLE IF NOT EXISTS idempotency (account TEXT NOT NULL, "
               "key TEXT NOT NULL, fingerprint TEXT NOT NULL, created_at FLOAT NOT NULL, "
               "expires_at FLOAT NOT NULL, lease_until FLOAT NOT NULL DEFAULT 0, "
               "status INTEGER NOT NULL DEFAULT 0, content_type TEXT NOT NULL DEFAULT '', "
               "body BLOB NOT NULL DEFAULT x'', PRIMARY KEY (account, key))")
    db.execute("CREATE INDEX IF NOT EXISTS idempotency_expires ON idempotency (expires_at)")
    db.execute("CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency (created_at)")
