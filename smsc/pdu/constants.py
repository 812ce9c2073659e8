"""SMPP 3.4 numeric constants: command ids, statuses, TLV tags, message states and flag bits."""

from __future__ import annotations

from enum import IntEnum, IntFlag

HEADER_LENGTH = 16
RESPONSE_BIT = 0x80000000
INTERFACE_VERSION = 0x34


class CommandId(IntEnum):
    GENERIC_NACK = 0x80000000
    BIND_RECEIVER = 0x00000001
    BIND_RECEIVER_RESP = 0x80000001
    BIND_TRANSMITTER = 0x00000002
    BIND_TRANSMITTER_RESP = 0x80000002
    QUERY_SM = 0x00000003
    QUERY_SM_RESP = 0x80000003
    SUBMIT_SM = 0x00000004
    SUBMIT_SM_RESP = 0x80000004
    DELIVER_SM = 0x00000005
    DELIVER_SM_RESP = 0x80000005
    UNBIND = 0x00000006
    UNBIND_RESP = 0x80000006
    REPLACE_SM = 0x00000007
    REPLACE_SM_RESP = 0x80000007
    CANCEL_SM = 0x00000008
    CANCEL_SM_RESP = 0x80000008
    BIND_TRANSCEIVER = 0x00000009
    BIND_TRANSCEIVER_RESP = 0x80000009
    OUTBIND = 0x0000000B
    ENQUIRE_LINK = 0x00000015
    ENQUIRE_LINK_RESP = 0x80000015
    SUBMIT_MULTI = 0x00000021
    SUBMIT_MULTI_RESP = 0x80000021
    ALERT_NOTIFICATION = 0x00000102
    DATA_SM = 0x00000103
    DATA_SM_RESP = 0x80000103

    @property
    def is_response(self) -> bool:
        return bool(self & RESPONSE_BIT)


class CommandStatus(IntEnum):
    """command_status values of SMPP 3.4 (section 5.1.3) plus the vendor codes smsc uses."""

    ESME_ROK = 0x00
    ESME_RINVMSGLEN = 0x01
    ESME_RINVCMDLEN = 0x02
    ESME_RINVCMDID = 0x03
    ESME_RINVBNDSTS = 0x04
    ESME_RALYBND = 0x05
    ESME_RINVPRTFLG = 0x06
    ESME_RINVREGDLVFLG = 0x07
    ESME_RSYSERR = 0x08
    ESME_RINVSRCADR = 0x0A
    ESME_RINVDSTADR = 0x0B
    ESME_RINVMSGID = 0x0C
    ESME_RBINDFAIL = 0x0D
    ESME_RINVPASWD = 0x0E
    ESME_RINVSYSID = 0x0F
    ESME_RCANCELFAIL = 0x11
    ESME_RREPLACEFAIL = 0x13
    ESME_RMSGQFUL = 0x14
    ESME_RINVSERTYP = 0x15
    ESME_RINVNUMDESTS = 0x33
    ESME_RINVDLNAME = 0x34
    ESME_RINVDESTFLAG = 0x40
    ESME_RINVSUBREP = 0x42
    ESME_RINVESMCLASS = 0x43
    ESME_RCNTSUBDL = 0x44
    ESME_RSUBMITFAIL = 0x45
    ESME_RINVSRCTON = 0x48
    ESME_RINVSRCNPI = 0x49
    ESME_RINVDSTTON = 0x50
    ESME_RINVDSTNPI = 0x51
    ESME_RINVSYSTYP = 0x53
    ESME_RINVREPFLAG = 0x54
    ESME_RINVNUMMSGS = 0x55
    ESME_RTHROTTLED = 0x58
    ESME_RINVSCHED = 0x61
    ESME_RINVEXPIRY = 0x62
    ESME_RINVDFTMSGID = 0x63
    ESME_RX_T_APPN = 0x64
    ESME_RX_P_APPN = 0x65
    ESME_RX_R_APPN = 0x66
    ESME_RQUERYFAIL = 0x67
    ESME_RINVOPTPARSTREAM = 0xC0
    ESME_ROPTPARNOTALLWD = 0xC1
    ESME_RINVPARLEN = 0xC2
    ESME_RMISSINGOPTPARAM = 0xC3
    ESME_RINVOPTPARAMVAL = 0xC4
    ESME_RDELIVERYFAILURE = 0xFE
    ESME_RUNKNOWNERR = 0xFF
    # Vendor-specific codes (0x400-0x4FF); each is documented in the README.
    SMSC_RNOCREDIT = 0x400
    SMSC_RSENDERNOTREG = 0x401
    SMSC_RBLACKLISTED = 0x402
    # 0x403 is not used: a bind to a locked account gets ESME_RBINDFAIL, which tells a guesser
    # nothing and every SMPP client understands.
    SMSC_RNOROUTE = 0x404
    SMSC_RTOOMANYPARTS = 0x405
    SMSC_RINVPARTS = 0x406
    SMSC_RCOVERAGE = 0x407
    SMSC_RACCOUNTDISABLED = 0x408
    SMSC_ROPTEDOUT = 0x409  # the number opted out of the account (HTTP sends; never SMPP's)

    @classmethod
    def name_of(cls, value: int) -> str:
        try:
            return cls(value).name
        except ValueError:
            return f"0x{value:08X}"


