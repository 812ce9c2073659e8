"""Messages over real sockets: submit, the receipt, long messages, UCS2, message_payload,
data_sm, submit_multi and query_sm, with smpplib, aiosmpplib and our own codec.

The module's server routes 380... and 61... to one operator that delivers every message 50 ms
after acceptance, at 0.03 EUR per part. Each test has an account of its own, so its receipts and
its balance are its own.
"""

from __future__ import annotations

import asyncio
import re
import struct
from typing import Any

import pytest
from aiosmpplib import NPI, TON, BindMode, DeliverSm, PhoneNumber, SubmitSm, SubmitSmResp

from smsc.pdu import CommandStatus, Tag, Tlvs, pdus
from tests.integration.conftest import (
    IO_TIMEOUT,
    PRICE_CENTS,
    UA_NUMBERS,
    Login,
    Recorder,
    SmscServer,
    accepted,
    aio_bound,
    aio_esme,
    aio_stop,
    bound_esme,
    check_receipt,
    receipt_field,
    receipt_id,
    smpplib_client,
    smpplib_send_for_receipt,
    submit,
)

S = CommandStatus
# Characters a receipt snippet keeps (docs/times-and-receipts.md); every other one becomes "?".
SNIPPET_SAFE = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 !\"#%&'()*+,-./:;<=>?"
)


def expected_snippet(text: str) -> bytes:
    return "".join(c if c in SNIPPET_SAFE else "?" for c in text[:20]).encode("ascii")


def tlv(tag: int, value: bytes) -> bytes:
    return struct.pack(">HH", tag, len(value)) + value


def udh_parts(text: str, reference: int, per_part: int = 153) -> list[bytes]:
    """``text`` (ASCII letters, digits and spaces: the same octets in GSM 03.38) cut into
    concatenated parts, each with the 8-bit reference UDH ``05 00 03 ref total index``."""
    chunks = [text[i : i + per_part] for i in range(0, len(text), per_part)]
    return [
        bytes((5, 0, 3, reference, len(chunks), i)) + chunk.encode("ascii")
        for i, chunk in enumerate(chunks, start=1)
    ]


LONG_TEXT = " ".join(f"word{n:03d}" for n in range(51))[:459]  # exactly 3 x 153 characters


# --- submit and its receipt, three clients ---------------------------------------------------


