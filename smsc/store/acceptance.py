"""The acceptance plan of a batch: what ``Store.accept`` decides, written once for every store.

A store groups the batch (:func:`group`), reads each credit owner's balance inside its
transaction (lapsing an ended subscription, with its ledger row), hands those balances to
:func:`plan` and writes what the plan says, in the same transaction: the new balances, the DEBIT
ledger rows, one row per accepted part and the receipts of parts final at acceptance. The plan
decides which groups are accepted or refused and why, how each debit splits between subscription
and bought credit (through :func:`smsc.store.credit.debit_many`), which part carries which share
and which parts are held by the accepting process. It reads and writes nothing itself, so a store
that computes it from balances read inside its write transaction can never overdraw, whatever
other processes do meanwhile.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from smsc.pdu.constants import CommandStatus
from smsc.slotted import slot_constructor
from smsc.store import credit
from smsc.store.credit import LedgerRow
from smsc.store.records import (
    AcceptOutcome,
    Balance,
    Bucket,
    FinalAtAcceptance,
    LedgerKind,
    NewMessage,
    OutboxItem,
)

Key = tuple[int, str]  # (message_id, destination_addr): one all-or-nothing group
# message_id, destination_addr, status, charged, part_ids, items (AcceptOutcome's field order)
_outcome = slot_constructor(AcceptOutcome)
_DEBIT, _SUB, _BOUGHT = LedgerKind.DEBIT, Bucket.SUBSCRIPTION, Bucket.BOUGHT


@dataclasses.dataclass(frozen=True, slots=True)
class Groups:
    """A batch grouped: the positions of each group's parts, and each owner's groups, both in
    first-seen order (the order groups are debited in and outcomes are answered in)."""

    parts: dict[Key, list[int]]
    owners: dict[str, list[Key]]


def group(batch: Sequence[NewMessage]) -> Groups:
    """Group the parts by (message_id, destination_addr); a group's credit owner is its first
    part's."""
    parts: dict[Key, list[int]] = {}
    for n, m in enumerate(batch):
        key = (m.message_id, m.destination_addr)
        places = parts.get(key)
        if places is None:
            parts[key] = [n]
        else:
            places.append(n)
    owners: dict[str, list[Key]] = {}
    for key, places in parts.items():
        owners.setdefault(batch[places[0]].credit_owner, []).append(key)
    return Groups(parts, owners)


@dataclasses.dataclass(frozen=True, slots=True)
class Plan:
    """What to write for one accept, and the answers once the rows have their ids.

    ``parts`` lists the accepted parts in the order their rows are written, each as (position in
    the batch, its share of subscription credit, the generation holding it or 0); the rest of its
    price is bought credit. Rows written in this order, with consecutive ids, are what
    :meth:`outcomes` expects."""

    groups: Groups
    refused: dict[Key, AcceptOutcome]  # final answers of the groups stored nothing
    accepted: dict[Key, tuple[int, int, int]]  # charged, index of its first part in parts, count
    parts: list[tuple[int, int, int]]
    balances: list[Balance]  # owners' new balances (only those the debits changed)
    ledger: list[LedgerRow]  # the DEBIT rows, in order
    receipts: list[tuple[Key, OutboxItem]]  # receipts of parts final at acceptance, in parts' order

    def outcomes(self, first_id: int, stored: Sequence[OutboxItem] = (), *,
                 ids: Sequence[int] | None = None) -> list[AcceptOutcome]:
        """One outcome per group, in first-seen order: ``first_id`` is the id of the first
        row of ``parts`` (the others follow one by one) unless ``ids`` gives each row's id
        along ``parts`` (a store whose concurrent writers may interleave ids), ``stored`` the
        receipts as written, with their ids, in the order of ``receipts``."""
        items: dict[Key, list[OutboxItem]] = {}
        for (key, _), item in zip(self.receipts, stored, strict=True):
            items.setdefault(key, []).append(item)
        out = []
        accepted = self.accepted
        for key in self.groups.parts:
            place = accepted.get(key)
            if place is None:
                out.append(self.refused[key])
                continue
            charged, index, count = place
            if ids is None:
                start = first_id + index
                part_ids: tuple[int, ...] = tuple(range(start, start + count))
            else:
                part_ids = tuple(ids[index:index + count])
            out.append(_outcome(key[0], key[1], 0, charged, part_ids,
                                tuple(items.get(key, ()))))
        return out


def plan(batch: Sequence[NewMessage], groups: Groups, balances: Mapping[str, Balance],
         now: float, *, hot_until: float | None = None, generation: int = 0,
         decided: Sequence[FinalAtAcceptance | None] | None = None) -> Plan:
    """Decide an accept from the owners' balances as read (an ended subscription already lapsed;
    an owner missing from ``balances`` has none: its groups are refused with ESME_RSYSERR).

    Each owner's groups are debited in order, subscription credit first; a group whose total
    price does not fit is refused with SMSC_RNOCREDIT and takes nothing (a later, cheaper one may
    still fit). Within an accepted group the subscription share goes to its first parts. A part
    due by ``hot_until`` is held by ``generation`` unless it is ``decided``; a decided part's
    receipt is written with it."""
    refused: dict[Key, AcceptOutcome] = {}
    accepted: dict[Key, tuple[int, int, int]] = {}
    parts: list[tuple[int, int, int]] = []
    new_balances: list[Balance] = []
    ledger: list[LedgerRow] = []
    receipts: list[tuple[Key, OutboxItem]] = []
    positions = groups.parts
    for owner, keys in groups.owners.items():
        b = balances.get(owner)
        if b is None:
            for key in keys:
                refused[key] = _outcome(key[0], key[1], CommandStatus.ESME_RSYSERR, 0, (), ())
            continue
        amounts = [sum(batch[n].price for n in positions[key]) for key in keys]
        new, splits = credit.debit_many(b, amounts, now)
        total = b.bought + b.subscription_now(now)
        for key, amount, split in zip(keys, amounts, splits, strict=True):
            if split is None:
                refused[key] = _outcome(key[0], key[1], CommandStatus.SMSC_RNOCREDIT, 0, (), ())
                continue
            places = positions[key]
            accepted[key] = (amount, len(parts), len(places))
            left = split.subscription
            for n in places:  # the subscription share goes to the first parts
                p = batch[n]
                from_sub = p.price if p.price <= left else left
                left -= from_sub
                done = decided[n] if decided is not None else None
                if done is None:
                    hot = generation if hot_until is not None and p.next_at <= hot_until else 0
                else:
                    hot = 0
                    if done.receipt is not None:
                        receipts.append((key, done.receipt))
                parts.append((n, from_sub, hot))
            account = batch[places[0]].account
            if split.subscription:
                total -= split.subscription
                ledger.append((owner, now, _DEBIT, _SUB, -split.subscription, total, account,
                               key[0], ""))
            if split.bought:
                total -= split.bought
                ledger.append((owner, now, _DEBIT, _BOUGHT, -split.bought, total, account,
                               key[0], ""))
        if new != b:
            new_balances.append(new)
    return Plan(groups, refused, accepted, parts, new_balances, ledger, receipts)
