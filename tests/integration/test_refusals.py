"""Every refusal status of a submit, over SMPP, end to end (docs/routing.md "Statuses",
docs/operators.md "Test numbers").

Each test binds an account of its own, sends submits that must be refused with one exact
command_status, and then proves three things: the status is the documented one, the refused
submits cost nothing and left nothing stored (``account show --json`` and ``report messages
--json``), and the same bind still gets a plain submit accepted afterwards.

The module's server routes 380... and 61... to an operator that delivers after 50 ms, 38068...
to an operator whose queue holds one part (delay 10 minutes), refuses 48... (Poland) by a
coverage rule, and has no route for 44... (the United Kingdom). Every part costs 0.03 EUR.
"""

from __future__ import annotations

import asyncio
import json
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiosmpplib import NPI, TON, BindMode, PhoneNumber, SubmitSmResp
from aiosmpplib import SubmitSm as AioSubmitSm

from smsc.pdu import CommandStatus, Tag, Tlvs, pdus
from tests.integration.conftest import (
    PRICE_CENTS,
    UA_NUMBERS,
    CodecEsme,
    Login,
    Recorder,
    SmscServer,
    accepted,
    aio_bound,
    aio_esme,
    aio_stop,
    bound_esme,
    run_cli,
    smpplib_client,
    start_server,
    submit,
    write_config,
)

S = CommandStatus

OPERATORS_EXTRA = """
[operators.small]
title = "An operator whose queue holds one part"
throughput = 0
queue_limit = 1
default_validity = "24h"
max_validity = "72h"
delay = "10m"
outcomes = [{ stat = "DELIVRD", weight = 1 }]
outages = []
daily_outages = []
offline = { probability = 0.0, duration = "1s", retry_interval = "1s" }
"""

ROUTES_EXTRA = """
[[routes]]
name = "small-queue"
prefix = "38068"
operators = ["small"]
price = "0.03"

[[coverage]]
name = "poland"
prefix = "48"
outcome = "refuse"
"""

SMALL_QUEUE_NUMBER = "380681234567"
NO_ROUTE_NUMBER = "447911123456"  # a valid UK mobile number; no route starts with 44
COVERAGE_NUMBER = "48512345678"  # a valid Polish mobile number, refused by the coverage rule
BLACKLISTED_NUMBER = "380669812345"  # under a global prefix blacklisted before the start
NUMERIC_SENDER = "380441234567"  # numeric senders are never checked against registration


def with_extras(directory: Path) -> Path:
    config = write_config(directory)
    with (directory / "operators.toml").open("a") as f:
        f.write(OPERATORS_EXTRA)
    with (directory / "routes.toml").open("a") as f:
        f.write(ROUTES_EXTRA)
    return config


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmscServer]:
    directory = tmp_path_factory.mktemp("refusals")
    config = with_extras(directory)
    db = directory / "smsc.sqlite"
    run_cli(db, "blacklist", "add", BLACKLISTED_NUMBER[:-2] + "*", "--note", "before the start")
    started = start_server(db, config)
    yield started
    started.stop()


def plain(number: str = UA_NUMBERS[0], text: bytes = b"plain") -> pdus.SubmitSm:
    """A one-part submit from a numeric sender that every account may send."""
    return submit(number, text, registered_delivery=0).replace(
        source_addr_ton=1, source_addr_npi=1, source_addr=NUMERIC_SENDER
    )


def stored_parts(server: SmscServer, system_id: str) -> int:
    rows: list[Any] = json.loads(server.cli("report", "messages", "--account", system_id, "--json"))
    return len(rows)


def status_name(status: int) -> str:
    try:
        return S(status).name
    except ValueError:
        return f"0x{status:08X}"


def refused(esme: CodecEsme, pdu: pdus.Pdu, status: int) -> None:
    response = esme.request(pdu)
    assert type(response) is type(pdu.response()), response
    assert response.command_status == status, (
        f"{status_name(response.command_status)} instead of {status_name(status)} for {pdu}"
    )


