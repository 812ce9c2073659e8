"""RouteBook.route: what intake gets for destinations read under their ton and for numbers in
no assigned range (forced UNDELIV err 1, unless a coverage rule or the blacklist decides)."""

from __future__ import annotations

import tomllib

from smsc.core.routebook import RouteBook, Routed
from smsc.pdu.constants import MessageState
from smsc.routing.config import RoutingConfig
from smsc.store.records import Account

CONFIG = tomllib.loads(
    """
[routing]
home_country = "GB"

[[routes]]
name = "uk"
prefix = "44"
operators = ["uk"]
price = "0.04"

[[routes]]
name = "ua"
prefix = "380"
operators = ["ua"]
price = "0.03"

[[coverage]]
name = "drama-rejected"
prefix = "447700900999"
outcome = "rejectd"
"""
)
ACCOUNT = Account(system_id="acme", password_hash="")


def route(number: str, ton: int = 1) -> Routed:
    book = RouteBook(RoutingConfig.from_mapping(CONFIG))
    return book.route(ACCOUNT, source_addr="Shop", source_ton=5, source_npi=0,
                      destination_addr=number, dest_ton=ton, dest_npi=1, now=0.0)


def test_a_fictional_number_is_routed_to_end_undeliv_err_1() -> None:
    routed = route("07700900123", ton=2)
    assert routed.destination_addr == "447700900123"
    assert routed.route == "uk"
    assert routed.forced_state == MessageState.UNDELIVERABLE
    assert routed.forced_error == 1


def test_a_valid_number_is_not_forced() -> None:
    routed = route("07911123456", ton=2)
    assert routed.destination_addr == "447911123456"
    assert (routed.forced_state, routed.forced_error) == (0, 0)


def test_a_coverage_rule_decides_before_the_subscriber_lookup() -> None:
    routed = route("447700900999")
    assert routed.forced_state == MessageState.REJECTED
    assert routed.forced_error == 21
