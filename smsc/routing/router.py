"""The routing decision for one submit: sender, destination, route and price, blacklist.

:meth:`Router.decide` is what the core calls once per destination of a submit. It checks, in
this order, and raises PduError with the status of the first refusal:

1. the sender (ESME_RINVSRCTON, ESME_RINVSRCNPI, ESME_RINVSRCADR, SMSC_RSENDERNOTREG),
2. the destination (ESME_RINVDSTTON, ESME_RINVDSTNPI, ESME_RINVDSTADR), read under its ton
   with the configured home country (see :mod:`smsc.routing.numbers`); a number that is
   possible but not valid is refused with ESME_RINVDSTADR for accounts with ``strict_numbers``,
   else the decision says ``unassigned`` and the core gives the message the final state
   UNDELIVERABLE with err 1 (:data:`ERR_UNKNOWN_SUBSCRIBER`), as a network's subscriber lookup
   would; a coverage rule's forced outcome and the blacklist take precedence over it,
3. the route (SMSC_RNOROUTE, SMSC_RCOVERAGE),
4. the blacklist: with the account's blacklist_mode REFUSE, SMSC_RBLACKLISTED; with RECEIPT the
   decision says ``blacklisted`` and the core accepts the message without sending or charging
   it, and gives it the final state UNDELIVERABLE with err 250 (:data:`ERR_BLACKLISTED`). This
   takes precedence over a coverage rule's forced outcome (``route.forced``), which otherwise
   the core stores with the message (its ``forced_state`` and ``forced_error``).

Credit, throughput, part counts and the account's bind state are the core's: they need the
store or the session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from smsc.pdu.constants import CommandStatus
from smsc.pdu.errors import PduError
from smsc.routing.blacklist import Blacklist
from smsc.routing.forced_outcomes import ERR_BLACKLISTED, ERR_UNKNOWN_SUBSCRIBER
from smsc.routing.numbers import Destination, NumberPlan
from smsc.routing.routes import RouteChoice, RouteTable, all_up
from smsc.routing.senders import SenderRules, Source
from smsc.slotted import slot_constructor
from smsc.store.records import Account, BlacklistEntry, BlacklistMode

__all__ = ["ERR_BLACKLISTED", "ERR_UNKNOWN_SUBSCRIBER", "Router", "RoutingDecision"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutingDecision:
    source: Source
    destination: Destination
    route: RouteChoice
    blacklisted: bool = False
    blacklist_entry: BlacklistEntry | None = None

    @property
    def unassigned(self) -> bool:
        """The destination is possible but in no assigned range: it ends UNDELIV err 1."""
        return not self.destination.valid

    @property
    def price(self) -> int:
        """What one part costs: 0 when blacklisted (never charged), else the route's price."""
        return 0 if self.blacklisted else self.route.price


_make_decision = slot_constructor(RoutingDecision)


class Router:
    """Sender rules, number plan, route table and blacklist behind one call."""

    __slots__ = ("blacklist", "home_country", "numbers", "operator_up", "routes", "senders")

    def __init__(
        self,
        routes: RouteTable,
        *,
        blacklist: Blacklist | None = None,
        numbers: NumberPlan | None = None,
        senders: SenderRules | None = None,
        operator_up: Callable[[str], bool] | None = None,
        home_country: str | None = None,
    ) -> None:
        self.routes = routes
        self.home_country = home_country  # ISO 3166 code whose national numbers are read
        self.blacklist = blacklist if blacklist is not None else Blacklist()
        self.numbers = numbers if numbers is not None else NumberPlan()
        self.senders = senders if senders is not None else SenderRules(numbers=self.numbers)
        self.operator_up: Callable[[str], bool] = operator_up or all_up

    def decide(
        self,
        account: Account,
        *,
        source_addr: str,
        source_ton: int,
        source_npi: int,
        destination_addr: str,
        dest_ton: int,
        dest_npi: int,
        now: float,
    ) -> RoutingDecision:
        """The decision for one destination of a submit by ``account`` (see the module's
        order of checks). ``now`` is accepted for rules that depend on time; none does yet."""
        del now  # no time-dependent routing rule yet; the signature is the stable one
        source = self.senders.check(account, source_addr, source_ton, source_npi)
        destination = self.numbers.check(destination_addr, dest_ton, dest_npi, self.home_country)
        if account.strict_numbers and not destination.valid:
            raise PduError(
                CommandStatus.ESME_RINVDSTADR,
                f"destination {destination.number} is a possible number in no assigned range "
                "(the account accepts valid numbers only)",
            )
        choice = self.routes.route(
            destination.number, account=account, operator_up=self.operator_up
        )
        entry = self.blacklist.match(destination.number, account.system_id, account.parent or "")
        if entry is None:
            return _make_decision(source, destination, choice, False, None)
        if account.blacklist_mode == BlacklistMode.REFUSE:
            scope = f"account {entry.account!r}" if entry.account else "global"
            kind = "prefix" if entry.prefix else "number"
            raise PduError(
                CommandStatus.SMSC_RBLACKLISTED,
                f"destination {destination.number} is blacklisted ({scope} {kind} {entry.number})",
            )
        return _make_decision(source, destination, choice, True, entry)
