"""The JSON of contact lists and opt-outs (``/v1/lists``, ``/v1/opt-outs``), as pydantic
models beside :mod:`smsc.http.models` (same conventions: requests strict and closed, times
ISO 8601 in UTC, numbers as international digits)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from smsc.http.models import _In, _Out

MAX_CONTACTS = 10_000  # contacts in one JSON import (a CSV body is bounded by http.max_body)
MAX_FIELDS = 100  # fields of one contact
MAX_OPT_OUTS = 1000  # numbers in one POST /v1/opt-outs

Digits = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,15}$")]
FieldName = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class NewList(_In):
    """``POST /v1/lists``."""

    name: str = Field(min_length=1, max_length=100,
                      description="Unique among the account's lists.")
    country: str = Field(default="", pattern=r"^([A-Z]{2})?$",
                         description="ISO 3166 country its imports' national numbers are read "
                                     "with (UA: 0671234567 is 380671234567); '' for none.")


class ContactList(_Out):
    id: int
    name: str
    country: str
    columns: list[str] = Field(description="The contacts' field names, first imported first.")
    size: int = Field(description="Contacts in the list.")
    created_at: datetime


class ContactLists(_Out):
    lists: list[ContactList]


class Deleted(_Out):
    id: int
    deleted: bool


class ContactIn(_In):
    number: str = Field(min_length=1, max_length=40,
                        description="As a CSV cell: international (+ or 00 optional) or "
                                    "national in the list's country.")
    fields: dict[FieldName, Annotated[str, StringConstraints(max_length=10_000)]] = Field(
        default_factory=dict, max_length=MAX_FIELDS,
        description="Values for templates, by field name (e.g. name).")


class ContactsIn(_In):
    """``POST /v1/lists/{id}/contacts`` as JSON (a CSV body is the other way)."""

    contacts: list[ContactIn] = Field(min_length=1, max_length=MAX_CONTACTS)


class ImportProblem(_Out):
    line: int = Field(description="The CSV line the row starts on (the header is line 1), "
                                   "or the position of a JSON contact (from 1).")
    kind: Literal["invalid", "blacklisted"]
    value: str = Field(description="The number as written.")
    why: str


class ImportSummary(_Out):
    """Every row is counted once among added, duplicates, invalid and blacklisted."""

    contact_list: ContactList = Field(alias="list", description="The list after the "
                                                                "import.")
    rows: int
    added: int
    duplicates: int = Field(description="Numbers the list had already, or met earlier.")
    invalid: int
    blacklisted: int
    opted_out: int = Field(description="Added contacts on the account's opt-out list "
                                       "(campaigns skip them).")
    number_column: str
    columns: list[str]
    problems: list[ImportProblem] = Field(description="The first 20 invalid or blacklisted "
                                                      "rows.")


class Contact(_Out):
    number: str
    fields: dict[str, str]


class ContactPage(_Out):
    contacts: list[Contact]
    next: str | None = Field(description="The cursor of the next page; null at the end.")


class OptOutsIn(_In):
    """``POST /v1/opt-outs``."""

    numbers: list[Digits] = Field(min_length=1, max_length=MAX_OPT_OUTS,
                                  description="International digits.")
    note: str = Field(default="by API", max_length=200)


class OptOutsAdded(_Out):
    added: int = Field(description="Numbers newly opted out (the others were already).")
    numbers: int


class OptOut(_Out):
    number: str
    at: datetime
    note: str


class OptOutPage(_Out):
    opt_outs: list[OptOut]
    next: str | None = Field(description="The cursor of the next page; null at the end.")


class OptedIn(_Out):
    number: str
    opted_out: bool = Field(description="Always false: the number is off the list.")


__all__ = ["MAX_CONTACTS", "Contact", "ContactIn", "ContactList", "ContactLists",
           "ContactPage", "ContactsIn", "Deleted", "ImportProblem", "ImportSummary", "NewList",
           "OptOut", "OptOutPage", "OptOutsAdded", "OptOutsIn", "OptedIn"]
