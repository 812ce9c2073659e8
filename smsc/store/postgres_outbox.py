"""The PostgreSQL store's outbox (receipts and MO waiting for a customer's receiver): a mixin
of :class:`smsc.store.postgres.PostgresStore`. Item ids come from a sequence; items can be
claimed with a lease (``outbox_for`` with ``lease``: ``FOR UPDATE SKIP LOCKED``), so the
receivers of one account bound to several nodes each get different items."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import psycopg

from smsc.store.base import FAILED_WEBHOOKS_KEPT
from smsc.store.postgres_batch import QueuedIds, insert_rows
from smsc.store.postgres_rows import (
    OUTBOX_INSERTED,
    SELECT_OUTBOX,
    outbox_from_row,
    outbox_row,
    stored_outbox,
)
from smsc.store.records import OutboxItem
from smsc.store.sql_parts import SqlStoreParts

Conn = psycopg.Connection[Any]


class PostgresOutbox(SqlStoreParts[Conn]):
    """Mixed into :class:`smsc.store.postgres.PostgresStore`."""

    def _lazy_write(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError  # PostgresStore's

    if TYPE_CHECKING:  # PostgresWebhooks' (after this class in PostgresStore's bases)
        @staticmethod
        def _expire_hooked(conn: Conn, now: float, keep: int) -> int: ...

    def _add_outbox(self, conn: Conn, items: Sequence[OutboxItem],
                    ids: Sequence[int] | None = None) -> list[OutboxItem]:
        """Add items under ``ids`` (fresh ones of outbox_id_seq; drawn here without)."""
        if not items:
            return []
        if ids is None:
            ids = QueuedIds(conn, "outbox_id_seq", len(items)).fetched()
        insert_rows(conn, "outbox", OUTBOX_INSERTED,
                    [outbox_row(item_id, i) for item_id, i in zip(ids, items, strict=True)])
        return stored_outbox(ids, items)

    def add_outbox(self, items: Sequence[OutboxItem]) -> list[OutboxItem]:
        with self._write() as conn:
            return self._add_outbox(conn, items)

    def outbox_for(self, account: str, after_id: int, limit: int, now: float, *,
                   hooked: bool = False, lease: float = 0.0) -> list[OutboxItem]:
        which = "hook_style <> 0" if hooked else "hook_style = 0"
        sql = (SELECT_OUTBOX + f" WHERE account = %s AND id > %s AND expires_at > %s AND {which} "
               "AND claimed_until <= %s ORDER BY id LIMIT %s")
        params = (account, after_id, now, now, limit)
        if lease <= 0:
            return [outbox_from_row(r) for r in self._read(sql, params)]
        # One statement: the items no other claimer holds (SKIP LOCKED), claimed.
        rows = self._lazy_write("UPDATE outbox SET claimed_until = %s WHERE id IN (SELECT id "
                                f"FROM ({sql} FOR UPDATE SKIP LOCKED) AS listed) RETURNING "
                                + ", ".join(OUTBOX_INSERTED), (now + lease, *params))
        return sorted((outbox_from_row(r) for r in rows), key=lambda i: i.id)

    def release_outbox(self, ids: Sequence[int]) -> None:
        if ids:
            self._lazy_write("UPDATE outbox SET claimed_until = 0 WHERE id = ANY(%s)",
                             (list(ids),))

    def ack_outbox(self, ids: Sequence[int]) -> None:
        if ids:  # a lost ack sends a receipt again: allowed (at least once)
            self._lazy_write("DELETE FROM outbox WHERE id = ANY(%s)", (list(ids),))

    def expire_outbox(self, now: float, *, keep_failed: int = FAILED_WEBHOOKS_KEPT) -> int:
        with self._write() as conn:
            moved = self._expire_hooked(conn, now, keep_failed)
            return moved + conn.execute("DELETE FROM outbox WHERE expires_at <= %s "
                                        "AND hook_style = 0", (now,)).rowcount

    def outbox_count(self, account: str | None = None) -> int:
        if account is None:
            return int(self._read("SELECT count(*) FROM outbox")[0][0])
        return int(self._read("SELECT count(*) FROM outbox WHERE account = %s",
                              (account,))[0][0])
