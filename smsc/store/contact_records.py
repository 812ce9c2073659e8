"""The records of contact lists and opt-outs (campaigns): what the store keeps of them.

Plain frozen dataclasses like :mod:`smsc.store.records`; numbers are international digits
(country code first, no ``+``), times POSIX seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

MAX_PAGE: Final = 10_000  # the most contacts or opt-outs one read returns


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactList:
    """A list of contacts of one account. ``name`` is unique per account; ``country`` is the
    ISO 3166 code national numbers of its imports are read with ("": none); ``columns`` are
    the names of the fields its contacts carry (every column its imports had besides the
    number, first seen first); ``size`` is how many contacts it holds when read."""

    id: int
    account: str
    name: str
    country: str = ""
    columns: tuple[str, ...] = ()
    created_at: float = 0.0
    size: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Contact:
    """One contact: its number (international digits, unique within its list) and its fields
    (column name -> value, as imported). ``id`` is its place in the store: it grows in the order
    contacts were added and is the cursor of :meth:`Store.contacts` (0 before it is stored)."""

    number: str
    fields: Mapping[str, str] = field(default_factory=dict)
    id: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class OptOut:
    """A number that asked an account to stop sending to it (a STOP from the handset, or by
    hand), since ``at``."""

    account: str
    number: str
    at: float
    note: str = ""
