"""Acceptance: the group commit's plan for a batch of parts (store thread).

The batch is accepted in one transaction (``Store.accept``, which debits the credit). Parts due
at once, for an operator with nothing older waiting and room in its throughput, get their
operator's decision in that same transaction (:func:`smsc.core.rounds.decide_part`): they are
stored final with their receipts and never wait in a queue. The others are held in memory until
due (:class:`smsc.core.queues.Queues`), and a customer's set of parts held until complete is
released to its operator once its last part is in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from smsc.core.parts import is_held
from smsc.core.queues import Queues, held_part
from smsc.core.rounds import decide_part, frame_item
from smsc.slotted import slot_constructor
from smsc.store.campaign_records import CampaignWrite
from smsc.store.records import (
    AcceptOutcome,
    FinalAtAcceptance,
    MessageChange,
    NewMessage,
    OutboxItem,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Committed:
    """What one group commit did: an outcome per (message, destination) group, and for the
    parts final at acceptance, their receipts and how many left each operator's queue."""

    outcomes: list[AcceptOutcome]
    items: list[OutboxItem] = field(default_factory=list)
    finals: dict[str, int] = field(default_factory=dict)


# state, attempts, done_at, error_code, receipt
_final_at_acceptance = slot_constructor(FinalAtAcceptance)


