"""``smsc mo inject``, ``smsc config`` and ``smsc bench``, and errors that are never tracebacks."""

from __future__ import annotations

import shutil
import subprocess
import time
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from smsc.cli import main
from smsc.config.loader import load_config
from smsc.config.server import server_settings_from_mapping
from smsc.pdu import decode, pdus
from smsc.pdu.udh import parse_udh
from smsc.store.records import OutboxKind
from tests.cli.conftest import Cli, copy_conf

# --- mo inject --------------------------------------------------------------------------------


def test_mo_inject_queues_deliver_sm_for_the_account(cli: Cli) -> None:
    cli("account", "add", "acme", "--password", "p")
    info = cli.json(
        "mo", "inject", "--account", "acme", "--from", "380671234567", "--to", "4242", "STOP"
    )
    assert info["parts"] == 1 and info["data_coding"] == 0
    (item,) = cli.store().outbox_for("acme", 0, 10, time.time())
    assert item.kind == OutboxKind.MO and item.id == info["outbox_ids"][0]
    assert 71 * 3600 < item.expires_at - item.created_at <= 72 * 3600
    pdu = decode(item.pdu)
    assert isinstance(pdu, pdus.DeliverSm)
    assert (pdu.source_addr, pdu.source_addr_ton, pdu.destination_addr, pdu.dest_addr_ton) == (
        "380671234567",
        1,
        "4242",
        0,
    )
    assert pdu.short_message == b"STOP" and pdu.esm_class == 0


def test_a_long_mo_is_split_with_a_udh(cli: Cli) -> None:
    cli("account", "add", "acme", "--password", "p")
    out = cli(
        "mo",
        "inject",
        "--account",
        "acme",
        "--from",
        "380671234567",
        "--to",
        "4242",
        "--ttl",
        "10m",
        "y" * 200,
    )
    assert out.startswith("2 MO part(s) from 380671234567 to 4242 queued for acme")
    items = cli.store().outbox_for("acme", 0, 10, time.time())
    parts = [p for p in (decode(i.pdu) for i in items) if isinstance(p, pdus.DeliverSm)]
    assert len(parts) == 2 and all(p.esm_class == 0x40 for p in parts)
    text = b"".join(parse_udh(p.short_message)[1] for p in parts)
    assert text == b"y" * 200
    assert all(i.expires_at - i.created_at == pytest.approx(600) for i in items)


def test_bad_mo_injections(cli: Cli) -> None:
    cli("account", "add", "acme", "--password", "p")
    base = ["mo", "inject", "--account", "acme", "--to", "4242"]
    cli.fails(*base, "--from", "+380671234567", "hi", code=2, says="1 to 15 digits")
    cli.fails(*base, "--from", "380671234567", "", code=2, says="is empty")
    cli.fails(*base, "--from", "380671234567", "Привіт", "--encoding", "gsm", code=2)
    cli.fails(
        "mo", "inject", "--account", "nobody", "--from", "1", "--to", "2", "x", says="no account"
    )
    cli.fails(*base, "--from", "380671234567", "hi", "--ttl", "0", code=2)


# --- config -----------------------------------------------------------------------------------


def test_config_check_ok_and_errors(cli: Cli) -> None:
    assert cli("config", "check").startswith("ok: ")
    routes = cli.config.parent / "routes.toml"
    text = routes.read_text()
    routes.write_text(text.replace('price = "0.04"', 'price = "cheap"', 1))
    line = text[: text.index('price = "0.04"')].count("\n") + 1
    out = cli.fails("config", "check")
    assert f"routes.toml:{line}: routes[4].price: " in out
    assert "Traceback" not in out
    ops = cli.config.parent / "operators.toml"
    ops.write_text(ops.read_text().replace("seed = 20240901", "seed = 20240901\nseeds = 1"))
    errors = [e for e in cli.fails("config", "check").splitlines() if e]
    assert len(errors) == 2 and "simulation.seeds: unknown key" in errors[0]


def test_config_check_of_a_named_file(cli: Cli, tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text("[server]\nwindow = -1\n")
    cli.fails("config", "check", str(other), says="other.toml:2: server.window")
    cli.fails("config", "check", str(tmp_path / "none.toml"), says="no such file")


def test_config_show(cli: Cli) -> None:
    info = cli.json("config", "show")
    assert info["server"]["window"] == 64
    assert {o["name"] for o in info["operators"]} >= {"kyivstar", "default"}
    assert info["routes"][0]["name"] == "lifecell" and info["account_prices"] == ["acme"]
    text = cli("config", "show")
    assert "[server]" in text and "kyivstar > vodafone" in text


def test_config_show_prints_toml_values_that_read_back_the_same(cli: Cli) -> None:
    text = cli("config", "show")
    start, end = text.index("[server]"), text.index("\n[simulation]")
    shown = tomllib.loads(text[start:end])
    assert shown["server"]["listen"] == ["tcp:2775:interface=127.0.0.1"]
    assert shown["test_account"]["currency"] == "EUR"
    assert server_settings_from_mapping(shown) == load_config(cli.config).server
    simulation = text[text.index("[simulation]"):].split("\n\n")[0]
    assert tomllib.loads(simulation)["simulation"]["test_numbers"] is True


def test_config_init(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["config", "init"], catch_exceptions=False)
    assert result.exit_code == 0
    assert sorted(p.name for p in (tmp_path / "conf").iterdir()) == [
        "operators.toml",
        "routes.toml",
        "smsc.toml",
    ]
    result = runner.invoke(main, ["config", "init"], catch_exceptions=False)
    assert result.exit_code == 1 and "--force" in result.output
    assert runner.invoke(main, ["config", "init", "--force"]).exit_code == 0
    # conf/smsc.toml in the working directory is the default config from now on.
    result = runner.invoke(main, ["config", "check"], catch_exceptions=False)
    assert result.output.startswith("ok: conf/smsc.toml, conf/operators.toml")


# --- bench ------------------------------------------------------------------------------------


def test_bench_runs_the_benchmark_or_explains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []

    def fake_call(args: list[str]) -> int:
        calls.append(args)
        return 3

    monkeypatch.setattr(subprocess, "call", fake_call)
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    result = CliRunner().invoke(main, ["bench", "--quick", "--help-bench"], catch_exceptions=False)
    assert result.exit_code == 3
    assert calls[0][1:] == ["-m", "bench.run", "--quick", "--help"]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("smsc.cli.bench._available", lambda: False)
    result = CliRunner().invoke(main, ["bench"], catch_exceptions=False)
    assert result.exit_code == 1 and "from a checkout" in result.output


# --- errors -----------------------------------------------------------------------------------


def test_a_broken_database_or_config_is_a_message(tmp_path: Path) -> None:
    config = copy_conf(tmp_path / "conf")
    bad_db = tmp_path / "bad.sqlite"
    bad_db.write_bytes(b"this is not a database" * 100)
    broken = Cli(db=bad_db, config=config)
    broken.fails("account", "list", says="database: file is not a database")
    (tmp_path / "conf" / "routes.toml").write_text("[[routes]]\nname = 1\n")
    cli = Cli(db=tmp_path / "ok.sqlite", config=config)
    cli.fails("route", "list", says="config: ")
    cli.fails("route", "list", says="routes.toml:2: routes[1].name: must be a string")
    listed = cli.run("account", "list")  # needs no route: warns and goes on
    assert listed.exit_code == 0 and "routes[1].name: must be a string" in listed.stderr
    shutil.rmtree(tmp_path / "conf")
    cli.fails("operator", "list", says="no such file")
