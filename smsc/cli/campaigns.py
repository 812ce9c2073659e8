"""``smsc campaign preview``: what a campaign would send and cost, before it exists."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO

import click

from smsc.cli.contact_lists import find_list
from smsc.cli.context import CliContext, pass_cli
from smsc.cli.output import JSON_OPTION, echo_json, echo_table
from smsc.core.centre import operator_desk
from smsc.core.preview import CampaignPreview, Preview, PreviewRow
from smsc.core.routebook import RouteBook
from smsc.core.templates import Template, TemplateError
from smsc.operators.mo import address_type
from smsc.pdu.errors import PduError
from smsc.routing.senders import check_sender

_ENCODINGS = {0: "GSM", 8: "UCS2", -1: "-"}


@click.group()
def campaign() -> None:
    """Campaigns: one personalised text to every contact of contact lists.

    \b
    Example:
      smsc campaign preview --list spring --text "Hello {name|customer}, -20% today" --from Shop
    """


@campaign.command("preview")
@click.option("--list", "lists", required=True, multiple=True, metavar="NAME",
              help="A contact list (repeat for several; a number in two lists gets one "
                   "message).")
@click.option("--account", metavar="SYSTEM_ID", help="The lists' account (when names clash).")
@click.option("--text", required=True, metavar="TEMPLATE",
              help="The text, with fields of the lists: \"Hello {name}\", \"{name|customer}\" "
                   "for a default, {number} for the contact's number.")
@click.option("--from", "source", default="", metavar="SENDER",
              help="The sender (default: the account's default sender).")
@click.option("--rows", default=10, show_default=True, type=click.IntRange(0, 1000),
              help="How many contacts to show.")
@click.option("--csv", "csv_target", metavar="FILE",
              help="Also write every contact's row (outcome, text, encoding, parts, price).")
@JSON_OPTION
@pass_cli
def preview(cli: CliContext, lists: tuple[str, ...], account: str | None, text: str,
            source: str, rows: int, csv_target: str | None, as_json: bool) -> None:
    """Personalise, split and price the text for every contact, as SMPP submits of it would
    be billed; count the duplicates, opted-out, blacklisted, invalid contacts and those
    missing a field's value; compare the total with the balance. Nothing is sent or billed.

    \b
    Example:
      smsc campaign preview --list spring --text "Hello {name|customer}" --from Shop
      smsc campaign preview --list a --list b --text "Hi" --csv preview.csv
    """
    found = [find_list(cli, name, account) for name in lists]
    owners = {x.account for x in found}
    if len(owners) > 1:
        raise click.ClickException(f"the lists belong to different accounts ({', '.join(owners)})")
    owner = cli.account(found[0].account)
    try:
        template = Template.parse(text)
    except TemplateError as e:
        raise click.BadParameter(str(e), param_hint="--text") from None
    ton, npi = address_type(source) if source else (0, 0)
    try:
        check_sender(owner, source, ton, npi)
    except PduError as e:
        raise click.BadParameter(str(e), param_hint="--from") from None
    config = cli.config
    store = cli.store()
    routing = RouteBook(config.routing)
    routing.install(routing.load(store))
    desk = operator_desk(config.operators.simulator())
    previewer = CampaignPreview(store, owner, routing.route,
                                test_status=desk.test_submit_status, first_rows=rows)
    now = cli.now()
    handle: IO[str] | None = None
    writer = None
    if csv_target:
        try:
            handle = Path(csv_target).open("w", newline="", encoding="utf-8")  # noqa: SIM115
        except OSError as e:
            raise click.BadParameter(f"cannot write {csv_target}: {e.strerror}",
                                     param_hint="--csv") from None
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["list", "number", "outcome", "encoding", "parts", "route", "price",
                         "text", "why"])
    currency = owner.currency

    def each(row: PreviewRow) -> None:
        if writer is not None:
            writer.writerow([row.list_name, row.number, row.outcome,
                             _ENCODINGS.get(row.data_coding, str(row.data_coding)), row.parts,
                             row.route, cli.amount(row.price, currency), row.text, row.why])

    try:
        result = previewer.run(found, template, source=source, now=now,
                               each=each if writer is not None else None)
    except TemplateError as e:
        raise click.BadParameter(str(e), param_hint="--text") from None
    finally:
        if handle is not None:
            handle.close()
    if as_json:
        echo_json(_as_json(cli, result, currency))
        return
    _print(cli, result, currency)


def _as_json(cli: CliContext, p: Preview, currency: str) -> dict[str, object]:
    def money(amount: int) -> str:
        return cli.amount(amount, currency)

    return {
        "contacts": p.contacts, "sendable": p.sendable, "parts": p.parts,
        "total": money(p.total), "total_minor": p.total, "currency": currency,
        "balance": money(p.balance), "enough_credit": p.enough_credit,
        "duplicates": p.duplicates, "opted_out": p.opted_out, "missing_values": p.missing,
        "blacklisted": p.blacklisted, "invalid": p.invalid, "invalid_reasons": p.invalid_reasons,
        "by_encoding": {_ENCODINGS.get(k, str(k)): v for k, v in sorted(p.by_encoding.items())},
        "by_parts": {str(k): v for k, v in sorted(p.by_parts.items())},
        "routes": [{"route": r.route, "operator": r.operator, "price_per_part":
                    money(r.price_per_part), "contacts": r.contacts, "parts": r.parts,
                    "amount": money(r.amount)} for r in p.routes.values()],
        "rows": [_row_json(cli, r, currency) for r in p.rows],
        "problems": [_row_json(cli, r, currency) for r in p.problems],
    }


def _row_json(cli: CliContext, r: PreviewRow, currency: str) -> dict[str, object]:
    return {"list": r.list_name, "number": r.number, "outcome": r.outcome, "text": r.text,
            "encoding": _ENCODINGS.get(r.data_coding, str(r.data_coding)), "parts": r.parts,
            "route": r.route, "price": cli.amount(r.price, currency), "why": r.why}


def _print(cli: CliContext, p: Preview, currency: str) -> None:
    if p.rows:
        echo_table(["NUMBER", "OUTCOME", "ENC", "PARTS", "ROUTE", "PRICE", "TEXT"],
                   [[r.number, r.outcome, _ENCODINGS.get(r.data_coding, "?"), r.parts or "-",
                     r.route or "-", cli.amount(r.price, currency) if r.parts else "-",
                     (r.text[:40] + "...") if len(r.text) > 43 else (r.text or r.why[:43])]
                    for r in p.rows])
        click.echo("")
    click.echo(f"{p.contacts} contacts: {p.sendable} to send ({p.parts} parts), "
               f"{p.duplicates} duplicate, {p.opted_out} opted out, {p.missing} missing a value, "
               f"{p.blacklisted} blacklisted, {p.invalid} invalid")
    if p.by_encoding:
        encodings = ", ".join(f"{_ENCODINGS.get(k, k)} {v}" for k, v in
                              sorted(p.by_encoding.items()))
        parts = ", ".join(f"{k} part{'s' if k > 1 else ''}: {v}" for k, v in
                          sorted(p.by_parts.items()))
        click.echo(f"encoding: {encodings}; {parts}")
    if p.routes:
        echo_table(["ROUTE", "OPERATOR", "PER PART", "CONTACTS", "PARTS", "AMOUNT"],
                   [[r.route, r.operator, cli.money(r.price_per_part, currency), r.contacts,
                     r.parts, cli.money(r.amount, currency)] for r in p.routes.values()])
    for reason, count in sorted(p.invalid_reasons.items()):
        click.echo(f"invalid: {count} x {reason}")
    for r in p.problems:
        click.echo(f"  {r.number} ({r.list_name}): {r.outcome}: {r.why}")
    verdict = ("enough credit" if p.enough_credit
               else f"NOT enough credit: {cli.money(p.shortfall, currency)} short")
    click.echo(f"total {cli.money(p.total, currency)}; balance of {p.credit_owner} "
               f"{cli.money(p.balance, currency)}: {verdict}")
    if p.missing:
        click.echo(f"{p.missing} contacts lack a value for a field without a default: a "
                   "campaign with this text would not start (add a default: {name|customer})")
