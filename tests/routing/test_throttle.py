"""Token bucket: burst, refill, limits, unlimited, time going backwards."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsc.routing.throttle import TokenBucket
from smsc.store.records import Account


def test_starts_full_then_refills_at_the_rate() -> None:
    bucket = TokenBucket(rate=10, burst=5)
    assert [bucket.take(0.0) for _ in range(6)] == [True] * 5 + [False]
    assert not bucket.take(0.05)
    assert bucket.take(0.1)
    assert not bucket.take(0.1)
    assert bucket.available(100.0) == 5  # never more than the burst


def test_rounding_does_not_lose_a_token() -> None:
    bucket = TokenBucket(rate=3, burst=1)
    assert bucket.take(0.0)
    assert bucket.take(1 / 3)
    assert bucket.take(2 / 3)


def test_several_tokens_at_once() -> None:
    bucket = TokenBucket(rate=1, burst=4)
    assert bucket.take(0.0, 3)
    assert not bucket.take(0.0, 2)
    assert bucket.take(0.0, 1)
    assert not TokenBucket(rate=1, burst=4).take(0.0, 5)
    assert bucket.wait(0.0, 2) == pytest.approx(2.0)
    assert math.isinf(bucket.wait(0.0, 5))


def test_burst_defaults_to_one_second_of_rate() -> None:
    assert TokenBucket(rate=50).burst == 50
    assert TokenBucket(rate=0.5).burst == 1


def test_unlimited() -> None:
    bucket = TokenBucket(rate=0)
    assert bucket.unlimited
    assert all(bucket.take(0.0, 1000) for _ in range(100))
    assert bucket.wait(0.0, 10**6) == 0.0
    assert math.isinf(bucket.available(0.0))


def test_time_going_backwards_adds_nothing() -> None:
    bucket = TokenBucket(rate=1, burst=1)
    assert bucket.take(100.0)
    assert not bucket.take(50.0)
    assert not bucket.take(100.5)
    assert bucket.take(101.0)


def test_for_account() -> None:
    bucket = TokenBucket.for_account(
        Account(system_id="a", password_hash="", throughput=20, burst=40)
    )
    assert (bucket.rate, bucket.burst) == (20, 40)
    # burst 0: one second of throughput, at least one message
    for throughput, burst in ((20, 20), (0.5, 1)):
        account = Account(system_id="a", password_hash="", throughput=throughput)
        assert TokenBucket.for_account(account).burst == burst


@pytest.mark.parametrize(
    ("rate", "burst"), [(-1, 0), (math.inf, 0), (math.nan, 0), (1, -1), (1, math.inf)]
)
def test_bad_parameters(rate: float, burst: float) -> None:
    with pytest.raises(ValueError, match="must be a finite number"):
        TokenBucket(rate, burst)


@settings(max_examples=200, deadline=None)
@given(
    rate=st.integers(1, 100),
    burst=st.integers(1, 50),
    gaps=st.lists(st.floats(0.0, 0.5), max_size=200),
)
def test_never_more_than_burst_plus_rate_times_elapsed(
    rate: int, burst: int, gaps: list[float]
) -> None:
    bucket = TokenBucket(rate, burst)
    now = 0.0
    taken = 0
    for gap in gaps:
        now += gap
        taken += bucket.take(now)
    assert taken <= burst + rate * now + 1e-6
