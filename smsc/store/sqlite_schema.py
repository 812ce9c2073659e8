"""The SQLite schema of the embedded store, created (idempotently) through sqlite-utils."""

from __future__ import annotations

from typing import Any

import sqlite_utils
from sqlite_utils.db import Table

from smsc.store.columns import MESSAGE_COLUMNS, OUTBOX_COLUMNS
from smsc.store.sqlite_api_schema import create_api_tables
from smsc.store.sqlite_campaigns import create_campaign_tables
from smsc.store.sqlite_contacts import create_contact_tables

# 3: contact lists, opt-outs, campaigns (sqlite_contacts, sqlite_campaigns); webhook hooks on
# messages and the outbox, webhook_failed; 4: both 3s of two lines of work, API keys and
# idempotency answers (sqlite_api_schema); 5: the customer's reference of a message (a nullable
# messages column); 6: an account's messages by index (messages_account, messages_reference:
# the pages of GET /v1/messages). Every step is idempotent (tables, columns
# and indexes are added when missing), so any earlier database upgrades in one pass.
SCHEMA_VERSION = 6
NEXT_ID = "next_message_id"
GENERATION = "generation"
CHANGE_COUNTER = "change_counter"

# Columns added by a later version, with the value rows written before it take.
_ADDED_DEFAULTS: dict[str, Any] = {"hook_url": "", "hook_style": 0}


def _table(db: sqlite_utils.Database, name: str) -> Table:
    table = db[name]
    assert isinstance(table, Table)
    return table


def create_schema(db: sqlite_utils.Database) -> None:
    """Create every table and index that is missing; existing data is left alone."""
    _table(db, "meta").create({"key": str, "value": str}, pk="key", if_not_exists=True)
    _table(db, "accounts").create(
        {"system_id": str, "password_hash": str, "parent": str, "created_at": float,
         "settings": str},
        pk="system_id", not_null={"password_hash", "settings"}, if_not_exists=True,
    )
    # Failed binds: an account's lock (address ""), an (account, address) pair's, an address's
    # (system_id ""); see smsc.core.binds.
    _table(db, "bind_locks").create(
        {"kind": str, "system_id": str, "address": str, "failures": int, "locked_until": float,
         "last_failed_at": float},
        pk=("kind", "system_id", "address"), not_null={"failures", "locked_until"},
        defaults={"failures": 0, "locked_until": 0.0, "last_failed_at": 0.0},
        if_not_exists=True,
    )
    _table(db, "balances").create(
        {"owner": str, "bought": int, "subscription": int, "subscription_expires_at": float},
        pk="owner", not_null={"bought", "subscription"}, if_not_exists=True,
    )
    ledger = _table(db, "ledger")
    ledger.create(
        {"id": int, "owner": str, "at": float, "kind": int, "bucket": int, "amount": int,
         "balance_after": int, "account": str, "message_id": int, "note": str},
        pk="id", if_not_exists=True,
    )
    ledger.create_index(["owner", "id"], if_not_exists=True)
    messages = _table(db, "messages")
    messages.create(MESSAGE_COLUMNS, pk="id", if_not_exists=True)
    messages.create_index(["message_id"], if_not_exists=True)
    # The operator queues: only parts still waiting carry a next_at, so the index stays small;
    # by operator, so taking an operator's due parts (and counting its queue) never walks the
    # other operators' parts.
    db.execute("DROP INDEX IF EXISTS messages_due")
    db.execute("CREATE INDEX IF NOT EXISTS messages_queue ON messages (operator, next_at) "
               "WHERE next_at IS NOT NULL")
    # AUTOINCREMENT: an id is never handed out again, even after the newest item is deleted
    # (the outbox dispatcher loads "everything after the highest id seen").
    db.execute("CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, "
               "account TEXT, kind INTEGER, pdu BLOB, created_at FLOAT, expires_at FLOAT, "
               "message_id INTEGER, attempts INTEGER, not_before FLOAT, "
               "hook_url TEXT NOT NULL DEFAULT '', hook_style INTEGER NOT NULL DEFAULT 0, "
               "last_error TEXT NOT NULL DEFAULT '')")
    outbox = _table(db, "outbox")
    outbox.create_index(["account", "id"], if_not_exists=True)
    outbox.create_index(["expires_at"], if_not_exists=True)
    _table(db, "blacklist").create(
        {"account": str, "number": str, "prefix": int, "note": str},
        pk=("account", "number", "prefix"), if_not_exists=True,
    )
    _table(db, "ported").create({"number": str, "operator": str}, pk="number",
                                if_not_exists=True)
    create_contact_tables(db)
    create_campaign_tables(db)
    create_api_tables(db)
    _upgrade(db)
    create_page_indexes(db)
    # Items for webhooks (a hook_style), by when they are due next: what the webhook courier
    # claims. The SMPP readers' (account, id) index serves the others.
    db.execute("CREATE INDEX IF NOT EXISTS outbox_hooked ON outbox (not_before, id) "
               "WHERE hook_style != 0")
    # Webhook items whose time to live ended undelivered (smsc webhook failed / replay); the
    # id is the outbox item's own, so a replay keeps its event id.
    db.execute("CREATE TABLE IF NOT EXISTS webhook_failed (id INTEGER PRIMARY KEY, "
               "account TEXT NOT NULL, kind INTEGER, pdu BLOB, created_at FLOAT, "
               "expires_at FLOAT, message_id INTEGER, attempts INTEGER, hook_url TEXT, "
               "hook_style INTEGER, last_error TEXT, failed_at FLOAT)")
    db.execute("CREATE INDEX IF NOT EXISTS webhook_failed_account ON webhook_failed "
               "(account, id)")
    db.execute("CREATE INDEX IF NOT EXISTS webhook_failed_at ON webhook_failed (failed_at)")
    db.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?), (?, ?), (?, ?)",
        ["schema_version", str(SCHEMA_VERSION), NEXT_ID, "1", CHANGE_COUNTER, "0"],
    )
    db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", [GENERATION, "0"])
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)])


