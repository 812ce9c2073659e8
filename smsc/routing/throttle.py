"""A token bucket: ``rate`` tokens a second, holding at most ``burst``.

The bucket starts full. ``take(now, n)`` spends ``n`` tokens if it has them and says whether it
did; a request for more than ``burst`` tokens never succeeds. A rate of 0 means unlimited. Time
that goes backwards adds nothing (the bucket keeps its latest ``now``).
"""

from __future__ import annotations

import math

from smsc.store.records import Account

__all__ = ["TokenBucket"]

# Tolerance for float rounding: 3 tokens a second for a third of a second is one token.
_EPSILON = 1e-9


class TokenBucket:
    __slots__ = ("_at", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: float = 0) -> None:
        if not (math.isfinite(rate) and rate >= 0):
            raise ValueError(f"rate {rate} must be a finite number, 0 or more")
        if not (math.isfinite(burst) and burst >= 0):
            raise ValueError(f"burst {burst} must be a finite number, 0 or more")
        self.rate = float(rate)
        self.burst = float(burst) if burst > 0 else max(1.0, self.rate)
        self._tokens = self.burst
        self._at: float | None = None

    @classmethod
    def for_account(cls, account: Account) -> TokenBucket:
        """The bucket of an account's ``throughput`` and ``burst``."""
        return cls(account.throughput, account.burst)

    @property
    def unlimited(self) -> bool:
        return self.rate == 0

    def _refill(self, now: float) -> None:
        at = self._at
        if at is None:
            self._at = now
        elif now > at:
            self._tokens = min(self.burst, self._tokens + (now - at) * self.rate)
            self._at = now

    def available(self, now: float) -> float:
        """Tokens at ``now`` (infinite when unlimited)."""
        if self.rate == 0:
            return math.inf
        self._refill(now)
        return self._tokens

    def take(self, now: float, n: int = 1) -> bool:
        """Spend ``n`` tokens at ``now`` if there are that many."""
        if self.rate == 0:
            return True
        self._refill(now)
        if self._tokens + _EPSILON >= n:
            self._tokens = max(0.0, self._tokens - n)
            return True
        return False

    def wait(self, now: float, n: int = 1) -> float:
        """Seconds from ``now`` until ``n`` tokens are there (infinite if ``n`` > burst)."""
        if self.rate == 0:
            return 0.0
        if n > self.burst:
            return math.inf
        self._refill(now)
        return max(0.0, (n - self._tokens) / self.rate)
