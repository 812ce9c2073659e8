"""Money and price lists.

Amounts are integers of a currency's *minor unit*. How many decimal places one minor unit has is
set per currency in the config (``[money] decimals``, 2 unless configured: cents, kopiyky); every
amount of that currency in smsc (prices, credit, ledger rows) uses the same unit. Decimal text from
config or the CLI is turned into minor units exactly with :mod:`decimal`, and an amount that is a
fraction of a minor unit is refused rather than rounded (``"0.035"`` needs 3 decimals or more).

Price lists: each route has a price per part in the routing currency. An account may have its
own price list, in its own currency, with prices per route name and per destination prefix. For
a destination the most specific entry wins: the account's longest matching prefix entry when it
is at least as long as the prefix the route matched by, else the account's entry for the route,
else a shorter matching prefix entry, else the route's own price. A sub-account without a list
of its own uses its parent's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Final

from smsc.routing.currencies import is_currency
from smsc.store.records import Account

__all__ = [
    "DEFAULT_DECIMALS",
    "MAX_AMOUNT",
    "MAX_DECIMALS",
    "AccountPrices",
    "PriceBook",
    "check_currency",
    "format_amount",
    "parse_amount",
]

DEFAULT_DECIMALS: Final = 2
MAX_DECIMALS: Final = 8
MAX_AMOUNT: Final = 10**15  # minor units; far above any balance, far below 2**63
_CURRENCY: Final = re.compile(r"[A-Z]{3}")
_AMOUNT_TEXT: Final = re.compile(r"[+-]?\d+(?:\.\d+)?")


def check_currency(code: str) -> str:
    """``code`` if it is an active ISO 4217 currency code, else ValueError."""
    if not _CURRENCY.fullmatch(code):
        raise ValueError(f"{code!r} is not a currency code of three capital letters (EUR, UAH)")
    if not is_currency(code):
        raise ValueError(f"{code!r} is not an ISO 4217 currency code (EUR, UAH, USD ...)")
    return code


def parse_amount(value: str | int | float, decimals: int, *, negative: bool = False) -> int:
    """Minor units from decimal text (``"0.035"``), an int or a float (taken by its shortest
    repr, so ``0.035`` reads as written). ValueError for anything else, for a fraction of a minor
    unit, for a negative amount unless ``negative``, and beyond :data:`MAX_AMOUNT`."""
    if not 0 <= decimals <= MAX_DECIMALS:
        raise ValueError(f"decimals must be 0 to {MAX_DECIMALS}")
    if isinstance(value, bool):
        raise ValueError("an amount is a number, not true/false")
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        text = repr(value)
        if "e" in text or "n" in text:  # 1e-05, inf, nan
            raise ValueError(f'write the amount {value!r} as a decimal string such as "0.035"')
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise ValueError(f'an amount is a decimal string such as "0.035", not {value!r}')
    if not _AMOUNT_TEXT.fullmatch(text):
        raise ValueError(f'{value!r} is not a decimal amount such as "0.035"')
    try:
        scaled = Decimal(text).scaleb(decimals)
    except InvalidOperation as exc:  # pragma: no cover - the pattern rules it out
        raise ValueError(f"{value!r} is not a decimal amount") from exc
    if scaled != scaled.to_integral_value():
        raise ValueError(
            f"{value!r} is a fraction of a minor unit ({decimals} decimal places are configured)"
        )
    units = int(scaled)
    if units < 0 and not negative:
        raise ValueError(f"{value!r} is negative")
    if abs(units) > MAX_AMOUNT:
        raise ValueError(f"{value!r} is too large")
    return units


def format_amount(units: int, decimals: int) -> str:
    """Decimal text of an amount of minor units: ``format_amount(35, 3) == "0.035"``."""
    if decimals == 0:
        return str(units)
    sign = "-" if units < 0 else ""
    whole, fraction = divmod(abs(units), 10**decimals)
    return f"{sign}{whole}.{fraction:0{decimals}d}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountPrices:
    """An account's own price list: minor units of ``currency`` per part."""

    account: str
    currency: str
    by_route: Mapping[str, int] = field(default_factory=dict)
    by_prefix: Mapping[str, int] = field(default_factory=dict)


class _CompiledPrices:
    __slots__ = ("by_prefix", "by_route", "currency", "lengths")

    def __init__(self, prices: AccountPrices) -> None:
        self.currency = prices.currency
        self.by_route = dict(prices.by_route)
        self.by_prefix = dict(prices.by_prefix)
        self.lengths = tuple(sorted({len(p) for p in self.by_prefix}, reverse=True))

    def price(self, route: str, route_prefix: str, number: str) -> tuple[int, str] | None:
        """(price, what matched) or None when the list has nothing for it."""
        by_prefix = self.by_prefix
        size = len(number)
        found: tuple[int, str] | None = None
        for length in self.lengths:
            if length <= size:
                prefix = number[:length]
                price = by_prefix.get(prefix)
                if price is not None:
                    if length >= len(route_prefix):
                        return price, f"prefix {prefix}"
                    found = price, f"prefix {prefix}"
                    break
        price = self.by_route.get(route)
        if price is not None:
            return price, f"route {route}"
        return found


class PriceBook:
    """Every account price list, compiled for lookups by route name and by longest prefix."""

    __slots__ = ("_lists",)

    def __init__(self, lists: Iterable[AccountPrices] = ()) -> None:
        self._lists: dict[str, _CompiledPrices] = {}
        for prices in lists:
            if prices.account in self._lists:
                raise ValueError(f"two price lists for account {prices.account!r}")
            self._lists[prices.account] = _CompiledPrices(prices)

    def __len__(self) -> int:
        return len(self._lists)

    def has_list(self, account: Account | None) -> bool:
        return self._list_for(account) is not None

    def _list_for(self, account: Account | None) -> _CompiledPrices | None:
        if account is None or not self._lists:
            return None
        found = self._lists.get(account.system_id)
        if found is None and account.parent:
            found = self._lists.get(account.parent)
        return found

    def account_price(
        self, account: Account | None, route: str, route_prefix: str, number: str
    ) -> tuple[int, str, str] | None:
        """(price, currency, what matched) from the account's (or its parent's) list for
        ``number`` on ``route`` (matched by ``route_prefix``), or None when the list has no
        price for it (or there is no list)."""
        prices = self._list_for(account)
        if prices is None:
            return None
        found = prices.price(route, route_prefix, number)
        if found is None:
            return None
        return found[0], prices.currency, found[1]

    def currency_of(self, account: Account | None) -> str | None:
        prices = self._list_for(account)
        return None if prices is None else prices.currency
