"""The body layout of every PDU (SMPP 3.4 chapter 4), as data the codec compiles.

Each entry is ``(kind, field_name, max_octets, status)``:

- ``"cstr"``: C-Octet String of at most ``max_octets`` including the NUL; too long -> ``status``.
- ``"u8"``: one octet integer.
- ``"sm"``: ``sm_length`` octet followed by that many octets of ``short_message``.
- ``"dests"``: submit_multi ``number_of_dests`` and its ``dest_address`` list.
- ``"unsuccess"``: submit_multi_resp ``no_unsuccess`` and its ``unsuccess_sme`` list.
- ``"tlvs"``: optional parameters until the end of the PDU.
"""

from __future__ import annotations

from typing import Final

from smsc.pdu import pdus
from smsc.pdu.constants import CommandStatus as S

Field = tuple[str, str, int, int]

_NONE = 0


def _c(name: str, size: int, status: int) -> Field:
    return ("cstr", name, size, status)


def _u8(name: str) -> Field:
    return ("u8", name, 1, _NONE)


_SM: Final = ("sm", "short_message", 255, S.ESME_RINVMSGLEN)
_TLVS: Final = ("tlvs", "tlvs", 0, S.ESME_RINVOPTPARSTREAM)

BIND_REQUEST: Final = (
    _c("system_id", 16, S.ESME_RINVSYSID),
    _c("password", 9, S.ESME_RINVPASWD),
    _c("system_type", 13, S.ESME_RINVSYSTYP),
    _u8("interface_version"),
    _u8("addr_ton"),
    _u8("addr_npi"),
    _c("address_range", 41, S.ESME_RBINDFAIL),
)
BIND_RESPONSE: Final = (_c("system_id", 16, S.ESME_RINVSYSID), _TLVS)
SHORT_MESSAGE: Final = (
    _c("service_type", 6, S.ESME_RINVSERTYP),
    _u8("source_addr_ton"),
    _u8("source_addr_npi"),
    _c("source_addr", 21, S.ESME_RINVSRCADR),
    _u8("dest_addr_ton"),
    _u8("dest_addr_npi"),
    _c("destination_addr", 21, S.ESME_RINVDSTADR),
    _u8("esm_class"),
    _u8("protocol_id"),
    _u8("priority_flag"),
    _c("schedule_delivery_time", 17, S.ESME_RINVSCHED),
    _c("validity_period", 17, S.ESME_RINVEXPIRY),
    _u8("registered_delivery"),
    _u8("replace_if_present_flag"),
    _u8("data_coding"),
    _u8("sm_default_msg_id"),
    _SM,
    _TLVS,
)
MESSAGE_ID: Final = (_c("message_id", 65, S.ESME_RINVMSGID),)

LAYOUTS: Final[dict[type[pdus.Pdu], tuple[Field, ...]]] = {
    pdus.BindTransmitter: BIND_REQUEST,
    pdus.BindReceiver: BIND_REQUEST,
    pdus.BindTransceiver: BIND_REQUEST,
    pdus.BindTransmitterResp: BIND_RESPONSE,
    pdus.BindReceiverResp: BIND_RESPONSE,
    pdus.BindTransceiverResp: BIND_RESPONSE,
    pdus.Outbind: (_c("system_id", 16, S.ESME_RINVSYSID), _c("password", 9, S.ESME_RINVPASWD)),
    pdus.Unbind: (),
    pdus.UnbindResp: (),
    pdus.EnquireLink: (),
    pdus.EnquireLinkResp: (),
    pdus.GenericNack: (),
    pdus.SubmitSm: SHORT_MESSAGE,
    pdus.DeliverSm: SHORT_MESSAGE,
    pdus.SubmitSmResp: MESSAGE_ID,
    pdus.DeliverSmResp: MESSAGE_ID,
    pdus.DataSm: (
        _c("service_type", 6, S.ESME_RINVSERTYP),
        _u8("source_addr_ton"),
        _u8("source_addr_npi"),
        _c("source_addr", 65, S.ESME_RINVSRCADR),
        _u8("dest_addr_ton"),
        _u8("dest_addr_npi"),
        _c("destination_addr", 65, S.ESME_RINVDSTADR),
        _u8("esm_class"),
        _u8("registered_delivery"),
        _u8("data_coding"),
        _TLVS,
    ),
    pdus.DataSmResp: (*MESSAGE_ID, _TLVS),
    pdus.SubmitMulti: (
        _c("service_type", 6, S.ESME_RINVSERTYP),
        _u8("source_addr_ton"),
        _u8("source_addr_npi"),
        _c("source_addr", 21, S.ESME_RINVSRCADR),
        ("dests", "dest_addresses", 255, S.ESME_RINVNUMDESTS),
        *SHORT_MESSAGE[7:],
    ),
    pdus.SubmitMultiResp: (
        *MESSAGE_ID,
        ("unsuccess", "unsuccess_smes", 255, S.ESME_RINVNUMDESTS),
    ),
    pdus.QuerySm: (
        *MESSAGE_ID,
        _u8("source_addr_ton"),
        _u8("source_addr_npi"),
        _c("source_addr", 21, S.ESME_RINVSRCADR),
    ),
    pdus.QuerySmResp: (
        *MESSAGE_ID,
        _c("final_date", 17, S.ESME_RINVCMDLEN),
        _u8("message_state"),
        _u8("error_code"),
    ),
    pdus.CancelSm: (
        _c("service_type", 6, S.ESME_RINVSERTYP),
        *MESSAGE_ID,
        _u8("source_addr_ton"),
        _u8("source_addr_npi"),
        _c("source_addr", 21, S.ESME_RINVSRCADR),
        _u8("dest_addr_ton"),
        _u8("dest_addr_npi"),
        _c("destination_addr", 21, S.ESME_RINVDSTADR),
    ),
    pdus.CancelSmResp: (),
    pdus.ReplaceSm: (
        *MESSAGE_ID,
        _u8("source_addr_ton"),
        _u8("source_addr_npi"),
        _c("source_addr", 21, S.ESME_RINVSRCADR),
        _c("schedule_delivery_time", 17, S.ESME_RINVSCHED),
        _c("validity_period", 17, S.ESME_RINVEXPIRY),
        _u8("registered_delivery"),
        _u8("sm_default_msg_id"),
        _SM,
    ),
    pdus.ReplaceSmResp: (),
    pdus.AlertNotification: (
        _u8("source_addr_ton"),
        _u8("source_addr_npi"),
        _c("source_addr", 65, S.ESME_RINVSRCADR),
        _u8("esme_addr_ton"),
        _u8("esme_addr_npi"),
        _c("esme_addr", 65, S.ESME_RINVDSTADR),
        _TLVS,
    ),
}
