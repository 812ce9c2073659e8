"""Text encodings, part counting and splitting of long messages."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsc.pdu.constants import CommandStatus, EsmClass, Tag
from smsc.pdu.errors import PduError
from smsc.pdu.reassembly import Reassembler
from smsc.pdu.text import (
    Alphabet,
    PartCount,
    Segment,
    TextError,
    alphabet_of,
    choose_data_coding,
    count_octet_parts,
    count_parts,
    decode_text,
    encode_text,
    part_sizes,
    payload_segment,
    payload_segment_octets,
    split_octets,
    split_text,
)
from smsc.pdu.tlv import EMPTY_TLVS
from smsc.pdu.udh import ConcatInfo, build_udh, concat_ie, read_part

EMOJI = "😀"  # U+1F600: two UTF-16 code units

# --- data_coding and encodings ----------------------------------------------------------------


def test_choose_data_coding() -> None:
    assert choose_data_coding("") == 0
    assert choose_data_coding("Hello {world} €5") == 0
    assert choose_data_coding("Привіт") == 8
    assert choose_data_coding("a`b") == 8  # the backtick is not in GSM 03.38
    assert choose_data_coding("hi " + EMOJI) == 8


@pytest.mark.parametrize(
    ("data_coding", "alphabet"),
    [
        (0, Alphabet.GSM7),
        (1, Alphabet.ASCII),
        (2, Alphabet.OCTETS),
        (3, Alphabet.LATIN1),
        (4, Alphabet.OCTETS),
        (8, Alphabet.UCS2),
        (0xC0, Alphabet.GSM7),
        (0xD3, Alphabet.GSM7),
        (0xE1, Alphabet.UCS2),
        (0xF0, Alphabet.GSM7),
        (0xF3, Alphabet.GSM7),
        (0xF4, Alphabet.OCTETS),
        (0xF7, Alphabet.OCTETS),
    ],
)
def test_alphabet_of(data_coding: int, alphabet: Alphabet) -> None:
    assert alphabet_of(data_coding) is alphabet


@pytest.mark.parametrize("data_coding", [5, 6, 7, 9, 0x0A, 0x0D, 0x0E, 0x10, 0x80, 0xBF, 0x100])
def test_unsupported_data_coding(data_coding: int) -> None:
    for call in (
        lambda: encode_text("a", data_coding),
        lambda: decode_text(b"a", data_coding),
        lambda: count_parts("a", data_coding),
        lambda: split_text("a", data_coding=data_coding, reference=1),
    ):
        with pytest.raises(TextError) as e:
            call()
        assert isinstance(e.value, ValueError)
        assert e.value.command_status == CommandStatus.ESME_RSUBMITFAIL


def test_encodings_by_example() -> None:
    assert encode_text("@£€", 0) == b"\x00\x01\x1b\x65"
    assert encode_text("Hi", 1) == b"Hi"
    assert encode_text("café", 3) == b"caf\xe9"
    assert encode_text("Ж" + EMOJI, 8) == bytes.fromhex("0416d83dde00")
    assert encode_text("\x00\xff", 4) == b"\x00\xff"
    assert decode_text(bytes.fromhex("0416d83dde00"), 8) == "Ж" + EMOJI
    assert decode_text(b"\x00\xff", 2) == "\x00\xff"
    assert decode_text(b"caf\xe9", 3) == "café"


@pytest.mark.parametrize(
    ("text", "data_coding"),
    [("ж", 0), ("é", 1), ("€", 3), ("€", 4), ("Ā", 2), ("\ud800", 8)],
)
def test_encode_refuses_what_does_not_fit(text: str, data_coding: int) -> None:
    with pytest.raises(TextError) as e:
        encode_text(text, data_coding)
    assert e.value.command_status == CommandStatus.ESME_RSUBMITFAIL
    with pytest.raises(TextError):
        count_parts(text, data_coding)


def test_decode_ucs2_odd_length_is_an_invalid_message_length() -> None:
    with pytest.raises(TextError) as e:
        decode_text(b"\x00a\x00", 8)
    assert e.value.command_status == CommandStatus.ESME_RINVMSGLEN


def test_decode_ucs2_cut_surrogate_pair_is_replaced_not_refused() -> None:
    assert decode_text(bytes.fromhex("0041d83d"), 8) == "A\ufffd"


def test_decode_ia5_refuses_octets_above_0x7f() -> None:
    with pytest.raises(TextError) as e:
        decode_text(b"a\x80", 1)
    assert e.value.command_status == CommandStatus.ESME_RSUBMITFAIL


GSM_CHARS = sorted(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà\f^{}\\[~]|€"
)


@given(st.text(alphabet=st.sampled_from(GSM_CHARS)))
def test_gsm_round_trip(text: str) -> None:
    assert decode_text(encode_text(text, 0), 0) == text


@given(st.text(alphabet=st.characters(max_codepoint=0x7F)))
def test_ia5_round_trip(text: str) -> None:
    assert decode_text(encode_text(text, 1), 1) == text


@given(st.text(alphabet=st.characters(max_codepoint=0xFF)))
def test_latin1_round_trip(text: str) -> None:
    assert decode_text(encode_text(text, 3), 3) == text


@given(st.text())
def test_ucs2_round_trip(text: str) -> None:
    octets = encode_text(text, 8)
    assert decode_text(octets, 8) == text
    astral = sum(1 for c in text if ord(c) > 0xFFFF)
    assert len(octets) == 2 * (len(text) + astral)


@given(st.binary(), st.sampled_from([2, 4, 0xF4]))
def test_binary_round_trip(octets: bytes, data_coding: int) -> None:
    assert encode_text(decode_text(octets, data_coding), data_coding) == octets


# --- part counting: the table of PRODUCT.md ---------------------------------------------------


@pytest.mark.parametrize(
    ("char", "data_coding", "units", "parts"),
    [
        ("a", 0, 160, 1),
        ("a", 0, 161, 2),
        ("a", 0, 306, 2),
        ("a", 0, 307, 3),
        ("a", 0, 459, 3),
        ("a", 0, 460, 4),
        ("a", 0, 612, 4),
        ("a", 0, 613, 5),
        ("ж", 8, 70, 1),
        ("ж", 8, 71, 2),
        ("ж", 8, 134, 2),
        ("ж", 8, 135, 3),
        ("ж", 8, 201, 3),
        ("ж", 8, 202, 4),
        ("ж", 8, 268, 4),
        ("ж", 8, 269, 5),
        ("a", 1, 140, 1),
        ("a", 1, 141, 2),
        ("a", 3, 268, 2),
        ("a", 3, 269, 3),
        ("a", 4, 402, 3),
        ("a", 2, 403, 4),
        ("a", 4, 536, 4),
        ("a", 4, 537, 5),
    ],
)
def test_part_count_table(char: str, data_coding: int, units: int, parts: int) -> None:
    text = char * units
    got = count_parts(text, None if data_coding in (0, 8) else data_coding)
    assert got.data_coding == data_coding
    assert got.parts == parts
    assert got.units == units
    assert len(split_text(text, data_coding=data_coding, reference=9)) == parts


@pytest.mark.parametrize(
    ("char", "data_coding", "units", "parts"),
    [
        ("a", 0, 304, 2),
        ("a", 0, 305, 3),
        ("ж", 8, 132, 2),
        ("ж", 8, 133, 3),
        ("a", 4, 266, 2),
        ("a", 4, 267, 3),
    ],
)
def test_part_count_with_16_bit_reference(
    char: str, data_coding: int, units: int, parts: int
) -> None:
    text = char * units
    assert count_parts(text, data_coding, reference_bits=16).parts == parts
    assert len(split_text(text, data_coding=data_coding, reference=999, reference_bits=16)) == parts


@pytest.mark.parametrize(
    ("data_coding", "bits", "sizes"),
    [
        (0, 8, (160, 153)),
        (0, 16, (160, 152)),
        (8, 8, (70, 67)),
        (8, 16, (70, 66)),
        (4, 8, (140, 134)),
        (4, 16, (140, 133)),
        (1, 8, (140, 134)),
        (3, 16, (140, 133)),
    ],
)
def test_part_sizes(data_coding: int, bits: int, sizes: tuple[int, int]) -> None:
    assert part_sizes(data_coding, bits) == sizes


def test_count_of_an_empty_message_is_one_part() -> None:
    assert count_parts("") == PartCount(data_coding=0, parts=1, units=0, per_part=160)


def test_count_reports_units_and_capacity() -> None:
    assert count_parts("a" * 200) == PartCount(data_coding=0, parts=2, units=200, per_part=153)
    assert count_parts("€" * 10) == PartCount(data_coding=0, parts=1, units=20, per_part=160)
    assert count_parts(EMOJI * 35) == PartCount(data_coding=8, parts=1, units=70, per_part=70)


@pytest.mark.parametrize("bits", [0, 7, 32])
def test_reference_bits_must_be_8_or_16(bits: int) -> None:
    with pytest.raises(ValueError, match="reference_bits"):
        count_parts("a", reference_bits=bits)
    with pytest.raises(ValueError, match="reference_bits"):
        split_text("a", reference=1, reference_bits=bits)


# --- pairs at part boundaries -----------------------------------------------------------------


def payloads(segments: list[Segment]) -> list[bytes]:
    return [read_part(s.esm_class, s.short_message, s.tlvs).payload for s in segments]


def test_escape_pair_straddling_the_boundary_moves_to_the_next_part() -> None:
    # 152 plain septets, then '€' as septets 153-154: the escape would end part 1 alone.
    text = "a" * 152 + "€" + "b" * 10
    segments = split_text(text, reference=1)
    parts = payloads(segments)
    assert [len(p) for p in parts] == [152, 2 + 10]
    assert parts[1][:2] == b"\x1b\x65"
    assert "".join(decode_text(p, 0) for p in parts) == text
    assert count_parts(text).parts == 2


def test_escape_pair_that_fits_exactly_stays() -> None:
    text = "a" * 151 + "€" + "b" * 10
    parts = payloads(split_text(text, reference=1))
    assert [len(p) for p in parts] == [153, 10]
    assert parts[0].endswith(b"\x1b\x65")


def test_escape_at_the_single_part_limit() -> None:
    assert count_parts("a" * 158 + "€").parts == 1  # exactly 160 septets
    assert count_parts("a" * 159 + "€").parts == 2  # 161 septets


def test_only_extension_characters() -> None:
    # Every pair starts at an even septet, so every part holds 152 of 153 septets.
    text = "€" * 200
    segments = split_text(text, reference=3)
    assert [len(p) for p in payloads(segments)] == [152, 152, 96]
    assert count_parts(text).parts == 3
    with_16 = split_text(text, reference=3, reference_bits=16)
    assert [len(p) for p in payloads(with_16)] == [152, 152, 96]


def test_surrogate_pair_straddling_the_boundary_moves_to_the_next_part() -> None:
    text = "ж" * 66 + EMOJI + "ж" * 5
    parts = payloads(split_text(text, reference=1))
    assert [len(p) // 2 for p in parts] == [66, 2 + 5]
    assert "".join(decode_text(p, 8) for p in parts) == text


def test_only_emoji_need_more_parts_than_the_plain_division() -> None:
    # 100 emoji = 200 code units; ceil(200 / 67) would be 3, but a part holds 33 emoji (66 units).
    text = EMOJI * 100
    assert count_parts(text).parts == 4
    parts = payloads(split_text(text, reference=1))
    assert [len(p) // 2 for p in parts] == [66, 66, 66, 2]


def test_emoji_at_the_single_part_limit() -> None:
    assert count_parts("ж" * 68 + EMOJI).parts == 1
    assert count_parts("ж" * 69 + EMOJI).parts == 2


# --- splitting: segments ----------------------------------------------------------------------


def test_single_part_has_no_header_and_no_tlvs() -> None:
    for scheme in ("udh", "sar"):
        (segment,) = split_text("Hello", reference=1, scheme=scheme)
        assert segment == Segment(data_coding=0, short_message=b"Hello")
        assert segment.esm_class == 0 and segment.tlvs is EMPTY_TLVS


def test_udh_segments() -> None:
    segments = split_text("a" * 200, reference=0x2A)
    assert [s.short_message[:6].hex() for s in segments] == ["0500032a0201", "0500032a0202"]
    assert all(s.esm_class == EsmClass.UDHI for s in segments)
    assert [(s.index, s.total) for s in segments] == [(1, 2), (2, 2)]
    assert len(segments[0].short_message) == 6 + 153


def test_udh_segments_with_16_bit_reference() -> None:
    segments = split_text("ж" * 100, reference=0x1234, reference_bits=16)
    assert segments[0].short_message[:7].hex() == "0608041234" + "0201"
    for s in segments:
        info = ConcatInfo(reference=0x1234, reference_bits=16, total=s.total, index=s.index)
        assert s.short_message.startswith(build_udh([concat_ie(info)]))
    assert len(segments[0].short_message) == 7 + 2 * 66
    assert segments[0].data_coding == 8


def test_sar_segments() -> None:
    segments = split_text("a" * 400, reference=0xBEEF, reference_bits=16, scheme="sar")
    assert len(segments) == 3
    for i, s in enumerate(segments, 1):
        assert s.esm_class == 0
        assert s.tlvs.get_int(Tag.SAR_MSG_REF_NUM) == 0xBEEF
        assert s.tlvs.get_int(Tag.SAR_TOTAL_SEGMENTS) == 3
        assert s.tlvs.get_int(Tag.SAR_SEGMENT_SEQNUM) == i
    assert [len(s.short_message) for s in segments] == [152, 152, 96]


def test_split_octets_binary() -> None:
    data = bytes(range(256)) + bytes(44)
    segments = split_octets(data, 4, reference=5)
    assert [len(p) for p in payloads(segments)] == [134, 134, 32]
    assert b"".join(payloads(segments)) == data
    sar = split_octets(data, 2, reference=5, scheme="sar", reference_bits=16)
    assert [len(s.short_message) for s in sar] == [133, 133, 34]


def test_split_octets_refuses_odd_ucs2() -> None:
    with pytest.raises(TextError) as e:
        split_octets(b"\x00" * 201, 8, reference=1)
    assert e.value.command_status == CommandStatus.ESME_RINVMSGLEN
    with pytest.raises(TextError):
        count_octet_parts(b"\x00", 8)


def test_too_many_parts() -> None:
    text = "a" * 613  # five parts
    assert len(split_text(text, reference=1, max_parts=5)) == 5
    with pytest.raises(PduError) as e:
        split_text(text, reference=1, max_parts=4)
    assert e.value.command_status == CommandStatus.SMSC_RTOOMANYPARTS
    with pytest.raises(PduError) as e:
        split_text("a" * 153 * 255 + "b", reference=1)
    assert e.value.command_status == CommandStatus.SMSC_RTOOMANYPARTS
    assert len(split_text("a" * 153 * 255, reference=1)) == 255


@pytest.mark.parametrize(
    "kwargs",
    [
        {"reference": -1},
        {"reference": 256},
        {"reference": 65536, "reference_bits": 16},
        {"reference": 1, "max_parts": 0},
        {"reference": 1, "max_parts": 256},
        {"reference": 1, "scheme": "nope"},
    ],
)
def test_split_argument_errors(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        split_text("a", **kwargs)  # type: ignore[arg-type]


def test_payload_segment() -> None:
    segment = payload_segment("ж" * 500)
    assert segment.short_message == b""
    assert segment.data_coding == 8
    assert segment.tlvs.raw(Tag.MESSAGE_PAYLOAD) == encode_text("ж" * 500, 8)
    assert payload_segment_octets(b"x" * 65535, 4).tlvs.raw(Tag.MESSAGE_PAYLOAD) == b"x" * 65535
    with pytest.raises(TextError) as e:
        payload_segment_octets(b"x" * 65536, 4)
    assert e.value.command_status == CommandStatus.ESME_RINVPARLEN


def test_count_octet_parts_of_a_payload() -> None:
    assert count_octet_parts(encode_text("a" * 152 + "€" + "b" * 10, 0), 0).parts == 2
    assert count_octet_parts(encode_text("€" * 200, 0), 0).parts == 3  # ceil(400 / 153) is 3 too
    assert count_octet_parts(encode_text("€" * 230, 0), 0).parts == 4  # ceil(460 / 153) is 4 too
    assert count_octet_parts(encode_text("€" * 229 + "a", 0), 0).parts == 4  # ceil(459 / 153) = 3
    assert count_octet_parts(encode_text(EMOJI * 100, 8), 8).parts == 4  # ceil(200 / 67) = 3
    assert count_octet_parts(b"\x00" * 140, 4).parts == 1
    assert count_octet_parts(b"\x00" * 141, 4).parts == 2


# --- properties -------------------------------------------------------------------------------

MIXED_CHARS = st.sampled_from(
    [*"ab z09", *"€{}[]^~|\\\f", *"@£Δ\n", "ж", "é", "ç", "`", EMOJI, "\U0001f680", "中"]
)
GSM_ONLY = st.sampled_from([*"ab z09", *"€{}[]^~|\\\f", *"@£Δ\n"])
TEXTS = st.one_of(
    st.text(alphabet=MIXED_CHARS, max_size=700),
    st.text(alphabet=GSM_ONLY, max_size=700),
    st.text(max_size=300),
)


def decode_joined(segments: list[Segment], order: list[int]) -> str:
    """Reassemble segments fed in ``order`` and decode the whole message."""
    reassembler = Reassembler(max_sets=4, timeout=60.0)
    done = None
    for i in order:
        s = segments[i]
        part = read_part(s.esm_class, s.short_message, s.tlvs)
        if part.concat is None:
            assert len(segments) == 1
            return decode_text(part.payload, s.data_coding)
        got = reassembler.add("acct:380501234567", part.concat, part.payload, now=float(i))
        assert (got is None) == (done is None and i != order[-1])
        done = got or done
    assert done is not None and done.complete
    assert len(reassembler) == 0
    return decode_text(done.payload, segments[0].data_coding)


@settings(max_examples=150)
@given(
    TEXTS,
    st.sampled_from([8, 16]),
    st.sampled_from(["udh", "sar"]),
    st.integers(0, 255),
    st.randoms(use_true_random=False),
)
def test_split_then_reassemble_in_any_order(
    text: str, bits: int, scheme: str, reference: int, rnd: random.Random
) -> None:
    segments = split_text(text, reference=reference, reference_bits=bits, scheme=scheme)  # type: ignore[arg-type]
    count = count_parts(text, reference_bits=bits)
    assert count.parts == len(segments)
    assert count.data_coding == segments[0].data_coding == choose_data_coding(text)
    parts = payloads(segments)
    for p in parts:
        units = len(p) // 2 if count.data_coding == 8 else len(p)
        assert units <= count.per_part
        if count.data_coding == 0:
            assert not p.endswith(b"\x1b")
        else:
            assert len(p) % 2 == 0
            assert not (len(p) >= 2 and 0xD8 <= p[-2] <= 0xDB)
    if len(parts) > 1:
        # Each part decodes on its own, and the parts rejoin to the text.
        assert "".join(decode_text(p, count.data_coding) for p in parts) == text
    order = list(range(len(segments)))
    rnd.shuffle(order)
    assert decode_joined(segments, order) == text


@given(TEXTS, st.sampled_from([8, 16]))
def test_count_of_octets_agrees_with_count_of_text(text: str, bits: int) -> None:
    by_text = count_parts(text, reference_bits=bits)
    octets = encode_text(text, by_text.data_coding)
    assert count_octet_parts(octets, by_text.data_coding, reference_bits=bits) == by_text


@given(st.binary(max_size=1200), st.sampled_from([2, 4]), st.sampled_from([8, 16]))
def test_split_octets_rejoins(data: bytes, data_coding: int, bits: int) -> None:
    segments = split_octets(data, data_coding, reference=7, reference_bits=bits)
    assert b"".join(payloads(segments)) == data
    assert count_octet_parts(data, data_coding, reference_bits=bits).parts == len(segments)
    assert count_parts(
        decode_text(data, data_coding), data_coding, reference_bits=bits
    ).parts == len(segments)
