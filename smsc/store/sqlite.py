"""The embedded default store: one SQLite file in WAL mode, through sqlite-utils.

sqlite-utils creates the schema (:mod:`smsc.store.sqlite_schema`) and serves simple reads; the
hot paths (``accept``, ``take_due``, ``apply``, the outbox) run prepared statements with
``executemany`` on the same connection, each method inside one ``BEGIN IMMEDIATE`` transaction, so
a concurrent writer (the CLI while the server runs) waits its turn instead of failing.

Durability: WAL with ``synchronous=NORMAL`` survives a killed process (the WAL is in the OS before
COMMIT returns); ``synchronous="FULL"`` also survives power loss, at the price of an fsync per
commit. Either way a commit is the point after which smsc acknowledges.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlite_utils

from smsc.store import acceptance, credit
from smsc.store.base import (
    FAILED_WEBHOOKS_KEPT,
    LOCK_KINDS,
    AccountExists,
    StoreError,
    UnknownAccount,
    count_failure,
    lock_key,
)
from smsc.store.claims import LeasedClaims
from smsc.store.credit import LedgerRow
from smsc.store.local_cluster import LocalCluster
from smsc.store.portable_lists import PortableLists
from smsc.store.portable_queries import PortableQueries
from smsc.store.records import (
    AcceptOutcome,
    Account,
    Balance,
    BindLocks,
    BlacklistEntry,
    FinalAtAcceptance,
    LockKind,
    LockState,
    MessageChange,
    MessageFilter,
    NewMessage,
    OutboxItem,
    PortedNumber,
    StoredMessage,
    SummaryRow,
)
from smsc.store.row_records import (
    filter_where,
    summary_columns,
    summary_rows,
)
from smsc.store.sqlite_api import SqliteApiStore
from smsc.store.sqlite_batch import insert_rows
from smsc.store.sqlite_campaigns import SqliteCampaigns
from smsc.store.sqlite_contacts import SqliteContacts
from smsc.store.sqlite_rows import (
    INSERT_MESSAGE,
    SELECT_MESSAGE,
    SELECT_OUTBOX,
    account_from_row,
    account_to_row,
    id_runs,
    make_outbox,
    message_from_row,
    new_message_row,
    outbox_from_row,
)
from smsc.store.sqlite_schema import CHANGE_COUNTER, GENERATION, NEXT_ID, create_schema
from smsc.store.sqlite_webhooks import SqliteWebhooks

_INSERT_LEDGER = ("INSERT INTO ledger (owner, at, kind, bucket, amount, balance_after, account, "
                  "message_id, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
_USER_META = "user:"  # get_meta/set_meta keys live apart from the store's own counters
WAL_SIZE_LIMIT = 64 * 1024 * 1024  # bytes the WAL file is cut back to after a checkpoint


class SqliteStore(SqliteApiStore, SqliteWebhooks, SqliteContacts, SqliteCampaigns,
                  LocalCluster, PortableQueries, PortableLists):
    """The Store protocol on one SQLite database file (or ``":memory:"``).

    Safe to call from several threads (calls are serialised); the server calls it from one
    worker thread."""

    def __init__(self, path: str | Path, *, synchronous: str = "NORMAL") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous!r}")
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                               timeout=30.0)
        self._conn = conn
        self._lock = threading.RLock()
        self._depth = 0  # write transactions open on this connection (nested ones join)
        # Claims with a lease (take_due, outbox_for): in this object, as one process owns an
        # SQLite file's queues (PostgreSQL keeps them in its rows, for several nodes).
        self._claims = LeasedClaims()
        self._outbox_claims = LeasedClaims()
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA cache_size=-16384")  # 16 MiB of pages
        conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")  # the WAL file, once reset
        self._synchronous = synchronous.upper()
        self._checkpointer: tuple[threading.Event, threading.Thread] | None = None
        self.checkpoints_completed = 0  # background checkpoints that copied a whole WAL
        self.db = sqlite_utils.Database(conn)
        with self._write():
            create_schema(self.db)

    # --- plumbing -------------------------------------------------------------------------
    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken IMMEDIATE so concurrent writers queue up. Opened inside
        another on the same thread (a method built on another, such as accept_campaign on
        accept) it joins that one: everything commits, or rolls back, at the outer end."""
        with self._lock:
            conn = self._conn
            if self._depth:
                self._depth += 1
                try:
                    yield conn
                finally:
                    self._depth -= 1
                return
            conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            finally:
                self._depth = 0

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    @staticmethod
    def _sql(sql: str) -> str:
        """The portable mixins' SQL as it is: SQLite reads their ``?`` placeholders."""
        return sql

    @staticmethod
    def _bump_changes(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = ?",
                     (CHANGE_COUNTER,))

    def checkpoint_in_background(self, interval: float = 0.25) -> None:
        """For a long-running writer (the server). By default SQLite copies the WAL back into
        the database file inside the commit that takes it past 1,000 pages, with an fsync: that
        commit, and every submit waiting for it, pays for it. After this call commits never
        checkpoint; a thread of its own does, every ``interval`` seconds, on a connection of its
        own (PASSIVE: commits go on meanwhile). Durability is the same: a committed transaction
        is in the WAL either way."""
        if self.path == ":memory:" or self._checkpointer is not None:
            return
        with self._lock:
            self._conn.execute("PRAGMA wal_autocheckpoint=0")
        stop = threading.Event()
        thread = threading.Thread(target=self._checkpoint_loop, args=(stop, interval),
                                  name="smsc-checkpoint", daemon=True)
        self._checkpointer = (stop, thread)
        thread.start()

    def _checkpoint_loop(self, stop: threading.Event, interval: float) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                               timeout=30.0)
        try:
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            while not stop.wait(interval):
                with contextlib.suppress(sqlite3.Error):  # busy now: the next round does it
                    busy, log, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if not busy and log and done == log:
                        self.checkpoints_completed += 1
        finally:
            conn.close()

    def close(self) -> None:
        if self._checkpointer is not None:
            stop, thread = self._checkpointer
            stop.set()
            thread.join(timeout=30.0)
            self._checkpointer = None
        with self._lock:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            self._conn.close()

    def reserve_ids(self, count: int) -> int:
        if count < 1:
            raise ValueError("count must be positive")
        with self._write() as conn:
            (first,) = conn.execute("SELECT value FROM meta WHERE key = ?", (NEXT_ID,)).fetchone()
            conn.execute("UPDATE meta SET value = ? WHERE key = ?",
                         (str(int(first) + count), NEXT_ID))
        return int(first)

    def begin_generation(self) -> int:
        with self._write() as conn:
            conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = ?",
                         (GENERATION,))
            (value,) = conn.execute("SELECT value FROM meta WHERE key = ?",
                                    (GENERATION,)).fetchone()
        return int(value)

    def change_counter(self) -> int:
        return int(self._read("SELECT value FROM meta WHERE key = ?", (CHANGE_COUNTER,))[0][0])

    def get_meta(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM meta WHERE key = ?", (_USER_META + key,))
        return str(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self._write() as conn:
            conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                         "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                         (_USER_META + key, value))

    # --- accounts -------------------------------------------------------------------------
    def create_account(self, account: Account) -> None:
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM accounts WHERE system_id = ?",
                            (account.system_id,)).fetchone():
                raise AccountExists(account.system_id)
            self._check_parent(conn, account)
            conn.execute("INSERT INTO accounts (system_id, password_hash, parent, created_at, "
                         "settings) VALUES (:system_id, :password_hash, :parent, :created_at, "
                         ":settings)", account_to_row(account))
            if account.parent is None:
                left = conn.execute("SELECT bought + subscription FROM balances WHERE owner = ?",
                                    (account.system_id,)).fetchone()
                if left is not None and left[0]:  # left by a removal before closing it
                    self._close_account_credit(conn, account.system_id, account.created_at)
                conn.execute("INSERT OR IGNORE INTO balances (owner, bought, subscription) "
                             "VALUES (?, 0, 0)", (account.system_id,))
            self._bump_changes(conn)

    def get_account(self, system_id: str) -> Account | None:
        with self._lock:
            rows = list(self.db.query("SELECT * FROM accounts WHERE system_id = ?", [system_id]))
        return account_from_row(rows[0]) if rows else None

    def list_accounts(self) -> list[Account]:
        with self._lock:
            rows = list(self.db.query("SELECT * FROM accounts ORDER BY system_id"))
        return [account_from_row(r) for r in rows]

    def bind_failed(self, kind: LockKind, system_id: str, address: str, now: float,
                    lock_after: int, lock_for: float) -> LockState:
        key = lock_key(kind, system_id, address)
        with self._write() as conn:
            lock = count_failure(self._get_lock(conn, key), key, now, lock_after, lock_for)
            self._put_lock(conn, lock)
        return lock.state

    def bind_succeeded(self, system_id: str, address: str, now: float) -> None:
        with self._write() as conn:
            for kind in LOCK_KINDS:
                conn.execute("DELETE FROM bind_locks WHERE kind = ? AND system_id = ? "
                             "AND address = ? AND locked_until <= ?",
                             (*lock_key(kind, system_id, address), now))

    def bind_locks(self, system_id: str, address: str) -> BindLocks:
        with self._lock:
            found = [self._get_lock(self._conn, lock_key(kind, system_id, address))
                     for kind in LOCK_KINDS]
        account, pair, at = (LockState() if f is None else f.state for f in found)
        return BindLocks(account=account, pair=pair, address=at)

    def purge_locks(self, now: float, stale_before: float, max_counters: int) -> int:
        with self._write() as conn:
            gone = conn.execute("DELETE FROM bind_locks WHERE (locked_until > 0 AND "
                                "locked_until <= ?) OR (locked_until = 0 AND "
                                "last_failed_at < ?)", (now, stale_before)).rowcount
            (counters,) = conn.execute(
                "SELECT COUNT(*) FROM bind_locks WHERE locked_until = 0").fetchone()
            if counters > max_counters:
                gone += conn.execute(
                    "DELETE FROM bind_locks WHERE rowid IN (SELECT rowid FROM bind_locks "
                    "WHERE locked_until = 0 ORDER BY last_failed_at LIMIT ?)",
                    (counters - max_counters,)).rowcount
        return gone

    # --- credit ---------------------------------------------------------------------------
    @staticmethod
    def _get_balance(conn: sqlite3.Connection, owner: str) -> Balance:
        row = conn.execute("SELECT bought, subscription, subscription_expires_at FROM balances "
                           "WHERE owner = ?", (owner,)).fetchone()
        if row is None:
            raise UnknownAccount(owner)
        return Balance(owner=owner, bought=row[0], subscription=row[1],
                       subscription_expires_at=row[2])

    @staticmethod
    def _put_balance(conn: sqlite3.Connection, b: Balance) -> None:
        conn.execute("UPDATE balances SET bought = ?, subscription = ?, "
                     "subscription_expires_at = ? WHERE owner = ?",
                     (b.bought, b.subscription, b.subscription_expires_at, b.owner))

    @staticmethod
    def _ledger_rows(conn: sqlite3.Connection, rows: Sequence[LedgerRow]) -> None:
        conn.executemany(_INSERT_LEDGER, rows)

    @staticmethod
    def _put_debited(conn: sqlite3.Connection, old: Balance, new: Balance) -> None:
        """Write a debited balance only over the one the debit was planned from (a conditional
        update): should anything have changed it since it was read, the accept fails and rolls
        back rather than overdraw. Inside BEGIN IMMEDIATE nothing can; this keeps it so."""
        cur = conn.execute("UPDATE balances SET bought = ?, subscription = ?, "
                           "subscription_expires_at = ? WHERE owner = ? AND bought = ? "
                           "AND subscription = ?",
                           (new.bought, new.subscription, new.subscription_expires_at,
                            new.owner, old.bought, old.subscription))
        if cur.rowcount != 1:
            raise StoreError(f"the balance of {new.owner} changed while accepting; nothing stored")

    def _current_balance(self, conn: sqlite3.Connection, owner: str, now: float) -> Balance:
        """The balance, with an ended subscription lapsed (and its ledger row written)."""
        new, lapsed = credit.lapse_row(self._get_balance(conn, owner), now)
        if lapsed is not None:
            self._put_balance(conn, new)
            conn.execute(_INSERT_LEDGER, lapsed)
        return new

    def balance(self, owner: str, now: float) -> Balance:
        with self._write() as conn:
            return self._current_balance(conn, owner, now)

    # --- acceptance -----------------------------------------------------------------------
    def accept(self, batch: Sequence[NewMessage], now: float, *, hot_until: float | None = None,
               generation: int = 0,
               decided: Sequence[FinalAtAcceptance | None] | None = None
               ) -> list[AcceptOutcome]:
        groups = acceptance.group(batch)
        with self._write() as conn:
            # The plan is made from balances read inside this (IMMEDIATE) transaction: no other
            # writer can change them before it commits, so a debit never overdraws.
            read: dict[str, Balance] = {}
            for owner in groups.owners:
                with contextlib.suppress(UnknownAccount):  # its groups are refused
                    read[owner] = self._current_balance(conn, owner, now)
            plan = acceptance.plan(batch, groups, read, now, hot_until=hot_until,
                                   generation=generation, decided=decided)
            for b in plan.balances:
                self._put_debited(conn, read[b.owner], b)
            rows = [new_message_row(batch[n], from_sub, batch[n].price - from_sub, hot,
                                    decided[n] if decided is not None else None)
                    for n, from_sub, hot in plan.parts]
            insert_rows(conn, INSERT_MESSAGE, rows)  # few statements: few GIL hand-overs
            # One writer, rowids without AUTOINCREMENT: the rows got consecutive ids.
            last = conn.execute("SELECT last_insert_rowid()").fetchone()[0] if rows else 0
            insert_rows(conn, _INSERT_LEDGER, plan.ledger)
            stored = self._add_outbox(conn, [item for _, item in plan.receipts])
        return plan.outcomes(last - len(rows) + 1, stored)

    # --- operator queues ------------------------------------------------------------------
    def take_due(self, now: float, limit: int, operators: Sequence[str] | None = None, *,
                 exclude_generation: int | None = None,
                 lease: float = 0.0) -> list[StoredMessage]:
        sql = SELECT_MESSAGE + " WHERE next_at IS NOT NULL AND next_at <= ?"
        params: list[Any] = [now]
        with self._lock:
            held = self._claims.held(now)
            if held:
                sql += f" AND id NOT IN ({', '.join('?' * len(held))})"
                params += held
        if exclude_generation is not None:
            sql += " AND hot != ?"
            params.append(exclude_generation)
        if operators is not None:
            if not operators:
                return []
            if len(operators) == 1:  # the queue index: one operator's parts in next_at order
                sql += " AND operator = ?"
            else:
                sql += f" AND operator IN ({', '.join('?' * len(operators))})"
            params += list(operators)
        params.append(limit)
        with self._lock:
            taken = [message_from_row(r)
                     for r in self._read(sql + " ORDER BY next_at, id LIMIT ?", params)]
            if lease > 0:
                self._claims.claim((m.id for m in taken), now + lease)
        return taken

    def apply(self, changes: Sequence[MessageChange], outbox: Sequence[OutboxItem],
              now: float) -> list[OutboxItem]:
        with self._write() as conn:
            refunds = [c.id for c in changes if c.refund]
            if refunds:
                self._refund(conn, refunds, now)
            # One statement for every change, run in the given order: the last change of a
            # part wins. COALESCE keeps the stored content where a change carries none.
            self._claims.end(c.id for c in changes)
            conn.executemany(
                "UPDATE messages SET state = ?, next_at = ?, attempts = ?, done_at = ?, "
                "error_code = ?, hot = 0, short_message = COALESCE(?, short_message), "
                "registered_delivery = COALESCE(?, registered_delivery), "
                "scheduled_at = COALESCE(?, scheduled_at), "
                "expires_at = COALESCE(?, expires_at), "
                "text_snippet = COALESCE(?, text_snippet) WHERE id = ?",
                [(c.state, c.next_at, c.attempts, c.done_at, c.error_code, c.short_message,
                  c.registered_delivery, c.scheduled_at, c.expires_at, c.text_snippet, c.id)
                 for c in changes])
            return self._add_outbox(conn, outbox)

    def _refund(self, conn: sqlite3.Connection, ids: list[int], now: float) -> None:
        rows = conn.execute(
            "SELECT id, message_id, account, credit_owner, charged_subscription, charged_bought "
            f"FROM messages WHERE refunded IS NULL AND id IN ({', '.join('?' * len(ids))})",
            ids).fetchall()
        balances: dict[str, Balance] = {}
        ledger: list[LedgerRow] = []
        updates: list[tuple[int, int]] = []
        for row_id, message_id, account, owner, sub, bought in rows:
            if not (sub or bought):
                updates.append((0, row_id))
                continue
            b = balances.get(owner) or self._current_balance(conn, owner, now)
            b, back, rows = credit.refund_rows(b, credit.Split(subscription=sub, bought=bought),
                                               now, account, message_id)
            balances[owner] = b
            ledger += rows
            updates.append((back.total, row_id))
        for b in balances.values():
            self._put_balance(conn, b)
        conn.executemany(_INSERT_LEDGER, ledger)
        conn.executemany("UPDATE messages SET refunded = ? WHERE id = ?", updates)

    def queue_depths(self) -> dict[str, int]:
        return dict(self._read("SELECT operator, count(*) FROM messages "
                               "WHERE next_at IS NOT NULL GROUP BY operator"))

    # --- outbox ---------------------------------------------------------------------------
    @staticmethod
    def _add_outbox(conn: sqlite3.Connection, items: Sequence[OutboxItem]) -> list[OutboxItem]:
        if not items:
            return []
        insert_rows(conn, "INSERT INTO outbox (account, kind, pdu, created_at, expires_at, "
                    "message_id, attempts, not_before, hook_url, hook_style) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(i.account, int(i.kind), i.pdu, i.created_at, i.expires_at,
                      i.message_id, i.attempts, i.not_before, i.hook_url, i.hook_style)
                     for i in items])
        # One writer at a time and AUTOINCREMENT: the rows got consecutive ids ending here.
        (last,) = conn.execute("SELECT last_insert_rowid()").fetchone()
        first = last - len(items) + 1
        return [make_outbox(first + n, i.account, i.kind, i.pdu, i.created_at, i.expires_at,
                            i.message_id, i.attempts, i.not_before, i.hook_url, i.hook_style)
                for n, i in enumerate(items)]

    def add_outbox(self, items: Sequence[OutboxItem]) -> list[OutboxItem]:
        with self._write() as conn:
            return self._add_outbox(conn, items)

    def outbox_for(self, account: str, after_id: int, limit: int, now: float, *,
                   hooked: bool = False, lease: float = 0.0) -> list[OutboxItem]:
        which = "hook_style != 0" if hooked else "hook_style = 0"
        sql = SELECT_OUTBOX + f" WHERE account = ? AND id > ? AND expires_at > ? AND {which}"
        params: list[Any] = [account, after_id, now]
        with self._lock:
            held = self._outbox_claims.held(now)
            if held:
                sql += f" AND id NOT IN ({', '.join('?' * len(held))})"
                params += held
            taken = [outbox_from_row(r)
                     for r in self._read(sql + " ORDER BY id LIMIT ?", [*params, limit])]
            if lease > 0:
                self._outbox_claims.claim((i.id for i in taken), now + lease)
        return taken

    def release_outbox(self, ids: Sequence[int]) -> None:
        with self._lock:
            self._outbox_claims.end(ids)

    def ack_outbox(self, ids: Sequence[int]) -> None:
        if ids:
            with self._lock:
                self._outbox_claims.end(ids)
            with self._write() as conn:
                # Answers come back mostly in id order: one range delete per run of ids.
                conn.executemany("DELETE FROM outbox WHERE id BETWEEN ? AND ?", id_runs(ids))

    def expire_outbox(self, now: float, *, keep_failed: int = FAILED_WEBHOOKS_KEPT) -> int:
        with self._write() as conn:
            moved = self._expire_hooked(conn, now, keep_failed)
            return moved + conn.execute("DELETE FROM outbox WHERE expires_at <= ? "
                                        "AND hook_style = 0", (now,)).rowcount

    def outbox_count(self, account: str | None = None) -> int:
        if account is None:
            return int(self._read("SELECT count(*) FROM outbox")[0][0])
        return int(self._read("SELECT count(*) FROM outbox WHERE account = ?", (account,))[0][0])

    # --- blacklist and portability --------------------------------------------------------
    def add_blacklist(self, entries: Sequence[BlacklistEntry]) -> int:
        with self._write() as conn:
            before = conn.total_changes
            conn.executemany("INSERT OR IGNORE INTO blacklist (account, number, prefix, note) "
                             "VALUES (?, ?, ?, ?)",
                             [(e.account, e.number, int(e.prefix), e.note) for e in entries])
            added = conn.total_changes - before
            if added:
                self._bump_changes(conn)
            return added

    def add_ported(self, entries: Sequence[PortedNumber]) -> int:
        with self._write() as conn:
            conn.executemany("INSERT INTO ported (number, operator) VALUES (?, ?) ON CONFLICT"
                             "(number) DO UPDATE SET operator = excluded.operator",
                             [(e.number, e.operator) for e in entries])
            self._bump_changes(conn)
        return len(entries)

    # --- reports --------------------------------------------------------------------------
    def messages(self, query: MessageFilter) -> Iterator[StoredMessage]:
        where, params = filter_where(query, "?")
        sql = SELECT_MESSAGE + where + " ORDER BY id"
        if query.limit is not None:
            sql += " LIMIT ?"
            params.append(query.limit)
        for r in self._read(sql, params):
            yield message_from_row(r)

    def summary(self, group_by: Sequence[str], query: MessageFilter) -> list[SummaryRow]:
        columns = summary_columns(group_by)
        where, params = filter_where(query, "?")
        keys = ", ".join(columns) if columns else "''"
        head = self._read(f"SELECT {keys}, count(*), count(DISTINCT message_id), "
                          f"sum(charged_subscription + charged_bought), sum(refunded) "
                          f"FROM messages{where} GROUP BY {keys}", params)
        states = self._read(f"SELECT {keys}, state, count(*) FROM messages{where} "
                            f"GROUP BY {keys}, state", params)
        width = max(1, len(columns))
        return summary_rows(width, bool(columns), head, states)
