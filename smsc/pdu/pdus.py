"""Every SMPP 3.4 PDU as a frozen, slotted, keyword-only dataclass.

Field names are the specification's, in snake_case. C-Octet strings are ``str`` (octets read as
Latin-1, so nothing is lost), octet strings are ``bytes``, integers are ``int``. ``tlvs`` holds the
optional parameters in wire order, unknown tags included. ``sm_length`` and ``number_of_dests`` are
not fields: the codec derives them from ``short_message`` and ``dest_addresses``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from smsc.pdu.constants import INTERFACE_VERSION, CommandId, CommandStatus
from smsc.pdu.tlv import EMPTY_TLVS, Tlvs

P = TypeVar("P", bound="Pdu")


@dataclass(frozen=True, slots=True, kw_only=True)
class Pdu:
    command_id: ClassVar[CommandId]
    is_response: ClassVar[bool] = False
    # Name of the matching response class, for requests.
    response_name: ClassVar[str] = ""

    sequence_number: int = 0
    command_status: int = 0

    @property
    def command_name(self) -> str:
        return self.command_id.name.lower()

    def replace(self: P, **changes: object) -> P:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def response(self, **fields: object) -> Pdu:
        """The response to this request with the same sequence_number."""
        if not self.response_name:
            raise TypeError(f"{self.command_name} has no response")
        cls = PDU_CLASSES_BY_NAME[self.response_name]
        return cls(sequence_number=self.sequence_number, **fields)  # type: ignore[arg-type]


# --- bind family --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class BindRequest(Pdu):
    system_id: str = ""
    password: str = ""
    system_type: str = ""
    interface_version: int = INTERFACE_VERSION
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class BindTransmitter(BindRequest):
    command_id = CommandId.BIND_TRANSMITTER
    response_name = "BindTransmitterResp"


@dataclass(frozen=True, slots=True, kw_only=True)
class BindReceiver(BindRequest):
    command_id = CommandId.BIND_RECEIVER
    response_name = "BindReceiverResp"


@dataclass(frozen=True, slots=True, kw_only=True)
class BindTransceiver(BindRequest):
    command_id = CommandId.BIND_TRANSCEIVER
    response_name = "BindTransceiverResp"


@dataclass(frozen=True, slots=True, kw_only=True)
class BindResponse(Pdu):
    is_response = True
    system_id: str = ""
    tlvs: Tlvs = EMPTY_TLVS


@dataclass(frozen=True, slots=True, kw_only=True)
class BindTransmitterResp(BindResponse):
    command_id = CommandId.BIND_TRANSMITTER_RESP


@dataclass(frozen=True, slots=True, kw_only=True)
class BindReceiverResp(BindResponse):
    command_id = CommandId.BIND_RECEIVER_RESP


@dataclass(frozen=True, slots=True, kw_only=True)
class BindTransceiverResp(BindResponse):
    command_id = CommandId.BIND_TRANSCEIVER_RESP


@dataclass(frozen=True, slots=True, kw_only=True)
class Outbind(Pdu):
    command_id = CommandId.OUTBIND
    system_id: str = ""
    password: str = ""


# --- session management -------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Unbind(Pdu):
    command_id = CommandId.UNBIND
    response_name = "UnbindResp"


@dataclass(frozen=True, slots=True, kw_only=True)
class UnbindResp(Pdu):
    command_id = CommandId.UNBIND_RESP
    is_response = True


@dataclass(frozen=True, slots=True, kw_only=True)
class EnquireLink(Pdu):
    command_id = CommandId.ENQUIRE_LINK
    response_name = "EnquireLinkResp"


@dataclass(frozen=True, slots=True, kw_only=True)
class EnquireLinkResp(Pdu):
    command_id = CommandId.ENQUIRE_LINK_RESP
    is_response = True


@dataclass(frozen=True, slots=True, kw_only=True)
class GenericNack(Pdu):
    command_id = CommandId.GENERIC_NACK
    is_response = True


# --- messages -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ShortMessagePdu(Pdu):
    """The body shared by submit_sm and deliver_sm."""

    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    tlvs: Tlvs = EMPTY_TLVS


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitSm(ShortMessagePdu):
    command_id = CommandId.SUBMIT_SM
    response_name = "SubmitSmResp"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverSm(ShortMessagePdu):
    command_id = CommandId.DELIVER_SM
    response_name = "DeliverSmResp"


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageIdResponse(Pdu):
    is_response = True
    message_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitSmResp(MessageIdResponse):
    command_id = CommandId.SUBMIT_SM_RESP


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverSmResp(MessageIdResponse):
    command_id = CommandId.DELIVER_SM_RESP


@dataclass(frozen=True, slots=True, kw_only=True)
class DataSm(Pdu):
    command_id = CommandId.DATA_SM
    response_name = "DataSmResp"
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    registered_delivery: int = 0
    data_coding: int = 0
    tlvs: Tlvs = EMPTY_TLVS


@dataclass(frozen=True, slots=True, kw_only=True)
class DataSmResp(MessageIdResponse):
    command_id = CommandId.DATA_SM_RESP
    tlvs: Tlvs = EMPTY_TLVS


@dataclass(frozen=True, slots=True, kw_only=True)
class SmeAddress:
    """A submit_multi destination with dest_flag 1."""

    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DistributionList:
    """A submit_multi destination with dest_flag 2."""

    dl_name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class UnsuccessSme:
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    error_status_code: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitMulti(Pdu):
    command_id = CommandId.SUBMIT_MULTI
    response_name = "SubmitMultiResp"
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addresses: tuple[SmeAddress | DistributionList, ...] = ()
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    tlvs: Tlvs = EMPTY_TLVS


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitMultiResp(MessageIdResponse):
    command_id = CommandId.SUBMIT_MULTI_RESP
    unsuccess_smes: tuple[UnsuccessSme, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class QuerySm(Pdu):
    command_id = CommandId.QUERY_SM
    response_name = "QuerySmResp"
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class QuerySmResp(MessageIdResponse):
    command_id = CommandId.QUERY_SM_RESP
    final_date: str = ""
    message_state: int = 0
    error_code: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelSm(Pdu):
    command_id = CommandId.CANCEL_SM
    response_name = "CancelSmResp"
    service_type: str = ""
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelSmResp(Pdu):
    command_id = CommandId.CANCEL_SM_RESP
    is_response = True


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplaceSm(Pdu):
    command_id = CommandId.REPLACE_SM
    response_name = "ReplaceSmResp"
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplaceSmResp(Pdu):
    command_id = CommandId.REPLACE_SM_RESP
    is_response = True


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertNotification(Pdu):
    command_id = CommandId.ALERT_NOTIFICATION
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    esme_addr_ton: int = 0
    esme_addr_npi: int = 0
    esme_addr: str = ""
    tlvs: Tlvs = EMPTY_TLVS


PDU_CLASSES: tuple[type[Pdu], ...] = (
    BindTransmitter,
    BindTransmitterResp,
    BindReceiver,
    BindReceiverResp,
    BindTransceiver,
    BindTransceiverResp,
    Outbind,
    Unbind,
    UnbindResp,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    SubmitSm,
    SubmitSmResp,
    DeliverSm,
    DeliverSmResp,
    DataSm,
    DataSmResp,
    SubmitMulti,
    SubmitMultiResp,
    QuerySm,
    QuerySmResp,
    CancelSm,
    CancelSmResp,
    ReplaceSm,
    ReplaceSmResp,
    AlertNotification,
)

PDU_CLASSES_BY_ID: dict[int, type[Pdu]] = {cls.command_id: cls for cls in PDU_CLASSES}
PDU_CLASSES_BY_NAME: dict[str, type[Pdu]] = {cls.__name__: cls for cls in PDU_CLASSES}

BIND_REQUESTS = (BindTransmitter, BindReceiver, BindTransceiver)


def response_class_for(command_id: int) -> type[Pdu]:
    """The response class for a request command id; generic_nack where there is none."""
    cls = PDU_CLASSES_BY_ID.get(command_id)
    if cls is None or not cls.response_name:
        return GenericNack
    return PDU_CLASSES_BY_NAME[cls.response_name]


def error_response(command_id: int | None, sequence_number: int, status: int) -> Pdu:
    """The PDU answering a request that failed with ``status``: its ``*_resp``, or generic_nack."""
    cls = GenericNack if command_id is None else response_class_for(command_id)
    if status == CommandStatus.ESME_RINVCMDID:
        cls = GenericNack
    return cls(sequence_number=sequence_number, command_status=status)


__all__ = [  # noqa: PLE0604 - the class names are strings
    *(cls.__name__ for cls in PDU_CLASSES),
    "BIND_REQUESTS",
    "PDU_CLASSES",
    "PDU_CLASSES_BY_ID",
    "BindRequest",
    "BindResponse",
    "DistributionList",
    "MessageIdResponse",
    "Pdu",
    "ShortMessagePdu",
    "SmeAddress",
    "UnsuccessSme",
    "error_response",
    "response_class_for",
]
