"""Hex vectors for every PDU, written by hand from the SMPP 3.4 layouts (chapter 4).

Each vector is the complete frame, one field per line: the header (command_length, command_id,
command_status, sequence_number), then the body in the order of the specification. Every vector
must decode to its PDU and the PDU must encode to exactly these octets.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from smsc.pdu import pdus
from smsc.pdu.codec import decode, encode
from smsc.pdu.constants import CommandStatus, MessageState, Tag
from smsc.pdu.layouts import LAYOUTS
from smsc.pdu.pdus import (
    AlertNotification,
    BindReceiver,
    BindReceiverResp,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    BindTransmitterResp,
    CancelSm,
    CancelSmResp,
    DataSm,
    DataSmResp,
    DeliverSm,
    DeliverSmResp,
    DistributionList,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    Outbind,
    QuerySm,
    QuerySmResp,
    ReplaceSm,
    ReplaceSmResp,
    SmeAddress,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    UnbindResp,
    UnsuccessSme,
)
from smsc.pdu.tlv import NetworkErrorCode, Tlvs, TlvValue


def hexframe(text: str) -> bytes:
    """Octets from hex digits; whitespace is ignored and ``#`` starts a comment."""
    return bytes.fromhex("".join(line.split("#", 1)[0] for line in text.splitlines()))


@dataclass(frozen=True, slots=True, kw_only=True)
class Vector:
    name: str
    pdu: pdus.Pdu
    wire: str


RECEIPT_TLVS = Tlvs(
    [
        (Tag.RECEIPTED_MESSAGE_ID, b"0a1b2c3d\x00"),
        (Tag.MESSAGE_STATE, b"\x02"),
        (Tag.NETWORK_ERROR_CODE, b"\x03\x00\x00"),
    ]
)

