"""The SQLite store's part for webhooks: claims of hooked outbox items, their retries, the
failed-webhook list and replays (see the methods' contract in :mod:`smsc.store.base`)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from typing import Any

from smsc.store.base import FAILED_WEBHOOKS_KEPT, MAX_WEBHOOK_ERROR
from smsc.store.records import FailedWebhook, OutboxItem
from smsc.store.sqlite_batch import update_ids
from smsc.store.sqlite_rows import SELECT_OUTBOX, make_outbox, outbox_from_row

_DUE = ("WHERE hook_style != 0 AND not_before <= ? AND expires_at > ? "
        "ORDER BY not_before, id LIMIT ?")
_FAILED_COLUMNS = ("id, account, kind, pdu, created_at, expires_at, message_id, attempts, "
                   "hook_url, hook_style, last_error, failed_at")
_OUTBOX_AS_FAILED = ("id, account, kind, pdu, created_at, expires_at, message_id, attempts, "
                     "hook_url, hook_style")


class SqliteWebhooks:
    """Mixed into :class:`smsc.store.sqlite.SqliteStore`."""

    def _write(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    def claim_webhooks(self, now: float, limit: int, lease: float, *,
                       keep_failed: int = FAILED_WEBHOOKS_KEPT) -> list[OutboxItem]:
        if limit <= 0 or not self._read("SELECT id FROM outbox WHERE hook_style != 0 "
                                        "AND not_before <= ? LIMIT 1", (now,)):
            return []
        until = now + lease
        with self._write() as conn:
            self._expire_hooked(conn, now, keep_failed)
            rows = conn.execute(SELECT_OUTBOX + " " + _DUE, (now, now, limit)).fetchall()
            update_ids(conn, "UPDATE outbox SET not_before = ? WHERE id", (until,),
                       [r[0] for r in rows])
        # each item made once, its not_before the lease (column 8 of OUTBOX_COLUMNS)
        return [outbox_from_row((*r[:8], until, *r[9:])) for r in rows]

    def fail_webhook(self, item_id: int, attempts: int, error: str, now: float, *,
                     keep: int = FAILED_WEBHOOKS_KEPT) -> bool:
        with self._write() as conn:
            moved = conn.execute(
                f"INSERT OR REPLACE INTO webhook_failed ({_FAILED_COLUMNS}) "
                f"SELECT id, account, kind, pdu, created_at, expires_at, message_id, ?, "
                f"hook_url, hook_style, ?, ? FROM outbox WHERE id = ? AND hook_style != 0",
                (attempts, error[:MAX_WEBHOOK_ERROR], now, item_id)).rowcount
            if not moved:
                return False
            conn.execute("DELETE FROM outbox WHERE id = ?", (item_id,))
            _trim(conn, keep)
        return True

    @staticmethod
    def _expire_hooked(conn: sqlite3.Connection, now: float, keep: int) -> int:
        """Hooked items past their time to live (and not claimed now) to the failed list;
        returns how many."""
        moved: int = conn.execute(
            f"INSERT OR REPLACE INTO webhook_failed ({_FAILED_COLUMNS}) "
            f"SELECT {_OUTBOX_AS_FAILED}, CASE WHEN COALESCE(last_error, '') = '' "
            f"THEN 'expired' ELSE last_error END, ? FROM outbox "
            f"WHERE expires_at <= ? AND hook_style != 0 AND not_before <= ?",
            (now, now, now)).rowcount
        if moved:
            conn.execute("DELETE FROM outbox WHERE expires_at <= ? AND hook_style != 0 "
                         "AND not_before <= ?", (now, now))
            _trim(conn, keep)
        return moved

    def release_webhooks(self, ids: Sequence[int], now: float) -> None:
        if ids:
            with self._write() as conn:
                conn.executemany("UPDATE outbox SET not_before = ? WHERE id = ? "
                                 "AND hook_style != 0 AND not_before > ?",
                                 [(now, item_id, now) for item_id in ids])

    def failed_webhooks(self, account: str | None = None, *, after_id: int = 0,
                        limit: int = 100) -> list[FailedWebhook]:
        sql = f"SELECT {_FAILED_COLUMNS} FROM webhook_failed WHERE id > ?"
        params: list[Any] = [after_id]
        if account is not None:
            sql += " AND account = ?"
            params.append(account)
        return [_failed_from_row(r)
                for r in self._read(sql + " ORDER BY id LIMIT ?", [*params, limit])]

    def replay_webhook(self, item_id: int, now: float, expires_at: float,
                       hook_url: str | None = None) -> OutboxItem | None:
        with self._write() as conn:
            row = conn.execute(f"SELECT {_FAILED_COLUMNS} FROM webhook_failed WHERE id = ?",
                               (item_id,)).fetchone()
            if row is None:
                return None
            failed = _failed_from_row(row).item
            url = failed.hook_url if hook_url is None else hook_url
            conn.execute("INSERT INTO outbox (id, account, kind, pdu, created_at, expires_at, "
                         "message_id, attempts, not_before, hook_url, hook_style, last_error) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, '')",
                         (failed.id, failed.account, int(failed.kind), failed.pdu,
                          failed.created_at, expires_at, failed.message_id, now, url,
                          failed.hook_style))
            conn.execute("DELETE FROM webhook_failed WHERE id = ?", (item_id,))
        return make_outbox(failed.id, failed.account, failed.kind, failed.pdu, failed.created_at,
                           expires_at, failed.message_id, 0, now, url, failed.hook_style)


def _trim(conn: sqlite3.Connection, keep: int) -> None:
    (count,) = conn.execute("SELECT count(*) FROM webhook_failed").fetchone()
    if count > keep:
        conn.execute("DELETE FROM webhook_failed WHERE id IN (SELECT id FROM webhook_failed "
                     "ORDER BY failed_at, id LIMIT ?)", (count - keep,))


def _failed_from_row(r: Sequence[Any]) -> FailedWebhook:
    # _FAILED_COLUMNS: id account kind pdu created_at expires_at message_id attempts hook_url
    # hook_style last_error failed_at
    item = outbox_from_row((r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], 0.0, r[8], r[9]))
    return FailedWebhook(item=item, attempts=r[7] or 0, last_error=r[10] or "",
                         failed_at=r[11])


__all__ = ["SqliteWebhooks"]
