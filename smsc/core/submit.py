"""Submit: a customer's submit_sm, data_sm or submit_multi checked and turned into parts
(:meth:`Intake.prepare`), then answered (:meth:`Intake.answer`).

Runs on the server's event loop for every submit, so it touches no store: the account, its
throttle, the routing decision, the operator profiles and the queue depths are all in memory.
The parts it returns are committed by ``Store.accept`` (group commit), which also debits the
credit; only then is the customer answered. Every status a submit is answered with is decided
here, in an :class:`Answer` that names no transport: the SMPP server encodes it into a
submit_sm_resp, data_sm_resp or submit_multi_resp, another transport into its own answer.

Every refusal while preparing is a PduError carrying the status to answer with.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Protocol

from smsc.core.content import TAG_RECIPIENT_LOCAL_TIME, Content, ContentMemo, submit_content
from smsc.core.depths import QueueDepths
from smsc.core.parts import held_until
from smsc.core.routebook import Routed, RouteFn
from smsc.operators.schedule import parse_schedule_delivery_time, resolve_schedule
from smsc.operators.validity import parse_validity_period, resolve_expiry
from smsc.pdu import pdus
from smsc.pdu.constants import ESM_TYPE_MASK, CommandStatus, Tag, standard_status
from smsc.pdu.errors import PduError
from smsc.pdu.reassembly import Reassembler
from smsc.pdu.smpptime import format_relative
from smsc.pdu.udh import ConcatInfo
from smsc.slotted import slot_constructor
from smsc.store.records import AcceptOutcome, Account, MessageHook, NewMessage

S = CommandStatus
_LONGEST_RELATIVE = 99 * 86_400 + 86_399  # a longer qos_time_to_live is cut to 99 days 23:59:59


_new_message = slot_constructor(NewMessage)  # keyword calls, without the dataclass __init__

# Where a message's receipts go and its reference, as every part stores them: (hook_url,
# hook_style, reference); the account's default destination and no reference by default.
HookFields = tuple[str, int, str | None]
_NO_HOOK: HookFields = ("", 0, None)


def _hook_fields(hook: MessageHook) -> HookFields:
    """A message hook as its parts store it: a style NONE hook keeps the account's destination
    (no url) and carries only its reference."""
    style = int(hook.style)
    return (hook.url if style else "", style, hook.reference)


class Throttle(Protocol):
    def take(self, now: float, n: int = 1) -> bool: ...


class OperatorDesk(Protocol):
    """What intake needs of the operator simulation."""

    def queue_has_room(self, operator: str, depth: int, adding: int = 1) -> bool: ...

    def first_attempt_at(self, *, operator: str, message_id: int, part_index: int,
                         destination_addr: str, now: float, scheduled_at: float | None = None,
                         blacklisted: bool = False, expires_at: float | None = None) -> float: ...

    def profile(self, operator: str) -> object: ...

    def test_submit_status(self, destination_addr: str) -> int: ...

    def operator_up(self, operator: str, now: float) -> bool: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class BindContext:
    """Who submits: an account and its throttle (an SMPP bind, or any other caller acting for
    the account)."""

    account: Account
    throttle: Throttle | None


@dataclass(frozen=True, slots=True)
class RefusedDestination:
    """A destination of a submit_multi refused with ``status``, named as the customer gave it
    (a distribution list by its name, with ton and npi 0)."""

    address: str
    ton: int
    npi: int
    status: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    """A submit ready for the group commit: its parts form ``groups`` (message, destination)
    groups, in order; ``unsuccess`` lists destinations of a submit_multi refused already."""

    message_id: int
    parts: tuple[NewMessage, ...]
    groups: int
    operators: tuple[tuple[str, int], ...]  # (operator, parts) to count in the queue depths
    unsuccess: tuple[RefusedDestination, ...] = ()
    # submit_multi, per group: its destination as stored, the address, ton and npi the customer
    # gave it (a refusal of that group names it the customer's way), its operator and parts
    asked: tuple[tuple[str, str, int, int, str, int], ...] = ()
    multi: bool = False  # a submit_multi: answered with its list of refused destinations


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """How a submit is answered, whatever the transport: ``status`` as the account is answered
    (0: accepted), ``cause`` the status decided (before an account's standard statuses; what
    the metrics count), the message id, and for a submit_multi the destinations refused. A
    refusal of the whole submit has no message id (a submit_multi refused destination by
    destination has one)."""

    status: int
    cause: int
    message_id: str = ""
    unsuccess: tuple[RefusedDestination, ...] = ()
    multi: bool = False


# Built through the slots on the hot path (fields in declaration order, every one given).
_prepared = slot_constructor(Prepared)
_answer = slot_constructor(Answer)  # status, cause, message_id, unsuccess, multi


class Intake:
    def __init__(self, *, route: RouteFn, operators: OperatorDesk,
                 take_id: Callable[[], int | None], queue_depths: QueueDepths,
                 format_id: Callable[[int], str] = str,
                 reassembly_timeout: float = 600.0, max_pending_sets: int = 100_000) -> None:
        self._route = route
        self._operators = operators
        self._take_id = take_id
        self._format_id = format_id
        self.queue_depths = queue_depths
        self._sets = Reassembler(max_pending_sets, reassembly_timeout)
        # For each pending concatenated set: the route its first part took.
        self._set_routes: dict[tuple[str, str, int, int], Routed] = {}
        self._contents = ContentMemo()  # a run of one text is made content once

    # --- the three submit operations ---------------------------------------------------------
    def prepare(self, caller: BindContext, request: pdus.Pdu, now: float, *,
                hook: MessageHook | None = None) -> Prepared:
        """A submit_sm, data_sm or submit_multi of ``caller`` checked and made into parts (its
        queue room taken); a PduError refuses it whole (answer it with :meth:`refusal`).

        ``hook``: where the receipts of these parts go instead of the account's default (its
        ``webhook_url``, else its SMPP receivers); every part carries it (see
        :mod:`smsc.core.hooks`)."""
        kind = type(request)
        if kind is pdus.SubmitSm:
            return self.submit_sm(caller, request, now, hook=hook)  # type: ignore[arg-type]
        if kind is pdus.DataSm:
            return self.data_sm(caller, request, now, hook=hook)  # type: ignore[arg-type]
        if kind is pdus.SubmitMulti:
            return self.submit_multi(caller, request, now, hook=hook)  # type: ignore[arg-type]
        raise PduError(S.ESME_RINVCMDID, f"{request.command_name} is not a submit")

    def submit_sm(self, bind: BindContext, pdu: pdus.SubmitSm, now: float, *,
                  hook: MessageHook | None = None) -> Prepared:
        self._check_esm_class(pdu.esm_class)
        self._throttle(bind, now, 1)
        content = self._contents.content(bind.account, pdu.esm_class, pdu.data_coding,
                                         pdu.short_message, pdu.tlvs, self._take_reference)
        return self._single(bind.account, pdu, content, now, pdu.schedule_delivery_time,
                            pdu.validity_period, pdu.protocol_id, pdu.priority_flag,
                            _NO_HOOK if hook is None else _hook_fields(hook))

    def data_sm(self, bind: BindContext, pdu: pdus.DataSm, now: float, *,
                hook: MessageHook | None = None) -> Prepared:
        self._check_esm_class(pdu.esm_class)
        self._throttle(bind, now, 1)
        content = submit_content(bind.account, pdu.esm_class, pdu.data_coding, b"", pdu.tlvs,
                                 self._take_reference)
        validity = ""
        ttl = pdu.tlvs.get_int(Tag.QOS_TIME_TO_LIVE)
        if ttl is not None:
            if ttl <= 0:
                raise PduError(S.ESME_RINVEXPIRY, "qos_time_to_live must be positive")
            validity = format_relative(timedelta(seconds=min(ttl, _LONGEST_RELATIVE)))
        return self._single(bind.account, pdu, content, now, "", validity, 0, 0,
                            _NO_HOOK if hook is None else _hook_fields(hook))

    def submit_multi(self, bind: BindContext, pdu: pdus.SubmitMulti, now: float, *,
                     hook: MessageHook | None = None) -> Prepared:
        self._check_esm_class(pdu.esm_class)
        hooked = _NO_HOOK if hook is None else _hook_fields(hook)
        account = bind.account
        content = self._contents.content(account, pdu.esm_class, pdu.data_coding,
                                         pdu.short_message, pdu.tlvs, self._take_reference)
        message_id = self._new_id()
        unsuccess: list[RefusedDestination] = []
        parts: list[NewMessage] = []
        counts: dict[str, int] = {}
        seen: set[str] = set()
        asked: list[tuple[str, str, int, int, str, int]] = []
        groups = 0
        for dest in pdu.dest_addresses:
            if isinstance(dest, pdus.DistributionList):
                unsuccess.append(RefusedDestination(dest.dl_name[:20], 0, 0, S.ESME_RINVDLNAME))
                continue
            number = dest.destination_addr
            if number in seen:  # nobody gets the same message twice
                continue
            seen.add(number)
            try:
                if bind.throttle is not None and not bind.throttle.take(now, 1):
                    raise PduError(S.ESME_RTHROTTLED, "throughput limit reached")
                made = self._parts_for(account, pdu, content, message_id, number,
                                       dest.dest_addr_ton, dest.dest_addr_npi, now,
                                       pdu.schedule_delivery_time, pdu.validity_period,
                                       pdu.protocol_id, pdu.priority_flag, hooked)
            except PduError as e:
                unsuccess.append(RefusedDestination(number, dest.dest_addr_ton,
                                                    dest.dest_addr_npi, e.command_status))
                continue
            if made[0].destination_addr != number:  # read as another number: dedupe that too
                if made[0].destination_addr in seen:
                    continue
                seen.add(made[0].destination_addr)
            groups += 1
            parts.extend(made)
            counts[made[0].operator] = counts.get(made[0].operator, 0) + len(made)
            asked.append((made[0].destination_addr, number, dest.dest_addr_ton,
                          dest.dest_addr_npi, made[0].operator, len(made)))
        for operator, count in counts.items():
            self.queue_depths.add(operator, count)
        return Prepared(message_id=message_id, parts=tuple(parts), groups=groups,
                        operators=tuple(counts.items()), unsuccess=tuple(unsuccess),
                        asked=tuple(asked), multi=True)

    @property
    def route(self) -> RouteFn:
        """How destinations are routed (a quote prices by it without preparing anything)."""
        return self._route

    @property
    def operators(self) -> OperatorDesk:
        """The operator simulation submits are queued by (swapped by :meth:`use_operators`)."""
        return self._operators

    def use_operators(self, operators: OperatorDesk) -> None:
        """Take a reloaded operator simulation (its queue limits and delays) for new submits."""
        self._operators = operators

    def operator_up(self, operator: str, now: float) -> bool:
        """Whether ``operator`` is out of an outage at ``now``, by the operators submits are
        queued by (routing fails over by it: the two swap together on a reload)."""
        return self._operators.operator_up(operator, now)

    def refused(self, prepared: Prepared) -> None:
        """The store refused the submit (no credit): its parts never joined the queues."""
        self.queue_depths.refused(prepared.operators)

    # --- the answer ---------------------------------------------------------------------------
    def refusal(self, account: Account | None, status: int) -> Answer:
        """A submit refused whole before its commit (a PduError of :meth:`prepare`)."""
        return _answer(_answered(account, status), status, "", (), False)

    def answer(self, prepared: Prepared, outcomes: Sequence[AcceptOutcome] | None,
               account: Account | None) -> Answer:
        """The answer to a prepared submit, once its commit is done: ``outcomes`` per
        (message, destination) group from the store (None: the commit failed, or the submit
        never reached it). A refusal takes its parts back out of the queue depths."""
        if prepared.multi:
            return self._multi_answer(prepared, outcomes, account)
        status = outcomes[0].status if outcomes else S.ESME_RSYSERR
        if status:
            self.refused(prepared)
            return _answer(_answered(account, status), status, "", (), False)
        return _answer(0, 0, self._format_id(prepared.message_id), (), False)

    def _multi_answer(self, prepared: Prepared, outcomes: Sequence[AcceptOutcome] | None,
                      account: Account | None) -> Answer:
        """A submit_multi: refused whole only when its commit failed; otherwise answered with
        its message id and every destination refused (while preparing, or by the store, for
        credit), named as the customer gave it; ESME_RSUBMITFAIL when none was accepted."""
        if outcomes is None:
            if prepared.parts:
                self.refused(prepared)
            return _answer(S.ESME_RSYSERR, S.ESME_RSYSERR, "", (), True)
        unsuccess = list(prepared.unsuccess)
        asked = {a[0]: a for a in prepared.asked} if any(o.status for o in outcomes) else {}
        gone: list[tuple[str, int]] = []  # (operator, parts) of the groups refused
        for o in outcomes:
            if o.status:
                entry = asked.get(o.destination_addr)
                if entry is None:
                    unsuccess.append(RefusedDestination(o.destination_addr, 1, 1, o.status))
                    continue
                gone.append((entry[4], entry[5]))
                unsuccess.append(RefusedDestination(entry[1], entry[2], entry[3], o.status))
        if account is not None and account.standard_statuses:
            unsuccess = [replace(u, status=standard_status(u.status)) for u in unsuccess]
        refused = all(o.status for o in outcomes)
        if refused and prepared.parts:
            self.refused(prepared)
        elif gone:  # the groups refused give back their queue room
            self.queue_depths.refused(gone)
        status = S.ESME_RSUBMITFAIL if refused else 0
        return _answer(status, status, self._format_id(prepared.message_id), tuple(unsuccess),
                       True)

    def expire_sets(self, now: float) -> int:
        """Forget concatenated sets whose missing parts never came (their parts already
        received are delivered as they are); returns how many."""
        gone = self._sets.expire(now)
        for s in gone:
            key = s.key
            if isinstance(key, tuple):
                self._set_routes.pop((*key, s.reference_bits, s.reference), None)
        return len(gone)

    # --- steps ------------------------------------------------------------------------------
    @staticmethod
    def _check_esm_class(esm_class: int) -> None:
        if esm_class & ESM_TYPE_MASK:
            raise PduError(S.ESME_RINVESMCLASS,
                           f"esm_class 0x{esm_class:02X}: a submit must be a normal message")

    @staticmethod
    def _throttle(bind: BindContext, now: float, n: int) -> None:
        if bind.throttle is not None and not bind.throttle.take(now, n):
            raise PduError(S.ESME_RTHROTTLED, "the account's throughput limit is reached")

    def _new_id(self) -> int:
        message_id = self._take_id()
        if message_id is None:
            raise PduError(S.ESME_RSYSERR, "no message id available; the store is not answering")
        return message_id

    _reference = 0

    def _take_reference(self) -> int:
        """The next concatenation reference (each call moves on: one per message split)."""
        self._reference = (self._reference + 1) & 0xFFFF
        return self._reference

    def _single(self, account: Account, pdu: pdus.SubmitSm | pdus.DataSm, content: Content,
                now: float, schedule: str, validity: str, protocol_id: int,
                priority_flag: int, hooked: HookFields) -> Prepared:
        message_id = self._new_id()
        parts = self._parts_for(account, pdu, content, message_id, pdu.destination_addr,
                                pdu.dest_addr_ton, pdu.dest_addr_npi, now, schedule, validity,
                                protocol_id, priority_flag, hooked)
        operator = parts[0].operator
        self.queue_depths.add(operator, len(parts))
        return _prepared(message_id, tuple(parts), 1, ((operator, len(parts)),), (), (), False)

    def _parts_for(self, account: Account, pdu: pdus.SubmitSm | pdus.DataSm | pdus.SubmitMulti,
                   content: Content, message_id: int, destination_addr: str, dest_ton: int,
                   dest_npi: int, now: float, schedule: str, validity: str, protocol_id: int,
                   priority_flag: int, hooked: HookFields) -> list[NewMessage]:
        test_status = self._operators.test_submit_status(destination_addr)
        if test_status:
            raise PduError(test_status, f"test number {destination_addr} refuses submits")
        routed = self._routed(account, pdu, destination_addr, dest_ton, dest_npi, now,
                              content.concat, content.payload)
        if routed.destination_addr != destination_addr:  # read as another number ('+', national)
            test_status = self._operators.test_submit_status(routed.destination_addr)
            if test_status:
                raise PduError(test_status,
                               f"test number {routed.destination_addr} refuses submits")
        operator = routed.operator
        depth = self.queue_depths.get(operator, 0)
        if not self._operators.queue_has_room(operator, depth, len(content.segments)):
            raise PduError(S.ESME_RMSGQFUL, f"the queue of {operator} is full")
        scheduled = None
        if schedule:
            local = account.recipient_local_time or (
                pdu.tlvs.get_int(TAG_RECIPIENT_LOCAL_TIME) == 1 if pdu.tlvs else False)
            zone = routed.time_zone if local else None
            scheduled = resolve_schedule(parse_schedule_delivery_time(schedule, now,
                                                                      recipient_zone=zone),
                                         now=now)
        start = now if scheduled is None else scheduled
        expires = resolve_expiry(parse_validity_period(validity, now) if validity else None,
                                 now=now, start=start,
                                 profile=self._operators.profile(operator))  # type: ignore[arg-type]
        price = 0 if routed.blacklisted else routed.price
        if dest_ton == 2 or routed.destination_addr != destination_addr:
            dest_ton, dest_npi = 1, 1  # stored (and in receipts) as the international number
        # A part of a set the customer splits, on an account that holds incomplete sets: it
        # waits (at most ``hold``) until the core sees the whole set and releases it.
        hold = account.hold_incomplete_sets if content.concat is not None else 0.0
        hook_url, hook_style, hook_reference = hooked
        registered_delivery = getattr(pdu, "registered_delivery", 0)
        service_type = getattr(pdu, "service_type", "")
        out: list[NewMessage] = []
        for octets, esm_bits, reference, total, index in content.segments:
            out.append(_new_message(  # positional, in NewMessage's field order (named after)
                message_id, account.system_id, account.credit_owner, routed.source_ton,
                routed.source_npi, routed.source_addr, dest_ton, dest_npi,
                routed.destination_addr, content.esm_class | esm_bits, protocol_id,
                priority_flag, content.data_coding, registered_delivery, octets, content.tlvs,
                service_type, reference, total, index, operator, routed.route, price, now,
                scheduled, expires, self._operators.first_attempt_at(
                    operator=operator, message_id=message_id, part_index=index,
                    destination_addr=routed.destination_addr, now=now, scheduled_at=scheduled,
                    blacklisted=routed.blacklisted, expires_at=expires),
                content.snippet, routed.blacklisted, routed.forced_state, routed.forced_error,
                hook_url, hook_style, hook_reference))
            # message_id, account, credit_owner, source_addr_ton, source_addr_npi,
            # source_addr, dest_addr_ton, dest_addr_npi, destination_addr, esm_class,
            # protocol_id, priority_flag, data_coding, registered_delivery, short_message,
            # tlvs, service_type, part_ref, part_total, part_index, operator, route, price,
            # submitted_at, scheduled_at, expires_at, next_at, text_snippet, blacklisted,
            # forced_state, forced_error, hook_url, hook_style, reference
        if hold > 0 and content.concat is not None and content.concat.total > 1:
            out = [_with_next_at(p, held_until(p.next_at, now, hold, p.part_total)) for p in out]
        return out

    def _routed(self, account: Account, pdu: pdus.Pdu, destination_addr: str, dest_ton: int,
                dest_npi: int, now: float, concat: ConcatInfo | None, payload: bytes) -> Routed:
        """Route one destination; the parts of a concatenated message all take the route of
        the first part seen, so a failover in between cannot split them."""
        source = getattr(pdu, "source_addr", "")
        source_ton = getattr(pdu, "source_addr_ton", 0)
        source_npi = getattr(pdu, "source_addr_npi", 0)
        if concat is None or concat.total == 1:
            return self._route(account, source_addr=source, source_ton=source_ton,
                               source_npi=source_npi, destination_addr=destination_addr,
                               dest_ton=dest_ton, dest_npi=dest_npi, now=now)
        set_key = (account.system_id, destination_addr, concat.reference_bits, concat.reference)
        routed = self._set_routes.get(set_key)
        if routed is None:
            routed = self._route(account, source_addr=source, source_ton=source_ton,
                                 source_npi=source_npi, destination_addr=destination_addr,
                                 dest_ton=dest_ton, dest_npi=dest_npi, now=now)
        complete = self._sets.add((account.system_id, destination_addr), concat, payload, now)
        if complete is not None:
            self._set_routes.pop(set_key, None)
        else:
            self._set_routes[set_key] = routed
        return routed


def _answered(account: Account | None, status: int) -> int:
    """The status sent to ``account``: standard SMPP only if the account asks for it."""
    if account is not None and account.standard_statuses:
        return standard_status(status)
    return status


def _with_next_at(part: NewMessage, next_at: float) -> NewMessage:
    return replace(part, next_at=next_at)