VECTORS = [
    Vector(
        name="bind_transmitter",
        pdu=BindTransmitter(
            sequence_number=1,
            system_id="smppclient1",
            password="password",
            system_type="VMA",
            interface_version=0x34,
            addr_ton=1,
            addr_npi=1,
        ),
        wire="""
        0000002d 00000002 00000000 00000001
        73 6d 70 70 63 6c 69 65 6e 74 31 00   # system_id "smppclient1"
        70 61 73 73 77 6f 72 64 00            # password "password"
        56 4d 41 00                           # system_type "VMA"
        34                                    # interface_version 3.4
        01 01                                 # addr_ton, addr_npi
        00                                    # address_range ""
        """,
    ),
    Vector(
        name="bind_transmitter_resp",
        pdu=BindTransmitterResp(sequence_number=1, system_id="SMSC"),
        wire="""
        00000015 80000002 00000000 00000001
        53 4d 53 43 00                        # system_id "SMSC"
        """,
    ),
    Vector(
        name="bind_transmitter_resp error, no body",
        pdu=BindTransmitterResp(sequence_number=1, command_status=CommandStatus.ESME_RINVPASWD),
        wire="00000010 80000002 0000000e 00000001",
    ),
    Vector(
        name="bind_receiver",
        pdu=BindReceiver(sequence_number=2, system_id="rx", address_range="^44"),
        wire="""
        0000001c 00000001 00000000 00000002
        72 78 00                              # system_id "rx"
        00                                    # password ""
        00                                    # system_type ""
        34 00 00                              # interface_version, addr_ton, addr_npi
        5e 34 34 00                           # address_range "^44"
        """,
    ),
    Vector(
        name="bind_receiver_resp error, no body",
        pdu=BindReceiverResp(sequence_number=2, command_status=CommandStatus.ESME_RINVSYSID),
        wire="00000010 80000001 0000000f 00000002",
    ),
    Vector(
        name="bind_transceiver",
        pdu=BindTransceiver(
            sequence_number=3, system_id="trx", password="secret", addr_ton=2, addr_npi=8
        ),
        wire="""
        00000020 00000009 00000000 00000003
        74 72 78 00                           # system_id "trx"
        73 65 63 72 65 74 00                  # password "secret"
        00                                    # system_type ""
        34 02 08                              # interface_version, addr_ton, addr_npi
        00                                    # address_range ""
        """,
    ),
    Vector(
        name="bind_transceiver_resp with sc_interface_version",
        pdu=BindTransceiverResp(
            sequence_number=3,
            system_id="SMSC",
            tlvs=Tlvs([(Tag.SC_INTERFACE_VERSION, b"\x34")]),
        ),
        wire="""
        0000001a 80000009 00000000 00000003
        53 4d 53 43 00                        # system_id "SMSC"
        0210 0001 34                          # sc_interface_version 3.4
        """,
    ),
    Vector(
        name="outbind",
        pdu=Outbind(sequence_number=4, system_id="SMSC", password="pw"),
        wire="""
        00000018 0000000b 00000000 00000004
        53 4d 53 43 00                        # system_id "SMSC"
        70 77 00                              # password "pw"
        """,
    ),
    Vector(
        name="unbind", pdu=Unbind(sequence_number=5), wire="00000010 00000006 00000000 00000005"
    ),
    Vector(
        name="unbind_resp",
        pdu=UnbindResp(sequence_number=5),
        wire="00000010 80000006 00000000 00000005",
    ),
    Vector(
        name="enquire_link",
        pdu=EnquireLink(sequence_number=6),
        wire="00000010 00000015 00000000 00000006",
    ),
    Vector(
        name="enquire_link_resp",
        pdu=EnquireLinkResp(sequence_number=6),
        wire="00000010 80000015 00000000 00000006",
    ),
    Vector(
        name="generic_nack",
        pdu=GenericNack(sequence_number=7, command_status=CommandStatus.ESME_RINVCMDID),
        wire="00000010 80000000 00000003 00000007",
    ),
    Vector(
        name="submit_sm",
        pdu=SubmitSm(
            sequence_number=8,
            source_addr_ton=5,
            source_addr="Acme",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr="447700900123",
            validity_period="000001000000000R",
            registered_delivery=1,
            short_message=b"Hello",
        ),
        wire="""
        00000046 00000004 00000000 00000008
        00                                    # service_type ""
        05 00                                 # source_addr_ton alphanumeric, npi unknown
        41 63 6d 65 00                        # source_addr "Acme"
        01 01                                 # dest_addr_ton international, npi ISDN
        34 34 37 37 30 30 39 30 30 31 32 33 00   # destination_addr
        00 00 00                              # esm_class, protocol_id, priority_flag
        00                                    # schedule_delivery_time ""
        30 30 30 30 30 31 30 30 30 30 30 30 30 30 30 52 00   # validity_period: 1 day
        01 00 00 00                           # registered_delivery, replace_if_present,
                                              # data_coding, sm_default_msg_id
        05 48 65 6c 6c 6f                     # sm_length 5, "Hello"
        """,
    ),
    Vector(
        name="submit_sm with known and unknown TLVs",
        pdu=SubmitSm(
            sequence_number=9,
            service_type="CMT",
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr="447700900001",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr="447700900002",
            priority_flag=1,
            data_coding=8,
            tlvs=Tlvs(
                [
                    (Tag.MESSAGE_PAYLOAD, b"\x00H\x00i"),
                    (Tag.SAR_MSG_REF_NUM, b"\x12\x34"),
                    (Tag.SAR_TOTAL_SEGMENTS, b"\x02"),
                    (Tag.SAR_SEGMENT_SEQNUM, b"\x01"),
                    (0x1401, b"abc"),
                ]
            ),
        ),
        wire="""
        0000005b 00000004 00000000 00000009
        43 4d 54 00                           # service_type "CMT"
        01 01
        34 34 37 37 30 30 39 30 30 30 30 31 00   # source_addr
        01 01
        34 34 37 37 30 30 39 30 30 30 30 32 00   # destination_addr
        00 00 01                              # esm_class, protocol_id, priority_flag 1
        00 00                                 # schedule_delivery_time, validity_period
        00 00 08 00                           # registered_delivery .. data_coding UCS2 ..
        00                                    # sm_length 0, no short_message
        0424 0004 0048 0069                   # message_payload "Hi" in UCS2
        020c 0002 1234                        # sar_msg_ref_num
        020e 0001 02                          # sar_total_segments
        020f 0001 01                          # sar_segment_seqnum
        1401 0003 61 62 63                    # a vendor tag smsc does not know
        """,
    ),
    Vector(
        name="submit_sm_resp",
        pdu=SubmitSmResp(sequence_number=8, message_id="0a1b2c3d"),
        wire="""
        00000019 80000004 00000000 00000008
        30 61 31 62 32 63 33 64 00            # message_id
        """,
    ),
    Vector(
        name="submit_sm_resp error, no body",
        pdu=SubmitSmResp(sequence_number=9, command_status=CommandStatus.ESME_RSUBMITFAIL),
        wire="00000010 80000004 00000045 00000009",
    ),
    Vector(
        name="deliver_sm delivery receipt",
        pdu=DeliverSm(
            sequence_number=0x10,
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr="447700900123",
            dest_addr_ton=5,
            destination_addr="Acme",
            esm_class=0x04,
            short_message=b"id:0a1b2c3d stat:DELIVRD err:000",
            tlvs=RECEIPT_TLVS,
        ),
        wire="""
        0000006a 00000005 00000000 00000010
        00                                    # service_type ""
        01 01
        34 34 37 37 30 30 39 30 30 31 32 33 00   # source_addr
        05 00
        41 63 6d 65 00                        # destination_addr "Acme"
        04 00 00                              # esm_class: SMSC delivery receipt
        00 00                                 # schedule_delivery_time, validity_period
        00 00 00 00
        20                                    # sm_length 32
        69 64 3a 30 61 31 62 32 63 33 64 20   # "id:0a1b2c3d "
        73 74 61 74 3a 44 45 4c 49 56 52 44   # "stat:DELIVRD"
        20 65 72 72 3a 30 30 30               # " err:000"
        001e 0009 30 61 31 62 32 63 33 64 00  # receipted_message_id
        0427 0001 02                          # message_state DELIVERED
        0423 0003 03 0000                     # network_error_code: GSM, 0
        """,
    ),
    Vector(
        name="deliver_sm_resp",
        pdu=DeliverSmResp(sequence_number=0x10),
        wire="""
        00000011 80000005 00000000 00000010
        00                                    # message_id: unused, NULL
        """,
    ),
    Vector(
        name="data_sm",
        pdu=DataSm(
            sequence_number=0x11,
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr="447700900123",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr="447700900124",
            registered_delivery=1,
            data_coding=4,
            tlvs=Tlvs(
                [
                    (Tag.MESSAGE_PAYLOAD, b"\x01\x02\x03"),
                    (Tag.SOURCE_PORT, b"\x0b\x84"),
                    (Tag.DESTINATION_PORT, b"\x23\xf0"),
                ]
            ),
        ),
        wire="""
        00000045 00000103 00000000 00000011
        00                                    # service_type ""
        01 01
        34 34 37 37 30 30 39 30 30 31 32 33 00   # source_addr
        01 01
        34 34 37 37 30 30 39 30 30 31 32 34 00   # destination_addr
        00 01 04                              # esm_class, registered_delivery, data_coding
        0424 0003 010203                      # message_payload
        020a 0002 0b84                        # source_port 2948
        020b 0002 23f0                        # destination_port 9200
        """,
    ),
    Vector(
        name="data_sm_resp with TLVs",
        pdu=DataSmResp(
            sequence_number=0x11,
            command_status=CommandStatus.ESME_RDELIVERYFAILURE,
            message_id="m1",
            tlvs=Tlvs(
                [
                    (Tag.DELIVERY_FAILURE_REASON, b"\x01"),
                    (Tag.ADDITIONAL_STATUS_INFO_TEXT, b"busy\0"),
                ]
            ),
        ),
        wire="""
        00000021 80000103 000000fe 00000011
        6d 31 00                              # message_id "m1"
        0425 0001 01                          # delivery_failure_reason
        001d 0005 62 75 73 79 00              # additional_status_info_text "busy"
        """,
    ),
    Vector(
        name="submit_multi with SME addresses and a distribution list",
        pdu=SubmitMulti(
            sequence_number=0x12,
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr="447700900123",
            dest_addresses=(
                SmeAddress(dest_addr_ton=1, dest_addr_npi=1, destination_addr="447700900001"),
                DistributionList(dl_name="friends"),
                SmeAddress(destination_addr="5550100"),
            ),
            short_message=b"Hi",
        ),
        wire="""
        00000051 00000021 00000000 00000012
        00                                    # service_type ""
        01 01
        34 34 37 37 30 30 39 30 30 31 32 33 00   # source_addr
        03                                    # number_of_dests
        01 01 01                              # dest_flag SME address, ton, npi
        34 34 37 37 30 30 39 30 30 30 30 31 00
        02                                    # dest_flag distribution list
        66 72 69 65 6e 64 73 00               # dl_name "friends"
        01 00 00                              # dest_flag SME address, ton, npi
        35 35 35 30 31 30 30 00
        00 00 00                              # esm_class, protocol_id, priority_flag
        00 00                                 # schedule_delivery_time, validity_period
        00 00 00 00
        02 48 69                              # sm_length 2, "Hi"
        """,
    ),
    Vector(
        name="submit_multi_resp with unsuccess entries",
        pdu=SubmitMultiResp(
            sequence_number=0x12,
            message_id="mm1",
            unsuccess_smes=(
                UnsuccessSme(
                    dest_addr_ton=1,
                    dest_addr_npi=1,
                    destination_addr="447700900001",
                    error_status_code=CommandStatus.ESME_RINVDSTADR,
                ),
                UnsuccessSme(
                    destination_addr="5550100", error_status_code=CommandStatus.ESME_RSUBMITFAIL
                ),
            ),
        ),
        wire="""
        00000036 80000021 00000000 00000012
        6d 6d 31 00                           # message_id "mm1"
        02                                    # no_unsuccess
        01 01                                 # dest_addr_ton, dest_addr_npi
        34 34 37 37 30 30 39 30 30 30 30 31 00
        0000000b                              # error_status_code ESME_RINVDSTADR
        00 00
        35 35 35 30 31 30 30 00
        00000045                              # error_status_code ESME_RSUBMITFAIL
        """,
    ),
    Vector(
        name="submit_multi_resp, all delivered",
        pdu=SubmitMultiResp(sequence_number=0x12, message_id="mm1"),
        wire="""
        00000015 80000021 00000000 00000012
        6d 6d 31 00 00                        # message_id "mm1", no_unsuccess 0
        """,
    ),
    Vector(
        name="query_sm",
        pdu=QuerySm(
            sequence_number=0x13, message_id="0a1b2c3d", source_addr_ton=5, source_addr="Acme"
        ),
        wire="""
        00000020 00000003 00000000 00000013
        30 61 31 62 32 63 33 64 00            # message_id
        05 00 41 63 6d 65 00                  # source_addr_ton, npi, source_addr
        """,
    ),
    Vector(
        name="query_sm_resp",
        pdu=QuerySmResp(
            sequence_number=0x13,
            message_id="0a1b2c3d",
            final_date="260101120000000+",
            message_state=MessageState.DELIVERED,
        ),
        wire="""
        0000002c 80000003 00000000 00000013
        30 61 31 62 32 63 33 64 00            # message_id
        32 36 30 31 30 31 31 32 30 30 30 30 30 30 30 2b 00   # final_date
        02 00                                 # message_state DELIVERED, error_code
        """,
    ),
    Vector(
        name="cancel_sm",
        pdu=CancelSm(
            sequence_number=0x14,
            message_id="0a1b2c3d",
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr="447700900123",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr="447700900124",
        ),
        wire="""
        00000038 00000008 00000000 00000014
        00                                    # service_type ""
        30 61 31 62 32 63 33 64 00            # message_id
        01 01 34 34 37 37 30 30 39 30 30 31 32 33 00
        01 01 34 34 37 37 30 30 39 30 30 31 32 34 00
        """,
    ),
    Vector(
        name="cancel_sm_resp",
        pdu=CancelSmResp(sequence_number=0x14),
        wire="00000010 80000008 00000000 00000014",
    ),
    Vector(
        name="replace_sm",
        pdu=ReplaceSm(
            sequence_number=0x15,
            message_id="0a1b2c3d",
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr="447700900123",
            registered_delivery=1,
            short_message=b"New",
        ),
        wire="""
        00000030 00000007 00000000 00000015
        30 61 31 62 32 63 33 64 00            # message_id
        01 01 34 34 37 37 30 30 39 30 30 31 32 33 00
        00 00                                 # schedule_delivery_time, validity_period
        01 00                                 # registered_delivery, sm_default_msg_id
        03 4e 65 77                           # sm_length 3, "New"
        """,
    ),
    Vector(
        name="replace_sm_resp",
        pdu=ReplaceSmResp(sequence_number=0x15),
        wire="00000010 80000007 00000000 00000015",
    ),
    Vector(
        name="alert_notification",
        pdu=AlertNotification(
            sequence_number=0x16,
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr="447700900123",
            esme_addr_ton=5,
            esme_addr="Acme",
            tlvs=Tlvs([(Tag.MS_AVAILABILITY_STATUS, b"\x00")]),
        ),
        wire="""
        0000002b 00000102 00000000 00000016
        01 01 34 34 37 37 30 30 39 30 30 31 32 33 00   # source_addr
        05 00 41 63 6d 65 00                  # esme_addr
        0422 0001 00                          # ms_availability_status available
        """,
    ),
]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.name)
def test_decode_vector(vector: Vector) -> None:
    assert decode(hexframe(vector.wire)) == vector.pdu


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.name)
def test_encode_vector(vector: Vector) -> None:
    assert encode(vector.pdu).hex(" ", 4) == hexframe(vector.wire).hex(" ", 4)


