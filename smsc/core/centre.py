"""The use cases of the SMS centre: bind, submit, query, cancel, replace and the queues' due work.

No Twisted and no SQL: the core talks to a :class:`~smsc.store.base.Store` and to the pure routing
and operator packages. Two kinds of methods, and the server keeps them apart:

- on the event loop, never touching the store: :attr:`SmscCore.intake` (submit checks and parts);
- on the store thread (the server's single store worker): :meth:`commit`, :meth:`due_round`,
  :meth:`query`, :meth:`cancel`, :meth:`replace`, :meth:`reserve_ids`, and :attr:`binds`'
  store steps (smsc.core.binds decides binds).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from smsc.core.binds import DEFAULT_LOCK_POLICY, BindDesk, BindVerdict, LockPolicy
from smsc.core.depths import QueueDepths
from smsc.core.ids import MessageIdFormat
from smsc.core.submit import OperatorDesk, RouteFn, is_held, summary_state, text_snippet
from smsc.operators import alerts, receipts
from smsc.operators.mo import NO_MO_RULES, MoRules, mo_deliver_sms
from smsc.operators.pacing import OperatorPacing
from smsc.operators.schedule import parse_schedule_delivery_time, resolve_schedule
from smsc.operators.simulation import OperatorSimulator
from smsc.operators.validity import parse_validity_period, resolve_expiry
from smsc.pdu import pdus
from smsc.pdu.codec import encode
from smsc.pdu.constants import CommandStatus, MessageState
from smsc.pdu.errors import PduError
from smsc.pdu.smpptime import format_absolute
from smsc.routing.accounts import hash_password, new_password
from smsc.slotted import slot_constructor
from smsc.store.base import Store
from smsc.store.records import (
    AcceptOutcome,
    Account,
    Bucket,
    MessageChange,
    NewMessage,
    OutboxItem,
    OutboxKind,
    Settled,
    StoredMessage,
)

S = CommandStatus
_ENROUTE = int(MessageState.ENROUTE)
_DELETED = int(MessageState.DELETED)
_DELIVERED = int(MessageState.DELIVERED)


@dataclass(frozen=True, slots=True, kw_only=True)
class DueRound:
    """What one round of the operator queues did."""

    taken: int = 0
    finals: dict[str, int] = field(default_factory=dict)  # operator -> parts that left
    items: list[OutboxItem] = field(default_factory=list)  # outbox items committed, id order
    full: bool = False  # some operator had more due than it could take: go again soon


@dataclass(frozen=True, slots=True, kw_only=True)
class Committed:
    """What one group commit did: an outcome per (message, destination) group, and for the
    parts settled on acceptance, their receipts and how many left each operator's queue."""

    outcomes: list[AcceptOutcome]
    items: list[OutboxItem] = field(default_factory=list)
    finals: dict[str, int] = field(default_factory=dict)


