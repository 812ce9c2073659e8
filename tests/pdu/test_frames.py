"""smsc.pdu.frames: header fields of encoded PDUs, renumbering, stand-ins, the receipt fast path.

The codec (``encode``/``decode``/``peek_header``) and smpp.pdu3 are the oracles."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsc.pdu import frames, pdus
from smsc.pdu.codec import decode, encode, peek_header
from smsc.pdu.constants import EsmClass, MessageState, Tag
from smsc.pdu.errors import PduError
from smsc.pdu.tlv import NetworkErrorCode, Tlvs
from tests.pdu.strategies import any_pdu, c_octet_string, pdu_of, u32
from tests.pdu.test_codec_differential import their_decode

requests = st.sampled_from([c for c in pdus.PDU_CLASSES if not c.is_response]).flatmap(pdu_of)


# --- header fields -----------------------------------------------------------------------------


@given(any_pdu)
def test_the_header_fields_are_the_codecs(pdu: pdus.Pdu) -> None:
    frame = encode(pdu)
    assert (frames.command_length(frame), frames.command_id(frame), frames.command_status(frame),
            frames.sequence_number(frame)) == peek_header(frame)
    assert frames.command_length(frame) == len(frame)
    assert frames.command_id(frame) == pdu.command_id
    assert frames.command_status(frame) == pdu.command_status
    assert frames.sequence_number(frame) == pdu.sequence_number


def test_the_header_offsets() -> None:
    frame = bytes.fromhex("00000010" "80000015" "00000058" "7fffffff")
    assert frames.command_length(frame) == 16
    assert frames.command_id(frame) == 0x80000015
    assert frames.command_status(frame) == 0x58
    assert frames.sequence_number(frame) == 0x7FFFFFFF
    assert (frames.COMMAND_LENGTH_AT, frames.COMMAND_ID_AT, frames.COMMAND_STATUS_AT,
            frames.SEQUENCE_NUMBER_AT, frames.HEADER_END) == (0, 4, 8, 12, 16)


# --- renumbering -------------------------------------------------------------------------------


@given(any_pdu, u32)
def test_a_renumbered_frame_decodes_to_the_pdu_with_the_new_number(pdu: pdus.Pdu,
                                                                   number: int) -> None:
    frame = encode(pdu)
    renumbered = frames.with_sequence_number(frame, number)
    assert decode(renumbered) == pdu.replace(sequence_number=number)
    assert renumbered == encode(pdu.replace(sequence_number=number))
    assert len(renumbered) == len(frame)
    assert renumbered[:12] == frame[:12] and renumbered[16:] == frame[16:]


def test_renumbering_writes_the_number_big_endian() -> None:
    frame = encode(pdus.EnquireLink())
    assert frames.with_sequence_number(frame, 0x01020304) == bytes.fromhex(
        "00000010" "00000015" "00000000" "01020304")


@pytest.mark.parametrize("number", [-1, 1 << 32])
def test_a_number_that_does_not_fit_is_refused(number: int) -> None:
    with pytest.raises(OverflowError):
        frames.with_sequence_number(encode(pdus.EnquireLink()), number)


# --- stand-ins ---------------------------------------------------------------------------------


@given(pdu_of(pdus.DeliverSm), st.integers(1, 0x7FFFFFFF))
def test_a_deliver_sm_stands_in_as_a_default_deliver_sm_with_its_number(
        pdu: pdus.DeliverSm, number: int) -> None:
    stand_in = frames.stand_in(encode(pdu.replace(sequence_number=0)), number)
    assert type(stand_in) is pdus.DeliverSm
    assert stand_in == pdus.DeliverSm(sequence_number=number)
    assert stand_in.response() == pdus.DeliverSmResp(sequence_number=number)


@given(requests.filter(lambda p: not isinstance(p, pdus.DeliverSm)), st.integers(1, 0x7FFFFFFF))
def test_any_other_request_stands_in_as_itself_decoded(pdu: pdus.Pdu, number: int) -> None:
    assert frames.stand_in(encode(pdu), number) == pdu.replace(sequence_number=number)


# --- the receipt fast path ---------------------------------------------------------------------

ESM_CLASSES = [int(EsmClass.TYPE_DELIVERY_RECEIPT), int(EsmClass.TYPE_INTERMEDIATE_NOTIFICATION)]
STATES = [int(s) for s in MessageState if s]
message_ids = st.text(alphabet="0123456789abcdefABCDEF-", max_size=64).map(str.encode)
u8 = st.integers(0, 255)


def codec_receipt(*, receipted_message_id: bytes, message_state: int, network_error: int,
                  network_type: int = frames.NETWORK_TYPE_GSM, **fields: object) -> pdus.DeliverSm:
    """The DeliverSm that receipt_deliver_sm encodes, built the codec's way."""
    tlvs = Tlvs.of((
        (Tag.RECEIPTED_MESSAGE_ID, receipted_message_id.decode("ascii")),
        (Tag.MESSAGE_STATE, message_state),
        (Tag.NETWORK_ERROR_CODE, NetworkErrorCode(network_type, network_error)),
    ))
    return pdus.DeliverSm(tlvs=tlvs, data_coding=0, **fields)  # type: ignore[arg-type]