# What an account set to standard statuses only (``smsc account set --standard-statuses``) is
# answered instead of each vendor-specific code: some clients fail on codes SMPP 3.4 does not
# define (aiosmpplib raises on 0x405 and drops its queue). Documented in the README.
STANDARD_FOR_VENDOR: dict[int, int] = {
    CommandStatus.SMSC_RNOCREDIT: CommandStatus.ESME_RSUBMITFAIL,
    CommandStatus.SMSC_RSENDERNOTREG: CommandStatus.ESME_RINVSRCADR,
    CommandStatus.SMSC_RBLACKLISTED: CommandStatus.ESME_RINVDSTADR,
    CommandStatus.SMSC_RNOROUTE: CommandStatus.ESME_RINVDSTADR,
    CommandStatus.SMSC_RTOOMANYPARTS: CommandStatus.ESME_RINVMSGLEN,
    CommandStatus.SMSC_RINVPARTS: CommandStatus.ESME_RSUBMITFAIL,
    CommandStatus.SMSC_RCOVERAGE: CommandStatus.ESME_RINVDSTADR,
    CommandStatus.SMSC_RACCOUNTDISABLED: CommandStatus.ESME_RBINDFAIL,
    CommandStatus.SMSC_ROPTEDOUT: CommandStatus.ESME_RINVDSTADR,
}


def standard_status(status: int) -> int:
    """``status`` as SMPP 3.4 knows it: a vendor-specific code (0x400-0x4FF) becomes the
    standard status that says the most about it (see STANDARD_FOR_VENDOR), any other code is
    kept."""
    if 0x400 <= status <= 0x4FF:
        return STANDARD_FOR_VENDOR.get(status, CommandStatus.ESME_RUNKNOWNERR)
    return status


