"""Delivery receipt text: format, tolerant parse, stat <-> message_state, short_message octets."""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsc.pdu.constants import MessageState
from smsc.pdu.receipt_text import (
    STATS,
    ReceiptError,
    ReceiptText,
    _parse_tolerantly,
    receipt_short_message,
    stat_for_state,
    state_for_stat,
)
from smsc.pdu.smpptime import format_receipt_date

SAMPLE = ReceiptText(
    message_id="7a3f0b1c",
    submitted=1,
    delivered=1,
    submit_date="2403151230",
    done_date="2403151231",
    stat="DELIVRD",
    err=0,
    text="Your code is 1234567. Do not share it.",
)
SAMPLE_TEXT = (
    "id:7a3f0b1c sub:001 dlvrd:001 submit date:2403151230 done date:2403151231"
    " stat:DELIVRD err:000 text:Your code is 1234567"
)


def fields(receipt: ReceiptText) -> tuple[object, ...]:
    return dataclasses.astuple(receipt)


# --- stat <-> message_state ----------------------------------------------------------------

STAT_TABLE = [
    (1, MessageState.ENROUTE, "ENROUTE"),
    (2, MessageState.DELIVERED, "DELIVRD"),
    (3, MessageState.EXPIRED, "EXPIRED"),
    (4, MessageState.DELETED, "DELETED"),
    (5, MessageState.UNDELIVERABLE, "UNDELIV"),
    (6, MessageState.ACCEPTED, "ACCEPTD"),
    (7, MessageState.UNKNOWN, "UNKNOWN"),
    (8, MessageState.REJECTED, "REJECTD"),
]


@pytest.mark.parametrize(("number", "state", "stat"), STAT_TABLE)
def test_stat_table(number: int, state: MessageState, stat: str) -> None:
    assert int(state) == number
    assert stat_for_state(state) == stat
    assert stat_for_state(number) == stat
    assert state_for_stat(stat) is state
    assert state_for_stat(stat.lower()) is state
    assert dataclasses.replace(SAMPLE, stat=stat).state is state


def test_stats_are_the_eight_words() -> None:
    assert frozenset(stat for _, _, stat in STAT_TABLE) == STATS


@pytest.mark.parametrize(
    ("word", "state"),
    [
        ("DELIVERED", MessageState.DELIVERED),
        ("delivered", MessageState.DELIVERED),
        ("UNDELIVERABLE", MessageState.UNDELIVERABLE),
        ("Undelivered", MessageState.UNDELIVERABLE),
        ("ACCEPTED", MessageState.ACCEPTED),
        ("REJECTED", MessageState.REJECTED),
        ("Delivrd", MessageState.DELIVERED),
    ],
)
def test_long_stat_names(word: str, state: MessageState) -> None:
    assert state_for_stat(word) is state


@pytest.mark.parametrize(
    "word", ["", "FAILED", "DELIVRD ", "DELIV", "del\u0131vrd", "DELIVR\u0110", "1"]
)
def test_unknown_stat(word: str) -> None:
    with pytest.raises(ReceiptError, match="is not one of"):
        state_for_stat(word)


@pytest.mark.parametrize("number", [0, 9, -1, 255])
def test_unknown_state(number: int) -> None:
    with pytest.raises(ReceiptError, match="not a message_state"):
        stat_for_state(number)


def test_receipt_error_is_a_value_error() -> None:
    assert issubclass(ReceiptError, ValueError)


# --- format --------------------------------------------------------------------------------


def test_format() -> None:
    assert SAMPLE.format() == SAMPLE_TEXT


def test_format_pads_and_cuts() -> None:
    receipt = dataclasses.replace(SAMPLE, submitted=5, delivered=0, err=1234, text="short")
    assert " sub:005 dlvrd:000 " in receipt.format()
    assert receipt.format().endswith(" err:1234 text:short")
    assert dataclasses.replace(SAMPLE, err=7, text="").format().endswith(" err:007 text:")
    assert dataclasses.replace(SAMPLE, text="x" * 21).format().endswith(" text:" + "x" * 20)


