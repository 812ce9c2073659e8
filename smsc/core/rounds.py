"""The operator queues' rounds: due parts taken (held in memory or from the store) within each
operator's throughput, each part's fate decided by :func:`decide_part`, and the changes
committed with their receipts in one transaction (store thread).

:func:`decide_part` is the one place a part's attempt becomes its change and what it sends
(its receipt, an intermediate notification, an alert, whether a handset replies): the group
commit (:mod:`smsc.core.accept`) uses it to make parts final at acceptance, the rounds for every
part they take.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import tzinfo

from smsc.core.hooks import NO_HOOK, item_hook, with_reference
from smsc.core.optout import OptOutChange, OptOuts
from smsc.core.queues import Queues
from smsc.operators import alerts, receipts
from smsc.operators.mo import MoReply, MoRules, mo_deliver_sms
from smsc.operators.receipts import FormatId
from smsc.operators.simulation import OperatorSimulator
from smsc.pdu import pdus
from smsc.pdu.codec import encode
from smsc.pdu.constants import MessageState
from smsc.pdu.errors import PduError
from smsc.slotted import slot_constructor
from smsc.store.records import Account, MessageChange, OutboxItem, OutboxKind, StoredMessage

_DELIVERED = int(MessageState.DELIVERED)
DEFAULT_RECEIPT_TTL = 72 * 3600.0  # for a part whose account is gone


@dataclass(frozen=True, slots=True)
class PartFate:
    """The operator's decision on one attempt of one part, and what the part sends for it."""

    change: MessageChange
    counted: bool  # the attempt used a slot of the operator's throughput
    receipt: bytes | None  # final, with a receipt its registered_delivery asks for (encoded)
    enroute: bytes | None  # an intermediate (ENROUTE) notification to send now (encoded)
    alert: bytes | None  # an alert_notification: the handset came back (encoded)
    reply: bool  # delivered to a handset an MO rule makes reply
    final_at_once: bool  # final and needing nothing else (no refund, note, alert, reply)


_fate = slot_constructor(PartFate)


def decide_part(message: StoredMessage, now: float, *, simulator: OperatorSimulator,
                refund_failed: bool, format_id: FormatId, zone: tzinfo,
                mo_rules: MoRules | None) -> PartFate:
    """One attempt of ``message`` at ``now``: its change, and its receipt, notification, alert
    and handset reply as the operator and the customer's registered_delivery have them.
    ``mo_rules`` None: no MO rule at all. A part smsc split itself has one receipt per message
    (the caller's to make): its own ``receipt`` is then not sent."""
    decision = simulator.attempt(message, now, refund_failed=refund_failed)
    change = decision.change
    enroute = (receipts.enroute_notification_frame(message, now, format_id, zone)
               if decision.notify_enroute else None)
    if change.next_at is not None:
        return _fate(change, decision.counted, None, enroute, None, False, False)
    handset_back = decision.handset_back
    alert = (alerts.alert_frame(message)
             if handset_back and alerts.wants_alert(message) else None)
    reply = (mo_rules is not None and change.state == _DELIVERED
             and mo_rules.find(message.account, message.destination_addr) is not None)
    receipt = receipts.final_receipt_frame(message, change, format_id,
                                           network_error=decision.network_error, zone=zone)
    final_at_once = not (change.refund or decision.notify_enroute or handset_back or reply)
    return _fate(change, decision.counted, receipt, enroute, alert, reply, final_at_once)


@dataclass(frozen=True, slots=True, kw_only=True)
class DueRound:
    """What one round of the operator queues did."""

    taken: int = 0
    finals: dict[str, int] = field(default_factory=dict)  # operator -> parts that left
    items: list[OutboxItem] = field(default_factory=list)  # outbox items committed, id order
    full: bool = False  # some operator had more due than it could take: go again soon
    # Handsets' replies that were opt-out words: the opt-out list is changed (after the round's
    # commit); each change's confirmation, if any, is for the event loop to submit
    # (smsc.core.optout: at price 0).
    opt_outs: list[tuple[Account | None, OptOutChange]] = field(default_factory=list)


