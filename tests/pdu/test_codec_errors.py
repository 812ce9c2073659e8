"""Every way a PDU can be refused, and the SMPP status each refusal carries.

The fuzz tests at the end feed arbitrary and mutated octets through FrameBuffer and decode: the
only exceptions allowed out are PduError (FramingError included).
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from smsc.pdu import pdus
from smsc.pdu.codec import decode, encode
from smsc.pdu.constants import CommandStatus, Tag
from smsc.pdu.errors import FramingError, PduError
from smsc.pdu.framing import FrameBuffer
from smsc.pdu.layouts import LAYOUTS
from smsc.pdu.pdus import (
    DataSm,
    DistributionList,
    EnquireLink,
    QuerySm,
    ReplaceSm,
    SmeAddress,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    UnsuccessSme,
)
from smsc.pdu.tlv import LENGTH_LIMITS, Tlvs
from tests.pdu import strategies

S = CommandStatus
SEQ = 0x01020304
FILL = "\xa7"  # a Latin-1 character that appears nowhere else in the frames below


def with_length(frame: bytes | bytearray) -> bytes:
    """The frame with command_length rewritten to its real length."""
    return struct.pack(">I", len(frame)) + bytes(frame[4:])


def longest(cls: type[pdus.Pdu], name: str, value: str) -> pdus.Pdu:
    """A PDU that encodes, with ``value`` in the C-Octet String field ``name``."""
    extra: dict[str, object] = {}
    if cls is SubmitMulti:
        extra["dest_addresses"] = (DistributionList(dl_name="d"),)
    return cls(sequence_number=SEQ, **{name: value}, **extra)  # type: ignore[arg-type]


def refused(frame: bytes, status: int, command_id: int | None = None) -> PduError:
    with pytest.raises(PduError) as info:
        decode(frame)
    error = info.value
    assert error.status_name == S.name_of(status), str(error)
    if command_id is not None:
        assert (error.command_id, error.sequence_number) == (command_id, SEQ)
    return error


def filled(cls: type[pdus.Pdu]) -> pdus.Pdu:
    """A PDU of ``cls`` with every body field present and non-empty (no TLVs)."""
    values: dict[str, object] = {}
    for kind, name, _size, _status in LAYOUTS[cls]:
        values[name] = {
            "cstr": "x",
            "u8": 1,
            "sm": b"abc",
            "dests": (SmeAddress(destination_addr="1"), DistributionList(dl_name="d")),
            "unsuccess": (UnsuccessSme(destination_addr="1", error_status_code=8),),
            "tlvs": Tlvs(),
        }[kind]
    return cls(sequence_number=SEQ, **values)  # type: ignore[arg-type]


C_OCTET_FIELDS = [
    pytest.param(cls, name, size, status, id=f"{cls.__name__}.{name}")
    for cls, layout in LAYOUTS.items()
    for kind, name, size, status in layout
    if kind == "cstr"
]

# --- C-Octet strings longer than their field -----------------------------------------------


@pytest.mark.parametrize(("cls", "name", "size", "status"), C_OCTET_FIELDS)
def test_decode_too_long_c_octet_string(
    cls: type[pdus.Pdu], name: str, size: int, status: int
) -> None:
    pdu = longest(cls, name, FILL * (size - 1))
    frame = encode(pdu)
    assert decode(frame) == pdu  # size - 1 octets and the NUL fit exactly
    run = FILL.encode("latin-1") * (size - 1)
    at = frame.index(run, 16)
    one_more = frame[:at] + FILL.encode("latin-1") + frame[at:]
    refused(with_length(one_more), status, cls.command_id)


@pytest.mark.parametrize(("cls", "name", "size", "status"), C_OCTET_FIELDS)
def test_encode_too_long_c_octet_string(
    cls: type[pdus.Pdu], name: str, size: int, status: int
) -> None:
    encode(longest(cls, name, "y" * (size - 1)))
    for bad in ("y" * size, "a\x00b"):
        with pytest.raises(PduError) as info:
            encode(longest(cls, name, bad))
        assert info.value.command_status == status


# --- truncation, sm_length, trailing octets --------------------------------------------------


@pytest.mark.parametrize(
    "cls", [c for c in pdus.PDU_CLASSES if LAYOUTS[c]], ids=lambda c: c.__name__
)
def test_truncated_body(cls: type[pdus.Pdu]) -> None:
    frame = encode(filled(cls))
    kinds = [f[0] for f in LAYOUTS[cls]]
    # short_message is the last mandatory field where there is one: "abc" after sm_length
    sm_length_at = len(frame) - 4 if "sm" in kinds else len(frame)
    for cut in range(16, len(frame)):
        expected = S.ESME_RINVMSGLEN if cut > sm_length_at else S.ESME_RINVCMDLEN
        refused(with_length(frame[:cut]), expected, cls.command_id)


@pytest.mark.parametrize("cls", [SubmitSm, pdus.DeliverSm, ReplaceSm, SubmitMulti])
def test_sm_length_past_the_end(cls: type[pdus.Pdu]) -> None:
    frame = bytearray(encode(filled(cls)))
    assert frame[-4:] == b"\x03abc"
    frame[-4] = 4
    refused(bytes(frame), S.ESME_RINVMSGLEN, cls.command_id)
    frame[-4] = 0xFF
    refused(bytes(frame), S.ESME_RINVMSGLEN, cls.command_id)


def test_sm_length_running_into_tlvs_past_the_end() -> None:
    pdu = SubmitSm(sequence_number=SEQ, short_message=b"ab", tlvs=Tlvs([(0x1400, b"xyz")]))
    frame = bytearray(encode(pdu))
    at = len(frame) - 7 - 3  # the TLV takes 7 octets, sm_length and "ab" 3
    assert frame[at : at + 3] == b"\x02ab"
    frame[at] = 10  # 9 octets are left after sm_length
    refused(bytes(frame), S.ESME_RINVMSGLEN, SubmitSm.command_id)


@pytest.mark.parametrize(
    "cls",
    [c for c in pdus.PDU_CLASSES if not any(f[0] == "tlvs" for f in LAYOUTS[c])],
    ids=lambda c: c.__name__,
)
def test_octets_after_a_body_without_tlvs(cls: type[pdus.Pdu]) -> None:
    frame = encode(filled(cls)) + b"\x00"
    refused(with_length(frame), S.ESME_RINVCMDLEN, cls.command_id)


def test_header_problems() -> None:
    frame = encode(EnquireLink(sequence_number=SEQ))
    for short in (b"", frame[:4], frame[:15]):
        refused(short, S.ESME_RINVCMDLEN)
    refused(frame + b"\x00", S.ESME_RINVCMDLEN, EnquireLink.command_id)  # length says 16
    refused(b"\x00\x00\x00\x11" + frame[4:], S.ESME_RINVCMDLEN, EnquireLink.command_id)


@pytest.mark.parametrize(
    "command_id", [0x0, 0x0000000A, 0x00000010, 0x00000111, 0x80000010, 0x8000000B, 0xFFFFFFFF]
)
def test_unknown_command_id(command_id: int) -> None:
    frame = struct.pack(">IIII", 17, command_id, 0, SEQ) + b"\x00"
    error = refused(frame, S.ESME_RINVCMDID, command_id)
    assert pdus.error_response(error.command_id, error.sequence_number, error.command_status) == (
        pdus.GenericNack(sequence_number=SEQ, command_status=S.ESME_RINVCMDID)
    )


# --- TLVs ------------------------------------------------------------------------------------

BAD_TLV_LENGTHS = [
    pytest.param(tag, length, id=f"{Tag(tag).name}-{length}")
    for tag, (low, high) in sorted(LENGTH_LIMITS.items())
    for length in (low - 1, high + 1)
    if 0 <= length <= 0xFFFF
]


@pytest.mark.parametrize(("tag", "length"), BAD_TLV_LENGTHS)
def test_known_tlv_with_a_bad_length(tag: int, length: int) -> None:
    frame = encode(DataSm(sequence_number=SEQ)) + struct.pack(">HH", tag, length) + b"\x00" * length
    refused(with_length(frame), S.ESME_RINVPARLEN, DataSm.command_id)


@pytest.mark.parametrize("tag", [Tag.MESSAGE_PAYLOAD, Tag.SAR_MSG_REF_NUM, 0x1400])
def test_tlv_running_past_the_end(tag: int) -> None:
    frame = encode(DataSm(sequence_number=SEQ)) + struct.pack(">HH", tag, 2) + b"\x00"
    refused(with_length(frame), S.ESME_RINVOPTPARSTREAM, DataSm.command_id)


@pytest.mark.parametrize("partial", [b"\x04", b"\x04\x24", b"\x04\x24\x00"])
def test_truncated_tlv_header(partial: bytes) -> None:
    frame = encode(DataSm(sequence_number=SEQ, tlvs=Tlvs([(0x1400, b"")]))) + partial
    refused(with_length(frame), S.ESME_RINVOPTPARSTREAM, DataSm.command_id)


def test_a_repeated_message_payload_is_refused() -> None:
    """Two message_payload TLVs: the second (34,900 octets here) would be silently dropped by
    anything that reads the first, so the PDU is refused as a bad optional part."""
    first = struct.pack(">HH", Tag.MESSAGE_PAYLOAD, 100) + b"a" * 100
    second = struct.pack(">HH", Tag.MESSAGE_PAYLOAD, 34_900) + b"b" * 34_900
    for cls in (SubmitSm, DataSm):
        frame = encode(cls(sequence_number=SEQ)) + first + second
        refused(with_length(frame), S.ESME_RINVOPTPARSTREAM, cls.command_id)


@given(tag=st.sampled_from(sorted(LENGTH_LIMITS)), data=st.data())
def test_any_known_tlv_given_twice_is_refused(tag: int, data: st.DataObject) -> None:
    low, high = LENGTH_LIMITS[tag]
    values = [data.draw(st.binary(min_size=low, max_size=min(high, 40))) for _ in range(2)]
    between = data.draw(st.lists(strategies.unknown_tlv, max_size=2))
    tlvs = Tlvs([(tag, values[0]), *between, (tag, values[1])])
    frame = encode(DataSm(sequence_number=SEQ, tlvs=tlvs))
    refused(frame, S.ESME_RINVOPTPARSTREAM, DataSm.command_id)


def test_an_unknown_tlv_may_repeat() -> None:
    tlvs = Tlvs([(0x1400, b"a"), (0x1400, b"b")])
    pdu = decode(encode(DataSm(sequence_number=SEQ, tlvs=tlvs)))
    assert isinstance(pdu, DataSm) and pdu.tlvs == tlvs


# --- submit_multi ----------------------------------------------------------------------------


def _multi(dests_octets: str) -> bytes:
    """A submit_multi frame with the given hex for number_of_dests and the dest_address list."""
    head = "00 00 00 00"  # service_type, source_addr_ton, source_addr_npi, source_addr
    tail = "00 00 00 00 00 00 00 00 00 00"  # esm_class .. sm_length 0
    body = bytes.fromhex(f"{head} {dests_octets} {tail}")
    return struct.pack(">IIII", 16 + len(body), SubmitMulti.command_id, 0, SEQ) + body


def test_submit_multi_destination_errors() -> None:
    assert decode(_multi("01 02 6400")) == SubmitMulti(
        sequence_number=SEQ, dest_addresses=(DistributionList(dl_name="d"),)
    )
    refused(_multi("00"), S.ESME_RINVNUMDESTS, SubmitMulti.command_id)
    for flag in ("00", "03", "ff"):
        refused(_multi(f"01 {flag} 01 01 3100"), S.ESME_RINVDESTFLAG, SubmitMulti.command_id)
    name = "41" * 21
    refused(_multi(f"01 02 {name}00"), S.ESME_RINVDLNAME, SubmitMulti.command_id)
    refused(_multi(f"01 01 01 01 {name}00"), S.ESME_RINVDSTADR, SubmitMulti.command_id)
    # one destination announced, none present: the body ends inside the list
    body = bytes.fromhex("00 00 00 00 01")
    frame = struct.pack(">IIII", 16 + len(body), SubmitMulti.command_id, 0, SEQ) + body
    refused(frame, S.ESME_RINVCMDLEN, SubmitMulti.command_id)


def test_submit_multi_resp_unsuccess_errors() -> None:
    name = "41" * 21
    body = bytes.fromhex(f"00 01 01 01 {name}00 00000008")
    frame = struct.pack(">IIII", 16 + len(body), SubmitMultiResp.command_id, 0, SEQ) + body
    refused(frame, S.ESME_RINVDSTADR, SubmitMultiResp.command_id)
    body = bytes.fromhex("00 01 01 01 3100 00000008")
    frame = struct.pack(">IIII", 16 + len(body), SubmitMultiResp.command_id, 0, SEQ) + body
    assert decode(frame) == SubmitMultiResp(
        sequence_number=SEQ,
        unsuccess_smes=(
            UnsuccessSme(
                dest_addr_ton=1, dest_addr_npi=1, destination_addr="1", error_status_code=8
            ),
        ),
    )
    for cut in range(17, len(frame)):
        refused(with_length(frame[:cut]), S.ESME_RINVCMDLEN, SubmitMultiResp.command_id)


def test_encode_destination_list_limits() -> None:
    one = SmeAddress(destination_addr="1")
    cases: list[tuple[pdus.Pdu, int]] = [
        (SubmitMulti(), S.ESME_RINVNUMDESTS),
        (SubmitMulti(dest_addresses=(one,) * 256), S.ESME_RINVNUMDESTS),
        (SubmitMulti(dest_addresses=(SmeAddress(destination_addr="1" * 21),)), S.ESME_RINVDSTADR),
        (SubmitMulti(dest_addresses=(DistributionList(dl_name="d" * 21),)), S.ESME_RINVDLNAME),
        (SubmitMultiResp(unsuccess_smes=(UnsuccessSme(),) * 256), S.ESME_RINVNUMDESTS),
        (
            SubmitMultiResp(unsuccess_smes=(UnsuccessSme(destination_addr="1" * 21),)),
            S.ESME_RINVDSTADR,
        ),
    ]
    for pdu, status in cases:
        with pytest.raises(PduError) as info:
            encode(pdu)
        assert info.value.command_status == status, pdu
    most = SubmitMulti(dest_addresses=(one,) * 255)
    assert decode(encode(most)) == most


# --- values that cannot be encoded -----------------------------------------------------------


def test_encode_short_message_too_long() -> None:
    with pytest.raises(PduError) as info:
        encode(SubmitSm(short_message=b"x" * 256))
    assert info.value.command_status == S.ESME_RINVMSGLEN


@pytest.mark.parametrize(
    "pdu",
    [
        SubmitSm(sequence_number=SEQ, esm_class=256),
        SubmitSm(sequence_number=SEQ, data_coding=-1),
        SubmitSm(sequence_number=SEQ + 2**32),
        SubmitSm(sequence_number=SEQ, command_status=-1),
        SubmitSm(sequence_number=SEQ, source_addr="\u20ac"),  # beyond Latin-1
        SubmitSm(sequence_number=SEQ, tlvs=Tlvs([(0x1400, b"x" * 0x10000)])),
        SubmitMultiResp(
            sequence_number=SEQ, unsuccess_smes=(UnsuccessSme(error_status_code=2**32),)
        ),
    ],
    ids=["u8>255", "u8<0", "seq>u32", "status<0", "not-latin-1", "tlv>64K", "u32>max"],
)
def test_encode_values_out_of_range(pdu: pdus.Pdu) -> None:
    with pytest.raises(PduError) as info:
        encode(pdu)
    assert info.value.command_status == S.ESME_RSYSERR
    assert info.value.command_id == pdu.command_id


@pytest.mark.parametrize(
    "pdu",
    [
        SubmitMulti(sequence_number=SEQ, dest_addresses=(SmeAddress(dest_addr_ton=256),)),
        SubmitMulti(sequence_number=SEQ, dest_addresses=(SmeAddress(dest_addr_npi=-1),)),
        SubmitMultiResp(sequence_number=SEQ, unsuccess_smes=(UnsuccessSme(dest_addr_ton=256),)),
    ],
    ids=["sme-ton>255", "sme-npi<0", "unsuccess-ton>255"],
)
def test_encode_address_list_octets_out_of_range(pdu: pdus.Pdu) -> None:
    # encode() promises PduError; these octets go through bytes(...), which raises ValueError.
    with pytest.raises(PduError) as info:
        encode(pdu)
    assert info.value.command_status == S.ESME_RSYSERR


# --- framing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [0, 1, 15, 1001, 0xFFFFFFFF])
def test_framing_refuses_length_before_buffering_the_body(length: int) -> None:
    buffer = FrameBuffer(max_length=1000)
    buffer.feed(struct.pack(">I", length))
    with pytest.raises(FramingError) as info:
        buffer.next_frame()
    assert info.value.command_status == S.ESME_RINVCMDLEN
    assert info.value.command_id is None
    assert len(buffer) == 4  # nothing but the length octets was ever held


def test_framing_error_carries_the_header_when_it_is_there() -> None:
    buffer = FrameBuffer(max_length=1000)
    buffer.feed(struct.pack(">IIII", 5000, SubmitSm.command_id, 0, SEQ))
    with pytest.raises(FramingError) as info:
        buffer.next_frame()
    assert (info.value.command_id, info.value.sequence_number) == (SubmitSm.command_id, SEQ)
    assert isinstance(info.value, PduError)


def test_framing_accepts_both_limits() -> None:
    buffer = FrameBuffer(max_length=64)
    smallest = encode(EnquireLink(sequence_number=1))
    largest = encode(SubmitSm(sequence_number=2, short_message=b"x" * (64 - 16 - 17)))
    assert len(largest) == 64
    buffer.feed(smallest + largest)
    assert buffer.frames() == [smallest, largest]
    assert buffer.next_frame() is None
    with pytest.raises(ValueError):
        FrameBuffer(max_length=15)


def test_decode_accepts_what_framing_lets_through_only() -> None:
    # A frame that passed FrameBuffer still has its body checked by decode.
    buffer = FrameBuffer()
    buffer.feed(struct.pack(">IIII", 17, QuerySm.command_id, 0, SEQ) + b"\x01")
    (frame,) = buffer.frames()
    refused(frame, S.ESME_RINVCMDLEN, QuerySm.command_id)


# --- fuzz ------------------------------------------------------------------------------------

FUZZ_MAX = 4096
COMMAND_IDS = sorted(pdus.PDU_CLASSES_BY_ID)


def _feed_all(chunks: list[bytes]) -> None:
    """Feed chunks, decoding every frame; only PduError may come out of framing or decode."""
    buffer = FrameBuffer(max_length=FUZZ_MAX)
    for chunk in chunks:
        buffer.feed(chunk)
        try:
            while (frame := buffer.next_frame()) is not None:
                try:
                    pdu = decode(frame)
                except PduError as error:
                    # a whole frame always has a header, so the answer can name the request
                    assert not isinstance(error, FramingError)
                    assert error.command_id is not None
                    continue
                assert decode(encode(pdu)) == pdu
        except FramingError:
            return  # the stream is unusable from here on: generic_nack and close
        assert len(buffer) < FUZZ_MAX  # at most one partial PDU is held between feeds


def _chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    chunks, pos = [], 0
    for size in cuts:
        chunks.append(data[pos : pos + size])
        pos += size
    chunks.append(data[pos:])
    return chunks


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=600), cuts=st.lists(st.integers(0, 64), max_size=12))
@example(data=b"\x00\x00\x00\x10\x80\x00\x00\x04\x00\x00\x00\x08\x00\x00\x00\x01", cuts=[3])
def test_arbitrary_bytes_in_arbitrary_chunks(data: bytes, cuts: list[int]) -> None:
    _feed_all(_chunked(data, cuts))


@st.composite
def headed_bodies(draw: st.DrawFn) -> bytes:
    """A correct header with a known command_id and any body: reaches every body decoder."""
    command_id = draw(st.sampled_from(COMMAND_IDS))
    body = draw(st.binary(max_size=300))
    status = draw(st.sampled_from([0, 8]))
    return struct.pack(">IIII", 16 + len(body), command_id, status, SEQ) + body


@settings(max_examples=400, deadline=None)
@given(frame=headed_bodies())
def test_any_body_under_a_valid_header(frame: bytes) -> None:
    _feed_all([frame])


@st.composite
def mutated_streams(draw: st.DrawFn) -> bytes:
    frames = [encode(p) for p in draw(st.lists(strategies.any_pdu, min_size=1, max_size=3))]
    out = bytearray()
    for frame in frames:
        octets = bytearray(frame)
        for _ in range(draw(st.integers(0, 4))):
            at = draw(st.integers(0, len(octets) - 1))
            octets[at] = draw(st.integers(0, 255))
        if draw(st.booleans()):
            cut = draw(st.integers(16, len(octets)))
            octets = octets[:cut] + bytearray(draw(st.binary(max_size=8)))
        if draw(st.booleans()):  # keep command_length true so the body decoders see it
            octets = bytearray(with_length(octets))
        out += octets
    return bytes(out)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=mutated_streams(), cuts=st.lists(st.integers(0, 200), max_size=8))
def test_mutated_valid_frames_in_arbitrary_chunks(stream: bytes, cuts: list[int]) -> None:
    _feed_all(_chunked(stream, cuts))