def test_build_from_datetimes() -> None:
    submitted = datetime(2024, 3, 15, 12, 30, 45, tzinfo=UTC)
    receipt = ReceiptText.build(
        message_id="42",
        submitted=1,
        delivered=0,
        submit_time=submitted,
        done_time=submitted + timedelta(hours=72),
        state=MessageState.EXPIRED,
        err=0,
        text="hello",
    )
    assert receipt == ReceiptText(
        message_id="42",
        submitted=1,
        delivered=0,
        submit_date="2403151230",
        done_date="2403181230",
        stat="EXPIRED",
        err=0,
        text="hello",
    )
    kyiv_summer = timezone(timedelta(hours=3))
    local = ReceiptText.build(
        message_id="42",
        submitted=1,
        delivered=1,
        submit_time=submitted,
        done_time=submitted,
        state=MessageState.DELIVERED,
        err=0,
        tz=kyiv_summer,
    )
    assert local.submit_date == "2403151530"
    assert local.text == ""


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"message_id": ""}, "message_id '' must be 1-65 characters"),
        ({"message_id": "a b"}, "without whitespace"),
        ({"message_id": " ab"}, "without whitespace"),
        ({"message_id": "ab\n"}, "without whitespace"),
        ({"message_id": "a\u00a0b"}, "without whitespace"),
        ({"message_id": "x" * 66}, "must be 1-65 characters"),
        ({"message_id": 42}, "message_id 42"),
        ({"submitted": -1}, "sub -1 must be an integer 0-999"),
        ({"submitted": 1000}, "sub 1000 must be an integer 0-999"),
        ({"submitted": "1"}, "sub '1' must be an integer"),
        ({"delivered": 1000}, "dlvrd 1000 must be an integer 0-999"),
        ({"err": -1}, "err -1 must be an integer"),
        ({"err": 10**10}, "err 10000000000 must be an integer"),
        ({"err": 1.0}, "err 1.0 must be an integer"),
        ({"stat": "DELIVERED"}, "stat 'DELIVERED' is not one of"),
        ({"stat": "delivrd"}, "stat 'delivrd' is not one of"),
        ({"submit_date": "240315123"}, "submit date '240315123' is not 10 or 12 digits"),
        ({"submit_date": "24031512300"}, "is not 10 or 12 digits"),
        ({"done_date": "240315123a"}, "done date '240315123a' is not 10 or 12 digits"),
        ({"done_date": "\u00b2403151230"}, "is not 10 or 12 digits"),
        ({"done_date": datetime(2024, 1, 1, tzinfo=UTC)}, "is not 10 or 12 digits"),
        ({"text": None}, "text must be a string"),
    ],
)
def test_construction_checks_fields(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ReceiptError) as caught:
        dataclasses.replace(SAMPLE, **changes)  # type: ignore[arg-type]
    assert message in str(caught.value)


def test_largest_values_are_accepted() -> None:
    receipt = dataclasses.replace(
        SAMPLE, message_id="x" * 65, submitted=999, delivered=999, err=9_999_999_999
    )
    assert ReceiptText.parse(receipt.format()) == dataclasses.replace(
        receipt, text=SAMPLE.text[:20]
    )


# --- parse: what real SMS centres write ----------------------------------------------------

DELIVERED_1 = {
    "message_id": "7a3f0b1c",
    "submitted": 1,
    "delivered": 1,
    "submit_date": "2403151230",
    "done_date": "2403151231",
    "stat": "DELIVRD",
    "err": 0,
    "text": "Your code is 1234567",
}

