"""Test numbers: destinations that give every account a known result, for integrators.

The numbers are Australian mobile numbers that the Australian Communications and Media
Authority (ACMA) reserves for use in films, television and other creative works: they are
valid mobile numbers (they pass phonenumbers' ``is_valid_number`` and the routing package's
checks) that are never given to a subscriber, so a real handset can never receive a test
message. There are thirty such numbers; twenty are used below, the rest are kept free.

Each number either refuses the submit with a fixed status (nothing is stored or billed), or is
accepted and then ends in a fixed receipt status after a fixed delay counted from the message's
start (its scheduled time, or its submission). Test numbers ignore outcome rules, outages and
offline handsets; they still go through their operator's queue and throughput.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from smsc.operators.profile import (
    ERR_ABSENT_SUBSCRIBER,
    ERR_CALL_BARRED,
    ERR_SYSTEM_FAILURE,
    ERR_UNKNOWN_SUBSCRIBER,
    MINUTE,
    Outcome,
)
from smsc.pdu.constants import CommandStatus, MessageState


@dataclass(frozen=True, slots=True, kw_only=True)
class TestBehaviour:
    """What a test number does.

    ``submit_status`` non-zero: the submit is refused with it. Otherwise the message ends with
    ``outcome`` ``delay`` seconds after its start; with ``enroute_first`` an ENROUTE
    intermediate notification comes at ``delay`` and the outcome ``then_after`` seconds later.
    """

    __test__ = False  # not a pytest test class, despite its name

    number: str
    description: str
    submit_status: int = 0
    outcome: Outcome | None = None
    delay: float = 0.0
    enroute_first: bool = False
    then_after: float = 0.0

    @property
    def refuses(self) -> bool:
        return self.submit_status != 0


_SHORT: Final = 2.0


def _final(
    number: str, description: str, state: MessageState, err: int = 0, delay: float = _SHORT
) -> TestBehaviour:
    return TestBehaviour(
        number=number,
        description=description,
        outcome=Outcome(state=state, err=err),
        delay=delay,
    )


def _refuse(number: str, status: CommandStatus, description: str) -> TestBehaviour:
    return TestBehaviour(number=number, description=description, submit_status=int(status))


TEST_BEHAVIOURS: Final[tuple[TestBehaviour, ...]] = (
    _final("61491570006", "DELIVRD after 2 s", MessageState.DELIVERED),
    _final(
        "61491570156",
        "UNDELIV err 001 (unknown subscriber) after 2 s",
        MessageState.UNDELIVERABLE,
        ERR_UNKNOWN_SUBSCRIBER,
    ),
    _final(
        "61491570157",
        "REJECTD err 013 (call barred) after 2 s",
        MessageState.REJECTED,
        ERR_CALL_BARRED,
    ),
    _final(
        "61491570158",
        "EXPIRED err 027 (absent subscriber) after 30 s, as if its validity period had ended",
        MessageState.EXPIRED,
        ERR_ABSENT_SUBSCRIBER,
        delay=30.0,
    ),
    _final(
        "61491570159",
        "DELETED after 2 s, as if an operator's administrator had deleted it",
        MessageState.DELETED,
    ),
    _final("61491570110", "ACCEPTD after 2 s", MessageState.ACCEPTED),
    _final(
        "61491570313",
        "UNKNOWN err 034 (system failure) after 2 s",
        MessageState.UNKNOWN,
        ERR_SYSTEM_FAILURE,
    ),
    TestBehaviour(
        number="61491570737",
        description="ENROUTE intermediate notification after 2 s, then DELIVRD 10 s later",
        outcome=Outcome(state=MessageState.DELIVERED),
        delay=_SHORT,
        enroute_first=True,
        then_after=10.0,
    ),
    _final(
        "61491571266",
        "DELIVRD after 10 minutes: time to try query_sm, replace_sm and cancel_sm",
        MessageState.DELIVERED,
        delay=10 * MINUTE,
    ),
    TestBehaviour(
        number="61491571491",
        description="ENROUTE intermediate notification after 2 s, then EXPIRED err 027 30 s "
        "later (a handset that stays off)",
        outcome=Outcome(state=MessageState.EXPIRED, err=ERR_ABSENT_SUBSCRIBER),
        delay=_SHORT,
        enroute_first=True,
        then_after=30.0,
    ),
    _refuse("61491571804", CommandStatus.ESME_RTHROTTLED, "submit refused: throttled"),
    _refuse("61491572549", CommandStatus.ESME_RMSGQFUL, "submit refused: message queue full"),
    _refuse("61491572665", CommandStatus.ESME_RSYSERR, "submit refused: system error"),
    _refuse("61491572983", CommandStatus.SMSC_RNOCREDIT, "submit refused: insufficient credit"),
    _refuse("61491573770", CommandStatus.ESME_RSUBMITFAIL, "submit refused: submit failed"),
    _refuse(
        "61491573087", CommandStatus.SMSC_RBLACKLISTED, "submit refused: destination blacklisted"
    ),
    _refuse(
        "61491574118",
        CommandStatus.SMSC_RSENDERNOTREG,
        "submit refused: sender ID not registered",
    ),
    _refuse("61491574632", CommandStatus.SMSC_RCOVERAGE, "submit refused: destination not covered"),
    _refuse("61491575254", CommandStatus.SMSC_RNOROUTE, "submit refused: no route"),
    _refuse("61491575789", CommandStatus.ESME_RINVDSTADR, "submit refused: invalid destination"),
)

# The ACMA numbers not used above, kept for future behaviours.
SPARE_NUMBERS: Final = (
    "61491576398",
    "61491576801",
    "61491577426",
    "61491577644",
    "61491578957",
    "61491578148",
    "61491578888",
    "61491579212",
    "61491579760",
    "61491579455",
)

_BY_NUMBER: Final[dict[str, TestBehaviour]] = {b.number: b for b in TEST_BEHAVIOURS}


def lookup(number: str) -> TestBehaviour | None:
    """The behaviour of a test number (international digits, no ``+``), or None."""
    return _BY_NUMBER.get(number)
