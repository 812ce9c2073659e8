"""A send to many destinations at once (the HTTP API's ``POST /v1/messages``; campaigns): one
submit_sm per destination through :meth:`smsc.core.submit.Intake.prepare`, each its own message
id, committed together by the group commit and answered per destination.

What this adds to the submit of one submit_sm, and decides here:

- duplicates are removed, first as written, then as read (``+380...`` and ``380...`` are one
  number: the number the route was decided for): nobody gets the same message twice, and a
  duplicate costs no id, no queue room and no throughput;
- a destination on the account's opt-out list (its number as read; the caller reads the list,
  :meth:`BatchBuilder.numbers` says which numbers to look up) is refused SMSC_ROPTEDOUT: it
  asked the account to stop, and an HTTP send respects that as a campaign does;
- the account's throughput is counted per part (a message of three parts takes three tokens),
  from the bucket its SMPP binds share; a destination past it is refused ESME_RTHROTTLED, and
  when every destination is, ``retry_after`` says when the first would fit. Duplicates and
  opted-out destinations take none.

Nothing here touches the store: it runs on the event loop like the rest of intake.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from smsc.core.shares import SharedBucket
from smsc.core.submit import Answer, BindContext, Intake, Prepared
from smsc.pdu import pdus
from smsc.pdu.constants import CommandStatus
from smsc.pdu.errors import PduError
from smsc.routing.throttle import TokenBucket
from smsc.slotted import slot_constructor
from smsc.store.records import AcceptOutcome, Account, MessageHook, NewMessage

S = CommandStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchItem:
    """One destination of a batch as the customer wrote it: prepared, or refused whole with
    ``status`` before its commit (``detail`` says why)."""

    to: str
    prepared: Prepared | None = None
    status: int = 0
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Batch:
    items: tuple[BatchItem, ...]  # each destination once, in the order given
    duplicates: int  # destinations left out as repeats (as written or as read)
    parts: tuple[NewMessage, ...]  # every prepared part, in item order: the group commit's
    groups: int  # (message, destination) groups among ``parts``
    retry_after: float = 0.0  # every destination throttled: seconds until the first fits

    @property
    def prepared(self) -> list[Prepared]:
        return [i.prepared for i in self.items if i.prepared is not None]


# Built through the slots on the hot path (every field given, in declaration order).
_item = slot_constructor(BatchItem)  # to, prepared, status, detail
_batch = slot_constructor(Batch)  # items, duplicates, parts, groups, retry_after
_no_throttle = slot_constructor(BindContext)  # account, throttle


class BatchBuilder:
    """A batch prepared a slice at a time (so a caller on the event loop can let other work
    run between slices): :meth:`add` each slice in order, then :meth:`batch` with the opted-out
    numbers among :meth:`numbers`."""

    __slots__ = ("duplicates", "free", "hook", "intake", "items", "now", "seen_read",
                 "seen_written", "throttle")

    def __init__(self, intake: Intake, caller: BindContext, *,
                 hook: MessageHook | None = None) -> None:
        self.intake = intake
        # the throughput is taken here, per part: intake prepares without it
        self.free = caller if caller.throttle is None else _no_throttle(caller.account, None)
        self.throttle = caller.throttle
        self.hook = hook
        self.seen_written: set[str] = set()
        self.seen_read: set[str] = set()
        self.items: list[BatchItem] = []
        self.duplicates = 0
        self.now = 0.0

    def add(self, requests: Sequence[tuple[str, pdus.SubmitSm]], now: float) -> None:
        """Prepare (destination as written, submit_sm) pairs at ``now``, in order."""
        intake, hook = self.intake, self.hook
        self.now = now
        for to, request in requests:
            if to in self.seen_written:
                self.duplicates += 1
                continue
            self.seen_written.add(to)
            try:
                prepared = intake.prepare(self.free, request, now, hook=hook)
            except PduError as e:
                self.items.append(_item(to, None, e.command_status, str(e)))
                continue
            number = prepared.parts[0].destination_addr
            if number in self.seen_read:
                intake.refused(prepared)  # its queue room back; the id stays unused
                self.duplicates += 1
                continue
            self.seen_read.add(number)
            self.items.append(_item(to, prepared, 0, ""))

    def abandon(self) -> None:
        """The batch will not be committed (its opt-outs could not be read): every prepared
        destination's queue room back."""
        for item in self.items:
            if item.prepared is not None:
                self.intake.refused(item.prepared)
        self.items = []

    def numbers(self) -> list[str]:
        """The numbers (as read) of the destinations prepared so far: those whose opt-out
        the caller looks up (at most one per destination, so at most MAX_DESTINATIONS)."""
        return [i.prepared.parts[0].destination_addr for i in self.items
                if i.prepared is not None]

    def batch(self, opted_out: Collection[str] = ()) -> Batch:
        """The batch: destinations whose number is in ``opted_out`` refused SMSC_ROPTEDOUT,
        then the throughput taken per part, in order."""
        intake, throttle, now = self.intake, self.throttle, self.now
        items: list[BatchItem] = []
        parts: list[NewMessage] = []
        throttled_for = 0  # parts the first throttled destination needed
        groups = 0
        for item in self.items:
            prepared = item.prepared
            if prepared is None:
                items.append(item)
                continue
            if prepared.parts[0].destination_addr in opted_out:
                intake.refused(prepared)
                items.append(BatchItem(to=item.to, status=S.SMSC_ROPTEDOUT,
                                       detail="the number opted out of the account's "
                                              "messages"))
                continue
            if throttle is not None and not throttle.take(now, _tokens(throttle,
                                                                       len(prepared.parts))):
                intake.refused(prepared)
                throttled_for = throttled_for or len(prepared.parts)
                items.append(BatchItem(to=item.to, status=S.ESME_RTHROTTLED,
                                       detail="the account's throughput limit is reached"))
                continue
            items.append(item)
            parts.extend(prepared.parts)
            groups += 1
        retry_after = 0.0
        if items and all(i.status == S.ESME_RTHROTTLED for i in items):
            retry_after = _wait(throttle, now, throttled_for)
        return _batch(tuple(items), self.duplicates, tuple(parts), groups, retry_after)