@contextmanager
def only_refusals(
    server: SmscServer, login: Login, *, accepted_parts: int = 0
) -> Iterator[CodecEsme]:
    """A transceiver bind of ``login`` for submits that are refused (all but
    ``accepted_parts`` parts the test expects accepted). On leaving, the same bind still gets a
    plain submit accepted, and the account paid for exactly that one and the accepted parts:
    nothing was billed or stored for a refused submit."""
    before = server.balance(login.system_id)
    with bound_esme(server.port, "trx", login) as esme:
        yield esme
        accepted(esme.request(plain(text=b"still served")))
    parts = accepted_parts + 1
    assert server.balance(login.system_id) == before - parts * PRICE_CENTS
    assert stored_parts(server, login.system_id) == parts


def udh_part(reference: int, total: int, index: int, text: bytes = b"part") -> bytes:
    return bytes((5, 0, 3, reference, total, index)) + text


# --- destination -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "+380671234567",  # a leading +
        "00380671234567",  # an international prefix
        "0671234567",  # a national number
        "38067123456",  # one digit short
        "38067123456789",  # 11 digits after the country code (UA numbers have 9 or 10)
        "38067123456a",  # not digits
        "",  # nothing
    ],
)
def test_an_invalid_destination_is_refused_with_rinvdstadr(server: SmscServer, number: str) -> None:
    login = server.add_account()
    with only_refusals(server, login) as esme:
        refused(esme, plain(number), S.ESME_RINVDSTADR)
        refused(esme, submit(number), S.ESME_RINVDSTADR)


def test_a_destination_ton_other_than_international_national_or_unknown_is_refused(
    server: SmscServer,
) -> None:
    login = server.add_account()
    with only_refusals(server, login, accepted_parts=1) as esme:
        for ton in (3, 4, 5, 6):
            refused(esme, plain().replace(dest_addr_ton=ton), S.ESME_RINVDSTTON)
        # TON 0 (unknown) with an international number is accepted.
        accepted(esme.request(plain().replace(dest_addr_ton=0)))


def test_a_destination_npi_other_than_isdn_or_unknown_is_refused(server: SmscServer) -> None:
    login = server.add_account()
    with only_refusals(server, login) as esme:
        for npi in (3, 8, 9):
            refused(esme, plain().replace(dest_addr_npi=npi), S.ESME_RINVDSTNPI)


# --- sender ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ton", "sender"),
    [
        (5, "ElevenPlus12"),  # 12 characters
        (5, " Shop"),  # a space at the start
        (5, "Shop*"),  # a character senders may not have
        (5, "---"),  # no letter or digit
        (1, "0441234567"),  # an international number starting with 0
        (1, "38044123456a"),  # not digits
        (1, "3804412345678901"),  # 16 digits
        (0, "12345678901234567"),  # 17 digits read as a number
    ],
)
def test_an_invalid_sender_is_refused_with_rinvsrcadr(
    server: SmscServer, ton: int, sender: str
) -> None:
    login = server.add_account()
    with only_refusals(server, login) as esme:
        refused(esme, plain().replace(source_addr_ton=ton, source_addr=sender), S.ESME_RINVSRCADR)


def test_an_empty_sender_without_a_default_sender_is_refused(server: SmscServer) -> None:
    login = server.add_account()
    with only_refusals(server, login) as esme:
        refused(esme, plain().replace(source_addr=""), S.ESME_RINVSRCADR)


def test_a_sender_ton_or_npi_that_smpp_does_not_define_is_refused(server: SmscServer) -> None:
    login = server.add_account()
    with only_refusals(server, login) as esme:
        for ton in (7, 8, 0xFF):
            refused(esme, plain().replace(source_addr_ton=ton), S.ESME_RINVSRCTON)
        for npi in (2, 5, 7, 0xFF):
            refused(esme, plain().replace(source_addr_npi=npi), S.ESME_RINVSRCNPI)