SAMPLES: list[tuple[str, str | bytes, dict[str, object]]] = [
    ("smsc itself", SAMPLE_TEXT, {}),
    (
        "upper-case keys",
        "ID:7a3f0b1c SUB:001 DLVRD:001 SUBMIT DATE:2403151230 DONE DATE:2403151231"
        " STAT:DELIVRD ERR:000 TEXT:Your code is 1234567",
        {},
    ),
    (
        "capitalised keys and Text:",
        "Id:7a3f0b1c Sub:001 Dlvrd:001 Submit date:2403151230 Done date:2403151231"
        " Stat:DELIVRD Err:000 Text:Your code is 1234567",
        {},
    ),
    (
        "dates with seconds",
        "id:7a3f0b1c sub:001 dlvrd:001 submit date:240315123005 done date:240315123112"
        " stat:DELIVRD err:000 text:Your code is 1234567",
        {"submit_date": "240315123005", "done_date": "240315123112"},
    ),
    (
        "no text field",
        "id:7a3f0b1c sub:001 dlvrd:001 submit date:2403151230 done date:2403151231"
        " stat:DELIVRD err:000",
        {"text": ""},
    ),
    (
        "empty text",
        "id:7a3f0b1c sub:001 dlvrd:001 submit date:2403151230 done date:2403151231"
        " stat:DELIVRD err:000 text:",
        {"text": ""},
    ),
    (
        "extra fields before text",
        "id:7a3f0b1c sub:001 dlvrd:001 submit date:2403151230 done date:2403151231"
        " stat:DELIVRD err:000 mcc:255 mnc:01 imsi:25501123456 nstat: text:Your code is 1234567",
        {},
    ),
    (
        "extra fields in between, other order",
        "id:7a3f0b1c stat:DELIVRD sub:001 route:7 dlvrd:001 err:000"
        " submit date:2403151230 done date:2403151231 text:Your code is 1234567",
        {},
    ),
    (
        "runs of spaces and spaces around ':'",
        "id:7a3f0b1c  sub:001   dlvrd: 001 submit  date:2403151230 done date :2403151231"
        " stat: DELIVRD\terr:000 text:Your code is 1234567",
        {},
    ),
    (
        "underscore keys",
        "id:7a3f0b1c sub:001 dlvrd:001 submit_date:2403151230 done_date:2403151231"
        " stat:DELIVRD err:000 text:Your code is 1234567",
        {},
    ),
    (
        "short counts, long err",
        "id:7a3f0b1c sub:1 dlvrd:1 submit date:2403151230 done date:2403151231"
        " stat:UNDELIV err:0034 text:Your code is 1234567",
        {"stat": "UNDELIV", "err": 34},
    ),
    (
        "err of more than three digits",
        "id:7a3f0b1c sub:001 dlvrd:000 submit date:2403151230 done date:2403151231"
        " stat:REJECTD err:1281 text:Your code is 1234567",
        {"delivered": 0, "stat": "REJECTD", "err": 1281},
    ),
    (
        "long stat name, lower case",
        "id:7a3f0b1c sub:001 dlvrd:000 submit date:2403151230 done date:2403151231"
        " stat:undeliverable err:001 text:Your code is 1234567",
        {"delivered": 0, "stat": "UNDELIV", "err": 1},
    ),
    (
        "bytes with a trailing NUL",
        SAMPLE_TEXT.encode("ascii") + b"\x00",
        {},
    ),
    (
        "bytes, Latin-1 text",
        SAMPLE_TEXT.encode("ascii")[:-20] + b"Caf\xe9 ol\xe9",
        {"text": "Café olé"},
    ),
    (
        "text with colons, spaces and key-like words",
        "id:7a3f0b1c sub:001 dlvrd:001 submit date:2403151230 done date:2403151231"
        " stat:DELIVRD err:000 text:  at 10:30 id:9 stat:X  ",
        {"text": "  at 10:30 id:9 stat:X  "},
    ),
    (
        "decimal message id with colons",
        "id:1:2:3 sub:001 dlvrd:001 submit date:2403151230 done date:2403151231"
        " stat:DELIVRD err:000 text:Your code is 1234567",
        {"message_id": "1:2:3"},
    ),
    (
        "message id starting with text:",
        "id:text:1 sub:001 dlvrd:001 submit date:2403151230 done date:2403151231"
        " stat:DELIVRD err:000 text:Your code is 1234567",
        {"message_id": "text:1"},
    ),
    (
        "intermediate notification",
        "id:7a3f0b1c sub:001 dlvrd:000 submit date:2403151230 done date:2403151231"
        " stat:ENROUTE err:000 text:Your code is 1234567",
        {"delivered": 0, "stat": "ENROUTE"},
    ),
    (
        "trailing whitespace without text",
        "id:7a3f0b1c sub:001 dlvrd:001 submit date:2403151230 done date:2403151231"
        " stat:DELIVRD err:000 \r\n",
        {"text": ""},
    ),
]


