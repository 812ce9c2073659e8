"""Pre-encoded PDUs ("frames"): the octets of one whole PDU, kept and sent as they are.

The server stores what it will send (receipts, alert_notifications) encoded, with
sequence_number 0, and numbers each frame only when a connection sends it. This module is the
one place outside the codec that knows where the header fields of a frame are:

- :func:`command_length`, :func:`command_id`, :func:`command_status`, :func:`sequence_number`
  read them (the header is four big-endian 32-bit integers, SMPP 3.4 section 3.2);
- :func:`with_sequence_number` renumbers a frame (the octets after the header are unchanged);
- :func:`stand_in` is the PDU a session keeps for a frame it sends (to match the answer);
- :func:`receipt_deliver_sm` encodes the deliver_sm of a delivery receipt in one step, the
  server's hot path: the same octets as :func:`smsc.pdu.codec.encode` of the equivalent
  :class:`~smsc.pdu.pdus.DeliverSm` (tests/pdu/test_frames.py holds it to that).
"""

from __future__ import annotations

import dataclasses
import struct
from typing import Final

from smsc.pdu import pdus
from smsc.pdu.codec import decode
from smsc.pdu.constants import CommandId, Tag
from smsc.slotted import slot_constructor

# Where each header field starts (each is 4 octets, big-endian).
COMMAND_LENGTH_AT: Final = 0
COMMAND_ID_AT: Final = 4
COMMAND_STATUS_AT: Final = 8
SEQUENCE_NUMBER_AT: Final = 12
HEADER_END: Final = 16

_U32: Final = struct.Struct(">I")
_HEADER: Final = struct.Struct(">IIII")
_DELIVER_SM_ID: Final = _U32.pack(CommandId.DELIVER_SM)


def command_length(frame: bytes) -> int:
    value: int = _U32.unpack_from(frame, COMMAND_LENGTH_AT)[0]
    return value


def command_id(frame: bytes) -> int:
    value: int = _U32.unpack_from(frame, COMMAND_ID_AT)[0]
    return value


def command_status(frame: bytes) -> int:
    value: int = _U32.unpack_from(frame, COMMAND_STATUS_AT)[0]
    return value


def sequence_number(frame: bytes) -> int:
    value: int = _U32.unpack_from(frame, SEQUENCE_NUMBER_AT)[0]
    return value


def with_sequence_number(frame: bytes, sequence_number: int) -> bytes:
    """``frame`` with ``sequence_number`` in its header (0 to 0xFFFFFFFF; OverflowError
    beyond); every other octet is unchanged."""
    return (frame[:SEQUENCE_NUMBER_AT] + sequence_number.to_bytes(4, "big")
            + frame[HEADER_END:])


_make_deliver_sm = slot_constructor(pdus.DeliverSm)
_DELIVER_SM_FIELDS: Final = tuple(f.name for f in dataclasses.fields(pdus.DeliverSm))
_DELIVER_SM_DEFAULTS: Final = tuple(
    getattr(pdus.DeliverSm(), name) for name in _DELIVER_SM_FIELDS)
_SEQUENCE_IN_FIELDS: Final = _DELIVER_SM_FIELDS.index("sequence_number")


def stand_in(frame: bytes, sequence_number: int) -> pdus.Pdu:
    """The request a session keeps for ``frame`` sent as ``sequence_number``: enough to match
    its answer. A deliver_sm stands in as a default deliver_sm with that number (built without
    the dataclass's slow init; decoding the frame would cost more than the rest of sending it);
    any other request is ``frame`` decoded, renumbered."""
    if frame[COMMAND_ID_AT:COMMAND_STATUS_AT] == _DELIVER_SM_ID:
        values = list(_DELIVER_SM_DEFAULTS)
        values[_SEQUENCE_IN_FIELDS] = sequence_number
        return _make_deliver_sm(*values)
    return decode(with_sequence_number(frame, sequence_number))


# --- the receipt fast path ------------------------------------------------------------------

NETWORK_TYPE_GSM: Final = 3
_NETWORK_ERROR_CODE: Final = struct.Struct(">BH")
# service_type "", source address, dest address, esm_class, protocol_id 0, priority_flag 0,
# schedule_delivery_time "", validity_period "", registered_delivery 0,
# replace_if_present_flag 0, data_coding 0, sm_default_msg_id 0, sm_length, short_message.
_RECEIPT_BODY: Final = b"\x00%c%c%s\x00%c%c%s\x00%c\x00\x00\x00\x00\x00\x00\x00\x00%c%s"
_TLV_LENGTH: Final = struct.Struct(">H")
# receipted_message_id (C-Octet String), message_state (1 octet), network_error_code (3 octets);
# no tag has a '%' octet, so the tags are written into the format as they are.
_RECEIPT_TLVS: Final = (
    _TLV_LENGTH.pack(Tag.RECEIPTED_MESSAGE_ID) + b"%s%s\x00"
    + _TLV_LENGTH.pack(Tag.MESSAGE_STATE) + b"\x00\x01%c"
    + _TLV_LENGTH.pack(Tag.NETWORK_ERROR_CODE) + b"\x00\x03%s"
)
_RECEIPT_AFTER_HEADER: Final = _RECEIPT_BODY + _RECEIPT_TLVS
_DELIVER_SM: Final = int(CommandId.DELIVER_SM)


def receipt_deliver_sm(
    *,
    source_addr_ton: int,
    source_addr_npi: int,
    source_addr: str,
    dest_addr_ton: int,
    dest_addr_npi: int,
    destination_addr: str,
    esm_class: int,
    short_message: bytes,
    receipted_message_id: bytes,
    message_state: int,
    network_error: int,
    network_type: int = NETWORK_TYPE_GSM,
) -> bytes:
    """The encoded deliver_sm of a delivery receipt, sequence_number 0: the fields given, every
    other field at its default (data_coding 0 among them), and the TLVs receipted_message_id
    (``receipted_message_id`` and a NUL), message_state and network_error_code
    (``network_type``, ``network_error``), in that order.

    It checks only what the codec would refuse and this octet layout cannot hold: a
    short_message over 255 octets is a ValueError. The addresses are written as given (the
    caller's come from PDUs the codec decoded)."""
    if len(short_message) > 255:
        raise ValueError("receipt text longer than a short_message")
    rest = _RECEIPT_AFTER_HEADER % (
        source_addr_ton, source_addr_npi, source_addr.encode("latin-1"),
        dest_addr_ton, dest_addr_npi, destination_addr.encode("latin-1"),
        esm_class, len(short_message), short_message,
        _TLV_LENGTH.pack(len(receipted_message_id) + 1), receipted_message_id, message_state,
        _NETWORK_ERROR_CODE.pack(network_type, network_error))
    return _HEADER.pack(HEADER_END + len(rest), _DELIVER_SM, 0, 0) + rest

__all__ = [
    "COMMAND_ID_AT",
    "COMMAND_LENGTH_AT",
    "COMMAND_STATUS_AT",
    "HEADER_END",
    "NETWORK_TYPE_GSM",
    "SEQUENCE_NUMBER_AT",
    "command_id",
    "command_length",
    "command_status",
    "receipt_deliver_sm",
    "sequence_number",
    "stand_in",
    "with_sequence_number",
]
