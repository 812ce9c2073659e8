"""Router.decide: the order of checks, each refusal status, blacklist modes."""

from __future__ import annotations

from typing import Any

import pytest

from smsc.pdu.constants import CommandStatus
from smsc.pdu.errors import PduError
from smsc.routing.blacklist import Blacklist
from smsc.routing.forced_outcomes import CoverageAction
from smsc.routing.numbers import NumberPlan
from smsc.routing.router import ERR_BLACKLISTED, Router, RoutingDecision
from smsc.routing.routes import CoverageRule, Route, RouteTable
from smsc.routing.senders import SenderKind
from smsc.store.records import Account, BlacklistEntry, BlacklistMode

TABLE = RouteTable(
    [
        Route(
            name="kyivstar",
            prefixes=("38067",),
            operators=("kyivstar", "vodafone"),
            price=30,
            currency="EUR",
        )
    ],
    [CoverageRule(name="us-canada", prefixes=("1",))],
)
BLACKLIST = Blacklist(
    [
        BlacklistEntry(number="380670000000"),
        BlacklistEntry(number="3806711", prefix=True, account="acme"),
    ]
)
ROUTER = Router(TABLE, blacklist=BLACKLIST, numbers=NumberPlan())
ACME = Account(
    system_id="acme", password_hash="", sender_ids=("Acme",), require_registered_sender=True
)
STRICT = Account(system_id="strict", password_hash="", blacklist_mode=BlacklistMode.REFUSE)


def decide(account: Account = ACME, router: Router = ROUTER, **overrides: Any) -> RoutingDecision:
    fields: dict[str, object] = {
        "source_addr": "Acme",
        "source_ton": 5,
        "source_npi": 0,
        "destination_addr": "380671234567",
        "dest_ton": 1,
        "dest_npi": 1,
        "now": 0.0,
    }
    fields.update(overrides)
    return router.decide(account, **fields)  # type: ignore[arg-type]


def status(account: Account = ACME, **overrides: Any) -> int:
    with pytest.raises(PduError) as caught:
        decide(account, **overrides)
    return caught.value.command_status


def test_a_valid_message() -> None:
    decision = decide()
    assert decision.source.addr == "Acme" and decision.source.kind == SenderKind.ALPHANUMERIC
    assert decision.destination.region == "UA"
    assert (decision.route.operator, decision.route.price) == ("kyivstar", 30)
    assert not decision.blacklisted and decision.blacklist_entry is None
    assert decision.price == 30


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"source_ton": 9}, CommandStatus.ESME_RINVSRCTON),
        ({"source_npi": 2}, CommandStatus.ESME_RINVSRCNPI),
        ({"source_addr": "Acme*"}, CommandStatus.ESME_RINVSRCADR),
        ({"source_addr": "Other"}, CommandStatus.SMSC_RSENDERNOTREG),
        ({"dest_ton": 5}, CommandStatus.ESME_RINVDSTTON),
        ({"dest_npi": 9}, CommandStatus.ESME_RINVDSTNPI),
        ({"destination_addr": "+380671234567"}, CommandStatus.ESME_RINVDSTADR),
        ({"destination_addr": "48601234567"}, CommandStatus.SMSC_RNOROUTE),
    ],
)
def test_each_refusal(overrides: dict[str, Any], expected: int) -> None:
    assert status(ACME, **overrides) == expected


def test_sender_is_checked_before_the_destination_and_the_destination_before_the_route() -> None:
    assert status(source_addr="Other", destination_addr="x") == CommandStatus.SMSC_RSENDERNOTREG
    assert status(destination_addr="4860123") == CommandStatus.ESME_RINVDSTADR


def test_coverage_refusal() -> None:
    rule = CoverageRule(name="no", prefixes=("1",), action=CoverageAction.REFUSE)
    router = Router(RouteTable([], [rule]))
    with pytest.raises(PduError) as caught:
        decide(ACME, router, destination_addr="12025550123")
    assert caught.value.command_status == CommandStatus.SMSC_RCOVERAGE


def test_coverage_outcome_is_in_the_decision() -> None:
    decision = decide(destination_addr="12025550123")
    assert decision.route.forced is not None


def test_blacklisted_with_receipt_mode_is_accepted_uncharged() -> None:
    decision = decide(destination_addr="380670000000")
    assert decision.blacklisted
    assert decision.blacklist_entry == BlacklistEntry(number="380670000000")
    assert decision.price == 0
    assert decision.route.price == 30  # the route is still known, for reports
    assert ERR_BLACKLISTED == 250


def test_blacklisted_with_refuse_mode() -> None:
    with pytest.raises(PduError) as caught:
        decide(STRICT, source_addr="Any", destination_addr="380670000000")
    assert caught.value.command_status == CommandStatus.SMSC_RBLACKLISTED
    assert "global number 380670000000" in str(caught.value)


def test_account_blacklist_applies_to_the_account_and_sub_accounts_only() -> None:
    assert decide(destination_addr="380671100000").blacklisted
    sub = Account(system_id="acme-1", password_hash="", parent="acme")
    assert decide(sub, source_addr="Any", destination_addr="380671100000").blacklisted
    assert not decide(STRICT, source_addr="Any", destination_addr="380671100000").blacklisted


def test_failover_follows_operator_up() -> None:
    router = Router(TABLE, operator_up=lambda name: name != "kyivstar")
    assert decide(ACME, router).route.operator == "vodafone"
    router.operator_up = lambda name: True
    assert decide(ACME, router).route.operator == "kyivstar"


def test_default_sender() -> None:
    account = Account(system_id="d", password_hash="", default_sender="Shop")
    assert decide(account, source_addr="").source.addr == "Shop"


# --- destinations read under their ton, numbers in no assigned range ---------------------------

UK_TABLE = RouteTable(
    [
        Route(name="kyivstar", prefixes=("38067",), operators=("kyivstar",), price=30,
              currency="EUR"),
        Route(name="uk", prefixes=("44",), operators=("uk",), price=40, currency="EUR"),
    ],
    [],
)


def test_a_national_destination_is_routed_as_the_international_number_of_the_home_country() -> None:
    router = Router(UK_TABLE, numbers=NumberPlan(), home_country="UA")
    decision = decide(router=router, destination_addr="0671234567", dest_ton=2)
    assert decision.destination.number == "380671234567"
    assert decision.route.route == "kyivstar"
    plain = Router(UK_TABLE, numbers=NumberPlan())  # no home country: national is unreadable
    assert status(router=plain, destination_addr="0671234567", dest_ton=2) == (
        CommandStatus.ESME_RINVDSTADR
    )


def test_a_number_in_no_assigned_range_is_accepted_unless_the_account_is_strict() -> None:
    router = Router(UK_TABLE, numbers=NumberPlan())
    decision = decide(router=router, destination_addr="447700900123")
    assert decision.unassigned and decision.destination.number == "447700900123"
    assert decision.route.route == "uk" and decision.price == 40
    assert not decide(router=router, destination_addr="380671234567").unassigned
    strict = Account(system_id="acme", password_hash="", strict_numbers=True)
    with pytest.raises(PduError) as caught:
        decide(strict, router, source_addr="Shop", destination_addr="447700900123")
    assert caught.value.command_status == CommandStatus.ESME_RINVDSTADR
    assert "no assigned range" in str(caught.value)
    assert decide(strict, router, source_addr="Shop", destination_addr="447911123456").route


def test_impossible_numbers_are_refused_even_for_lenient_accounts() -> None:
    router = Router(UK_TABLE, numbers=NumberPlan())
    assert status(router=router, destination_addr="4477009001") == CommandStatus.ESME_RINVDSTADR
