"""``smsc blacklist ...``: destinations never sent to, globally or per account."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import click

from smsc.cli.context import CliContext, pass_cli
from smsc.cli.output import JSON_OPTION, echo_json, echo_table, progress_stream
from smsc.routing.routes import MAX_PREFIX
from smsc.store.records import BlacklistEntry

MAX_IMPORT_LINES: Final = 10_000_000
MAX_LINE: Final = 1_000
MAX_SHOWN_ERRORS: Final = 10


@click.group()
def blacklist() -> None:
    """Blacklisted destinations: global, or for one account (and its sub-accounts).

    A blacklisted destination is not sent: the customer gets an UNDELIV receipt with err 250,
    or a refusal at submit (0x402) if the account's blacklist mode is "refuse". An entry is a
    number or, written with a trailing "*", a prefix. A running server sees changes within a
    second.

    \b
    Example:
      smsc blacklist add 380671234567 '38050*'
      smsc blacklist import numbers.txt --account acme
      smsc blacklist list --account acme
    """


@dataclass(frozen=True, slots=True)
class _Parsed:
    number: str
    prefix: bool


def parse_entry(text: str) -> _Parsed:
    """``380671234567`` (a number) or ``38067*`` (a prefix); a leading ``+`` and spaces inside
    are dropped. ValueError saying what is wrong."""
    raw = text.strip()
    prefix = raw.endswith("*")
    digits = raw.rstrip("*").strip().removeprefix("+").replace(" ", "").replace("-", "")
    if not digits:
        raise ValueError(f"{raw!r} has no digits")
    if not (digits.isascii() and digits.isdigit()) or raw.count("*") > 1:
        raise ValueError(f"{raw!r} is not a number or a prefix such as 38067*")
    if len(digits) > MAX_PREFIX:
        raise ValueError(f"{raw!r} has more than {MAX_PREFIX} digits")
    return _Parsed(number=digits, prefix=prefix)


def _account(cli: CliContext, account: str | None) -> str:
    if account:
        cli.account(account)
    return account or ""


@blacklist.command("add")
@click.argument("entries", nargs=-1, required=True, metavar="NUMBER|PREFIX*...")
@click.option("--account", metavar="SYSTEM_ID", help="Only for this account (default: global).")
@click.option("--note", default="", help="Why (kept with the entry).")
@pass_cli
def add(cli: CliContext, entries: tuple[str, ...], account: str | None, note: str) -> None:
    """Blacklist numbers or prefixes (a prefix ends with "*").

    \b
    Example:
      smsc blacklist add 380671234567 380501112233 --note "asked to stop"
      smsc blacklist add '38094*' --account acme
    """
    owner = _account(cli, account)
    parsed = []
    for text in entries:
        try:
            parsed.append(parse_entry(text))
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="NUMBER|PREFIX*") from None
    added = cli.store().add_blacklist(
        [BlacklistEntry(number=p.number, prefix=p.prefix, account=owner, note=note) for p in parsed]
    )
    scope = f"account {owner}" if owner else "global"
    click.echo(
        f"{added} added to the {scope} blacklist"
        + (f" ({len(parsed) - added} already there)" if added < len(parsed) else "")
    )


@blacklist.command("rm")
@click.argument("entries", nargs=-1, required=True, metavar="NUMBER|PREFIX*...")
@click.option("--account", metavar="SYSTEM_ID", help="From this account's list (default: global).")
@pass_cli
def rm(cli: CliContext, entries: tuple[str, ...], account: str | None) -> None:
    """Remove numbers or prefixes from the blacklist.

    \b
    Example:
      smsc blacklist rm 380671234567 '38050*'
    """
    owner = account or ""
    store = cli.store()
    missing = []
    for text in entries:
        try:
            parsed = parse_entry(text)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="NUMBER|PREFIX*") from None
        if not store.remove_blacklist(parsed.number, owner, parsed.prefix):
            missing.append(text)
    removed = len(entries) - len(missing)
    click.echo(f"{removed} removed")
    if missing:
        scope = f"account {owner}'s" if owner else "the global"
        raise click.ClickException(f"not in {scope} blacklist: {', '.join(missing)}")


@blacklist.command("list")
@click.option(
    "--account", metavar="SYSTEM_ID", help='Only this account\'s entries ("" for the global ones).'
)
@JSON_OPTION
@pass_cli
def list_(cli: CliContext, account: str | None, as_json: bool) -> None:
    """List blacklist entries (all of them unless --account).

    \b
    Example:
      smsc blacklist list --account acme --json
    """
    found = cli.store().blacklist(account)
    rows = [
        {
            "number": e.number + ("*" if e.prefix else ""),
            "account": e.account,
            "prefix": e.prefix,
            "note": e.note,
        }
        for e in found
    ]
    if as_json:
        echo_json(rows)
    elif not rows:
        click.echo("the blacklist is empty")
    else:
        echo_table(
            ["ENTRY", "ACCOUNT", "NOTE"],
            [[r["number"], r["account"] or "(global)", r["note"]] for r in rows],
        )


def _lines(path: Path, advance: Callable[[int], None]) -> Iterator[tuple[int, str | None]]:
    """(line number, text) of each line; text None for a line far too long to be a number."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            if number > MAX_IMPORT_LINES:
                raise click.ClickException(f"{path}: more than {MAX_IMPORT_LINES} lines")
            advance(len(raw))
            yield number, (raw.decode("utf-8", errors="replace") if len(raw) <= MAX_LINE else None)


@blacklist.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--account", metavar="SYSTEM_ID", help="Into this account's list (default: global).")
@click.option("--note", default="", help="Kept with every entry (e.g. the file's source).")
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Import the valid lines even if some are not numbers (default: import nothing then).",
)
@pass_cli
def import_(
    cli: CliContext, file: Path, account: str | None, note: str, skip_invalid: bool
) -> None:
    """Import a file: one number, or prefix ending in "*", per line; "#" starts a comment;
    blank lines are skipped. All entries are stored in one transaction.

    \b
    Example:
      smsc blacklist import optouts.txt --note "opt-outs 2025-01"
    \b
    A file:
      # opt-outs from the web form
      380671234567
      +380 50 111 2233
      38094*            # a whole range
    """
    owner = _account(cli, account)
    entries: list[BlacklistEntry] = []
    errors: list[str] = []
    invalid = 0
    with click.progressbar(
        length=file.stat().st_size, label=f"reading {file.name}", file=progress_stream()
    ) as bar:
        for number, line in _lines(file, bar.update):
            text = line.split("#", 1)[0].strip() if line is not None else None
            if text == "":
                continue
            try:
                if text is None:
                    raise ValueError(f"longer than {MAX_LINE} characters")
                parsed = parse_entry(text)
            except ValueError as e:
                invalid += 1
                if len(errors) < MAX_SHOWN_ERRORS:
                    errors.append(f"{file}:{number}: {e}")
                continue
            entries.append(
                BlacklistEntry(number=parsed.number, prefix=parsed.prefix, account=owner, note=note)
            )
    for error in errors:
        click.echo(error, err=True)
    if invalid and not skip_invalid:
        raise click.ClickException(
            f"{invalid} invalid line(s); nothing imported (fix them, or use --skip-invalid)"
        )
    added = cli.store().add_blacklist(entries)
    scope = f"account {owner}" if owner else "global"
    click.echo(
        f"{len(entries)} entries read, {added} new in the {scope} blacklist"
        + (f", {invalid} invalid line(s) skipped" if invalid else "")
    )
