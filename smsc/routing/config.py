"""The routing sections of the TOML config: ``[routing]``, ``[money]``, ``[[routes]]``,
``[[coverage]]`` and ``[account_prices.<system_id>]`` (see conf/routes.toml for every key,
documented).

:meth:`RoutingConfig.from_mapping` takes the parsed document (other sections are ignored: they
belong to other parsers) and raises ConfigError with the dotted path of the first mistake, such
as ``routes[3].prefixes[1]: must be 1 to 15 digits``. Entries of arrays count from 1, as in the
operators' config.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from smsc.config_error import ConfigError
from smsc.routing.blacklist import Blacklist
from smsc.routing.forced_outcomes import ERR_COVERAGE, CoverageAction
from smsc.routing.numbers import NumberPlan, home_country_problem
from smsc.routing.prices import (
    DEFAULT_DECIMALS,
    MAX_DECIMALS,
    AccountPrices,
    PriceBook,
    check_currency,
    parse_amount,
)
from smsc.routing.router import Router
from smsc.routing.routes import MAX_PREFIX, CoverageRule, Route, RouteTable
from smsc.store.records import BlacklistEntry, PortedNumber

__all__ = ["SECTIONS", "RoutingConfig"]

SECTIONS: Final = ("routing", "money", "routes", "coverage", "account_prices")
DEFAULT_CURRENCY: Final = "EUR"
MAX_ROUTES: Final = 1_000_000  # prefixes in all routes and coverage rules together
_NAME: Final = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_OPERATOR: Final = re.compile(r"[a-z][a-z0-9_]{0,31}")
_OUTCOMES: Final = {
    "rejectd": CoverageAction.REJECT,
    "undeliv": CoverageAction.UNDELIVER,
    "refuse": CoverageAction.REFUSE,
}
_ROUTING_KEYS: Final = ("home_country",)
_MONEY_KEYS: Final = ("currency", "decimals", "currencies")
_ROUTE_KEYS: Final = ("name", "prefix", "prefixes", "operators", "price", "currency")
_COVERAGE_KEYS: Final = (
    "name",
    "prefix",
    "prefixes",
    "outcome",
    "err",
    "operator",
    "price",
    "currency",
    "note",
)
_ACCOUNT_PRICE_KEYS: Final = ("currency", "routes", "prefixes")


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutingConfig:
    currency: str = DEFAULT_CURRENCY
    default_decimals: int = DEFAULT_DECIMALS
    currencies: Mapping[str, int] = field(default_factory=dict)  # decimals per currency
    routes: tuple[Route, ...] = ()
    coverage: tuple[CoverageRule, ...] = ()
    account_prices: tuple[AccountPrices, ...] = ()
    # The ISO 3166 code whose national numbers destinations with ton 0 or 2 may be (None: none).
    home_country: str | None = None

    def decimals(self, currency: str) -> int:
        """Decimal places of one minor unit of ``currency``."""
        return self.currencies.get(currency, self.default_decimals)

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], *, operators: Collection[str] | None = None
    ) -> RoutingConfig:
        """Parse the routing sections of a config document. With ``operators``, every operator
        a route names must be one of them."""
        if not isinstance(data, Mapping):
            raise ConfigError("", "the config must be a table")
        routing = _table(data.get("routing", {}), "routing")
        _known_keys(routing, _ROUTING_KEYS, "routing")
        home_country = routing.get("home_country") or None  # "" is none, as absent
        if home_country is not None:
            problem = home_country_problem(home_country)
            if problem is not None:
                raise ConfigError("routing.home_country", problem)
        money = _table(data.get("money", {}), "money")
        _known_keys(money, _MONEY_KEYS, "money")
        currency = _currency(money.get("currency", DEFAULT_CURRENCY), "money.currency")
        default_decimals = _decimals(money.get("decimals", DEFAULT_DECIMALS), "money.decimals")
        currencies: dict[str, int] = {}
        for code, value in _table(money.get("currencies", {}), "money.currencies").items():
            path = f"money.currencies.{code}"
            currencies[_currency(code, path)] = _decimals(value, path)
        config = cls(currency=currency, default_decimals=default_decimals, currencies=currencies)
        routes = _routes(data.get("routes", []), config, operators)
        coverage = _coverage(data.get("coverage", []), config, operators, routes)
        prices = _account_prices(data.get("account_prices", {}), config, routes)
        return cls(
            currency=currency,
            default_decimals=default_decimals,
            currencies=currencies,
            routes=routes,
            coverage=coverage,
            account_prices=prices,
            home_country=home_country,
        )

    # --- building the runtime objects ------------------------------------------------------
    def price_book(self) -> PriceBook:
        return PriceBook(self.account_prices)

    def route_table(self, ported: Mapping[str, str] | Iterable[PortedNumber] = ()) -> RouteTable:
        return RouteTable(self.routes, self.coverage, ported=ported, prices=self.price_book())

    def router(
        self,
        *,
        ported: Mapping[str, str] | Iterable[PortedNumber] = (),
        blacklist: Iterable[BlacklistEntry] = (),
        numbers: NumberPlan | None = None,
        operator_up: Callable[[str], bool] | None = None,
    ) -> Router:
        return Router(
            self.route_table(ported),
            blacklist=Blacklist(blacklist),
            numbers=numbers,
            operator_up=operator_up,
            home_country=self.home_country,
        )


# --- value checks ---------------------------------------------------------------------------


def _table(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(path, "must be a table")
    return value


def _list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise ConfigError(path, "must be a list")
    return list(value)


def _known_keys(table: Mapping[str, Any], keys: tuple[str, ...], path: str) -> None:
    for key in table:
        if key not in keys:
            raise ConfigError(f"{path}.{key}", f"unknown key (known: {', '.join(keys)})")


def _string(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(path, "must be a string")
    return value


def _currency(value: object, path: str) -> str:
    try:
        return check_currency(_string(value, path))
    except ValueError as exc:
        raise ConfigError(path, str(exc)) from None


def _decimals(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(path, "must be a whole number of decimal places")
    if not 0 <= value <= MAX_DECIMALS:
        raise ConfigError(path, f"must be 0 to {MAX_DECIMALS}")
    return value


def _amount(value: object, decimals: int, path: str) -> int:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ConfigError(path, 'must be a decimal amount such as "0.035"')
    try:
        return parse_amount(value, decimals)
    except ValueError as exc:
        raise ConfigError(path, str(exc)) from None


def _name(value: object, path: str) -> str:
    text = _string(value, path)
    if not _NAME.fullmatch(text):
        raise ConfigError(
            path, "must be 1-64 lower-case letters, digits, '_', '.' or '-' (starting alnum)"
        )
    return text


def _operator(value: object, path: str, operators: Collection[str] | None) -> str:
    text = _string(value, path)
    if not _OPERATOR.fullmatch(text):
        raise ConfigError(path, "an operator is a lower-case identifier such as 'kyivstar'")
    if operators is not None and text not in operators:
        raise ConfigError(path, f"no operator named {text!r}")
    return text


def _prefix(value: object, path: str) -> str:
    text = _string(value, path)
    if not (text.isdigit() and text.isascii() and len(text) <= MAX_PREFIX):
        raise ConfigError(path, f"must be 1 to {MAX_PREFIX} digits (no '+')")
    return text


def _prefixes(entry: Mapping[str, Any], path: str) -> tuple[tuple[str, str], ...]:
    """(prefix, its path) from ``prefix`` and/or ``prefixes``; at least one."""
    found: list[tuple[str, str]] = []
    if "prefix" in entry:
        found.append((_prefix(entry["prefix"], f"{path}.prefix"), f"{path}.prefix"))
    if "prefixes" in entry:
        for index, value in enumerate(_list(entry["prefixes"], f"{path}.prefixes"), start=1):
            where = f"{path}.prefixes[{index}]"
            found.append((_prefix(value, where), where))
    if not found:
        raise ConfigError(path, "needs a prefix or prefixes")
    seen: set[str] = set()
    for prefix, where in found:
        if prefix in seen:
            raise ConfigError(where, f"prefix {prefix} is listed twice")
        seen.add(prefix)
    return tuple(found)


# --- sections -------------------------------------------------------------------------------


def _routes(
    value: object, config: RoutingConfig, operators: Collection[str] | None
) -> tuple[Route, ...]:
    routes: list[Route] = []
    names: dict[str, str] = {}
    owners: dict[str, str] = {}
    total = 0
    for index, raw in enumerate(_list(value, "routes"), start=1):
        path = f"routes[{index}]"
        entry = _table(raw, path)
        _known_keys(entry, _ROUTE_KEYS, path)
        if "name" not in entry:
            raise ConfigError(path, "needs a name")
        name = _name(entry["name"], f"{path}.name")
        if name in names:
            raise ConfigError(f"{path}.name", f"route {name!r} is already defined at {names[name]}")
        names[name] = path
        prefixes = _prefixes(entry, path)
        for prefix, where in prefixes:
            if prefix in owners:
                raise ConfigError(where, f"prefix {prefix} is already in route {owners[prefix]!r}")
            owners[prefix] = name
        total += len(prefixes)
        if total > MAX_ROUTES:
            raise ConfigError(path, f"more than {MAX_ROUTES} prefixes")
        if "operators" not in entry:
            raise ConfigError(path, "needs operators (a list, in failover order)")
        names_list = _list(entry["operators"], f"{path}.operators")
        if not names_list:
            raise ConfigError(f"{path}.operators", "needs at least one operator")
        ops: list[str] = []
        for position, op in enumerate(names_list, start=1):
            where = f"{path}.operators[{position}]"
            text = _operator(op, where, operators)
            if text in ops:
                raise ConfigError(where, f"operator {text!r} is listed twice")
            ops.append(text)
        currency = _currency(entry.get("currency", config.currency), f"{path}.currency")
        if "price" not in entry:
            raise ConfigError(path, "needs a price per part")
        price = _amount(entry["price"], config.decimals(currency), f"{path}.price")
        routes.append(
            Route(
                name=name,
                prefixes=tuple(p for p, _ in prefixes),
                operators=tuple(ops),
                price=price,
                currency=currency,
            )
        )
    return tuple(routes)


def _coverage(
    value: object,
    config: RoutingConfig,
    operators: Collection[str] | None,
    routes: tuple[Route, ...],
) -> tuple[CoverageRule, ...]:
    rules: list[CoverageRule] = []
    names = {route.name: "routes" for route in routes}
    owners: dict[str, str] = {}
    for index, raw in enumerate(_list(value, "coverage"), start=1):
        path = f"coverage[{index}]"
        entry = _table(raw, path)
        _known_keys(entry, _COVERAGE_KEYS, path)
        if "name" not in entry:
            raise ConfigError(path, "needs a name")
        name = _name(entry["name"], f"{path}.name")
        if name in names:
            raise ConfigError(f"{path}.name", f"{name!r} already names a route or coverage rule")
        names[name] = path
        prefixes = _prefixes(entry, path)
        for prefix, where in prefixes:
            if prefix in owners:
                raise ConfigError(where, f"prefix {prefix} is already in rule {owners[prefix]!r}")
            owners[prefix] = name
        outcome_text = _string(entry.get("outcome", "rejectd"), f"{path}.outcome").lower()
        if outcome_text not in _OUTCOMES:
            raise ConfigError(f"{path}.outcome", "must be one of rejectd, undeliv, refuse")
        err = entry.get("err", ERR_COVERAGE)
        if isinstance(err, bool) or not isinstance(err, int) or not 0 <= err <= 255:
            raise ConfigError(f"{path}.err", "must be a whole number 0 to 255")
        operator = entry.get("operator", "")
        if operator != "":
            operator = _operator(operator, f"{path}.operator", operators)
        currency = _currency(entry.get("currency", config.currency), f"{path}.currency")
        price = _amount(entry.get("price", 0), config.decimals(currency), f"{path}.price")
        rules.append(
            CoverageRule(
                name=name,
                prefixes=tuple(p for p, _ in prefixes),
                action=_OUTCOMES[outcome_text],
                error_code=err,
                operator=operator,
                price=price,
                currency=currency,
                note=_string(entry.get("note", ""), f"{path}.note"),
            )
        )
    return tuple(rules)


def _account_prices(
    value: object, config: RoutingConfig, routes: tuple[Route, ...]
) -> tuple[AccountPrices, ...]:
    route_names = {route.name for route in routes}
    lists: list[AccountPrices] = []
    for account, raw in _table(value, "account_prices").items():
        path = f"account_prices.{account}"
        if not account:
            raise ConfigError(path, "needs an account's system_id")
        entry = _table(raw, path)
        _known_keys(entry, _ACCOUNT_PRICE_KEYS, path)
        currency = _currency(entry.get("currency", config.currency), f"{path}.currency")
        decimals = config.decimals(currency)
        by_route: dict[str, int] = {}
        for route, price in _table(entry.get("routes", {}), f"{path}.routes").items():
            where = f"{path}.routes.{route}"
            if route not in route_names:
                raise ConfigError(where, f"no route named {route!r}")
            by_route[route] = _amount(price, decimals, where)
        by_prefix: dict[str, int] = {}
        for prefix, price in _table(entry.get("prefixes", {}), f"{path}.prefixes").items():
            where = f"{path}.prefixes.{prefix}"
            by_prefix[_prefix(prefix, where)] = _amount(price, decimals, where)
        lists.append(
            AccountPrices(
                account=account, currency=currency, by_route=by_route, by_prefix=by_prefix
            )
        )
    return tuple(lists)
