"""``smsc route``, ``smsc routes suggest`` and ``smsc price``."""

from __future__ import annotations

import tomllib
from typing import Any

from smsc.store.records import PortedNumber
from tests.cli.conftest import Cli


def routes_file(cli: Cli) -> dict[str, Any]:
    return tomllib.loads((cli.config.parent / "routes.toml").read_text())


def test_list(cli: Cli) -> None:
    listed = cli.json("route", "list")
    assert [r["name"] for r in listed["routes"]][:2] == ["lifecell", "kyivstar"]
    assert listed["routes"][1]["operators"] == ["kyivstar", "vodafone"]
    assert listed["coverage"][0]["outcome"] == "rejectd"
    text = cli("route", "list")
    assert "kyivstar > vodafone" in text and "us-canada" in text


def test_add_set_rm(cli: Cli) -> None:
    cli("route", "add", "poland", "--prefix", "48", "--operator", "default", "--price", "0.07")
    cli(
        "route",
        "add",
        "uk",
        "--prefix",
        "447,4420",
        "--operator",
        "default,kyivstar",
        "--price",
        "0.05",
        "--currency",
        "EUR",
    )
    routes = routes_file(cli)["routes"]
    assert isinstance(routes, list)
    assert routes[-2] == {
        "name": "poland",
        "prefix": "48",
        "operators": ["default"],
        "price": "0.07",
    }
    assert routes[-1]["prefixes"] == ["447", "4420"]
    assert cli.json("route", "test", "48601234567")["route"] == "poland"
    cli("route", "set", "poland", "--prefix", "48,49", "--price", "0.08")
    poland = next(r for r in routes_file(cli)["routes"] if r["name"] == "poland")
    assert poland == {
        "name": "poland",
        "prefixes": ["48", "49"],
        "operators": ["default"],
        "price": "0.08",
    }
    cli("route", "set", "poland", "--operator", "lifecell")
    cli("route", "rm", "uk")
    assert "uk" not in [r["name"] for r in cli.json("route", "list")["routes"]]


def test_bad_route_commands(cli: Cli) -> None:
    cli.fails(
        "route",
        "add",
        "kyivstar",
        "--prefix",
        "9",
        "--operator",
        "default",
        "--price",
        "1",
        says="exists already",
    )
    out = cli.fails(
        "route",
        "add",
        "dup",
        "--prefix",
        "38067",
        "--operator",
        "default",
        "--price",
        "0.01",
        says="refused, nothing written",
    )
    assert "already in route 'kyivstar'" in out
    cli.fails(
        "route",
        "add",
        "x",
        "--prefix",
        "4x",
        "--operator",
        "default",
        "--price",
        "1",
        code=2,
        says="not a prefix",
    )
    cli.fails(
        "route",
        "add",
        "y",
        "--prefix",
        "47",
        "--operator",
        "nosuch",
        "--price",
        "1",
        says="no operator named 'nosuch'",
    )
    cli.fails(
        "route", "add", "z", "--prefix", "47", "--operator", "default", code=2, says="--price"
    )
    cli.fails("route", "set", "nosuch", "--price", "1", says="no route 'nosuch'")
    cli.fails("route", "set", "kyivstar", code=2, says="nothing to change")
    cli.fails("route", "rm", "nosuch", says="no route")
    cli.fails("route", "rm", "kyivstar", says="account_prices.acme.routes.kyivstar")


def test_route_test_explains_the_choice(cli: Cli) -> None:
    info = cli.json("route", "test", "380671234567")
    assert (info["route"], info["operator"], info["price"], info["prefix"]) == (
        "kyivstar",
        "kyivstar",
        "0.03",
        "38067",
    )
    assert info["reason"] == "prefix 38067 matches route 'kyivstar'; operator kyivstar; route price"
    cli("account", "add", "acme", "--password", "p")
    info = cli.json("route", "test", "380931234567", "--account", "acme")
    assert info["price"] == "0.01" and "account price list (prefix 38093)" in info["reason"]
    covered = cli.json("route", "test", "12025550100")
    assert covered["forced"] == {"state": "REJECTED", "err": 21}
    cli.store().add_ported([PortedNumber(number="380671234567", operator="lifecell")])
    ported = cli.json("route", "test", "380671234567")
    assert ported["operator"] == "lifecell" and ported["ported"]
    cli("blacklist", "add", "38067*")
    text = cli("route", "test", "380671234567")
    assert "blacklist  38067* (global): UNDELIV receipt, err 250" in text
    assert "documented test number" not in text


def test_route_test_refusals_exit_1(cli: Cli) -> None:
    out = cli.fails("route", "test", "0671234567", says="refused with ESME_RINVDSTADR (0xB)")
    assert "ESME_RINVDSTADR: " not in out
    cli.fails("route", "test", "380671234567", "--account", "nobody", says="no account")
    result = cli.run("route", "test", "123", "--json")
    assert result.exit_code == 1
    assert '"status": "ESME_RINVDSTADR"' in result.stdout


def test_suggest(cli: Cli) -> None:
    carriers = cli.json("routes", "suggest", "380")
    assert "38067" in carriers["Kyivstar"] and carriers["lifecell"] == ["38063", "38073", "38093"]
    assert "kyivstar" in cli("route", "suggest", "380")
    toml = cli("routes", "suggest", "380", "--toml", "--price", "0.04")
    parsed = tomllib.loads(toml)
    assert {
        "name": "lifecell",
        "prefixes": ["38063", "38073", "38093"],
        "operators": ["lifecell"],
        "price": "0.04",
    } in parsed["routes"]
    cli.fails("routes", "suggest", "999", code=2, says="not a country calling code")
    cli.fails("routes", "suggest", "UA", code=2)


