"""The PostgreSQL schema of :class:`smsc.store.postgres.PostgresStore`, versioned.

The table ``schema_version`` holds one row: the version the database is at. :data:`STEPS` lists
every upgrade in order; :func:`upgrade` applies those above the stored version, each in its own
transaction together with the new version number, on every start. Several nodes starting at
once against one database take turns: the upgrade runs under a session advisory lock, and a
node that gets the lock after another finished finds nothing left to do. A database whose
version is above this code's is refused (an older node must not write a newer schema's data).

Everything lives in the connection's current schema (``search_path``), so several smsc
databases can share one PostgreSQL database under schemas of their own.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg

from smsc.store.base import StoreError

# pg_advisory_lock key of the upgrade (any constant number: "smsc" in ASCII).
UPGRADE_LOCK = 0x736D7363

NEXT_ID = "next_message_id"
GENERATION = "generation"
CHANGE_COUNTER = "change_counter"

_MESSAGES = """CREATE TABLE messages (
    id bigint PRIMARY KEY, message_id bigint NOT NULL, account text NOT NULL,
    credit_owner text NOT NULL, source_addr_ton integer, source_addr_npi integer,
    source_addr text, dest_addr_ton integer, dest_addr_npi integer, destination_addr text,
    esm_class integer, protocol_id integer, priority_flag integer, data_coding integer,
    registered_delivery integer, short_message bytea, tlvs bytea, service_type text,
    part_ref integer, part_total integer, part_index integer, operator text, route text,
    price bigint, charged_subscription bigint, charged_bought bigint,
    submitted_at double precision, scheduled_at double precision, expires_at double precision,
    next_at double precision, state integer, attempts integer, done_at double precision,
    error_code integer, text_snippet text, blacklisted integer, refunded bigint,
    forced_state integer, forced_error integer, hook_url text NOT NULL DEFAULT '',
    hook_style integer NOT NULL DEFAULT 0, hot bigint NOT NULL DEFAULT 0,
    claimed_until double precision NOT NULL DEFAULT 0
)"""

_OUTBOX = """CREATE TABLE outbox (
    id bigint PRIMARY KEY, account text NOT NULL, kind integer NOT NULL, pdu bytea NOT NULL,
    created_at double precision NOT NULL, expires_at double precision NOT NULL,
    message_id bigint, attempts integer NOT NULL DEFAULT 0,
    not_before double precision NOT NULL DEFAULT 0, hook_url text NOT NULL DEFAULT '',
    hook_style integer NOT NULL DEFAULT 0, last_error text NOT NULL DEFAULT '',
    claimed_until double precision NOT NULL DEFAULT 0
)"""

# Version 1: everything the SQLite store's schema 4 holds, plus claims with a lease
# (claimed_until) on queued parts and outbox items, for several nodes.
_VERSION_1 = (
    "CREATE TABLE counters (name text PRIMARY KEY, value bigint NOT NULL)",
    f"INSERT INTO counters (name, value) VALUES ('{NEXT_ID}', 1), ('{GENERATION}', 0), "
    f"('{CHANGE_COUNTER}', 0)",
    "CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL)",
    "CREATE TABLE accounts (system_id text PRIMARY KEY, password_hash text NOT NULL, "
    "parent text, created_at double precision, settings text NOT NULL)",
    "CREATE INDEX accounts_parent ON accounts (parent)",
    "CREATE TABLE bind_locks (kind text, system_id text, address text, "
    "failures integer NOT NULL DEFAULT 0, locked_until double precision NOT NULL DEFAULT 0, "
    "last_failed_at double precision NOT NULL DEFAULT 0, "
    "PRIMARY KEY (kind, system_id, address))",
    "CREATE TABLE balances (owner text PRIMARY KEY, bought bigint NOT NULL, "
    "subscription bigint NOT NULL, subscription_expires_at double precision)",
    "CREATE TABLE ledger (id bigserial PRIMARY KEY, owner text NOT NULL, "
    "at double precision NOT NULL, kind integer NOT NULL, bucket integer NOT NULL, "
    "amount bigint NOT NULL, balance_after bigint NOT NULL, account text, message_id bigint, "
    "note text)",
    "CREATE INDEX ledger_owner ON ledger (owner, id)",
    "CREATE SEQUENCE messages_id_seq",
    _MESSAGES,
    "CREATE INDEX messages_message_id ON messages (message_id)",
    # The operator queues: only waiting parts carry a next_at, so the index stays small; in
    # take_due's order (next_at, then id), so a round reads its parts and stops.
    "CREATE INDEX messages_queue ON messages (operator, next_at, id) WHERE next_at IS NOT NULL",
    "CREATE SEQUENCE outbox_id_seq",
    _OUTBOX,
    "CREATE INDEX outbox_account ON outbox (account, id)",
    "CREATE INDEX outbox_expires ON outbox (expires_at)",
    "CREATE INDEX outbox_hooked ON outbox (not_before, id) WHERE hook_style <> 0",
    "CREATE TABLE webhook_failed (id bigint PRIMARY KEY, account text NOT NULL, kind integer, "
    "pdu bytea, created_at double precision, expires_at double precision, message_id bigint, "
    "attempts integer, hook_url text, hook_style integer, last_error text, "
    "failed_at double precision)",
    "CREATE INDEX webhook_failed_account ON webhook_failed (account, id)",
    "CREATE INDEX webhook_failed_at ON webhook_failed (failed_at, id)",
    "CREATE TABLE blacklist (account text, number text, prefix integer, note text, "
    "PRIMARY KEY (account, number, prefix))",
    "CREATE TABLE ported (number text PRIMARY KEY, operator text NOT NULL)",
    # contact lists and opt-outs
    "CREATE TABLE contact_lists (id bigserial PRIMARY KEY, account text NOT NULL, "
    "name text NOT NULL, country text NOT NULL DEFAULT '', columns text NOT NULL DEFAULT '[]', "
    "created_at double precision NOT NULL, UNIQUE (account, name))",
    "CREATE TABLE contacts (id bigserial PRIMARY KEY, list_id bigint NOT NULL, "
    "number text NOT NULL, fields text NOT NULL, UNIQUE (list_id, number))",
    "CREATE INDEX contacts_page ON contacts (list_id, id)",
    "CREATE TABLE opt_outs (account text NOT NULL, number text NOT NULL, "
    "at double precision NOT NULL, note text NOT NULL DEFAULT '', "
    "PRIMARY KEY (account, number))",
    # campaigns
    "CREATE TABLE campaigns (id bigserial PRIMARY KEY, account text NOT NULL, "
    "name text NOT NULL, lists text NOT NULL, template text NOT NULL, source text NOT NULL, "
    "start_at double precision NOT NULL, window_start integer NOT NULL, "
    "window_end integer NOT NULL, throughput double precision NOT NULL, "
    "validity double precision NOT NULL, registered_delivery integer NOT NULL, "
    "state text NOT NULL, pause_reason text NOT NULL, cursor_list bigint NOT NULL, "
    "cursor_contact bigint NOT NULL, created_at double precision NOT NULL, "
    "updated_at double precision NOT NULL, UNIQUE (account, name))",
    "CREATE TABLE campaign_marks (campaign_id bigint NOT NULL, number text NOT NULL, "
    "state text NOT NULL, list_id bigint NOT NULL, contact_id bigint NOT NULL, "
    "message_id bigint, note text NOT NULL, due_at double precision, "
    "at double precision NOT NULL, PRIMARY KEY (campaign_id, number))",
    "CREATE INDEX campaign_marks_waiting ON campaign_marks (campaign_id, due_at) "
    "WHERE state = 'waiting'",
    # the HTTP API
    "CREATE TABLE api_keys (key_id text PRIMARY KEY, account text NOT NULL, "
    "secret_hash text NOT NULL, created_at double precision NOT NULL, "
    "last_used_at double precision, revoked_at double precision, "
    "note text NOT NULL DEFAULT '')",
    "CREATE INDEX api_keys_account ON api_keys (account, created_at)",
    "CREATE TABLE idempotency (account text NOT NULL, key text NOT NULL, "
    "fingerprint text NOT NULL, created_at double precision NOT NULL, "
    "expires_at double precision NOT NULL, lease_until double precision NOT NULL DEFAULT 0, "
    "status integer NOT NULL DEFAULT 0, content_type text NOT NULL DEFAULT '', "
    "body bytea NOT NULL DEFAULT '', PRIMARY KEY (account, key))",
    "CREATE INDEX idempotency_expires ON idempotency (expires_at)",
    "CREATE INDEX idempotency_created ON idempotency (created_at)",
)


# Step 2: the cluster's tables (nodes, bind registrations, throughput buckets, outbox leases)
# and the triggers of its wake-up hints (smsc.store.postgres_cluster).
_VERSION_2 = (
    'CREATE TABLE IF NOT EXISTS cluster_nodes (node text COLLATE "C" PRIMARY KEY, '
    "started_at double precision NOT NULL, seen_at double precision NOT NULL, "
    "about text NOT NULL DEFAULT '')",
    'CREATE TABLE IF NOT EXISTS cluster_binds (node text COLLATE "C" NOT NULL, '
    'bind_id bigint NOT NULL, account text COLLATE "C" NOT NULL, '
    "at double precision NOT NULL, PRIMARY KEY (node, bind_id))",
    "CREATE INDEX IF NOT EXISTS cluster_binds_account ON cluster_binds (account)",
    'CREATE TABLE IF NOT EXISTS cluster_buckets (key text COLLATE "C" PRIMARY KEY, '
    "tokens double precision NOT NULL, at double precision NOT NULL)",
    'CREATE TABLE IF NOT EXISTS cluster_leases (account text COLLATE "C" PRIMARY KEY, '
    'node text COLLATE "C" NOT NULL, until double precision NOT NULL)',
    # Hints (statement triggers: one notification per account and transaction at most).
    """CREATE OR REPLACE FUNCTION smsc_outbox_added() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         PERFORM pg_notify('smsc_outbox',
                           account || E'\t' || coalesce(current_setting('smsc.node', true), ''))
           FROM (SELECT DISTINCT account FROM added WHERE hook_style = 0) AS a;
         RETURN NULL;
       END $$""",
    "DROP TRIGGER IF EXISTS smsc_outbox_added ON outbox",
    "CREATE TRIGGER smsc_outbox_added AFTER INSERT ON outbox REFERENCING NEW TABLE AS added "
    "FOR EACH STATEMENT EXECUTE FUNCTION smsc_outbox_added()",
    """CREATE OR REPLACE FUNCTION smsc_due_added() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF EXISTS (SELECT 1 FROM added WHERE next_at IS NOT NULL
                    AND next_at <= extract(epoch FROM clock_timestamp()) + 0.05) THEN
           PERFORM pg_notify('smsc_due', coalesce(current_setting('smsc.node', true), ''));
         END IF;
         RETURN NULL;
       END $$""",
    "DROP TRIGGER IF EXISTS smsc_due_added ON messages",
    "CREATE TRIGGER smsc_due_added AFTER INSERT ON messages REFERENCING NEW TABLE AS added "
    "FOR EACH STATEMENT EXECUTE FUNCTION smsc_due_added()",
    """CREATE OR REPLACE FUNCTION smsc_changed() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW.name = 'change_counter' THEN
           PERFORM pg_notify('smsc_changes', coalesce(current_setting('smsc.node', true), ''));
         END IF;
         RETURN NULL;
       END $$""",
    "DROP TRIGGER IF EXISTS smsc_changed ON counters",
    "CREATE TRIGGER smsc_changed AFTER UPDATE ON counters FOR EACH ROW "
    "EXECUTE FUNCTION smsc_changed()",
)


# Step 3: the customer's reference of a message (the HTTP API's ``reference``), nullable.
_VERSION_3 = (
    'ALTER TABLE messages ADD COLUMN IF NOT EXISTS reference text COLLATE "C"',
)


# Step 4: an account's messages by index, for the pages of GET /v1/messages (see
# smsc.store.api_pages): newest first, and with one reference (only the parts that have one).
# Built in the step's transaction: writes to messages wait while they build.
_VERSION_4 = (
    "CREATE INDEX IF NOT EXISTS messages_account ON messages (account, message_id)",
    "CREATE INDEX IF NOT EXISTS messages_reference ON messages (account, reference, message_id) "
    "WHERE reference IS NOT NULL",
)


def _byte_order(statements: tuple[str, ...]) -> tuple[str, ...]:
    """Text columns compare byte by byte (COLLATE "C"), whatever the database's locale: pages
    ordered by number or name come out as on SQLite, and indexes serve ``>`` cursors."""
    return tuple(re.sub(r"\btext\b(?! COLLATE)", 'text COLLATE "C"', s)
                 if s.startswith("CREATE TABLE") else s for s in statements)


# (version, statements): each step brings the schema from the version before it to its own.
STEPS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (1, _byte_order(_VERSION_1)),
    (2, _VERSION_2),
    (3, _VERSION_3),
    (4, _VERSION_4),
)
SCHEMA_VERSION = STEPS[-1][0]


def stored_version(conn: psycopg.Connection[tuple[Any, ...]]) -> int:
    """The version the current schema is at (0: no smsc tables yet)."""
    row = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if row is None or not row[0]:
        return 0
    found = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(found[0]) if found is not None and found[0] is not None else 0


def upgrade(conn: psycopg.Connection[tuple[Any, ...]]) -> list[int]:
    """Create or upgrade the schema to :data:`SCHEMA_VERSION` (``conn`` in autocommit mode);
    returns the versions applied (none when it was up to date). Idempotent; safe to run from
    several processes at once."""
    if stored_version(conn) == SCHEMA_VERSION:  # the common case: no lock taken
        return []
    applied: list[int] = []
    conn.execute("SELECT pg_advisory_lock(%s)", (UPGRADE_LOCK,))
    try:
        with conn.transaction():
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL, "
                         "applied_at timestamptz NOT NULL DEFAULT now())")
        current = stored_version(conn)
        if current > SCHEMA_VERSION:
            raise StoreError(f"the database's schema is version {current}, newer than this "
                             f"smsc's {SCHEMA_VERSION}: upgrade smsc")
        for version, statements in STEPS:
            if version <= current:
                continue
            with conn.transaction():
                for statement in statements:
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
            applied.append(version)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (UPGRADE_LOCK,))
    return applied
