"""``smsc optout ...`` (an account's opt-out list) and the opt-out side of ``smsc mo inject``:
an injected STOP or START changes the list and commits the confirmation to the handset."""

from __future__ import annotations

from typing import Final

import click

from smsc.cli.context import CliContext, pass_cli
from smsc.cli.output import JSON_OPTION, echo_json, echo_table, iso
from smsc.core.centre import SmscCore
from smsc.core.ids import MessageIdFormat
from smsc.core.optout import OptOutAction, OptOutChange, OptOuts, free_of_charge
from smsc.core.routebook import RouteBook
from smsc.core.submit import BindContext
from smsc.pdu.errors import PduError
from smsc.pdu.text import MAX_PARTS
from smsc.store.records import Account

PAGE: Final = 1000


def opt_out_by_mo(cli: CliContext, account: Account, handset: str, service: str,
                  text: str) -> list[str]:
    """Apply an MO to the account's opt-out list (smsc.core.optout); the lines to print."""
    store = cli.store()
    now = cli.now()
    change = OptOuts(store, cli.config.opt_out).received(
        account=account.system_id, handset=handset, service=service, text=text, now=now)
    if change is None:
        return []
    if change.action == OptOutAction.STOP:
        said = "put on" if change.changed else "already on"
    else:
        said = "taken off" if change.changed else "was not on"
    lines = [f"{handset} {said} the opt-out list of {account.system_id} ({text.strip()!r})"]
    if change.confirmation is not None:
        lines.append(_confirm(cli, account, change, now))
    return lines


def _confirm(cli: CliContext, account: Account, change: OptOutChange, now: float) -> str:
    """Commit the confirmation through the core, as a submit of the account at price 0."""
    assert change.confirmation is not None
    config = cli.config
    store = cli.store()
    routing = RouteBook(config.routing)
    routing.install(routing.load(store))
    first = store.reserve_ids(1)
    id_format = MessageIdFormat(hex_ids=config.server.hex_ids)
    core = SmscCore(store, simulator=config.operators.simulator(), route=routing.route,
                    id_format=id_format, take_id=lambda: first,
                    mo_rules=config.operators.mo_rules)
    sender = account if account.max_parts >= MAX_PARTS else _any_length(account)
    try:
        prepared = core.intake.submit_sm(BindContext(account=sender, throttle=None),
                                         change.confirmation, now)
    except PduError as e:
        return f"no confirmation sent to {change.handset}: {e}"
    committed = core.commit(free_of_charge(prepared.parts), now)
    status = committed.outcomes[0].status if committed.outcomes else -1
    if status:
        return f"no confirmation sent to {change.handset}: status 0x{status:X}"
    return (f"confirmation {id_format.format(prepared.message_id)} queued from "
            f"{change.service} to {change.handset} (not charged)")


def _any_length(account: Account) -> Account:
    """The account as a confirmation's sender: its part limit does not cut smsc's own text."""
    from dataclasses import replace

    return replace(account, max_parts=MAX_PARTS)


@click.group("optout")
def optout() -> None:
    """An account's opt-out list: numbers campaigns do not send to.

    A handset's MO "STOP" (the words of [opt_out] in smsc.toml) puts its number on the list of
    the account it wrote to, "START" takes it off; each gets a confirmation back.

    \b
    Example:
      smsc optout list --account acme
      smsc optout add 380671234567 --account acme
    """


@optout.command("list")
@click.option("--account", required=True, metavar="SYSTEM_ID")
@JSON_OPTION
@pass_cli
def list_(cli: CliContext, account: str, as_json: bool) -> None:
    """The numbers on an account's opt-out list, since when.

    \b
    Example:
      smsc optout list --account acme
    """
    cli.account(account)
    store = cli.store()
    rows = []
    after = ""
    while True:
        page = store.opt_outs(account, after=after, limit=PAGE)
        if not page:
            break
        after = page[-1].number
        rows.extend(page)
    if as_json:
        echo_json([{"number": o.number, "at": iso(o.at), "note": o.note} for o in rows])
        return
    echo_table(["NUMBER", "SINCE", "NOTE"], [[o.number, iso(o.at), o.note] for o in rows])


@optout.command("add")
@click.argument("numbers", nargs=-1, required=True)
@click.option("--account", required=True, metavar="SYSTEM_ID")
@click.option("--note", default="by hand")
@pass_cli
def add(cli: CliContext, numbers: tuple[str, ...], account: str, note: str) -> None:
    """Opt numbers out by hand (international digits).

    \b
    Example:
      smsc optout add 380671234567 --account acme --note "asked by phone"
    """
    cli.account(account)
    for n in numbers:
        if not (n.isascii() and n.isdigit() and 1 <= len(n) <= 15):
            raise click.BadParameter(f"{n!r} is not 1 to 15 digits", param_hint="NUMBERS")
    added = sum(cli.store().opt_out(account, n, cli.now(), note) for n in numbers)
    click.echo(f"{added} number(s) opted out of {account}")


@optout.command("rm")
@click.argument("numbers", nargs=-1, required=True)
@click.option("--account", required=True, metavar="SYSTEM_ID")
@pass_cli
def rm(cli: CliContext, numbers: tuple[str, ...], account: str) -> None:
    """Take numbers off the opt-out list.

    \b
    Example:
      smsc optout rm 380671234567 --account acme
    """
    cli.account(account)
    removed = sum(cli.store().opt_in(account, n) for n in numbers)
    click.echo(f"{removed} number(s) taken off the opt-out list of {account}")