class Rounds:
    def __init__(self, queues: Queues, opt_outs: OptOuts | None = None) -> None:
        self.queues = queues
        self.store = queues.store
        self.opt_outs = opt_outs  # None: handsets' replies are never opt-out words

    def due_round(self, now: float, limit: int | None = None) -> DueRound:
        """Take due parts of every operator (within its throughput; at most ``limit``, by
        default ``due_batch``), decide each one's fate, and commit the changes with their
        receipts in one transaction."""
        queues = self.queues
        simulator = queues.simulator
        pacing = queues.pacing
        backlog = queues.backlog
        due_batch = queues.due_batch
        batch_size = due_batch if limit is None else min(limit, due_batch)
        taken, full, taken_hot = queues.take_hot(now, batch_size)
        for operator in queues.operators_with_work():
            room = min(pacing.available(operator, now) - taken_hot.get(operator, 0),
                       batch_size - len(taken))
            if room <= 0:
                full = full or len(taken) >= batch_size
                continue
            batch = self.store.take_due(now, room, [operator],
                                        exclude_generation=queues.generation or None,
                                        lease=queues.claim_lease)
            if batch:
                backlog.add(operator)
            else:
                backlog.discard(operator)
            full = full or len(batch) == room
            taken.extend(batch)
        if not taken:
            return DueRound()
        queues.refresh_accounts()
        account_of = queues.account
        format_id = queues.id_format.format
        zone = queues.receipt_zone
        changes: list[MessageChange] = []
        outbox: list[OutboxItem] = []
        finals: dict[str, int] = {}
        counted: dict[str, int] = {}
        per_message: dict[tuple[int, str], list[StoredMessage]] = {}
        replies: dict[tuple[int, str], StoredMessage] = {}
        mo_rules = queues.mo_rules if len(queues.mo_rules) else None
        for message in taken:
            account = account_of(message.account)
            refund = account.refund_failed if account is not None else False
            fate = decide_part(message, now, simulator=simulator, refund_failed=refund,
                               format_id=format_id, zone=zone, mo_rules=mo_rules)
            change = fate.change
            changes.append(change)
            if fate.counted:
                counted[message.operator] = counted.get(message.operator, 0) + 1
            ttl = account.receipt_ttl if account is not None else DEFAULT_RECEIPT_TTL
            if fate.enroute is not None:
                outbox.append(frame_item(message, fate.enroute, now, ttl, account=account))
            if change.next_at is not None:
                continue
            finals[message.operator] = finals.get(message.operator, 0) + 1
            if fate.alert is not None:
                outbox.append(frame_item(message, fate.alert, now, ttl, OutboxKind.ALERT))
            if fate.reply:
                replies[receipts.group_key(message)] = message
            if message.part_total > 1:
                key = receipts.group_key(message)
                if key in per_message:
                    continue
                rows = self.split_rows(message)
                if rows is not None:  # smsc split it: one receipt for the whole message
                    per_message[key] = rows
                    continue
            if fate.receipt is not None:
                outbox.append(frame_item(message, fate.receipt, now, ttl, account=account))
        for operator, count in counted.items():
            pacing.consume(operator, count, now)
        if per_message:
            outbox.extend(self.message_receipts(per_message, changes, now))
        said: list[MoReply] = []
        if replies:
            outbox.extend(self._handset_replies(replies, changes, now, said))
        added = self.store.apply(changes, outbox, now)
        opt_outs = self._opt_outs(said) if said and self.opt_outs is not None else []
        return DueRound(taken=len(taken), finals=finals, items=added, full=full,
                        opt_outs=opt_outs)

    def _opt_outs(self, said: list[MoReply]) -> list[tuple[Account | None, OptOutChange]]:
        """The handsets' replies that are opt-out words, applied to the opt-out lists."""
        assert self.opt_outs is not None
        out: list[tuple[Account | None, OptOutChange]] = []
        for reply in said:
            change = self.opt_outs.received(account=reply.account, handset=reply.handset,
                                            service=reply.service, text=reply.text,
                                            now=reply.at)
            if change is not None:
                out.append((self.queues.account(reply.account), change))
        return out

    def split_rows(self, part: StoredMessage) -> list[StoredMessage] | None:
        """Every part of ``part``'s message to its destination when smsc split that message
        itself (more than one part under one message id); None for a part the customer
        submitted on its own (UDH or SAR: each such PDU has its own message id)."""
        rows = [p for p in self.store.get_messages(part.message_id)
                if p.destination_addr == part.destination_addr]
        return rows if len(rows) > 1 else None

    def message_receipts(self, groups: dict[tuple[int, str], list[StoredMessage]],
                         changes: Sequence[MessageChange], now: float) -> list[OutboxItem]:
        """The one receipt of each message smsc split whose last part is final now."""
        queues = self.queues
        by_id = {c.id: c for c in changes}
        out = []
        for rows in groups.values():
            parts = [receipts.with_change(p, by_id.get(p.id)) for p in rows]
            pdu = receipts.message_receipt(parts, queues.id_format.format, queues.receipt_zone)
            if pdu is not None:
                account = queues.account(parts[0].account)
                ttl = account.receipt_ttl if account is not None else DEFAULT_RECEIPT_TTL
                out.append(pdu_item(parts[0], pdu, now, ttl, account))
        return out

    def _handset_replies(self, delivered: dict[tuple[int, str], StoredMessage],
                         changes: Sequence[MessageChange], now: float,
                         said: list[MoReply]) -> list[OutboxItem]:
        """MO replies of handsets whose message (every part) was just delivered, by rule;
        the replies sent are added to ``said``."""
        queues = self.queues
        by_id = {c.id: c for c in changes}
        out: list[OutboxItem] = []
        for (message_id, destination), message in delivered.items():
            parts = [message] if message.part_total == 1 else [
                p for p in self.store.get_messages(message_id)
                if p.destination_addr == destination]
            parts = [receipts.with_change(p, by_id.get(p.id)) for p in parts]
            reply = queues.mo_rules.reply_to_delivered(parts, now)
            if reply is None:
                continue
            account = queues.account(reply.account)
            ttl = account.receipt_ttl if account is not None else DEFAULT_RECEIPT_TTL
            hook_url, hook_style = item_hook(None, account)
            try:
                pdus_ = mo_deliver_sms(source_addr=reply.handset, destination_addr=reply.service,
                                       text=reply.text, reference=message_id & 0xFF)
            except PduError:
                continue  # a reply too long for a handset is not sent
            said.append(reply)
            out.extend(OutboxItem(account=reply.account, kind=OutboxKind.MO, pdu=encode(p),
                                  created_at=now, expires_at=reply.at + ttl,
                                  message_id=None, not_before=reply.at, hook_url=hook_url,
                                  hook_style=hook_style) for p in pdus_)
        return out


