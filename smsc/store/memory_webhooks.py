"""The memory store's part for webhooks: claims of hooked outbox items, their retries, the
failed-webhook list and replays (see the methods' contract in :mod:`smsc.store.base`)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence

from smsc.store.base import FAILED_WEBHOOKS_KEPT, MAX_WEBHOOK_ERROR
from smsc.store.records import FailedWebhook, OutboxItem


class MemoryWebhooks:
    """Mixed into :class:`smsc.store.memory.MemoryStore` (which owns the lock and outbox)."""

    _lock: threading.RLock
    _outbox: dict[int, OutboxItem]

    def _init_webhooks(self) -> None:
        self._webhook_errors: dict[int, str] = {}  # outbox id -> last error
        self._failed: dict[int, FailedWebhook] = {}

    def claim_webhooks(self, now: float, limit: int, lease: float, *,
                       keep_failed: int = FAILED_WEBHOOKS_KEPT) -> list[OutboxItem]:
        with self._lock:
            self._expire_hooked(now, keep_failed)
            due = sorted((i for i in self._outbox.values()
                          if i.hook_style and i.not_before <= now and i.expires_at > now),
                         key=lambda i: (i.not_before, i.id))[:max(limit, 0)]
            out = [dataclasses.replace(i, not_before=now + lease) for i in due]
            for item in out:
                self._outbox[item.id] = item
        return out

    def retry_webhook(self, item_id: int, attempts: int, not_before: float, error: str) -> bool:
        with self._lock:
            item = self._outbox.get(item_id)
            if item is None or not item.hook_style:
                return False
            self._outbox[item_id] = dataclasses.replace(item, attempts=attempts,
                                                        not_before=not_before)
            self._webhook_errors[item_id] = error[:MAX_WEBHOOK_ERROR]
        return True

    def retry_webhooks(self, retries: Sequence[tuple[int, int, float, str]]) -> int:
        with self._lock:
            return sum(self.retry_webhook(*retry) for retry in retries)

    def fail_webhook(self, item_id: int, attempts: int, error: str, now: float, *,
                     keep: int = FAILED_WEBHOOKS_KEPT) -> bool:
        with self._lock:
            item = self._outbox.get(item_id)
            if item is None or not item.hook_style:
                return False
            self._move_to_failed(item, attempts, error, now)
            self._trim(keep)
        return True

    def _move_to_failed(self, item: OutboxItem, attempts: int, error: str, now: float) -> None:
        del self._outbox[item.id]
        self._webhook_errors.pop(item.id, None)
        self._failed[item.id] = FailedWebhook(
            item=dataclasses.replace(item, attempts=attempts, not_before=0.0),
            attempts=attempts, last_error=error[:MAX_WEBHOOK_ERROR], failed_at=now)

    def _trim(self, keep: int) -> None:
        extra = len(self._failed) - keep
        if extra > 0:
            oldest = sorted(self._failed.values(), key=lambda f: (f.failed_at, f.item.id))
            for failed in oldest[:extra]:
                del self._failed[failed.item.id]

    def _expire_hooked(self, now: float, keep: int) -> None:
        """Hooked items past their time to live (and not claimed now) to the failed list."""
        gone = [i for i in self._outbox.values()
                if i.hook_style and i.expires_at <= now and i.not_before <= now]
        for item in gone:
            error = self._webhook_errors.get(item.id) or "expired"
            self._move_to_failed(item, item.attempts, error, now)
        if gone:
            self._trim(keep)

    def release_webhooks(self, ids: Sequence[int], now: float) -> None:
        with self._lock:
            for item_id in ids:
                item = self._outbox.get(item_id)
                if item is not None and item.hook_style and item.not_before > now:
                    self._outbox[item_id] = dataclasses.replace(item, not_before=now)

    def failed_webhooks(self, account: str | None = None, *, after_id: int = 0,
                        limit: int = 100) -> list[FailedWebhook]:
        with self._lock:
            found = sorted((f for f in self._failed.values()
                            if f.item.id > after_id
                            and (account is None or f.item.account == account)),
                           key=lambda f: f.item.id)
        return found[:max(limit, 0)]

    def replay_webhook(self, item_id: int, now: float, expires_at: float,
                       hook_url: str | None = None) -> OutboxItem | None:
        with self._lock:
            failed = self._failed.pop(item_id, None)
            if failed is None:
                return None
            item = dataclasses.replace(
                failed.item, attempts=0, not_before=now, expires_at=expires_at,
                hook_url=failed.item.hook_url if hook_url is None else hook_url)
            self._outbox[item.id] = item
        return item