def create_page_indexes(db: sqlite_utils.Database) -> None:
    """The indexes behind ``Store.message_page`` (:mod:`smsc.store.api_pages`): an account's
    messages newest first, and those with one reference (only parts that have one: SMPP's
    cost nothing). No index by destination: it would cost every accepted part a random
    insert (it made accepting take about 70% more time), and a page checks the destination
    on a bounded walk of the account's parts."""
    db.execute("CREATE INDEX IF NOT EXISTS messages_account ON messages (account, message_id)")
    db.execute("CREATE INDEX IF NOT EXISTS messages_reference ON messages "
               "(account, reference, message_id) WHERE reference IS NOT NULL")


def _upgrade(db: sqlite_utils.Database) -> None:
    """Bring a database made by an earlier version up to this schema."""
    if "locks" in db.table_names():  # one key per account or address: the locks carry over
        db.execute("INSERT OR IGNORE INTO bind_locks (kind, system_id, address, failures, "
                   "locked_until, last_failed_at) SELECT kind, "
                   "CASE kind WHEN 'account' THEN key ELSE '' END, "
                   "CASE kind WHEN 'address' THEN key ELSE '' END, failures, "
                   "COALESCE(locked_until, 0), 0 FROM locks "
                   "WHERE kind IN ('account', 'address')")
        db.execute("DROP TABLE locks")
    messages = _table(db, "messages")
    have = set(messages.columns_dict)
    for name, kind in MESSAGE_COLUMNS.items():
        if name not in have:
            messages.add_column(name, kind, not_null_default=_ADDED_DEFAULTS.get(name))
    outbox = _table(db, "outbox")
    have = set(outbox.columns_dict)
    for name, kind in {**OUTBOX_COLUMNS, "last_error": str}.items():
        if name not in have:
            outbox.add_column(name, kind, not_null_default=_ADDED_DEFAULTS.get(
                name, "" if name == "last_error" else None))
