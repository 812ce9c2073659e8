"""Importing CSV into contact lists (smsc.core.contacts) on a memory store, without Twisted:
separators, BOM, quotes, number forms, invalid and blacklisted rows, duplicates, batches."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsc.core.contacts import (
    ContactImport,
    CsvProblem,
    ImportSummary,
    clean_number,
    read_csv,
    records,
    separator_of,
)
from smsc.routing.numbers import NumberPlan
from smsc.store.base import Store
from smsc.store.contact_records import Contact, ContactList
from smsc.store.memory import MemoryStore
from smsc.store.records import Account, BlacklistEntry

NOW = 1_750_000_000.0
PLAN = NumberPlan()


def _store() -> tuple[Store, Account]:
    store = MemoryStore()
    acme = Account(system_id="acme", password_hash="h")
    store.create_account(acme)
    return store, acme


def _import(text: str, *, country: str = "", store: Store | None = None,
            account: Account | None = None, target: ContactList | None = None,
            **kw: object) -> tuple[ImportSummary, Store, ContactList]:
    if store is None or account is None:
        store, account = _store()
    if target is None:
        target = store.create_contact_list(account.system_id, "l", country=country, now=NOW)
    run_kw = {k: v for k, v in kw.items() if k == "number_column"}
    make_kw = {k: v for k, v in kw.items() if k != "number_column"}
    importer = ContactImport(store, target, account, numbers=PLAN, **make_kw)  # type: ignore[arg-type]
    summary = importer.run(io.StringIO(text, newline=""), **run_kw)  # type: ignore[arg-type]
    return summary, store, target


def _numbers(store: Store, target: ContactList) -> list[str]:
    return [c.number for c in store.contacts(target.id, limit=10_000)]


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_each_separator_with_quoted_fields(separator: str) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    writer.writerow(["name", "phone", "note"])
    writer.writerow(['Smith, "J"; Jr\tx', "+380 67 123 45 67", "two\nlines"])
    writer.writerow(["Ann", "380501112233", ""])
    summary, store, target = _import(buffer.getvalue())
    assert (summary.rows, summary.added, summary.invalid) == (2, 2, 0)
    assert summary.separator == separator
    first, second = store.contacts(target.id)
    assert first.number == "380671234567"
    assert first.fields == {"name": 'Smith, "J"; Jr\tx', "note": "two\nlines"}
    assert second.fields == {"name": "Ann", "note": ""}


def test_a_byte_order_mark_and_blank_lines_are_fine() -> None:
    summary, store, target = _import("\ufeffPhone,Name\r\n\r\n380671234567,A\r\n  \r\n")
    assert summary.number_column == "Phone" and summary.columns == ("Name",)
    assert (summary.rows, summary.added) == (1, 1)
    assert store.contacts(target.id)[0].fields == {"Name": "A"}


def test_the_separator_rule() -> None:
    assert separator_of("a;b,c;d") == ";"
    assert separator_of('"x,y,z";b;c') == ";"  # quoted commas do not count
    assert separator_of("a\tb;c") == "\t"  # a tie goes to tab
    assert separator_of("number") == ","


def test_national_and_international_forms_with_the_list_country() -> None:
    text = ("number\n0671234567\n+380501112233\n00380631234567\n380931234567\n"
            "(067) 765-43-21\n'0959876543\n")
    summary, store, target = _import(text, country="UA")
    assert summary.invalid == 0 and summary.added == 6
    assert _numbers(store, target) == ["380671234567", "380501112233", "380631234567",
                                       "380931234567", "380677654321", "380959876543"]


def test_national_numbers_without_a_country_are_invalid_with_the_reason() -> None:
    summary, _, _ = _import("number\n0671234567\n")
    assert summary.invalid == 1
    (problem,) = summary.problems
    assert problem.line == 2 and problem.kind == "invalid"
    assert "country code" in problem.why


def test_1000_rows_with_44_repeats_give_956_contacts() -> None:
    rng = random.Random(14)
    unique = [f"38067{n:07d}" for n in rng.sample(range(10**7), 956)]
    rows = unique + rng.sample(unique, 44)
    rng.shuffle(rows)
    text = "number,name\n" + "".join(f"+{n},N{i}\n" for i, n in enumerate(rows))
    summary, store, target = _import(text, batch_size=100)
    assert (summary.rows, summary.added, summary.duplicates) == (1000, 956, 44)
    assert sorted(_numbers(store, target)) == sorted(unique)
    again, _, _ = _import(text, store=store, account=store.get_account("acme"), target=target)
    assert (again.added, again.duplicates) == (0, 1000)


def test_ten_percent_invalid_rows_are_counted_and_the_first_listed() -> None:
    lines = ["msisdn;name"]
    for i in range(500):
        lines.append(f"12{i};bad" if i % 10 == 3 else f"38050{i:07d};ok")
    summary, store, target = _import("\n".join(lines), max_listed=7)
    assert (summary.rows, summary.added, summary.invalid) == (500, 450, 50)
    assert [p.line for p in summary.problems] == [5, 15, 25, 35, 45, 55, 65]
    assert not summary.listed_all
    assert len(_numbers(store, target)) == 450


def test_blacklisted_rows_global_and_the_accounts_are_left_out() -> None:
    store, acme = _store()
    store.create_account(Account(system_id="other", password_hash="h"))
    store.add_blacklist([BlacklistEntry(number="380671111111"),
                         BlacklistEntry(number="38050", prefix=True, account="acme"),
                         BlacklistEntry(number="380632222222", account="other")])
    text = "to\n380671111111\n380501234567\n380632222222\n380931234567\n"
    summary, _, target = _import(text, store=store, account=acme)
    assert (summary.added, summary.blacklisted) == (2, 2)
    assert [p.line for p in summary.problems] == [2, 3]
    assert "global" in summary.problems[0].why and "account" in summary.problems[1].why
    assert _numbers(store, target) == ["380632222222", "380931234567"]


def test_rows_with_too_many_cells_are_invalid_trailing_empty_ones_are_not() -> None:
    summary, _, _ = _import("number,name\n380671234567,a,,\n380671234568,b,c\n")
    assert (summary.added, summary.invalid) == (1, 1)
    assert summary.problems[0].line == 3


def test_the_number_column_by_choice_or_by_name() -> None:
    summary, _, _ = _import("id,Mobile Phone\n7,380671234567\n", number_column="mobile phone")
    assert summary.added == 1 and summary.columns == ("id",)
    with pytest.raises(CsvProblem, match="no number column"):
        _import("id,name\n1,a\n")
    with pytest.raises(CsvProblem, match="no column 'cell'"):
        _import("number,name\n1,a\n", number_column="cell")
    with pytest.raises(CsvProblem, match="empty"):
        _import("\n\n")
    with pytest.raises(CsvProblem, match="twice"):
        _import("number,name,name\n")


def test_opted_out_numbers_are_imported_and_counted() -> None:
    store, acme = _store()
    store.opt_out("acme", "380671234567", NOW)
    summary, _, _ = _import("number\n380671234567\n380671234568\n", store=store, account=acme)
    assert (summary.added, summary.opted_out) == (2, 1)


def test_batches_are_bounded() -> None:
    store, acme = _store()
    sizes: list[int] = []
    add = store.add_contacts

    def spy(list_id: int, contacts: Sequence[Contact], columns: Sequence[str] = ()) -> list[bool]:
        sizes.append(len(contacts))
        return add(list_id, contacts, columns)

    store.add_contacts = spy  # type: ignore[method-assign]
    text = "number\n" + "".join(f"38067{i:07d}\n" for i in range(2500))
    summary, _, _ = _import(text, store=store, account=acme, batch_size=1000)
    assert summary.added == 2500 and sizes == [1000, 1000, 500]


def test_clean_number() -> None:
    assert clean_number("'+38 (067) 123-45.67") == "+380671234567"


_CELL = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00\r"),
                 max_size=12)


@settings(max_examples=150, deadline=None)
@given(separator=st.sampled_from([",", ";", "\t"]),
       rows=st.lists(st.tuples(_CELL, _CELL), min_size=1, max_size=8),
       bom=st.booleans())
def test_any_text_written_by_a_csv_writer_reads_back(separator: str,
                                                     rows: list[tuple[str, str]],
                                                     bom: bool) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n",
                        quoting=csv.QUOTE_MINIMAL)
    writer.writerow(["number", "a", "b"])
    for a, b in rows:
        writer.writerow(["380671234567", a, b])
    text = ("\ufeff" if bom else "") + buffer.getvalue()
    header, read = read_csv(io.StringIO(text, newline=""))
    assert header.columns == ("number", "a", "b") and header.separator == separator
    got = [(r.fields["a"], r.fields["b"]) for r in read]
    assert got == [(a.strip(), b.strip()) for a, b in rows]


def test_an_import_in_batches_yields_after_each_batch() -> None:
    store, account = _store()
    target = store.create_contact_list("acme", "l", now=NOW)
    importer = ContactImport(store, target, account, numbers=PLAN, batch_size=2)
    header, rows = read_csv(io.StringIO("number\n" + "".join(
        f"38067100000{i}\n" for i in range(5)) + "nope\n", newline=""))
    steps = importer.batches(header, rows)
    first = next(steps)
    assert (first.rows, first.added) == (2, 2)
    sizes = [s.added for s in steps]
    assert sizes == [4, 5] and store.contacts_present([target.id], ["380671000004"])


def test_records_read_as_a_csv_file_is() -> None:
    store, account = _store()
    target = store.create_contact_list("acme", "l", country="UA", now=NOW)
    header, rows = records([("0671234567", {"name": " Ann ", "number": "x"}),
                            ("+380671234567", {"city": "Kyiv"}),
                            ("12", {}), ("380501234567", {"name": "y" * 10_001})])
    assert header.columns == ("number", "name", "city") and header.number_index == 0
    *_, summary = ContactImport(store, target, account, numbers=PLAN).batches(header, rows)
    assert (summary.added, summary.duplicates, summary.invalid) == (1, 1, 2)
    assert [p.line for p in summary.problems] == [3, 4]
    [contact] = store.contacts(target.id)
    assert contact.number == "380671234567" and dict(contact.fields) == {"name": "Ann",
                                                                        "city": ""}
