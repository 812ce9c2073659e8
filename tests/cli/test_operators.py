"""``smsc operator`` and ``smsc outcome``: editing the operators config through the CLI keeps a
hand-written file's comments, and refuses what would make the config invalid."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from smsc.cli import main
from tests.cli.conftest import Cli

HAND_WRITTEN = """\
# Our operators. Reviewed by the NOC every quarter; ask before changing.
include = ["ops.toml", "routing.toml"]

[server]
listen = ["tcp:2775:interface=127.0.0.1"]  # loopback only
"""

OPS = """\
# -- simulation ---------------------------------------------------------
[simulation]
seed = 7            # fixed, so test runs repeat
builtin_operators = false

# Our main partner.
[operators.alpha]
title = "Alpha Mobile"   # as shown on invoices
throughput = 40
# they deliver fast
delay = "1s"
outcomes = [
  { stat = "DELIVRD", weight = 99 },   # nearly all
  { stat = "UNDELIV", weight = 1, err = 1 },
]

# Backup partner, slower.
[operators.beta]
title = "Beta"
throughput = 5

# The catch-all.
[operators.default]
title = "Default"

# Rules for the test customer.
[[outcome_rules]]
account = "tester"   # the integration customer
stat = "UNDELIV"
err = 1

# trailing note: keep rules above this line
"""

ROUTING = """\
# Routing for our two partners.
[[routes]]
name = "alpha"
prefix = "380"   # Ukraine
operators = ["alpha", "beta"]
price = "0.03"
"""


@pytest.fixture
def hand(tmp_path: Path) -> Cli:
    directory = tmp_path / "hand"
    directory.mkdir()
    (directory / "smsc.toml").write_text(HAND_WRITTEN)
    (directory / "ops.toml").write_text(OPS)
    (directory / "routing.toml").write_text(ROUTING)
    return Cli(db=tmp_path / "smsc.sqlite", config=directory / "smsc.toml")


def comment_lines(text: str) -> list[str]:
    """Every comment, whole-line or after a value, in order."""
    return [
        line[line.index("#") :]
        for line in text.splitlines()
        if "#" in line and not line.lstrip().startswith(("title", "name"))
    ]


def test_cli_edits_keep_every_comment_of_a_hand_written_config(hand: Cli) -> None:
    ops = hand.config.parent / "ops.toml"
    routing = hand.config.parent / "routing.toml"
    before_ops, before_routing = ops.read_text(), routing.read_text()
    hand(
        "operator",
        "set",
        "alpha",
        "--throughput",
        "60",
        "--outcome",
        "DELIVRD:9",
        "--outcome",
        "UNDELIV:1:1",
        "--delay",
        "uniform:1s-3s",
    )
    hand("operator", "add", "gamma", "--title", "Gamma", "--throughput", "3")
    hand("operator", "set", "beta", "--offline-probability", "0.1", "--validity", "12h")
    hand("outcome", "add", "--operator", "beta", "--stat", "REJECTD:13")
    hand("route", "add", "gamma", "--prefix", "48", "--operator", "gamma", "--price", "0.05")
    hand("price", "set", "0.02", "--route", "alpha", "--account", "tester")
    after_ops, after_routing = ops.read_text(), routing.read_text()
    # Every comment stays, but those inside the outcome mix that was replaced as a whole.
    assert comment_lines(after_ops) == [c for c in comment_lines(before_ops) if c != "# nearly all"]
    assert comment_lines(after_routing) == comment_lines(before_routing)
    assert after_ops.startswith(before_ops.split("[operators.alpha]")[0])
    data = tomllib.loads(after_ops)
    assert data["operators"]["alpha"]["throughput"] == 60
    assert data["operators"]["alpha"]["delay"] == {"kind": "uniform", "low": "1s", "high": "3s"}
    assert data["operators"]["beta"]["offline"] == {"probability": 0.1}
    assert data["operators"]["gamma"] == {"title": "Gamma", "throughput": 3}
    assert data["outcome_rules"][1] == {"operator": "beta", "stat": "REJECTD", "err": 13}
    # The new operator sits after the last operator, before the rules and their comment.
    assert after_ops.index("[operators.gamma]") < after_ops.index("# Rules for the test")
    assert after_ops.index("err = 13") < after_ops.index("# trailing note")
    assert "seed = 7            # fixed, so test runs repeat" in after_ops
    assert '{ stat = "DELIVRD", weight = 9 }' in after_ops
    assert tomllib.loads(after_routing)["account_prices"]["tester"]["routes"] == {"alpha": "0.02"}


def test_a_change_that_makes_the_config_invalid_is_refused(hand: Cli) -> None:
    ops = hand.config.parent / "ops.toml"
    before = ops.read_text()
    out = hand.fails("operator", "rm", "beta", says="refused, nothing written")
    assert "routing.toml:5: routes[1].operators[2]: no operator named 'beta'" in out
    hand.fails(
        "operator",
        "set",
        "alpha",
        "--default-validity",
        "100h",
        says="ops.toml:16: operators.alpha.default_validity: is longer than max_validity",
    )
    hand.fails(
        "operator",
        "set",
        "alpha",
        "--delay",
        "lognormal:median=fast",
        says="operators.alpha.delay.median",
    )
    hand.fails("operator", "set", "alpha", "--outcome", "DELIVRD:0", says="weights add up to 0")
    assert ops.read_text() == before


def test_list_show_add_rm(cli: Cli) -> None:
    names = [o["name"] for o in cli.json("operator", "list")]
    assert "kyivstar" in names and "default" in names
    info = cli.json("operator", "show", "lifecell")
    assert info["max_validity"] == 24 * 3600.0 and info["title"] == "lifecell"
    cli(
        "operator",
        "add",
        "testnet",
        "--delay",
        "exponential:4s",
        "--outcome",
        "DELIVRD:1",
        "--daily-outage",
        "01:00-01:30",
        "--outage",
        "2030-01-01T00:00Z/2030-01-01T01:00Z",
    )
    info = cli.json("operator", "show", "testnet")
    assert info["delay"] == "exponential mean 4s"
    assert info["daily_outages"] == ["01:00-01:30"]
    assert info["outages"] == [{"start": "2030-01-01T00:00:00Z", "end": "2030-01-01T01:00:00Z"}]
    assert "testnet" in cli("operator", "list")
    cli("operator", "set", "testnet", "--no-outages")
    assert cli.json("operator", "show", "testnet")["daily_outages"] == []
    assert "operator testnet removed" in cli("operator", "rm", "testnet")
    assert "testnet" not in [o["name"] for o in cli.json("operator", "list")]


def test_a_built_in_operator_gets_a_table_and_goes_back(cli: Cli) -> None:
    ops = cli.config.parent / "operators.toml"
    text = ops.read_text()
    start = text.index("[operators.utel]")
    ops.write_text(text[:start] + text[text.index("[operators.peoplenet]") :])
    assert cli.json("operator", "show", "utel")["throughput"] == 20  # built in
    cli("operator", "set", "utel", "--throughput", "7")
    assert "[operators.utel]\nthroughput = 7\n" in ops.read_text()
    assert cli.json("operator", "show", "utel")["throughput"] == 7
    assert "the built-in one remains" in cli("operator", "rm", "utel")
    cli.fails("operator", "rm", "utel", says="it is built in")


def test_bad_operator_commands(cli: Cli) -> None:
    cli.fails("operator", "add", "kyivstar", says="exists already")
    cli.fails("operator", "add", "Bad-Name", code=2, says="lower-case identifier")
    cli.fails("operator", "set", "nosuch", "--throughput", "1", says="no operator nosuch")
    cli.fails("operator", "set", "kyivstar", code=2, says="nothing to change")
    cli.fails("operator", "set", "kyivstar", "--outcome", "GREAT:1", code=2, says="STAT:WEIGHT")
    cli.fails("operator", "set", "kyivstar", "--outcome", "DELIVRD:x", code=2)
    cli.fails("operator", "set", "kyivstar", "--delay", "gamma:1s", code=2, says="not one of")
    cli.fails(
        "operator", "set", "kyivstar", "--outage", "2030-01-01T00:00", code=2, says="START/END"
    )
    cli.fails(
        "operator",
        "set",
        "kyivstar",
        "--outage",
        "2030-01-01T00:00/2030-01-01T01:00",
        code=2,
        says="UTC offset",
    )
    cli.fails(
        "operator", "set", "kyivstar", "--no-outages", "--daily-outage", "01:00-02:00", code=2
    )
    cli.fails("operator", "show", "nosuch", says="no operator")
    cli.fails("operator", "rm", "nosuch", says="no table")


def test_editing_needs_a_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = Cli(db=tmp_path / "x.sqlite", config=tmp_path / "unused.toml")
    result = runner.run("operator", "list")
    assert result.exit_code == 1 and "no such file" in result.output
    result = CliRunner().invoke(
        main, ["operator", "set", "kyivstar", "--throughput", "1"], catch_exceptions=False
    )
    assert result.exit_code == 1 and "smsc config init" in result.output
    result = CliRunner().invoke(main, ["operator", "list", "--json"], catch_exceptions=False)
    assert result.exit_code == 0  # the built-in defaults can be read, not edited


def test_outcome_rules(cli: Cli) -> None:
    rules = cli.json("outcome", "list")
    assert len(rules) == 2
    cli("outcome", "add", "--operator", "lifecell", "--prefix", "38063", "--stat", "UNDELIV:1")
    cli("outcome", "add", "--account", "zed", "--outcome", "DELIVRD:3", "--outcome", "EXPIRED:1:27")
    rules = cli.json("outcome", "list")
    assert rules[2] == {
        "index": 3,
        "operator": "lifecell",
        "prefix": "38063",
        "stat": "UNDELIV",
        "err": 1,
    }
    assert rules[3]["outcomes"][1] == {"stat": "EXPIRED", "weight": 1, "err": 27}
    assert "lifecell" in cli("outcome", "list")
    assert "outcome rule 3 removed" in cli("outcome", "rm", "3")
    assert len(cli.json("outcome", "list")) == 3
    cli.fails("outcome", "rm", "9", code=2, says="there are 3")
    cli.fails("outcome", "add", "--operator", "x", code=2, says="either --stat")
    cli.fails(
        "outcome",
        "add",
        "--operator",
        "nosuch",
        "--stat",
        "DELIVRD",
        says="refused, nothing written",
    )
    cli.fails("outcome", "add", "--account", "zed", "--stat", "UNDELIV", says="same account")


def test_an_outage_now_makes_route_test_show_the_failover(cli: Cli) -> None:
    now = datetime.now(UTC)
    start, end = now.replace(year=now.year - 1), now.replace(year=now.year + 1)
    window = f"{start.isoformat()}/{end.isoformat()}"
    cli("operator", "set", "kyivstar", "--outage", window)
    info = cli.json("route", "test", "380671234567")
    assert info["operator"] == "vodafone" and info["failover"]
    assert "failover: kyivstar down" in info["reason"]
