"""Amounts of money: integers of minor units inside, decimal text outside."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# ISO 4217 minor units of the currencies that do not use two.
_MINOR_DIGITS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "UGX": 0, "BHD": 3,
                 "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3, "LYD": 3, "IQD": 3}


def minor_digits(currency: str) -> int:
    return _MINOR_DIGITS.get(currency.upper(), 2)


def parse_amount(text: str | int | float | Decimal, currency: str) -> int:
    """Minor units of an amount written in the currency's units ("12.50" EUR -> 1250).

    Refuses anything that is not an exact number of minor units."""
    digits = minor_digits(currency)
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not an amount")
    minor = value.scaleb(digits)
    if minor != minor.to_integral_value():
        raise ValueError(f"{text!r} has more than {digits} decimals for {currency}")
    return int(minor)


def format_amount(minor: int, currency: str) -> str:
    digits = minor_digits(currency)
    value = Decimal(minor).scaleb(-digits)
    return f"{value:.{digits}f} {currency}"
