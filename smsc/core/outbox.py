"""Getting receipts and MO from the store to customers' receivers, without losing or flooding.

The store holds every item until its deliver_sm_resp arrives; this module decides, in memory and
without I/O, which items to load, which bound receiver gets which item (round robin over an
account's rx/trx binds, each within its window), when a failed item is tried again (exponential
backoff), and which ids may be removed from the store. The server layer runs the store calls it
asks for and hands the results back; calls take ``now``.

Loading is pull-only: an account's items are read from the store in id order after the highest id
already loaded. The store assigns ids in commit order, so nothing is skipped, and items written by
another process (``smsc mo inject``) are found by the next pull.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from smsc.store.records import OutboxItem


class Receiver(Protocol):
    """A bound rx/trx session as the dispatcher sees it."""

    @property
    def free_slots(self) -> int: ...


@dataclass(slots=True)
class _AccountQueue:
    receivers: list[Receiver] = field(default_factory=list)
    ready: deque[OutboxItem] = field(default_factory=deque)
    retry: list[tuple[float, int, OutboxItem]] = field(default_factory=list)  # heap
    in_flight: int = 0
    loaded_up_to: int = 0  # highest item id ever loaded
    pull_in_flight: bool = False
    pull_again: bool = False  # new items were announced while a pull was running
    exhausted: bool = False  # the last pull found fewer items than it asked for
    turn: int = 0  # round robin position
    attempts: dict[int, int] = field(default_factory=dict)

    @property
    def held(self) -> int:
        return len(self.ready) + len(self.retry) + self.in_flight


@dataclass(frozen=True, slots=True)
class Pull:
    """Ask the store for up to ``limit`` items of ``account`` with id > ``after_id``."""

    account: str
    after_id: int
    limit: int


class OutboxDispatcher:
    """In-memory part of receipt and MO delivery for every account with a receiver bound."""

    def __init__(self, *, per_account: int = 2000, retry_min: float = 1.0,
                 retry_max: float = 300.0) -> None:
        self.per_account = per_account
        self.retry_min = retry_min
        self.retry_max = retry_max
        self._accounts: dict[str, _AccountQueue] = {}
        self._acks: list[int] = []
        self._seq = 0
        # Ids held in memory, and ids answered whose removal from the store is not confirmed
        # yet: a read that ran before the removal may still return them; they are not taken
        # again (see acks_done).
        self._known: set[int] = set()
        # A node of a cluster delivers an account's outbox only while it holds its lease
        # (smsc.core.cluster.OutboxLeases); None: always (one node).
        self.may_deliver: Callable[[str], bool] | None = None

    # --- receivers ----------------------------------------------------------------------------
    def bound(self, account: str, receiver: Receiver) -> None:
        queue = self._accounts.get(account)
        if queue is None:
            queue = self._accounts[account] = _AccountQueue()
        if receiver not in queue.receivers:
            queue.receivers.append(receiver)
        queue.exhausted = False

    def unbound(self, account: str, receiver: Receiver, unanswered: Iterable[OutboxItem]) -> None:
        """A receiver went away; the items it had not had answered go back to the front."""
        queue = self._accounts.get(account)
        if queue is None:
            return
        if receiver in queue.receivers:
            queue.receivers.remove(receiver)
        back = list(unanswered)
        queue.in_flight -= len(back)
        queue.ready.extendleft(reversed(back))  # in their order, ahead of the rest
        if not queue.receivers and queue.in_flight <= 0:
            # Nobody to deliver to: forget the account; the store still has every item.
            for item in queue.ready:
                self._known.discard(item.id)
            for _, _, item in queue.retry:
                self._known.discard(item.id)
            del self._accounts[account]

    def forget_loaded(self, account: str) -> None:
        """Another node delivers ``account``'s outbox now (this one lost its lease): forget the
        items loaded and not sent (the store keeps them); the next lease reads from the start.
        Items in flight are still answered and removed as usual."""
        queue = self._accounts.get(account)
        if queue is None:
            return
        for item in queue.ready:
            self._known.discard(item.id)
        for _, _, item in queue.retry:
            self._known.discard(item.id)
        queue.ready.clear()
        queue.retry.clear()
        queue.loaded_up_to = 0
        queue.exhausted = False

    def accounts(self) -> list[str]:
        return list(self._accounts)

    # --- loading ------------------------------------------------------------------------------
    def announce(self, accounts: Iterable[str]) -> None:
        """New items were committed for these accounts."""
        for account in accounts:
            queue = self._accounts.get(account)
            if queue is not None:
                queue.exhausted = False
                if queue.pull_in_flight:
                    queue.pull_again = True

    def pulls(self, *, rescan: bool = False) -> list[Pull]:
        """The store reads to run now (each account has at most one running): items after the
        highest id loaded. With ``rescan`` (the periodic poll), every waiting item from the
        start, for every account: that finds items another process wrote (``smsc mo inject``)
        under an id below ones already loaded."""
        out = []
        may = self.may_deliver
        for account, queue in self._accounts.items():
            if queue.pull_in_flight or not queue.receivers:
                continue
            if may is not None and not may(account):
                continue
            if queue.exhausted and not rescan:
                continue
            room = self.per_account - queue.held
            if room < max(1, self.per_account // 4):
                continue
            queue.pull_in_flight = True
            queue.pull_again = False
            out.append(Pull(account, 0 if rescan else queue.loaded_up_to, room))
        return out

    def _take(self, queue: _AccountQueue, item: OutboxItem, now: float) -> None:
        self._known.add(item.id)
        queue.loaded_up_to = max(queue.loaded_up_to, item.id)
        if item.not_before > now:
            self._seq += 1
            heapq.heappush(queue.retry, (item.not_before, self._seq, item))
        else:
            queue.ready.append(item)

    def loaded(self, pull: Pull, items: list[OutboxItem], now: float = 0.0) -> None:
        """The result of a pull; items not to be sent before a later time wait until then."""
        queue = self._accounts.get(pull.account)
        if queue is None:
            return
        queue.pull_in_flight = False
        known = self._known
        for item in items:
            if item.id not in known:
                self._take(queue, item, now)
        queue.exhausted = len(items) < pull.limit and not queue.pull_again

    def offer(self, items: Iterable[OutboxItem], now: float) -> set[str]:
        """Items just committed by this process, in id order. An account whose queue is caught
        up with the store (its last read came back short) takes them at once, even while the
        periodic rescan reads (what it brings back twice is known and skipped); the accounts
        returned must read them from the store instead. Items with a hook (``hook_style``) are
        the webhook courier's and are left out."""
        later: set[str] = set()
        known = self._known
        may = self.may_deliver
        for item in items:
            if item.hook_style:
                continue
            queue = self._accounts.get(item.account)
            if queue is None or not queue.receivers:
                continue
            if may is not None and not may(item.account):
                continue
            if (queue.exhausted and queue.held < self.per_account
                    and item.account not in later):
                if item.id not in known:
                    self._take(queue, item, now)
            else:
                later.add(item.account)
        return later

    def acks_done(self, ids: Iterable[int]) -> None:
        """The store removed these answered items: no later read can return them."""
        self._known.difference_update(ids)

    def acks_failed(self, ids: Iterable[int]) -> None:
        """The store could not remove these answered items: ask again with the next ones."""
        self._acks.extend(ids)

    def pull_failed(self, pull: Pull) -> None:
        queue = self._accounts.get(pull.account)
        if queue is not None:
            queue.pull_in_flight = False

    # --- sending ------------------------------------------------------------------------------
    def assign(self, now: float) -> list[tuple[Receiver, OutboxItem]]:
        """Items to send now, each with the receiver that has room for it."""
        out: list[tuple[Receiver, OutboxItem]] = []
        may = self.may_deliver
        for account, queue in self._accounts.items():
            if not queue.receivers:
                continue
            if may is not None and not may(account):
                continue
            retry = queue.retry
            while retry and retry[0][0] <= now:
                queue.ready.append(heapq.heappop(retry)[2])
            ready = queue.ready
            receivers = queue.receivers
            count = len(receivers)
            room = [r.free_slots for r in receivers]
            while ready:
                item = ready[0]
                if item.expires_at <= now:  # its time to live is over; the store drops it too
                    ready.popleft()
                    self._acks.append(item.id)
                    continue
                for step in range(count):
                    index = (queue.turn + step) % count
                    if room[index] > 0:
                        break
                else:
                    break  # every receiver's window is full
                room[index] -= 1
                queue.turn = (index + 1) % count
                ready.popleft()
                queue.in_flight += 1
                out.append((receivers[index], item))
        return out

    def delivered(self, item: OutboxItem) -> None:
        """Its deliver_sm_resp came back with ESME_ROK (or a permanent refusal)."""
        queue = self._accounts.get(item.account)
        if queue is not None:
            queue.in_flight -= 1
            queue.attempts.pop(item.id, None)
        self._acks.append(item.id)

    def failed(self, item: OutboxItem, now: float) -> float:
        """Answered with an error or not answered in time: try again later. Returns when."""
        queue = self._accounts.get(item.account)
        if queue is None:
            return now
        queue.in_flight -= 1
        tries = queue.attempts.get(item.id, 0) + 1
        queue.attempts[item.id] = tries
        delay: float = min(self.retry_max, self.retry_min * 2.0 ** min(tries - 1, 30))
        self._seq += 1
        heapq.heappush(queue.retry, (now + delay, self._seq, item))
        return now + delay

    @property
    def has_acks(self) -> bool:
        return bool(self._acks)

    def take_acks(self) -> list[int]:
        """Ids the store may now remove."""
        acks, self._acks = self._acks, []
        return acks

    def next_retry(self) -> float | None:
        times: list[float] = [q.retry[0][0] for q in self._accounts.values()
                              if q.retry and q.receivers]
        return min(times) if times else None

    def backlog(self) -> dict[str, int]:
        return {account: q.held for account, q in self._accounts.items()}