class Tag(IntEnum):
    """Optional parameter (TLV) tags of SMPP 3.4 section 5.3.2."""

    DEST_ADDR_SUBUNIT = 0x0005
    DEST_NETWORK_TYPE = 0x0006
    DEST_BEARER_TYPE = 0x0007
    DEST_TELEMATICS_ID = 0x0008
    SOURCE_ADDR_SUBUNIT = 0x000D
    SOURCE_NETWORK_TYPE = 0x000E
    SOURCE_BEARER_TYPE = 0x000F
    SOURCE_TELEMATICS_ID = 0x0010
    QOS_TIME_TO_LIVE = 0x0017
    PAYLOAD_TYPE = 0x0019
    ADDITIONAL_STATUS_INFO_TEXT = 0x001D
    RECEIPTED_MESSAGE_ID = 0x001E
    MS_MSG_WAIT_FACILITIES = 0x0030
    PRIVACY_INDICATOR = 0x0201
    SOURCE_SUBADDRESS = 0x0202
    DEST_SUBADDRESS = 0x0203
    USER_MESSAGE_REFERENCE = 0x0204
    USER_RESPONSE_CODE = 0x0205
    SOURCE_PORT = 0x020A
    DESTINATION_PORT = 0x020B
    SAR_MSG_REF_NUM = 0x020C
    LANGUAGE_INDICATOR = 0x020D
    SAR_TOTAL_SEGMENTS = 0x020E
    SAR_SEGMENT_SEQNUM = 0x020F
    SC_INTERFACE_VERSION = 0x0210
    CALLBACK_NUM_PRES_IND = 0x0302
    CALLBACK_NUM_ATAG = 0x0303
    NUMBER_OF_MESSAGES = 0x0304
    CALLBACK_NUM = 0x0381
    DPF_RESULT = 0x0420
    SET_DPF = 0x0421
    MS_AVAILABILITY_STATUS = 0x0422
    NETWORK_ERROR_CODE = 0x0423
    MESSAGE_PAYLOAD = 0x0424
    DELIVERY_FAILURE_REASON = 0x0425
    MORE_MESSAGES_TO_SEND = 0x0426
    MESSAGE_STATE = 0x0427
    USSD_SERVICE_OP = 0x0501
    DISPLAY_TIME = 0x1201
    SMS_SIGNAL = 0x1203
    MS_VALIDITY = 0x1204
    ALERT_ON_MESSAGE_DELIVERY = 0x130C
    ITS_REPLY_TYPE = 0x1380
    ITS_SESSION_INFO = 0x1383


class MessageState(IntEnum):
    ENROUTE = 1
    DELIVERED = 2
    EXPIRED = 3
    DELETED = 4
    UNDELIVERABLE = 5
    ACCEPTED = 6
    UNKNOWN = 7
    REJECTED = 8

    @property
    def is_final(self) -> bool:
        """Every state but ENROUTE is final (ACCEPTED: read by customer care for the
        subscriber; UNKNOWN: the SMSC lost track of it)."""
        return self is not MessageState.ENROUTE


class Ton(IntEnum):
    UNKNOWN = 0
    INTERNATIONAL = 1
    NATIONAL = 2
    NETWORK_SPECIFIC = 3
    SUBSCRIBER_NUMBER = 4
    ALPHANUMERIC = 5
    ABBREVIATED = 6


class Npi(IntEnum):
    UNKNOWN = 0
    ISDN = 1
    DATA = 3
    TELEX = 4
    LAND_MOBILE = 6
    NATIONAL = 8
    PRIVATE = 9
    ERMES = 10
    INTERNET = 14
    WAP_CLIENT_ID = 18


class DataCoding(IntEnum):
    DEFAULT = 0x00  # SMSC default alphabet: GSM 03.38 here
    IA5 = 0x01
    BINARY_8BIT_2 = 0x02
    LATIN1 = 0x03
    BINARY = 0x04
    JIS = 0x05
    CYRILLIC = 0x06
    HEBREW = 0x07
    UCS2 = 0x08
    PICTOGRAM = 0x09
    ISO2022_JP = 0x0A
    EXTENDED_KANJI = 0x0D
    KS_C_5601 = 0x0E


class EsmClass(IntFlag):
    """Bits of esm_class (SMPP 3.4 section 5.2.12)."""

    MODE_DEFAULT = 0x00
    MODE_DATAGRAM = 0x01
    MODE_FORWARD = 0x02
    MODE_STORE_AND_FORWARD = 0x03
    TYPE_DELIVERY_RECEIPT = 0x04
    TYPE_DELIVERY_ACK = 0x08
    TYPE_USER_ACK = 0x10
    TYPE_CONVERSATION_ABORT = 0x18
    TYPE_INTERMEDIATE_NOTIFICATION = 0x20
    UDHI = 0x40
    REPLY_PATH = 0x80


ESM_MODE_MASK = 0x03
ESM_TYPE_MASK = 0x3C


class RegisteredDelivery(IntEnum):
    """Bits 0-1 of registered_delivery: which SMSC delivery receipt is asked for."""

    NONE = 0
    FINAL = 1
    FAILURE = 2


RECEIPT_MASK = 0x03
INTERMEDIATE_NOTIFICATION_BIT = 0x10


class DestFlag(IntEnum):
    SME_ADDRESS = 1
    DISTRIBUTION_LIST = 2
