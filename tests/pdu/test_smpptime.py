"""SMPP 3.4 absolute and relative times, and receipt dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsc.pdu.constants import CommandStatus
from smsc.pdu.errors import PduError
from smsc.pdu.smpptime import (
    format_absolute,
    format_receipt_date,
    format_relative,
    parse_receipt_date,
    parse_smpp_time,
)

SCHED = CommandStatus.ESME_RINVSCHED
EXPIRY = CommandStatus.ESME_RINVEXPIRY
NOW = datetime(2024, 3, 15, 12, 0, 0, 250_000, tzinfo=UTC)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


# --- absolute ------------------------------------------------------------------------------

ABSOLUTE = [
    # local time 4 hours ahead of UTC
    ("240315123045216+", utc(2024, 3, 15, 8, 30, 45, 200_000)),
    # 3 hours behind UTC
    ("240315123045212-", utc(2024, 3, 15, 15, 30, 45, 200_000)),
    # nn 00 with either sign is UTC
    ("240315123045900+", utc(2024, 3, 15, 12, 30, 45, 900_000)),
    ("240315123045000-", utc(2024, 3, 15, 12, 30, 45)),
    # quarter-hour offsets: 45 minutes ahead
    ("240101000000003+", utc(2023, 12, 31, 23, 15)),
    # 5:45 ahead (Nepal)
    ("240101120000023+", utc(2024, 1, 1, 6, 15)),
    # the ends of the YY range and of the offset range
    ("000101000000048+", utc(1999, 12, 31, 12, 0)),
    ("991231235959948-", utc(2100, 1, 1, 11, 59, 59, 900_000)),
    # leap day
    ("240229235959000+", utc(2024, 2, 29, 23, 59, 59)),
    ("000229000000000+", utc(2000, 2, 29)),
]


@pytest.mark.parametrize(("value", "expected"), ABSOLUTE)
def test_absolute_times(value: str, expected: datetime) -> None:
    for status in (SCHED, EXPIRY):
        parsed = parse_smpp_time(value, NOW, status=status)
        assert parsed == expected
        assert parsed is not None
        assert parsed.tzinfo is UTC


def test_empty_means_not_given() -> None:
    assert parse_smpp_time("", NOW, status=SCHED) is None


# --- relative ------------------------------------------------------------------------------

RELATIVE = [
    ("000000000000000R", NOW, NOW),
    ("000001000000000R", NOW, NOW + timedelta(days=1)),
    ("000000010203000R", NOW, NOW + timedelta(hours=1, minutes=2, seconds=3)),
    # fields are counts, so they may pass the calendar limits
    ("000000480000000R", NOW, NOW + timedelta(hours=48)),
    ("000000009999000R", NOW, NOW + timedelta(minutes=99, seconds=99)),
    ("000045000000000R", NOW, NOW + timedelta(days=45)),
    ("010000000000000R", NOW, NOW.replace(year=2025)),
    # months are calendar months, the day clamped to the end of a shorter month
    ("000100000000000R", utc(2024, 1, 31, 10), utc(2024, 2, 29, 10)),
    ("000100000000000R", utc(2023, 1, 31, 10), utc(2023, 2, 28, 10)),
    ("000100000000000R", utc(2024, 3, 31, 10), utc(2024, 4, 30, 10)),
    ("001300000000000R", utc(2024, 1, 31, 10), utc(2025, 2, 28, 10)),
    ("000200000000000R", utc(2024, 11, 30), utc(2025, 1, 30)),
    ("010000000000000R", utc(2024, 2, 29), utc(2025, 2, 28)),
    # years and months first, then days: 31 Jan + 1 month = 29 Feb, + 1 day = 1 Mar
    ("000101000000000R", utc(2024, 1, 31, 10), utc(2024, 3, 1, 10)),
    # "now" in another zone: the result is the same instant, in UTC
    (
        "000000010000000R",
        datetime(2024, 3, 15, 14, 0, tzinfo=timezone(timedelta(hours=2))),
        utc(2024, 3, 15, 13, 0),
    ),
    # months counted on the UTC calendar: 1 Feb 00:30 at +02:00 is 31 Jan 22:30 UTC
    (
        "000100000000000R",
        datetime(2024, 2, 1, 0, 30, tzinfo=timezone(timedelta(hours=2))),
        utc(2024, 2, 29, 22, 30),
    ),
    (
        "999999999999000R",
        utc(2024, 1, 1),
        utc(2131, 4, 1) + timedelta(days=99, hours=99, minutes=99, seconds=99),
    ),
]


@pytest.mark.parametrize(("value", "now", "expected"), RELATIVE)
def test_relative_times(value: str, now: datetime, expected: datetime) -> None:
    parsed = parse_smpp_time(value, now, status=EXPIRY)
    assert parsed == expected
    assert parsed is not None
    assert parsed.tzinfo is UTC


def test_relative_time_needs_an_aware_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_smpp_time("000001000000000R", datetime(2024, 1, 1), status=SCHED)


# --- invalid -------------------------------------------------------------------------------

INVALID = [
    ("2403151230452", "has 13 characters"),
    ("240315123045216", "has 15 characters"),
    ("240315123045216+0", "has 17 characters"),
    ("2403151230452160", "ends in '0'"),
    ("24031512304521a+", "must be digits"),
    ("2403151230452 6+", "must be digits"),
    ("24-315123045216+", "must be digits"),
    (" 40315123045216+", "must be digits"),
    ("\uff1240315123045216+"[:16], "non-ASCII"),  # fullwidth digit
    ("\u00b240315123045216+"[:16], "non-ASCII"),  # superscript two: str.isdigit() is True
    ("\u066440315123045216+"[:16], "non-ASCII"),  # Arabic-Indic digit
    ("241315123045216+", "month 13 is not 01-12"),
    ("240015123045216+", "month 00 is not 01-12"),
    ("240132123045216+", "day 32 does not exist"),
    ("240100123045216+", "day 00 does not exist"),
    ("240230123045216+", "day 30 does not exist in 2024-02"),
    ("230229123045216+", "day 29 does not exist in 2023-02"),
    ("240431000000000+", "day 31 does not exist in 2024-04"),
    ("240315243045216+", "hour 24 is not 00-23"),
    ("240315996045216+", "hour 99 is not 00-23"),
    ("240315126045216+", "minute 60 is not 00-59"),
    ("240315123060216+", "second 60 is not 00-59"),
    ("240315123045249+", "49 quarter hours is more than 48"),
    ("240315123045299-", "99 quarter hours is more than 48"),
    ("240315123045216*", "expected '+', '-' or 'R'"),
    ("240315123045216r", "expected '+', '-' or 'R'"),
    ("240315123045216 ", "expected '+', '-' or 'R'"),
    ("240315123045216\x00", "expected '+', '-' or 'R'"),
    ("000001000000100R", "must be '000'"),
    ("000001000000010R", "must be '000'"),
    ("000001000000001R", "must be '000'"),
    ("00000100000000AR", "must be digits"),
]


@pytest.mark.parametrize(("value", "message"), INVALID)
@pytest.mark.parametrize("status", [SCHED, EXPIRY])
def test_invalid_times(value: str, message: str, status: int) -> None:
    with pytest.raises(PduError) as caught:
        parse_smpp_time(value, NOW, status=status)
    assert caught.value.command_status == status
    assert message in str(caught.value)


@pytest.mark.parametrize("status", [SCHED, EXPIRY])
def test_relative_time_beyond_the_calendar(status: int) -> None:
    with pytest.raises(PduError) as caught:
        parse_smpp_time("990000000000000R", utc(9950, 1, 1), status=status)
    assert caught.value.command_status == status
    with pytest.raises(PduError) as caught:
        parse_smpp_time("000000990000000R", utc(9999, 12, 31), status=status)
    assert caught.value.command_status == status


@settings(max_examples=300)
@given(value=st.text(max_size=20), status=st.sampled_from([SCHED, EXPIRY]))
def test_anything_is_a_time_or_a_pdu_error(value: str, status: int) -> None:
    try:
        parsed = parse_smpp_time(value, NOW, status=status)
    except PduError as error:
        assert error.command_status == status
    else:
        assert parsed is None or parsed.tzinfo is UTC


@settings(max_examples=300)
@given(
    raw=st.from_regex(r"\A[0-9]{15}[+\-R]\Z"),
    status=st.sampled_from([SCHED, EXPIRY]),
)
def test_digit_strings_are_a_time_or_a_pdu_error(raw: str, status: int) -> None:
    try:
        parse_smpp_time(raw, NOW, status=status)
    except PduError as error:
        assert error.command_status == status


# --- against a plain reference -------------------------------------------------------------


@settings(max_examples=300)
@given(
    local=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31, 23, 59)),
    tenths=st.integers(0, 9),
    quarters=st.integers(0, 48),
    sign=st.sampled_from("+-"),
)
def test_absolute_matches_a_plain_reading(
    local: datetime, tenths: int, quarters: int, sign: str
) -> None:
    value = local.strftime("%y%m%d%H%M%S") + f"{tenths}{quarters:02d}{sign}"
    offset = timezone(timedelta(minutes=15 * quarters * (1 if sign == "+" else -1)))
    expected = local.replace(microsecond=tenths * 100_000, tzinfo=offset).astimezone(UTC)
    assert parse_smpp_time(value, NOW, status=SCHED) == expected


# --- formatting and round trips ------------------------------------------------------------

AWARE = st.datetimes(
    min_value=datetime(2000, 1, 2),
    max_value=datetime(2099, 12, 30),
    timezones=st.builds(
        timezone, st.builds(lambda q: timedelta(minutes=15 * q), st.integers(-48, 48))
    ),
)


@settings(max_examples=500)
@given(moment=AWARE, quarters=st.integers(-48, 48))
def test_format_absolute_round_trip(moment: datetime, quarters: int) -> None:
    text = format_absolute(moment, quarters)
    assert len(text) == 16
    assert text[13:15] == f"{abs(quarters):02d}"
    assert text[15] == ("-" if quarters < 0 else "+")
    expected = moment.replace(microsecond=moment.microsecond // 100_000 * 100_000)
    assert parse_smpp_time(text, NOW, status=SCHED) == expected


@settings(max_examples=300)
@given(
    delta=st.timedeltas(
        min_value=timedelta(0), max_value=timedelta(days=99, hours=23, minutes=59, seconds=59)
    ).map(lambda d: d - timedelta(microseconds=d.microseconds)),
    now=AWARE,
)
def test_format_relative_round_trip(delta: timedelta, now: datetime) -> None:
    text = format_relative(delta)
    assert len(text) == 16
    assert text.startswith("0000")
    assert text.endswith("000R")
    assert parse_smpp_time(text, now, status=EXPIRY) == now + delta


def test_format_examples() -> None:
    moment = utc(2024, 3, 15, 8, 30, 45, 290_000)
    assert format_absolute(moment) == "240315083045200+"
    assert format_absolute(moment, 16) == "240315123045216+"
    assert format_absolute(moment, -13) == "240315051545213-"
    assert format_relative(timedelta(days=3, hours=1, minutes=2, seconds=3)) == "000003010203000R"
    assert format_relative(timedelta(0)) == "000000000000000R"
    assert format_relative(timedelta(days=99, seconds=86399)) == "000099235959000R"


@pytest.mark.parametrize(
    ("moment", "quarters", "message"),
    [
        (datetime(2024, 1, 1), 0, "timezone-aware"),
        (utc(2024, 1, 1), 49, "outside -48..48"),
        (utc(2024, 1, 1), -49, "outside -48..48"),
        (utc(2099, 12, 31, 23), 8, "2000-2099"),
        (utc(2000, 1, 1, 1), -8, "2000-2099"),
        (utc(1999, 6, 1), 0, "2000-2099"),
        (datetime.max.replace(tzinfo=UTC), 48, "2000-2099"),
    ],
)
def test_format_absolute_refuses(moment: datetime, quarters: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        format_absolute(moment, quarters)


@pytest.mark.parametrize(
    ("delta", "message"),
    [
        (timedelta(seconds=-1), "negative"),
        (timedelta(seconds=1, microseconds=1), "whole number of seconds"),
        (timedelta(days=100), "longer than 99 days"),
    ],
)
def test_format_relative_refuses(delta: timedelta, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        format_relative(delta)


# --- receipt dates -------------------------------------------------------------------------


def test_format_receipt_date() -> None:
    moment = utc(2024, 3, 15, 12, 30, 45)
    assert format_receipt_date(moment) == "2403151230"
    assert format_receipt_date(moment, timezone(timedelta(hours=2))) == "2403151430"
    assert format_receipt_date(moment, timezone(timedelta(hours=-13))) == "2403142330"
    other_zone = moment.astimezone(timezone(timedelta(hours=5)))
    assert format_receipt_date(other_zone) == "2403151230"
    with pytest.raises(ValueError, match="timezone-aware"):
        format_receipt_date(datetime(2024, 3, 15))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2403151230", utc(2024, 3, 15, 12, 30)),
        ("240315123059", utc(2024, 3, 15, 12, 30, 59)),
        ("0002290000", utc(2000, 2, 29)),
        ("9912312359", utc(2099, 12, 31, 23, 59)),
    ],
)
def test_parse_receipt_date(value: str, expected: datetime) -> None:
    assert parse_receipt_date(value) == expected


def test_parse_receipt_date_in_another_zone() -> None:
    assert parse_receipt_date("2403151430", timezone(timedelta(hours=2))) == utc(
        2024, 3, 15, 12, 30
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "not 10 or 12 digits"),
        ("240315123", "not 10 or 12 digits"),
        ("24031512300", "not 10 or 12 digits"),
        ("2403151230591", "not 10 or 12 digits"),
        ("240315123a", "not 10 or 12 digits"),
        ("\u00b2403151230", "not 10 or 12 digits"),
        ("2413151230", "month 13"),
        ("2402301230", "day 30 does not exist"),
        ("2403152430", "hour 24"),
        ("2403151260", "minute 60"),
        ("240315123060", "second 60"),
    ],
)
def test_parse_receipt_date_refuses(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_receipt_date(value)


@settings(max_examples=200)
@given(moment=AWARE)
def test_receipt_date_round_trip(moment: datetime) -> None:
    expected = moment.replace(second=0, microsecond=0)
    assert parse_receipt_date(format_receipt_date(moment)) == expected
