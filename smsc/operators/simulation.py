"""The life of a message part in its operator's queue.

The queue itself lives in the store: a waiting part has a ``next_at``. The core asks the store
for due parts and hands each to :meth:`OperatorSimulator.attempt`, which returns the part's new
state as a :class:`~smsc.store.records.MessageChange` (with ``next_at`` for the next look, or
None once final) and says whether an ENROUTE intermediate notification is due.

One attempt, in this order:

1. blacklisted: UNDELIV, err 250, refunded; nothing is sent to the operator;
2. validity over (``now >= expires_at``): EXPIRED (err 27 after the handset was tried, or the
   err of an EXPIRED outcome, else 0);
3. a test number (:mod:`smsc.operators.testnumbers`): its fixed behaviour;
4. an outcome forced at submit (``forced_state``/``forced_error``, e.g. a coverage rule):
   final at once; the operator is not involved (no outage, no throughput);
5. the operator is in an outage: wait until it ends (or until expiry); no attempt is counted
   and no throughput is used;
6. the outcome is drawn (outcome rules, else the operator's mix). EXPIRED: the handset never
   answers, the part waits until its expiry. DELIVERED: if the handset is offline it is retried
   every retry interval until it is back or the validity ends; otherwise, and for every other
   outcome, the part is final now.

The first attempt happens at :meth:`OperatorSimulator.first_attempt_at`, which is where the
delivery delay is applied. All random draws depend only on the seed, the message id, the
destination and the part index (:mod:`smsc.operators.draws`), never on the order of calls, so
a restart gives the same outcomes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from smsc.operators.draws import (
    SALT_DELAY,
    SALT_OFFLINE,
    SALT_OFFLINE_DURATION,
    SALT_OUTCOME,
    handset_key,
    part_key,
    unit,
)
from smsc.operators.outcome_rules import NO_RULES, OutcomeRules
from smsc.operators.profile import (
    DEFAULT_OPERATOR,
    ERR_ABSENT_SUBSCRIBER,
    ERR_BLACKLISTED,
    DelayKind,
    OperatorProfile,
    Outcome,
    builtin_profiles,
)
from smsc.operators.testnumbers import TestBehaviour, lookup
from smsc.pdu.constants import INTERMEDIATE_NOTIFICATION_BIT, MessageState
from smsc.slotted import slot_constructor
from smsc.store.records import MessageChange, StoredMessage

_ENROUTE: Final = int(MessageState.ENROUTE)
_DELIVERED: Final = MessageState.DELIVERED
_EXPIRED: Final = MessageState.EXPIRED
_REFUNDABLE: Final = frozenset({int(MessageState.REJECTED), int(MessageState.UNDELIVERABLE)})
# States an outcome forced at submit may have (every final one).
_FORCEABLE: Final = frozenset(int(s) for s in MessageState if s != MessageState.ENROUTE)
_BLACKLISTED: Final = Outcome(state=MessageState.UNDELIVERABLE, err=ERR_BLACKLISTED)


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """The result of one attempt.

    ``counted``: the attempt used a slot of the operator's throughput (False for an outage
    wait, an expiry, a blacklisted part). ``notify_enroute``: send an ENROUTE intermediate
    notification now (only set when the part's registered_delivery asks for them).
    ``network_error``: the error code for the network_error_code TLV of a final receipt.
    """

    change: MessageChange
    counted: bool
    notify_enroute: bool = False
    network_error: int = 0
    handset_back: bool = False  # delivered to a handset that had been offline at earlier tries

    @property
    def final(self) -> bool:
        return self.change.next_at is None


_make_change = slot_constructor(MessageChange)
_make_decision = slot_constructor(Decision)


class OperatorSimulator:
    """Decides what happens to parts in operator queues. Pure: every method takes ``now``.

    ``profiles`` must contain a ``default`` operator (used for parts whose operator is not
    configured); when it does not, the built-in one is added.
    """

    __slots__ = ("_default", "_profiles", "_rules", "_seed", "_test_numbers")

    def __init__(
        self,
        profiles: Mapping[str, OperatorProfile],
        rules: OutcomeRules = NO_RULES,
        seed: int = 0,
        *,
        test_numbers: bool = True,
    ) -> None:
        self._profiles = dict(profiles)
        if DEFAULT_OPERATOR not in self._profiles:
            self._profiles[DEFAULT_OPERATOR] = builtin_profiles()[DEFAULT_OPERATOR]
        self._default = self._profiles[DEFAULT_OPERATOR]
        self._rules = rules
        self._seed = seed
        self._test_numbers = test_numbers

    @property
    def seed(self) -> int:
        return self._seed

    @property
    def profiles(self) -> Mapping[str, OperatorProfile]:
        return self._profiles

    def profile(self, operator: str) -> OperatorProfile:
        """The profile of an operator; the ``default`` one for a name not configured."""
        return self._profiles.get(operator, self._default)

    def test_behaviour(self, destination_addr: str) -> TestBehaviour | None:
        return lookup(destination_addr) if self._test_numbers else None

    def test_submit_status(self, destination_addr: str) -> int:
        """The status a test number refuses submits with (0: not such a test number)."""
        behaviour = self.test_behaviour(destination_addr)
        return 0 if behaviour is None else behaviour.submit_status

    # --- acceptance ---------------------------------------------------------------------------

    def queue_has_room(self, operator: str, depth: int, adding: int = 1) -> bool:
        """Whether ``adding`` more parts fit in a queue holding ``depth`` waiting parts (else
        the submit gets ESME_RMSGQFUL)."""
        return depth + adding <= self.profile(operator).queue_limit

    def first_attempt_at(
        self,
        *,
        operator: str,
        message_id: int,
        part_index: int,
        destination_addr: str,
        now: float,
        scheduled_at: float | None = None,
        blacklisted: bool = False,
        expires_at: float | None = None,
    ) -> float:
        """The ``next_at`` to store for a newly accepted part: its start (schedule or ``now``)
        plus its delivery delay (a test number's fixed delay), but not after ``expires_at``
        when given (the part then expires on time). Blacklisted parts are due at once."""
        if blacklisted:
            return now
        start = now if scheduled_at is None or scheduled_at < now else scheduled_at
        behaviour = self.test_behaviour(destination_addr)
        due = start + self._delay(operator, message_id, part_index, destination_addr, behaviour)
        return due if expires_at is None or due < expires_at else expires_at

    def _delay(
        self,
        operator: str,
        message_id: int,
        part_index: int,
        destination_addr: str,
        behaviour: TestBehaviour | None,
    ) -> float:
        if behaviour is not None:
            return behaviour.delay
        delay = self.profile(operator).delay
        if delay.kind == DelayKind.FIXED:  # the same for every part: nothing to draw
            return delay.sample(0.0)
        key = part_key(handset_key(self._seed, message_id, destination_addr), part_index)
        return delay.sample(unit(key, SALT_DELAY))

    # --- the queue -----------------------------------------------------------------------------

    def outage_end(self, operator: str, now: float) -> float | None:
        """When the operator's current outage ends, or None when it is up. The core may skip
        taking the operator's parts until then (they would only be told to wait)."""
        return self.profile(operator).outage_end(now)

    def outcome_for(self, message: StoredMessage) -> Outcome:
        """The outcome of a part: a test number's, else drawn from the outcome rules or its
        operator's mix."""
        behaviour = self.test_behaviour(message.destination_addr)
        if behaviour is not None and behaviour.outcome is not None:
            return behaviour.outcome
        handset = handset_key(self._seed, message.message_id, message.destination_addr)
        return self._draw(message, self.profile(message.operator), handset)

    def _draw(self, message: StoredMessage, profile: OperatorProfile, handset: int) -> Outcome:
        mix = self._rules.mix_for(
            message.account, message.operator, message.destination_addr, profile.outcomes
        )
        return mix.pick(unit(part_key(handset, message.part_index), SALT_OUTCOME))

    def attempt(
        self, message: StoredMessage, now: float, *, refund_failed: bool = False
    ) -> Decision:
        """What happens to a due part at ``now``. ``refund_failed`` is the account's policy of
        refunding parts that end REJECTD or UNDELIV."""
        if message.next_at is None:
            raise ValueError(f"part {message.id} is not waiting in a queue (next_at is None)")
        if message.blacklisted:
            return self._final(message, now, _BLACKLISTED, counted=False, refund=True)
        if now >= message.expires_at:
            return self._expire(message, now)
        behaviour = self.test_behaviour(message.destination_addr)
        if behaviour is not None and behaviour.outcome is not None:
            return self._test_step(message, now, behaviour, refund_failed)
        forced = message.forced_state
        if forced in _FORCEABLE:
            return self._final_as(
                message,
                now,
                forced,
                message.forced_error,
                message.forced_error,
                counted=False,
                refund=refund_failed and forced in _REFUNDABLE,
            )
        profile = self.profile(message.operator)
        outage_over = profile.outage_end(now)
        if outage_over is not None:
            return self._wait(message, min(outage_over, message.expires_at), counted=False)
        handset = handset_key(self._seed, message.message_id, message.destination_addr)
        outcome = self._draw(message, profile, handset)
        state = outcome.state
        if state == _EXPIRED:
            # The handset never answers: keep the part until its validity ends.
            return self._retry(message, message.expires_at)
        back = False
        if state == _DELIVERED:
            offline_until = self._offline_until(message, profile, handset)
            if offline_until is not None:
                if now < offline_until:
                    retry_at = now + profile.offline.retry_interval
                    return self._retry(message, min(retry_at, message.expires_at))
                back = message.attempts > 0  # tried while it was off: it came back
        refund = refund_failed and state in _REFUNDABLE
        decision = self._final(message, now, outcome, counted=True, refund=refund)
        return dataclasses.replace(decision, handset_back=True) if back else decision

    @staticmethod
    def _offline_until(
        message: StoredMessage, profile: OperatorProfile, handset: int
    ) -> float | None:
        """When the handset comes back, for a handset that is offline at its first attempt."""
        offline = profile.offline
        if offline.probability <= 0.0:
            return None
        if unit(handset, SALT_OFFLINE) >= offline.probability:
            return None
        # Offline from the first attempt on: the start plus the delay of part 1 (the same for
        # every part, so a long message's parts come back together).
        submitted = message.submitted_at
        scheduled = message.scheduled_at
        start = submitted if scheduled is None or scheduled < submitted else scheduled
        first = start + profile.delay.sample(unit(part_key(handset, 1), SALT_DELAY))
        return first + offline.duration.sample(unit(handset, SALT_OFFLINE_DURATION))

    def _test_step(
        self, message: StoredMessage, now: float, behaviour: TestBehaviour, refund_failed: bool
    ) -> Decision:
        outcome = behaviour.outcome
        assert outcome is not None
        if behaviour.enroute_first and message.attempts == 0:
            return Decision(
                change=MessageChange(
                    id=message.id,
                    state=_ENROUTE,
                    next_at=min(now + behaviour.then_after, message.expires_at),
                    attempts=1,
                ),
                counted=True,
                notify_enroute=_wants_intermediate(message),
            )
        refund = refund_failed and outcome.state in _REFUNDABLE
        return self._final(message, now, outcome, counted=True, refund=refund)

    def _expire(self, message: StoredMessage, now: float) -> Decision:
        if message.attempts:
            outcome = self.outcome_for(message)
            err = outcome.err if outcome.state == _EXPIRED else ERR_ABSENT_SUBSCRIBER
        else:
            err = 0
        return self._final(
            message, now, Outcome(state=MessageState.EXPIRED, err=err), counted=False, refund=False
        )

    @staticmethod
    def _wait(message: StoredMessage, until: float, *, counted: bool) -> Decision:
        return Decision(
            change=MessageChange(
                id=message.id, state=message.state, next_at=until, attempts=message.attempts
            ),
            counted=counted,
        )

    @staticmethod
    def _retry(message: StoredMessage, until: float) -> Decision:
        first_failure = message.attempts == 0
        return Decision(
            change=MessageChange(
                id=message.id, state=message.state, next_at=until, attempts=message.attempts + 1
            ),
            counted=True,
            notify_enroute=first_failure and _wants_intermediate(message),
        )

    @classmethod
    def _final(
        cls, message: StoredMessage, now: float, outcome: Outcome, *, counted: bool, refund: bool
    ) -> Decision:
        return cls._final_as(
            message,
            now,
            int(outcome.state),
            outcome.err,
            outcome.network_error_code,
            counted=counted,
            refund=refund,
        )

    @staticmethod
    def _final_as(
        message: StoredMessage,
        now: float,
        state: int,
        err: int,
        network_error: int,
        *,
        counted: bool,
        refund: bool,
    ) -> Decision:
        # Every final attempt goes through here: built through the slots (see smsc.slotted).
        change = _make_change(
            id=message.id, state=state, next_at=None,
            attempts=message.attempts + (1 if counted else 0), done_at=now, error_code=err,
            refund=refund, short_message=None, registered_delivery=None, scheduled_at=None,
            expires_at=None, text_snippet=None,
        )
        return _make_decision(change=change, counted=counted, notify_enroute=False,
                              network_error=network_error, handset_back=False)


def _wants_intermediate(message: StoredMessage) -> bool:
    return bool(message.registered_delivery & INTERMEDIATE_NOTIFICATION_BIT)
