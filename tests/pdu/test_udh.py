"""User data headers, concatenation elements and SAR parameters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsc.pdu.constants import CommandStatus, EsmClass, Tag
from smsc.pdu.errors import PduError
from smsc.pdu.tlv import EMPTY_TLVS, Tlvs
from smsc.pdu.udh import (
    ConcatInfo,
    InformationElement,
    Udh,
    build_udh,
    check_concat,
    concat_from_sar,
    concat_ie,
    parse_udh,
    read_part,
)


def status_of(call: object) -> int:
    assert callable(call)
    with pytest.raises(PduError) as e:
        call()
    return e.value.command_status


def test_parse_8_bit_concat() -> None:
    udh, payload = parse_udh(bytes.fromhex("0500032a0302") + b"hello")
    assert payload == b"hello"
    assert udh.elements == (InformationElement(iei=0, data=bytes.fromhex("2a0302")),)
    assert udh.concat == ConcatInfo(reference=0x2A, reference_bits=8, total=3, index=2)


def test_parse_16_bit_concat() -> None:
    udh, payload = parse_udh(bytes.fromhex("060804beef0201") + b"\x00A")
    assert payload == b"\x00A"
    assert udh.concat == ConcatInfo(reference=0xBEEF, reference_bits=16, total=2, index=1)


def test_unknown_elements_are_kept_in_order_and_rebuilt() -> None:
    # application port addressing (0x05), a concat element, and an unknown 0x70 element.
    header = bytes.fromhex("0e" + "050423f40000" + "0003070201" + "7001ff")
    header = bytes([len(header) - 1]) + header[1:]
    udh, payload = parse_udh(header + b"body")
    assert payload == b"body"
    assert [ie.iei for ie in udh.elements] == [0x05, 0x00, 0x70]
    assert udh.elements[2].data == b"\xff"
    assert udh.concat == ConcatInfo(reference=7, reference_bits=8, total=2, index=1)
    assert udh.encoded() == header
    assert build_udh([(ie.iei, ie.data) for ie in udh.elements]) == header


def test_header_without_concat() -> None:
    udh, payload = parse_udh(bytes.fromhex("0401020a0b") + b"x")
    assert udh.concat is None
    assert payload == b"x"
    assert parse_udh(b"\x00abc") == (Udh(elements=()), b"abc")


def test_build_concat_elements() -> None:
    eight = ConcatInfo(reference=0xFE, reference_bits=8, total=4, index=4)
    sixteen = ConcatInfo(reference=0x0102, reference_bits=16, total=2, index=1)
    assert build_udh([concat_ie(eight)]).hex() == "050003fe0404"
    assert build_udh([concat_ie(sixteen)]).hex() == "06080401020201"
    with pytest.raises(ValueError, match="reference_bits"):
        concat_ie(ConcatInfo(reference=1, reference_bits=12, total=1, index=1))


def test_build_refuses_what_does_not_fit() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        build_udh([(0x100, b"")])
    with pytest.raises(ValueError, match="does not fit"):
        build_udh([(0x70, bytes(256))])
    with pytest.raises(ValueError, match="does not fit"):
        build_udh([(0x70, bytes(138))])  # 140 octets of elements + length octet
    assert len(build_udh([(0x70, bytes(137))])) == 140


ELEMENTS = st.lists(
    st.tuples(st.integers(0, 255).filter(lambda i: i not in (0x00, 0x08)), st.binary(max_size=20)),
    max_size=6,
)


@given(ELEMENTS, st.binary(max_size=40))
def test_build_parse_round_trip(elements: list[tuple[int, bytes]], payload: bytes) -> None:
    header = build_udh(elements)
    udh, rest = parse_udh(header + payload)
    assert rest == payload
    assert [(ie.iei, ie.data) for ie in udh.elements] == elements
    assert udh.encoded() == header


@given(st.binary(max_size=60))
def test_parse_of_any_octets_gives_a_header_or_a_pdu_error(data: bytes) -> None:
    try:
        udh, payload = parse_udh(data)
    except PduError as e:
        assert e.command_status in (CommandStatus.ESME_RINVMSGLEN, CommandStatus.SMSC_RINVPARTS)
    else:
        assert udh.encoded() + payload == data


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "short_message",
    [
        "",  # UDHI set but nothing at all
        "05000301",  # header length 5, only 3 octets follow
        "ff",  # header length 255 in a one-octet message
        "0100",  # element header cut after the IEI
        "03000501",  # element of 5 octets in a 3-octet header
        "0300040102",  # 4-octet element in a 3-octet header
    ],
)
def test_header_running_past_its_container_is_an_invalid_length(short_message: str) -> None:
    data = bytes.fromhex(short_message)
    assert status_of(lambda: parse_udh(data)) == CommandStatus.ESME_RINVMSGLEN


@pytest.mark.parametrize(
    "header",
    [
        "050003070000",  # total 0
        "050003070200",  # index 0
        "050003070203",  # index above total
        "06080400010305",  # 16-bit: index above total
        "0400020702",  # 8-bit element of 2 octets
        "050803000102",  # 16-bit element of 3 octets
        "0a000307020100030702 02".replace(" ", ""),  # two concat elements
        "0b00030702010804000702 01".replace(" ", ""),  # an 8-bit and a 16-bit element
    ],
)
def test_bad_concat_elements_are_invalid_parts(header: str) -> None:
    data = bytes.fromhex(header) + b"x"
    assert status_of(lambda: parse_udh(data)) == CommandStatus.SMSC_RINVPARTS


@pytest.mark.parametrize(
    "info",
    [
        ConcatInfo(reference=1, reference_bits=8, total=0, index=0),
        ConcatInfo(reference=1, reference_bits=8, total=2, index=0),
        ConcatInfo(reference=1, reference_bits=8, total=2, index=3),
    ],
)
def test_check_concat(info: ConcatInfo) -> None:
    assert status_of(lambda: check_concat(info)) == CommandStatus.SMSC_RINVPARTS
    elements = (concat_ie(info),)
    assert status_of(lambda: Udh(elements=elements).concat) == CommandStatus.SMSC_RINVPARTS


def test_check_concat_accepts_a_single_part_and_the_last_part() -> None:
    one = ConcatInfo(reference=1, reference_bits=8, total=1, index=1)
    last = ConcatInfo(reference=1, reference_bits=8, total=255, index=255)
    assert check_concat(one) is one
    assert check_concat(last) is last


# --- SAR --------------------------------------------------------------------------------------

SAR: dict[int, int] = {
    Tag.SAR_MSG_REF_NUM: 0x1234,
    Tag.SAR_TOTAL_SEGMENTS: 3,
    Tag.SAR_SEGMENT_SEQNUM: 2,
}


def sar_tlvs(reference: int, total: int, seq: int) -> Tlvs:
    return Tlvs.of(
        [
            (Tag.SAR_MSG_REF_NUM, reference),
            (Tag.SAR_TOTAL_SEGMENTS, total),
            (Tag.SAR_SEGMENT_SEQNUM, seq),
        ]
    )


def test_concat_from_sar() -> None:
    assert concat_from_sar(Tlvs.of(SAR)) == ConcatInfo(
        reference=0x1234, reference_bits=16, total=3, index=2
    )
    assert concat_from_sar(EMPTY_TLVS) is None
    assert concat_from_sar(Tlvs.of([(Tag.USER_MESSAGE_REFERENCE, 5)])) is None


@pytest.mark.parametrize("missing", list(SAR))
def test_sar_with_one_parameter_missing(missing: int) -> None:
    tlvs = Tlvs.of({t: v for t, v in SAR.items() if t != missing})
    assert status_of(lambda: concat_from_sar(tlvs)) == CommandStatus.ESME_RMISSINGOPTPARAM


@pytest.mark.parametrize("present", list(SAR))
def test_sar_with_only_one_parameter(present: int) -> None:
    tlvs = Tlvs.of({present: SAR[present]})
    assert status_of(lambda: concat_from_sar(tlvs)) == CommandStatus.ESME_RMISSINGOPTPARAM


@pytest.mark.parametrize(
    ("total", "seq"),
    [(0, 0), (0, 1), (3, 0), (3, 4)],
)
def test_sar_with_bad_values(total: int, seq: int) -> None:
    tlvs = sar_tlvs(1, total, seq)
    assert status_of(lambda: concat_from_sar(tlvs)) == CommandStatus.ESME_RINVOPTPARAMVAL


def test_sar_with_a_value_of_the_wrong_length() -> None:
    tlvs = Tlvs(
        [
            (Tag.SAR_MSG_REF_NUM, b"\x01"),
            (Tag.SAR_TOTAL_SEGMENTS, b"\x02"),
            (Tag.SAR_SEGMENT_SEQNUM, b"\x01"),
        ]
    )
    assert status_of(lambda: concat_from_sar(tlvs)) == CommandStatus.ESME_RINVOPTPARAMVAL


# --- read_part --------------------------------------------------------------------------------


def test_read_part_of_a_plain_message() -> None:
    part = read_part(0, b"hello", EMPTY_TLVS)
    assert part.concat is None and part.udh is None and part.payload == b"hello"


def test_read_part_udh_ignores_other_esm_class_bits() -> None:
    esm = EsmClass.UDHI | EsmClass.MODE_STORE_AND_FORWARD
    part = read_part(esm, bytes.fromhex("050003090201") + b"hi", EMPTY_TLVS)
    assert part.concat == ConcatInfo(reference=9, reference_bits=8, total=2, index=1)
    assert part.payload == b"hi"


def test_read_part_without_udhi_does_not_look_for_a_header() -> None:
    data = bytes.fromhex("050003090201") + b"hi"
    assert read_part(0, data, EMPTY_TLVS).payload == data


def test_read_part_sar() -> None:
    part = read_part(0, b"hi", Tlvs.of(SAR))
    assert part.concat == ConcatInfo(reference=0x1234, reference_bits=16, total=3, index=2)
    assert part.payload == b"hi" and part.udh is None


def test_read_part_udh_without_concat_and_sar() -> None:
    part = read_part(EsmClass.UDHI, bytes.fromhex("0401020a0b") + b"x", Tlvs.of(SAR))
    assert part.concat == concat_from_sar(Tlvs.of(SAR))
    assert part.udh is not None and part.payload == b"x"


def test_read_part_udh_and_sar_that_agree() -> None:
    tlvs = sar_tlvs(9, 2, 1)
    part = read_part(EsmClass.UDHI, bytes.fromhex("050003090201") + b"x", tlvs)
    assert part.concat == ConcatInfo(reference=9, reference_bits=8, total=2, index=1)


def test_read_part_udh_and_sar_that_disagree() -> None:
    tlvs = sar_tlvs(9, 2, 2)
    data = bytes.fromhex("050003090201") + b"x"
    assert status_of(lambda: read_part(EsmClass.UDHI, data, tlvs)) == CommandStatus.SMSC_RINVPARTS
