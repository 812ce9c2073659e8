"""Operator throughput: a token bucket per operator that says how many parts it may take now.

Each operator's bucket fills at its throughput (parts per second) up to its depth (``burst``,
by default one second of throughput) and starts full. The core asks :meth:`available` before
taking due parts of an operator from the store, and :meth:`consume` the number of attempts that
counted. So a backlog (after an outage, or a burst of traffic) drains at the operator's
throughput, whatever its size. A throughput of 0 means no limit.

The buckets are in memory only: after a restart they start full again, which at most lets one
extra burst through.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final

from smsc.operators.profile import DEFAULT_OPERATOR, OperatorProfile

UNLIMITED: Final = 1 << 30


class _Bucket:
    __slots__ = ("depth", "rate", "tokens", "updated")

    def __init__(self, rate: float, depth: float, now: float) -> None:
        self.rate = rate
        self.depth = depth
        self.tokens = depth
        self.updated = now

    def refill(self, now: float) -> None:
        elapsed = now - self.updated
        if elapsed > 0:
            self.tokens = min(self.depth, self.tokens + elapsed * self.rate)
            self.updated = now


class OperatorPacing:
    """Token buckets of every operator; unknown operators use the ``default`` profile's pace.

    Bounded: one bucket per configured operator; unknown names share the ``default`` one.
    """

    __slots__ = ("_buckets", "_profiles")

    def __init__(self, profiles: Mapping[str, OperatorProfile]) -> None:
        self._profiles = dict(profiles)
        self._buckets: dict[str, _Bucket] = {}

    def _bucket(self, operator: str, now: float) -> _Bucket | None:
        key = operator if operator in self._profiles else DEFAULT_OPERATOR
        bucket = self._buckets.get(key)
        if bucket is None:
            profile = self._profiles.get(key)
            if profile is None or profile.throughput <= 0:
                return None
            bucket = _Bucket(profile.throughput, profile.bucket_depth, now)
            self._buckets[key] = bucket
        bucket.refill(now)
        return bucket

    def available(self, operator: str, now: float) -> int:
        """How many parts the operator may take at ``now`` (UNLIMITED without a limit)."""
        bucket = self._bucket(operator, now)
        if bucket is None:
            return UNLIMITED
        return int(bucket.tokens + 1e-9)

    def consume(self, operator: str, count: int, now: float) -> None:
        """Spend ``count`` slots (attempts that counted); the bucket never goes below zero."""
        bucket = self._bucket(operator, now)
        if bucket is not None and count > 0:
            bucket.tokens = max(0.0, bucket.tokens - count)

    def next_slot_at(self, operator: str, now: float) -> float:
        """The earliest time at which at least one part may be taken (``now`` if already)."""
        bucket = self._bucket(operator, now)
        if bucket is None or bucket.tokens + 1e-9 >= 1.0:
            return now
        return now + math.ceil((1.0 - bucket.tokens) / bucket.rate * 1e6) / 1e6
