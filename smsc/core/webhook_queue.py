"""The webhook events in memory (event loop): which claimed events go out next and together,
within the limits of calls in flight overall and per host, and the verdicts waiting to be
written.

When a host has a slot free, its next call takes the oldest group of events waiting for it
(JSON events of one URL and secret; a Kannel event is a group of its own), at most the policy's
``batch`` of them, in the order they were created; the host's groups take turns. Only events
already waiting are grouped: nothing waits to fill a call, so with light traffic each call
carries one event.

Like :class:`smsc.core.outbox.OutboxDispatcher` for SMPP receivers, it decides without I/O; the
server's ``smsc.server.webhooks.WebhookCourier`` runs the store calls and the HTTP calls it
asks for. Memory is bounded by ``max_held`` items claimed and not yet settled in the store.

A host that struggles (its last call failed, or took over a quarter of the timeout) keeps at
most ``2 * per_host`` calls' worth of events (``2 * per_host * batch``) waiting here: what a
claim brings beyond that for it is left to its lease (claimed again when the lease ends), so a
slow or failing customer cannot fill the memory every other customer's webhooks go through.
"""

from __future__ import annotations

import random
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Iterable

from smsc.core.webhooks import (
    DEFAULT_POLICY,
    Verdict,
    WebhookCall,
    WebhookEvent,
    WebhookPolicy,
    acknowledged,
    acknowledges,
    call_of,
    judge,
)
from smsc.store.records import OutboxItem

MAX_STRUGGLING = 4096  # hosts remembered as struggling, the most recent ones