def test_an_unregistered_sender_is_refused_for_an_account_that_requires_registration(
    server: SmscServer,
) -> None:
    login = server.add_account()
    server.cli(
        "account", "set", login.system_id, "--sender-id", "ACME", "--require-registered-sender"
    )
    with only_refusals(server, login, accepted_parts=1) as esme:
        for name in ("Other", "acme", "ACM"):
            refused(
                esme, plain().replace(source_addr_ton=5, source_addr=name), S.SMSC_RSENDERNOTREG
            )
        refused(esme, plain().replace(source_addr_ton=0, source_addr="Other"), S.SMSC_RSENDERNOTREG)
        accepted(esme.request(plain().replace(source_addr_ton=5, source_addr="ACME")))


# --- route, coverage, blacklist --------------------------------------------------------------


def test_a_destination_without_a_route_is_refused(server: SmscServer) -> None:
    login = server.add_account()
    with only_refusals(server, login) as esme:
        refused(esme, plain(NO_ROUTE_NUMBER), S.SMSC_RNOROUTE)


def test_a_coverage_rule_with_outcome_refuse_refuses(server: SmscServer) -> None:
    login = server.add_account()
    with only_refusals(server, login) as esme:
        refused(esme, plain(COVERAGE_NUMBER), S.SMSC_RCOVERAGE)


def test_a_blacklisted_destination_is_refused_in_refuse_mode(server: SmscServer) -> None:
    """The global prefix entry was added before the server started."""
    login = server.add_account()
    server.cli("account", "set", login.system_id, "--blacklist-mode", "refuse")
    with only_refusals(server, login) as esme:
        refused(esme, plain(BLACKLISTED_NUMBER), S.SMSC_RBLACKLISTED)
        refused(esme, plain(BLACKLISTED_NUMBER[:-1] + "9"), S.SMSC_RBLACKLISTED)


def test_blacklist_entries_added_while_the_server_runs_are_refused(server: SmscServer) -> None:
    """One entry for the account and one global prefix, added with the CLI while the server
    runs: it sees them within a second (``smsc blacklist --help``)."""
    login = server.add_account()
    other = server.add_account()
    for account in (login, other):
        server.cli("account", "set", account.system_id, "--blacklist-mode", "refuse")
    server.cli("blacklist", "add", "380501234567", "--account", login.system_id)
    server.cli("blacklist", "add", "3806697*")
    time.sleep(1.5)  # the server looks for store changes once a second
    with only_refusals(server, login) as esme:
        refused(esme, plain("380501234567"), S.SMSC_RBLACKLISTED)
        refused(esme, plain("380669712345"), S.SMSC_RBLACKLISTED)
    # The account's entry is the account's only; the global prefix is everyone's.
    with bound_esme(server.port, "trx", other) as esme:
        accepted(esme.request(plain("380501234567")))
        refused(esme, plain("380669712345"), S.SMSC_RBLACKLISTED)


# --- credit ------------------------------------------------------------------------------------


def test_a_submit_that_credit_does_not_cover_is_refused_whole(server: SmscServer) -> None:
    login = server.add_account(credit="0.05")
    two_parts = ("credit " * 40)[:300].encode()  # 300 GSM characters: 2 parts, 0.06 EUR
    with bound_esme(server.port, "trx", login) as esme:
        refused(
            esme,
            plain(text=b"").replace(tlvs=Tlvs.of({Tag.MESSAGE_PAYLOAD: two_parts})),
            S.SMSC_RNOCREDIT,
        )
        assert server.balance(login.system_id) == 5
        accepted(esme.request(plain()))  # 0.03 of the 0.05
        refused(esme, plain(), S.SMSC_RNOCREDIT)  # 0.02 left
        refused(esme, plain(), S.SMSC_RNOCREDIT)
        assert server.balance(login.system_id) == 2
        server.cli("credit", "topup", login.system_id, "0.01")
        time.sleep(0.2)
        accepted(esme.request(plain()))  # credit is the store's: a top-up counts at once
    assert server.balance(login.system_id) == 0
    assert stored_parts(server, login.system_id) == 2


