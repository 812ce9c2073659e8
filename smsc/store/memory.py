"""The Store protocol in plain Python containers, for fast tests of the layers above the store.

It behaves like :class:`smsc.store.sqlite.SqliteStore` for every method (same ids, ordering,
refusals, ledger rows and change counter), uses :mod:`smsc.store.credit` for the arithmetic and
:mod:`smsc.store.acceptance` for the decisions of an accept, and keeps nothing across processes.
Every method runs under one lock and changes nothing until it cannot fail any more, so each call
is atomic like a database transaction.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from smsc.pdu.constants import MessageState
from smsc.store import acceptance, credit
from smsc.store.base import (
    CLOSED_ACCOUNT_NOTE,
    FAILED_WEBHOOKS_KEPT,
    LOCK_KINDS,
    AccountExists,
    StoreError,
    UnknownAccount,
    count_failure,
    hand_lock,
    lock_key,
)
from smsc.store.claims import LeasedClaims
from smsc.store.credit import LedgerRow
from smsc.store.local_cluster import LocalCluster
from smsc.store.memory_api import MemoryApiStore
from smsc.store.memory_campaigns import MemoryCampaigns
from smsc.store.memory_contacts import MemoryContacts
from smsc.store.memory_webhooks import MemoryWebhooks
from smsc.store.records import (
    AcceptOutcome,
    Account,
    Balance,
    BindLocks,
    BlacklistEntry,
    Bucket,
    FinalAtAcceptance,
    LedgerEntry,
    LedgerKind,
    Lock,
    LockKind,
    LockState,
    MessageChange,
    MessageFilter,
    NewMessage,
    OutboxItem,
    PortedNumber,
    StoredMessage,
    SummaryRow,
)

_T = TypeVar("_T")
_LEDGER_FIELDS = tuple(f.name for f in dataclasses.fields(LedgerEntry))[1:]
_NEW_FIELDS = tuple(f.name for f in dataclasses.fields(NewMessage))
_EDITABLE = ("short_message", "registered_delivery", "scheduled_at", "expires_at", "text_snippet")
_GROUPS = ("account", "operator", "state", "route")
_WAITING = int(MessageState.ENROUTE)  # the state of a stored part waiting in its queue


def _first(items: list[_T], limit: int | None) -> list[_T]:
    """``items[:limit]`` with SQL's meaning of a limit (None or negative: no limit)."""
    return items if limit is None or limit < 0 else items[:limit]


def _matches(m: StoredMessage, q: MessageFilter) -> bool:
    for name in ("account", "state", "operator", "message_id"):
        wanted = getattr(q, name)
        if wanted is not None and getattr(m, name) != wanted:
            return False
    if q.since is not None and m.submitted_at < q.since:
        return False
    return q.until is None or m.submitted_at < q.until


