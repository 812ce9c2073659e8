"""A campaign's sending window: the hours of the day a recipient may get its message, in the
recipient's own local time (``09:00-20:00``: never at night).

A number's time zones come from its number (:class:`smsc.routing.numbers.Destination`,
phonenumbers' data): one for most numbers, several for a mobile number of a country that spans
zones. A time is open for a number when it is inside the window in **every** one of its zones
(so nobody is woken); when its zones never share an open minute (a window too narrow for a
country that wide) the first zone alone decides. A zone phonenumbers does not know is read as
UTC. Daylight saving is the zone database's: a window start that does not exist on the day the
clocks go forward opens at the first minute that does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_MINUTES: Final = 24 * 60
_SEARCH_DAYS: Final = 3


class WindowError(ValueError):
    pass


@lru_cache(maxsize=1024)
def zone_of(name: str | None) -> tzinfo:
    """The zone of an IANA name; UTC for None or a name the zone database lacks."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _minutes(text: str) -> int:
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise WindowError(f"{text.strip()!r} is not a time such as 09:00")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > DAY_MINUTES:
        raise WindowError(f"{text.strip()!r} is not a time of day")
    return value


@dataclass(frozen=True, slots=True)
class SendingWindow:
    """Minutes after local midnight: open from ``start`` (included) to ``end`` (excluded);
    ``start`` > ``end`` spans midnight; ``start`` == ``end`` is always open."""

    start: int = 0
    end: int = 0

    @classmethod
    def parse(cls, text: str) -> SendingWindow:
        """``09:00-20:00``; ``""`` or ``any``: always open."""
        if not text.strip() or text.strip().lower() == "any":
            return cls()
        first, sep, second = text.partition("-")
        if not sep:
            raise WindowError(f"{text!r} is not a window such as 09:00-20:00")
        return cls(_minutes(first) % DAY_MINUTES, _minutes(second) % DAY_MINUTES)

    @property
    def always(self) -> bool:
        return self.start == self.end

    def __str__(self) -> str:
        if self.always:
            return "any time"
        start, end = divmod(self.start, 60), divmod(self.end, 60)
        return f"{start[0]:02d}:{start[1]:02d}-{end[0]:02d}:{end[1]:02d}"

    def _open_local(self, minute: int) -> bool:
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end

    def open_in(self, zone: tzinfo, now: float) -> bool:
        if self.always:
            return True
        local = datetime.fromtimestamp(now, zone)
        return self._open_local(local.hour * 60 + local.minute)

    def is_open(self, zones: Sequence[str], now: float) -> bool:
        """Whether ``now`` is inside the window for a number with these zones."""
        return self.next_open(zones, now) == now

    def _next_start(self, zone: tzinfo, now: float) -> float:
        """The first time >= now at which the window is open in ``zone``."""
        if self.open_in(zone, now):
            return now
        local = datetime.fromtimestamp(now, zone)
        day = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
        for offset in range(_SEARCH_DAYS):
            wall = day + timedelta(days=offset, minutes=self.start)
            at = wall.replace(tzinfo=zone).timestamp()
            if at < now:
                continue
            # A start that falls in a gap (clocks forward): step to the first open minute.
            for minute in range(120):
                if self.open_in(zone, at + 60 * minute):
                    return at + 60 * minute
        return now + DAY_MINUTES * 60  # unreachable for a window that opens at all

    def next_open(self, zones: Sequence[str], now: float) -> float:
        """The first time >= ``now`` the window is open for a number with these zones
        (``now`` itself when it is open)."""
        if self.always:
            return now
        tz = [zone_of(z) for z in zones] or [UTC]
        at = now
        for _ in range(4 * len(tz) + 4):  # each round moves to a later zone's opening
            starts = [self._next_start(z, at) for z in tz]
            latest = max(starts)
            if latest == at and all(self.open_in(z, at) for z in tz):
                return at
            if latest - now > _SEARCH_DAYS * DAY_MINUTES * 60:
                break
            at = latest
        return self._next_start(tz[0], now)  # the zones never share an open minute