def prepare_batch(intake: Intake, caller: BindContext,
                  requests: Sequence[tuple[str, pdus.SubmitSm]], now: float, *,
                  hook: MessageHook | None = None, opted_out: Collection[str] = ()) -> Batch:
    """Each (destination as written, submit_sm) prepared in order, duplicates left out,
    ``opted_out`` numbers refused, throughput taken per part; ``hook``: where every message's
    receipts go (see :meth:`Intake.prepare`)."""
    builder = BatchBuilder(intake, caller, hook=hook)
    builder.add(requests, now)
    return builder.batch(opted_out)


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchAnswer:
    """One destination's answer: accepted (``answer.status`` 0, its message id) with its
    ``parts`` and what was ``charged``, or refused."""

    item: BatchItem
    answer: Answer
    parts: int = 0
    charged: int = 0


def answer_batch(intake: Intake, batch: Batch, outcomes: Sequence[AcceptOutcome] | None,
                 account: Account) -> list[BatchAnswer]:
    """Each item's answer once the commit is done (``outcomes``: one per group, in order; None
    when the commit failed): :meth:`Intake.answer` for the prepared, :meth:`Intake.refusal`
    for the refused."""
    out: list[BatchAnswer] = []
    position = 0
    make = _batch_answer
    for item in batch.items:
        prepared = item.prepared
        if prepared is None:
            out.append(make(item, intake.refusal(account, item.status), 0, 0))
            continue
        mine = None if outcomes is None else outcomes[position:position + 1]
        position += 1
        answer = intake.answer(prepared, mine, account)
        if answer.status or not mine:
            out.append(make(item, answer, 0, 0))
        else:
            out.append(make(item, answer, len(prepared.parts), mine[0].charged))
    return out


_batch_answer = slot_constructor(BatchAnswer)  # item, answer, parts, charged


def _tokens(throttle: object, parts: int) -> int:
    """Tokens a message of ``parts`` takes: one a part, but never more than the bucket holds
    (a message longer than the burst takes a full bucket, so it can pass at all)."""
    if isinstance(throttle, TokenBucket | SharedBucket):
        return max(1, min(parts, int(throttle.burst)))
    return parts


def _wait(throttle: object, now: float, parts: int) -> float:
    if isinstance(throttle, TokenBucket | SharedBucket):
        wait = throttle.wait(now, _tokens(throttle, parts))
        return wait if math.isfinite(wait) else 1.0
    return 1.0


__all__ = ["Batch", "BatchAnswer", "BatchBuilder", "BatchItem", "answer_batch",
           "prepare_batch"]
