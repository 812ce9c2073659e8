"""Every receipt outcome end to end over SMPP, with its stat, err, message_state and
network_error_code (docs/operators.md "Receipts", "Test numbers", "Outcome rules";
docs/routing.md "Receipt err codes decided at submit").

The module's server delivers after 50 ms at 0.03 EUR per part, except where a rule says
otherwise: outcome rules fix the outcome of 380501... to 380506..., an operator whose handsets
are off for a second carries 38063..., a coverage rule rejects 1... (the US and Canada) and one
makes 48... (Poland) undeliverable, 380661111111 is blacklisted (before the start), and a handset
echoes what 380931234567 receives. Each test has an account of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from smsc.pdu import CommandStatus, Tag, Tlvs, pdus
from tests.integration.conftest import (
    PRICE_CENTS,
    RECEIPT_TIMEOUT,
    CodecEsme,
    SmscServer,
    accepted,
    bound_esme,
    check_receipt,
    receipt_field,
    receipt_id,
    run_cli,
    start_server,
    submit,
    write_config,
)

S = CommandStatus

OPERATORS_EXTRA = """
[operators.offline]
title = "Handsets switched off for a second at the first attempt"
throughput = 0
queue_limit = 1000000
default_validity = "24h"
max_validity = "72h"
delay = "50ms"
outcomes = [{ stat = "DELIVRD", weight = 1 }]
outages = []
daily_outages = []
offline = { probability = 1.0, duration = "1s", retry_interval = "250ms" }

[[outcome_rules]]
prefix = "380501"
stat = "UNDELIV"
err = 11

[[outcome_rules]]
prefix = "380502"
stat = "REJECTD"
err = 13

[[outcome_rules]]
prefix = "380503"
stat = "EXPIRED"
err = 27

[[outcome_rules]]
prefix = "380504"
stat = "UNKNOWN"
err = 34

[[outcome_rules]]
prefix = "380505"
stat = "ACCEPTD"

[[outcome_rules]]
prefix = "380506"
stat = "DELETED"

[[mo_rules]]
number = "380931234567"
mode = "echo"
delay = "100ms"
"""

ROUTES_EXTRA = """
[[routes]]
name = "offline-handsets"
prefix = "38063"
operators = ["offline"]
price = "0.03"

[[coverage]]
name = "us-canada"
prefix = "1"
outcome = "rejectd"

