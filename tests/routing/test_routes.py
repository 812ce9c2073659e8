"""The route table: longest prefix, coverage, portability, failover, account prices, refusals."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsc.pdu.constants import CommandStatus, MessageState
from smsc.pdu.errors import PduError
from smsc.routing.forced_outcomes import ERR_COVERAGE, CoverageAction
from smsc.routing.prices import AccountPrices, PriceBook
from smsc.routing.routes import CoverageRule, Route, RouteTable
from smsc.store.records import Account, PortedNumber

KYIVSTAR = Route(
    name="kyivstar",
    prefixes=("38067", "38068"),
    operators=("kyivstar", "vodafone"),
    price=30,
    currency="EUR",
)
LIFECELL = Route(
    name="lifecell", prefixes=("38063", "38093"), operators=("lifecell",), price=25, currency="EUR"
)
VODAFONE = Route(
    name="vodafone",
    prefixes=("38050",),
    operators=("vodafone", "kyivstar"),
    price=28,
    currency="EUR",
)
UKRAINE = Route(name="ukraine", prefixes=("380",), operators=("default",), price=50, currency="EUR")
US = CoverageRule(name="us-canada", prefixes=("1",))
TABLE = RouteTable([KYIVSTAR, LIFECELL, VODAFONE, UKRAINE], [US])
EUR = Account(system_id="eur", password_hash="")


def status_of(table: RouteTable, number: str, **kwargs: object) -> int:
    with pytest.raises(PduError) as caught:
        table.route(number, **kwargs)  # type: ignore[arg-type]
    return caught.value.command_status


def test_longest_prefix_wins() -> None:
    choice = TABLE.route("380671234567")
    assert (choice.route, choice.operator, choice.price, choice.currency, choice.prefix) == (
        "kyivstar",
        "kyivstar",
        30,
        "EUR",
        "38067",
    )
    assert not choice.failover and not choice.ported and choice.forced is None
    assert "prefix 38067" in choice.reason
    assert TABLE.route("380441234567").route == "ukraine"
    assert TABLE.route("380931234567").route == "lifecell"


def test_no_route() -> None:
    assert status_of(TABLE, "48601234567") == CommandStatus.SMSC_RNOROUTE


def test_coverage_rule_rejects_after_acceptance() -> None:
    choice = TABLE.route("12025550123")
    assert choice.forced is not None
    assert choice.forced.state == MessageState.REJECTED
    assert choice.forced.error_code == ERR_COVERAGE
    assert (choice.route, choice.operator, choice.price) == ("us-canada", "", 0)
    assert "REJECTD err:021" in choice.reason


def test_coverage_undeliver_and_refuse() -> None:
    table = RouteTable(
        [UKRAINE],
        [
            CoverageRule(
                name="crimea", prefixes=("38065",), action=CoverageAction.UNDELIVER, error_code=13
            ),
            CoverageRule(name="nowhere", prefixes=("38069",), action=CoverageAction.REFUSE),
        ],
    )
    forced = table.route("380651234567").forced
    assert forced is not None
    assert (forced.state, forced.error_code) == (MessageState.UNDELIVERABLE, 13)
    assert status_of(table, "380691234567") == CommandStatus.SMSC_RCOVERAGE


def test_longer_route_beats_shorter_coverage_and_coverage_wins_ties() -> None:
    jamaica = Route(
        name="jamaica", prefixes=("1876",), operators=("digicel",), price=9, currency="EUR"
    )
    tie = CoverageRule(name="tie", prefixes=("380",))
    table = RouteTable([jamaica, UKRAINE], [US, tie])
    assert table.route("18765551234").route == "jamaica"
    assert table.route("12025550123").forced is not None
    assert table.route("380441234567").route == "tie"


def test_coverage_price_in_the_account_currency_when_free() -> None:
    uah = Account(system_id="u", password_hash="", currency="UAH")
    assert TABLE.route("12025550123", account=uah).currency == "UAH"
    priced = RouteTable([], [CoverageRule(name="x", prefixes=("1",), price=5, currency="EUR")])
    assert priced.route("12025550123", account=EUR).price == 5
    assert status_of(priced, "12025550123", account=uah) == CommandStatus.SMSC_RNOROUTE


def test_failover_to_the_next_operator_that_is_up() -> None:
    choice = TABLE.route("380671234567", operator_up=lambda name: name != "kyivstar")
    assert (choice.operator, choice.failover, choice.route) == ("vodafone", True, "kyivstar")
    assert "failover: kyivstar down" in choice.reason


def test_every_operator_down_queues_on_the_first() -> None:
    choice = TABLE.route("380671234567", operator_up=lambda name: False)
    assert (choice.operator, choice.failover) == ("kyivstar", True)
    assert "every operator of the route is down" in choice.reason


def test_ported_number_goes_to_the_new_operators_home_route() -> None:
    table = TABLE.with_ported([PortedNumber(number="380671111111", operator="lifecell")])
    choice = table.route("380671111111")
    assert (choice.route, choice.operator, choice.price, choice.ported) == (
        "lifecell",
        "lifecell",
        25,
        True,
    )
    assert "ported to lifecell" in choice.reason
    assert table.route("380671111112").operator == "kyivstar"  # its neighbour did not move
    assert table.ported_to("380671111111") == "lifecell"


def test_home_route_is_the_one_sharing_most_digits() -> None:
    near = Route(name="vf-ua", prefixes=("38050",), operators=("vf",), price=1, currency="EUR")
    far = Route(name="vf-de", prefixes=("49172",), operators=("vf",), price=2, currency="EUR")
    table = RouteTable([far, near, KYIVSTAR], ported={"380671111111": "vf", "491711111111": "vf"})
    assert table.route("380671111111").route == "vf-ua"
    assert table.route("491711111111").route == "vf-de"


def test_ported_failover_uses_the_home_route() -> None:
    table = TABLE.with_ported({"380931111111": "vodafone"})
    choice = table.route("380931111111", operator_up=lambda name: name != "vodafone")
    assert (choice.route, choice.operator, choice.ported, choice.failover) == (
        "vodafone",
        "kyivstar",
        True,
        True,
    )


def test_ported_to_an_operator_without_a_home_route() -> None:
    table = TABLE.with_ported({"380671111111": "newcomer", "48601111111": "newcomer"})
    choice = table.route("380671111111")
    assert (choice.route, choice.operator, choice.price) == ("kyivstar", "newcomer", 30)
    assert status_of(table, "48601111111") == CommandStatus.SMSC_RNOROUTE


def test_coverage_applies_to_ported_numbers() -> None:
    table = TABLE.with_ported({"12025550123": "lifecell"})
    assert table.route("12025550123").forced is not None


def test_account_price_lists() -> None:
    prices = PriceBook(
        [
            AccountPrices(
                account="acme",
                currency="EUR",
                by_route={"kyivstar": 20},
                by_prefix={"38068": 18, "380": 40, "3806712": 15},
            ),
        ]
    )
    table = TABLE.with_prices(prices)
    acme = Account(system_id="acme", password_hash="")
    sub = Account(system_id="acme-sub", password_hash="", parent="acme")
    # The most specific entry wins: a prefix entry at least as long as the route's prefix...
    assert table.route("380671234567", account=acme).price == 15
    assert table.route("380681234567", account=acme).price == 18
    # ...else the entry for the route...
    assert table.route("380679234567", account=acme).price == 20
    # ...else a shorter prefix entry, else the route's price.
    assert table.route("380501234567", account=acme).price == 40
    assert table.route("380501234567", account=sub).price == 40  # parent's list
    assert table.route("380501234567", account=EUR).price == 28  # route price
    assert table.route("380501234567").price == 28
    assert "account price list (prefix 380)" in table.route("380501234567", account=acme).reason


def test_price_in_another_currency_is_no_route() -> None:
    uah = Account(system_id="uah", password_hash="", currency="UAH")
    assert status_of(TABLE, "380671234567", account=uah) == CommandStatus.SMSC_RNOROUTE
    prices = PriceBook([AccountPrices(account="uah", currency="UAH", by_route={"kyivstar": 90})])
    choice = TABLE.with_prices(prices).route("380671234567", account=uah)
    assert (choice.price, choice.currency) == (90, "UAH")


def test_longest_reports_what_the_prefix_has() -> None:
    assert TABLE.longest("380671234567") == ("38067", KYIVSTAR, None)
    assert TABLE.longest("12025550123") == ("1", None, US)
    assert TABLE.longest("48601234567") is None


def test_choices_are_reused() -> None:
    assert TABLE.route("380671234567") is TABLE.route("380671234568")


@pytest.mark.parametrize(
    ("routes", "coverage", "message"),
    [
        ([KYIVSTAR, KYIVSTAR], [], "two routes"),
        (
            [
                KYIVSTAR,
                Route(name="x", prefixes=("38067",), operators=("a",), price=1, currency="EUR"),
            ],
            [],
            "prefix 38067 is in routes",
        ),
        (
            [Route(name="x", prefixes=("38a",), operators=("a",), price=1, currency="EUR")],
            [],
            "digits",
        ),
        (
            [Route(name="x", prefixes=("",), operators=("a",), price=1, currency="EUR")],
            [],
            "digits",
        ),
        (
            [Route(name="x", prefixes=("1",), operators=(), price=1, currency="EUR")],
            [],
            "no operator",
        ),
        (
            [Route(name="x", prefixes=("1",), operators=("a",), price=-1, currency="EUR")],
            [],
            "negative",
        ),
        ([], [US, CoverageRule(name="y", prefixes=("1",))], "coverage rules"),
        ([], [CoverageRule(name="y", prefixes=("1",), price=-1)], "negative"),
    ],
)
def test_bad_tables(routes: list[Route], coverage: list[CoverageRule], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RouteTable(routes, coverage)


def test_bad_ported_entries() -> None:
    with pytest.raises(ValueError, match="digits"):
        TABLE.with_ported({"+380": "x"})
    with pytest.raises(ValueError, match="no operator"):
        TABLE.with_ported({"380671111111": ""})


# --- agreement with a brute-force reference -----------------------------------------------

prefixes = st.text(alphabet="0123", min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(
    route_prefixes=st.lists(prefixes, min_size=0, max_size=40, unique=True),
    coverage_prefixes=st.lists(prefixes, min_size=0, max_size=5, unique=True),
    numbers=st.lists(st.text(alphabet="0123", min_size=1, max_size=8), min_size=1, max_size=30),
)
def test_longest_prefix_agrees_with_brute_force(
    route_prefixes: list[str], coverage_prefixes: list[str], numbers: list[str]
) -> None:
    routes = [
        Route(name=f"r{i}", prefixes=(p,), operators=(f"op{i}",), price=i, currency="EUR")
        for i, p in enumerate(route_prefixes)
    ]
    rules = [CoverageRule(name=f"c{i}", prefixes=(p,)) for i, p in enumerate(coverage_prefixes)]
    table = RouteTable(routes, rules)
    for number in numbers:
        candidates = [
            (len(r.prefixes[0]), 0, r.name) for r in routes if number.startswith(r.prefixes[0])
        ]
        candidates += [
            (len(c.prefixes[0]), 1, c.name) for c in rules if number.startswith(c.prefixes[0])
        ]
        if not candidates:
            assert status_of(table, number) == CommandStatus.SMSC_RNOROUTE
            continue
        expected = max(candidates)[2]  # longest; on a tie the coverage rule (1) wins
        choice = table.route(number)
        assert choice.route == expected
        assert (choice.forced is not None) == expected.startswith("c")
