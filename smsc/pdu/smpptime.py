"""SMPP 3.4 time formats (section 7.1.1) and the date stamp of delivery receipts.

On the wire a time is 16 characters, or the empty string for "not given":

- absolute ``YYMMDDhhmmsstnnp``: a local date and time with ``t`` tenths of a second, ``nn`` the
  distance from UTC in quarter hours (00-48) and ``p`` ``+`` when local time is ahead of UTC,
  ``-`` when it is behind;
- relative ``YYMMDDhhmmss000R``: years, months, days, hours, minutes and seconds after "now".

Rules this module applies (the user documentation repeats them):

- ``YY`` always means 2000-2099.
- An absolute time must name a real calendar date and time (no 30 February, no hour 24, no
  second 60).
- The fields of a relative time are counts, so each may be 00-99: ``000000480000000R`` is 48
  hours. Years and months are added first, on the calendar of ``now`` in UTC, clamping the day
  to the end of a shorter month (31 January plus one month is 28 or 29 February); days, hours,
  minutes and seconds are then added as a plain duration.
- Anything else raises :class:`~smsc.pdu.errors.PduError` with the status the caller names
  (ESME_RINVSCHED for schedule_delivery_time, ESME_RINVEXPIRY for validity_period).

Parsing runs once per submit that carries a time, so it works on the ASCII bytes directly
(``b[i] * 10 + b[i + 1] - 528`` is the value of two digits) and uses precomputed offsets.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta, tzinfo

from smsc.pdu.errors import PduError

__all__ = [
    "MAX_OFFSET_QUARTERS",
    "MAX_RELATIVE_DAYS",
    "format_absolute",
    "format_receipt_date",
    "format_relative",
    "parse_receipt_date",
    "parse_smpp_time",
]

TIME_LENGTH = 16
MAX_OFFSET_QUARTERS = 48
# The days field of a relative time has two digits; longer periods need months or an absolute time.
MAX_RELATIVE_DAYS = 99

# Hot path (twice per receipt): %-formatting measured about twice as fast as f"{x:02d}".
_RECEIPT_DATE = "%02d%02d%02d%02d%02d"

_TWO_ZEROS = ord("0") * 11  # b"12" -> 0x31 * 10 + 0x32 - 528 == 12
_ZERO = ord("0")
_MINUS = ord("-")
_PLUS = ord("+")
_RELATIVE = ord("R")

_MONTH_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

# UTC = local time - offset. Index by nn; the sign picks the table.
_AHEAD = tuple(timedelta(minutes=15 * n) for n in range(MAX_OFFSET_QUARTERS + 1))
_BEHIND = tuple(-delta for delta in _AHEAD)
_SHIFT_TO_UTC = {_PLUS: _AHEAD, _MINUS: _BEHIND}


def parse_smpp_time(value: str, now: datetime, *, status: int) -> datetime | None:
    """The instant ``value`` names, as an aware UTC datetime; ``None`` for the empty string.

    ``now`` is the base of relative times and must then be timezone-aware (a naive ``now`` is
    a programming error: ValueError). Malformed values raise ``PduError(status, ...)``.
    """
    if not value:
        return None
    if len(value) != TIME_LENGTH:
        raise PduError(
            status, f"time {value!r} has {len(value)} characters; expected {TIME_LENGTH}"
        )
    try:
        raw = value.encode("ascii")
    except UnicodeEncodeError:
        raise PduError(status, f"time {value!r} contains non-ASCII characters") from None
    if not raw[:15].isdigit():
        raise PduError(status, f"time {value!r}: the first 15 characters must be digits")
    kind = raw[15]
    if kind == _RELATIVE:
        return _parse_relative(raw, value, now, status)
    shifts = _SHIFT_TO_UTC.get(kind)
    if shifts is None:
        raise PduError(status, f"time {value!r} ends in {value[15]!r}; expected '+', '-' or 'R'")
    quarters = raw[13] * 10 + raw[14] - _TWO_ZEROS
    if quarters > MAX_OFFSET_QUARTERS:
        raise PduError(
            status,
            f"time {value!r}: UTC offset {quarters} quarter hours is more than "
            f"{MAX_OFFSET_QUARTERS}",
        )
    try:
        local = datetime(
            2000 + raw[0] * 10 + raw[1] - _TWO_ZEROS,
            raw[2] * 10 + raw[3] - _TWO_ZEROS,
            raw[4] * 10 + raw[5] - _TWO_ZEROS,
            raw[6] * 10 + raw[7] - _TWO_ZEROS,
            raw[8] * 10 + raw[9] - _TWO_ZEROS,
            raw[10] * 10 + raw[11] - _TWO_ZEROS,
            (raw[12] - _ZERO) * 100_000,
            UTC,
        )
    except ValueError:
        raise PduError(status, f"time {value!r}: {_bad_field(raw)}") from None
    return local - shifts[quarters]


def _parse_relative(raw: bytes, value: str, now: datetime, status: int) -> datetime:
    if raw[12:15] != b"000":
        raise PduError(
            status, f"relative time {value!r}: characters 13-15 must be '000', not {value[12:15]!r}"
        )
    if now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")
    if now.tzinfo is not UTC:
        now = now.astimezone(UTC)
    months = (raw[0] * 10 + raw[1] - _TWO_ZEROS) * 12 + raw[2] * 10 + raw[3] - _TWO_ZEROS
    duration = timedelta(
        raw[4] * 10 + raw[5] - _TWO_ZEROS,
        (raw[6] * 10 + raw[7] - _TWO_ZEROS) * 3600
        + (raw[8] * 10 + raw[9] - _TWO_ZEROS) * 60
        + raw[10] * 10
        + raw[11]
        - _TWO_ZEROS,
    )
    try:
        if months:
            now = _add_months(now, months)
        return now + duration
    except (ValueError, OverflowError):
        raise PduError(
            status, f"relative time {value!r} lies beyond the last representable date"
        ) from None


def _add_months(moment: datetime, months: int) -> datetime:
    """``moment`` (UTC) moved by whole calendar months, the day clamped to the month's end."""
    index = moment.month - 1 + months
    year = moment.year + index // 12
    month = index % 12 + 1
    day = moment.day
    if day > 28:
        day = min(day, _last_day(year, month))
    # The positional constructor is much faster than datetime.replace with keywords.
    return datetime(
        year, month, day, moment.hour, moment.minute, moment.second, moment.microsecond, UTC
    )


