"""Destinations read the way SMSCs read them, over real sockets with smpplib (issue 10).

The module's server has ``[routing] home_country = "UA"`` and routes for 380 and 44; its operator
delivers every message 50 ms after acceptance. Kannel, with its default settings, sends
destinations without ``+`` as ton 2 (national), npi 1: such a number is read as a Ukrainian
national number or as international digits, and the receipt and the report show the
international number. A UK number in the fictional drama range (447700900xxx) is possible but in
no assigned range: accepted, it ends UNDELIV err 1 (unknown subscriber); a strict account is
refused with ESME_RINVDSTADR.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from smpplib.exceptions import PDUError

from smsc.pdu import pdus
from tests.integration.conftest import (
    PRICE_CENTS,
    Login,
    SmscServer,
    bound_esme,
    receipt_field,
    smpplib_client,
    start_server,
    write_config,
)

ROUTES_EXTRA = """
[routing]
home_country = "UA"

[[routes]]
name = "uk"
prefix = "44"
operators = ["default"]
price = "0.03"
"""
FICTIONAL_UK = "447700900123"  # possible (10 digits after 44), in no assigned range


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmscServer]:
    directory = tmp_path_factory.mktemp("addresses")
    config = write_config(directory)
    with (directory / "routes.toml").open("a") as f:
        f.write(ROUTES_EXTRA)
    started = start_server(directory / "smsc.sqlite", config)
    yield started
    started.stop()


def send_like_kannel(server: SmscServer, login: Login, destination: str, *, ton: int = 2
                     ) -> tuple[int, Any]:
    """One submit as Kannel sends it by default (dest ton 2, npi 1) asking for a receipt;
    (the submit_sm_resp's status, the receipt), the receipt None when the submit was refused."""
    with smpplib_client(server.port) as client:
        client.bind_transceiver(system_id=login.system_id, password=login.password)
        client.send_message(
            source_addr_ton=5, source_addr="Tester", dest_addr_ton=ton, dest_addr_npi=1,
            destination_addr=destination, short_message=b"addresses", registered_delivery=1,
        )
        try:
            client.read_until(lambda: client.sent, what="submit_sm_resp")
        except PDUError as refused:  # smpplib raises for a response with an error status
            return int(refused.args[1]), None
        assert client.sent[0].status == 0
        client.read_until(lambda: client.received, what="receipt")
        return 0, client.received[0]


def report(server: SmscServer, login: Login) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(
        server.cli("report", "messages", "--account", login.system_id, "--json"))
    return rows


@pytest.mark.parametrize(
    "destination",
    ["0671234567", "380671234567", "+380671234567", "00380671234567", "671234567"],
)
def test_kannel_national_ton_destinations_are_delivered_as_international_numbers(
    server: SmscServer, destination: str
) -> None:
    login = server.add_account()
    status, receipt = send_like_kannel(server, login, destination)
    assert status == 0
    assert receipt_field(receipt.short_message, b"stat") == b"DELIVRD"
    assert receipt.source_addr == b"380671234567"
    assert (receipt.source_addr_ton, receipt.source_addr_npi) == (1, 1)
    [row] = report(server, login)
    assert (row["destination"], row["route"], row["status"]) == (
        "380671234567", "ukraine", "DELIVRD")


def test_an_alphanumeric_destination_is_refused_with_rinvdstton(server: SmscServer) -> None:
    login = server.add_account()
    status, _ = send_like_kannel(server, login, "Shop", ton=5)
    assert status == 0x50  # ESME_RINVDSTTON
    assert report(server, login) == []


def test_a_fictional_number_ends_undeliv_err_1(server: SmscServer) -> None:
    login = server.add_account()
    status, receipt = send_like_kannel(server, login, "+" + FICTIONAL_UK)
    assert status == 0
    assert receipt_field(receipt.short_message, b"stat") == b"UNDELIV"
    assert receipt_field(receipt.short_message, b"err") == b"001"
    assert receipt.source_addr == FICTIONAL_UK.encode()
    assert receipt.message_state == 5  # UNDELIVERABLE
    [row] = report(server, login)
    assert (row["destination"], row["route"], row["status"], row["err"]) == (
        FICTIONAL_UK, "uk", "UNDELIV", 1)


def test_a_strict_account_is_refused_a_fictional_number_at_submit(server: SmscServer) -> None:
    login = server.add_account()
    server.cli("account", "set", login.system_id, "--strict-numbers")
    assert server.account(login.system_id)["strict_numbers"] is True
    status, _ = send_like_kannel(server, login, FICTIONAL_UK, ton=1)
    assert status == 0x0B  # ESME_RINVDSTADR
    status, receipt = send_like_kannel(server, login, "0671234567")
    assert status == 0 and receipt.source_addr == b"380671234567"


@pytest.mark.parametrize("destination", ["+4477009001", "44770090", "067123", "38067123456789"])
def test_impossible_numbers_are_refused_with_rinvdstadr(
    server: SmscServer, destination: str
) -> None:
    login = server.add_account()
    status, _ = send_like_kannel(server, login, destination)
    assert status == 0x0B  # ESME_RINVDSTADR


@pytest.mark.parametrize(
    ("ton", "npi", "sender", "expected"),
    [
        (5, 0, "Shop", 0),  # alphanumeric
        (1, 1, "380441234567", 0),  # international
        (1, 1, FICTIONAL_UK, 0),  # a possible international number
        (2, 1, "0441234567", 0),  # national
        (3, 0, "7575", 0),  # short code, network specific
        (6, 0, "12345678", 0),  # short code, abbreviated
        (1, 1, "111111111111111", 0x0A),  # no possible international number: ESME_RINVSRCADR
        (6, 0, "123456789", 0x0A),  # too long for a short code
        (3, 0, "380441234567", 0x0A),
    ],
)
def test_senders_of_each_kind(
    server: SmscServer, ton: int, npi: int, sender: str, expected: int
) -> None:
    login = server.add_account()
    with smpplib_client(server.port) as client:
        client.bind_transmitter(system_id=login.system_id, password=login.password)
        client.send_message(
            source_addr_ton=ton, source_addr_npi=npi, source_addr=sender, dest_addr_ton=1,
            dest_addr_npi=1, destination_addr="380671234567", short_message=b"sender",
        )
        try:
            client.read_until(lambda: client.sent, what="submit_sm_resp")
            status = int(client.sent[0].status)
        except PDUError as refused:
            status = int(refused.args[1])
    assert status == expected
    if expected == 0:
        [row] = report(server, login)
        assert row["source"] == sender


def test_submit_multi_removes_one_number_written_several_ways(server: SmscServer) -> None:
    login = server.add_account()
    before = server.balance(login.system_id)
    spellings = ((1, "380671234567"), (2, "+380671234567"), (0, "00380671234567"),
                 (2, "0671234567"), (2, "380501234567"), (1, "380501234567"))
    with bound_esme(server.port, "trx", login) as esme:
        response = esme.request(pdus.SubmitMulti(
            source_addr_ton=5, source_addr="Tester", registered_delivery=1,
            short_message=b"once each",
            dest_addresses=tuple(pdus.SmeAddress(dest_addr_ton=ton, dest_addr_npi=1,
                                                 destination_addr=n) for ton, n in spellings)))
        assert type(response) is pdus.SubmitMultiResp
        assert response.command_status == 0 and response.unsuccess_smes == ()
        receipts = esme.wait_receipts(2)
        esme.listen(0.5)  # nobody gets the message twice: no third receipt follows
    assert len(esme.receipts()) == 2
    assert sorted(r.source_addr for r in receipts) == ["380501234567", "380671234567"]
    assert server.balance(login.system_id) == before - 2 * PRICE_CENTS
