"""Sans-I/O SMPP 3.4: PDUs, codec, framing, session state machine, text and time formats."""

from smsc.pdu import pdus as _pdus
from smsc.pdu.codec import decode, encode
from smsc.pdu.constants import (
    CommandId,
    CommandStatus,
    DataCoding,
    EsmClass,
    MessageState,
    Npi,
    Tag,
    Ton,
)
from smsc.pdu.errors import FramingError, PduError
from smsc.pdu.framing import FrameBuffer
from smsc.pdu.pdus import *  # noqa: F403
from smsc.pdu.tlv import EMPTY_TLVS, NetworkErrorCode, Tlvs

__all__ = [  # noqa: PLE0604
    *_pdus.__all__,
    "EMPTY_TLVS",
    "CommandId",
    "CommandStatus",
    "DataCoding",
    "EsmClass",
    "FrameBuffer",
    "FramingError",
    "MessageState",
    "NetworkErrorCode",
    "Npi",
    "PduError",
    "Tag",
    "Tlvs",
    "Ton",
    "decode",
    "encode",
]
