"""Money: exact decimal amounts in minor units, currency codes, price books."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsc.routing.prices import (
    MAX_AMOUNT,
    AccountPrices,
    PriceBook,
    check_currency,
    format_amount,
    parse_amount,
)
from smsc.store.records import Account


@pytest.mark.parametrize(
    ("value", "decimals", "units"),
    [
        ("0.035", 3, 35),
        ("0.035", 4, 350),
        ("1", 2, 100),
        ("1.5", 2, 150),
        (" 2.00 ", 2, 200),
        (0.035, 3, 35),
        (0.1, 2, 10),
        (3, 2, 300),
        ("0", 0, 0),
        ("12", 0, 12),
        ("+1.25", 2, 125),
    ],
)
def test_parse_amount(value: str | int | float, decimals: int, units: int) -> None:
    assert parse_amount(value, decimals) == units


@pytest.mark.parametrize(
    ("value", "decimals", "message"),
    [
        ("0.035", 2, "fraction of a minor unit"),
        (0.001, 2, "fraction"),
        ("1.2.3", 2, "not a decimal"),
        ("1e3", 2, "not a decimal"),
        ("", 2, "not a decimal"),
        (".5", 2, "not a decimal"),
        ("NaN", 2, "not a decimal"),
        (float("inf"), 2, "decimal string"),
        (1e-5, 8, "decimal string"),
        ("-1", 2, "negative"),
        (True, 2, "true/false"),
        (None, 2, "not None"),
        (str(MAX_AMOUNT + 1), 0, "too large"),
        ("1", 9, "decimals"),
    ],
)
def test_parse_amount_refusals(value: object, decimals: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_amount(value, decimals)  # type: ignore[arg-type]


def test_negative_amounts_when_allowed() -> None:
    assert parse_amount("-1.25", 2, negative=True) == -125


@given(units=st.integers(-MAX_AMOUNT, MAX_AMOUNT), decimals=st.integers(0, 8))
def test_format_and_parse_round_trip(units: int, decimals: int) -> None:
    text = format_amount(units, decimals)
    assert Decimal(text) == Decimal(units).scaleb(-decimals)
    assert parse_amount(text, decimals, negative=True) == units


def test_format_amount() -> None:
    assert format_amount(35, 3) == "0.035"
    assert format_amount(-5, 2) == "-0.05"
    assert format_amount(100_000, 2) == "1000.00"
    assert format_amount(7, 0) == "7"


def test_currency_codes() -> None:
    assert check_currency("UAH") == "UAH"
    for bad in ("uah", "EURO", "EU", "€", ""):
        with pytest.raises(ValueError, match="three capital letters"):
            check_currency(bad)
    for unknown in ("ABC", "EUX", "XTS", "ZWL"):  # never assigned, a testing code, withdrawn
        with pytest.raises(ValueError, match="not an ISO 4217 currency code"):
            check_currency(unknown)
    for active in ("EUR", "USD", "JPY", "KWD", "XOF", "ZWG"):
        assert check_currency(active) == active


def test_price_book_lookups_and_parent_fallback() -> None:
    book = PriceBook(
        [
            AccountPrices(account="parent", currency="UAH", by_route={"r": 90}),
            AccountPrices(account="own", currency="EUR", by_prefix={"38": 5}),
        ]
    )
    parent = Account(system_id="parent", password_hash="")
    child = Account(system_id="child", password_hash="", parent="parent")
    own_child = Account(system_id="own", password_hash="", parent="parent")
    stranger = Account(system_id="x", password_hash="")
    assert len(book) == 2
    assert book.account_price(parent, "r", "380", "380671234567") == (90, "UAH", "route r")
    assert book.account_price(child, "r", "380", "380671234567") == (90, "UAH", "route r")
    assert book.account_price(own_child, "r", "380", "380671234567") == (5, "EUR", "prefix 38")
    assert book.account_price(parent, "other", "380", "380671234567") is None
    assert book.account_price(stranger, "r", "380", "380671234567") is None
    assert book.account_price(None, "r", "380", "380671234567") is None
    assert book.has_list(child) and not book.has_list(stranger)
    assert book.currency_of(child) == "UAH" and book.currency_of(stranger) is None


def test_two_lists_for_one_account() -> None:
    with pytest.raises(ValueError, match="two price lists"):
        PriceBook([AccountPrices(account="a", currency="EUR")] * 2)