def test_a_submit_multi_names_a_destination_credit_refused_as_the_customer_gave_it(
    server: SmscServer,
) -> None:
    """The store refuses the group it cannot pay for by the number as stored; the answer names
    the destination with the address, TON and NPI the customer sent (not 1/1)."""
    login = server.add_account(credit="0.05")  # one part of 0.03
    with bound_esme(server.port, "trx", login) as esme:
        response = esme.request(
            pdus.SubmitMulti(
                source_addr_ton=1,
                source_addr_npi=1,
                source_addr=NUMERIC_SENDER,
                dest_addresses=(
                    pdus.SmeAddress(dest_addr_ton=1, dest_addr_npi=1,
                                    destination_addr=UA_NUMBERS[0]),
                    pdus.SmeAddress(dest_addr_ton=2, dest_addr_npi=1,
                                    destination_addr="+" + UA_NUMBERS[1]),
                ),
                short_message=b"to two",
            )
        )
    assert type(response) is pdus.SubmitMultiResp and response.command_status == 0
    assert response.unsuccess_smes == (
        pdus.UnsuccessSme(dest_addr_ton=2, dest_addr_npi=1, destination_addr="+" + UA_NUMBERS[1],
                          error_status_code=S.SMSC_RNOCREDIT),
    )
    assert server.balance(login.system_id) == 2


def test_smpplib_sees_the_credit_refusal_and_carries_on(server: SmscServer) -> None:
    login = server.add_account(credit="0.03")
    errors: list[Any] = []
    with smpplib_client(server.port) as client:
        client.set_error_pdu_handler(errors.append)
        client.bind_transceiver(system_id=login.system_id, password=login.password)
        for text in (b"first", b"second", b"third"):
            client.send_message(
                source_addr_ton=1,
                source_addr_npi=1,
                source_addr=NUMERIC_SENDER,
                dest_addr_ton=1,
                dest_addr_npi=1,
                destination_addr=UA_NUMBERS[1],
                short_message=text,
            )
        client.send_message(
            source_addr_ton=1,
            source_addr=NUMERIC_SENDER,
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr="+" + UA_NUMBERS[1],
            short_message=b"plus",
        )
        client.send_message(
            source_addr_ton=5,
            source_addr="Tester",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr=NO_ROUTE_NUMBER,
            short_message=b"nowhere",
        )
        client.read_until(lambda: len(client.sent) == 5, what="5 submit_sm_resp")
    # Answers may come in any order (refusals at intake come before those at the commit).
    statuses = [r.status for r in sorted(client.sent, key=lambda r: r.sequence)]
    assert statuses == [
        0,
        S.SMSC_RNOCREDIT,
        S.SMSC_RNOCREDIT,
        S.ESME_RINVDSTADR,
        S.SMSC_RNOROUTE,
    ]
    assert sorted(r.status for r in errors) == sorted(statuses[1:])
    assert server.balance(login.system_id) == 0
    assert stored_parts(server, login.system_id) == 1


# --- long messages -----------------------------------------------------------------------------


def test_a_message_of_more_parts_than_the_account_allows_is_refused(server: SmscServer) -> None:
    login = server.add_account()
    five_gsm = b"x" * 613  # 613 GSM characters: 5 parts of 153
    five_ucs2 = ("\u0416" * 269).encode("utf-16-be")  # 269 UCS2 characters: 5 parts of 67
    with only_refusals(server, login) as esme:
        for index in (1, 5):
            refused(
                esme,
                plain(text=udh_part(0x21, 5, index)).replace(esm_class=0x40),
                S.SMSC_RTOOMANYPARTS,
            )
        refused(
            esme,
            plain(text=b"").replace(tlvs=Tlvs.of({Tag.MESSAGE_PAYLOAD: five_gsm})),
            S.SMSC_RTOOMANYPARTS,
        )
        refused(
            esme,
            plain(text=b"").replace(data_coding=8, tlvs=Tlvs.of({Tag.MESSAGE_PAYLOAD: five_ucs2})),
            S.SMSC_RTOOMANYPARTS,
        )
        sar = Tlvs.of(
            {
                Tag.SAR_MSG_REF_NUM: struct.pack(">H", 0x1234),
                Tag.SAR_TOTAL_SEGMENTS: bytes((5,)),
                Tag.SAR_SEGMENT_SEQNUM: bytes((1,)),
            }
        )
        refused(esme, plain(text=b"sar part").replace(tlvs=sar), S.SMSC_RTOOMANYPARTS)