def _last_day(year: int, month: int) -> int:
    if month == 2 and calendar.isleap(year):
        return 29
    return _MONTH_DAYS[month]


def _bad_field(raw: bytes) -> str:
    """Why the digits of an absolute time do not form a date and time (only on the error path)."""
    year = 2000 + int(raw[0:2])
    month = int(raw[2:4])
    day = int(raw[4:6])
    if not 1 <= month <= 12:
        return f"month {month:02d} is not 01-12"
    last_day = _last_day(year, month)
    if not 1 <= day <= last_day:
        return f"day {day:02d} does not exist in {year}-{month:02d}"
    for name, text, limit in (
        ("hour", raw[6:8], 24),
        ("minute", raw[8:10], 60),
        ("second", raw[10:12], 60),
    ):
        if int(text) >= limit:
            return f"{name} {text.decode()} is not 00-{limit - 1}"
    return "not a valid date and time"


def format_absolute(dt: datetime, offset_quarters: int = 0) -> str:
    """``dt`` as ``YYMMDDhhmmsstnnp`` in local time ``offset_quarters`` * 15 minutes from UTC.

    Sub-tenth digits are cut off (not rounded). The local year must be 2000-2099.
    """
    if dt.tzinfo is None:
        raise ValueError("dt must be a timezone-aware datetime")
    if not -MAX_OFFSET_QUARTERS <= offset_quarters <= MAX_OFFSET_QUARTERS:
        raise ValueError(
            f"offset_quarters {offset_quarters} is outside "
            f"-{MAX_OFFSET_QUARTERS}..{MAX_OFFSET_QUARTERS}"
        )
    shift = _AHEAD[offset_quarters] if offset_quarters >= 0 else _BEHIND[-offset_quarters]
    try:
        local = dt.astimezone(UTC) + shift
    except OverflowError:
        raise ValueError(f"{dt.isoformat()} is outside the years 2000-2099") from None
    if not 2000 <= local.year <= 2099:
        raise ValueError(f"{local.isoformat()} is outside the years 2000-2099 SMPP can express")
    sign = "-" if offset_quarters < 0 else "+"
    return (
        f"{local.year - 2000:02d}{local.month:02d}{local.day:02d}"
        f"{local.hour:02d}{local.minute:02d}{local.second:02d}"
        f"{local.microsecond // 100_000}{abs(offset_quarters):02d}{sign}"
    )


def format_relative(delta: timedelta) -> str:
    """``delta`` as ``0000DDhhmmss000R``.

    Only whole seconds from 0 up to 99 days 23:59:59 can be written: the days are not turned
    into months, because a calendar month has no fixed length and the round trip would drift.
    Anything else raises ValueError; use an absolute time for longer periods.
    """
    if delta.microseconds:
        raise ValueError(f"relative time {delta} is not a whole number of seconds")
    if delta.days < 0:
        raise ValueError(f"relative time {delta} is negative")
    if delta.days > MAX_RELATIVE_DAYS:
        raise ValueError(f"relative time {delta} is longer than {MAX_RELATIVE_DAYS} days")
    hours, rest = divmod(delta.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"0000{delta.days:02d}{hours:02d}{minutes:02d}{seconds:02d}000R"


def format_receipt_date(dt: datetime, tz: tzinfo = UTC) -> str:
    """``dt`` as the ``YYMMDDhhmm`` of a delivery receipt, on the clock of ``tz`` (UTC by default).

    The year is written modulo 100.
    """
    if dt.tzinfo is None:
        raise ValueError("dt must be a timezone-aware datetime")
    if dt.tzinfo is not tz:
        dt = dt.astimezone(tz)
    return _RECEIPT_DATE % (dt.year % 100, dt.month, dt.day, dt.hour, dt.minute)


def parse_receipt_date(value: str, tz: tzinfo = UTC) -> datetime:
    """A receipt date ``YYMMDDhhmm`` or ``YYMMDDhhmmss`` read on the clock of ``tz``, as UTC.

    A receipt does not say which clock it uses; smsc writes UTC. Raises ValueError when the
    value is not 10 or 12 ASCII digits forming a real date and time.
    """
    if len(value) not in (10, 12) or not (value.isascii() and value.isdigit()):
        raise ValueError(f"receipt date {value!r} is not 10 or 12 digits (YYMMDDhhmm[ss])")
    raw = value.encode("ascii")
    try:
        local = datetime(
            2000 + raw[0] * 10 + raw[1] - _TWO_ZEROS,
            raw[2] * 10 + raw[3] - _TWO_ZEROS,
            raw[4] * 10 + raw[5] - _TWO_ZEROS,
            raw[6] * 10 + raw[7] - _TWO_ZEROS,
            raw[8] * 10 + raw[9] - _TWO_ZEROS,
            raw[10] * 10 + raw[11] - _TWO_ZEROS if len(raw) == 12 else 0,
            tzinfo=tz,
        )
    except ValueError:
        raise ValueError(f"receipt date {value!r}: {_bad_field(raw.ljust(12, b'0'))}") from None
    return local.astimezone(UTC)
