"""Contact lists, imports and opt-outs as the API's models (pure), and the cursors of their
pages. The decisions are the core's (:mod:`smsc.core.contacts`); this says how they look."""

from __future__ import annotations

import base64
import binascii
import csv
import io
from collections.abc import Sequence

from smsc.core.contacts import ImportSummary
from smsc.http import list_models as lm
from smsc.http import models as m
from smsc.http import problems as p
from smsc.http.answers import iso
from smsc.http.replies import ProblemReply, problem
from smsc.store.contact_records import Contact, ContactList, OptOut


def contact_list(x: ContactList) -> lm.ContactList:
    created = iso(x.created_at)
    assert created is not None
    return lm.ContactList(id=x.id, name=x.name, country=x.country, columns=list(x.columns),
                          size=x.size, created_at=created)


def import_summary(s: ImportSummary, after: ContactList) -> lm.ImportSummary:
    return lm.ImportSummary.model_validate({
        "list": contact_list(after), "rows": s.rows, "added": s.added,
        "duplicates": s.duplicates, "invalid": s.invalid, "blacklisted": s.blacklisted,
        "opted_out": s.opted_out, "number_column": s.number_column,
        "columns": list(s.columns),
        "problems": [lm.ImportProblem(line=x.line, kind=x.kind,  # type: ignore[arg-type]
                                      value=x.value, why=x.why) for x in s.problems]})


def contact_page(contacts: Sequence[Contact], limit: int) -> lm.ContactPage:
    """A page of contacts (``limit`` asked; one more read says whether a next page is)."""
    shown = contacts[:limit]
    more = len(contacts) > limit
    return lm.ContactPage(
        contacts=[lm.Contact(number=c.number, fields=dict(c.fields)) for c in shown],
        next=encode_cursor("c1", str(shown[-1].id)) if more and shown else None)


def opt_out_page(rows: Sequence[OptOut], limit: int) -> lm.OptOutPage:
    shown = rows[:limit]
    more = len(rows) > limit
    out = []
    for o in shown:
        at = iso(o.at)
        assert at is not None
        out.append(lm.OptOut(number=o.number, at=at, note=o.note))
    return lm.OptOutPage(opt_outs=out,
                         next=encode_cursor("o1", shown[-1].number) if more and shown else None)


def csv_rows(rows: Sequence[Sequence[object]]) -> bytes:
    """Rows as CSV text (``,``, ``\\n``, quoted where needed), UTF-8."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def contacts_csv(contacts: Sequence[Contact], columns: Sequence[str]) -> bytes:
    return csv_rows([[c.number, *(c.fields.get(col, "") for col in columns)]
                     for c in contacts])


def encode_cursor(kind: str, position: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{position}".encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str) -> str:
    """The position a cursor of ``kind`` continues after; a 422 problem for anything else."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    found, _, position = text.partition(":")
    if found != kind or not position.isdigit() or not position.isascii():
        raise ProblemReply(problem(p.INVALID_REQUEST, "the cursor is not one this API gave",
                                   errors=[m.FieldError(field="cursor",
                                                        message="not a cursor")]))
    return position


__all__ = ["contact_list", "contact_page", "contacts_csv", "csv_rows", "decode_cursor",
           "encode_cursor", "import_summary", "opt_out_page"]