def test_every_pdu_class_has_a_vector() -> None:
    assert {type(v.pdu) for v in VECTORS} == set(pdus.PDU_CLASSES)


# --- error responses --------------------------------------------------------------------------

RESPONSES_WITH_BODY = [cls for cls in pdus.PDU_CLASSES if cls.is_response and LAYOUTS[cls]]


@pytest.mark.parametrize("cls", RESPONSES_WITH_BODY, ids=lambda c: c.__name__)
def test_error_response_without_body_decodes(cls: type[pdus.Pdu]) -> None:
    # Peers often leave the body out of any response with a non-zero status; accept it.
    frame = hexframe(f"00000010 {cls.command_id:08x} 00000008 0000002a")
    assert decode(frame) == cls(sequence_number=42, command_status=CommandStatus.ESME_RSYSERR)


@pytest.mark.parametrize("cls", RESPONSES_WITH_BODY, ids=lambda c: c.__name__)
def test_error_response_with_body_decodes(cls: type[pdus.Pdu]) -> None:
    # ... and a peer that sends the body anyway is understood too.
    body = {
        BindTransmitterResp: "00",
        BindReceiverResp: "00",
        BindTransceiverResp: "00",
        SubmitSmResp: "00",
        DeliverSmResp: "00",
        DataSmResp: "00",
        SubmitMultiResp: "00 00",
        QuerySmResp: "00 00 00 00",
    }[cls]
    length = 16 + len(hexframe(body))
    frame = hexframe(f"{length:08x} {cls.command_id:08x} 00000008 0000002a {body}")
    assert decode(frame) == cls(sequence_number=42, command_status=CommandStatus.ESME_RSYSERR)