def test_max_parts_is_the_accounts_setting(server: SmscServer) -> None:
    login = server.add_account()
    server.cli("account", "set", login.system_id, "--max-parts", "2")
    three = ("three " * 60)[:400].encode()  # 3 parts
    with only_refusals(server, login) as esme:
        refused(
            esme,
            plain(text=b"").replace(tlvs=Tlvs.of({Tag.MESSAGE_PAYLOAD: three})),
            S.SMSC_RTOOMANYPARTS,
        )
        refused(
            esme, plain(text=udh_part(0x22, 3, 1)).replace(esm_class=0x40), S.SMSC_RTOOMANYPARTS
        )


def test_parts_that_do_not_fit_together_are_refused(server: SmscServer) -> None:
    login = server.add_account()
    with only_refusals(server, login, accepted_parts=1) as esme:
        refused(esme, plain(text=udh_part(0x31, 3, 0)).replace(esm_class=0x40), S.SMSC_RINVPARTS)
        refused(esme, plain(text=udh_part(0x32, 3, 4)).replace(esm_class=0x40), S.SMSC_RINVPARTS)
        refused(esme, plain(text=udh_part(0x33, 0, 1)).replace(esm_class=0x40), S.SMSC_RINVPARTS)
        # Part 1 of 3 is accepted; a part of the same reference that says 2 parts is not.
        accepted(esme.request(plain(text=udh_part(0x34, 3, 1)).replace(esm_class=0x40)))
        refused(esme, plain(text=udh_part(0x34, 2, 2)).replace(esm_class=0x40), S.SMSC_RINVPARTS)
        # Nor is part 1 again with another text.
        refused(
            esme,
            plain(text=udh_part(0x34, 3, 1, b"other")).replace(esm_class=0x40),
            S.SMSC_RINVPARTS,
        )


# --- esm_class, times ------------------------------------------------------------------------


def test_a_submit_that_is_not_a_normal_message_is_refused_with_rinvesmclass(
    server: SmscServer,
) -> None:
    login = server.add_account()
    with only_refusals(server, login) as esme:
        for esm_class in (0x04, 0x08, 0x10, 0x20, 0x44):
            refused(esme, plain().replace(esm_class=esm_class), S.ESME_RINVESMCLASS)


@pytest.mark.parametrize(
    ("schedule", "validity"),
    [
        ("garbage", ""),
        ("2506151200000", ""),  # too short
        ("250615120000000X", ""),  # neither +, - nor R
        ("251315120000000+", ""),  # month 13
        ("250615120000049+", ""),  # 49 quarter-hours from UTC
        ("000001000000000R", "000000003000000R"),  # at 1 day, after the end of a 30-minute validity
        ("010000000000000R", ""),  # a year ahead: past max_schedule_ahead (30 days)
    ],
)
def test_an_invalid_schedule_is_refused_with_rinvsched(
    server: SmscServer, schedule: str, validity: str
) -> None:
    login = server.add_account()
    with only_refusals(server, login) as esme:
        refused(
            esme,
            plain().replace(schedule_delivery_time=schedule, validity_period=validity),
            S.ESME_RINVSCHED,
        )


@pytest.mark.parametrize(
    "validity",
    [
        "garbage",
        "250615120000000X",
        "251315120000000+",
        "200101000000000+",  # in the past
    ],
)
def test_an_invalid_validity_is_refused_with_rinvexpiry(server: SmscServer, validity: str) -> None:
    login = server.add_account()
    with only_refusals(server, login) as esme:
        refused(esme, plain().replace(validity_period=validity), S.ESME_RINVEXPIRY)


def test_a_relative_validity_of_zero_is_refused_every_time(server: SmscServer) -> None:
    """A validity ending at the moment of submission is refused (docs/operators.md); twenty
    times, so that the answer may not depend on the moment's fraction of a microsecond."""
    login = server.add_account()
    with only_refusals(server, login) as esme:
        statuses = [
            esme.request(plain().replace(validity_period="000000000000000R")).command_status
            for _ in range(20)
        ]
        assert statuses == [S.ESME_RINVEXPIRY] * 20, [status_name(s) for s in statuses]