@pytest.mark.parametrize(
    ("raw", "changes"), [(raw, changes) for _, raw, changes in SAMPLES], ids=[s[0] for s in SAMPLES]
)
def test_parse_real_world_samples(raw: str | bytes, changes: dict[str, object]) -> None:
    expected = ReceiptText(**{**DELIVERED_1, **changes})  # type: ignore[arg-type]
    assert ReceiptText.parse(raw) == expected


INVALID = [
    ("", "has no id, sub, dlvrd, submit date, done date, stat, err"),
    ("hello world", "has no id"),
    (
        "id:1 sub:001 dlvrd:001 submit date:2403151230 done date:2403151231 err:000",
        "has no stat",
    ),
    (
        "sub:001 dlvrd:001 submit date:2403151230 done date:2403151231 stat:DELIVRD err:000",
        "has no id",
    ),
    (
        "id:1 sub:001 dlvrd:001 date:2403151230 done date:2403151231 stat:DELIVRD err:000",
        "has no submit date",
    ),
    (
        "id:1 sub:abc dlvrd:001 submit date:2403151230 done date:2403151231 stat:DELIVRD err:000",
        "sub 'abc' is not a number",
    ),
    (
        "id:1 sub:\u0660\u0660\u0661 dlvrd:001 submit date:2403151230 done date:2403151231"
        " stat:DELIVRD err:000",
        "is not a number",
    ),
    (
        "id:1 sub:001 dlvrd:1000 submit date:2403151230 done date:2403151231 stat:DELIVRD err:0",
        "dlvrd 1000 must be an integer 0-999",
    ),
    (
        "id:1 sub:001 dlvrd:001 submit date:2403151230 done date:2403151231 stat:DELIVRD"
        " err:12345678901",
        "err '12345678901' is not a number of 1-10 digits",
    ),
    (
        "id:1 sub:001 dlvrd:001 submit date:2413151230 done date:2403151231 stat:DELIVRD err:0",
        "month 13",
    ),
    (
        "id:1 sub:001 dlvrd:001 submit date:2403151230 done date:2402301231 stat:DELIVRD err:0",
        "day 30 does not exist",
    ),
    (
        "id:1 sub:001 dlvrd:001 submit date:24031512300 done date:2403151231 stat:DELIVRD err:0",
        "not 10 or 12 digits",
    ),
    (
        "id:1 sub:001 dlvrd:001 submit date:2403151230 done date:2403151231 stat:FAILED err:0",
        "stat 'FAILED' is not one of",
    ),
    (
        "id:1 id:2 sub:001 dlvrd:001 submit date:2403151230 done date:2403151231 stat:DELIVRD"
        " err:0",
        "gives id twice",
    ),
    (
        "id: sub:001 dlvrd:001 submit date:2403151230 done date:2403151231 stat:DELIVRD err:0",
        "message_id '' must be",  # a key is never taken as the value of the key before
    ),
    (
        "id:1 sub: dlvrd:001 submit date:2403151230 done date:2403151231 stat:DELIVRD err:0",
        "sub '' is not a number",
    ),
    (
        "id:" + "x" * 66 + " sub:001 dlvrd:001 submit date:2403151230 done date:2403151231"
        " stat:DELIVRD err:0",
        "must be 1-65 characters",
    ),
    ("id:1 " + "x" * 1024, "at most 1024 are read"),
]