# SMPP 3.4 leaves the body out on error only for bind_*_resp (4.1.2, 4.1.4, 4.1.6) and
# submit_sm_resp (4.4.2); every other response keeps its mandatory fields.
BODY_KEPT_ON_ERROR = {
    DeliverSmResp: "00",
    DataSmResp: "00",
    SubmitMultiResp: "00 00",
    QuerySmResp: "00 00 00 00",
}


@pytest.mark.parametrize("cls", list(BODY_KEPT_ON_ERROR), ids=lambda c: c.__name__)
def test_error_response_keeps_the_body_the_spec_requires(cls: type[pdus.Pdu]) -> None:
    body = BODY_KEPT_ON_ERROR[cls]
    length = 16 + len(hexframe(body))
    expected = hexframe(f"{length:08x} {cls.command_id:08x} 00000008 0000002a {body}")
    pdu = cls(sequence_number=42, command_status=CommandStatus.ESME_RSYSERR)
    assert encode(pdu).hex(" ", 4) == expected.hex(" ", 4)


# --- TLV access -------------------------------------------------------------------------------


def test_receipt_tlvs_typed_access() -> None:
    pdu = decode(encode(next(v.pdu for v in VECTORS if v.name.startswith("deliver_sm "))))
    assert isinstance(pdu, DeliverSm)
    tlvs = pdu.tlvs
    assert tlvs.get(Tag.RECEIPTED_MESSAGE_ID) == "0a1b2c3d"
    assert tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) == "0a1b2c3d"
    assert tlvs.get_int(Tag.MESSAGE_STATE) == MessageState.DELIVERED
    assert tlvs.get(Tag.NETWORK_ERROR_CODE) == NetworkErrorCode(network_type=3, error_code=0)
    assert tlvs.raw(Tag.NETWORK_ERROR_CODE) == b"\x03\x00\x00"
    assert tlvs.get(Tag.SAR_MSG_REF_NUM) is None
    assert Tag.MESSAGE_STATE in tlvs and Tag.SAR_MSG_REF_NUM not in tlvs
    typed: dict[int, TlvValue] = {
        Tag.RECEIPTED_MESSAGE_ID: "0a1b2c3d",
        Tag.MESSAGE_STATE: MessageState.DELIVERED,
        Tag.NETWORK_ERROR_CODE: NetworkErrorCode(3, 0),
    }
    assert Tlvs.of(typed) == tlvs