class WebhookQueue:
    def __init__(self, policy: WebhookPolicy = DEFAULT_POLICY,
                 draw: Callable[[], float] = random.random) -> None:
        self.policy = policy
        self._draw = draw
        self._held: set[int] = set()  # ids claimed, their verdict not written yet
        # by host, then by group (the host's groups in turn), each in claim order
        self._waiting: dict[str, dict[Hashable, deque[WebhookEvent]]] = {}
        self._queued: dict[str, int] = {}  # events waiting per host
        self._turn: deque[str] = deque()  # hosts with events waiting, round robin
        self._running: dict[str, int] = {}  # calls in flight per host
        self._started: dict[int, float] = {}  # call key -> when the call started
        self._struggling: OrderedDict[str, None] = OrderedDict()
        self.in_flight = 0
        self._verdicts: list[tuple[OutboxItem, Verdict]] = []
        self.claiming = False
        self._claim_again = False
        # events sent, acknowledged, retried, failed and left to their lease; calls made
        self.counts = {"sent": 0, "acked": 0, "retried": 0, "failed": 0, "deferred": 0,
                       "calls": 0}

    # --- claims -----------------------------------------------------------------------------------
    def claim_size(self) -> int:
        """How many items to claim now (0: none; a claim is running, or memory is full). A
        caller that gets a number must call :meth:`claimed` or :meth:`claim_failed`."""
        if self.claiming:
            self._claim_again = True
            return 0
        room = self.policy.max_held - len(self._held)
        if room < min(self.policy.claim_batch, max(1, self.policy.max_held // 4)):
            return 0
        self.claiming = True
        self._claim_again = False
        return min(self.policy.claim_batch, room)

    def claimed(self, events: Iterable[WebhookEvent], asked: int) -> bool:
        """The result of a claim; whether to claim again at once (it came back full, or a
        wake-up came meanwhile). Items held already (claimed again after their lease while
        still waiting here) are not taken twice; items of a struggling host past its share
        are left to their lease (counted ``deferred``)."""
        self.claiming = False
        count = 0
        share = 2 * self.policy.per_host * self.policy.batch
        waiting, queued = self._waiting, self._queued
        for event in events:
            count += 1
            item_id = event.item.id
            if item_id in self._held:
                continue
            host = event.host
            groups = waiting.get(host)
            if host in self._struggling and groups is not None and queued[host] >= share:
                self.counts["deferred"] += 1
                continue
            self._held.add(item_id)
            if groups is None:
                groups = waiting[host] = {}
                queued[host] = 0
                self._turn.append(host)
            group = groups.get(event.group)
            if group is None:
                group = groups[event.group] = deque()
            group.append(event)
            queued[host] += 1
        return count >= asked or self._claim_again

    def claim_failed(self) -> None:
        self.claiming = False

    # --- sending ----------------------------------------------------------------------------------
    def sendable(self, now: float = 0.0) -> list[WebhookCall]:
        """Calls to start now (signed at ``now``): round robin over hosts, each within
        ``per_host``, all within ``max_in_flight``; each call the next group's events waiting,
        at most ``batch``."""
        out: list[WebhookCall] = []
        policy = self.policy
        batch = policy.batch
        turn = self._turn
        stalled = 0
        events = 0
        while turn and self.in_flight < policy.max_in_flight and stalled < len(turn):
            host = turn[0]
            turn.rotate(-1)
            if self._running.get(host, 0) >= policy.per_host:
                stalled += 1
                continue
            stalled = 0
            groups = self._waiting[host]
            key = next(iter(groups))
            group = groups.pop(key)
            taken = [group.popleft() for _ in range(min(len(group), batch))]
            if group:
                groups[key] = group  # after the host's other groups
            if len(taken) > 1:
                taken.sort(key=_created)
            call = call_of(taken, now)
            events += len(taken)
            self._started[call.key] = now
            out.append(call)
            self._running[host] = self._running.get(host, 0) + 1
            self.in_flight += 1
            self._queued[host] -= len(taken)
            if not groups:
                del self._waiting[host]
                del self._queued[host]
                turn.remove(host)
        self.counts["sent"] += events
        self.counts["calls"] += len(out)
        return out

    def answered(self, call: WebhookCall, status: int | None, error: str,
                 now: float) -> list[tuple[OutboxItem, Verdict]]:
        """A call ended: with HTTP ``status``, or none (``error`` says why). Returns the verdict
        of each item it carried (see :func:`smsc.core.webhooks.judge`: a 2xx acknowledges
        them all, anything else retries each), queued for :meth:`take_verdicts`."""
        host = call.host
        self.in_flight -= 1
        left = self._running.get(host, 1) - 1
        if left > 0:
            self._running[host] = left
        else:
            self._running.pop(host, None)
        took = now - self._started.pop(call.key, now)
        ok = acknowledges(status)
        if ok and took <= self.policy.timeout / 4:
            self._struggling.pop(host, None)
        else:
            self._struggling[host] = None
            self._struggling.move_to_end(host)
            if len(self._struggling) > MAX_STRUGGLING:
                self._struggling.popitem(last=False)
        counts = self.counts
        if ok:  # judge's verdict for every item, without a call of judge each
            verdicts = [(item, acknowledged(item.attempts + 1)) for item in call.items]
            counts["acked"] += len(verdicts)
        else:
            verdicts = [(item, judge(item, status, error, now, self.policy, self._draw))
                        for item in call.items]
            for _, verdict in verdicts:
                counts[_COUNTED[verdict.action]] += 1
        self._verdicts.extend(verdicts)
        return verdicts

    # --- writing the verdicts --------------------------------------------------------------------
    @property
    def has_verdicts(self) -> bool:
        return bool(self._verdicts)

    @property
    def verdicts(self) -> int:
        """Verdicts waiting to be written."""
        return len(self._verdicts)

    def take_verdicts(self) -> list[tuple[OutboxItem, Verdict]]:
        verdicts, self._verdicts = self._verdicts, []
        return verdicts

    def written(self, items: Iterable[OutboxItem]) -> None:
        """The store holds these verdicts (or could not write them: the items' leases run out
        and a later claim takes them again); they are no longer held here."""
        self._held.difference_update(item.id for item in items)

    @property
    def held(self) -> int:
        return len(self._held)

    def unsent(self) -> list[OutboxItem]:
        """The items claimed and waiting for a slot (to release when stopping)."""
        return [event.item for groups in self._waiting.values() for group in groups.values()
                for event in group]

    def struggling(self, host: str) -> bool:
        return host in self._struggling

    @property
    def waiting(self) -> int:
        """Events waiting for a slot."""
        return sum(self._queued.values())


_COUNTED = {"ack": "acked", "retry": "retried", "fail": "failed"}


def _created(event: WebhookEvent) -> tuple[float, int]:
    return event.item.created_at, event.item.id