[[coverage]]
name = "poland"
prefix = "48"
outcome = "undeliv"
err = 66
"""

RULE_NUMBERS = {  # destination: (stat, message_state, err), by the outcome rules above
    "380501234567": ("UNDELIV", 5, 11),
    "380502234567": ("REJECTD", 8, 13),
    "380504234567": ("UNKNOWN", 7, 34),
    "380505234567": ("ACCEPTD", 6, 0),
    "380506234567": ("DELETED", 4, 0),
    "380671234567": ("DELIVRD", 2, 0),  # no rule: the operator's mix, all DELIVRD
}
EXPIRING_RULE_NUMBER = "380503234567"
OFFLINE_NUMBER = "380631234567"
BLACKLISTED = "380661111111"
US_NUMBER = "12025550123"
POLISH_NUMBER = "48512345678"
ECHO_HANDSET = "380931234567"
NUMERIC_SENDER = "380441234567"
DELIVERED = ("380671234567", "380971112233")  # no rule: the operator's mix, all DELIVRD

# docs/operators.md, "Test numbers": the ones with a final outcome after 2 s.
FINAL_TEST_NUMBERS = {
    "61491570006": ("DELIVRD", 2, 0),
    "61491570156": ("UNDELIV", 5, 1),
    "61491570157": ("REJECTD", 8, 13),
    "61491570159": ("DELETED", 4, 0),
    "61491570110": ("ACCEPTD", 6, 0),
    "61491570313": ("UNKNOWN", 7, 34),
}
EXPIRED_TEST_NUMBER = "61491570158"  # EXPIRED after 30 s, or when a shorter validity ends
ENROUTE_TEST_NUMBER = "61491570737"  # ENROUTE after 2 s (with 0x10), DELIVRD 10 s later
OFF_TEST_NUMBER = "61491571491"  # ENROUTE after 2 s (with 0x10), EXPIRED err 027 30 s later
SLOW_TEST_NUMBER = "61491571266"  # DELIVRD after 10 minutes
TEST_NUMBER_TIMEOUT = 8.0  # the test numbers answer after 2 s (3 s for a 3 s validity)

ENROUTE_STATE = 1
INTERMEDIATE = 0x20  # esm_class of an intermediate notification


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmscServer]:
    directory = tmp_path_factory.mktemp("outcomes")
    config = write_config(directory)
    with (directory / "operators.toml").open("a") as f:
        f.write(OPERATORS_EXTRA)
    with (directory / "routes.toml").open("a") as f:
        f.write(ROUTES_EXTRA)
    db = directory / "smsc.sqlite"
    run_cli(db, "blacklist", "add", BLACKLISTED, "--note", "asked to stop")
    started = start_server(db, config)
    yield started
    started.stop()


# --- helpers -----------------------------------------------------------------------------------


def receipted_id(pdu: pdus.DeliverSm) -> str:
    return pdu.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) or ""


def finals_by_id(esme: CodecEsme) -> dict[str, pdus.DeliverSm]:
    """Final receipts by message id; each message may have one only."""
    out: dict[str, pdus.DeliverSm] = {}
    for receipt in esme.receipts():
        message_id = receipted_id(receipt)
        assert message_id not in out, f"two receipts for {message_id}"
        out[message_id] = receipt
    return out


def intermediates(esme: CodecEsme) -> list[pdus.DeliverSm]:
    return [d for d in esme.delivered if d.esm_class & 0x3C == INTERMEDIATE]


def check_outcome(
    receipt: pdus.DeliverSm, message_id: str, stat: str, state: int, err: int
) -> None:
    """Text and TLVs of a final receipt: id, stat, err, message_state, network_error_code."""
    check_receipt(receipt, message_id, state=state)
    text = receipt.short_message
    assert receipt_field(text, b"stat") == stat.encode(), text
    assert receipt_field(text, b"err") == b"%03d" % err, text
    assert receipt_field(text, b"sub") == b"001", text
    assert receipt_field(text, b"dlvrd") == (b"001" if stat == "DELIVRD" else b"000"), text
    # network type 3 (GSM), then the err in two octets
    assert receipt.tlvs.raw(Tag.NETWORK_ERROR_CODE) == bytes((3,)) + err.to_bytes(2, "big")


def query(esme: CodecEsme, message_id: str, source_addr: str = "Tester") -> pdus.QuerySmResp:
    response = esme.request(
        pdus.QuerySm(message_id=message_id, source_addr_ton=5, source_addr=source_addr)
    )
    assert type(response) is pdus.QuerySmResp and response.command_status == 0, response
    return response


def ledger(server: SmscServer, system_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(server.cli("credit", "ledger", system_id, "--json"))
    return rows


def cents(amount: str) -> int:
    return int(Decimal(amount) * 100)


# --- by the documented test numbers ------------------------------------------------------------


def test_test_numbers_give_every_documented_outcome(server: SmscServer) -> None:
    login = server.add_account()
    with bound_esme(server.port, "trx", login) as esme:
        ids = {n: accepted(esme.request(submit(n, b"test number"))) for n in FINAL_TEST_NUMBERS}
        # A 3-second validity ends the 30-second EXPIRED number early.
        expired = accepted(
            esme.request(submit(EXPIRED_TEST_NUMBER, validity_period="000000000003000R"))
        )
        enroute = accepted(esme.request(submit(ENROUTE_TEST_NUMBER, registered_delivery=0x11)))
        # ENROUTE after 2 s, then EXPIRED when the 3-second validity ends (not 30 s later).
        off = accepted(
            esme.request(
                submit(
                    OFF_TEST_NUMBER, registered_delivery=0x11, validity_period="000000000003000R"
                )
            )
        )
        esme.wait_for(
            lambda: len(esme.receipts()) >= 8 and len(intermediates(esme)) >= 2,
            TEST_NUMBER_TIMEOUT,
            "8 receipts and 2 ENROUTE notifications",
        )
        state_of_enroute = query(esme, enroute)
    finals = finals_by_id(esme)
    assert set(finals) == {*ids.values(), expired, off}
    for number, (stat, state, err) in FINAL_TEST_NUMBERS.items():
        check_outcome(finals[ids[number]], ids[number], stat, state, err)
    # Never tried before its validity ended: err 0.
    check_outcome(finals[expired], expired, "EXPIRED", 3, 0)
    # Tried (the ENROUTE), then its validity ended: err 27, absent subscriber.
    check_outcome(finals[off], off, "EXPIRED", 3, 27)
    notes = {receipted_id(n): n for n in intermediates(esme)}
    assert sorted(notes) == sorted((enroute, off))
    for message_id, note in notes.items():
        assert note.esm_class == INTERMEDIATE
        assert receipt_id(note.short_message) == message_id.encode()
        assert note.tlvs.raw(Tag.MESSAGE_STATE) == bytes((ENROUTE_STATE,))
        assert receipt_field(note.short_message, b"stat") == b"ENROUTE"
    assert state_of_enroute.message_state == ENROUTE_STATE
    assert state_of_enroute.final_date == ""


def test_cancel_sm_of_a_waiting_message_gives_a_deleted_receipt(server: SmscServer) -> None:
    login = server.add_account()
    with bound_esme(server.port, "trx", login) as esme:
        message_id = accepted(esme.request(submit(SLOW_TEST_NUMBER, b"cancel me")))
        assert query(esme, message_id).message_state == ENROUTE_STATE
        cancel = esme.request(
            pdus.CancelSm(message_id=message_id, source_addr_ton=5, source_addr="Tester")
        )
        assert type(cancel) is pdus.CancelSmResp and cancel.command_status == 0
        (receipt,) = esme.wait_receipts(1)
        again = esme.request(
            pdus.CancelSm(message_id=message_id, source_addr_ton=5, source_addr="Tester")
        )
        final = query(esme, message_id)
    check_outcome(receipt, message_id, "DELETED", 4, 0)
    assert again.command_status == S.ESME_RCANCELFAIL
    assert final.message_state == 4 and final.final_date


# --- by configured rules -----------------------------------------------------------------------


def test_outcome_rules_give_each_outcome(server: SmscServer) -> None:
    login = server.add_account()
    with bound_esme(server.port, "trx", login) as esme:
        ids = {n: accepted(esme.request(submit(n, b"by rule"))) for n in RULE_NUMBERS}
        # EXPIRED by rule: the handset never answers; the part waits for its validity (2 s).
        expired = accepted(
            esme.request(submit(EXPIRING_RULE_NUMBER, validity_period="000000000002000R"))
        )
        esme.wait_receipts(len(RULE_NUMBERS) + 1, TEST_NUMBER_TIMEOUT)
        answers = {n: query(esme, message_id) for n, message_id in ids.items()}
    finals = finals_by_id(esme)
    assert set(finals) == {*ids.values(), expired}
    for number, (stat, state, err) in RULE_NUMBERS.items():
        check_outcome(finals[ids[number]], ids[number], stat, state, err)
        assert answers[number].message_state == state
        assert answers[number].error_code == err
    check_outcome(finals[expired], expired, "EXPIRED", 3, 27)


def test_offline_handsets_give_enroute_then_delivrd(server: SmscServer) -> None:
    login = server.add_account()
    with bound_esme(server.port, "trx", login) as esme:
        noted = accepted(esme.request(submit(OFFLINE_NUMBER, b"enroute", registered_delivery=0x11)))
        quiet = accepted(esme.request(submit(OFFLINE_NUMBER, b"final only")))
        esme.wait_for(lambda: intermediates(esme), RECEIPT_TIMEOUT, "the ENROUTE notification")
        during = query(esme, noted)
        esme.wait_receipts(2)
        esme.listen(0.3)
    (note,) = intermediates(esme)  # only the message that asked for one
    assert receipted_id(note) == noted
    assert note.tlvs.raw(Tag.MESSAGE_STATE) == bytes((ENROUTE_STATE,))
    assert receipt_field(note.short_message, b"stat") == b"ENROUTE"
    assert during.message_state == ENROUTE_STATE
    finals = finals_by_id(esme)
    assert set(finals) == {noted, quiet}
    for message_id in (noted, quiet):
        check_outcome(finals[message_id], message_id, "DELIVRD", 2, 0)


def test_coverage_rules_reject_or_fail_at_no_charge(server: SmscServer) -> None:
    login = server.add_account()
    before = server.balance(login.system_id)
    with bound_esme(server.port, "trx", login) as esme:
        rejected = accepted(esme.request(submit(US_NUMBER, b"to the US")))
        failed = accepted(esme.request(submit(POLISH_NUMBER, b"to Poland")))
        esme.wait_receipts(2)
    finals = finals_by_id(esme)
    check_outcome(finals[rejected], rejected, "REJECTD", 8, 21)  # the default err of a rule
    check_outcome(finals[failed], failed, "UNDELIV", 5, 66)
    assert server.balance(login.system_id) == before  # a coverage rule's price is 0 unless set


def test_a_blacklisted_destination_in_receipt_mode_gets_undeliv_250_free(
    server: SmscServer,
) -> None:
    login = server.add_account()
    before = server.balance(login.system_id)
    with bound_esme(server.port, "trx", login) as esme:
        message_id = accepted(esme.request(submit(BLACKLISTED, b"not sent")))
        (receipt,) = esme.wait_receipts(1)
    check_outcome(receipt, message_id, "UNDELIV", 5, 250)
    assert server.balance(login.system_id) == before
    assert [row["kind"] for row in ledger(server, login.system_id)] == ["topup"]


# --- money and receipts by account setting ----------------------------------------------------


def test_failed_parts_are_refunded_when_the_account_says_so(server: SmscServer) -> None:
    refunded = server.add_account()
    charged = server.add_account()
    server.cli("account", "set", refunded.system_id, "--refund-failed")
    failing = ("380501234567", "380502234567")  # UNDELIV and REJECTD by rule
    balances = {}
    for login in (refunded, charged):
        before = server.balance(login.system_id)
        with bound_esme(server.port, "trx", login) as esme:
            ids = [accepted(esme.request(submit(n, b"will fail"))) for n in failing]
            receipts = esme.wait_receipts(2)
            esme.listen(0.2)  # the refund is committed with the receipt; let it settle
        assert sorted(receipted_id(r) for r in receipts) == sorted(ids)
        balances[login.system_id] = (before, server.balance(login.system_id))
    before, after = balances[refunded.system_id]
    assert after == before
    before, after = balances[charged.system_id]
    assert after == before - 2 * PRICE_CENTS
    rows = ledger(server, refunded.system_id)
    assert [row["kind"] for row in rows] == ["topup", "debit", "debit", "refund", "refund"]
    assert sum(cents(row["amount"]) for row in rows) == server.balance(refunded.system_id)
    assert cents(rows[-1]["balance_after"]) == server.balance(refunded.system_id)
    assert [row["kind"] for row in ledger(server, charged.system_id)] == [
        "topup",
        "debit",
        "debit",
    ]


def test_registered_delivery_2_gives_receipts_for_failures_only(server: SmscServer) -> None:
    login = server.add_account()
    with bound_esme(server.port, "trx", login) as esme:
        delivered = accepted(esme.request(submit(DELIVERED[0], b"ok", registered_delivery=2)))
        failed = accepted(esme.request(submit("380501234567", b"fails", registered_delivery=2)))
        (receipt,) = esme.wait_receipts(1)
        # The delivered one, submitted first with the same delay, sends nothing after it.
        esme.listen(0.5)
        delivered_state = query(esme, delivered)
    assert len(esme.receipts()) == 1
    check_outcome(receipt, failed, "UNDELIV", 5, 11)
    assert delivered_state.message_state == 2


def test_one_receipt_per_long_message_by_account_setting(server: SmscServer) -> None:
    login = server.add_account()
    server.cli("account", "set", login.system_id, "--receipt-per-message")
    text = ("three parts " * 40)[:400]  # 400 GSM characters: 3 parts of 153
    before = server.balance(login.system_id)
    with bound_esme(server.port, "trx", login) as esme:
        message_id = accepted(
            esme.request(
                submit(DELIVERED[1], b"", tlvs=Tlvs.of({Tag.MESSAGE_PAYLOAD: text.encode()}))
            )
        )
        (receipt,) = esme.wait_receipts(1)
        esme.listen(0.5)  # and no receipt per part after it
    assert len(esme.receipts()) == 1
    check_receipt(receipt, message_id)
    assert receipt_field(receipt.short_message, b"sub") == b"003"
    assert receipt_field(receipt.short_message, b"dlvrd") == b"003"
    assert receipt_field(receipt.short_message, b"stat") == b"DELIVRD"
    assert receipt_field(receipt.short_message, b"text") == text[:20].encode()
    assert server.balance(login.system_id) == before - 3 * PRICE_CENTS


# --- schedule and MO ---------------------------------------------------------------------------


def test_a_scheduled_message_is_not_delivered_before_its_time(server: SmscServer) -> None:
    login = server.add_account()
    with bound_esme(server.port, "trx", login) as esme:
        message_id = accepted(
            esme.request(submit(DELIVERED[0], b"later", schedule_delivery_time="000000000003000R"))
        )
        esme.listen(2.0)  # 2 of the 3 seconds: nothing yet
        assert esme.receipts() == []
        waiting = query(esme, message_id)
        (receipt,) = esme.wait_receipts(1)
    assert waiting.message_state == ENROUTE_STATE and waiting.final_date == ""
    check_outcome(receipt, message_id, "DELIVRD", 2, 0)


def test_a_handset_echoes_by_mo_rule_as_a_deliver_sm(server: SmscServer) -> None:
    login = server.add_account()
    with bound_esme(server.port, "trx", login) as esme:
        message_id = accepted(
            esme.request(
                submit(ECHO_HANDSET, b"ping 42").replace(
                    source_addr_ton=1, source_addr_npi=1, source_addr=NUMERIC_SENDER
                )
            )
        )
        esme.wait_for(
            lambda: esme.receipts() and len(esme.delivered) >= 2,
            RECEIPT_TIMEOUT,
            "the receipt and the reply",
        )
        esme.listen(0.3)
    (receipt,) = esme.receipts()
    check_outcome(receipt, message_id, "DELIVRD", 2, 0)
    (reply,) = [d for d in esme.delivered if d.esm_class == 0]
    assert reply.source_addr == ECHO_HANDSET
    assert (reply.source_addr_ton, reply.source_addr_npi) == (1, 1)
    assert reply.destination_addr == NUMERIC_SENDER
    assert reply.data_coding == 0
    assert reply.short_message == b"ping 42"
    assert len(esme.delivered) == 2
