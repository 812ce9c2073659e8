"""API keys: how they are made, stored and checked (the HTTP API's logins).

A key is ``smsc_<id>.<secret>``: ``id`` (12 hex digits) is public and names the key (``smsc
apikey list`` shows ``smsc_<id>`` as its prefix); ``secret`` is 32 random octets in URL-safe
base64. Only the SHA-256 of the secret is stored: a random secret of 256 bits needs no slow
password hash (scrypt guards guessable passwords; nobody guesses 256 random bits), so the check
is cheap enough to run for every request on the store thread.

A failed check counts toward the same lockout as a failed bind (:class:`smsc.core.binds.
BindDesk`): a key that does not exist (or is revoked, or is not a key at all) counts like an
unknown system_id against the caller's address; a known id with a wrong secret counts like a
wrong password against the (account, address) pair. While a lock is in force the secret is not
checked and the refusal says nothing more than any other refusal.

A key that passed the whole check is remembered for a few seconds (:class:`VerifiedKeys`, per
key and address, ``KEY_TTL``), so a busy client's requests do not each wait for the store
thread. What is remembered is forgotten at once when any key is refused (a refusal may have set
a lock) and when the store's change counter moves (an account, a lock or a key changed: ``smsc
apikey revoke`` moves it), so a revoked key stops working within the server's next look at the
counter (a second), and whatever happens within ``KEY_TTL``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from smsc.core.binds import BindDesk
from smsc.store.http_records import ApiKey
from smsc.store.records import Account, BindType

PREFIX = "smsc_"
_TOKEN = re.compile(r"smsc_([0-9a-f]{12})\.([A-Za-z0-9_-]{20,100})")
TOUCH_EVERY = 60.0  # last_used_at is written at most once a minute per key
KEY_TTL = 5.0  # seconds a key that passed the check is taken without asking the store again
MAX_VERIFIED = 10_000  # (key, address) pairs remembered at most


@dataclass(frozen=True, slots=True, kw_only=True)
class NewKey:
    """A key just made: ``token`` is shown once and never stored; ``record`` is what is."""

    token: str
    record: ApiKey


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyVerdict:
    """The account a key logs in as, or None with the reason (for the log only: the caller
    is told nothing but that it is not authenticated)."""

    account: Account | None
    reason: str = ""
    key_id: str = ""


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def make_key(account: str, now: float, note: str = "") -> NewKey:
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return NewKey(token=f"{PREFIX}{key_id}.{secret}",
                  record=ApiKey(key_id=key_id, account=account, secret_hash=hash_secret(secret),
                                created_at=now, note=note))


def parse_token(token: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed key, else None."""
    match = _TOKEN.fullmatch(token)
    return (match.group(1), match.group(2)) if match else None


class VerifiedKeys:
    """Keys that passed :meth:`ApiKeyDesk.authenticate` lately, by (SHA-256 of the key,
    address): their verdict for ``ttl`` seconds. Only successes are kept (every refusal goes
    to the store and counts toward the locks), at most ``limit`` pairs (the oldest go first).
    Used on the event loop; takes ``now``."""

    def __init__(self, ttl: float = KEY_TTL, limit: int = MAX_VERIFIED) -> None:
        self.ttl = ttl
        self.limit = limit
        self._kept: dict[tuple[bytes, str], tuple[float, KeyVerdict]] = {}

    @staticmethod
    def _name(token: str, address: str) -> tuple[bytes, str]:
        return hashlib.sha256(token.encode("utf-8", "replace")).digest(), address

    def get(self, token: str, address: str, now: float) -> KeyVerdict | None:
        name = self._name(token, address)
        kept = self._kept.get(name)
        if kept is None:
            return None
        if now >= kept[0] or now < kept[0] - self.ttl:  # expired, or the clock went back
            del self._kept[name]
            return None
        return kept[1]

    def put(self, token: str, address: str, verdict: KeyVerdict, now: float) -> None:
        if verdict.account is None or self.ttl <= 0:
            return
        name = self._name(token, address)
        self._kept.pop(name, None)
        while len(self._kept) >= self.limit:
            del self._kept[next(iter(self._kept))]
        self._kept[name] = (now + self.ttl, verdict)

    def clear(self) -> None:
        self._kept.clear()

    def __len__(self) -> int:
        return len(self._kept)


class ApiKeyDesk:
    """Checks API keys with the lockout rules of binds; its methods run on the store thread."""

    def __init__(self, binds: BindDesk) -> None:
        self.binds = binds

    def authenticate(self, token: str, address: str, now: float) -> KeyVerdict:
        store = self.binds.store
        parsed = parse_token(token)
        key = store.api_key(parsed[0]) if parsed is not None else None
        if key is not None and key.revoked:
            key = None
        check = self.binds.check(key.account if key is not None else "", address, now)
        if check.refused is not None:
            return KeyVerdict(account=None, reason=check.refused.reason)
        ok = (key is not None and parsed is not None
              and hmac.compare_digest(hash_secret(parsed[1]), key.secret_hash))
        verdict = self.binds.finish(check, ok, BindType.TRANSMITTER, now)
        if verdict.status or verdict.account is None or key is None:
            what = "unknown or revoked API key" if key is None else "wrong API key secret"
            return KeyVerdict(account=None, reason=f"{what}: {verdict.reason}")
        if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY:
            store.touch_api_key(key.key_id, now)
        return KeyVerdict(account=verdict.account, key_id=key.key_id)


__all__ = ["KEY_TTL", "PREFIX", "ApiKeyDesk", "KeyVerdict", "NewKey", "VerifiedKeys",
           "hash_secret", "make_key", "parse_token"]
