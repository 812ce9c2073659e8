"""The part of the :class:`smsc.store.base.Store` protocol the customer HTTP API needs: API
keys, the answers kept for an Idempotency-Key, and pages of an account's messages.

Every method is one transaction, like the rest of the protocol. Implementations:
:mod:`smsc.store.sqlite_api` and :mod:`smsc.store.memory_api` (mixed into the two stores)."""

from __future__ import annotations

from typing import Protocol

from smsc.store.http_records import ApiKey, IdempotentAnswer, MessagePage


class ApiStore(Protocol):
    # --- API keys -----------------------------------------------------------------------------
    def add_api_key(self, key: ApiKey) -> None:
        """Store a new key. UnknownAccount when ``key.account`` does not exist; StoreError when
        ``key.key_id`` is taken (by any account, revoked keys included)."""
        ...

    def api_key(self, key_id: str) -> ApiKey | None:
        """The key with that id (revoked ones included), or None."""
        ...

    def api_keys(self, account: str) -> list[ApiKey]:
        """Every key of one account, revoked ones included, oldest first (ties by key_id)."""
        ...

    def revoke_api_key(self, key_id: str, now: float) -> bool:
        """Mark a key revoked at ``now`` (it stays listed) and move the change counter (a
        running server forgets the keys it verified lately); False when there is no such key
        or it was revoked already."""
        ...

    def touch_api_key(self, key_id: str, now: float) -> None:
        """Set a key's ``last_used_at`` to ``now`` (nothing when there is no such key)."""
        ...

    # delete_account removes the account's keys with the account.

    # --- Idempotency-Key answers --------------------------------------------------------------
    def claim_idempotency(self, account: str, key: str, fingerprint: str, now: float,
                          lease_until: float, expires_at: float) -> IdempotentAnswer | None:
        """Claim (account, key) for a request named ``fingerprint``: None when this caller now
        holds the claim (there was no answer kept, the one kept had expired at ``now``, or it
        was a claim whose ``lease_until`` had passed: it is taken over), with a pending row
        stored (``status`` 0, ``lease_until``, ``expires_at``, ``created_at`` = now). Otherwise
        the answer kept, unchanged: finished (a status), or pending within its lease. The
        caller compares fingerprints."""
        ...

    def finish_idempotency(self, account: str, key: str, status: int, content_type: str,
                           body: bytes) -> None:
        """Keep the answer sent for a claimed (account, key): its HTTP status (not 0),
        content type and body. Its expiry stays as claimed. Nothing when there is no row."""
        ...

    def release_idempotency(self, account: str, key: str) -> None:
        """Forget a pending claim whose request got no answer worth keeping (a 5xx): a retry
        runs again. A finished answer is left alone."""
        ...

    def purge_idempotency(self, now: float, max_rows: int) -> int:
        """Forget answers expired at ``now``; then, while more than ``max_rows`` are kept, the
        oldest (by created_at). Returns how many went."""
        ...

    # --- an account's messages ----------------------------------------------------------------
    def message_page(self, account: str, *, before: int | None, limit: int, scan: int,
                     destination: str | None = None, since: float | None = None,
                     until: float | None = None,
                     reference: str | None = None) -> MessagePage:
        """The messages of ``account`` with a message id below ``before`` (None: from the
        newest), newest first, each as all its parts for one destination (a message id with
        several destinations gives one entry per destination, in destination order), matching
        ``destination`` (the stored international number) and ``submitted_at`` in
        [since, until), and ``reference`` (the customer's, exactly) when given. The page
        ends after the message id that brings it to ``limit`` entries (a message id is never
        cut, so a submit_multi's may take a page past ``limit``). Only the account's parts
        are read, by index (those with ``reference`` when it is given); with ``destination``,
        ``since`` or ``until``, the walk reads about ``scan`` of those parts at most, always
        whole message ids, and checks those filters on them: such a page may be short, even
        empty, while older messages remain.
        ``next_before`` is the message id to continue below; None only when nothing older is
        left."""
        ...