class Acceptance:
    def __init__(self, queues: Queues) -> None:
        self.queues = queues
        self.store = queues.store

    def commit(self, parts: Sequence[NewMessage], now: float,
               campaign: CampaignWrite | None = None) -> Committed:
        """Accept a batch in one transaction; parts final at acceptance
        (:meth:`_decide_at_acceptance`)
        are stored final with their receipts, the others are held in memory until due.
        ``campaign``: a campaign's marks and cursor, written in the same transaction
        (``Store.accept_campaign``)."""
        queues = self.queues
        queues.saw(parts)
        decided = self._decide_at_acceptance(parts, now) if queues.generation else None
        if not queues.generation or len(queues.hot) >= queues.hot_limit:
            if campaign is None:
                outcomes = self.store.accept(parts, now, decided=decided)
            else:
                outcomes = self._accept_campaign(campaign, parts, now, None, 0, decided)
        else:
            hot_until = now + queues.hot_horizon
            if campaign is None:
                outcomes = self.store.accept(parts, now, hot_until=hot_until,
                                             generation=queues.generation, decided=decided)
            else:
                outcomes = self._accept_campaign(campaign, parts, now, hot_until,
                                                 queues.generation, decided)
            queues.hold(parts, outcomes, hot_until, decided)
        for p in parts:
            if p.part_total > 1:
                self._release_sets(parts, outcomes, now)
                break
        if decided is None:
            return Committed(outcomes=outcomes)
        return self._count_finals(parts, decided, outcomes, now)

    def _accept_campaign(self, campaign: CampaignWrite, parts: Sequence[NewMessage], now: float,
                         hot_until: float | None, generation: int,
                         decided: list[FinalAtAcceptance | None] | None
                         ) -> list[AcceptOutcome]:
        return self.store.accept_campaign(campaign.campaign_id, parts, campaign.marks, now,
                                          cursor=campaign.cursor, hot_until=hot_until,
                                          generation=generation, decided=decided)

    def _decide_at_acceptance(self, parts: Sequence[NewMessage], now: float
                              ) -> list[FinalAtAcceptance | None] | None:
        """The operator's decision for each part that is due now, when it is final at once
        (delivered, rejected, undeliverable) and needs nothing else (no refund, no
        intermediate notification, no handset reply, no receipt per whole message)."""
        queues = self.queues
        hot = queues.hot
        if hot and hot[0][0] <= now:  # older parts are due: they go first
            return None
        backlog = queues.backlog
        simulator = queues.simulator
        pacing = queues.pacing
        format_id = queues.id_format.format
        zone = queues.receipt_zone
        mo_rules = queues.mo_rules if len(queues.mo_rules) else None
        queues.refresh_accounts()
        account_of = queues.account
        room: dict[str, float] = {}
        out: list[FinalAtAcceptance | None] = []
        found = False
        split: set[tuple[int, str]] | None = None  # messages smsc split itself, in this batch
        for p in parts:
            operator = p.operator
            if p.next_at > now or operator in backlog:
                out.append(None)
                continue
            if p.part_total > 1:  # one receipt for a message smsc split: it takes the queue
                if split is None:
                    split = split_here(parts)
                if (p.message_id, p.destination_addr) in split:
                    out.append(None)
                    continue
            account = account_of(p.account)
            left = room.get(operator)
            if left is None:
                left = pacing.available(operator, now)
            if account is None or left < 1:
                out.append(None)
                continue
            message = held_part(p, 0)
            fate = decide_part(message, now, simulator=simulator,
                               refund_failed=account.refund_failed, format_id=format_id,
                               zone=zone, mo_rules=mo_rules)
            if not fate.final_at_once:
                out.append(None)
                continue
            change = fate.change
            if fate.counted:  # then its attempts are 1: _count_finals counts by that
                room[operator] = left - 1
            frame = fate.receipt
            item = (frame_item(message, frame, now, account.receipt_ttl, account=account)
                    if frame is not None else None)
            out.append(_final_at_acceptance(change.state, change.attempts, now, change.error_code,
                                            item))
            found = True
        return out if found else None

    def _count_finals(self, parts: Sequence[NewMessage], decided: list[FinalAtAcceptance | None],
                      outcomes: list[AcceptOutcome], now: float) -> Committed:
        """The parts final at acceptance in accepted groups: counted per operator
        (``Committed.finals``) and against its throughput."""
        accepted = {(o.message_id, o.destination_addr) for o in outcomes if not o.status}
        finals: dict[str, int] = {}
        counted: dict[str, int] = {}
        for p, done in zip(parts, decided, strict=True):
            if done is None or (p.message_id, p.destination_addr) not in accepted:
                continue
            finals[p.operator] = finals.get(p.operator, 0) + 1
            if done.attempts:
                counted[p.operator] = counted.get(p.operator, 0) + 1
        pacing = self.queues.pacing
        for operator, count in counted.items():
            pacing.consume(operator, count, now)
        items = [item for o in outcomes for item in o.items]
        return Committed(outcomes=outcomes, items=items, finals=finals)

    def _release_sets(self, parts: Sequence[NewMessage], outcomes: list[AcceptOutcome],
                      now: float) -> None:
        """Parts a customer submitted one by one, on an account that holds incomplete sets,
        wait (held) until every part of their set is accepted: then the whole set goes to its
        operator. Parts of a set that never completes go when their hold ends."""
        queues = self.queues
        accepted = {(o.message_id, o.destination_addr) for o in outcomes if not o.status}
        split = split_here(parts)
        looked: set[tuple[str, str, str, str, int, int]] = set()
        changes: list[MessageChange] = []
        for p in parts:
            key = (p.message_id, p.destination_addr)
            if p.part_total < 2 or key in split or key not in accepted:
                continue
            account = queues.account(p.account)
            hold = account.hold_incomplete_sets if account is not None else 0.0
            if not is_held(p, hold):
                continue
            set_key = (p.account, p.source_addr, p.destination_addr, p.service_type,
                       p.part_ref, p.part_total)
            if set_key in looked:
                continue
            looked.add(set_key)
            waiting = [m for m in self.store.find_pending(p.account, p.source_addr,
                                                          p.destination_addr, p.service_type)
                       if m.part_ref == p.part_ref and m.part_total == p.part_total
                       and m.source_addr == p.source_addr and is_held(m, hold)]
            if {m.part_index for m in waiting} != set(range(1, p.part_total + 1)):
                continue
            for m in waiting:
                changes.append(MessageChange(
                    id=m.id, state=m.state, attempts=m.attempts, error_code=m.error_code,
                    next_at=queues.simulator.first_attempt_at(
                        operator=m.operator, message_id=m.message_id, part_index=m.part_index,
                        destination_addr=m.destination_addr, now=now,
                        scheduled_at=m.scheduled_at, blacklisted=m.blacklisted,
                        expires_at=m.expires_at)))
            queues.changed(m.id for m in waiting)  # held in memory: the store's queue has it now
        if changes:
            self.store.apply(changes, [], now)


def split_here(parts: Sequence[NewMessage]) -> set[tuple[int, str]]:
    """(message id, destination) of the messages in a batch that smsc split into several
    parts (a customer's own UDH or SAR part is alone under its message id)."""
    seen: set[tuple[int, str]] = set()
    split: set[tuple[int, str]] = set()
    for p in parts:
        if p.part_total > 1:
            key = (p.message_id, p.destination_addr)
            if key in seen:
                split.add(key)
            seen.add(key)
    return split
