"""The PostgreSQL store's part for webhooks: claims of hooked outbox items (``FOR UPDATE SKIP
LOCKED`` with a lease, so several nodes' couriers share the outbox), their retries, the
failed-webhook list and replays (see the methods' contract in :mod:`smsc.store.base`)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import psycopg

from smsc.store.base import FAILED_WEBHOOKS_KEPT, MAX_WEBHOOK_ERROR
from smsc.store.postgres_rows import SELECT_OUTBOX, outbox_from_row, outbox_row
from smsc.store.records import FailedWebhook, OutboxItem
from smsc.store.sqlite_rows import make_outbox

Conn = psycopg.Connection[Any]
_FAILED_COLUMNS = ("id, account, kind, pdu, created_at, expires_at, message_id, attempts, "
                   "hook_url, hook_style, last_error, failed_at")
_OUTBOX_AS_FAILED = ("id, account, kind, pdu, created_at, expires_at, message_id, attempts, "
                     "hook_url, hook_style")
_UPSERT_FAILED = (f"INSERT INTO webhook_failed ({_FAILED_COLUMNS}) %s ON CONFLICT (id) DO UPDATE "
                  "SET account = excluded.account, kind = excluded.kind, pdu = excluded.pdu, "
                  "created_at = excluded.created_at, expires_at = excluded.expires_at, "
                  "message_id = excluded.message_id, attempts = excluded.attempts, "
                  "hook_url = excluded.hook_url, hook_style = excluded.hook_style, "
                  "last_error = excluded.last_error, failed_at = excluded.failed_at")


class PostgresWebhooks:
    """Mixed into :class:`smsc.store.postgres.PostgresStore`."""

    def _write(self) -> contextlib.AbstractContextManager[Conn]:
        raise NotImplementedError  # PostgresStore's

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError  # PostgresStore's

    def claim_webhooks(self, now: float, limit: int, lease: float, *,
                       keep_failed: int = FAILED_WEBHOOKS_KEPT) -> list[OutboxItem]:
        if limit <= 0 or not self._read("SELECT 1 FROM outbox WHERE hook_style <> 0 "
                                        "AND not_before <= %s LIMIT 1", (now,)):
            return []
        until = now + lease
        with self._write() as conn:
            self._expire_hooked(conn, now, keep_failed)
            # SKIP LOCKED: items another node is claiming right now are left to it.
            rows = conn.execute(SELECT_OUTBOX + " WHERE hook_style <> 0 AND not_before <= %s "
                                "AND expires_at > %s ORDER BY not_before, id LIMIT %s "
                                "FOR UPDATE SKIP LOCKED", (now, now, limit)).fetchall()
            if rows:
                conn.execute("UPDATE outbox SET not_before = %s WHERE id = ANY(%s)",
                             (until, [r[0] for r in rows]))
        out = []
        for r in rows:
            item = outbox_from_row(r)
            out.append(make_outbox(item.id, item.account, item.kind, item.pdu, item.created_at,
                                   item.expires_at, item.message_id, item.attempts, until,
                                   item.hook_url, item.hook_style))
        return out

    def fail_webhook(self, item_id: int, attempts: int, error: str, now: float, *,
                     keep: int = FAILED_WEBHOOKS_KEPT) -> bool:
        with self._write() as conn:
            row = conn.execute(f"DELETE FROM outbox WHERE id = %s AND hook_style <> 0 "
                               f"RETURNING {_OUTBOX_AS_FAILED}", (item_id,)).fetchone()
            if row is None:
                return False
            conn.execute(_UPSERT_FAILED % "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                         (*row[:7], attempts, row[8], row[9], error[:MAX_WEBHOOK_ERROR], now))
            _trim(conn, keep)
        return True

    @staticmethod
    def _expire_hooked(conn: Conn, now: float, keep: int) -> int:
        """Hooked items past their time to live (and not claimed now) to the failed list;
        returns how many."""
        moved: int = conn.execute(
            "WITH gone AS (DELETE FROM outbox WHERE expires_at <= %s AND hook_style <> 0 "
            f"AND not_before <= %s RETURNING {_OUTBOX_AS_FAILED}, last_error) "
            + _UPSERT_FAILED % (f"SELECT {_OUTBOX_AS_FAILED}, CASE WHEN last_error = '' "
                                "THEN 'expired' ELSE last_error END, %s FROM gone"),
            (now, now, now)).rowcount
        if moved:
            _trim(conn, keep)
        return moved

    def release_webhooks(self, ids: Sequence[int], now: float) -> None:
        if ids:
            with self._write() as conn:
                conn.execute("UPDATE outbox SET not_before = %s WHERE id = ANY(%s) "
                             "AND hook_style <> 0 AND not_before > %s", (now, list(ids), now))

    def failed_webhooks(self, account: str | None = None, *, after_id: int = 0,
                        limit: int = 100) -> list[FailedWebhook]:
        sql = f"SELECT {_FAILED_COLUMNS} FROM webhook_failed WHERE id > %s"
        params: list[Any] = [after_id]
        if account is not None:
            sql += " AND account = %s"
            params.append(account)
        return [_failed_from_row(r)
                for r in self._read(sql + " ORDER BY id LIMIT %s", [*params, limit])]

    def replay_webhook(self, item_id: int, now: float, expires_at: float,
                       hook_url: str | None = None) -> OutboxItem | None:
        with self._write() as conn:
            row = conn.execute(f"DELETE FROM webhook_failed WHERE id = %s "
                               f"RETURNING {_FAILED_COLUMNS}", (item_id,)).fetchone()
            if row is None:
                return None
            failed = _failed_from_row(row).item
            url = failed.hook_url if hook_url is None else hook_url
            item = make_outbox(failed.id, failed.account, failed.kind, failed.pdu,
                               failed.created_at, expires_at, failed.message_id, 0, now, url,
                               failed.hook_style)
            conn.execute("INSERT INTO outbox (id, account, kind, pdu, created_at, expires_at, "
                         "message_id, attempts, not_before, hook_url, hook_style) "
                         "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                         outbox_row(item.id, item))
        return item


def _trim(conn: Conn, keep: int) -> None:
    row = conn.execute("SELECT count(*) FROM webhook_failed").fetchone()
    count = int(row[0]) if row is not None else 0
    if count > keep:
        conn.execute("DELETE FROM webhook_failed WHERE id IN (SELECT id FROM webhook_failed "
                     "ORDER BY failed_at, id LIMIT %s)", (count - keep,))


def _failed_from_row(r: Sequence[Any]) -> FailedWebhook:
    # _FAILED_COLUMNS: id account kind pdu created_at expires_at message_id attempts hook_url
    # hook_style last_error failed_at
    item = outbox_from_row((r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], 0.0, r[8], r[9]))
    return FailedWebhook(item=item, attempts=r[7] or 0, last_error=r[10] or "",
                         failed_at=r[11])


__all__ = ["PostgresWebhooks"]
