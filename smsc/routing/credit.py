"""Credit arithmetic on a :class:`~smsc.store.records.Balance`, exact and total.

A balance has two buckets of minor units: **subscription** credit, which lapses when its period
ends (``subscription_expires_at``), and **bought** credit, which never lapses. Every function
returns the new balance together with the signed amounts it moved per bucket, and those amounts
are exactly the changes between the old and the new balance: a store that writes one ledger row
per non-zero amount (in the same transaction) keeps ``sum(ledger) == bought + subscription``.

Rules:

* ``debit`` spends subscription credit first while the period runs, then bought credit. It takes
  the whole amount or nothing (None): never a partial debit, never a negative bucket. An ended
  period's subscription credit is not spent (and not touched: ``lapse`` removes it, with its own
  ledger row).
* ``refund`` gives back what a debit took: the bought part always, the subscription part only
  while the subscription period runs at ``now``. Subscription credit refunded after its period
  ended is not given back (it would have lapsed by now); ``refund`` returns what it did give
  back, so the ledger says so.
* ``lapse`` removes the subscription credit of an ended period.
* ``top_up`` adds to one bucket; a subscription top-up first lapses an ended period's credit
  (returned separately, for its ledger row) and may start a new period.

These functions raise only ValueError, and only for arguments no caller should pass (negative
amounts, an amount beyond :data:`smsc.routing.prices.MAX_AMOUNT`, a subscription top-up that
would leave its credit in an ended period).
"""

from __future__ import annotations

import dataclasses

from smsc.routing.prices import MAX_AMOUNT
from smsc.store.records import Balance, Bucket

__all__ = ["debit", "lapse", "refund", "running", "top_up"]


def _amount(amount: int, what: str) -> int:
    if amount < 0:
        raise ValueError(f"{what} {amount} is negative")
    if amount > MAX_AMOUNT:
        raise ValueError(f"{what} {amount} is beyond {MAX_AMOUNT}")
    return amount


def running(balance: Balance, now: float) -> bool:
    """Whether the subscription period runs at ``now`` (no end set counts as running)."""
    expires = balance.subscription_expires_at
    return expires is None or expires > now


def debit(balance: Balance, amount: int, now: float) -> tuple[Balance, int, int] | None:
    """``(new_balance, from_subscription, from_bought)``, or None when ``amount`` is more than
    the credit available at ``now``. A debit of 0 succeeds and changes nothing."""
    _amount(amount, "debit")
    subscription = balance.subscription if running(balance, now) else 0
    if amount > subscription + balance.bought:
        return None
    from_subscription = min(subscription, amount)
    from_bought = amount - from_subscription
    if amount == 0:
        return balance, 0, 0
    new = dataclasses.replace(
        balance,
        subscription=balance.subscription - from_subscription,
        bought=balance.bought - from_bought,
    )
    return new, from_subscription, from_bought


def refund(
    balance: Balance, from_subscription: int, from_bought: int, now: float
) -> tuple[Balance, int, int]:
    """``(new_balance, to_subscription, to_bought)``: give back a debit's parts (the
    subscription part only while the period runs)."""
    _amount(from_subscription, "refund")
    _amount(from_bought, "refund")
    to_subscription = from_subscription if running(balance, now) else 0
    if to_subscription == 0 and from_bought == 0:
        return balance, 0, 0
    new = dataclasses.replace(
        balance,
        subscription=balance.subscription + to_subscription,
        bought=balance.bought + from_bought,
    )
    return new, to_subscription, from_bought


def lapse(balance: Balance, now: float) -> tuple[Balance, int]:
    """``(new_balance, lapsed_amount)``: zero the subscription credit of an ended period."""
    if running(balance, now) or balance.subscription == 0:
        return balance, 0
    return dataclasses.replace(balance, subscription=0), balance.subscription


def top_up(
    balance: Balance, amount: int, bucket: Bucket, now: float, *, expires_at: float | None = None
) -> tuple[Balance, int]:
    """``(new_balance, lapsed_amount)`` after adding ``amount`` to ``bucket``.

    For the subscription bucket, the credit of an ended period lapses first (``lapsed_amount``,
    0 otherwise) and ``expires_at``, when given, sets the end of the period (a new period when
    the old one ended). The ledger rows are then: a lapse of ``lapsed_amount`` (if any) and a
    top-up of ``amount``."""
    _amount(amount, "top-up")
    if bucket == Bucket.BOUGHT:
        return dataclasses.replace(balance, bought=balance.bought + amount), 0
    if expires_at is not None and expires_at <= now:
        raise ValueError("a subscription period must end after now")
    if expires_at is None and not running(balance, now):
        raise ValueError("the subscription period has ended: a top-up must set a new end")
    balance, lapsed = lapse(balance, now)
    expiry = balance.subscription_expires_at if expires_at is None else expires_at
    return (
        dataclasses.replace(
            balance, subscription=balance.subscription + amount, subscription_expires_at=expiry
        ),
        lapsed,
    )
