"""Importing contacts from CSV into a contact list: the file read row by row, each number read
the way an SMPP destination of ton 0 is read, and the rows written in bounded batches.

The file (see docs/campaigns.md):

* a header row names the columns; a UTF-8 byte order mark before it is dropped;
* the separator is the one of tab, ``;`` and ``,`` that the header holds most often outside
  quotes (a tie goes to tab, then ``;``, then ``,``; a header of one column reads as ``,``);
  fields may be quoted (``"Smith, John"``, ``""`` for a quote), also across lines;
* the number column is the one the caller names, else the first whose name (case and spaces
  aside) is one of :data:`NUMBER_COLUMNS`; every other column becomes a field of the contact,
  under its name as written (spaces around it removed);
* blank lines are skipped; a row with more non-empty cells than the header has columns is
  invalid; missing cells are empty fields.

A number loses spaces, dashes, dots, slashes, brackets and a leading ``'`` (spreadsheets' text
mark), then is read by :meth:`smsc.routing.numbers.NumberPlan.check` as ton 0: ``+`` or ``00``
then international digits; else a national number of the list's country; else international
digits. What SMPP accepts is accepted (a possible number in no assigned range too: it will end
UNDELIV err 1, as an SMPP submit to it does); anything else is an invalid row with the reason.
A number on the global blacklist or the account's (or its parent's) is not imported. A number
the list holds already, or met earlier in the file, is a duplicate and not imported again.

Memory: one batch of rows (``batch_size``, 1,000 by default) and the first ``max_listed``
problems; the store dedupes against everything written before (``Store.add_contacts``), so a
file of any length is imported in bounded memory. The caller bounds the length of a line (the
CLI refuses one over a million characters), since a row is read whole.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

from smsc.pdu.constants import Npi, Ton
from smsc.pdu.errors import PduError
from smsc.routing.blacklist import Blacklist
from smsc.routing.numbers import NumberPlan
from smsc.store.base import Store
from smsc.store.contact_records import Contact, ContactList
from smsc.store.records import Account

NUMBER_COLUMNS: Final = ("number", "phone", "msisdn", "to", "mobile", "phone_number",
                         "phonenumber", "mobile_number", "tel", "telephone", "cell",
                         "destination", "recipient")
SEPARATORS: Final = ("\t", ";", ",")  # in the order a tie is decided
BATCH_SIZE: Final = 1000
MAX_LISTED: Final = 20
MAX_FIELD: Final = 10_000  # characters in one field (csv's own limit is 128 KiB)
_STRIP: Final = str.maketrans("", "", " \t\u00a0\u202f-./()[]")


class CsvProblem(ValueError):
    """The file cannot be imported at all (no header, no number column, ...)."""


@dataclass(frozen=True, slots=True)
class CsvHeader:
    separator: str
    columns: tuple[str, ...]  # as written, stripped
    number_index: int

    @property
    def number_column(self) -> str:
        return self.columns[self.number_index]

    @property
    def field_columns(self) -> tuple[str, ...]:
        """The columns that become a contact's fields (all but the number's)."""
        return tuple(c for i, c in enumerate(self.columns) if i != self.number_index)


@dataclass(frozen=True, slots=True)
class CsvRow:
    line: int  # the file line the row starts on (the header is line 1)
    number: str  # the number cell as written
    fields: dict[str, str]
    problem: str = ""  # why the row cannot be read ("" when it can)


def separator_of(header: str) -> str:
    """The separator a header line uses (the rule in the module's docstring)."""
    counts = dict.fromkeys(SEPARATORS, 0)
    quoted = False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(SEPARATORS, key=lambda s: counts[s])  # max keeps the first of equals
    return best if counts[best] else ","


def _key(name: str) -> str:
    return "_".join(name.casefold().split())


def find_number_column(columns: tuple[str, ...], chosen: str | None) -> int:
    """The index of the number column: ``chosen`` (exactly, else case and spaces aside), else
    the first column named as one of NUMBER_COLUMNS."""
    keys = [_key(c) for c in columns]
    if chosen is not None:
        if chosen in columns:
            return columns.index(chosen)
        if _key(chosen) in keys:
            return keys.index(_key(chosen))
        raise CsvProblem(f"no column {chosen!r}; the header has {', '.join(map(repr, columns))}")
    for name in NUMBER_COLUMNS:
        if name in keys:
            return keys.index(name)
    raise CsvProblem(f"no number column among {', '.join(map(repr, columns))}: name it one of "
                     f"{', '.join(NUMBER_COLUMNS[:4])} ..., or choose it (--number-column)")


def read_csv(lines: Iterable[str],
             number_column: str | None = None) -> tuple[CsvHeader, Iterator[CsvRow]]:
    """The header and the rows of a CSV file given as lines (a text file opened with
    ``newline=""``); rows are read as the iterator is consumed."""
    source = iter(lines)
    first = next(source, None)
    while first is not None and not first.strip("\ufeff\r\n \t"):
        first = next(source, None)
    if first is None:
        raise CsvProblem("the file is empty: it needs a header row naming its columns")
    first = first.lstrip("\ufeff")
    separator = separator_of(first)
    reader = csv.reader(itertools.chain([first], source), delimiter=separator,
                        quotechar='"', doublequote=True, skipinitialspace=False, strict=False)
    try:
        head = next(reader)
    except csv.Error as e:
        raise CsvProblem(f"line 1: {e}") from None
    columns = tuple(c.strip() for c in head)
    seen: set[str] = set()
    for c in columns:
        if c and c in seen:
            raise CsvProblem(f"the header names the column {c!r} twice")
        seen.add(c)
    header = CsvHeader(separator, columns, find_number_column(columns, number_column))
    return header, _rows(reader, header)


def _rows(reader: Iterator[list[str]], header: CsvHeader) -> Iterator[CsvRow]:
    columns = header.columns
    width = len(columns)
    at = header.number_index
    names = [(i, c) for i, c in enumerate(columns) if i != at and c]
    line = getattr(reader, "line_num", 1) + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            yield CsvRow(line, "", {}, f"cannot be read as CSV ({e})")
            line = getattr(reader, "line_num", line) + 1
            continue
        start, line = line, getattr(reader, "line_num", line) + 1
        if not any(c.strip() for c in cells):
            continue
        problem = ""
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            problem = f"has {len(cells)} cells; the header has {width} columns"
        elif any(len(c) > MAX_FIELD for c in cells):
            problem = f"has a field longer than {MAX_FIELD} characters"
        number = cells[at].strip() if at < len(cells) else ""
        fields = {c: (cells[i].strip() if i < len(cells) else "") for i, c in names}
        yield CsvRow(start, number, fields, problem)


def clean_number(written: str) -> str:
    """A number as written without the separators people put in (spaces, dashes, dots,
    slashes, brackets) and a spreadsheet's leading ``'``."""
    return written.lstrip("'").translate(_STRIP)


def normalise(written: str, numbers: NumberPlan, country: str = "") -> str:
    """The international digits of a number as a contact list reads it (the module's rule);
    ValueError with the reason when it is not a number SMPP would accept."""
    cleaned = clean_number(written)
    if not cleaned:
        raise ValueError("the number is empty")
    try:
        return numbers.check(cleaned, Ton.UNKNOWN, Npi.ISDN, country or None).number
    except PduError as e:
        why = str(e.args[0])
        if why.startswith("destination ") and ": " in why:  # the number is on the row already
            why = why.split(": ", 1)[1]
        raise ValueError(f"{cleaned} {why}") from None


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    kind: str  # "invalid" or "blacklisted"
    value: str  # the number as written
    why: str


@dataclass(slots=True)
class ImportSummary:
    """What an import did: every non-blank row is counted once among ``added``,
    ``duplicates``, ``invalid`` and ``blacklisted``; ``opted_out`` counts the added contacts
    on the account's opt-out list (imported: campaigns skip them while they stay opted out).
    ``problems`` lists the first invalid and blacklisted rows (``max_listed``)."""

    rows: int = 0
    added: int = 0
    duplicates: int = 0
    invalid: int = 0
    blacklisted: int = 0
    opted_out: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    number_column: str = ""
    columns: tuple[str, ...] = ()
    separator: str = ","

    @property
    def listed_all(self) -> bool:
        return len(self.problems) == self.invalid + self.blacklisted


class ContactImport:
    """Imports CSV files into one list of one account (store thread, or the CLI)."""

    def __init__(self, store: Store, target: ContactList, account: Account, *,
                 numbers: NumberPlan | None = None, blacklist: Blacklist | None = None,
                 batch_size: int = BATCH_SIZE, max_listed: int = MAX_LISTED) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        self.store = store
        self.target = target
        self.account = account
        self.numbers = numbers or NumberPlan()
        self.blacklist = blacklist if blacklist is not None else account_blacklist(store,
                                                                                  account)
        self.batch_size = batch_size
        self.max_listed = max_listed

    def run(self, lines: Iterable[str], number_column: str | None = None,
            progress: Callable[[int], None] | None = None) -> ImportSummary:
        """Import every row of ``lines``; ``progress`` hears the rows done after each batch.
        CsvProblem when the file cannot be imported at all (nothing is written then)."""
        header, rows = read_csv(lines, number_column)
        summary = ImportSummary()
        for summary in self.batches(header, rows):
            if progress is not None:
                progress(summary.rows)
        return summary

    def batches(self, header: CsvHeader, rows: Iterable[CsvRow]) -> Iterator[ImportSummary]:
        """Import ``rows`` a batch at a time: each ``next`` reads rows until a batch is full,
        writes it (one ``Store.add_contacts``) and yields the summary so far; the last yield
        is the whole import's. A server runs each ``next`` as one call on its store thread,
        so other work runs between batches."""
        summary = ImportSummary(number_column=header.number_column,
                                columns=header.field_columns, separator=header.separator)
        columns = [c for c in header.field_columns if c]
        batch: list[Contact] = []
        system_id, parent = self.account.system_id, self.account.parent or ""
        country = self.target.country
        for row in rows:
            summary.rows += 1
            if row.problem:
                self._problem(summary, row, "invalid", row.problem)
                continue
            try:
                number = normalise(row.number, self.numbers, country)
            except ValueError as e:
                self._problem(summary, row, "invalid", str(e))
                continue
            entry = self.blacklist.match(number, system_id, parent)
            if entry is not None:
                scope = "the account's" if entry.account else "the global"
                self._problem(summary, row, "blacklisted", f"{number} is on {scope} blacklist")
                continue
            batch.append(Contact(number=number, fields=row.fields))
            if len(batch) >= self.batch_size:
                self._write(summary, batch, columns)
                batch = []
                yield summary
        if batch or summary.rows == 0:
            self._write(summary, batch, columns)
        yield summary

    def _problem(self, summary: ImportSummary, row: CsvRow, kind: str, why: str) -> None:
        if kind == "invalid":
            summary.invalid += 1
        else:
            summary.blacklisted += 1
        if len(summary.problems) < self.max_listed:
            summary.problems.append(RowProblem(row.line, kind, row.number[:40], why))

    def _write(self, summary: ImportSummary, batch: list[Contact], columns: list[str]) -> None:
        added = self.store.add_contacts(self.target.id, batch, columns)
        new = [c.number for c, was_added in zip(batch, added, strict=True) if was_added]
        summary.added += len(new)
        summary.duplicates += len(batch) - len(new)
        if new:
            summary.opted_out += len(self.store.opted_out(self.account.system_id, new))


def records(contacts: Iterable[tuple[str, Mapping[str, str]]]
            ) -> tuple[CsvHeader, Iterator[CsvRow]]:
    """Contacts given as (number, fields) records (the HTTP API's JSON) as a header and rows
    for :meth:`ContactImport.batches`: the columns are ``number`` then every field name in
    the order first met; a row's ``line`` is its position, from 1. Field names and values
    are read as a CSV file's are (stripped; a value over MAX_FIELD makes the row invalid)."""
    given = list(contacts)
    names: dict[str, None] = {}
    for _, fields in given:
        for name in fields:
            if name.strip() and name.strip() != "number":
                names.setdefault(name.strip(), None)
    header = CsvHeader(",", ("number", *names), 0)

    def rows() -> Iterator[CsvRow]:
        for at, (number, fields) in enumerate(given, 1):
            cleaned = {k.strip(): v.strip() for k, v in fields.items()
                       if k.strip() and k.strip() != "number"}
            problem = ""
            if any(len(v) > MAX_FIELD for v in cleaned.values()):
                problem = f"has a field longer than {MAX_FIELD} characters"
            yield CsvRow(at, number.strip(),
                         {name: cleaned.get(name, "") for name in names}, problem)

    return header, rows()


def account_blacklist(store: Store, account: Account) -> Blacklist:
    """The blacklist entries that apply to ``account``: the global ones, its own and its
    parent's (what the router matches for its submits)."""
    owners = ["", account.system_id] + ([account.parent] if account.parent else [])
    return Blacklist(e for owner in owners for e in store.blacklist(owner))
