"""Rate-limited log lines: a peer or a fault that repeats itself must not fill the disk.

Each key (a connection and a cause, or a cause alone) has a token bucket: ``burst`` lines at
once, then one every ``1 / rate`` seconds. Lines over it are counted, not written; the next line
that passes says how many similar ones were left out. The table of keys is bounded: when it is
full the oldest key is forgotten (at worst, one more line for it later).
"""

from __future__ import annotations

from collections.abc import Hashable

from smsc.routing.throttle import TokenBucket

LOG_BURST = 5  # lines per key at once
LOG_RATE = 0.2  # then one line per key every 5 seconds
MAX_KEYS = 4096


class LogLimiter:
    """Says whether a log line of a key may be written now, and how many were held back."""

    __slots__ = ("_buckets", "_suppressed", "burst", "max_keys", "rate")

    def __init__(self, *, rate: float = LOG_RATE, burst: int = LOG_BURST,
                 max_keys: int = MAX_KEYS) -> None:
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: dict[Hashable, TokenBucket] = {}
        self._suppressed: dict[Hashable, int] = {}

    def allow(self, key: Hashable, now: float) -> int | None:
        """None: leave this line out. Otherwise write it, adding "N similar lines suppressed"
        when the number returned (the lines left out since the last one written) is not 0."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                oldest = next(iter(self._buckets))
                del self._buckets[oldest]
                self._suppressed.pop(oldest, None)
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst)
        if not bucket.take(now):
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return None
        return self._suppressed.pop(key, 0)

    def forget(self, key: Hashable) -> int:
        """Drop a key (its connection is gone); the lines it had suppressed."""
        self._buckets.pop(key, None)
        return self._suppressed.pop(key, 0)

    def forget_all(self) -> int:
        """Drop every key; the lines they had suppressed, in all."""
        self._buckets.clear()
        total = sum(self._suppressed.values())
        self._suppressed.clear()
        return total

    def __len__(self) -> int:
        return len(self._buckets)


def suppressed_note(count: int) -> str:
    """The tail of a line written after ``count`` similar ones were left out."""
    return f" ({count} similar lines suppressed)" if count else ""
