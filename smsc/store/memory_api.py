"""The HTTP API's part of the Store protocol (:class:`smsc.store.api_base.ApiStore`) in plain
containers: a mixin of :class:`smsc.store.memory.MemoryStore`."""

from __future__ import annotations

import bisect
import dataclasses
import threading
from typing import TYPE_CHECKING

from smsc.store.api_pages import PageFilter, page_of
from smsc.store.base import StoreError, UnknownAccount
from smsc.store.http_records import ApiKey, IdempotentAnswer, MessagePage
from smsc.store.records import Account, StoredMessage


class MemoryApiStore:
    """API keys, Idempotency-Key answers and message pages (see ApiStore for the contract)."""

    if TYPE_CHECKING:  # provided by MemoryStore
        _lock: threading.RLock
        _accounts: dict[str, Account]
        _messages: dict[int, StoredMessage]
        _parts: dict[int, list[int]]
        _sent: dict[str, list[int]]
        _changes: int

    def _api_state(self) -> tuple[dict[str, ApiKey], dict[tuple[str, str], IdempotentAnswer]]:
        state = self.__dict__.get("_api")
        if state is None:
            state = self.__dict__["_api"] = ({}, {})
        return state

    # --- API keys -----------------------------------------------------------------------------
    def add_api_key(self, key: ApiKey) -> None:
        with self._lock:
            keys, _ = self._api_state()
            if key.account not in self._accounts:
                raise UnknownAccount(key.account)
            if key.key_id in keys:
                raise StoreError(f"API key id {key.key_id} exists already")
            keys[key.key_id] = key

    def api_key(self, key_id: str) -> ApiKey | None:
        with self._lock:
            return self._api_state()[0].get(key_id)

    def api_keys(self, account: str) -> list[ApiKey]:
        with self._lock:
            found = [k for k in self._api_state()[0].values() if k.account == account]
        return sorted(found, key=lambda k: (k.created_at, k.key_id))

    def revoke_api_key(self, key_id: str, now: float) -> bool:
        with self._lock:
            keys, _ = self._api_state()
            key = keys.get(key_id)
            if key is None or key.revoked_at is not None:
                return False
            keys[key_id] = dataclasses.replace(key, revoked_at=now)
            self._changes += 1
            return True

    def touch_api_key(self, key_id: str, now: float) -> None:
        with self._lock:
            keys, _ = self._api_state()
            if key_id in keys:
                keys[key_id] = dataclasses.replace(keys[key_id], last_used_at=now)

    def _forget_api_keys(self, account: str) -> None:
        """delete_account's part: the account's keys go with it (under the store's lock)."""
        keys, _ = self._api_state()
        for key_id in [k for k, v in keys.items() if v.account == account]:
            del keys[key_id]

    # --- Idempotency-Key answers --------------------------------------------------------------
    def claim_idempotency(self, account: str, key: str, fingerprint: str, now: float,
                          lease_until: float, expires_at: float) -> IdempotentAnswer | None:
        with self._lock:
            _, answers = self._api_state()
            kept = answers.get((account, key))
            if kept is not None and kept.expires_at > now and not (
                    kept.pending and kept.lease_until <= now):
                return kept
            answers[(account, key)] = IdempotentAnswer(
                account=account, key=key, fingerprint=fingerprint, created_at=now,
                expires_at=expires_at, lease_until=lease_until)
            return None

    def finish_idempotency(self, account: str, key: str, status: int, content_type: str,
                           body: bytes) -> None:
        if not status:
            raise ValueError("a finished answer has an HTTP status")
        with self._lock:
            _, answers = self._api_state()
            kept = answers.get((account, key))
            if kept is not None:
                answers[(account, key)] = dataclasses.replace(
                    kept, status=status, content_type=content_type, body=bytes(body))

    def release_idempotency(self, account: str, key: str) -> None:
        with self._lock:
            _, answers = self._api_state()
            kept = answers.get((account, key))
            if kept is not None and kept.pending:
                del answers[(account, key)]

    def purge_idempotency(self, now: float, max_rows: int) -> int:
        with self._lock:
            _, answers = self._api_state()
            gone = [k for k, v in answers.items() if v.expires_at <= now]
            for k in gone:
                del answers[k]
            extra = len(answers) - max_rows
            if extra > 0:
                oldest = sorted(answers, key=lambda k: answers[k].created_at)[:extra]
                for k in oldest:
                    del answers[k]
                return len(gone) + len(oldest)
            return len(gone)

    # --- an account's messages ----------------------------------------------------------------
    def message_page(self, account: str, *, before: int | None, limit: int, scan: int,
                     destination: str | None = None, since: float | None = None,
                     until: float | None = None,
                     reference: str | None = None) -> MessagePage:
        wanted = PageFilter(account=account, before=before, destination=destination,
                            since=since, until=until, reference=reference)
        with self._lock:
            sent = self._sent.get(account, [])
            end = len(sent) if before is None else bisect.bisect_left(sent, before)
            start, floor = 0, None
            if wanted.bounded:  # as the SQL stores: the scan-th part's message id
                read = 0
                for n in range(end - 1, -1, -1):
                    read += len(self._walked(sent[n], wanted))
                    if read >= scan:
                        start, floor = n, sent[n]
                        break
            parts = (p for n in range(end - 1, start - 1, -1)
                     for p in self._walked(sent[n], wanted))
            return page_of(wanted, parts, limit, floor)

    def _walked(self, message_id: int, wanted: PageFilter) -> list[StoredMessage]:
        """The parts of one message id the walk reads: those with the reference asked for."""
        found = [self._messages[i] for i in self._parts[message_id]]
        if wanted.reference is None:
            return found
        return [p for p in found if p.reference == wanted.reference]
