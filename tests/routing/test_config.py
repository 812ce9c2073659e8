"""RoutingConfig.from_mapping: the example file, defaults, and a path for every mistake."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from smsc.config_error import ConfigError
from smsc.pdu.constants import MessageState
from smsc.routing.config import RoutingConfig
from smsc.routing.forced_outcomes import CoverageAction
from smsc.store.records import Account, BlacklistEntry

EXAMPLE = Path(__file__).resolve().parents[2] / "conf" / "routes.toml"
OPERATORS = {"lifecell", "kyivstar", "vodafone", "utel", "peoplenet", "intertelecom", "default"}


def example() -> dict[str, Any]:
    """The example file, with the price list its comments show (commented out there)."""
    with EXAMPLE.open("rb") as handle:
        data = tomllib.load(handle)
    assert "account_prices" not in data
    data["account_prices"] = {
        "acme": {
            "currency": "EUR",
            "routes": {"kyivstar": "0.02", "vodafone": "0.02"},
            "prefixes": {"38093": "0.01"},
        }
    }
    return data


def test_the_example_file() -> None:
    config = RoutingConfig.from_mapping(example(), operators=OPERATORS)
    assert config.currency == "EUR"
    assert config.decimals("EUR") == 2 and config.decimals("UAH") == 2
    names = [route.name for route in config.routes]
    assert names[:6] == ["lifecell", "kyivstar", "vodafone", "utel", "peoplenet", "intertelecom"]
    kyivstar = config.routes[1]
    assert kyivstar.operators == ("kyivstar", "vodafone")
    assert "38067" in kyivstar.prefixes and kyivstar.price == 3
    (us,) = config.coverage
    assert (us.prefixes, us.action, us.error_code) == (("1",), CoverageAction.REJECT, 21)
    (acme,) = config.account_prices
    assert acme.by_route == {"kyivstar": 2, "vodafone": 2}


def test_the_example_routes_every_ukrainian_network() -> None:
    router = RoutingConfig.from_mapping(example()).router(
        ported={"380671111111": "lifecell"},
        blacklist=[BlacklistEntry(number="380500000000")],
    )
    account = Account(system_id="someone", password_hash="", default_sender="Test")
    expected = {
        "380631234567": "lifecell",
        "380671234567": "kyivstar",
        "380501234567": "vodafone",
        "380911234567": "utel",
        "380921234567": "peoplenet",
        "380941234567": "intertelecom",
        "380441234567": "default",
        "380671111111": "lifecell",
    }
    for number, operator in expected.items():
        decision = router.decide(
            account,
            source_addr="",
            source_ton=0,
            source_npi=0,
            destination_addr=number,
            dest_ton=1,
            dest_npi=1,
            now=0.0,
        )
        assert decision.route.operator == operator, number
    us = router.decide(
        account,
        source_addr="",
        source_ton=0,
        source_npi=0,
        destination_addr="12025550123",
        dest_ton=1,
        dest_npi=1,
        now=0.0,
    )
    assert us.route.forced is not None and us.route.forced.state == MessageState.REJECTED
    black = router.decide(
        account,
        source_addr="",
        source_ton=0,
        source_npi=0,
        destination_addr="380500000000",
        dest_ton=1,
        dest_npi=1,
        now=0.0,
    )
    assert black.blacklisted


def test_empty_config_has_defaults() -> None:
    config = RoutingConfig.from_mapping({"server": {"whatever": 1}})
    assert config == RoutingConfig()
    assert len(config.route_table()) == 0


def test_numbers_and_currency_decimals() -> None:
    config = RoutingConfig.from_mapping(
        {
            "money": {"currency": "UAH", "decimals": 3, "currencies": {"EUR": 4}},
            "routes": [
                {"name": "a", "prefix": "380", "operators": ["x"], "price": 0.035},
                {
                    "name": "b",
                    "prefix": "49",
                    "operators": ["x"],
                    "price": "0.0035",
                    "currency": "EUR",
                },
                {"name": "c", "prefix": "48", "operators": ["x"], "price": 2},
            ],
        }
    )
    assert [(r.price, r.currency) for r in config.routes] == [
        (35, "UAH"),
        (35, "EUR"),
        (2000, "UAH"),
    ]


def with_change(path: list[Any], value: Any, *, delete: bool = False) -> dict[str, Any]:
    data = copy.deepcopy(example())
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "where", "message"),
    [
        (["money"], [], "money", "must be a table"),
        (["money", "colour"], 1, "money.colour", "unknown key"),
        (["money", "currency"], "eur", "money.currency", "three capital letters"),
        (["money", "currency"], 5, "money.currency", "must be a string"),
        (["money", "currency"], "EUX", "money.currency", "not an ISO 4217 currency code"),
        (["money", "decimals"], 9, "money.decimals", "0 to 8"),
        (["money", "decimals"], True, "money.decimals", "whole number"),
        (["money", "currencies", "UAH"], "2", "money.currencies.UAH", "whole number"),
        (["money", "currencies"], {"uah": 2}, "money.currencies.uah", "three capital"),
        (["routes"], {"a": 1}, "routes", "must be a list"),
        (["routes", 0], "x", "routes[1]", "must be a table"),
        (["routes", 2, "colour"], "red", "routes[3].colour", "unknown key"),
        (["routes", 2, "name"], "Vodafone", "routes[3].name", "lower-case"),
        (["routes", 2, "name"], "kyivstar", "routes[3].name", "already defined at routes[2]"),
        (["routes", 2, "prefixes", 1], "+38066", "routes[3].prefixes[2]", "digits"),
        (["routes", 2, "prefixes", 1], "3806612345678901", "routes[3].prefixes[2]", "digits"),
        (["routes", 2, "prefixes", 1], 38066, "routes[3].prefixes[2]", "must be a string"),
        (["routes", 2, "prefixes", 1], "38050", "routes[3].prefixes[2]", "listed twice"),
        (["routes", 2, "prefixes", 1], "38067", "routes[3].prefixes[2]", "route 'kyivstar'"),
        (["routes", 2, "prefixes"], [], "routes[3]", "needs a prefix"),
        (["routes", 2, "operators"], [], "routes[3].operators", "at least one"),
        (["routes", 2, "operators"], "vodafone", "routes[3].operators", "must be a list"),
        (["routes", 2, "operators", 1], "Kyivstar", "routes[3].operators[2]", "lower-case"),
        (["routes", 2, "operators", 1], "vodafone", "routes[3].operators[2]", "listed twice"),
        (["routes", 2, "operators", 1], "mts", "routes[3].operators[2]", "no operator named"),
        (["routes", 2, "price"], "0.035", "routes[3].price", "fraction of a minor unit"),
        (["routes", 2, "price"], "-1", "routes[3].price", "negative"),
        (["routes", 2, "price"], "cheap", "routes[3].price", "not a decimal"),
        (["routes", 2, "price"], [1], "routes[3].price", "decimal amount"),
        (["routes", 2, "currency"], "Euro", "routes[3].currency", "three capital"),
        (["coverage", 0, "outcome"], "bounce", "coverage[1].outcome", "rejectd, undeliv"),
        (["coverage", 0, "err"], 256, "coverage[1].err", "0 to 255"),
        (["coverage", 0, "err"], "21", "coverage[1].err", "0 to 255"),
        (["coverage", 0, "name"], "lifecell", "coverage[1].name", "already names"),
        (["coverage", 0, "prefix"], "1a", "coverage[1].prefix", "digits"),
        (["coverage", 0, "operator"], "mts", "coverage[1].operator", "no operator named"),
        (["coverage", 0, "note"], 5, "coverage[1].note", "must be a string"),
        (["coverage", 0, "price"], "0.001", "coverage[1].price", "fraction"),
        (["coverage", 0, "when"], "now", "coverage[1].when", "unknown key"),
        (
            ["account_prices", "acme", "routes", "kyivstr"],
            "0.01",
            "account_prices.acme.routes.kyivstr",
            "no route named",
        ),
        (
            ["account_prices", "acme", "prefixes", "38o"],
            "0.01",
            "account_prices.acme.prefixes.38o",
            "digits",
        ),
        (
            ["account_prices", "acme", "prefixes", "380"],
            "0.001",
            "account_prices.acme.prefixes.380",
            "fraction",
        ),
        (
            ["account_prices", "acme", "currency"],
            "eur",
            "account_prices.acme.currency",
            "three capital",
        ),
        (["account_prices", "acme", "discount"], 5, "account_prices.acme.discount", "unknown key"),
        (["account_prices", "acme"], 5, "account_prices.acme", "must be a table"),
        (["account_prices", ""], {}, "account_prices.", "system_id"),
    ],
)
def test_mistakes_name_their_path(path: list[Any], value: Any, where: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        RoutingConfig.from_mapping(with_change(path, value), operators=OPERATORS)
    assert caught.value.path == where
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("path", "where", "message"),
    [
        (["routes", 0, "name"], "routes[1]", "needs a name"),
        (["routes", 0, "operators"], "routes[1]", "needs operators"),
        (["routes", 0, "price"], "routes[1]", "needs a price"),
        (["routes", 3, "prefix"], "routes[4]", "needs a prefix"),
        (["coverage", 0, "name"], "coverage[1]", "needs a name"),
    ],
)
def test_missing_keys(path: list[Any], where: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        RoutingConfig.from_mapping(with_change(path, None, delete=True))
    assert caught.value.path == where
    assert message in caught.value.message


def test_not_a_table() -> None:
    with pytest.raises(ConfigError, match="must be a table"):
        RoutingConfig.from_mapping([])  # type: ignore[arg-type]


def test_operators_are_not_checked_without_a_list() -> None:
    data = with_change(["routes", 0, "operators"], ["somebody"])
    assert RoutingConfig.from_mapping(data).routes[0].operators == ("somebody",)
