"""``smsc list ...``: contact lists for campaigns (create, import CSV, show, export, rm)."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Final

import click

from smsc.cli.context import CliContext, pass_cli
from smsc.cli.output import JSON_OPTION, echo_json, echo_table, iso, progress_stream
from smsc.core.contacts import ContactImport, CsvProblem, ImportSummary
from smsc.routing.numbers import home_country_problem
from smsc.store.contact_records import ContactList

PAGE: Final = 1000
SHOWN: Final = 10
MAX_LINE: Final = 1_000_000  # characters in one line of a CSV file


@click.group("list")
def contact_list() -> None:
    """Contact lists for campaigns: numbers (international, without duplicates) with fields.

    \b
    Example:
      smsc list create spring --account acme --country UA
      smsc list import spring customers.csv
      smsc list show spring
      smsc list export spring --csv spring.csv
    """


def find_list(cli: CliContext, name: str, account: str | None) -> ContactList:
    """The list ``name`` (of ``account``, needed only when several accounts have one)."""
    store = cli.store()
    if account:
        cli.account(account)
        found = store.contact_list(account, name)
        if found is None:
            raise click.ClickException(f"account {account} has no list {name!r} "
                                       "(see `smsc list show`)")
        return found
    matches = [x for x in store.contact_lists() if x.name == name]
    if not matches:
        raise click.ClickException(f"no list {name!r} (see `smsc list show`)")
    if len(matches) > 1:
        owners = ", ".join(x.account for x in matches)
        raise click.ClickException(f"the accounts {owners} each have a list {name!r}: "
                                   "say which with --account")
    return matches[0]


ACCOUNT_OPTION = click.option("--account", metavar="SYSTEM_ID",
                              help="The list's account (needed when two accounts have a list "
                                   "of that name).")


@contact_list.command("create")
@click.argument("name")
@click.option("--account", required=True, metavar="SYSTEM_ID", help="The account it belongs to.")
@click.option("--country", default="", metavar="CC",
              help="ISO 3166 country whose national numbers the imports hold (e.g. UA): "
                   "0671234567 is then read as 380671234567.")
@pass_cli
def create(cli: CliContext, name: str, account: str, country: str) -> None:
    """Create an empty list.

    \b
    Example:
      smsc list create spring --account acme --country UA
    """
    cli.account(account)
    if not name.strip() or len(name) > 100:
        raise click.BadParameter("must be 1 to 100 characters", param_hint="NAME")
    if country:
        problem = home_country_problem(country)
        if problem is not None:
            raise click.BadParameter(problem, param_hint="--country")
    made = cli.store().create_contact_list(account, name, country=country, now=cli.now())
    where = f", national numbers read as {country}" if country else ""
    click.echo(f"list {made.name!r} of {account} created{where}")


def _lines(path: Path, advance: Callable[[int], None]) -> Iterator[str]:
    """The file's lines (UTF-8, a byte order mark dropped), the bar moved by bytes read; a
    line longer than MAX_LINE characters stops the import (it is no contact list)."""
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        done = 0
        number = 0
        try:
            while True:
                line = text.readline(MAX_LINE + 1)
                if not line:
                    return
                number += 1
                if len(line) > MAX_LINE:
                    raise click.ClickException(
                        f"{path}: line {number} is longer than {MAX_LINE:,} characters; the "
                        "rows before it were imported")
                at = raw.tell()
                if at > done:
                    advance(at - done)
                    done = at
                yield line
        except UnicodeDecodeError as e:
            raise click.ClickException(
                f"{path}: not UTF-8 text near byte {done + e.start} (save it as CSV UTF-8); "
                "the rows before it were imported") from None


def _summary_lines(s: ImportSummary, lst: ContactList) -> list[str]:
    out = [f"{s.rows} rows: {s.added} new, {s.duplicates} duplicate, {s.invalid} invalid, "
           f"{s.blacklisted} blacklisted",
           f"list {lst.name!r} now has {lst.size} contacts; number column {s.number_column!r}, "
           f"fields: {', '.join(s.columns) or 'none'}"]
    if s.opted_out:
        out.append(f"{s.opted_out} of the new contacts are on the account's opt-out list "
                   "(campaigns skip them)")
    for p in s.problems:
        out.append(f"  line {p.line}: {p.kind}: {p.why}")
    more = s.invalid + s.blacklisted - len(s.problems)
    if more > 0:
        out.append(f"  ... and {more} more")
    return out


@contact_list.command("import")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@ACCOUNT_OPTION
@click.option("--number-column", metavar="COLUMN",
              help="The column holding the numbers (default: the first named number, phone, "
                   "msisdn, to, mobile ...).")
@JSON_OPTION
@pass_cli
def import_(cli: CliContext, name: str, file: Path, account: str | None,
            number_column: str | None, as_json: bool) -> None:
    """Import a CSV file into a list, in batches of 1,000 rows (each one transaction).

    The first row names the columns; the separator is ",", ";" or tab (the one the header
    uses most); a UTF-8 byte order mark is fine. Numbers are normalised to international
    digits (national ones with the list's country); duplicates (in the file or already in the
    list), invalid numbers and blacklisted numbers are left out and counted. The other
    columns become the contacts' fields, for templates such as "Hello {name}".

    \b
    Example:
      smsc list import spring customers.csv
      smsc list import spring export.csv --number-column "Mobile phone"
    """
    lst = find_list(cli, name, account)
    store = cli.store()
    owner = cli.account(lst.account)
    importer = ContactImport(store, lst, owner)
    with click.progressbar(length=file.stat().st_size, label=f"importing {file.name}",
                           file=progress_stream()) as bar:
        try:
            summary = importer.run(_lines(file, bar.update), number_column)
        except CsvProblem as e:
            raise click.ClickException(f"{file}: {e}") from None
    after = store.contact_list_by_id(lst.id) or lst
    if as_json:
        echo_json({"list": lst.name, "account": lst.account, "rows": summary.rows,
                   "added": summary.added, "duplicates": summary.duplicates,
                   "invalid": summary.invalid, "blacklisted": summary.blacklisted,
                   "opted_out": summary.opted_out, "size": after.size,
                   "number_column": summary.number_column, "columns": list(summary.columns),
                   "problems": [{"line": p.line, "kind": p.kind, "value": p.value,
                                 "why": p.why} for p in summary.problems]})
        return
    for line in _summary_lines(summary, after):
        click.echo(line)


@contact_list.command("show")
@click.argument("name", required=False)
@ACCOUNT_OPTION
@JSON_OPTION
@pass_cli
def show(cli: CliContext, name: str | None, account: str | None, as_json: bool) -> None:
    """Every list with its size, or one list: its columns and first contacts.

    \b
    Example:
      smsc list show
      smsc list show spring
    """
    store = cli.store()
    if name is None:
        if account:
            cli.account(account)
        lists = store.contact_lists(account or None)
        if as_json:
            echo_json([_list_json(x) for x in lists])
            return
        echo_table(["LIST", "ACCOUNT", "COUNTRY", "CONTACTS", "COLUMNS", "CREATED"],
                   [[x.name, x.account, x.country or "-", x.size, ", ".join(x.columns) or "-",
                     iso(x.created_at)] for x in lists])
        return
    lst = find_list(cli, name, account)
    first = store.contacts(lst.id, limit=SHOWN)
    if as_json:
        echo_json({**_list_json(lst), "first": [{"number": c.number, **c.fields}
                                                for c in first]})
        return
    click.echo(f"list {lst.name!r} of {lst.account}: {lst.size} contacts, country "
               f"{lst.country or '-'}, created {iso(lst.created_at)}")
    click.echo(f"fields: {', '.join(lst.columns) or 'none'}")
    if first:
        echo_table(["NUMBER", *lst.columns],
                   [[c.number, *(c.fields.get(col, "") for col in lst.columns)] for c in first])


def _list_json(x: ContactList) -> dict[str, object]:
    return {"name": x.name, "account": x.account, "country": x.country, "size": x.size,
            "columns": list(x.columns), "created_at": iso(x.created_at)}


@contact_list.command("export")
@click.argument("name")
@ACCOUNT_OPTION
@click.option("--csv", "target", default="-", show_default=True, metavar="FILE",
              help="Where to write (\"-\": standard output).")
@pass_cli
def export(cli: CliContext, name: str, account: str | None, target: str) -> None:
    """Write a list as CSV: number, then its columns; page by page (any size).

    \b
    Example:
      smsc list export spring --csv spring.csv
    """
    lst = find_list(cli, name, account)
    store = cli.store()
    handle: IO[str]
    if target == "-":
        handle = sys.stdout
    else:
        try:
            handle = Path(target).open("w", newline="", encoding="utf-8")  # noqa: SIM115
        except OSError as e:
            raise click.BadParameter(f"cannot write {target}: {e.strerror}",
                                     param_hint="--csv") from None
    try:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["number", *lst.columns])
        after, count = 0, 0
        while True:
            page = store.contacts(lst.id, after=after, limit=PAGE)
            if not page:
                break
            after = page[-1].id
            writer.writerows([c.number, *(c.fields.get(col, "") for col in lst.columns)]
                             for c in page)
            count += len(page)
    finally:
        if target != "-":
            handle.close()
    if target != "-":
        click.echo(f"{count} contacts written to {target}")


@contact_list.command("rm")
@click.argument("name")
@ACCOUNT_OPTION
@click.option("--yes", is_flag=True, help="Do not ask.")
@pass_cli
def rm(cli: CliContext, name: str, account: str | None, yes: bool) -> None:
    """Delete a list and its contacts.

    \b
    Example:
      smsc list rm spring --yes
    """
    lst = find_list(cli, name, account)
    if not yes:
        click.confirm(f"delete list {lst.name!r} of {lst.account} with {lst.size} contacts?",
                      abort=True)
    cli.store().delete_contact_list(lst.id)
    click.echo(f"list {lst.name!r} of {lst.account} deleted ({lst.size} contacts)")


__all__ = ["contact_list", "find_list"]
