"""The route table: which operator carries a destination, at what price per part, and why.

How a destination is routed (the ``reason`` of a :class:`RouteChoice` says which step decided):

1. **Longest prefix.** Routes and coverage rules are indexed by their prefixes (digits of the
   international number). The longest prefix that begins the number decides; when a route and a
   coverage rule have the same prefix, the coverage rule wins. No match: SMSC_RNOROUTE (0x404).
2. **Coverage.** A coverage rule forces an outcome for everything under its prefix: REJECTD or
   UNDELIV after acceptance (the message never reaches an operator; ``operator`` is the rule's,
   often ""), or refusal at submit with SMSC_RCOVERAGE (0x407). Its price is the rule's (0 unless
   set). Portability and failover do not apply.
3. **Portability.** A number in the portability table goes to its new operator, on that
   operator's *home route*: of the routes whose first operator it is, the one whose prefix
   shares the most leading digits with the number (the first listed on a tie). Its price is that
   route's. An operator without a home route keeps the prefix's route and price.
4. **Failover.** The first operator of the route for which ``operator_up(name)`` is true carries
   the message (for a ported number: its new operator first, then the home route's others). When
   none is up, the first one gets it anyway: the message waits in its queue.
5. **Price.** The account's price list (or its parent's) overrides the route's price (see
   :mod:`smsc.routing.prices`). The price must be in the account's currency: otherwise
   SMSC_RNOROUTE, as the route cannot be billed for that account.

Lookups are one dict probe per distinct prefix length (at most 15), whatever the table's size;
route choices are built once per (prefix, operator, price) and reused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from smsc.pdu.constants import CommandStatus
from smsc.pdu.errors import PduError
from smsc.routing.forced_outcomes import ERR_COVERAGE, CoverageAction, ForcedOutcome
from smsc.routing.prices import PriceBook
from smsc.store.records import Account, PortedNumber

__all__ = ["CoverageRule", "Route", "RouteChoice", "RouteTable", "all_up", "check_prefix"]

MAX_PREFIX: Final = 15
CHOICE_CACHE_SIZE: Final = 200_000
STAT_NAMES: Final = {CoverageAction.REJECT: "REJECTD", CoverageAction.UNDELIVER: "UNDELIV"}


def check_prefix(prefix: str) -> str:
    """``prefix`` if it is 1 to 15 ASCII digits, else ValueError."""
    if not (prefix.isdigit() and prefix.isascii() and len(prefix) <= MAX_PREFIX):
        raise ValueError(f"prefix {prefix[:24]!r} must be 1 to {MAX_PREFIX} digits")
    return prefix


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """Destinations under ``prefixes`` go to ``operators`` (in failover order) at ``price``
    minor units of ``currency`` per part."""

    name: str
    prefixes: tuple[str, ...]
    operators: tuple[str, ...]
    price: int
    currency: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CoverageRule:
    """A forced outcome for every destination under ``prefixes``."""

    name: str
    prefixes: tuple[str, ...]
    action: CoverageAction = CoverageAction.REJECT
    error_code: int = ERR_COVERAGE
    operator: str = ""  # the operator named in reports, if any
    price: int = 0
    currency: str = ""  # "" with price 0: whatever the account's currency is
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteChoice:
    """Where a destination goes and what one part costs, with the reason in words."""

    route: str
    operator: str
    price: int  # minor units per part
    currency: str
    prefix: str  # the prefix that matched
    forced: ForcedOutcome | None = None
    ported: bool = False
    failover: bool = False
    reason: str = ""


class _Entry:
    __slots__ = ("coverage", "prefix", "route")

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.route: Route | None = None
        self.coverage: CoverageRule | None = None


def all_up(_name: str) -> bool:
    """The default ``operator_up``: every operator is up."""
    return True


def _common_length(a: str, b: str) -> int:
    size = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        size += 1
    return size


class RouteTable:
    """Routes, coverage rules, the portability table and account price lists, compiled."""

    __slots__ = (
        "_choices",
        "_coverage",
        "_home",
        "_index",
        "_lengths",
        "_ported",
        "_priced",
        "_prices",
        "_routes",
    )

    def __init__(
        self,
        routes: Iterable[Route],
        coverage: Iterable[CoverageRule] = (),
        *,
        ported: Mapping[str, str] | Iterable[PortedNumber] = (),
        prices: PriceBook | None = None,
    ) -> None:
        self._routes = tuple(routes)
        self._coverage = tuple(coverage)
        self._index: dict[str, _Entry] = {}
        self._home: dict[str, list[tuple[str, Route]]] = {}
        names: set[str] = set()
        for route in self._routes:
            if route.name in names:
                raise ValueError(f"two routes are named {route.name!r}")
            names.add(route.name)
            if not route.operators:
                raise ValueError(f"route {route.name!r} has no operator")
            if route.price < 0:
                raise ValueError(f"route {route.name!r} has a negative price")
            for prefix in route.prefixes:
                entry = self._entry(check_prefix(prefix))
                if entry.route is not None:
                    raise ValueError(
                        f"prefix {prefix} is in routes {entry.route.name!r} and {route.name!r}"
                    )
                entry.route = route
                self._home.setdefault(route.operators[0], []).append((prefix, route))
        for rule in self._coverage:
            if rule.price < 0:
                raise ValueError(f"coverage rule {rule.name!r} has a negative price")
            for prefix in rule.prefixes:
                entry = self._entry(check_prefix(prefix))
                if entry.coverage is not None:
                    raise ValueError(
                        f"prefix {prefix} is in coverage rules {entry.coverage.name!r} "
                        f"and {rule.name!r}"
                    )
                entry.coverage = rule
        self._lengths = tuple(sorted({len(p) for p in self._index}, reverse=True))
        self._ported = _ported_map(ported)
        self._prices = prices if prices is not None else PriceBook()
        self._priced = len(self._prices) > 0
        self._choices: dict[tuple[object, ...], RouteChoice] = {}

    def _entry(self, prefix: str) -> _Entry:
        entry = self._index.get(prefix)
        if entry is None:
            entry = self._index[prefix] = _Entry(prefix)
        return entry

    # --- building variants -----------------------------------------------------------------
    def with_ported(self, ported: Mapping[str, str] | Iterable[PortedNumber]) -> RouteTable:
        """The same routes with another portability table."""
        return RouteTable(self._routes, self._coverage, ported=ported, prices=self._prices)

    def with_prices(self, prices: PriceBook) -> RouteTable:
        """The same routes with other account price lists."""
        return RouteTable(self._routes, self._coverage, ported=self._ported, prices=prices)

    @property
    def routes(self) -> tuple[Route, ...]:
        return self._routes

    @property
    def coverage(self) -> tuple[CoverageRule, ...]:
        return self._coverage

    @property
    def prices(self) -> PriceBook:
        return self._prices

    def __len__(self) -> int:
        """The number of distinct prefixes (routes and coverage rules)."""
        return len(self._index)

    def ported_to(self, number: str) -> str | None:
        return self._ported.get(number)

    # --- lookups ---------------------------------------------------------------------------
    def longest(self, number: str) -> tuple[str, Route | None, CoverageRule | None] | None:
        """The longest prefix of ``number`` with a route or a coverage rule, and what it has."""
        index = self._index
        size = len(number)
        for length in self._lengths:
            if length <= size:
                entry = index.get(number[:length])
                if entry is not None:
                    return entry.prefix, entry.route, entry.coverage
        return None

    def route(
        self,
        number: str,
        *,
        account: Account | None = None,
        operator_up: Callable[[str], bool] | None = None,
    ) -> RouteChoice:
        """Route a valid international number; PduError SMSC_RNOROUTE (no route, or no price in
        the account's currency) or SMSC_RCOVERAGE (a coverage rule refuses it)."""
        index = self._index
        size = len(number)
        entry: _Entry | None = None
        for length in self._lengths:
            if length <= size:
                entry = index.get(number[:length])
                if entry is not None:
                    break
        ported = self._ported.get(number) if self._ported else None
        if entry is not None and entry.coverage is not None:
            return self._covered(entry.prefix, entry.coverage, account)
        if ported is not None:
            return self._ported_choice(number, ported, entry, account, operator_up or all_up)
        if entry is None or entry.route is None:
            raise PduError(CommandStatus.SMSC_RNOROUTE, f"no route for {number[:24]}")
        route = entry.route
        up = operator_up or all_up
        operators = route.operators
        position = 0
        if not up(operators[0]):
            position = _first_up(operators, up)
        return self._choice(number, route, entry.prefix, operators, position, account, "")

    def _choice(
        self,
        number: str,
        route: Route,
        prefix: str,
        operators: tuple[str, ...],
        position: int,
        account: Account | None,
        ported_note: str,
    ) -> RouteChoice:
        """The (cached) choice of ``operators[position]`` (-1: all down, the first one)."""
        priced = (
            self._prices.account_price(account, route.name, prefix, number)
            if self._priced and account is not None
            else None
        )
        key: tuple[object, ...]
        if priced is None:
            key = (prefix, route.name, position, ported_note)
        else:
            key = (prefix, route.name, position, ported_note, *priced)
        choice = self._choices.get(key)
        if choice is None:
            choice = self._build(route, prefix, operators, position, priced, ported_note)
            if len(self._choices) >= CHOICE_CACHE_SIZE:
                self._choices.clear()
            self._choices[key] = choice
        if account is not None and choice.currency != account.currency:
            raise PduError(
                CommandStatus.SMSC_RNOROUTE,
                f"route {route.name!r} has no price in {account.currency} "
                f"(its price is in {choice.currency})",
            )
        return choice

    @staticmethod
    def _build(
        route: Route,
        prefix: str,
        operators: tuple[str, ...],
        position: int,
        priced: tuple[int, str, str] | None,
        ported_note: str,
    ) -> RouteChoice:
        operator = operators[max(position, 0)]
        why = ported_note or f"prefix {prefix} matches route {route.name!r}"
        if position == 0:
            why += f"; operator {operator}"
        elif position > 0:
            down = ", ".join(operators[:position])
            why += f"; operator {operator} (failover: {down} down)"
        else:
            why += f"; operator {operator} (every operator of the route is down: it waits there)"
        if priced is None:
            price, currency = route.price, route.currency
            why += "; route price"
        else:
            price, currency, matched = priced
            why += f"; account price list ({matched})"
        return RouteChoice(
            route=route.name,
            operator=operator,
            price=price,
            currency=currency,
            prefix=prefix,
            ported=bool(ported_note),
            failover=position != 0,
            reason=why,
        )

    def _covered(self, prefix: str, rule: CoverageRule, account: Account | None) -> RouteChoice:
        state = rule.action.state
        if state is None:
            raise PduError(
                CommandStatus.SMSC_RCOVERAGE,
                f"coverage rule {rule.name!r} (prefix {prefix}) refuses these destinations",
            )
        currency = rule.currency
        if rule.price == 0 and account is not None:
            currency = account.currency
        key = ("coverage", prefix, currency)
        choice = self._choices.get(key)
        if choice is None:
            stat = STAT_NAMES[rule.action]
            choice = RouteChoice(
                route=rule.name,
                operator=rule.operator,
                price=rule.price,
                currency=currency,
                prefix=prefix,
                forced=ForcedOutcome(state=state, error_code=rule.error_code, rule=rule.name),
                reason=(
                    f"prefix {prefix} matches coverage rule {rule.name!r}: accepted, then "
                    f"{stat} err:{rule.error_code:03d}"
                ),
            )
            self._choices[key] = choice
        if account is not None and choice.currency != account.currency:
            raise PduError(
                CommandStatus.SMSC_RNOROUTE,
                f"coverage rule {rule.name!r} has no price in {account.currency}",
            )
        return choice

    def _ported_choice(
        self,
        number: str,
        operator: str,
        entry: _Entry | None,
        account: Account | None,
        up: Callable[[str], bool],
    ) -> RouteChoice:
        homes = self._home.get(operator)
        if homes:
            best_prefix, best = homes[0]
            best_length = _common_length(best_prefix, number)
            for prefix, route in homes[1:]:
                length = _common_length(prefix, number)
                if length > best_length:
                    best_prefix, best, best_length = prefix, route, length
            operators = best.operators
            note = (
                f"number ported to {operator}; route {best.name!r} (prefix {best_prefix}) "
                f"is {operator}'s home route"
            )
            position = 0 if up(operators[0]) else _first_up(operators, up)
            return self._choice(number, best, best_prefix, operators, position, account, note)
        if entry is None or entry.route is None:
            raise PduError(
                CommandStatus.SMSC_RNOROUTE,
                f"{number[:24]} is ported to {operator}, which has no route, and no prefix "
                f"route matches",
            )
        note = (
            f"number ported to {operator} (no home route); prefix {entry.prefix} route "
            f"{entry.route.name!r}"
        )
        return self._choice(number, entry.route, entry.prefix, (operator,), 0, account, note)


def _first_up(operators: tuple[str, ...], up: Callable[[str], bool]) -> int:
    for position in range(1, len(operators)):
        if up(operators[position]):
            return position
    return -1


def _ported_map(ported: Mapping[str, str] | Iterable[PortedNumber]) -> dict[str, str]:
    if isinstance(ported, Mapping):
        items = dict(ported)
    else:
        items = {entry.number: entry.operator for entry in ported}
    for number, operator in items.items():
        check_prefix(number)
        if not operator:
            raise ValueError(f"ported number {number} has no operator")
    return items
