"""Logins checked recently, so that a client logging in with every request (Kannel's sendsms
sends its username and password with each message) does not cost a password hash each time.

A login whose password matched is remembered for ``ttl`` seconds as a keyed SHA-256 of its
system_id and password under a key of this process (never the password), with the account's
password hash of that moment: a changed password (a new hash) or a different password misses,
and is hashed as always. Only successes are remembered: every failure is hashed and counted
toward the lockout as before, and a lock is checked before the cache is (the caller asks
:meth:`VerifiedLogins.holds` only for a login the store did not refuse). At most ``size``
logins are kept, the oldest forgotten first. Not thread-safe: one thread uses it (the event
loop).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from smsc.store.records import Account

DEFAULT_TTL = 300.0
DEFAULT_SIZE = 10_000


class VerifiedLogins:
    def __init__(self, *, ttl: float = DEFAULT_TTL, size: int = DEFAULT_SIZE) -> None:
        self.ttl = ttl
        self.size = size
        self._key = secrets.token_bytes(32)
        self._seen: dict[bytes, tuple[str, float]] = {}  # digest -> (password hash, until)

    def _digest(self, system_id: str, password: str) -> bytes:
        message = system_id.encode("utf-8", "surrogatepass") + b"\x00" + password.encode(
            "utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def holds(self, account: Account | None, password: str, now: float) -> bool:
        """Whether ``password`` matched ``account``'s password (as it is now) within the TTL."""
        if account is None:
            return False
        digest = self._digest(account.system_id, password)
        seen = self._seen.get(digest)
        if seen is None:
            return False
        password_hash, until = seen
        if now >= until or password_hash != account.password_hash:
            del self._seen[digest]
            return False
        return True

    def remember(self, account: Account, password: str, now: float) -> None:
        """``password`` was just checked and matched ``account``'s."""
        digest = self._digest(account.system_id, password)
        self._seen.pop(digest, None)
        while len(self._seen) >= self.size:
            del self._seen[next(iter(self._seen))]
        self._seen[digest] = (account.password_hash, now + self.ttl)

    def __len__(self) -> int:
        return len(self._seen)


__all__ = ["VerifiedLogins"]