class SmscCore:
    def __init__(self, store: Store, *, simulator: OperatorSimulator, route: RouteFn,
                 id_format: MessageIdFormat, lock_policy: LockPolicy = DEFAULT_LOCK_POLICY,
                 due_batch: int = 2000, take_id: Callable[[], int | None],
                 mo_rules: MoRules = NO_MO_RULES, hot_limit: int = 50_000,
                 hot_horizon: float = 10.0, receipt_zone: tzinfo = UTC) -> None:
        from smsc.core.submit import Intake  # local: the intake is the event-loop half

        self.store = store
        self.simulator = simulator
        self.id_format = id_format
        self.binds = BindDesk(store, lock_policy)  # binds and lockout (smsc.core.binds)
        self.due_batch = due_batch
        self.mo_rules = mo_rules
        self.receipt_zone = receipt_zone  # the dates in receipt texts
        self.pacing = OperatorPacing(simulator.profiles)
        self._accounts: dict[str, Account] = {}  # store-thread cache for receipts
        self._accounts_version = -1
        self._operators: set[str] | None = None  # store thread: operator names with queues
        # Store thread: accepted parts due soon, held in memory (see begin and commit).
        self.generation = 0
        self.hot_limit = hot_limit
        self.hot_horizon = hot_horizon
        self._hot: list[tuple[float, int, StoredMessage]] = []
        self._held_ids: set[int] = set()
        # Store thread: operators whose queues in the store had due parts at the last round;
        # new parts for them wait their turn instead of being settled on acceptance.
        self._backlog: set[str] = set()
        self._stale: set[int] = set()  # held parts changed elsewhere (cancel, replace)
        self.queue_depths = QueueDepths()  # the event loop's count (smsc.core.depths)
        self.intake = Intake(route=route, operators=operator_desk(simulator), take_id=take_id,
                             queue_depths=self.queue_depths, format_id=id_format.format)

    # --- acceptance (store thread) -------------------------------------------------------------
    def commit(self, parts: Sequence[NewMessage], now: float) -> Committed:
        """Accept a batch in one transaction. Parts due at once, for an operator with nothing
        older waiting and room in its throughput, get their operator's decision right here
        (:meth:`_settle`): they are stored final with their receipts, in the same transaction,
        and never wait in a queue. The others are held in memory until due."""
        if self._operators is not None:
            self._operators.update(p.operator for p in parts)
        settled = self._settle(parts, now) if self.generation else None
        if not self.generation or len(self._hot) >= self.hot_limit:
            outcomes = self.store.accept(parts, now, settled=settled)
        else:
            hot_until = now + self.hot_horizon
            outcomes = self.store.accept(parts, now, hot_until=hot_until,
                                         generation=self.generation, settled=settled)
            self._hold(parts, outcomes, hot_until, settled)
        for p in parts:
            if p.part_total > 1:
                self._release_sets(parts, outcomes, now)
                break
        if settled is None:
            return Committed(outcomes=outcomes)
        return self._settled(parts, settled, outcomes, now)

    def _settle(self, parts: Sequence[NewMessage], now: float) -> list[Settled | None] | None:
        """The operator's decision for each part that is due now, when it is final at once
        (delivered, rejected, undeliverable) and needs nothing else (no refund, no
        intermediate notification, no handset reply, no receipt per whole message)."""
        hot = self._hot
        if hot and hot[0][0] <= now:  # older parts are due: they go first
            return None
        backlog = self._backlog
        simulator = self.simulator
        pacing = self.pacing
        format_id = self.id_format.format
        zone = self.receipt_zone
        mo_rules = self.mo_rules if len(self.mo_rules) else None
        self._refresh_accounts()
        room: dict[str, float] = {}
        out: list[Settled | None] = []
        found = False
        split: set[tuple[int, str]] | None = None  # messages smsc split itself, in this batch
        for p in parts:
            operator = p.operator
            if p.next_at > now or operator in backlog:
                out.append(None)
                continue
            if p.part_total > 1:  # one receipt for a message smsc split: it takes the queue
                if split is None:
                    split = _split_here(parts)
                if (p.message_id, p.destination_addr) in split:
                    out.append(None)
                    continue
            account = self._account(p.account)
            left = room.get(operator)
            if left is None:
                left = pacing.available(operator, now)
            if account is None or left < 1:
                out.append(None)
                continue
            message = _held(p, 0)
            decision = simulator.attempt(message, now, refund_failed=account.refund_failed)
            change = decision.change
            if (change.next_at is not None or change.refund or decision.notify_enroute
                    or decision.handset_back
                    or (mo_rules is not None and change.state == _DELIVERED
                        and mo_rules.find(p.account, p.destination_addr) is not None)):
                out.append(None)
                continue
            if decision.counted:  # then its attempts are 1: _settled counts them by that
                room[operator] = left - 1
            frame = receipts.final_receipt_frame(message, change, format_id,
                                                 network_error=decision.network_error,
                                                 zone=zone)
            item = (_frame_item(message, frame, now, account.receipt_ttl)
                    if frame is not None else None)
            out.append(_make_settled(change.state, change.attempts, now, change.error_code,
                                     item))
            found = True
        return out if found else None

    def _settled(self, parts: Sequence[NewMessage], settled: list[Settled | None],
                 outcomes: list[AcceptOutcome], now: float) -> Committed:
        """Count the settled parts of accepted groups against their operators' throughput."""
        accepted = {(o.message_id, o.destination_addr) for o in outcomes if not o.status}
        finals: dict[str, int] = {}
        counted: dict[str, int] = {}
        for p, done in zip(parts, settled, strict=True):
            if done is None or (p.message_id, p.destination_addr) not in accepted:
                continue
            finals[p.operator] = finals.get(p.operator, 0) + 1
            if done.attempts:
                counted[p.operator] = counted.get(p.operator, 0) + 1
        for operator, count in counted.items():
            self.pacing.consume(operator, count, now)
        items = [item for o in outcomes for item in o.items]
        return Committed(outcomes=outcomes, items=items, finals=finals)

    def _release_sets(self, parts: Sequence[NewMessage], outcomes: list[AcceptOutcome],
                      now: float) -> None:
        """Parts a customer submitted one by one, on an account that holds incomplete sets,
        wait (held) until every part of their set is accepted: then the whole set goes to its
        operator. Parts of a set that never completes go when their hold ends."""
        accepted = {(o.message_id, o.destination_addr) for o in outcomes if not o.status}
        split = _split_here(parts)
        looked: set[tuple[str, str, str, str, int, int]] = set()
        changes: list[MessageChange] = []
        for p in parts:
            key = (p.message_id, p.destination_addr)
            if p.part_total < 2 or key in split or key not in accepted:
                continue
            account = self._account(p.account)
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
                    next_at=self.simulator.first_attempt_at(
                        operator=m.operator, message_id=m.message_id, part_index=m.part_index,
                        destination_addr=m.destination_addr, now=now,
                        scheduled_at=m.scheduled_at, blacklisted=m.blacklisted,
                        expires_at=m.expires_at)))
                if m.id in self._held_ids:  # held in memory: the store's queue has it now
                    self._stale.add(m.id)
        if changes:
            self.store.apply(changes, [], now)

    def reserve_ids(self, count: int) -> tuple[int, int]:
        return self.store.reserve_ids(count), count

    # --- the operator queues (store thread) ----------------------------------------------------
    def _refresh_accounts(self) -> None:
        """Forget cached accounts when the store says accounts changed (once per round)."""
        version = self.store.change_counter()
        if version != self._accounts_version:
            self._accounts.clear()
            self._accounts_version = version

    def _account(self, system_id: str) -> Account | None:
        account = self._accounts.get(system_id)
        if account is None:
            account = self.store.get_account(system_id)
            if account is not None:
                self._accounts[system_id] = account
        return account

    def due_round(self, now: float, limit: int | None = None) -> DueRound:
        """Take due parts of every operator (within its throughput; at most ``limit``, by
        default ``due_batch``), decide each one's fate, and commit the changes with their
        receipts in one transaction."""
        simulator = self.simulator
        pacing = self.pacing
        batch_size = self.due_batch if limit is None else min(limit, self.due_batch)
        taken, full, taken_hot = self._take_hot(now, batch_size)
        for operator in self._operators_with_work():
            room = min(pacing.available(operator, now) - taken_hot.get(operator, 0),
                       batch_size - len(taken))
            if room <= 0:
                full = full or len(taken) >= batch_size
                continue
            batch = self.store.take_due(now, room, [operator],
                                        exclude_generation=self.generation or None)
            if batch:
                self._backlog.add(operator)
            else:
                self._backlog.discard(operator)
            full = full or len(batch) == room
            taken.extend(batch)
        if not taken:
            return DueRound()
        self._refresh_accounts()
        format_id = self.id_format.format
        zone = self.receipt_zone
        changes: list[MessageChange] = []
        outbox: list[OutboxItem] = []
        finals: dict[str, int] = {}
        counted: dict[str, int] = {}
        per_message: dict[tuple[int, str], list[StoredMessage]] = {}
        replies: dict[tuple[int, str], StoredMessage] = {}
        mo_rules = self.mo_rules if len(self.mo_rules) else None
        for message in taken:
            account = self._account(message.account)
            refund = account.refund_failed if account is not None else False
            decision = simulator.attempt(message, now, refund_failed=refund)
            change = decision.change
            changes.append(change)
            if decision.counted:
                counted[message.operator] = counted.get(message.operator, 0) + 1
            ttl = account.receipt_ttl if account is not None else 72 * 3600.0
            if decision.notify_enroute:
                note = receipts.enroute_notification_frame(message, now, format_id, zone)
                if note is not None:
                    outbox.append(_frame_item(message, note, now, ttl))
            if change.next_at is not None:
                continue
            finals[message.operator] = finals.get(message.operator, 0) + 1
            if decision.handset_back and alerts.wants_alert(message):
                outbox.append(_frame_item(message, alerts.alert_frame(message), now, ttl,
                                          OutboxKind.ALERT))
            if (mo_rules is not None and change.state == _DELIVERED
                    and mo_rules.find(message.account, message.destination_addr) is not None):
                replies[receipts.group_key(message)] = message
            if message.part_total > 1:
                key = receipts.group_key(message)
                if key in per_message:
                    continue
                rows = self._split_rows(message)
                if rows is not None:  # smsc split it: one receipt for the whole message
                    per_message[key] = rows
                    continue
            frame = receipts.final_receipt_frame(message, change, format_id,
                                                 network_error=decision.network_error,
                                                 zone=zone)
            if frame is not None:
                outbox.append(_frame_item(message, frame, now, ttl))
        for operator, count in counted.items():
            pacing.consume(operator, count, now)
        if per_message:
            outbox.extend(self._message_receipts(per_message, changes, now))
        if replies:
            outbox.extend(self._handset_replies(replies, changes, now))
        added = self.store.apply(changes, outbox, now)
        return DueRound(taken=len(taken), finals=finals, items=added, full=full)

    def use_operators(self, simulator: OperatorSimulator, mo_rules: MoRules,
                      due_batch: int, receipt_zone: tzinfo = UTC) -> None:
        """A reloaded operators config (store thread): queues keep their parts; the pacing of
        an operator whose settings did not change carries on."""
        self.simulator = simulator
        self.mo_rules = mo_rules
        self.due_batch = due_batch
        self.receipt_zone = receipt_zone
        self.pacing = OperatorPacing(simulator.profiles)
        if self._operators is not None:
            self._operators.update(simulator.profiles)

    # --- parts held in memory (store thread) ---------------------------------------------------
    def begin(self) -> dict[str, int]:
        """At start: a new generation, so parts a previous run held in memory go back to the
        store's queues, and this run may hold its own. Returns the queue depths."""
        self.generation = self.store.begin_generation()
        depths = self.store.queue_depths()
        self._operators = set(self.simulator.profiles) | set(depths)
        self._backlog = {operator for operator, depth in depths.items() if depth}
        return depths

    def _hold(self, parts: Sequence[NewMessage], outcomes: list[AcceptOutcome],
              hot_until: float, settled: list[Settled | None] | None) -> None:
        """Keep accepted parts due by ``hot_until`` in memory: the queue rounds take them from
        here instead of reading them back from the store. Settled parts are final already."""
        by_key: dict[tuple[int, str], list[NewMessage | None]] = {}
        for n, p in enumerate(parts):
            kept = p if settled is None or settled[n] is None else None
            by_key.setdefault((p.message_id, p.destination_addr), []).append(kept)
        push = heapq.heappush
        hot = self._hot
        for outcome in outcomes:
            if outcome.status or not outcome.part_ids:
                continue
            group = by_key[outcome.message_id, outcome.destination_addr]
            for row_id, part in zip(outcome.part_ids, group, strict=True):
                if part is not None and part.next_at <= hot_until:
                    push(hot, (part.next_at, row_id, _held(part, row_id)))
                    self._held_ids.add(row_id)

    def _take_hot(self, now: float, limit: int
                  ) -> tuple[list[StoredMessage], bool, dict[str, int]]:
        """Due parts held in memory, within each operator's throughput: the parts, whether more
        were due than ``limit``, and per operator how much of its throughput they take (the
        pacing is charged only once the round is decided)."""
        hot = self._hot
        if not hot or hot[0][0] > now:
            return [], False, {}
        pacing = self.pacing
        room: dict[str, float] = {}
        taken: list[StoredMessage] = []
        waiting: list[tuple[float, int, StoredMessage]] = []
        pop = heapq.heappop
        stale = self._stale
        while hot and hot[0][0] <= now and len(taken) < limit:
            entry = pop(hot)
            self._held_ids.discard(entry[1])
            if stale and entry[1] in stale:
                stale.discard(entry[1])
                continue
            operator = entry[2].operator
            left = room.get(operator)
            if left is None:
                left = pacing.available(operator, now)
            if left >= 1:
                room[operator] = left - 1
                taken.append(entry[2])
            else:
                room[operator] = left
                waiting.append(entry)
        for entry in waiting:
            heapq.heappush(hot, entry)
            self._held_ids.add(entry[1])
        taken_now = {op: int(pacing.available(op, now) - left) for op, left in room.items()}
        full = bool(hot) and hot[0][0] <= now and len(taken) >= limit
        return taken, full, taken_now

    def _operators_with_work(self) -> set[str]:
        """Every configured operator and any name found in the queues (an operator taken out
        of the config still gets its waiting parts handled, by the default profile). Operators
        in an outage are included: their due parts are told to wait for its end (or expire on
        time), which moves them out of the way until then."""
        if self._operators is None:
            self._operators = set(self.simulator.profiles) | set(self.store.queue_depths())
        return self._operators

    def _split_rows(self, part: StoredMessage) -> list[StoredMessage] | None:
        """Every part of ``part``'s message to its destination when smsc split that message
        itself (more than one part under one message id); None for a part the customer
        submitted on its own (UDH or SAR: each such PDU has its own message id)."""
        rows = [p for p in self.store.get_messages(part.message_id)
                if p.destination_addr == part.destination_addr]
        return rows if len(rows) > 1 else None

    def _message_receipts(self, groups: dict[tuple[int, str], list[StoredMessage]],
                          changes: Sequence[MessageChange], now: float) -> list[OutboxItem]:
        """The one receipt of each message smsc split whose last part is final now."""
        by_id = {c.id: c for c in changes}
        out = []
        for rows in groups.values():
            parts = [receipts.with_change(p, by_id.get(p.id)) for p in rows]
            pdu = receipts.message_receipt(parts, self.id_format.format, self.receipt_zone)
            if pdu is not None:
                account = self._account(parts[0].account)
                ttl = account.receipt_ttl if account is not None else 72 * 3600.0
                out.append(_item(parts[0], pdu, now, ttl))
        return out

    def _handset_replies(self, delivered: dict[tuple[int, str], StoredMessage],
                         changes: Sequence[MessageChange], now: float) -> list[OutboxItem]:
        """MO replies of handsets whose message (every part) was just delivered, by rule."""
        by_id = {c.id: c for c in changes}
        out: list[OutboxItem] = []
        for (message_id, destination), message in delivered.items():
            parts = [message] if message.part_total == 1 else [
                p for p in self.store.get_messages(message_id)
                if p.destination_addr == destination]
            parts = [receipts.with_change(p, by_id.get(p.id)) for p in parts]
            reply = self.mo_rules.reply_to_delivered(parts, now)
            if reply is None:
                continue
            account = self._account(reply.account)
            ttl = account.receipt_ttl if account is not None else 72 * 3600.0
            try:
                pdus_ = mo_deliver_sms(source_addr=reply.handset, destination_addr=reply.service,
                                       text=reply.text, reference=message_id & 0xFF)
            except PduError:
                continue  # a reply too long for a handset is not sent
            out.extend(OutboxItem(account=reply.account, kind=OutboxKind.MO, pdu=encode(p),
                                  created_at=now, expires_at=reply.at + ttl,
                                  message_id=None, not_before=reply.at) for p in pdus_)
        return out

    # --- query, cancel, replace (store thread) -------------------------------------------------
    def _owned(self, account: Account, message_id: str, source_addr: str) -> list[StoredMessage]:
        number = self.id_format.parse(message_id)
        if number is None:
            return []
        return [m for m in self.store.get_messages(number)
                if m.account == account.system_id
                and (not source_addr or m.source_addr == source_addr)]

    def query(self, account: Account, pdu: pdus.QuerySm) -> pdus.QuerySmResp:
        parts = self._owned(account, pdu.message_id, pdu.source_addr)
        if not parts:
            return pdus.QuerySmResp(sequence_number=pdu.sequence_number,
                                    command_status=S.ESME_RQUERYFAIL)
        state = summary_state(p.state for p in parts)
        final_date = ""
        if MessageState(state).is_final:
            done = max((p.done_at or p.submitted_at) for p in parts)
            final_date = format_absolute(datetime.fromtimestamp(done, UTC))
        error = next((p.error_code for p in parts if p.state == state and p.error_code), 0)
        return pdus.QuerySmResp(sequence_number=pdu.sequence_number, message_id=pdu.message_id,
                                final_date=final_date, message_state=state,
                                error_code=min(error, 255))

    def cancel(self, account: Account, pdu: pdus.CancelSm,
               now: float) -> tuple[pdus.CancelSmResp, list[OutboxItem]]:
        if pdu.message_id:
            parts = [p for p in self._owned(account, pdu.message_id, pdu.source_addr)
                     if not pdu.destination_addr or p.destination_addr == pdu.destination_addr]
        elif pdu.source_addr and pdu.destination_addr:
            parts = self.store.find_pending(account.system_id, pdu.source_addr,
                                            pdu.destination_addr, pdu.service_type)
        else:
            parts = []
        waiting = [p for p in parts if p.next_at is not None]
        if not waiting:
            return pdus.CancelSmResp(sequence_number=pdu.sequence_number,
                                     command_status=S.ESME_RCANCELFAIL), []
        added = self._delete(account, waiting, now)
        return pdus.CancelSmResp(sequence_number=pdu.sequence_number), added

    def replace_pending(self, account: Account, part: NewMessage, now: float) -> list[OutboxItem]:
        """submit_sm with replace_if_present_flag: the account's messages still pending with
        the same source address, destination address and service_type as ``part`` (the new
        message's first part) are deleted, as cancel_sm would; returns their receipts."""
        waiting = self.store.find_pending(account.system_id, part.source_addr,
                                          part.destination_addr, part.service_type)
        waiting = [p for p in waiting if p.source_addr == part.source_addr
                   and p.service_type == part.service_type]
        return self._delete(account, waiting, now) if waiting else []

    def _delete(self, account: Account, waiting: list[StoredMessage],
                now: float) -> list[OutboxItem]:
        """Take pending parts out of their queues as DELETED (refunded per the account's
        policy), with the receipts their registered_delivery asks for."""
        changes = [MessageChange(id=p.id, state=_DELETED, next_at=None, attempts=p.attempts,
                                 done_at=now, refund=account.refund_failed) for p in waiting]
        self._stale.update(p.id for p in waiting if p.id in self._held_ids)
        outbox = []
        per_message: dict[tuple[int, str], list[StoredMessage]] = {}
        for p, c in zip(waiting, changes, strict=True):
            if p.part_total > 1:
                key = receipts.group_key(p)
                if key in per_message:
                    continue
                rows = self._split_rows(p)
                if rows is not None:
                    per_message[key] = rows
                    continue
            receipt = receipts.final_receipt(p, c, self.id_format.format,
                                             zone=self.receipt_zone)
            if receipt is not None:
                outbox.append(_item(p, receipt, now, account.receipt_ttl))
        if per_message:
            outbox.extend(self._message_receipts(per_message, changes, now))
        return self.store.apply(changes, outbox, now)

    def replace(self, account: Account, pdu: pdus.ReplaceSm, now: float) -> pdus.ReplaceSmResp:
        fail = pdus.ReplaceSmResp(sequence_number=pdu.sequence_number,
                                  command_status=S.ESME_RREPLACEFAIL)
        parts = self._owned(account, pdu.message_id, pdu.source_addr)
        if len(parts) != 1 or parts[0].next_at is None:
            return fail
        part = parts[0]
        if len(pdu.short_message) > 254:
            return pdus.ReplaceSmResp(sequence_number=pdu.sequence_number,
                                      command_status=S.ESME_RINVMSGLEN)
        try:
            scheduled = resolve_schedule(parse_schedule_delivery_time(
                pdu.schedule_delivery_time, now), now=now)
            expires = None
            if pdu.validity_period:
                start = now if scheduled is None else scheduled
                expires = resolve_expiry(parse_validity_period(pdu.validity_period, now),
                                         now=now, start=start,
                                         profile=self.simulator.profile(part.operator))
        except PduError as e:
            return pdus.ReplaceSmResp(sequence_number=pdu.sequence_number,
                                      command_status=e.command_status)
        waiting_until = part.next_at if part.next_at is not None else now
        next_at = waiting_until if scheduled is None else max(scheduled, waiting_until)
        change = MessageChange(id=part.id, state=part.state, next_at=next_at,
                               attempts=part.attempts, error_code=part.error_code,
                               short_message=pdu.short_message,
                               text_snippet=text_snippet(_user_data(part, pdu.short_message),
                                                         part.data_coding),
                               registered_delivery=pdu.registered_delivery,
                               scheduled_at=scheduled, expires_at=expires)
        self.store.apply([change], [], now)
        if part.id in self._held_ids:  # held in memory: the store's queue has it now
            self._stale.add(part.id)
        return pdus.ReplaceSmResp(sequence_number=pdu.sequence_number)