@pytest.mark.parametrize("smsc", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
def test_smpplib_submit_gets_a_receipt_with_the_same_id(smsc: SmscServer, login: Login) -> None:
    with smpplib_client(smsc.port) as client:
        client.bind_transceiver(system_id=login.system_id, password=login.password)
        smpplib_send_for_receipt(client, UA_NUMBERS[0], b"hello from smpplib")
        response, receipt = client.sent[0], client.received[0]
        assert response.status == 0
        message_id = response.message_id
        assert message_id
        assert receipt.esm_class == 0x04
        assert receipt_id(receipt.short_message) == message_id
        assert receipt.receipted_message_id == message_id
        assert receipt.message_state == 2
        assert receipt.network_error_code is not None and len(receipt.network_error_code) == 3
        assert receipt_field(receipt.short_message, b"stat") == b"DELIVRD"
        assert receipt_field(receipt.short_message, b"text") == b"hello from smpplib"
        assert receipt.source_addr == UA_NUMBERS[0].encode()
        assert receipt.destination_addr == b"Tester"


def test_aiosmpplib_submit_gets_a_receipt_with_the_same_id(smsc: SmscServer, login: Login) -> None:
    async def scenario() -> tuple[Recorder, bytes]:
        recorder = Recorder()
        esme = aio_esme(smsc.port, login, BindMode.TRANSCEIVER, recorder)
        task = await aio_bound(esme)
        try:
            await esme.broker.enqueue(
                SubmitSm(
                    short_message="hello from aiosmpplib",
                    source=PhoneNumber("Tester", TON.ALPHANUMERIC),
                    destination=PhoneNumber(UA_NUMBERS[1], TON.INTERNATIONAL, NPI.ISDN),
                    registered_delivery=1,
                )
            )
            await recorder.wait_until(
                lambda: recorder.of(SubmitSmResp) and recorder.of(DeliverSm),
                what="submit_sm_resp and receipt",
            )
        finally:
            await aio_stop(esme, task)
        return recorder, recorder.raw_of(DeliverSm)[0]

    recorder, raw = asyncio.run(scenario())
    response = recorder.of(SubmitSmResp)[0]
    assert response.command_status == 0
    message_id = response.message_id.encode("ascii")
    receipt = recorder.of(DeliverSm)[0]
    assert receipt.is_receipt()
    parsed = receipt.parse_receipt()
    assert parsed["id"] == response.message_id
    assert parsed["stat"] == "DELIVRD"
    assert parsed["err"] == 0
    # Byte for byte in the PDU as received: the text's id and the TLVs.
    assert b"id:" + message_id + b" " in raw
    assert tlv(Tag.RECEIPTED_MESSAGE_ID, message_id + b"\x00") in raw
    assert tlv(Tag.MESSAGE_STATE, b"\x02") in raw
    assert struct.pack(">HH", Tag.NETWORK_ERROR_CODE, 3) in raw


def test_codec_submit_on_tx_gets_the_receipt_on_rx(smsc: SmscServer, login: Login) -> None:
    with bound_esme(smsc.port, "rx", login) as receiver:
        with bound_esme(smsc.port, "tx", login) as sender:
            response = sender.request(submit(UA_NUMBERS[2], b"to the receiver"))
            assert type(response) is pdus.SubmitSmResp and response.command_status == 0
        (receipt,) = receiver.wait_receipts(1)
    check_receipt(receipt, response.message_id)
    assert receipt.source_addr == UA_NUMBERS[2] and receipt.destination_addr == "Tester"
    assert receipt_field(receipt.short_message, b"sub") == b"001"
    assert receipt_field(receipt.short_message, b"dlvrd") == b"001"
    assert receipt_field(receipt.short_message, b"err") == b"000"


def test_no_receipt_when_none_is_asked_for(smsc: SmscServer, login: Login) -> None:
    with bound_esme(smsc.port, "trx", login) as esme:
        quiet = accepted(esme.request(submit(text=b"no receipt please", registered_delivery=0)))
        loud = accepted(esme.request(submit(text=b"receipt please")))
        (receipt,) = esme.wait_receipts(1)
        # The one asked for came; the other (submitted first, same delay) does not follow.
        esme.listen(0.3)
    assert len(esme.receipts()) == 1
    check_receipt(receipt, loud)
    assert quiet != loud


# --- long messages ---------------------------------------------------------------------------


def test_codec_udh_parts_are_each_acked_billed_and_receipted(
    smsc: SmscServer, login: Login
) -> None:
    parts = udh_parts(LONG_TEXT, reference=0x5A)
    assert len(parts) == 3
    before = smsc.balance(login.system_id)
    with bound_esme(smsc.port, "trx", login) as esme:
        ids = []
        for part in parts:
            response = esme.request(submit(UA_NUMBERS[0], part, esm_class=0x40))
            assert type(response) is pdus.SubmitSmResp
            ids.append(accepted(response))
        receipts = esme.wait_receipts(3)
    assert smsc.balance(login.system_id) == before - 3 * PRICE_CENTS
    assert len(set(ids)) == 3
    by_id = {r.tlvs.raw(Tag.RECEIPTED_MESSAGE_ID) or b"": r for r in receipts}
    assert sorted(by_id) == sorted(i.encode() + b"\x00" for i in ids)
    for message_id in ids:
        check_receipt(by_id[message_id.encode() + b"\x00"], message_id)
    # Each part's receipt quotes that part's own first 20 characters, without the UDH.
    for index, message_id in enumerate(ids):
        receipt = by_id[message_id.encode() + b"\x00"]
        own = LONG_TEXT[index * 153 : index * 153 + 20].encode()
        assert receipt_field(receipt.short_message, b"text") == own


def test_smpplib_udh_parts_are_each_acked_billed_and_receipted(
    smsc: SmscServer, login: Login
) -> None:
    parts = udh_parts(LONG_TEXT, reference=0x17)
    before = smsc.balance(login.system_id)
    with smpplib_client(smsc.port) as client:
        client.bind_transceiver(system_id=login.system_id, password=login.password)
        for part in parts:
            client.send_message(
                source_addr_ton=1,
                source_addr="380441234567",
                dest_addr_ton=1,
                dest_addr_npi=1,
                destination_addr=UA_NUMBERS[3],
                esm_class=0x40,
                data_coding=0,
                short_message=part,
                registered_delivery=1,
            )
        client.read_until(
            lambda: len(client.sent) == 3 and len(client.received) == 3,
            what="3 responses and 3 receipts",
        )
    assert [r.status for r in client.sent] == [0, 0, 0]
    ids = sorted(r.message_id for r in client.sent)
    assert len(set(ids)) == 3
    assert sorted(r.receipted_message_id for r in client.received) == ids
    assert sorted(receipt_id(r.short_message) for r in client.received) == ids
    assert smsc.balance(login.system_id) == before - 3 * PRICE_CENTS


def test_message_payload_is_split_billed_per_part_and_receipted_once(
    smsc: SmscServer, login: Login
) -> None:
    text = ("payload " * 40)[:300]  # 300 GSM characters: 2 parts of at most 153
    before = smsc.balance(login.system_id)
    with bound_esme(smsc.port, "trx", login) as esme:
        response = esme.request(
            submit(UA_NUMBERS[1], b"", tlvs=Tlvs.of({Tag.MESSAGE_PAYLOAD: text.encode()}))
        )
        assert type(response) is pdus.SubmitSmResp and response.command_status == 0
        esme.wait_receipts(1)
        # A plain message sent after it: its receipt comes, and no second one for the first.
        later = accepted(esme.request(submit(UA_NUMBERS[1], b"after")))
        receipt, after = esme.wait_receipts(2)
    check_receipt(receipt, response.message_id)
    assert receipt_field(receipt.short_message, b"sub") == b"002"
    assert receipt_field(receipt.short_message, b"dlvrd") == b"002"
    check_receipt(after, later)
    assert smsc.balance(login.system_id) == before - 3 * PRICE_CENTS


def test_aiosmpplib_correlates_the_one_receipt_of_a_message_payload(
    smsc: SmscServer, login: Login
) -> None:
    """250 characters in one message_payload: aiosmpplib gets one message id and one receipt,
    and its correlator ties that receipt to the submit (it forgets an id after its first
    receipt, so a second receipt with the same id would come back uncorrelated)."""
    text = "Long payload from aiosmpplib " + "x" * 221

    async def scenario() -> Recorder:
        recorder = Recorder()
        esme = aio_esme(smsc.port, login, BindMode.TRANSCEIVER, recorder)
        task = await aio_bound(esme)
        try:
            for log_id, payload in (("long-one", text), ("short-one", "short after")):
                await esme.broker.enqueue(
                    SubmitSm(
                        message_payload=payload,
                        source=PhoneNumber("Tester", TON.ALPHANUMERIC),
                        destination=PhoneNumber(UA_NUMBERS[3], TON.INTERNATIONAL, NPI.ISDN),
                        registered_delivery=1,
                        log_id=log_id,
                    )
                )
                await recorder.wait_until(
                    lambda log_id=log_id: any(  # type: ignore[misc]
                        d.log_id == log_id for d in recorder.of(DeliverSm)),
                    what=f"the receipt of {log_id}",
                )
        finally:
            await aio_stop(esme, task)
        return recorder

    recorder = asyncio.run(scenario())
    responses = recorder.of(SubmitSmResp)
    assert [r.command_status for r in responses] == [0, 0]
    receipts = recorder.of(DeliverSm)
    assert [d.log_id for d in receipts] == ["long-one", "short-one"]
    first = receipts[0].parse_receipt()
    assert first["id"] == responses[0].message_id
    assert (first["sub"], first["dlvrd"], first["stat"]) == (2, 2, "DELIVRD")
    assert str(first["text"]).startswith("Long payload from ai")


def test_data_sm_with_message_payload(smsc: SmscServer, login: Login) -> None:
    with bound_esme(smsc.port, "trx", login) as esme:
        response = esme.request(
            pdus.DataSm(
                source_addr_ton=5,
                source_addr="Tester",
                dest_addr_ton=1,
                dest_addr_npi=1,
                destination_addr=UA_NUMBERS[4],
                registered_delivery=1,
                tlvs=Tlvs.of({Tag.MESSAGE_PAYLOAD: b"sent by data sm"}),
            )
        )
        assert type(response) is pdus.DataSmResp and response.command_status == 0
        (receipt,) = esme.wait_receipts(1)
    check_receipt(receipt, response.message_id)
    assert receipt_field(receipt.short_message, b"text") == b"sent by data sm"


# --- UCS2 ------------------------------------------------------------------------------------

UCS2_TEXT = "Привіт, світ \U0001f600 ok 12345 і ще"


def test_codec_ucs2_text_reaches_the_receipt_snippet(smsc: SmscServer, login: Login) -> None:
    octets = UCS2_TEXT.encode("utf-16-be")  # the emoji as a surrogate pair
    with bound_esme(smsc.port, "trx", login) as esme:
        message_id = accepted(esme.request(submit(UA_NUMBERS[0], octets, data_coding=8)))
        (receipt,) = esme.wait_receipts(1)
    check_receipt(receipt, message_id)
    snippet = receipt_field(receipt.short_message, b"text")
    assert snippet == expected_snippet(UCS2_TEXT) == b"??????, ???? ? ok 12"


def test_aiosmpplib_ucs2_text_reaches_the_receipt_snippet(smsc: SmscServer, login: Login) -> None:
    async def scenario() -> Recorder:
        recorder = Recorder()
        esme = aio_esme(smsc.port, login, BindMode.TRANSCEIVER, recorder)
        task = await aio_bound(esme)
        try:
            await esme.broker.enqueue(
                SubmitSm(
                    short_message=UCS2_TEXT,
                    encoding="ucs2",
                    source=PhoneNumber("Tester", TON.ALPHANUMERIC),
                    destination=PhoneNumber(UA_NUMBERS[2], TON.INTERNATIONAL, NPI.ISDN),
                )
            )
            await recorder.wait_until(
                lambda: recorder.of(SubmitSmResp) and recorder.of(DeliverSm), what="the receipt"
            )
        finally:
            await aio_stop(esme, task)
        return recorder

    recorder = asyncio.run(scenario())
    response = recorder.of(SubmitSmResp)[0]
    assert response.command_status == 0
    parsed = recorder.of(DeliverSm)[0].parse_receipt()
    assert parsed["id"] == response.message_id
    assert parsed["text"] == expected_snippet(UCS2_TEXT).decode()


# --- submit_multi --------------------------------------------------------------------------


def test_submit_multi_removes_duplicate_destinations(smsc: SmscServer, login: Login) -> None:
    a, b, c = UA_NUMBERS[:3]
    before = smsc.balance(login.system_id)
    with bound_esme(smsc.port, "trx", login) as esme:
        response = esme.request(
            pdus.SubmitMulti(
                source_addr_ton=5,
                source_addr="Tester",
                dest_addresses=tuple(
                    pdus.SmeAddress(dest_addr_ton=1, dest_addr_npi=1, destination_addr=n)
                    for n in (a, b, a, c, b, a)
                ),
                registered_delivery=1,
                short_message=b"to three people",
            )
        )
        assert type(response) is pdus.SubmitMultiResp
        assert response.command_status == 0 and response.unsuccess_smes == ()
        receipts = esme.wait_receipts(3)
        # Nobody gets the message twice: no fourth receipt follows.
        esme.listen(0.5)
    assert len(esme.receipts()) == 3
    assert sorted(r.source_addr for r in receipts) == sorted((a, b, c))
    for receipt in receipts:
        check_receipt(receipt, response.message_id)
    assert smsc.balance(login.system_id) == before - 3 * PRICE_CENTS


# --- query_sm ----------------------------------------------------------------------------------

SMPP_ABSOLUTE_TIME = re.compile(r"^\d{12}\d\d\d[+-]$")


def test_codec_query_sm_of_a_delivered_message(smsc: SmscServer, login: Login) -> None:
    with bound_esme(smsc.port, "trx", login) as esme:
        message_id = accepted(esme.request(submit(UA_NUMBERS[3], b"query me")))
        (receipt,) = esme.wait_receipts(1)
        query = esme.request(
            pdus.QuerySm(message_id=message_id, source_addr_ton=5, source_addr="Tester")
        )
        unknown = esme.request(pdus.QuerySm(message_id="ffffffff", source_addr="Tester"))
    assert type(query) is pdus.QuerySmResp and query.command_status == 0
    assert query.message_id == message_id
    assert query.message_state == 2
    assert SMPP_ABSOLUTE_TIME.match(query.final_date), query.final_date
    # The final date is the receipt's done date (YYMMDDhhmm).
    assert query.final_date[:10].encode() == receipt_field(receipt.short_message, b"done date")
    assert unknown.command_status == S.ESME_RQUERYFAIL


def test_smpplib_query_sm_of_a_delivered_message(smsc: SmscServer, login: Login) -> None:
    answers: list[Any] = []
    with smpplib_client(smsc.port) as client:
        client.set_query_resp_handler(answers.append)
        client.bind_transceiver(system_id=login.system_id, password=login.password)
        smpplib_send_for_receipt(client, UA_NUMBERS[4], b"query me too", what="the receipt")
        message_id = client.sent[0].message_id
        client.query_message(
            message_id=message_id.decode(),
            source_addr_ton=5,
            source_addr_npi=0,
            source_addr="Tester",
        )
        client.read_until(lambda: bool(answers), IO_TIMEOUT, "query_sm_resp")
    (answer,) = answers
    assert answer.status == 0
    assert answer.message_id == message_id
    assert answer.message_state == 2
    assert SMPP_ABSOLUTE_TIME.match(answer.final_date.decode())


# --- test numbers ------------------------------------------------------------------------------


def test_test_numbers_give_their_documented_outcomes(smsc: SmscServer, login: Login) -> None:
    with bound_esme(smsc.port, "trx", login) as esme:
        refused = esme.request(submit("61491575789", b"refused"))
        undeliverable = accepted(esme.request(submit("61491570156", b"unknown subscriber")))
        assert refused.command_status == S.ESME_RINVDSTADR
        (receipt,) = esme.wait_receipts(1, timeout=10.0)  # this number answers after 2 s
    check_receipt(receipt, undeliverable, state=5)
    assert receipt_field(receipt.short_message, b"stat") == b"UNDELIV"
    assert receipt_field(receipt.short_message, b"err") == b"001"
    assert receipt.tlvs.raw(Tag.NETWORK_ERROR_CODE) == b"\x03\x00\x01"