def test_prices(cli: Cli) -> None:
    cli("price", "set", "0.04", "--route", "kyivstar")
    assert cli.json("route", "test", "380671234567")["price"] == "0.04"
    cli("account", "add", "bob", "--password", "p")
    cli("price", "set", "0.02", "--route", "lifecell", "--account", "bob")
    cli("price", "set", "0.01", "--prefix", "38063", "--account", "bob")
    listed = cli.json("price", "list", "--account", "bob")
    lifecell = next(r for r in listed["routes"] if r["route"] == "lifecell")
    assert lifecell == {
        "route": "lifecell",
        "price": "0.02",
        "currency": "EUR",
        "source": "price list bob",
    }
    assert listed["prefixes"] == [{"prefix": "38063", "price": "0.01", "currency": "EUR"}]
    assert routes_file(cli)["account_prices"]["bob"] == {
        "currency": "EUR",
        "routes": {"lifecell": "0.02"},
        "prefixes": {"38063": "0.01"},
    }
    cli("price", "rm", "--prefix", "38063", "--account", "bob")
    cli("price", "rm", "--route", "lifecell", "--account", "bob")
    assert routes_file(cli)["account_prices"]["bob"] == {"currency": "EUR"}
    assert "price lists: acme, bob" in cli("price", "list")


def test_a_route_currency_change_that_strands_accounts_needs_force(cli: Cli) -> None:
    """Pricing a route in UAH takes it away from every EUR account without a price list entry
    for it (SMSC_RNOROUTE): refused unless --force, naming them."""
    cli("account", "add", "shop", "--password", "p")
    cli("account", "add", "hryvnia", "--password", "p", "--currency", "UAH")
    cli("account", "add", "listed", "--password", "p")
    cli("price", "set", "0.02", "--route", "kyivstar", "--account", "listed")
    said = cli.fails("price", "set", "1.20", "--route", "kyivstar", "--currency", "UAH",
                     says=["priced in EUR", "SMSC_RNOROUTE", "--force"])
    assert "(accounts: shop;" in said
    cli.fails("route", "set", "kyivstar", "--currency", "UAH", says="shop")
    kyivstar = next(r for r in routes_file(cli)["routes"] if r["name"] == "kyivstar")
    assert "currency" not in kyivstar
    cli.fails("price", "set", "1", "--route", "kyivstar", "--currency", "EUX", code=2,
              says="ISO 4217")
    cli("price", "set", "1.20", "--route", "kyivstar", "--currency", "UAH", "--force")
    kyivstar = next(r for r in routes_file(cli)["routes"] if r["name"] == "kyivstar")
    assert kyivstar["currency"] == "UAH"
    # back to EUR strands only the UAH account; no other account loses anything
    cli.fails("route", "set", "kyivstar", "--currency", "EUR", says="(accounts: hryvnia;")
    cli("account", "rm", "hryvnia", "--yes")
    cli("route", "set", "kyivstar", "--currency", "EUR", "--price", "0.04")


def test_a_price_list_for_an_account_that_does_not_exist(cli: Cli) -> None:
    cli("account", "add", "bob", "--password", "p")
    cli.fails("price", "set", "0.02", "--route", "lifecell", "--account", "bbo",
              says=["no account 'bbo'", "--force"])
    assert "bbo" not in routes_file(cli).get("account_prices", {})
    cli("price", "set", "0.02", "--route", "lifecell", "--account", "later", "--force")
    checked = cli.run("config", "check")
    assert checked.exit_code == 0, checked.output
    # the examples' acme and the list just made are named; bob exists
    assert "warning: account_prices.later: no account 'later'" in checked.stderr
    assert "account_prices.acme" in checked.stderr and "outcome_rules[1]" in checked.stderr
    assert "'bob'" not in checked.stderr


def test_bad_prices(cli: Cli) -> None:
    cli.fails("price", "set", "0.001", "--route", "kyivstar", says="fraction of a minor unit")
    cli.fails("price", "set", "0.01", code=2, says="--route NAME or --prefix")
    cli.fails("price", "set", "0.01", "--route", "a", "--prefix", "1", code=2)
    cli.fails("price", "set", "0.01", "--prefix", "380", code=2, says="--account")
    cli.fails("price", "set", "0.01", "--prefix", "38x", "--account", "a", code=2)
    cli.fails("price", "set", "0.01", "--route", "nosuch", "--account", "a", says="no route")
    cli.fails(
        "price", "rm", "--route", "lifecell", "--account", "acme", says="has no route lifecell"
    )


def test_route_test_reads_numbers_as_a_submit_with_ton_0_does(cli: Cli) -> None:
    assert cli.json("route", "test", "+380671234567")["route"] == "kyivstar"
    assert cli.json("route", "test", "00380671234567")["route"] == "kyivstar"
    cli.fails("route", "test", "0671234567", says="ESME_RINVDSTADR")  # no home country yet
    routes = cli.config.parent / "routes.toml"
    routes.write_text(
        routes.read_text().replace("#   [routing]\n", "[routing]\n")
        .replace('#   home_country = "UA"', 'home_country = "UA"'))
    info = cli.json("route", "test", "0671234567")
    assert (info["route"], info["valid"], info["forced"]) == ("kyivstar", True, None)
    fictional = cli.json("route", "test", "447700900123")
    assert fictional["valid"] is False
    assert fictional["forced"] == {"state": "UNDELIVERABLE", "err": 1}
    assert "ends UNDELIV err 1" in cli("route", "test", "447700900123")
    cli("account", "add", "acme", "--password", "p", "--strict-numbers")
    cli.fails("route", "test", "447700900123", "--account", "acme", says="no assigned range")
