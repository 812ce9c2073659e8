"""Credit arithmetic on a Balance, shared by every store so they agree to the minor unit.

Subscription credit is spent first while its period runs; bought credit never lapses. Nothing here
lets a bucket go below zero. Each function returns the new balance and the signed changes per
bucket, which the store writes as ledger rows in the same transaction.
"""

from __future__ import annotations

import dataclasses

from smsc.store.records import Balance


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Split:
    """How much of an amount came from (or went back to) each bucket."""

    subscription: int = 0
    bought: int = 0

    @property
    def total(self) -> int:
        return self.subscription + self.bought


def lapse(balance: Balance, now: float) -> tuple[Balance, int]:
    """Zero a subscription whose period has ended; returns the new balance and the lapsed amount."""
    expires = balance.subscription_expires_at
    if expires is None or expires > now or balance.subscription == 0:
        return balance, 0
    return dataclasses.replace(balance, subscription=0), balance.subscription


def debit_many(
    balance: Balance, amounts: list[int], now: float
) -> tuple[Balance, list[Split | None]]:
    """Debit several amounts in order, subscription credit first (an amount that does not fit
    is refused and takes nothing; later, smaller ones may still fit); one balance at the end."""
    subscription = balance.subscription_now(now)
    bought = balance.bought
    splits: list[Split | None] = []
    for amount in amounts:
        if amount < 0:
            raise ValueError("a debit is never negative")
        if subscription + bought < amount:
            splits.append(None)
            continue
        from_subscription = amount if amount <= subscription else subscription
        subscription -= from_subscription
        bought -= amount - from_subscription
        splits.append(Split(subscription=from_subscription, bought=amount - from_subscription))
    return dataclasses.replace(balance, subscription=subscription, bought=bought), splits


def refund(balance: Balance, charged: Split, now: float) -> tuple[Balance, Split]:
    """Give a charge back: the bought part always; the subscription part only while the
    subscription period still runs (credit that would have lapsed is not revived)."""
    expires = balance.subscription_expires_at
    running = expires is None or expires > now
    back_subscription = charged.subscription if running else 0
    new = dataclasses.replace(
        balance,
        subscription=balance.subscription + back_subscription,
        bought=balance.bought + charged.bought,
    )
    return new, Split(subscription=back_subscription, bought=charged.bought)


def top_up(
    balance: Balance, amount: int, *, subscription: bool, expires_at: float | None, now: float
) -> tuple[Balance, int]:
    """Add (or with a negative amount, take away, never below zero) credit in one bucket.

    Returns the new balance and the change actually made. A subscription top-up with
    ``expires_at`` starts a new period (an expired subscription lapses first)."""
    if subscription:
        current = balance.subscription_now(now)
        change = max(amount, -current)
        expiry = expires_at if expires_at is not None else balance.subscription_expires_at
        return (
            dataclasses.replace(
                balance, subscription=current + change, subscription_expires_at=expiry
            ),
            change,
        )
    change = max(amount, -balance.bought)
    return dataclasses.replace(balance, bought=balance.bought + change), change
