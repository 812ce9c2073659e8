"""Bad input over real sockets is answered or closed, and other customers never notice.

Each test binds a bystander first (another account, another connection), abuses the server on a
raw connection (bytes written as given, answers read with our FrameBuffer and decode), and then
submits on the bystander: the submit is accepted and its receipt arrives.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator

import pytest

from smsc.pdu import CommandId, CommandStatus, Tag, encode, pdus
from tests.integration.conftest import (
    IO_TIMEOUT,
    CodecEsme,
    Login,
    RawConnection,
    SmscServer,
    accepted,
    bound_esme,
    check_receipt,
    smpplib_client,
    smpplib_send_for_receipt,
    submit,
)

S = CommandStatus
MAX_PDU_LENGTH = 70_000  # server.max_pdu_length's default


def header(length: int, command_id: int, sequence: int, status: int = 0) -> bytes:
    return struct.pack(">IIII", length, command_id, status, sequence)


@pytest.fixture
def bystander(smsc: SmscServer) -> Iterator[CodecEsme]:
    """A customer bound before the abuse starts."""
    with bound_esme(smsc.port, "trx", smsc.add_account()) as esme:
        yield esme


@pytest.fixture
def raw(smsc: SmscServer) -> Iterator[RawConnection]:
    connection = RawConnection(smsc.port)
    yield connection
    connection.close()


def still_served(esme: CodecEsme) -> None:
    """The bystander submits, is accepted, and gets its receipt."""
    message_id = accepted(esme.request(submit(text=b"still here")))
    receipts = esme.wait_receipts(len(esme.receipts()) + 1)
    check_receipt(receipts[-1], message_id)


def bind_raw(raw: RawConnection, login: Login, sequence: int) -> None:
    raw.send(
        encode(
            pdus.BindTransceiver(
                sequence_number=sequence, system_id=login.system_id, password=login.password
            )
        )
    )
    answer = raw.read()
    assert type(answer) is pdus.BindTransceiverResp and answer.command_status == 0


# --- the stream cannot be read: generic_nack, then closed --------------------------------------


@pytest.mark.parametrize("length", [0, 8, 15], ids=lambda n: f"length-{n}")
def test_command_length_below_16_gets_generic_nack_and_close(
    raw: RawConnection, bystander: CodecEsme, length: int
) -> None:
    raw.send(header(length, CommandId.SUBMIT_SM, 77))
    assert raw.read() == pdus.GenericNack(sequence_number=77, command_status=S.ESME_RINVCMDLEN)
    assert raw.read() is None  # closed
    still_served(bystander)


@pytest.mark.parametrize(
    "length", [MAX_PDU_LENGTH + 1, 1 << 24, 0xFFFFFFFF], ids=lambda n: f"length-{n}"
)
def test_command_length_above_the_maximum_gets_generic_nack_and_close_without_the_body(
    raw: RawConnection, bystander: CodecEsme, length: int
) -> None:
    # Only the header is sent: the server refuses before waiting for (or buffering) a body.
    raw.send(header(length, CommandId.SUBMIT_SM, 78))
    assert raw.read() == pdus.GenericNack(sequence_number=78, command_status=S.ESME_RINVCMDLEN)
    assert raw.read() is None
    still_served(bystander)


def test_command_length_above_the_maximum_after_bind(
    smsc: SmscServer, raw: RawConnection, bystander: CodecEsme
) -> None:
    bind_raw(raw, smsc.add_account(), 1)
    raw.send(header(MAX_PDU_LENGTH + 1, CommandId.SUBMIT_SM, 2) + b"\x00" * 4096)
    assert raw.read() == pdus.GenericNack(sequence_number=2, command_status=S.ESME_RINVCMDLEN)
    assert raw.closed_within(IO_TIMEOUT)
    still_served(bystander)


def test_random_bytes_are_refused_and_closed(raw: RawConnection, bystander: CodecEsme) -> None:
    rng = random.Random(20240901)
    noise = bytes(rng.randrange(256) for _ in range(4096))
    assert struct.unpack(">I", noise[:4])[0] > MAX_PDU_LENGTH  # the seed gives a bad length
    raw.send(noise)
    first = raw.read()
    assert type(first) is pdus.GenericNack and first.command_status == S.ESME_RINVCMDLEN
    assert raw.closed_within(IO_TIMEOUT)
    still_served(bystander)


def test_a_client_that_vanishes_in_the_middle_of_a_pdu(
    smsc: SmscServer, bystander: CodecEsme
) -> None:
    half = RawConnection(smsc.port)
    whole = encode(pdus.EnquireLink(sequence_number=9))
    half.send(whole[:10])
    half.close()
    still_served(bystander)


# --- a PDU the server can read but not accept: answered, the connection stays ----------------


@pytest.mark.parametrize("bound", [False, True], ids=["open", "bound"])
def test_unknown_command_id_gets_generic_nack_and_the_connection_stays(
    smsc: SmscServer, raw: RawConnection, bystander: CodecEsme, bound: bool
) -> None:
    login = smsc.add_account()
    if bound:
        bind_raw(raw, login, 1)
    for sequence, command_id in ((5, 0x00000999), (6, 0x0000000A), (7, 0x7FFFFFFF)):
        raw.send(header(16, command_id, sequence))
        assert raw.read() == pdus.GenericNack(
            sequence_number=sequence, command_status=S.ESME_RINVCMDID
        )
    # An unknown command with a body: the body is skipped, the next PDU is read normally.
    raw.send(header(16 + 5, 0x00000999, 8) + b"abcde")
    assert raw.read() == pdus.GenericNack(sequence_number=8, command_status=S.ESME_RINVCMDID)
    raw.send(encode(pdus.EnquireLink(sequence_number=9)))
    assert raw.read() == pdus.EnquireLinkResp(sequence_number=9)
    if not bound:
        bind_raw(raw, login, 10)
    raw.send(encode(submit(text=b"after the unknown").replace(sequence_number=11)))
    answer = raw.read()
    assert type(answer) is pdus.SubmitSmResp and answer.command_status == 0
    still_served(bystander)


def test_submit_before_bind_is_refused_and_the_connection_stays(
    smsc: SmscServer, raw: RawConnection, bystander: CodecEsme
) -> None:
    raw.send(encode(submit(text=b"too early").replace(sequence_number=3)))
    answer = raw.read()
    assert type(answer) is pdus.SubmitSmResp
    assert answer.sequence_number == 3 and answer.command_status == S.ESME_RINVBNDSTS
    raw.send(encode(pdus.QuerySm(sequence_number=4, message_id="1")))
    answer = raw.read()
    assert answer is not None and answer.command_status == S.ESME_RINVBNDSTS
    bind_raw(raw, smsc.add_account(), 5)
    raw.send(encode(submit(text=b"now bound").replace(sequence_number=6)))
    answer = raw.read()
    assert type(answer) is pdus.SubmitSmResp and answer.command_status == 0
    still_served(bystander)


def test_submit_on_a_receiver_bind_is_refused(
    smsc: SmscServer, raw: RawConnection, bystander: CodecEsme
) -> None:
    login = smsc.add_account()
    raw.send(
        encode(
            pdus.BindReceiver(sequence_number=1, system_id=login.system_id, password=login.password)
        )
    )
    answer = raw.read()
    assert type(answer) is pdus.BindReceiverResp and answer.command_status == 0
    raw.send(encode(submit(text=b"wrong bind").replace(sequence_number=2)))
    answer = raw.read()
    assert type(answer) is pdus.SubmitSmResp
    assert answer.sequence_number == 2 and answer.command_status == S.ESME_RINVBNDSTS
    raw.send(encode(pdus.EnquireLink(sequence_number=3)))
    assert raw.read() == pdus.EnquireLinkResp(sequence_number=3)
    still_served(bystander)


def test_truncated_body_is_answered_with_its_status_and_the_connection_stays(
    smsc: SmscServer, raw: RawConnection, bystander: CodecEsme
) -> None:
    bind_raw(raw, smsc.add_account(), 1)
    raw.send(header(17, CommandId.SUBMIT_SM, 2) + b"x")  # the body ends inside a field
    answer = raw.read()
    assert type(answer) is pdus.SubmitSmResp
    assert answer.sequence_number == 2 and answer.command_status == S.ESME_RINVCMDLEN
    # A bad TLV: a length running past the end of the PDU.
    body = encode(submit(text=b"x").replace(sequence_number=3))
    bad = body + struct.pack(">HH", Tag.MESSAGE_PAYLOAD, 100) + b"short"
    raw.send(struct.pack(">I", len(bad)) + bad[4:])
    answer = raw.read()
    assert type(answer) is pdus.SubmitSmResp and answer.sequence_number == 3
    assert answer.command_status == S.ESME_RINVOPTPARSTREAM
    raw.send(encode(pdus.EnquireLink(sequence_number=4)))
    assert raw.read() == pdus.EnquireLinkResp(sequence_number=4)
    still_served(bystander)


def test_abuse_while_an_smpplib_customer_is_bound(smsc: SmscServer, raw: RawConnection) -> None:
    login = smsc.add_account()
    with smpplib_client(smsc.port) as client:
        client.bind_transceiver(system_id=login.system_id, password=login.password)
        raw.send(header(8, CommandId.SUBMIT_SM, 1))
        assert raw.read() == pdus.GenericNack(sequence_number=1, command_status=S.ESME_RINVCMDLEN)
        smpplib_send_for_receipt(client, "380671234567", b"after the abuse")
    assert client.sent[0].status == 0
    assert client.received[0].receipted_message_id == client.sent[0].message_id


def test_two_message_payloads_in_one_submit_are_refused(
    smsc: SmscServer, raw: RawConnection, bystander: CodecEsme
) -> None:
    """The second message_payload (34,900 octets) is not silently dropped: the submit is
    refused with ESME_RINVOPTPARSTREAM, nothing is billed, and the session goes on."""
    login = smsc.add_account()
    bind_raw(raw, login, 1)
    before = smsc.balance(login.system_id)
    base = encode(pdus.SubmitSm(sequence_number=7, source_addr_ton=5, source_addr="Tester",
                                dest_addr_ton=1, dest_addr_npi=1,
                                destination_addr="380671234567", registered_delivery=1))
    payloads = b"".join(struct.pack(">HH", Tag.MESSAGE_PAYLOAD, len(v)) + v
                        for v in (b"a" * 100, b"b" * 34_900))
    frame = struct.pack(">I", len(base) + len(payloads)) + base[4:] + payloads
    raw.send(frame)
    answer = raw.read()
    assert type(answer) is pdus.SubmitSmResp
    assert (answer.sequence_number, answer.command_status) == (7, S.ESME_RINVOPTPARSTREAM)
    raw.send(encode(pdus.EnquireLink(sequence_number=8)))
    assert raw.read() == pdus.EnquireLinkResp(sequence_number=8)
    assert smsc.balance(login.system_id) == before
    still_served(bystander)
