"""Credit arithmetic: unit rules, and properties under any interleaving of operations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsc.routing.credit import debit, lapse, refund, running, top_up
from smsc.store.records import Balance, Bucket, LedgerKind

EMPTY = Balance(owner="o")


def test_subscription_is_spent_first() -> None:
    balance = Balance(owner="o", bought=100, subscription=30, subscription_expires_at=50.0)
    result = debit(balance, 40, 10.0)
    assert result is not None
    new, from_subscription, from_bought = result
    assert (from_subscription, from_bought) == (30, 10)
    assert (new.subscription, new.bought) == (0, 90)


def test_debit_that_does_not_fit_takes_nothing() -> None:
    balance = Balance(owner="o", bought=10, subscription=5)
    assert debit(balance, 16, 0.0) is None
    assert debit(balance, 15, 0.0) is not None


def test_an_ended_subscription_is_not_spent_nor_touched() -> None:
    balance = Balance(owner="o", bought=10, subscription=50, subscription_expires_at=5.0)
    assert debit(balance, 11, 5.0) is None
    result = debit(balance, 10, 5.0)
    assert result is not None
    new, from_subscription, from_bought = result
    assert (from_subscription, from_bought) == (0, 10)
    assert new.subscription == 50  # left for lapse(), which writes its own ledger row
    assert lapse(new, 5.0) == (
        Balance(owner="o", bought=0, subscription=0, subscription_expires_at=5.0),
        50,
    )


def test_zero_debit() -> None:
    assert debit(EMPTY, 0, 0.0) == (EMPTY, 0, 0)


def test_refund_gives_the_subscription_part_back_only_while_it_runs() -> None:
    balance = Balance(owner="o", bought=0, subscription=0, subscription_expires_at=100.0)
    assert refund(balance, 7, 3, 50.0) == (
        Balance(owner="o", bought=3, subscription=7, subscription_expires_at=100.0),
        7,
        3,
    )
    assert refund(balance, 7, 3, 100.0) == (
        Balance(owner="o", bought=3, subscription=0, subscription_expires_at=100.0),
        0,
        3,
    )
    assert refund(balance, 0, 0, 0.0) == (balance, 0, 0)


def test_lapse_only_after_the_period() -> None:
    balance = Balance(owner="o", subscription=9, subscription_expires_at=10.0)
    assert lapse(balance, 9.9) == (balance, 0)
    assert lapse(balance, 10.0)[1] == 9
    assert lapse(Balance(owner="o", subscription=9), 1e12) == (
        Balance(owner="o", subscription=9),
        0,
    )
    assert running(Balance(owner="o"), 1e12)


def test_top_up_buckets_and_new_periods() -> None:
    new, lapsed = top_up(EMPTY, 5, Bucket.BOUGHT, 0.0)
    assert (new.bought, lapsed) == (5, 0)
    ended = Balance(owner="o", subscription=4, subscription_expires_at=10.0)
    new, lapsed = top_up(ended, 6, Bucket.SUBSCRIPTION, 20.0, expires_at=30.0)
    assert lapsed == 4
    assert (new.subscription, new.subscription_expires_at) == (6, 30.0)
    new, lapsed = top_up(new, 1, Bucket.SUBSCRIPTION, 21.0)  # same period goes on
    assert (new.subscription, new.subscription_expires_at, lapsed) == (7, 30.0, 0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: debit(EMPTY, -1, 0.0), "negative"),
        (lambda: refund(EMPTY, -1, 0, 0.0), "negative"),
        (lambda: top_up(EMPTY, -1, Bucket.BOUGHT, 0.0), "negative"),
        (lambda: top_up(EMPTY, 10**16, Bucket.BOUGHT, 0.0), "beyond"),
        (lambda: top_up(EMPTY, 1, Bucket.SUBSCRIPTION, 5.0, expires_at=5.0), "end after now"),
        (
            lambda: top_up(
                Balance(owner="o", subscription_expires_at=1.0), 1, Bucket.SUBSCRIPTION, 5.0
            ),
            "new end",
        ),
    ],
)
def test_refusals(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


# --- properties -------------------------------------------------------------------------------


@dataclass
class Ledger:
    """What a store would write: one row per non-zero change, signed, per bucket."""

    rows: list[tuple[LedgerKind, Bucket, int]] = field(default_factory=list)

    def add(self, kind: LedgerKind, bucket: Bucket, amount: int) -> None:
        if amount:
            self.rows.append((kind, bucket, amount))

    def total(self, bucket: Bucket | None = None) -> int:
        return sum(a for _, b, a in self.rows if bucket is None or b == bucket)


operations = st.lists(
    st.one_of(
        st.tuples(st.just("buy"), st.integers(0, 500)),
        st.tuples(st.just("subscribe"), st.integers(0, 500), st.sampled_from([None, 5.0, 50.0])),
        st.tuples(st.just("debit"), st.integers(0, 120)),
        st.tuples(st.just("refund"), st.integers(0, 50)),
        st.tuples(st.just("lapse")),
        st.tuples(st.just("wait"), st.floats(0.0, 20.0)),
    ),
    max_size=60,
)


@settings(max_examples=400, deadline=None)
@given(operations)
def test_any_interleaving_keeps_the_ledger_equal_to_the_balance(ops: list[tuple[Any, ...]]) -> None:
    balance = EMPTY
    ledger = Ledger()
    now = 0.0
    charges: list[tuple[int, int]] = []
    for op in ops:
        kind = op[0]
        before = balance
        if kind == "buy":
            balance, lapsed = top_up(balance, op[1], Bucket.BOUGHT, now)
            assert lapsed == 0
            ledger.add(LedgerKind.TOPUP, Bucket.BOUGHT, op[1])
        elif kind == "subscribe":
            period = op[2]
            if period is None and not running(balance, now):
                period = 10.0  # a top-up into an ended period must start a new one
            expires = None if period is None else now + period
            balance, lapsed = top_up(balance, op[1], Bucket.SUBSCRIPTION, now, expires_at=expires)
            ledger.add(LedgerKind.LAPSE, Bucket.SUBSCRIPTION, -lapsed)
            ledger.add(LedgerKind.TOPUP, Bucket.SUBSCRIPTION, op[1])
        elif kind == "debit":
            available = before.available(now)
            result = debit(balance, op[1], now)
            assert (result is None) == (op[1] > available)
            if result is not None:
                balance, from_subscription, from_bought = result
                assert from_subscription + from_bought == op[1]
                # Subscription first: bought credit is used only once the running
                # subscription credit is gone.
                assert from_bought == 0 or from_subscription == before.subscription_now(now)
                assert balance.available(now) == available - op[1]
                ledger.add(LedgerKind.DEBIT, Bucket.SUBSCRIPTION, -from_subscription)
                ledger.add(LedgerKind.DEBIT, Bucket.BOUGHT, -from_bought)
                charges.append((from_subscription, from_bought))
            else:
                assert balance == before
        elif kind == "refund":
            if charges:
                from_subscription, from_bought = charges.pop(op[1] % len(charges))
                balance, to_subscription, to_bought = refund(
                    balance, from_subscription, from_bought, now
                )
                assert to_bought == from_bought
                assert to_subscription in (0, from_subscription)
                ledger.add(LedgerKind.REFUND, Bucket.SUBSCRIPTION, to_subscription)
                ledger.add(LedgerKind.REFUND, Bucket.BOUGHT, to_bought)
        elif kind == "lapse":
            balance, lapsed = lapse(balance, now)
            ledger.add(LedgerKind.LAPSE, Bucket.SUBSCRIPTION, -lapsed)
            assert balance.subscription_now(now) == balance.subscription
        else:
            now += op[1]
        assert ledger.total() == balance.bought + balance.subscription
        assert ledger.total(Bucket.BOUGHT) == balance.bought
        assert ledger.total(Bucket.SUBSCRIPTION) == balance.subscription
        assert balance.bought >= 0 and balance.subscription >= 0
        assert balance.available(now) >= 0


@settings(max_examples=200, deadline=None)
@given(
    bought=st.integers(0, 1000),
    subscription=st.integers(0, 1000),
    price=st.integers(1, 97),
)
def test_exactly_floor_of_balance_over_price_parts_fit(
    bought: int, subscription: int, price: int
) -> None:
    balance = Balance(
        owner="o", bought=bought, subscription=subscription, subscription_expires_at=100.0
    )
    accepted = 0
    while (result := debit(balance, price, 1.0)) is not None:
        balance = result[0]
        accepted += 1
    assert accepted == (bought + subscription) // price
    assert balance.available(1.0) == (bought + subscription) % price