receipts = st.fixed_dictionaries({
    "source_addr_ton": u8,
    "source_addr_npi": u8,
    "source_addr": c_octet_string(21),
    "dest_addr_ton": u8,
    "dest_addr_npi": u8,
    "destination_addr": c_octet_string(21),
    "esm_class": st.one_of(st.sampled_from(ESM_CLASSES), u8),
    "short_message": st.binary(max_size=255),
    "receipted_message_id": message_ids,
    "message_state": st.one_of(st.sampled_from(STATES), u8),
    "network_error": st.integers(0, 0xFFFF),
    "network_type": u8,
})


@given(receipts)
def test_the_receipt_fast_path_is_the_codecs_encoding(fields: dict[str, object]) -> None:
    frame = frames.receipt_deliver_sm(**fields)  # type: ignore[arg-type]
    assert frame == encode(codec_receipt(**fields))  # type: ignore[arg-type]
    assert frames.sequence_number(frame) == 0
    assert frames.command_length(frame) == len(frame)


def test_the_network_type_is_gsm_unless_given() -> None:
    frame = frames.receipt_deliver_sm(
        source_addr_ton=1, source_addr_npi=1, source_addr="380671234567", dest_addr_ton=5,
        dest_addr_npi=0, destination_addr="Shop", esm_class=4, short_message=b"id:1",
        receipted_message_id=b"1", message_state=2, network_error=0x0102)
    decoded = decode(frame)
    assert isinstance(decoded, pdus.DeliverSm)
    assert decoded.tlvs.raw(Tag.NETWORK_ERROR_CODE) == b"\x03\x01\x02"
    assert decoded.tlvs.raw(Tag.RECEIPTED_MESSAGE_ID) == b"1\x00"
    assert decoded.source_addr == "380671234567" and decoded.destination_addr == "Shop"


def test_a_text_longer_than_a_short_message_is_refused() -> None:
    fields: dict[str, object] = {
        "source_addr_ton": 1, "source_addr_npi": 1, "source_addr": "1", "dest_addr_ton": 1,
        "dest_addr_npi": 1, "destination_addr": "2", "esm_class": 4, "short_message": b"x" * 256,
        "receipted_message_id": b"1", "message_state": 2, "network_error": 0}
    with pytest.raises(ValueError, match="longer than a short_message"):
        frames.receipt_deliver_sm(**fields)  # type: ignore[arg-type]
    with pytest.raises(PduError):  # the codec refuses it too
        encode(codec_receipt(**fields))  # type: ignore[arg-type]


_THEIR_TYPES = {0x04: "SMSC_DELIVERY_RECEIPT", 0x20: "INTERMEDIATE_DELIVERY_NOTIFICATION"}


@given(
    source=st.text(alphabet="0123456789", min_size=1, max_size=20),
    destination=st.text(alphabet="0123456789ABCxyz", min_size=1, max_size=20),
    esm_class=st.sampled_from(ESM_CLASSES),
    text=st.binary(min_size=1, max_size=254),
    message_id=message_ids.filter(bool),
    state=st.sampled_from(STATES),
    network_error=st.integers(0, 0xFFFF),
)
def test_smpp_pdu3_reads_the_fast_path_receipt(source: str, destination: str, esm_class: int,
                                               text: bytes, message_id: bytes, state: int,
                                               network_error: int) -> None:
    frame = frames.receipt_deliver_sm(
        source_addr_ton=1, source_addr_npi=1, source_addr=source, dest_addr_ton=0,
        dest_addr_npi=0, destination_addr=destination, esm_class=esm_class, short_message=text,
        receipted_message_id=message_id, message_state=state, network_error=network_error)
    theirs = their_decode(frame)
    params = theirs.params
    assert theirs.id.name == "deliver_sm"
    assert params["source_addr"] == source.encode()
    assert params["destination_addr"] == destination.encode()
    assert params["esm_class"].type.name == _THEIR_TYPES[esm_class]
    assert params["short_message"] == text
    assert params["receipted_message_id"] == message_id
    assert params["message_state"].name == MessageState(state).name
    assert params["network_error_code"] == bytes((3,)) + network_error.to_bytes(2, "big")