@pytest.mark.parametrize(("raw", "message"), INVALID)
def test_parse_refuses(raw: str, message: str) -> None:
    with pytest.raises(ReceiptError) as caught:
        ReceiptText.parse(raw)
    assert message in str(caught.value)


# --- round trips ---------------------------------------------------------------------------

MESSAGE_IDS = st.text(
    st.characters(exclude_categories=("Cs", "Zs", "Zl", "Zp")), min_size=1, max_size=65
).filter(lambda s: s.split() == [s])
DATES = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31, 23, 59, 59)
).flatmap(
    lambda moment: st.sampled_from(
        [format_receipt_date(moment.replace(tzinfo=UTC)), moment.strftime("%y%m%d%H%M%S")]
    )
)


def receipts(
    message_ids: st.SearchStrategy[str], texts: st.SearchStrategy[str]
) -> st.SearchStrategy[ReceiptText]:
    return st.builds(
        ReceiptText,
        message_id=message_ids,
        submitted=st.integers(0, 999),
        delivered=st.integers(0, 999),
        submit_date=DATES,
        done_date=DATES,
        stat=st.sampled_from(sorted(STATS)),
        err=st.integers(0, 999),
        text=texts,
    )


@settings(max_examples=500)
@given(receipt=receipts(MESSAGE_IDS, st.text()))
def test_format_parse_round_trip(receipt: ReceiptText) -> None:
    text = receipt.format()
    expected = dataclasses.replace(receipt, text=receipt.text[:20])
    assert ReceiptText.parse(text) == expected
    # the general reader agrees with the quick one on everything smsc writes
    assert _parse_tolerantly(ReceiptText, text) == expected


ASCII_IDS = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=65)
SAFE = set(" !\"#%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


@settings(max_examples=300)
@given(receipt=receipts(ASCII_IDS, st.text()))
def test_short_message_octets(receipt: ReceiptText) -> None:
    octets = receipt_short_message(receipt)
    head, _, snippet = octets.partition(b" text:")
    assert head.decode("ascii") == receipt.format().partition(" text:")[0]
    assert len(snippet.decode("ascii")) == len(receipt.text[:20])
    assert set(snippet.decode("ascii")) <= SAFE
    for original, written in zip(receipt.text, snippet.decode("ascii"), strict=False):
        assert written == (original if original in SAFE else "?")
    parsed = ReceiptText.parse(octets)
    assert parsed == dataclasses.replace(receipt, text=snippet.decode("ascii"))


def test_short_message_example() -> None:
    receipt = dataclasses.replace(SAMPLE, text="Hi @home_$5 [ok] ü€😀\nend")
    assert receipt_short_message(receipt) == (
        SAMPLE_TEXT.encode("ascii")[:-20] + b"Hi ?home??5 ?ok? ???"
    )
    assert receipt_short_message(SAMPLE) == SAMPLE_TEXT.encode("ascii")


def test_short_message_needs_an_ascii_id() -> None:
    with pytest.raises(ReceiptError, match="is not ASCII"):
        receipt_short_message(dataclasses.replace(SAMPLE, message_id="caf\u00e9"))


@settings(max_examples=300)
@given(raw=st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_parse_raises_only_receipt_errors(raw: str | bytes) -> None:
    with contextlib.suppress(ReceiptError):
        ReceiptText.parse(raw)


@settings(max_examples=300)
@given(
    receipt=receipts(MESSAGE_IDS, st.text(max_size=25)),
    cut=st.integers(0, 200),
    insert=st.text(max_size=5),
)
def test_damaged_receipts_raise_only_receipt_errors(
    receipt: ReceiptText, cut: int, insert: str
) -> None:
    text = receipt.format()
    damaged = text[:cut] + insert + text[cut + 1 :]
    with contextlib.suppress(ReceiptError):
        ReceiptText.parse(damaged)
