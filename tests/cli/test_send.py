"""``smsc send`` against a scripted SMSC: the whole life of a message, and every way it fails."""

from __future__ import annotations

import json
import socket

import pytest

from smsc.core.accounts import ensure_test_account
from smsc.pdu.constants import CommandStatus, EsmClass
from smsc.pdu.udh import parse_udh
from tests.cli.conftest import Cli
from tests.cli.fake_smsc import FakeSmsc

LOGIN = ("--system-id", "acme", "--password", "pw")


def send(cli: Cli, smsc: FakeSmsc, *args: str) -> list[str]:
    return [*args, "--port", str(smsc.port), "--timeout", "5"]


def test_the_life_of_a_message(cli: Cli) -> None:
    with FakeSmsc() as smsc:
        out = cli("send", *send(cli, smsc, "380671234567", "Hello there", *LOGIN, "--from", "ACME"))
    lines = out.splitlines()
    assert lines[0].startswith("bound     trx acme at 127.0.0.1:") and "(fake)" in lines[0]
    assert "part 1/1: submit_sm_resp ESME_ROK message_id=0000002a" in lines[1]
    assert lines[2].startswith("waiting   for 1 receipt(s)")
    assert lines[3].startswith("receipt   0000002a: stat:DELIVRD err:000 sub:001 dlvrd:001")
    assert "message_state=DELIVERED network_error_code=030000" in lines[3]
    assert lines[4].startswith("unbound")
    (submit,) = smsc.submits
    assert (submit.source_addr, submit.source_addr_ton, submit.destination_addr) == (
        "ACME",
        5,
        "380671234567",
    )
    assert submit.registered_delivery == 1 and submit.short_message == b"Hello there"
    assert smsc.unbound


def test_a_long_text_goes_in_udh_parts(cli: Cli) -> None:
    text = "Привіт " * 20  # UCS2, 140 characters: three parts of 67
    with FakeSmsc() as smsc:
        data = json.loads(cli("send", *send(cli, smsc, "380671234567", text, *LOGIN, "--json")))
    assert [s["part"] for s in data["submits"]] == [1, 2, 3]
    assert [d["stat"] for d in data["deliveries"]] == ["DELIVRD"] * 3
    parts = smsc.submits
    assert all(p.esm_class & EsmClass.UDHI and p.data_coding == 8 for p in parts)
    body = b"".join(parse_udh(p.short_message)[1] for p in parts)
    assert body.decode("utf-16-be") == text


def test_payload_and_registered_delivery_options(cli: Cli) -> None:
    with FakeSmsc(receipt_stat=None) as smsc:
        cli(
            "send",
            *send(
                cli,
                smsc,
                "380671234567",
                "x" * 300,
                *LOGIN,
                "--split",
                "payload",
                "--registered-delivery",
                "none",
                "--intermediate",
            ),
        )
    (submit,) = smsc.submits
    assert submit.short_message == b"" and submit.tlvs.raw(0x0424) == b"x" * 300
    assert submit.registered_delivery == 0x10


def test_refusals_and_timeouts_exit_1(cli: Cli) -> None:
    with FakeSmsc(submit_status=CommandStatus.SMSC_RNOCREDIT) as smsc:
        out = cli.fails(
            "send",
            *send(cli, smsc, "380671234567", "hi", *LOGIN),
            says="1 of 1 submit(s) refused: SMSC_RNOCREDIT",
        )
    assert "submit_sm_resp SMSC_RNOCREDIT (0x400)" in out
    with FakeSmsc(bind_status=CommandStatus.ESME_RINVPASWD) as smsc:
        cli.fails(
            "send",
            *send(cli, smsc, "380671234567", "hi", *LOGIN),
            says="bind refused: ESME_RINVPASWD (0xE)",
        )
    with FakeSmsc(receipt_stat=None) as smsc:
        args = [*send(cli, smsc, "380671234567", "hi", *LOGIN)]
        args[args.index("--timeout") + 1] = "0.3"
        cli.fails("send", *args, says="no final receipt for 0000002a within 0.3 s")


def test_an_mo_message_is_shown(cli: Cli) -> None:
    with FakeSmsc(mo_text="STOP") as smsc:
        out = cli("send", *send(cli, smsc, "380671234567", "hi", *LOGIN))
    assert "mo        MO from 380671112233 to 4242: 'STOP'" in out


def test_bulk_sends_summarise(cli: Cli) -> None:
    with FakeSmsc() as smsc:
        out = cli(
            "send",
            *send(cli, smsc, "380671234567", "hi", *LOGIN, "--count", "50", "--rate", "5000"),
        )
    assert "submits   50 ESME_ROK" in out
    assert "receipts  50 DELIVRD" in out
    assert len(smsc.submits) == 50


def test_the_test_account_is_the_default_login(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_test_account(
        cli.store(),
        system_id="smsctest",
        password="tpw",
        credit=0,
        currency="EUR",
        throughput=0,
        now=0.0,
    )
    monkeypatch.delenv("SMSC_PASSWORD", raising=False)
    with FakeSmsc() as smsc:
        # Its password is stored only as a hash: it must be given.
        cli.fails("send", *send(cli, smsc, "380671234567", "hi"), code=2,
                  says=["give --password", "smsc account passwd smsctest"])
        monkeypatch.setenv("SMSC_PASSWORD", "tpw")
        cli("send", *send(cli, smsc, "380671234567", "hi"))
    (bind,) = smsc.binds
    assert (bind.system_id, bind.password) == ("smsctest", "tpw")  # type: ignore[attr-defined]


def test_bad_sends(cli: Cli) -> None:
    cli.fails("send", "+380671234567", "hi", *LOGIN, code=2, says="digits only")
    cli.fails(
        "send",
        "380671234567",
        "Привіт",
        "--encoding",
        "gsm",
        *LOGIN,
        code=2,
        says="Invalid value for TEXT",
    )
    cli.fails("send", "380671234567", "hi", code=2, says="give --password")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cli.fails(
        "send",
        "380671234567",
        "hi",
        *LOGIN,
        "--port",
        str(port),
        says=f"cannot connect to 127.0.0.1:{port}",
    )


def test_a_config_mistake_does_not_stop_commands_that_do_not_need_it(cli: Cli) -> None:
    """A typo in operators.toml: account, credit, report and send --port warn and go on;
    commands that need the whole config still refuse."""
    operators = cli.config.parent / "operators.toml"
    text = operators.read_text()
    typo = 'median = "2s", sigma = 0.5, cap'
    operators.write_text(text.replace(typo, typo.replace("2s", "2x")))
    result = cli.run("account", "add", "acme", "--password", "pw", "--credit", "5")
    assert result.exit_code == 0, result.output
    assert "account acme created (5.00 EUR credit)" in result.stdout
    assert "warning: config:" in result.stderr and "median" in result.stderr
    assert "7.00 EUR" in cli("credit", "topup", "acme", "2")
    assert "no messages match" in cli("report", "summary")
    with FakeSmsc() as smsc:
        out = cli("send", *send(cli, smsc, "380671234567", "hi", *LOGIN))
    assert "stat:DELIVRD" in out
    cli.fails("route", "list", says="smsc config check")
