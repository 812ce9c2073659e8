"""The store for several nodes: one PostgreSQL database, through psycopg 3.

Every Store method is one transaction on the store's one connection (calls from several threads
are serialised, as the SQLite store's are; the server calls it from its store thread). Several
processes and nodes share the database safely:

- credit: an accept locks its credit owners' balance rows (``SELECT ... FOR UPDATE``, in owner
  order, so two accepts never deadlock) and plans its debits from the balances read under the
  lock: credit never goes negative, whatever other nodes do meanwhile;
- ids: message, part and outbox ids come from sequences and counter rows, never from a
  process's memory, so they are unique across nodes;
- claims: queued parts and outbox items can be claimed with a lease (``take_due``/``outbox_for``
  with ``lease``, ``claim_webhooks``): ``FOR UPDATE SKIP LOCKED`` hands each to one claimer, and
  a claim whose claimer died runs out with its lease.

The schema is versioned and upgraded on open (:mod:`smsc.store.postgres_schema`). A broken
connection (the server restarted, the network dropped) is replaced on the next call; the call
that found it broken fails, as a call on a full disk fails on SQLite.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
import psycopg.conninfo

from smsc.store import acceptance, credit
from smsc.store.base import (
    AccountExists,
    UnknownAccount,
)
from smsc.store.credit import LedgerRow
from smsc.store.portable_lists import PortableLists
from smsc.store.portable_queries import PortableQueries, postgres_text
from smsc.store.postgres_api import PostgresApiStore
from smsc.store.postgres_batch import QueuedIds, apply_changes, insert_rows
from smsc.store.postgres_campaigns import PostgresCampaigns
from smsc.store.postgres_cluster import PostgresCluster
from smsc.store.postgres_contacts import PostgresContacts
from smsc.store.postgres_locks import PostgresLocks
from smsc.store.postgres_outbox import PostgresOutbox
from smsc.store.postgres_reports import PostgresReports
from smsc.store.postgres_rows import (
    LEDGER_INSERTED,
    MESSAGE_INSERTED,
    SELECT_ACCOUNT,
    SELECT_MESSAGE,
    account_of,
    account_to_row,
    message_from_row,
    new_message_row,
)
from smsc.store.postgres_schema import CHANGE_COUNTER, GENERATION, NEXT_ID, upgrade
from smsc.store.postgres_webhooks import PostgresWebhooks
from smsc.store.records import (
    AcceptOutcome,
    Account,
    Balance,
    FinalAtAcceptance,
    MessageChange,
    NewMessage,
    OutboxItem,
    StoredMessage,
)

Conn = psycopg.Connection[tuple[Any, ...]]
_CONNECTION_DEFAULTS: dict[str, Any] = {
    "application_name": "smsc", "keepalives": 1, "keepalives_idle": 10,
    "keepalives_interval": 5, "keepalives_count": 3, "tcp_user_timeout": 30_000,
}
_BALANCE = "SELECT owner, bought, subscription, subscription_expires_at FROM balances"


class PostgresStore(PostgresLocks, PostgresOutbox, PostgresWebhooks, PostgresApiStore,
                    PostgresContacts, PostgresCampaigns, PostgresReports, PostgresCluster,
                    PortableQueries, PortableLists):
    """The Store protocol on a PostgreSQL database named by a libpq connection string or URL
    (``postgresql://user@host:5432/db``)."""

    _FOR_SHARE = " FOR SHARE"
    _FOR_UPDATE = " FOR UPDATE"

    def __init__(self, dsn: str, *, connect_timeout: int = 10) -> None:
        self.dsn = dsn
        self._connect_timeout = connect_timeout
        self._lock = threading.RLock()
        self._depth = 0  # write transactions open on this connection (nested ones join)
        self._conn: Conn = self._connect()
        try:
            self.schema_applied = upgrade(self._conn)  # versions applied now (logged by callers)
        except BaseException:
            self._conn.close()
            raise

    # --- plumbing -------------------------------------------------------------------------
    def _connect(self) -> Conn:
        # autocommit: a read is one statement; every write opens its transaction (_write).
        # prepare_threshold 1: the hot statements are prepared on their second use.
        given = psycopg.conninfo.conninfo_to_dict(self.dsn)
        # Defaults the URL may override: the name in pg_stat_activity, and TCP keepalives and
        # a send timeout, so a database that vanished from the network (no reset) is noticed
        # within about half a minute instead of the store thread waiting for ever.
        extra = {key: value for key, value in _CONNECTION_DEFAULTS.items() if key not in given}
        return psycopg.connect(self.dsn, autocommit=True, prepare_threshold=1,
                               connect_timeout=self._connect_timeout, **extra)

    def _live(self) -> Conn:
        """The connection, replaced first if it broke (the caller holds the lock)."""
        if self._conn.broken or self._conn.closed:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
            self._conn = self._connect()
        return self._conn

    @contextlib.contextmanager
    def _write(self, *, pipeline: bool = False) -> Iterator[Conn]:
        """One transaction. Opened inside another on the same thread (a method built on
        another, such as accept_campaign on accept) it joins that one.

        ``pipeline``: in pipeline mode, statements are queued and sent together; the client
        waits for the server only where it fetches a result and at the commit. A method that
        uses it fetches every result it needs (a cursor's rowcount is not known before)."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            conn = self._live()
            self._depth = 1
            try:
                if pipeline:
                    with conn.pipeline(), conn.transaction():
                        yield conn
                else:
                    with conn.transaction():
                        yield conn
            finally:
                self._depth = 0

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            conn = self._conn if self._depth else self._live()
            return conn.execute(sql, params).fetchall()

    def _lazy_write(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """One statement whose loss in a crash of the database server costs only a repeat
        (an ack: a receipt sent again; a claim: a part taken again), committed without
        waiting for its WAL to reach the disk (synchronous_commit off for this transaction):
        one round trip and no fsync. Its rows (RETURNING)."""
        with self._lock:
            if self._depth:
                return self._conn.execute(sql, params).fetchall()
            conn = self._live()
            with conn.pipeline(), conn.transaction():
                conn.execute("SET LOCAL synchronous_commit = off")
                cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description is not None else []

    # The portable mixins' SQL, written with ``?``, in psycopg's placeholders.
    _sql = staticmethod(postgres_text)

    @staticmethod
    def _bump_changes(conn: Conn) -> None:
        conn.execute("UPDATE counters SET value = value + 1 WHERE name = %s", (CHANGE_COUNTER,))

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def reserve_ids(self, count: int) -> int:
        if count < 1:
            raise ValueError("count must be positive")
        with self._write() as conn:
            row = conn.execute("UPDATE counters SET value = value + %s WHERE name = %s "
                               "RETURNING value - %s", (count, NEXT_ID, count)).fetchone()
        assert row is not None
        return int(row[0])

    def begin_generation(self) -> int:
        with self._write() as conn:
            row = conn.execute("UPDATE counters SET value = value + 1 WHERE name = %s "
                               "RETURNING value", (GENERATION,)).fetchone()
        assert row is not None
        return int(row[0])

    def change_counter(self) -> int:
        return int(self._read("SELECT value FROM counters WHERE name = %s",
                              (CHANGE_COUNTER,))[0][0])

    def get_meta(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM meta WHERE key = %s", (key,))
        return str(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self._write() as conn:
            conn.execute("INSERT INTO meta (key, value) VALUES (%s, %s) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    # --- accounts -------------------------------------------------------------------------
    def create_account(self, account: Account) -> None:
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM accounts WHERE system_id = %s",
                            (account.system_id,)).fetchone():
                raise AccountExists(account.system_id)
            self._check_parent(conn, account)
            row = account_to_row(account)
            inserted = conn.execute(
                "INSERT INTO accounts (system_id, password_hash, parent, created_at, settings) "
                "VALUES (%(system_id)s, %(password_hash)s, %(parent)s, %(created_at)s, "
                "%(settings)s) ON CONFLICT (system_id) DO NOTHING", row).rowcount
            if not inserted:  # another node created it meanwhile
                raise AccountExists(account.system_id)
            if account.parent is None:
                conn.execute("INSERT INTO balances (owner, bought, subscription) "
                             "VALUES (%s, 0, 0) ON CONFLICT (owner) DO NOTHING",
                             (account.system_id,))
                left = conn.execute("SELECT bought + subscription FROM balances WHERE owner = %s "
                                    "FOR UPDATE", (account.system_id,)).fetchone()
                if left is not None and left[0]:  # left by a removal before closing it
                    self._close_account_credit(conn, account.system_id, account.created_at)
            self._bump_changes(conn)

    def get_account(self, system_id: str) -> Account | None:
        rows = self._read(SELECT_ACCOUNT + " WHERE system_id = %s", (system_id,))
        return account_of(rows[0]) if rows else None

    def list_accounts(self) -> list[Account]:
        return [account_of(r) for r in self._read(SELECT_ACCOUNT + " ORDER BY system_id")]

    # --- credit ---------------------------------------------------------------------------
    @staticmethod
    def _balance_of(row: Sequence[Any]) -> Balance:
        return Balance(owner=row[0], bought=row[1], subscription=row[2],
                       subscription_expires_at=row[3])

    @staticmethod
    def _put_balance(conn: Conn, b: Balance) -> None:
        conn.execute("UPDATE balances SET bought = %s, subscription = %s, "
                     "subscription_expires_at = %s WHERE owner = %s",
                     (b.bought, b.subscription, b.subscription_expires_at, b.owner))

    @staticmethod
    def _ledger_rows(conn: Conn, rows: Sequence[LedgerRow]) -> None:
        if rows:
            insert_rows(conn, "ledger", LEDGER_INSERTED, rows)

    def _locked_balances(self, conn: Conn, owners: Sequence[str], now: float
                         ) -> dict[str, Balance]:
        """The owners' balances, their rows locked until the transaction ends (in owner
        order: two transactions locking overlapping owners never deadlock), each ended
        subscription lapsed with its ledger row. Owners without a balance are left out."""
        if not owners:
            return {}
        rows = conn.execute(_BALANCE + " WHERE owner = ANY(%s) ORDER BY owner FOR UPDATE",
                            (list(owners),)).fetchall()
        found: dict[str, Balance] = {}
        lapsed: list[LedgerRow] = []
        for row in rows:
            new, lapse = credit.lapse_row(self._balance_of(row), now)
            if lapse is not None:
                self._put_balance(conn, new)
                lapsed.append(lapse)
            found[new.owner] = new
        self._ledger_rows(conn, lapsed)
        return found

    def _current_balance(self, conn: Conn, owner: str, now: float) -> Balance:
        """The balance (its row locked), with an ended subscription lapsed."""
        found = self._locked_balances(conn, [owner], now)
        if owner not in found:
            raise UnknownAccount(owner)
        return found[owner]

    def balance(self, owner: str, now: float) -> Balance:
        rows = self._read(_BALANCE + " WHERE owner = %s", (owner,))
        if not rows:
            raise UnknownAccount(owner)
        if credit.lapse_row(self._balance_of(rows[0]), now)[1] is None:
            return self._balance_of(rows[0])  # nothing to lapse: no write, no lock
        with self._write() as conn:
            return self._current_balance(conn, owner, now)

    # --- acceptance -----------------------------------------------------------------------
    def accept(self, batch: Sequence[NewMessage], now: float, *, hot_until: float | None = None,
               generation: int = 0,
               decided: Sequence[FinalAtAcceptance | None] | None = None
               ) -> list[AcceptOutcome]:
        groups = acceptance.group(batch)
        receipts = (sum(1 for d in decided if d is not None and d.receipt is not None)
                    if decided is not None else 0)
        with self._write(pipeline=True) as conn:
            # Round trip 1: ids for every part and receipt that may be stored (those of
            # refused groups are never used), and the owners' balances, read under their row
            # locks: no other transaction can change them before this one ends, so the plan
            # made from them never overdraws.
            part_ids = self._queue_ids(conn, "messages_id_seq", len(batch))
            receipt_ids = self._queue_ids(conn, "outbox_id_seq", receipts)
            read = self._locked_balances(conn, sorted(groups.owners), now)
            plan = acceptance.plan(batch, groups, read, now, hot_until=hot_until,
                                   generation=generation, decided=decided)
            ids = part_ids.fetched()[:len(plan.parts)]
            # Round trip 2: every write queued, sent with the commit.
            if plan.balances:
                conn.cursor().executemany(
                    "UPDATE balances SET bought = %s, subscription = %s, "
                    "subscription_expires_at = %s WHERE owner = %s",
                    [(b.bought, b.subscription, b.subscription_expires_at, b.owner)
                     for b in plan.balances])
            insert_rows(conn, "messages", MESSAGE_INSERTED, [
                (row_id, *new_message_row(batch[n], from_sub, batch[n].price - from_sub, hot,
                                          decided[n] if decided is not None else None))
                for row_id, (n, from_sub, hot) in zip(ids, plan.parts, strict=True)])
            self._ledger_rows(conn, plan.ledger)
            items = [item for _, item in plan.receipts]
            stored = self._add_outbox(conn, items, receipt_ids.fetched()[:len(items)])
        return plan.outcomes(0, stored, ids=ids)

    # --- operator queues ------------------------------------------------------------------
    def take_due(self, now: float, limit: int, operators: Sequence[str] | None = None, *,
                 exclude_generation: int | None = None,
                 lease: float = 0.0) -> list[StoredMessage]:
        sql = SELECT_MESSAGE + " WHERE next_at IS NOT NULL AND next_at <= %s"
        params: list[Any] = [now]
        if exclude_generation is not None:
            sql += " AND hot <> %s"
            params.append(exclude_generation)
        if operators is not None:
            if not operators:
                return []
            if len(operators) == 1:  # the queue index: one operator's parts in next_at order
                sql += " AND operator = %s"
                params.append(operators[0])
            else:
                sql += " AND operator = ANY(%s)"
                params.append(list(operators))
        # Parts under another claim's lease are left out either way.
        sql += " AND claimed_until <= %s ORDER BY next_at, id LIMIT %s"
        params += [now, limit]
        if lease <= 0:
            return [message_from_row(r) for r in self._read(sql, params)]
        # One statement: the due parts no other claimer holds (SKIP LOCKED), claimed.
        columns = SELECT_MESSAGE.removeprefix("SELECT ").removesuffix(" FROM messages")
        rows = self._lazy_write("UPDATE messages SET claimed_until = %s WHERE id IN (SELECT id "
                                f"FROM ({sql} FOR UPDATE SKIP LOCKED) AS due) RETURNING {columns}",
                                [now + lease, *params])
        taken = [message_from_row(r) for r in rows]
        taken.sort(key=lambda m: (m.next_at or 0.0, m.id))
        return taken

    def apply(self, changes: Sequence[MessageChange], outbox: Sequence[OutboxItem],
              now: float) -> list[OutboxItem]:
        with self._write(pipeline=True) as conn:
            item_ids = self._queue_ids(conn, "outbox_id_seq", len(outbox))
            refunds = sorted({c.id for c in changes if c.refund})
            if refunds:
                self._refund(conn, refunds, now)
            if changes:
                # One statement: the last change of a part wins; content a change does not
                # carry stays; the claim ends.
                apply_changes(conn, changes)
            return self._add_outbox(conn, outbox, item_ids.fetched())

    @staticmethod
    def _queue_ids(conn: Conn, sequence: str, count: int) -> QueuedIds:
        """``count`` fresh ids of a sequence, asked for now and read when needed (in pipeline
        mode the request goes with the next round trip)."""
        return QueuedIds(conn, sequence, count)

    def _refund(self, conn: Conn, ids: list[int], now: float) -> None:
        rows = conn.execute(
            "SELECT id, message_id, account, credit_owner, charged_subscription, charged_bought "
            "FROM messages WHERE refunded IS NULL AND id = ANY(%s) ORDER BY id FOR UPDATE",
            (ids,)).fetchall()
        owners = sorted({r[3] for r in rows if r[4] or r[5]})
        balances = self._locked_balances(conn, owners, now)
        ledger: list[LedgerRow] = []
        updates: list[tuple[int, int]] = []
        changed: set[str] = set()
        for row_id, message_id, account, owner, sub, bought in rows:
            if not (sub or bought) or owner not in balances:
                updates.append((0, row_id))
                continue
            b, back, more = credit.refund_rows(balances[owner],
                                               credit.Split(subscription=sub, bought=bought),
                                               now, account, message_id)
            balances[owner] = b
            changed.add(owner)
            ledger += more
            updates.append((back.total, row_id))
        for owner in sorted(changed):
            self._put_balance(conn, balances[owner])
        self._ledger_rows(conn, ledger)
        if updates:
            conn.execute("UPDATE messages AS m SET refunded = u.back FROM unnest(%s::bigint[], "
                         "%s::bigint[]) AS u(back, id) WHERE m.id = u.id",
                         [[u[0] for u in updates], [u[1] for u in updates]])

    def queue_depths(self) -> dict[str, int]:
        return {r[0]: int(r[1]) for r in self._read(
            "SELECT operator, count(*) FROM messages WHERE next_at IS NOT NULL "
            "GROUP BY operator")}