def operator_desk(simulator: OperatorSimulator) -> OperatorDesk:
    """The operator simulation as intake sees it."""
    return _SimulatorForIntake(simulator)


class _SimulatorForIntake:
    """The operator simulator behind the :class:`~smsc.core.submit.OperatorDesk` intake asks: queue
    room, first attempt times, profiles, and the test numbers' submit statuses."""

    def __init__(self, simulator: OperatorSimulator) -> None:
        self._s = simulator
        self.queue_has_room = simulator.queue_has_room
        self.first_attempt_at = simulator.first_attempt_at
        self.profile = simulator.profile

    def test_submit_status(self, destination_addr: str) -> int:
        behaviour = self._s.test_behaviour(destination_addr)
        return behaviour.submit_status if behaviour is not None else 0


def _user_data(part: StoredMessage, short_message: bytes) -> bytes:
    """The text octets of a short_message (after its UDH when the part has one)."""
    if part.esm_class & 0x40 and short_message:
        return short_message[1 + short_message[0]:]
    return short_message


_stored = slot_constructor(StoredMessage)


def _held(p: NewMessage, row_id: int) -> StoredMessage:
    """The stored form of a part just accepted (how its charge was split between the credit
    buckets is the store's to know; refunds read it there)."""
    return _stored(
        id=row_id, message_id=p.message_id, account=p.account, credit_owner=p.credit_owner,
        source_addr_ton=p.source_addr_ton, source_addr_npi=p.source_addr_npi,
        source_addr=p.source_addr, dest_addr_ton=p.dest_addr_ton, dest_addr_npi=p.dest_addr_npi,
        destination_addr=p.destination_addr, esm_class=p.esm_class, protocol_id=p.protocol_id,
        priority_flag=p.priority_flag, data_coding=p.data_coding,
        registered_delivery=p.registered_delivery, short_message=p.short_message, tlvs=p.tlvs,
        service_type=p.service_type, part_ref=p.part_ref, part_total=p.part_total,
        part_index=p.part_index, operator=p.operator, route=p.route, price=p.price,
        charged_subscription=0, charged_bought=p.price, submitted_at=p.submitted_at,
        scheduled_at=p.scheduled_at, expires_at=p.expires_at, next_at=p.next_at,
        state=_ENROUTE, attempts=0, done_at=None, error_code=0, text_snippet=p.text_snippet,
        blacklisted=p.blacklisted, refunded=0, forced_state=p.forced_state,
        forced_error=p.forced_error)