def test_a_relative_validity_of_one_second_is_accepted_every_time(server: SmscServer) -> None:
    """The counterpart of the test above: a validity that ends after the submission is kept
    (docs/operators.md), even one second after it; twenty times, for the same reason."""
    login = server.add_account()
    with only_refusals(server, login, accepted_parts=20) as esme:
        statuses = [
            esme.request(plain().replace(validity_period="000000000001000R")).command_status
            for _ in range(20)
        ]
        assert statuses == [S.ESME_ROK] * 20, [status_name(s) for s in statuses]


def test_a_data_sm_with_a_zero_time_to_live_is_refused_with_rinvexpiry(server: SmscServer) -> None:
    login = server.add_account()
    with only_refusals(server, login) as esme:
        refused(
            esme,
            pdus.DataSm(
                source_addr_ton=1,
                source_addr_npi=1,
                source_addr=NUMERIC_SENDER,
                dest_addr_ton=1,
                dest_addr_npi=1,
                destination_addr=UA_NUMBERS[0],
                tlvs=Tlvs.of(
                    {Tag.MESSAGE_PAYLOAD: b"no time", Tag.QOS_TIME_TO_LIVE: struct.pack(">I", 0)}
                ),
            ),
            S.ESME_RINVEXPIRY,
        )


# --- throughput and queues ---------------------------------------------------------------------


def test_submits_beyond_the_accounts_throughput_are_throttled(server: SmscServer) -> None:
    login = server.add_account()
    server.cli("account", "set", login.system_id, "--throughput", "2", "--burst", "2")
    with only_refusals(server, login, accepted_parts=2) as esme:
        statuses = [
            esme.request(plain(text=f"burst {n}".encode())).command_status for n in range(6)
        ]
        assert statuses[:2] == [0, 0]
        assert set(statuses[2:]) == {S.ESME_RTHROTTLED}, statuses
        time.sleep(0.6)  # one token back at 2 per second, for the closing submit


def test_a_full_operator_queue_refuses_with_rmsgqful(server: SmscServer) -> None:
    login = server.add_account()
    with only_refusals(server, login, accepted_parts=1) as esme:
        accepted(esme.request(plain(SMALL_QUEUE_NUMBER)))  # fills the queue of one
        refused(esme, plain(SMALL_QUEUE_NUMBER), S.ESME_RMSGQFUL)
        refused(esme, plain("380689876543"), S.ESME_RMSGQFUL)


# --- the test numbers ----------------------------------------------------------------------------

# docs/operators.md, "Test numbers": the submit errors, with the documented values.
REFUSING_TEST_NUMBERS = {
    "61491571804": 0x58,  # ESME_RTHROTTLED
    "61491572549": 0x14,  # ESME_RMSGQFUL
    "61491572665": 0x08,  # ESME_RSYSERR
    "61491572983": 0x400,  # SMSC_RNOCREDIT
    "61491573770": 0x45,  # ESME_RSUBMITFAIL
    "61491573087": 0x402,  # SMSC_RBLACKLISTED
    "61491574118": 0x401,  # SMSC_RSENDERNOTREG
    "61491574632": 0x407,  # SMSC_RCOVERAGE
    "61491575254": 0x404,  # SMSC_RNOROUTE
    "61491575789": 0x0B,  # ESME_RINVDSTADR
}


def test_each_refusing_test_number_gives_its_documented_status(server: SmscServer) -> None:
    login = server.add_account()
    with only_refusals(server, login) as esme:
        for number, status in REFUSING_TEST_NUMBERS.items():
            refused(esme, plain(number), status)
            refused(esme, submit(number, registered_delivery=1), status)