def test_typed_tlv_values_encode_as_the_spec_says() -> None:
    tlvs = Tlvs.of(
        [
            (Tag.SAR_MSG_REF_NUM, 0x1234),  # Integer 2
            (Tag.QOS_TIME_TO_LIVE, 3600),  # Integer 4
            (Tag.ALERT_ON_MESSAGE_DELIVERY, None),  # no value
            (Tag.ADDITIONAL_STATUS_INFO_TEXT, "ok"),  # C-Octet String
            (0x1500, b"\xff"),  # unknown tags take raw octets
        ]
    )
    assert tlvs.encoded() == hexframe(
        "020c 0002 1234  0017 0004 00000e10  130c 0000  001d 0003 6f6b00  1500 0001 ff"
    )
    assert tlvs.get(0x1500) == b"\xff"
    assert tlvs.get(Tag.ALERT_ON_MESSAGE_DELIVERY, default=b"absent") is None


def test_unknown_and_repeated_tlvs_keep_their_order() -> None:
    frame = hexframe(
        """
        0000002b 00000103 00000000 00000001
        00 00 00 00 00 00 00 00 00 00         # data_sm with every field empty or 0
        3fff 0001 aa                          # unknown tag
        020c 0002 0001                        # sar_msg_ref_num
        3fff 0002 bbcc                        # the unknown tag again
        """
    )
    pdu = decode(frame)
    assert isinstance(pdu, DataSm)
    assert pdu.tlvs.items == (
        (0x3FFF, b"\xaa"),
        (Tag.SAR_MSG_REF_NUM, b"\x00\x01"),
        (0x3FFF, b"\xbb\xcc"),
    )
    assert pdu.tlvs.raw(0x3FFF) == b"\xaa"
    assert encode(pdu) == frame