def _split_here(parts: Sequence[NewMessage]) -> set[tuple[int, str]]:
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


_outbox_item = slot_constructor(OutboxItem)
_make_settled = slot_constructor(Settled)  # state, attempts, done_at, error_code, receipt
_RECEIPT = OutboxKind.RECEIPT


def _frame_item(message: StoredMessage, frame: bytes, now: float, ttl: float,
                kind: OutboxKind = _RECEIPT) -> OutboxItem:
    return _outbox_item(id=0, account=message.account, kind=kind, pdu=frame, created_at=now,
                        expires_at=now + ttl, message_id=message.message_id, attempts=0,
                        not_before=0.0)


def _item(message: StoredMessage, pdu: pdus.DeliverSm, now: float, ttl: float) -> OutboxItem:
    return OutboxItem(account=message.account, kind=OutboxKind.RECEIPT, pdu=encode(pdu),
                      created_at=now, expires_at=now + ttl, message_id=message.message_id)


TEST_PASSWORD_META = "test_account_password"  # where earlier versions kept it in clear


def ensure_test_account(store: Store, *, system_id: str, password: str, credit: int,
                        currency: str, throughput: float, now: float) -> tuple[Account, str | None]:
    """Create the integrators' test account if it is missing, with its bonus credit; returns the
    account and, when it was just created, its password (to print once: like every password it
    is stored only as a hash; ``smsc account passwd`` prints a new one)."""
    existing = store.get_account(system_id)
    if existing is not None:
        if store.get_meta(f"{TEST_PASSWORD_META}:{system_id}"):
            store.set_meta(f"{TEST_PASSWORD_META}:{system_id}", "")  # kept in clear before
        return existing, None
    password = password or new_password()
    account = Account(system_id=system_id, password_hash=hash_password(password),
                      currency=currency, throughput=throughput, test_account=True,
                      created_at=now)
    store.create_account(account)
    if credit:
        store.credit(system_id, credit, Bucket.BOUGHT, now, note="test account bonus")
    return account, password


__all__ = [
    "BindVerdict", "Committed", "DueRound", "LockPolicy", "OperatorDesk", "SmscCore",
    "ensure_test_account",
]
