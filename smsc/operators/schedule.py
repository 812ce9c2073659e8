"""schedule_delivery_time, the recipient-local-time mode, and a message's delivery window.

Rules (the user documentation repeats them):

- No schedule_delivery_time: the message is handed to its operator at once.
- An absolute or relative time in the past, or equal to the submission time, means "now": the
  message is not scheduled.
- A time more than ``max_ahead`` (30 days by default) after the submission is refused with
  ESME_RINVSCHED, as is a malformed time.
- A schedule at or after the end of the validity period is refused with ESME_RINVSCHED (see
  :mod:`smsc.operators.validity` for the validity rules).

Recipient local time (per message or per account, decided by the caller): an *absolute*
schedule's date and clock time (``YYMMDDhhmmsst``) are read as a wall-clock time in the
recipient's time zone (an IANA name such as ``Europe/Kyiv`` derived from the number); the
time's own UTC offset (``nnp``) is ignored. ``250301090000000+`` then means 09:00 on 1 March
2025 on the recipient's clock, whatever offset the client wrote. A wall-clock time that does
not exist (skipped when clocks go forward) is moved forward by the length of the gap; a time
that occurs twice (when clocks go back) means its first occurrence. Relative times are
durations and are not changed by the mode; neither is the validity period. Without a zone, or
with a zone name this system does not know, the time's own offset is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from smsc.operators.profile import DAY, OperatorProfile
from smsc.operators.validity import instant, parse_validity_period, resolve_expiry
from smsc.pdu.constants import CommandStatus
from smsc.pdu.errors import PduError
from smsc.pdu.smpptime import parse_smpp_time

MAX_SCHEDULE_AHEAD: Final = 30 * DAY
_TIME_LENGTH: Final = 16
_UTC_SUFFIX: Final = "00+"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryWindow:
    """When a message is released to its operator and when it expires (POSIX seconds).

    ``scheduled_at`` is None for a message that is not scheduled (released at submission).
    """

    submitted_at: float
    scheduled_at: float | None
    expires_at: float

    @property
    def release_at(self) -> float:
        return self.submitted_at if self.scheduled_at is None else self.scheduled_at


@lru_cache(maxsize=1024)
def zone_named(name: str) -> ZoneInfo | None:
    """The IANA zone of that name, or None when unknown (``Etc/Unknown`` included)."""
    if not name or name == "Etc/Unknown":
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def parse_schedule_delivery_time(
    value: str, now: float, *, recipient_zone: str | None = None
) -> datetime | None:
    """The instant a schedule_delivery_time names (None when empty).

    With ``recipient_zone`` (recipient local time mode) an absolute time's wall clock is read in
    that zone, as the module documentation explains. Malformed values raise
    PduError(ESME_RINVSCHED).
    """
    if not value:
        return None
    status = CommandStatus.ESME_RINVSCHED
    now_dt = datetime.fromtimestamp(now, UTC)
    zone = zone_named(recipient_zone) if recipient_zone else None
    if zone is None or len(value) != _TIME_LENGTH or value[15:] not in ("+", "-"):
        return parse_smpp_time(value, now_dt, status=status)
    # Validate the whole value first (the offset digits too), then re-read its wall clock.
    parse_smpp_time(value, now_dt, status=status)
    wall = parse_smpp_time(value[:13] + _UTC_SUFFIX, now_dt, status=status)
    assert wall is not None
    local = wall.replace(tzinfo=zone, fold=0)
    # A time in a gap: ZoneInfo gives it the offset from before the change, i.e. moves it
    # forward by the gap. Normalise through UTC so the result names a real instant.
    return local.astimezone(UTC)


def resolve_schedule(
    requested: datetime | float | None, *, now: float, max_ahead: float = MAX_SCHEDULE_AHEAD
) -> float | None:
    """The scheduled release time, None for "now" (not given, or not after ``now``).

    Raises PduError(ESME_RINVSCHED) for a time more than ``max_ahead`` seconds after ``now``.
    """
    if requested is None:
        return None
    moment = instant(requested)
    if moment <= now:
        return None
    if moment - now > max_ahead:
        raise PduError(
            CommandStatus.ESME_RINVSCHED,
            f"the scheduled delivery time is {(moment - now) / DAY:.1f} days ahead; at most "
            f"{max_ahead / DAY:g} days are accepted",
        )
    return moment


def delivery_window(
    *,
    now: float,
    profile: OperatorProfile,
    schedule: datetime | float | None = None,
    expiry: datetime | float | None = None,
    max_ahead: float = MAX_SCHEDULE_AHEAD,
) -> DeliveryWindow:
    """The window of a message submitted at ``now`` from already parsed times."""
    scheduled_at = resolve_schedule(schedule, now=now, max_ahead=max_ahead)
    start = now if scheduled_at is None else scheduled_at
    expires_at = resolve_expiry(expiry, now=now, start=start, profile=profile)
    return DeliveryWindow(submitted_at=now, scheduled_at=scheduled_at, expires_at=expires_at)


def delivery_window_from_pdu(
    *,
    now: float,
    profile: OperatorProfile,
    schedule_delivery_time: str = "",
    validity_period: str = "",
    recipient_zone: str | None = None,
    max_ahead: float = MAX_SCHEDULE_AHEAD,
) -> DeliveryWindow:
    """The window of a submit from its SMPP time strings.

    ``recipient_zone`` switches on the recipient local time mode for the schedule (pass None
    when the mode is off for the message and its account). Raises PduError with
    ESME_RINVSCHED or ESME_RINVEXPIRY as the module documentations describe.
    """
    schedule = parse_schedule_delivery_time(
        schedule_delivery_time, now, recipient_zone=recipient_zone
    )
    expiry = parse_validity_period(validity_period, now)
    return delivery_window(
        now=now, profile=profile, schedule=schedule, expiry=expiry, max_ahead=max_ahead
    )
