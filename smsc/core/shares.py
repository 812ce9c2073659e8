"""Throughput that holds for a cluster, not per node, at little cost per message.

An account's throughput (shared by its SMPP binds and its HTTP calls) and an operator's
throughput are token buckets. On one node they live in memory
(:class:`smsc.routing.throttle.TokenBucket`, :class:`smsc.operators.pacing.OperatorPacing`).
With several nodes the bucket lives in the store (:meth:`smsc.store.base.Store.take_tokens`)
and each node draws a small *share* from it: :func:`share_size` tokens (a tenth of a second's
worth by default), spent locally with no store call, and a new share asked for when the one
in hand runs low. So the store is asked about ten times a second per busy account or operator
per node, whatever the message rate, and the nodes together never spend more than the bucket
gives. A share not spent within ``ttl`` is dropped (so a node cannot save up shares and burst
later): at most one share per node is lost that way, which makes the cluster err on the slow
side by at most one share per node per second.

:class:`SharedBucket` is the account's bucket on the event loop (it asks for more through a
callback the server runs on the store thread); :class:`SharedPacing` is the operators' pacing
on the store thread (it asks the store directly: it already runs there).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from smsc.operators.pacing import UNLIMITED
from smsc.operators.profile import DEFAULT_OPERATOR, OperatorProfile

_EPSILON = 1e-9


@dataclass(frozen=True, slots=True, kw_only=True)
class SharePolicy:
    window: float = 0.1  # a share is this many seconds of the rate
    ttl: float = 1.0  # a share's unspent tokens are dropped after this
    retry: float = 0.02  # seconds before asking again after the store gave nothing


DEFAULT_SHARE_POLICY = SharePolicy()


def share_size(rate: float, burst: float, policy: SharePolicy = DEFAULT_SHARE_POLICY) -> int:
    """Tokens asked for at once: ``policy.window`` seconds of ``rate``, at least 1, at most the
    burst (a bucket never holds more)."""
    burst = burst if burst > 0 else max(1.0, rate)
    return max(1, min(math.ceil(rate * policy.window), math.floor(burst + _EPSILON)))


def account_key(system_id: str) -> str:
    """The store's bucket of an account's throughput."""
    return f"account:{system_id}"


def operator_key(operator: str) -> str:
    """The store's bucket of an operator's throughput."""
    return f"operator:{operator}"


class SharedBucket:
    """An account's throughput on one node of a cluster: the share in hand, spent with
    :meth:`take` like a :class:`smsc.routing.throttle.TokenBucket`. When the share runs low
    (below half a share) and no request is out, ``ask`` is called with the bucket; the
    caller takes tokens from the store and hands them over with :meth:`granted` (or
    :meth:`refused` if the store call failed). Event loop only."""

    __slots__ = ("_expires", "_tokens", "ask", "asking", "burst", "key", "policy", "rate",
                 "size")

    def __init__(self, key: str, rate: float, burst: float,
                 ask: Callable[[SharedBucket], None] | None = None,
                 policy: SharePolicy = DEFAULT_SHARE_POLICY) -> None:
        self.key = key
        self.rate = float(rate)
        self.burst = float(burst) if burst > 0 else max(1.0, self.rate)
        self.policy = policy
        self.size = share_size(self.rate, self.burst, policy)
        self.ask = ask
        self.asking = False
        self._tokens = 0.0
        self._expires = 0.0

    @property
    def unlimited(self) -> bool:
        return self.rate == 0

    def _in_hand(self, now: float) -> float:
        if now >= self._expires:
            self._tokens = 0.0
        return self._tokens

    def _maybe_ask(self, now: float) -> None:
        if not self.asking and self.ask is not None and self._in_hand(now) < self.size / 2:
            self.asking = True
            self.ask(self)

    def available(self, now: float) -> float:
        if self.rate == 0:
            return math.inf
        return self._in_hand(now)

    def take(self, now: float, n: int = 1) -> bool:
        """Spend ``n`` tokens of the share in hand if it has them (asking for more when it runs
        low, whether or not this take fits)."""
        if self.rate == 0:
            return True
        tokens = self._in_hand(now)
        ok = tokens + _EPSILON >= n
        if ok:
            self._tokens = max(0.0, tokens - n)
        self._maybe_ask(now)
        return ok

    def wait(self, now: float, n: int = 1) -> float:
        """Seconds until ``n`` tokens may be there, as the cluster's bucket refills (infinite
        if ``n`` > burst)."""
        if self.rate == 0:
            return 0.0
        if n > self.burst:
            return math.inf
        return max(0.0, (n - self._in_hand(now)) / self.rate)

    def wanted(self) -> int:
        """Tokens to ask the store for."""
        return self.size

    def granted(self, count: int, now: float) -> None:
        """The store gave ``count`` tokens at ``now``: they join the share in hand (kept for
        ``policy.ttl``)."""
        self.asking = False
        if count > 0:
            self._tokens = min(self.burst, self._in_hand(now) + count)
            self._expires = now + self.policy.ttl

    def refused(self) -> None:
        """The store call failed: the next take asks again."""
        self.asking = False


class SharedPacing:
    """The operators' throughput on one node of a cluster, with the interface of
    :class:`smsc.operators.pacing.OperatorPacing` (``available``, ``consume``,
    ``next_slot_at``). ``take(key, rate, burst, want, now)`` is the store's
    :meth:`take_tokens`; it is called on the store thread, where the rounds and the group
    commit ask, only when the share in hand runs low. Unknown operators share the
    ``default`` profile's bucket, as they do on one node."""

    __slots__ = ("_asked", "_expires", "_profiles", "_tokens", "policy", "take")

    def __init__(self, profiles: Mapping[str, OperatorProfile],
                 take: Callable[[str, float, float, int, float], int],
                 policy: SharePolicy = DEFAULT_SHARE_POLICY) -> None:
        self._profiles = dict(profiles)
        self.take = take
        self.policy = policy
        self._tokens: dict[str, float] = {}
        self._expires: dict[str, float] = {}
        self._asked: dict[str, float] = {}  # key -> when asking again is allowed

    def _profile(self, operator: str) -> tuple[str, OperatorProfile | None]:
        key = operator if operator in self._profiles else DEFAULT_OPERATOR
        return key, self._profiles.get(key)

    def _in_hand(self, key: str, now: float) -> float:
        if now >= self._expires.get(key, 0.0):
            self._tokens[key] = 0.0
        return self._tokens.get(key, 0.0)

    def available(self, operator: str, now: float) -> int:
        """Parts the operator may take at ``now`` on this node (UNLIMITED without a limit):
        the share in hand, topped up from the store when below half a share."""
        key, profile = self._profile(operator)
        if profile is None or profile.throughput <= 0:
            return UNLIMITED
        tokens = self._in_hand(key, now)
        rate, depth = profile.throughput, profile.bucket_depth
        size = share_size(rate, depth, self.policy)
        if tokens < size / 2 and now >= self._asked.get(key, 0.0):
            got = self.take(operator_key(key), rate, depth, size, now)
            if got:
                tokens = self._tokens[key] = tokens + got
                self._expires[key] = now + self.policy.ttl
            else:
                self._asked[key] = now + min(self.policy.retry, 1.0 / rate)
        return int(tokens + _EPSILON)

    def consume(self, operator: str, count: int, now: float) -> None:
        """Spend ``count`` slots of the share in hand (never below zero)."""
        key, profile = self._profile(operator)
        if profile is None or profile.throughput <= 0 or count <= 0:
            return
        self._tokens[key] = max(0.0, self._in_hand(key, now) - count)

    def next_slot_at(self, operator: str, now: float) -> float:
        """When a part may be taken: ``now`` with a token in hand (or one to be had), else
        when the cluster's bucket will have made one."""
        if self.available(operator, now) >= 1:
            return now
        _, profile = self._profile(operator)
        assert profile is not None
        return now + 1.0 / profile.throughput


__all__ = ["DEFAULT_SHARE_POLICY", "SharePolicy", "SharedBucket", "SharedPacing",
           "account_key", "operator_key", "share_size"]
