"""Credit arithmetic on a Balance, shared by every store so they agree to the minor unit.

Subscription credit is spent first while its period runs; bought credit never lapses. Nothing here
lets a bucket go below zero. Each function returns the new balance and the signed changes per
bucket, which the store writes as ledger rows in the same transaction.
"""

from __future__ import annotations

import dataclasses

from smsc.store.records import Balance, Bucket, LedgerKind

# A ledger row before it has an id: owner, at, kind, bucket, amount, balance_after, account,
# message_id, note (the LedgerEntry fields after ``id``, in order, as the stores write them).
LedgerRow = tuple[str, float, LedgerKind, Bucket, int, int, str, int | None, str]
LAPSE_NOTE = "subscription period ended"


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


def lapse_row(balance: Balance, now: float) -> tuple[Balance, LedgerRow | None]:
    """:func:`lapse` with its LAPSE ledger row (None when nothing lapsed)."""
    new, lapsed = lapse(balance, now)
    if not lapsed:
        return new, None
    after = new.bought + new.subscription
    return new, (new.owner, now, LedgerKind.LAPSE, Bucket.SUBSCRIPTION, -lapsed, after, "", None,
                 LAPSE_NOTE)


def close_account(balance: Balance, now: float, note: str) -> tuple[Balance, list[LedgerRow]]:
    """Close a removed account's credit: take its (lapsed) balance to zero, an ADJUST row per
    bucket that held credit."""
    owner = balance.owner
    left = balance.bought + balance.subscription
    rows: list[LedgerRow] = []
    for bucket, amount in ((Bucket.SUBSCRIPTION, balance.subscription),
                           (Bucket.BOUGHT, balance.bought)):  # fmt: skip
        if amount:
            left -= amount
            rows.append((owner, now, LedgerKind.ADJUST, bucket, -amount, left, owner, None, note))
    return Balance(owner=owner), rows


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


def refund_rows(balance: Balance, charged: Split, now: float, account: str,
                message_id: int) -> tuple[Balance, Split, list[LedgerRow]]:
    """:func:`refund` of one part's charge with its REFUND ledger rows (subscription first)."""
    new, back = refund(balance, charged, now)
    after = new.bought + new.subscription
    owner = new.owner
    rows: list[LedgerRow] = []
    if back.subscription:
        rows.append((owner, now, LedgerKind.REFUND, Bucket.SUBSCRIPTION, back.subscription,
                     after - back.bought, account, message_id, ""))
    if back.bought:
        rows.append((owner, now, LedgerKind.REFUND, Bucket.BOUGHT, back.bought, after, account,
                     message_id, ""))
    return new, back, rows


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


def top_up_row(balance: Balance, amount: int, bucket: Bucket, now: float, *,
               expires_at: float | None, note: str, account: str,
               kind: LedgerKind | None) -> tuple[Balance, LedgerRow]:
    """:func:`top_up` of one bucket with its ledger row: TOPUP or ADJUST by the sign of
    ``amount`` unless ``kind`` says; the row names ``account`` or else the owner."""
    new, change = top_up(balance, amount, subscription=bucket == Bucket.SUBSCRIPTION,
                         expires_at=expires_at, now=now)
    if kind is None:
        kind = LedgerKind.TOPUP if amount >= 0 else LedgerKind.ADJUST
    return new, (new.owner, now, kind, bucket, change, new.bought + new.subscription,
                 account or new.owner, None, note)
