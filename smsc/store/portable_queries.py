"""Store methods whose SQL is the same on SQLite and PostgreSQL, written once.

:class:`PortableQueries` is a mixin of both SQL stores. Its SQL is written with ``?``
placeholders and passed through the store's ``_sql`` before it runs: SQLite's returns it as it
is, PostgreSQL's swaps each ``?`` for ``%s`` (:func:`postgres_text`). Values are always
parameters, never part of the text. Methods whose SQL differs (locking reads, upserts, arrays
against ``IN`` lists) stay in each store's own modules."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from smsc.store import credit
from smsc.store.base import (
    CLOSED_ACCOUNT_NOTE,
    MAX_WEBHOOK_ERROR,
    StoreError,
    UnknownAccount,
    hand_lock,
    lock_key,
)
from smsc.store.credit import LedgerRow
from smsc.store.records import (
    Account,
    Balance,
    BlacklistEntry,
    Bucket,
    LedgerEntry,
    LedgerKind,
    Lock,
    LockKind,
    PortedNumber,
    StoredMessage,
)
from smsc.store.row_records import LEDGER_COLUMNS, LOCK_COLUMNS, ledger_entry_of, lock_of
from smsc.store.sql_parts import SqlStoreParts
from smsc.store.sqlite_rows import SELECT_MESSAGE, account_to_row, message_from_row

_SELECT_LOCK = ("SELECT failures, locked_until, last_failed_at FROM bind_locks "
                "WHERE kind = ? AND system_id = ? AND address = ?")


@functools.lru_cache(maxsize=512)
def postgres_text(sql: str) -> str:
    """``sql`` with its ``?`` placeholders as psycopg's ``%s`` (each distinct text is
    translated once). Text with a ``%`` of its own is refused: psycopg would read it as a
    placeholder."""
    if "%" in sql:
        raise ValueError(f"portable SQL has no '%': {sql!r}")
    return sql.replace("?", "%s")


class PortableQueries(SqlStoreParts[Any]):
    """Account checks and removal, the credit ledger, message lookups, blacklist, portability
    and lockout reads and removals, webhook retries."""

    if TYPE_CHECKING:  # the store's own: their SQL differs
        def _current_balance(self, conn: Any, owner: str, now: float) -> Balance: ...

        @staticmethod
        def _put_balance(conn: Any, b: Balance) -> None: ...

        @staticmethod
        def _ledger_rows(conn: Any, rows: Sequence[LedgerRow]) -> None: ...

    # --- accounts -------------------------------------------------------------------------
    def _require_account(self, conn: Any, system_id: str) -> None:
        """UnknownAccount unless the account exists (kept so until the transaction ends)."""
        if conn.execute(self._sql("SELECT 1 FROM accounts WHERE system_id = ?" + self._FOR_SHARE),
                        (system_id,)).fetchone() is None:
            raise UnknownAccount(system_id)

    def _check_parent(self, conn: Any, account: Account) -> None:
        """A parent exists and is a main account; an account with sub-accounts has no parent."""
        if account.parent is None:
            return
        if account.parent == account.system_id:
            raise StoreError(f"{account.system_id} cannot be its own parent")
        row = conn.execute(self._sql("SELECT parent FROM accounts WHERE system_id = ?"
                                     + self._FOR_SHARE), (account.parent,)).fetchone()
        if row is None:
            raise UnknownAccount(account.parent)
        if row[0] is not None:
            raise StoreError(f"{account.parent} is a sub-account; sub-accounts have no children")
        if conn.execute(self._sql("SELECT 1 FROM accounts WHERE parent = ? LIMIT 1"),
                        (account.system_id,)).fetchone():
            raise StoreError(f"{account.system_id} has sub-accounts and cannot become one")

    def update_account(self, account: Account) -> None:
        with self._write() as conn:
            if not conn.execute(self._sql("SELECT 1 FROM accounts WHERE system_id = ?"
                                          + self._FOR_UPDATE), (account.system_id,)).fetchone():
                raise UnknownAccount(account.system_id)
            self._check_parent(conn, account)
            if account.parent is None:
                conn.execute(self._sql("INSERT INTO balances (owner, bought, subscription) "
                                       "VALUES (?, 0, 0) ON CONFLICT (owner) DO NOTHING"),
                             (account.system_id,))
            row = account_to_row(account)
            cur = conn.execute(self._sql("UPDATE accounts SET password_hash = ?, parent = ?, "
                                         "settings = ? WHERE system_id = ?"),
                               (row["password_hash"], row["parent"], row["settings"],
                                row["system_id"]))
            if cur.rowcount == 0:
                raise UnknownAccount(account.system_id)
            self._bump_changes(conn)

    def delete_account(self, system_id: str, *, now: float = 0.0) -> None:
        with self._write() as conn:
            if conn.execute(self._sql("SELECT 1 FROM accounts WHERE parent = ? LIMIT 1"),
                            (system_id,)).fetchone():
                raise StoreError(f"{system_id} has sub-accounts; remove them first")
            if conn.execute(self._sql("DELETE FROM accounts WHERE system_id = ?"),
                            (system_id,)).rowcount == 0:
                raise UnknownAccount(system_id)
            if conn.execute(self._sql("SELECT 1 FROM balances WHERE owner = ?"),
                            (system_id,)).fetchone():
                self._close_account_credit(conn, system_id, now)
            # its account lock and its pairs' (an address lock has no system_id)
            conn.execute(self._sql("DELETE FROM bind_locks WHERE system_id = ?"), (system_id,))
            conn.execute(self._sql("DELETE FROM api_keys WHERE account = ?"), (system_id,))
            self._bump_changes(conn)

    def _close_account_credit(self, conn: Any, owner: str, now: float) -> None:
        """Close a removed account's credit: its balance to zero, an ADJUST ledger row per
        bucket that held credit."""
        zero, rows = credit.close_account(self._current_balance(conn, owner, now), now,
                                          CLOSED_ACCOUNT_NOTE)
        self._ledger_rows(conn, rows)
        self._put_balance(conn, zero)

    # --- credit ---------------------------------------------------------------------------
    def credit(self, owner: str, amount: int, bucket: Bucket, now: float, *,
               expires_at: float | None = None, note: str = "", account: str = "",
               kind: LedgerKind | None = None) -> Balance:
        with self._write() as conn:
            b = self._current_balance(conn, owner, now)
            new, row = credit.top_up_row(b, amount, bucket, now, expires_at=expires_at, note=note,
                                         account=account, kind=kind)
            self._put_balance(conn, new)
            self._ledger_rows(conn, [row])
            return new

    def ledger(self, owner: str, *, since: float | None = None,
               limit: int | None = None) -> list[LedgerEntry]:
        sql = f"SELECT {LEDGER_COLUMNS} FROM ledger WHERE owner = ?"
        params: list[Any] = [owner]
        if since is not None:
            sql += " AND at >= ?"
            params.append(since)
        if limit is not None:  # the newest ``limit`` rows, still in id order
            sql = f"SELECT * FROM ({sql} ORDER BY id DESC LIMIT ?) AS newest ORDER BY id"
            params.append(limit)
        else:
            sql += " ORDER BY id"
        return [ledger_entry_of(r) for r in self._read(self._sql(sql), params)]

    # --- operator queues ------------------------------------------------------------------
    def get_messages(self, message_id: int) -> list[StoredMessage]:
        return [message_from_row(r) for r in self._read(self._sql(
            SELECT_MESSAGE + " WHERE message_id = ? ORDER BY part_index, id"), (message_id,))]

    def find_pending(self, account: str, source_addr: str, destination_addr: str,
                     service_type: str) -> list[StoredMessage]:
        sql = SELECT_MESSAGE + " WHERE account = ? AND next_at IS NOT NULL"
        params: list[Any] = [account]
        for column, value in (("source_addr", source_addr),
                              ("destination_addr", destination_addr),
                              ("service_type", service_type)):
            if value:
                sql += f" AND {column} = ?"
                params.append(value)
        return [message_from_row(r) for r in self._read(self._sql(sql + " ORDER BY id"), params)]

    # --- blacklist and portability --------------------------------------------------------
    def remove_blacklist(self, number: str, account: str = "", prefix: bool = False) -> bool:
        with self._write() as conn:
            removed: int = conn.execute(self._sql(
                "DELETE FROM blacklist WHERE account = ? AND number = ? AND prefix = ?"),
                (account, number, int(prefix))).rowcount
            if removed:
                self._bump_changes(conn)
            return removed > 0

    def blacklist(self, account: str | None = None) -> list[BlacklistEntry]:
        sql = "SELECT account, number, prefix, note FROM blacklist"
        params: tuple[Any, ...] = ()
        if account is not None:
            sql += " WHERE account = ?"
            params = (account,)
        return [BlacklistEntry(account=r[0], number=r[1], prefix=bool(r[2]), note=r[3] or "")
                for r in self._read(self._sql(sql + " ORDER BY account, number, prefix"),
                                    params)]

    def remove_ported(self, number: str) -> bool:
        with self._write() as conn:
            removed: int = conn.execute(self._sql("DELETE FROM ported WHERE number = ?"),
                                        (number,)).rowcount
            if removed:
                self._bump_changes(conn)
            return removed > 0

    def ported(self) -> list[PortedNumber]:
        return [PortedNumber(number=r[0], operator=r[1])
                for r in self._read("SELECT number, operator FROM ported ORDER BY number")]

    # --- lockouts -------------------------------------------------------------------------
    def _get_lock(self, conn: Any, key: tuple[str, str, str], *, for_update: bool = False
                  ) -> Lock | None:
        sql = _SELECT_LOCK + self._FOR_UPDATE if for_update else _SELECT_LOCK
        row = conn.execute(self._sql(sql), key).fetchone()
        if row is None:
            return None
        return Lock(kind=LockKind(key[0]), system_id=key[1], address=key[2], failures=row[0],
                    locked_until=row[1], last_failed_at=row[2])

    def set_lock(self, system_id: str, locked_until: float) -> None:
        key = lock_key(LockKind.ACCOUNT, system_id, "")
        with self._write() as conn:
            if locked_until <= 0:
                conn.execute(self._sql("DELETE FROM bind_locks WHERE kind = ? AND system_id = ? "
                                       "AND address = ?"), key)
            else:
                self._put_lock(conn, hand_lock(self._get_lock(conn, key, for_update=True),
                                               system_id, locked_until))
            self._bump_changes(conn)

    def _put_lock(self, conn: Any, s: Lock) -> None:
        conn.execute(self._sql(f"INSERT INTO bind_locks ({LOCK_COLUMNS}) "
                               "VALUES (?, ?, ?, ?, ?, ?) "
                               "ON CONFLICT (kind, system_id, address) DO UPDATE SET "
                               "failures = excluded.failures, "
                               "locked_until = excluded.locked_until, "
                               "last_failed_at = excluded.last_failed_at"),
                     (s.kind.value, s.system_id, s.address, s.failures, s.locked_until,
                      s.last_failed_at))

    def unlock(self, kind: LockKind, system_id: str, address: str) -> bool:
        with self._write() as conn:
            return bool(conn.execute(self._sql(
                "DELETE FROM bind_locks WHERE kind = ? AND system_id = ? AND address = ?"),
                lock_key(kind, system_id, address)).rowcount > 0)

    def locks(self, now: float) -> list[Lock]:
        rows = self._read(self._sql(f"SELECT {LOCK_COLUMNS} FROM bind_locks "
                                    "WHERE locked_until = 0 OR locked_until > ? "
                                    "ORDER BY kind, system_id, address"), (now,))
        return [lock_of(r) for r in rows]

    # --- webhook retries (the claims and failures differ per store) ----------------------------
    _RETRY_WEBHOOK = ("UPDATE outbox SET attempts = ?, not_before = ?, last_error = ? "
                      "WHERE id = ? AND hook_style <> 0")

    def retry_webhook(self, item_id: int, attempts: int, not_before: float, error: str) -> bool:
        return self.retry_webhooks([(item_id, attempts, not_before, error)]) > 0

    def retry_webhooks(self, retries: Sequence[tuple[int, int, float, str]]) -> int:
        if not retries:
            return 0
        sql = self._sql(self._RETRY_WEBHOOK)
        with self._write() as conn:
            written = 0
            for item_id, attempts, not_before, error in retries:
                written += conn.execute(sql, (attempts, not_before,
                                              error[:MAX_WEBHOOK_ERROR], item_id)).rowcount
            return written