class MemoryStore(MemoryApiStore, MemoryWebhooks, MemoryContacts, MemoryCampaigns, LocalCluster):
    """Everything in dicts and lists; safe to call from several threads (one lock)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._meta: dict[str, str] = {}
        self._next_message_id = 1
        self._changes = 0
        self._accounts: dict[str, Account] = {}
        self._locks: dict[tuple[str, str, str], Lock] = {}  # (kind, system_id, address)
        self._balances: dict[str, Balance] = {}
        self._ledger: dict[str, list[LedgerEntry]] = {}  # per owner, in id order
        self._ledger_id = 0
        self._messages: dict[int, StoredMessage] = {}  # by row id, in id order
        self._parts: dict[int, list[int]] = {}  # message_id -> row ids
        self._sent: dict[str, list[int]] = {}  # account -> its message ids, ascending
        self._pending: set[int] = set()  # row ids with a next_at: the operator queues
        self._hot: dict[int, int] = {}  # row id -> generation of the process holding it
        self._claims = LeasedClaims()  # parts claimed by take_due with a lease
        self._outbox_claims = LeasedClaims()  # outbox items claimed by outbox_for
        self._generation = 0
        self._refund_done: set[int] = set()  # row ids whose refund has been handled
        self._outbox: dict[int, OutboxItem] = {}  # in id order
        self._outbox_id = 0
        self._blacklist: dict[tuple[str, str, bool], BlacklistEntry] = {}
        self._ported: dict[str, str] = {}
        self._init_contacts()
        self._init_campaigns()
        self._init_webhooks()

    # --- lifecycle and meta -----------------------------------------------------------------
    def close(self) -> None:
        """Nothing to release; the data goes with the object."""

    def reserve_ids(self, count: int) -> int:
        if count < 1:
            raise ValueError("count must be positive")
        with self._lock:
            first = self._next_message_id
            self._next_message_id += count
            return first

    def begin_generation(self) -> int:
        with self._lock:
            self._generation += 1
            return self._generation

    def change_counter(self) -> int:
        with self._lock:
            return self._changes

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            return self._meta.get(key)

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._meta[key] = value

    # --- accounts ---------------------------------------------------------------------------
    def _check_parent(self, account: Account) -> None:
        """A parent exists and is a main account; an account with sub-accounts gets no parent."""
        if account.parent is None:
            return
        parent = self._accounts.get(account.parent)
        if parent is None:
            raise UnknownAccount(account.parent)
        if parent.parent is not None or parent.system_id == account.system_id:
            raise StoreError(f"{account.parent} is a sub-account; a parent must be a main account")
        if any(a.parent == account.system_id for a in self._accounts.values()):
            raise StoreError(f"{account.system_id} has sub-accounts; it cannot become one")

    def create_account(self, account: Account) -> None:
        with self._lock:
            if account.system_id in self._accounts:
                raise AccountExists(account.system_id)
            self._check_parent(account)
            self._accounts[account.system_id] = account
            if account.parent is None:
                if account.system_id in self._balances:  # left by a removal before closing it
                    self._close_account_credit(account.system_id, account.created_at)
                self._balances.setdefault(account.system_id, Balance(owner=account.system_id))
            self._changes += 1

    def get_account(self, system_id: str) -> Account | None:
        with self._lock:
            return self._accounts.get(system_id)

    def update_account(self, account: Account) -> None:
        with self._lock:
            old = self._accounts.get(account.system_id)
            if old is None:
                raise UnknownAccount(account.system_id)
            self._check_parent(account)
            new = dataclasses.replace(account, created_at=old.created_at)
            self._accounts[account.system_id] = new
            if account.parent is None:
                self._balances.setdefault(account.system_id, Balance(owner=account.system_id))
            self._changes += 1

    def delete_account(self, system_id: str, *, now: float = 0.0) -> None:
        with self._lock:
            if any(a.parent == system_id for a in self._accounts.values()):
                raise StoreError(f"{system_id} has sub-accounts; remove them first")
            if self._accounts.pop(system_id, None) is None:
                raise UnknownAccount(system_id)
            if system_id in self._balances:
                self._close_account_credit(system_id, now)
            for key in [k for k in self._locks if k[1] == system_id]:
                del self._locks[key]  # its account lock and its pairs' (addresses have no id)
            self._forget_api_keys(system_id)
            self._changes += 1

    def _close_account_credit(self, owner: str, now: float) -> None:
        """Close a removed account's credit: its balance to zero, an ADJUST ledger row per
        bucket that held credit."""
        rows: list[LedgerRow] = []
        zero, closing = credit.close_account(self._current(owner, now, rows), now,
                                             CLOSED_ACCOUNT_NOTE)
        self._commit([zero], rows + closing)

    def list_accounts(self) -> list[Account]:
        with self._lock:
            return [self._accounts[k] for k in sorted(self._accounts)]

    def bind_failed(self, kind: LockKind, system_id: str, address: str, now: float,
                    lock_after: int, lock_for: float) -> LockState:
        key = lock_key(kind, system_id, address)
        with self._lock:
            lock = count_failure(self._locks.get(key), key, now, lock_after, lock_for)
            self._locks[key] = lock
            return lock.state

    def bind_succeeded(self, system_id: str, address: str, now: float) -> None:
        with self._lock:
            for kind in LockKind:
                key = lock_key(kind, system_id, address)
                found = self._locks.get(key)
                if found is not None and found.locked_until <= now:
                    del self._locks[key]

    def bind_locks(self, system_id: str, address: str) -> BindLocks:
        with self._lock:
            get = self._locks.get
            found = [get(lock_key(kind, system_id, address)) for kind in LOCK_KINDS]
        account, pair, at = (LockState() if f is None else f.state for f in found)
        return BindLocks(account=account, pair=pair, address=at)

    def set_lock(self, system_id: str, locked_until: float) -> None:
        key = lock_key(LockKind.ACCOUNT, system_id, "")
        with self._lock:
            if locked_until <= 0:
                self._locks.pop(key, None)
            else:
                self._locks[key] = hand_lock(self._locks.get(key), system_id, locked_until)
            self._changes += 1

    def unlock(self, kind: LockKind, system_id: str, address: str) -> bool:
        with self._lock:
            return self._locks.pop(lock_key(kind, system_id, address), None) is not None

    def locks(self, now: float) -> list[Lock]:
        with self._lock:
            return [lock for _, lock in sorted(self._locks.items())
                    if not (lock.locked_until and lock.locked_until <= now)]

    def purge_locks(self, now: float, stale_before: float, max_counters: int) -> int:
        with self._lock:
            locks = self._locks
            gone = [key for key, lock in locks.items()
                    if (lock.locked_until and lock.locked_until <= now)
                    or (not lock.locked_until and lock.last_failed_at < stale_before)]
            for key in gone:
                del locks[key]
            counters = sorted((lock.last_failed_at, key) for key, lock in locks.items()
                              if not lock.locked_until)
            extra = counters[:max(0, len(counters) - max_counters)]
            for _, key in extra:
                del locks[key]
            return len(gone) + len(extra)

    # --- credit -----------------------------------------------------------------------------
    def _current(self, owner: str, now: float, rows: list[LedgerRow]) -> Balance:
        """The balance with an ended subscription lapsed; the lapse row goes to ``rows``."""
        b = self._balances.get(owner)
        if b is None:
            raise UnknownAccount(owner)
        new, lapsed = credit.lapse_row(b, now)
        if lapsed is not None:
            rows.append(lapsed)
        return new

    def _commit(self, balances: Sequence[Balance], rows: Sequence[LedgerRow]) -> None:
        for b in balances:
            self._balances[b.owner] = b
        for row in rows:
            self._ledger_id += 1
            fields: dict[str, Any] = dict(zip(_LEDGER_FIELDS, row, strict=True))
            self._ledger.setdefault(row[0], []).append(LedgerEntry(id=self._ledger_id, **fields))

    def balance(self, owner: str, now: float) -> Balance:
        with self._lock:
            rows: list[LedgerRow] = []
            b = self._current(owner, now, rows)
            self._commit([b], rows)
            return b

    def credit(self, owner: str, amount: int, bucket: Bucket, now: float, *,
               expires_at: float | None = None, note: str = "",
               account: str = "", kind: LedgerKind | None = None) -> Balance:  # fmt: skip
        with self._lock:
            rows: list[LedgerRow] = []
            b = self._current(owner, now, rows)
            new, row = credit.top_up_row(b, amount, bucket, now, expires_at=expires_at, note=note,
                                         account=account, kind=kind)
            self._commit([new], [*rows, row])
            return new

    def ledger(self, owner: str, *, since: float | None = None,
               limit: int | None = None) -> list[LedgerEntry]:  # fmt: skip
        with self._lock:
            rows = [r for r in self._ledger.get(owner, ()) if since is None or r.at >= since]
        if limit is None or limit < 0:
            return rows
        return rows[len(rows) - min(limit, len(rows)) :]  # the newest rows, in id order

    # --- acceptance -------------------------------------------------------------------------
    def accept(self, batch: Sequence[NewMessage], now: float, *, hot_until: float | None = None,
               generation: int = 0,
               decided: Sequence[FinalAtAcceptance | None] | None = None
               ) -> list[AcceptOutcome]:
        groups = acceptance.group(batch)
        with self._lock:
            lapses: list[LedgerRow] = []
            read: dict[str, Balance] = {}
            for owner in groups.owners:
                with contextlib.suppress(UnknownAccount):  # its groups are refused
                    read[owner] = self._current(owner, now, lapses)
            plan = acceptance.plan(batch, groups, read, now, hot_until=hot_until,
                                   generation=generation, decided=decided)
            self._commit([*read.values(), *plan.balances], lapses + plan.ledger)
            first_id = len(self._messages) + 1
            for row_id, (n, from_sub, hot) in enumerate(plan.parts, first_id):
                p = batch[n]
                fields: dict[str, Any] = {name: getattr(p, name) for name in _NEW_FIELDS}
                fields.update(
                    id=row_id, charged_subscription=from_sub, charged_bought=p.price - from_sub
                )
                done = decided[n] if decided is not None else None
                if done is None:
                    if hot:
                        self._hot[row_id] = hot
                    fields.update(state=_WAITING, attempts=0, done_at=None, error_code=0,
                                  refunded=0)
                    self._pending.add(row_id)
                else:
                    fields.update(state=done.state, attempts=done.attempts, done_at=done.done_at,
                                  error_code=done.error_code, next_at=None, refunded=0)
                self._messages[row_id] = StoredMessage(**fields)
                if p.message_id not in self._parts:
                    bisect.insort(self._sent.setdefault(p.account, []), p.message_id)
                self._parts.setdefault(p.message_id, []).append(row_id)
            stored = self._add_outbox([item for _, item in plan.receipts])
        return plan.outcomes(first_id, stored)

    # --- operator queues --------------------------------------------------------------------
    def take_due(self, now: float, limit: int, operators: Sequence[str] | None = None, *,
                 exclude_generation: int | None = None,
                 lease: float = 0.0) -> list[StoredMessage]:  # fmt: skip
        with self._lock:
            held = self._claims.held(now)
            due = [self._messages[i] for i in self._pending
                   if (exclude_generation is None or self._hot.get(i, 0) != exclude_generation)
                   and i not in held]
            due = [m for m in due if m.next_at is not None and m.next_at <= now]
            if operators is not None:
                due = [m for m in due if m.operator in operators]
            due.sort(key=lambda m: (m.next_at, m.id))
            taken = _first(due, limit)
            if lease > 0:
                self._claims.claim((m.id for m in taken), now + lease)
        return taken

    def apply(self, changes: Sequence[MessageChange], outbox: Sequence[OutboxItem],
              now: float) -> list[OutboxItem]:  # fmt: skip
        with self._lock:
            refunds = sorted({c.id for c in changes if c.refund})
            if refunds:
                self._refund(refunds, now)
            for c in changes:  # in order: a later change of the same part wins
                m = self._messages.get(c.id)
                if m is None:
                    continue
                self._hot.pop(c.id, None)
                self._claims.end((c.id,))
                edits = {k: getattr(c, k) for k in _EDITABLE if getattr(c, k) is not None}
                m = dataclasses.replace(m, state=c.state, next_at=c.next_at, **edits)
                m = dataclasses.replace(m, attempts=c.attempts, done_at=c.done_at)
                self._messages[c.id] = dataclasses.replace(m, error_code=c.error_code)
                if c.next_at is None:
                    self._pending.discard(c.id)
                else:
                    self._pending.add(c.id)
            return self._add_outbox(outbox)

    def _refund(self, ids: list[int], now: float) -> None:
        balances: dict[str, Balance] = {}
        lapses: list[LedgerRow] = []
        rows: list[LedgerRow] = []
        refunded: dict[int, int] = {}
        for row_id in ids:
            m = self._messages.get(row_id)
            if m is None or row_id in self._refund_done:
                continue
            if not (m.charged_subscription or m.charged_bought):
                continue
            owner = m.credit_owner
            b = balances.get(owner) or self._current(owner, now, lapses)
            charged = credit.Split(subscription=m.charged_subscription, bought=m.charged_bought)
            b, back, back_rows = credit.refund_rows(b, charged, now, m.account, m.message_id)
            balances[owner] = b
            rows += back_rows
            refunded[row_id] = back.total
        self._commit(list(balances.values()), lapses + rows)
        for row_id, amount in refunded.items():
            self._messages[row_id] = dataclasses.replace(self._messages[row_id], refunded=amount)
            self._refund_done.add(row_id)

    def queue_depths(self) -> dict[str, int]:
        with self._lock:
            depths = Counter(self._messages[i].operator for i in self._pending)
        return dict(sorted(depths.items()))

    def get_messages(self, message_id: int) -> list[StoredMessage]:
        with self._lock:
            parts = [self._messages[i] for i in self._parts.get(message_id, ())]
        return sorted(parts, key=lambda m: (m.part_index, m.id))

    def find_pending(self, account: str, source_addr: str, destination_addr: str,
                     service_type: str) -> list[StoredMessage]:  # fmt: skip
        wanted = [("source_addr", source_addr), ("destination_addr", destination_addr)]
        wanted = [(k, v) for k, v in (*wanted, ("service_type", service_type)) if v]
        with self._lock:
            found = [self._messages[i] for i in sorted(self._pending)]
        return [
            m for m in found if m.account == account and all(getattr(m, k) == v for k, v in wanted)
        ]

    # --- outbox -----------------------------------------------------------------------------
    def _add_outbox(self, items: Sequence[OutboxItem]) -> list[OutboxItem]:
        out = []
        for item in items:
            self._outbox_id += 1  # never reused, even after the newest item is removed
            out.append(dataclasses.replace(item, id=self._outbox_id))
            self._outbox[self._outbox_id] = out[-1]
        return out

    def add_outbox(self, items: Sequence[OutboxItem]) -> list[OutboxItem]:
        with self._lock:
            return self._add_outbox(items)

    def outbox_for(self, account: str, after_id: int, limit: int, now: float, *,
                   hooked: bool = False, lease: float = 0.0) -> list[OutboxItem]:
        with self._lock:
            held = self._outbox_claims.held(now)
            found = sorted((i for i in self._outbox.values()
                            if i.account == account and i.id > after_id
                            and bool(i.hook_style) == hooked and i.id not in held),
                           key=lambda i: i.id)
            taken = _first([i for i in found if i.expires_at > now], limit)
            if lease > 0:
                self._outbox_claims.claim((i.id for i in taken), now + lease)
        return taken

    def release_outbox(self, ids: Sequence[int]) -> None:
        with self._lock:
            self._outbox_claims.end(ids)

    def ack_outbox(self, ids: Sequence[int]) -> None:
        with self._lock:
            self._outbox_claims.end(ids)
            for i in ids:
                self._outbox.pop(i, None)
                self._webhook_errors.pop(i, None)

    def expire_outbox(self, now: float, *, keep_failed: int = FAILED_WEBHOOKS_KEPT) -> int:
        with self._lock:
            before = len(self._outbox)
            self._expire_hooked(now, keep_failed)
            moved = before - len(self._outbox)
            gone = [i for i, item in self._outbox.items()
                    if item.expires_at <= now and not item.hook_style]
            for i in gone:
                del self._outbox[i]
        return moved + len(gone)

    def outbox_count(self, account: str | None = None) -> int:
        with self._lock:
            items = list(self._outbox.values())
        return sum(1 for item in items if account is None or item.account == account)

    # --- blacklist and number portability ---------------------------------------------------
    def add_blacklist(self, entries: Sequence[BlacklistEntry]) -> int:
        added = 0
        with self._lock:
            for e in entries:
                key = (e.account, e.number, e.prefix)
                if key not in self._blacklist:
                    self._blacklist[key] = e
                    added += 1
            self._changes += added > 0
        return added

    def remove_blacklist(self, number: str, account: str = "", prefix: bool = False) -> bool:
        with self._lock:
            removed = self._blacklist.pop((account, number, prefix), None) is not None
            self._changes += removed
        return removed

    def blacklist(self, account: str | None = None) -> list[BlacklistEntry]:
        with self._lock:
            entries = sorted(self._blacklist.items())
        return [e for key, e in entries if account is None or key[0] == account]

    def add_ported(self, entries: Sequence[PortedNumber]) -> int:
        with self._lock:
            for e in entries:
                self._ported[e.number] = e.operator
            self._changes += 1
        return len(entries)

    def remove_ported(self, number: str) -> bool:
        with self._lock:
            removed = self._ported.pop(number, None) is not None
            self._changes += removed
        return removed

    def ported(self) -> list[PortedNumber]:
        with self._lock:
            return [PortedNumber(number=n, operator=o) for n, o in sorted(self._ported.items())]

    # --- reports ----------------------------------------------------------------------------
    def messages(self, query: MessageFilter) -> Iterator[StoredMessage]:
        with self._lock:
            found = [m for m in self._messages.values() if _matches(m, query)]
        return iter(_first(found, query.limit))

    def summary(self, group_by: Sequence[str], query: MessageFilter) -> list[SummaryRow]:
        for g in group_by:
            if g not in _GROUPS:
                raise StoreError(f"cannot group by {g!r}; use account, operator, state or route")
        with self._lock:
            found = [m for m in self._messages.values() if _matches(m, query)]
        groups: dict[tuple[str, ...], list[StoredMessage]] = {}
        for m in found:
            groups.setdefault(tuple(str(getattr(m, g)) for g in group_by), []).append(m)
        return [
            SummaryRow(key=key, parts=len(parts), messages=len({m.message_id for m in parts}),
                       charged=sum(m.charged_subscription + m.charged_bought for m in parts),
                       refunded=sum(m.refunded for m in parts),
                       states=dict(Counter(m.state for m in parts)))
            for key, parts in sorted(groups.items())
        ]  # fmt: skip
