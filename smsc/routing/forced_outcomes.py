"""Outcomes the routing core decides at submit, and the err codes their receipts carry.

Receipt ``err:`` values are 0-255 (query_sm_resp carries the error code in one octet) and are
GSM MAP error causes, as the simulated operators use them, except smsc's own 250 (blacklisted).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from smsc.pdu.constants import MessageState

__all__ = [
    "ERR_BLACKLISTED",
    "ERR_COVERAGE",
    "ERR_UNKNOWN_SUBSCRIBER",
    "CoverageAction",
    "ForcedOutcome",
]

# The destination is on a blacklist (global or the account's) whose mode is "receipt": the
# message was accepted, not sent and not charged; its receipt says UNDELIV err:250. (The
# operator simulation uses the same value for the same case.)
ERR_BLACKLISTED: Final = 250
# A coverage rule matched the destination (for example prefix 1, US/Canada): the message was
# accepted and its receipt says REJECTD (or UNDELIV, per the rule) with err 21, the GSM cause
# "facility not supported" (the operators' config uses it for the same case), unless the rule
# names another err.
ERR_COVERAGE: Final = 21
# The destination is a possible number in no assigned range (phonenumbers calls it possible, not
# valid: a fictional range such as 447700900xxx, or a range newer than its metadata): the message
# was accepted and its receipt says UNDELIV with err 1, the GSM MAP cause "unknown subscriber",
# as a network's subscriber lookup answers. Accounts with strict_numbers refuse such numbers.
ERR_UNKNOWN_SUBSCRIBER: Final = 1


class CoverageAction(IntEnum):
    """What a coverage rule does with the messages it matches."""

    REJECT = 1  # accepted, then final state REJECTED (receipt stat REJECTD)
    UNDELIVER = 2  # accepted, then final state UNDELIVERABLE (receipt stat UNDELIV)
    REFUSE = 3  # refused at submit with SMSC_RCOVERAGE (0x407)

    @property
    def state(self) -> MessageState | None:
        """The final state the message gets, or None when it is refused at submit."""
        if self == CoverageAction.REJECT:
            return MessageState.REJECTED
        if self == CoverageAction.UNDELIVER:
            return MessageState.UNDELIVERABLE
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class ForcedOutcome:
    """A final state decided at submit: the message is accepted but never reaches a network."""

    state: MessageState
    error_code: int
    rule: str  # the coverage rule's name
