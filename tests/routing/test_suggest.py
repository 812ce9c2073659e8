"""Carrier prefixes from phonenumbers' carrier data."""

from __future__ import annotations

import phonenumbers
import pytest
from phonenumbers import carrier
from phonenumbers.carrierdata import CARRIER_DATA

from smsc.routing.suggest import _fold, carrier_prefixes, operator_id


def test_ukrainian_networks() -> None:
    found = carrier_prefixes(380)
    assert {"38067", "38068", "38096", "38097", "38098"} <= set(found["Kyivstar"])
    assert found["lifecell"] == ["38063", "38073", "38093"]
    assert {"38050", "38066", "38095", "38099"} <= set(found["Vodafone"])
    assert found["Intertelecom"] == ["38094"]
    assert found["PEOPLEnet"] == ["38092"]
    assert found["TriMob"] == ["38091"]


def longest(table: dict[str, str], digits: str) -> str:
    for size in range(len(digits), 0, -1):
        if digits[:size] in table:
            return table[digits[:size]]
    return ""


@pytest.mark.parametrize("code", [380, 44, 1, 7, 48, 49, 86])
def test_prefixes_route_like_the_carrier_data(code: int) -> None:
    """Longest-prefix lookups in the result name the same carrier as phonenumbers' own data,
    for every prefix of that data and every one-digit extension of it."""
    found = carrier_prefixes(code)
    assert found
    table = {prefix: name for name, prefixes in found.items() for prefix in prefixes}
    data = {
        key: value.get("en", "") for key, value in CARRIER_DATA.items() if key.startswith(str(code))
    }
    for key in data:
        for digits in [key] + [key + d for d in "0123456789"]:
            expected = longest(data, digits)
            if expected:  # holes (no name) fall to the shorter prefix
                assert longest(table, digits) == expected, digits
    for name, prefixes in found.items():
        assert prefixes == sorted(prefixes)
        assert all(p.startswith(str(code)) for p in prefixes)
        assert name


def test_the_result_agrees_with_phonenumbers_carrier_lookup() -> None:
    number = phonenumbers.parse("+380671234567")
    assert carrier.name_for_number(number, "en") in carrier_prefixes(380)
    assert "38067" in carrier_prefixes(380)[carrier.name_for_number(number, "en")]


def test_folding_ten_siblings_into_their_parent() -> None:
    table = {f"3801{d}": "A" for d in "0123456789"}
    table["380155"] = "B"  # an exception inside the range stays
    table["38012"] = "A"
    assert _fold(table) == {"3801": "A", "380155": "B"}
    partial = {f"3801{d}": "A" for d in "012345678"}
    assert _fold(partial) == partial
    holes = {"3801": "A", "38019": ""}  # a hole is dropped: its numbers fall to the parent
    assert _fold(holes) == {"3801": "A"}


def test_codes_without_carrier_data_and_unknown_codes() -> None:
    assert carrier_prefixes(800) == {}
    with pytest.raises(ValueError, match="not a country calling code"):
        carrier_prefixes(38)


def test_operator_ids() -> None:
    assert operator_id("Vodafone") == "vodafone"
    assert operator_id("PEOPLEnet") == "peoplenet"
    assert operator_id("Kcell/Activ") == "kcell_activ"
    assert operator_id("3 Mobile") == "op_3_mobile"
    assert operator_id("!!!") == "operator"