# --- field sizes of SMPP 3.4 chapter 4, written out independently of layouts.py -------------

_ADDR = {"source_addr": 21, "destination_addr": 21}
_SM = {"service_type": 6, **_ADDR, "schedule_delivery_time": 17, "validity_period": 17}
SPEC_C_OCTET_MAX = {
    BindTransmitter: {"system_id": 16, "password": 9, "system_type": 13, "address_range": 41},
    BindTransmitterResp: {"system_id": 16},
    Outbind: {"system_id": 16, "password": 9},
    SubmitSm: _SM,
    DeliverSm: _SM,
    SubmitSmResp: {"message_id": 65},
    DeliverSmResp: {"message_id": 65},
    DataSm: {"service_type": 6, "source_addr": 65, "destination_addr": 65},
    DataSmResp: {"message_id": 65},
    SubmitMulti: {
        "service_type": 6,
        "source_addr": 21,
        "schedule_delivery_time": 17,
        "validity_period": 17,
    },
    SubmitMultiResp: {"message_id": 65},
    QuerySm: {"message_id": 65, "source_addr": 21},
    QuerySmResp: {"message_id": 65, "final_date": 17},
    CancelSm: {"service_type": 6, "message_id": 65, **_ADDR},
    ReplaceSm: {
        "message_id": 65,
        "source_addr": 21,
        "schedule_delivery_time": 17,
        "validity_period": 17,
    },
    AlertNotification: {"source_addr": 65, "esme_addr": 65},
}
SPEC_C_OCTET_MAX[BindReceiver] = SPEC_C_OCTET_MAX[BindTransceiver] = SPEC_C_OCTET_MAX[
    BindTransmitter
]
SPEC_C_OCTET_MAX[BindReceiverResp] = SPEC_C_OCTET_MAX[BindTransceiverResp] = SPEC_C_OCTET_MAX[
    BindTransmitterResp
]


@pytest.mark.parametrize("cls", pdus.PDU_CLASSES, ids=lambda c: c.__name__)
def test_layout_sizes_match_the_spec(cls: type[pdus.Pdu]) -> None:
    in_layout = {name: size for kind, name, size, _ in LAYOUTS[cls] if kind == "cstr"}
    assert in_layout == SPEC_C_OCTET_MAX.get(cls, {})
