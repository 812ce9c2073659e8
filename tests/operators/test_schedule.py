"""Validity periods, schedule_delivery_time and the recipient local time mode, with statuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smsc.operators.profile import DAY, HOUR
from smsc.operators.schedule import (
    MAX_SCHEDULE_AHEAD,
    delivery_window,
    delivery_window_from_pdu,
    parse_schedule_delivery_time,
    resolve_schedule,
    zone_named,
)
from smsc.operators.validity import parse_validity_period, resolve_expiry
from smsc.pdu.constants import CommandStatus
from smsc.pdu.errors import PduError
from tests.operators.factories import T0, profile

OP = profile(default_validity=24 * HOUR, max_validity=48 * HOUR)


def ts(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp()


def status_of(call: object) -> int:
    with pytest.raises(PduError) as caught:
        call()  # type: ignore[operator]
    return caught.value.command_status


# --- validity -----------------------------------------------------------------------------


def test_default_validity_counts_from_submission() -> None:
    window = delivery_window(now=T0, profile=OP)
    assert (window.scheduled_at, window.expires_at) == (None, T0 + 24 * HOUR)
    assert window.release_at == T0


def test_requested_validity_within_the_maximum_is_kept() -> None:
    window = delivery_window_from_pdu(now=T0, profile=OP, validity_period="000000300000000R")
    assert window.expires_at == T0 + 30 * HOUR


def test_longer_validity_is_capped_at_the_maximum() -> None:
    window = delivery_window_from_pdu(now=T0, profile=OP, validity_period="000010000000000R")
    assert window.expires_at == T0 + 48 * HOUR
    absolute = delivery_window(now=T0, profile=OP, expiry=T0 + 100 * DAY)
    assert absolute.expires_at == T0 + 48 * HOUR


def test_absolute_validity_with_its_offset() -> None:
    # 2025-06-15 20:00 at UTC-04:00 is 2025-06-16 00:00 UTC.
    window = delivery_window_from_pdu(now=T0, profile=OP, validity_period="250615200000016-")
    assert window.expires_at == ts(2025, 6, 16)


def test_expiry_in_the_past_is_rinvexpiry() -> None:
    assert (
        status_of(
            lambda: delivery_window_from_pdu(now=T0, profile=OP, validity_period="250101000000000+")
        )
        == CommandStatus.ESME_RINVEXPIRY
    )
    assert (
        status_of(lambda: resolve_expiry(T0, now=T0, start=T0, profile=OP))
        == CommandStatus.ESME_RINVEXPIRY
    )


def test_malformed_validity_is_rinvexpiry() -> None:
    for value in ("2501010000000", "251301000000000+", "250101000000099+", "00000000000001XR"):
        assert (
            status_of(lambda v=value: parse_validity_period(v, T0)) == CommandStatus.ESME_RINVEXPIRY
        )


def test_validity_counts_from_the_scheduled_time() -> None:
    start = T0 + 10 * HOUR
    window = delivery_window(now=T0, profile=OP, schedule=start)
    assert window.expires_at == start + 24 * HOUR
    capped = delivery_window(now=T0, profile=OP, schedule=start, expiry=T0 + 30 * DAY)
    assert capped.expires_at == start + 48 * HOUR
    assert capped.release_at == start


def test_schedule_after_the_expiry_is_rinvsched() -> None:
    call = lambda: delivery_window(  # noqa: E731
        now=T0, profile=OP, schedule=T0 + 5 * HOUR, expiry=T0 + 4 * HOUR
    )
    assert status_of(call) == CommandStatus.ESME_RINVSCHED
    same = lambda: delivery_window(  # noqa: E731
        now=T0, profile=OP, schedule=T0 + 5 * HOUR, expiry=T0 + 5 * HOUR
    )
    assert status_of(same) == CommandStatus.ESME_RINVSCHED


# --- schedule -----------------------------------------------------------------------------


def test_absolute_schedule_honours_its_offset() -> None:
    # 16 June 2025 12:00 at UTC+03:00 is 09:00 UTC.
    moment = parse_schedule_delivery_time("250616120000012+", T0)
    assert moment == datetime(2025, 6, 16, 9, tzinfo=UTC)
    assert resolve_schedule(moment, now=T0) == ts(2025, 6, 16, 9)


def test_relative_schedule() -> None:
    moment = parse_schedule_delivery_time("000001020304000R", T0)
    assert moment is not None
    assert moment.timestamp() == T0 + DAY + 2 * HOUR + 3 * 60 + 4


def test_schedule_in_the_past_or_now_means_now() -> None:
    assert resolve_schedule(T0 - 1, now=T0) is None
    assert resolve_schedule(T0, now=T0) is None
    assert resolve_schedule(None, now=T0) is None
    window = delivery_window_from_pdu(now=T0, profile=OP, schedule_delivery_time="240101000000000+")
    assert window.scheduled_at is None


def test_schedule_too_far_ahead_is_rinvsched() -> None:
    assert resolve_schedule(T0 + MAX_SCHEDULE_AHEAD, now=T0) == T0 + MAX_SCHEDULE_AHEAD
    call = lambda: resolve_schedule(T0 + MAX_SCHEDULE_AHEAD + 1, now=T0)  # noqa: E731
    assert status_of(call) == CommandStatus.ESME_RINVSCHED
    assert resolve_schedule(T0 + 40 * DAY, now=T0, max_ahead=60 * DAY) == T0 + 40 * DAY


@pytest.mark.parametrize(
    "value", ["2506161200000", "250616120000012*", "250631120000000+", "250616120000049+"]
)
def test_malformed_schedule_is_rinvsched(value: str) -> None:
    call = lambda: parse_schedule_delivery_time(value, T0)  # noqa: E731
    assert status_of(call) == CommandStatus.ESME_RINVSCHED
    local = lambda: parse_schedule_delivery_time(value, T0, recipient_zone="Europe/Kyiv")  # noqa: E731
    assert status_of(local) == CommandStatus.ESME_RINVSCHED


# --- recipient local time -------------------------------------------------------------------


def test_local_time_reads_the_wall_clock_in_the_recipients_zone() -> None:
    # 09:00 on 16 June; whatever offset the client wrote, it is 09:00 in Kyiv (UTC+03:00 in
    # summer), i.e. 06:00 UTC; in New York (UTC-04:00) it is 13:00 UTC.
    for value in ("250616090000000+", "250616090000012+", "250616090000020-"):
        kyiv = parse_schedule_delivery_time(value, T0, recipient_zone="Europe/Kyiv")
        assert kyiv == datetime(2025, 6, 16, 6, tzinfo=UTC)
        new_york = parse_schedule_delivery_time(value, T0, recipient_zone="America/New_York")
        assert new_york == datetime(2025, 6, 16, 13, tzinfo=UTC)
    # In winter Kyiv is UTC+02:00.
    winter = parse_schedule_delivery_time("260115090000000+", T0, recipient_zone="Europe/Kyiv")
    assert winter == datetime(2026, 1, 15, 7, tzinfo=UTC)


def test_local_time_keeps_tenths_of_a_second() -> None:
    moment = parse_schedule_delivery_time("250616090000500+", T0, recipient_zone="Europe/Kyiv")
    assert moment == datetime(2025, 6, 16, 6, 0, 0, 500_000, tzinfo=UTC)


def test_local_time_does_not_change_relative_times_or_validity() -> None:
    relative = parse_schedule_delivery_time("000000010000000R", T0, recipient_zone="Asia/Tokyo")
    assert relative is not None
    assert relative.timestamp() == T0 + HOUR
    window = delivery_window_from_pdu(
        now=T0,
        profile=OP,
        schedule_delivery_time="250616090000000+",
        validity_period="250616120000000+",
        recipient_zone="Europe/Kyiv",
    )
    assert window.scheduled_at == ts(2025, 6, 16, 6)
    assert window.expires_at == ts(2025, 6, 16, 12)


def test_local_time_in_a_gap_moves_forward_and_a_repeated_hour_is_the_first() -> None:
    # Kyiv: clocks go from 03:00 to 04:00 on 30 March 2025 (UTC+2 -> UTC+3), and from 04:00
    # back to 03:00 on 26 October 2025 (UTC+3 -> UTC+2).
    now = ts(2025, 3, 1)
    gap = parse_schedule_delivery_time("250330033000000+", now, recipient_zone="Europe/Kyiv")
    assert gap == datetime(2025, 3, 30, 1, 30, tzinfo=UTC)  # 04:30 local, after the change
    repeated = parse_schedule_delivery_time("251026033000000+", now, recipient_zone="Europe/Kyiv")
    assert repeated == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)  # first 03:30, at UTC+3


def test_unknown_zone_falls_back_to_the_times_own_offset() -> None:
    own = parse_schedule_delivery_time("250616120000012+", T0)
    for zone in ("Etc/Unknown", "Mars/Olympus_Mons", "", "../etc/passwd"):
        assert parse_schedule_delivery_time("250616120000012+", T0, recipient_zone=zone) == own
    assert zone_named("Europe/Kyiv") is not None
    assert zone_named("Etc/Unknown") is None


def test_local_time_in_the_past_means_now() -> None:
    # 10:00 on 15 June in Kyiv is 07:00 UTC, before T0 (15:06 UTC).
    moment = parse_schedule_delivery_time("250615100000000+", T0, recipient_zone="Europe/Kyiv")
    assert moment is not None
    assert resolve_schedule(moment, now=T0) is None
    assert moment.timestamp() == T0 - (8 * HOUR + 400)
    assert moment - datetime(2025, 6, 15, 7, tzinfo=UTC) == timedelta(0)