_outbox_item = slot_constructor(OutboxItem)
_RECEIPT = OutboxKind.RECEIPT
_ALERT = OutboxKind.ALERT


def frame_item(message: StoredMessage, frame: bytes, now: float, ttl: float,
               kind: OutboxKind = _RECEIPT, *, account: Account | None = None) -> OutboxItem:
    """An outbox item of ``message``'s account carrying an encoded PDU, going where
    :func:`smsc.core.hooks.item_hook` says (an alert_notification: SMPP only)."""
    if kind is _ALERT or (not message.hook_style and (account is None
                                                      or not account.webhook_url)):
        hook_url, hook_style = NO_HOOK
    else:
        hook_url, hook_style = item_hook(message, account)
        frame = with_reference(frame, hook_style, message.reference)
    return _outbox_item(id=0, account=message.account, kind=kind, pdu=frame, created_at=now,
                        expires_at=now + ttl, message_id=message.message_id, attempts=0,
                        not_before=0.0, hook_url=hook_url, hook_style=hook_style)


def pdu_item(message: StoredMessage, pdu: pdus.DeliverSm, now: float, ttl: float,
             account: Account | None = None) -> OutboxItem:
    hook_url, hook_style = item_hook(message, account)
    frame = with_reference(encode(pdu), hook_style, message.reference)
    return OutboxItem(account=message.account, kind=OutboxKind.RECEIPT, pdu=frame,
                      created_at=now, expires_at=now + ttl, message_id=message.message_id,
                      hook_url=hook_url, hook_style=hook_style)
