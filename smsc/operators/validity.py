"""The validity period of a message: when the operator stops trying and the message EXPIRES.

Rules (the user documentation repeats them):

- The period counts from the message's *start*: its scheduled delivery time, or the time of
  submission when it is not scheduled.
- No validity_period: the operator's default validity after the start.
- A validity_period is an instant (an absolute time, or a relative time counted from the
  moment of submission, as SMPP defines it). An instant at or before the moment of submission
  is refused with ESME_RINVEXPIRY; an instant at or before the scheduled delivery time is
  refused with ESME_RINVSCHED (the schedule lies after the expiry).
- An instant later than the start plus the operator's maximum validity is moved back to it
  (capped), never refused.
"""

from __future__ import annotations

from datetime import UTC, datetime

from smsc.operators.profile import OperatorProfile
from smsc.pdu.constants import CommandStatus
from smsc.pdu.errors import PduError
from smsc.pdu.smpptime import parse_smpp_time

# A validity period ends at least this long after the submission: a zero relative period, or an
# absolute one equal to "now" within clock precision, is refused (ESME_RINVEXPIRY).
MIN_VALIDITY = 1.0

def instant(value: datetime | float) -> float:
    """POSIX seconds of an aware datetime (a float passes through)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a datetime given to the operator simulation must be timezone-aware")
        return value.timestamp()
    return float(value)


def parse_validity_period(value: str, now: float) -> datetime | None:
    """The instant a submit's validity_period names (None when empty); malformed values raise
    PduError(ESME_RINVEXPIRY)."""
    if not value:
        return None
    return parse_smpp_time(
        value, datetime.fromtimestamp(now, UTC), status=CommandStatus.ESME_RINVEXPIRY
    )


def resolve_expiry(
    requested: datetime | float | None,
    *,
    now: float,
    start: float,
    profile: OperatorProfile,
) -> float:
    """When a message submitted at ``now`` and starting at ``start`` (>= now) expires.

    Raises PduError(ESME_RINVEXPIRY) for an expiry not after ``now`` and
    PduError(ESME_RINVSCHED) for an expiry not after a later ``start``.
    """
    if requested is None:
        return start + profile.default_validity
    expiry = instant(requested)
    # Times read from the wire are counted from ``now`` as a datetime (microseconds): compare
    # on that same scale, so a relative period of exactly MIN_VALIDITY is always accepted.
    if expiry < datetime.fromtimestamp(now, UTC).timestamp() + MIN_VALIDITY:
        raise PduError(
            CommandStatus.ESME_RINVEXPIRY,
            f"the validity period ends at {_iso(expiry)}, not after the submission at {_iso(now)}",
        )
    if expiry <= start:
        raise PduError(
            CommandStatus.ESME_RINVSCHED,
            f"the scheduled delivery time {_iso(start)} is not before the end of the validity "
            f"period {_iso(expiry)}",
        )
    cap = start + profile.max_validity
    return expiry if expiry < cap else cap


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
