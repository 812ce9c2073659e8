"""GSM 03.38 default alphabet: the tables against TS 23.038, the septet codec and 7-bit packing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsc.pdu.constants import CommandStatus
from smsc.pdu.errors import PduError
from smsc.pdu.gsm import (
    TextError,
    extension_count,
    gsm_decode,
    gsm_encode,
    gsm_septet_count,
    gsm_septets,
    is_gsm,
    pack_septets,
    unpack_septets,
)

# TS 23.038 section 6.2.1, the basic table: Unicode code point of each septet 0x00-0x7F, eight
# per line. 0x1B is the escape to the extension table (no character).
EXPECTED_BASIC: list[int | None] = [
    0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC,  # 0x00
    0x00F2, 0x00C7, 0x000A, 0x00D8, 0x00F8, 0x000D, 0x00C5, 0x00E5,  # 0x08
    0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8,  # 0x10
    0x03A3, 0x0398, 0x039E, None,   0x00C6, 0x00E6, 0x00DF, 0x00C9,  # 0x18
    0x0020, 0x0021, 0x0022, 0x0023, 0x00A4, 0x0025, 0x0026, 0x0027,  # 0x20
    0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F,  # 0x28
    0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037,  # 0x30
    0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F,  # 0x38
    0x00A1, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047,  # 0x40
    0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D, 0x004E, 0x004F,  # 0x48
    0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057,  # 0x50
    0x0058, 0x0059, 0x005A, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7,  # 0x58
    0x00BF, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067,  # 0x60
    0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D, 0x006E, 0x006F,  # 0x68
    0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077,  # 0x70
    0x0078, 0x0079, 0x007A, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,  # 0x78
]  # fmt: skip

# TS 23.038 section 6.2.1.1, the extension table: code after the escape -> Unicode code point.
EXPECTED_EXTENSION: dict[int, int] = {
    0x0A: 0x000C,  # form feed
    0x14: 0x005E,  # ^
    0x28: 0x007B,  # {
    0x29: 0x007D,  # }
    0x2F: 0x005C,  # backslash
    0x3C: 0x005B,  # [
    0x3D: 0x007E,  # ~
    0x3E: 0x005D,  # ]
    0x40: 0x007C,  # |
    0x65: 0x20AC,  # euro sign
}

EXPECTED_CHARS = {chr(cp) for cp in EXPECTED_BASIC if cp is not None} | {
    chr(cp) for cp in EXPECTED_EXTENSION.values()
}


def test_expected_tables_have_the_right_shape() -> None:
    assert len(EXPECTED_BASIC) == 128
    assert len(EXPECTED_CHARS) == 127 + 10


@pytest.mark.parametrize("code", [c for c in range(128) if c != 0x1B])
def test_basic_table_both_directions(code: int) -> None:
    cp = EXPECTED_BASIC[code]
    assert cp is not None
    assert gsm_encode(chr(cp)) == bytes([code])
    assert gsm_decode(bytes([code])) == chr(cp)
    assert gsm_septet_count(chr(cp)) == 1


@pytest.mark.parametrize("code", sorted(EXPECTED_EXTENSION))
def test_extension_table_both_directions(code: int) -> None:
    char = chr(EXPECTED_EXTENSION[code])
    assert gsm_encode(char) == bytes([0x1B, code])
    assert gsm_decode(bytes([0x1B, code])) == char
    assert gsm_septet_count(char) == 2
    assert extension_count(char) == 1


def test_no_other_bmp_character_is_in_the_alphabet() -> None:
    found = {chr(cp) for cp in range(0x10000) if is_gsm(chr(cp))}
    assert found == EXPECTED_CHARS


def test_lowercase_c_cedilla_is_not_folded_into_the_capital() -> None:
    assert not is_gsm("ç")
    assert gsm_septet_count("ç") is None


@pytest.mark.parametrize("text", ["`", "ç", "ж", "😀", "abc\x00"])
def test_encode_refuses_a_character_outside_the_alphabet(text: str) -> None:
    with pytest.raises(TextError) as e:
        gsm_encode(text)
    assert isinstance(e.value, ValueError)
    assert isinstance(e.value, PduError)
    assert e.value.command_status == CommandStatus.ESME_RSUBMITFAIL


def test_septet_counts() -> None:
    assert gsm_septet_count("") == 0
    assert gsm_septet_count("Hello") == 5
    assert gsm_septet_count("{€}") == 6
    assert gsm_septet_count("Hello ж") is None
    assert is_gsm("")
    assert not is_gsm("Ünïcödé?")  # ï is not in the alphabet


def test_escape_followed_by_an_undefined_code_gives_the_basic_character() -> None:
    assert gsm_decode(b"\x1b\x41") == "A"
    assert gsm_decode(b"\x1b\x0d") == "\r"  # 0x0D in the extension table is a reserved page break


def test_dangling_escape_and_double_escape_decode_as_space() -> None:
    assert gsm_decode(b"ab\x1b") == "ab "
    assert gsm_decode(b"\x1b") == " "
    assert gsm_decode(b"a\x1b\x1bb") == "a b"


def test_decode_mixes_runs_and_escapes() -> None:
    assert gsm_decode(b"\x00a\x1b\x65b\x1b\x28\x1b\x29c") == "@a€b{}c"
    assert gsm_decode(b"") == ""


@pytest.mark.parametrize("octets", [b"\x80", b"abc\xff", b"\x1b\x80"])
def test_decode_refuses_octets_above_0x7f(octets: bytes) -> None:
    with pytest.raises(TextError) as e:
        gsm_decode(octets)
    assert e.value.command_status == CommandStatus.ESME_RSUBMITFAIL


GSM_TEXT = st.text(alphabet=st.sampled_from(sorted(EXPECTED_CHARS)), max_size=300)


@given(GSM_TEXT)
def test_encode_decode_round_trip(text: str) -> None:
    octets = gsm_encode(text)
    assert gsm_decode(octets) == text
    assert len(octets) == gsm_septet_count(text)
    assert all(b < 0x80 for b in octets)


# --- 7-bit packing --------------------------------------------------------------------------


def reference_pack(septets: bytes, fill_bits: int) -> bytes:
    """Bit by bit: fill bits, then each septet least significant bit first, zero padded."""
    bits = [0] * fill_bits
    for s in septets:
        bits += [(s >> i) & 1 for i in range(7)]
    bits += [0] * (-len(bits) % 8)
    return bytes(sum(bits[k + i] << i for i in range(8)) for k in range(0, len(bits), 8))


def test_pack_known_vector() -> None:
    # The classic example of TS 23.038 style packing: "hellohello".
    assert pack_septets(b"hellohello").hex() == "e8329bfd4697d9ec37"
    assert unpack_septets(bytes.fromhex("e8329bfd4697d9ec37"), 10) == b"hellohello"


def test_pack_with_one_fill_bit_after_a_six_octet_header() -> None:
    assert pack_septets(b"\x41", 1) == b"\x82"
    assert unpack_septets(b"\x82", 1, 1) == b"\x41"


@given(st.binary(max_size=200).map(lambda b: bytes(x & 0x7F for x in b)), st.integers(0, 6))
def test_pack_matches_the_bitwise_reference_and_unpacks(septets: bytes, fill: int) -> None:
    packed = pack_septets(septets, fill)
    assert packed == reference_pack(septets, fill)
    assert len(packed) == (7 * len(septets) + fill + 7) // 8
    assert unpack_septets(packed, len(septets), fill) == septets


@pytest.mark.parametrize("fill", [-1, 7])
def test_fill_bits_out_of_range(fill: int) -> None:
    with pytest.raises(ValueError, match="fill_bits"):
        pack_septets(b"a", fill)
    with pytest.raises(ValueError, match="fill_bits"):
        unpack_septets(b"a", 1, fill)


def test_pack_refuses_a_septet_above_0x7f() -> None:
    with pytest.raises(TextError):
        pack_septets(b"\x80")


@pytest.mark.parametrize(
    ("octets", "count", "fill"), [(b"", 1, 0), (b"\x00" * 7, 9, 0), (b"\x00", 1, 2)]
)
def test_unpack_refuses_more_septets_than_the_octets_hold(
    octets: bytes, count: int, fill: int
) -> None:
    with pytest.raises(TextError) as e:
        unpack_septets(octets, count, fill)
    assert e.value.command_status == CommandStatus.ESME_RINVMSGLEN


def test_gsm_septets_is_the_strict_count() -> None:
    assert gsm_septets("a€") == 3
    with pytest.raises(TextError) as e:
        gsm_septets("aж")
    assert "U+0436" in str(e.value)


@pytest.mark.parametrize("text", ["€\x80", "Δ\x8a", "a€\x85b", "Ω" + "\x8b"])
def test_c1_controls_mixed_with_wide_characters_are_not_gsm(text: str) -> None:
    assert not is_gsm(text)
    assert gsm_septet_count(text) is None
    with pytest.raises(TextError):
        gsm_encode(text)


ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(sorted(EXPECTED_CHARS)),
        st.characters(max_codepoint=0x3FF),
        st.sampled_from(["\x80", "\x8a", "\x8b", "ж", "😀", "€"]),
    ),
    max_size=60,
)


@given(ANY_TEXT)
def test_membership_and_count_agree_with_the_expected_tables(text: str) -> None:
    expected = set(text) <= EXPECTED_CHARS
    assert is_gsm(text) is expected
    count = gsm_septet_count(text)
    if expected:
        extension = {chr(cp) for cp in EXPECTED_EXTENSION.values()}
        assert count == len(text) + sum(1 for c in text if c in extension)
        assert count == len(gsm_encode(text))
    else:
        assert count is None