def test_refusing_test_numbers_written_as_kannel_writes_them_give_their_status(
    server: SmscServer,
) -> None:
    """TON 2 with '+' or '00' (or TON 0 with '+') is read as the international number, and the
    test number's refusal holds for that reading too."""
    login = server.add_account()
    with only_refusals(server, login) as esme:
        for number, status in list(REFUSING_TEST_NUMBERS.items())[-3:]:
            for ton, written in ((2, "+" + number), (2, "00" + number), (0, "+" + number)):
                refused(esme, plain(number).replace(dest_addr_ton=ton, destination_addr=written),
                        status)


def test_refusing_test_numbers_in_a_submit_multi_are_listed_as_unsuccessful(
    server: SmscServer,
) -> None:
    login = server.add_account()
    numbers = [*REFUSING_TEST_NUMBERS, NO_ROUTE_NUMBER, "+380671234567"]
    with only_refusals(server, login, accepted_parts=1) as esme:
        response = esme.request(
            pdus.SubmitMulti(
                source_addr_ton=1,
                source_addr_npi=1,
                source_addr=NUMERIC_SENDER,
                dest_addresses=tuple(
                    pdus.SmeAddress(dest_addr_ton=1, dest_addr_npi=1, destination_addr=n)
                    for n in [*numbers, UA_NUMBERS[2]]
                ),
                short_message=b"to many",
            )
        )
        assert type(response) is pdus.SubmitMultiResp and response.command_status == 0
    unsuccessful = {u.destination_addr: u.error_status_code for u in response.unsuccess_smes}
    assert unsuccessful == {
        **REFUSING_TEST_NUMBERS,
        NO_ROUTE_NUMBER: S.SMSC_RNOROUTE,
        "+380671234567": S.ESME_RINVDSTADR,
    }


# --- standard statuses only ----------------------------------------------------------------


def test_an_account_set_to_standard_statuses_gets_no_vendor_code(server: SmscServer) -> None:
    """Each vendor code becomes the standard status of the README's mapping."""
    login = server.add_account(credit="0.03")
    server.cli("account", "set", login.system_id, "--standard-statuses")
    too_long = ("x" * 700).encode()  # 5 parts, the account may send 4
    with bound_esme(server.port, "trx", login) as esme:
        refused(esme, plain(NO_ROUTE_NUMBER), S.ESME_RINVDSTADR)  # SMSC_RNOROUTE
        refused(esme, plain(COVERAGE_NUMBER), S.ESME_RINVDSTADR)  # SMSC_RCOVERAGE
        refused(esme, plain(text=b"").replace(tlvs=Tlvs.of({Tag.MESSAGE_PAYLOAD: too_long})),
                S.ESME_RINVMSGLEN)  # SMSC_RTOOMANYPARTS
        accepted(esme.request(plain()))  # the 0.03 EUR of credit
        refused(esme, plain(), S.ESME_RSUBMITFAIL)  # SMSC_RNOCREDIT
    assert stored_parts(server, login.system_id) == 1


def test_aiosmpplib_carries_on_after_a_refusal_with_standard_statuses(
    server: SmscServer,
) -> None:
    """aiosmpplib fails on vendor codes; with standard statuses it takes the refusal and sends
    the next message."""
    login = server.add_account()
    server.cli("account", "set", login.system_id, "--standard-statuses")

    async def scenario() -> Recorder:
        recorder = Recorder()
        esme = aio_esme(server.port, login, BindMode.TRANSCEIVER, recorder)
        task = await aio_bound(esme)
        try:
            for number in (NO_ROUTE_NUMBER, UA_NUMBERS[0]):
                await esme.broker.enqueue(
                    AioSubmitSm(
                        short_message="hello",
                        source=PhoneNumber(NUMERIC_SENDER, TON.INTERNATIONAL, NPI.ISDN),
                        destination=PhoneNumber(number, TON.INTERNATIONAL, NPI.ISDN),
                    )
                )
            await recorder.wait_until(lambda: len(recorder.of(SubmitSmResp)) == 2,
                                      what="two submit_sm_resp")
        finally:
            await aio_stop(esme, task)
        return recorder

    recorder = asyncio.run(scenario())
    statuses = sorted(int(r.command_status) for r in recorder.of(SubmitSmResp))
    assert statuses == [0, S.ESME_RINVDSTADR]
    assert recorder.errors == []
