"""The records the store keeps for the customer HTTP API: API keys, the answers kept for an
Idempotency-Key, and a page of an account's messages.

Plain frozen dataclasses like :mod:`smsc.store.records`; times are POSIX seconds."""

from __future__ import annotations

from dataclasses import dataclass

from smsc.store.records import StoredMessage


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKey:
    """An account's API key. The key itself is never stored: ``secret_hash`` is the hex
    SHA-256 of its secret part (a high-entropy random string, so a fast hash is enough);
    ``key_id`` is the public part, also shown by ``smsc apikey list`` as the key's prefix."""

    key_id: str
    account: str
    secret_hash: str
    created_at: float
    last_used_at: float | None = None
    revoked_at: float | None = None
    note: str = ""

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class IdempotentAnswer:
    """The answer kept for one (account, Idempotency-Key): ``status`` 0 while the first request
    is still being answered (claimed until ``lease_until``), else the HTTP status, content type
    and body octets sent, to be sent again byte for byte. ``fingerprint`` names the request
    (method, path and body) so a different request with the same key is told apart."""

    account: str
    key: str
    fingerprint: str
    created_at: float
    expires_at: float
    lease_until: float = 0.0
    status: int = 0
    content_type: str = ""
    body: bytes = b""

    @property
    def pending(self) -> bool:
        return self.status == 0


@dataclass(frozen=True, slots=True, kw_only=True)
class MessagePage:
    """Some of an account's messages, newest message id first, each as its parts (in part
    order); ``next_before`` is the message id to continue below (None: nothing older)."""

    messages: tuple[tuple[StoredMessage, ...], ...]
    next_before: int | None
