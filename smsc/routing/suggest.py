"""Default route prefixes per mobile network, from phonenumbers' carrier data.

phonenumbers keeps its carrier data as one table from E.164 prefixes (the country code and the
leading digits of the national number) to the carrier's name per language, looked up by longest
prefix. The prefixes of one country code are therefore the keys that begin with that code (codes
are prefix-free: no code begins another). No number is enumerated: the table's keys are read
and, where all ten one-digit extensions of a prefix belong to the same carrier, folded into the
shorter prefix, which routes exactly the same numbers by longest-prefix match.

Keys whose carrier name is empty (ranges phonenumbers knows are not that carrier's) are left out
of the result; a route table built from it sends those numbers to the route of the shorter prefix.
"""

from __future__ import annotations

import re
from typing import Final

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE
from phonenumbers.carrierdata import CARRIER_DATA

__all__ = ["carrier_prefixes", "operator_id"]

_LANGUAGE: Final = "en"


def _name(names: dict[str, str]) -> str:
    name = names.get(_LANGUAGE)
    if name is None:
        name = next(iter(names.values()), "")
    return name.strip()


def _fold(prefixes: dict[str, str]) -> dict[str, str]:
    """Fold ten sibling prefixes of one carrier into their parent, longest first, and drop
    prefixes whose nearest shorter prefix already names the same carrier."""
    table = dict(prefixes)
    for length in range(max((len(p) for p in table), default=0), 1, -1):
        parents = {p[:-1] for p in table if len(p) == length}
        for parent in parents:
            if parent in table:
                continue
            children = [table.get(parent + digit) for digit in "0123456789"]
            first = children[0]
            if first and all(child == first for child in children):
                for digit in "0123456789":
                    del table[parent + digit]
                table[parent] = first
    out: dict[str, str] = {}
    for prefix, name in table.items():
        nearest = next(
            (table[prefix[:cut]] for cut in range(len(prefix) - 1, 0, -1) if prefix[:cut] in table),
            "",
        )
        if name and name != nearest:
            out[prefix] = name
    return out


def carrier_prefixes(country_code: int) -> dict[str, list[str]]:
    """Carrier name -> sorted E.164 prefixes of its mobile ranges in ``country_code``, e.g. for
    380: ``{"Kyivstar": ["38039", "38067", ...], "lifecell": ["38063", "38073", "38093"], ...}``.
    Empty for a code with no carrier data; ValueError for a code that does not exist."""
    if country_code not in COUNTRY_CODE_TO_REGION_CODE:
        raise ValueError(f"{country_code} is not a country calling code")
    code = str(country_code)
    names = {key: _name(value) for key, value in CARRIER_DATA.items() if key.startswith(code)}
    carriers: dict[str, list[str]] = {}
    for prefix, name in _fold(names).items():
        carriers.setdefault(name, []).append(prefix)
    return {name: sorted(carriers[name]) for name in sorted(carriers, key=str.casefold)}


def operator_id(name: str) -> str:
    """A lower-case identifier for a carrier name: ``"Vodafone"`` -> ``"vodafone"``,
    ``"PEOPLEnet"`` -> ``"peoplenet"``, ``"Kcell/Activ"`` -> ``"kcell_activ"``."""
    ident = re.sub(r"[^a-z0-9]+", "_", name.casefold()).strip("_")
    if not ident:
        return "operator"
    return ident if ident[0].isalpha() else f"op_{ident}"
