"""``smsc campaign create/start/pause/resume/cancel/show``: a campaign's record and its life
(smsc.core.campaign_control). A running server sends the campaigns that are RUNNING once the
campaign runner is wired into it; until then these commands only keep the record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from smsc.cli.campaigns import campaign
from smsc.cli.context import CliContext, pass_cli
from smsc.cli.output import JSON_OPTION, duration, echo_json, echo_table, iso
from smsc.core.campaign_control import CampaignControl, CampaignRefused, NewCampaign
from smsc.core.sending_window import SendingWindow
from smsc.store.campaign_records import Campaign

ACTIONS = {"start": "started", "pause": "paused", "resume": "resumed", "cancel": "cancelled"}


def _find(cli: CliContext, name: str, account: str | None) -> Campaign:
    found = [c for c in cli.store().campaigns(account or None) if c.name == name]
    if not found:
        raise click.ClickException(f"no campaign {name!r} (see `smsc campaign show`)")
    if len(found) > 1:
        owners = ", ".join(c.account for c in found)
        raise click.ClickException(f"the accounts {owners} each have a campaign {name!r}: "
                                   "say which with --account")
    return found[0]


@campaign.command("create")
@click.argument("name")
@click.option("--account", required=True, metavar="SYSTEM_ID")
@click.option("--list", "lists", required=True, multiple=True, metavar="NAME",
              help="A contact list of the account (repeat for several).")
@click.option("--text", required=True, metavar="TEMPLATE", help="The text, with fields.")
@click.option("--from", "source", default="", metavar="SENDER",
              help="The sender (default: the account's default sender).")
@click.option("--start", "start_at", default="", metavar="TIME",
              help="Not before this time (ISO 8601; default: as soon as it is started).")
@click.option("--window", default="", metavar="HH:MM-HH:MM",
              help="Hours of the day in each recipient's local time (e.g. 09:00-20:00; "
                   "default: any time).")
@click.option("--throughput", type=float, default=0.0, metavar="PER_SECOND",
              help="Messages per second (0: the account's own limit).")
@click.option("--validity", default="", metavar="DURATION",
              help="How long each message may wait for its handset (default: the operator's).")
@click.option("--no-receipts", is_flag=True, help="Ask for no delivery receipts.")
@pass_cli
def create(cli: CliContext, name: str, account: str, lists: tuple[str, ...], text: str,
           source: str, start_at: str, window: str, throughput: float, validity: str,
           no_receipts: bool) -> None:
    """Create a campaign (a draft: `smsc campaign start` starts it).

    \b
    Example:
      smsc campaign create spring --account acme --list spring --text "Hi {name|there}" \\
        --from Shop --window 09:00-20:00 --throughput 50
    """
    cli.account(account)
    start = _moment(start_at) if start_at else 0.0
    spec = NewCampaign(account=account, name=name, lists=lists, template=text, source=source,
                       start_at=start, window=window, throughput=throughput,
                       validity=duration(validity, "--validity") if validity else 0.0,
                       registered_delivery=0 if no_receipts else 1)
    try:
        made = CampaignControl(cli.store()).create(spec, cli.now())
    except CampaignRefused as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"campaign {made.name!r} of {account} created (draft); "
               f"`smsc campaign start {made.name}` starts it")


def _moment(text: str) -> float:
    """An ISO 8601 time (UTC unless it carries an offset)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO 8601 time such as "
                                 "2025-06-16T09:00+03:00", param_hint="--start") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


_HELP = {
    "start": "Start a draft campaign, after checking its sender, lists and every contact's "
             "values.",
    "pause": "Pause a running campaign (it keeps its place).",
    "resume": "Resume a paused campaign, after the same checks as start.",
    "cancel": "Cancel a campaign for good (what was sent stays sent).",
}


def _action(action: str) -> Any:
    @campaign.command(action, help=f"{_HELP[action]}\n\n\b\nExample:\n  smsc campaign "
                                   f"{action} spring")
    @click.argument("name")
    @click.option("--account", metavar="SYSTEM_ID", help="When two accounts have one.")
    @pass_cli
    def run(cli: CliContext, name: str, account: str | None) -> None:
        found = _find(cli, name, account)
        try:
            changed = CampaignControl(cli.store()).change(found.id, action, cli.now())
        except CampaignRefused as e:
            raise click.ClickException(str(e)) from None
        click.echo(f"campaign {changed.name!r} {ACTIONS[action]}: {changed.state.value}")

    return run


for _name in ACTIONS:
    _action(_name)


@campaign.command("show")
@click.argument("name", required=False)
@click.option("--account", metavar="SYSTEM_ID")
@JSON_OPTION
@pass_cli
def show(cli: CliContext, name: str | None, account: str | None, as_json: bool) -> None:
    """Every campaign with its state, or one with its counts.

    \b
    Example:
      smsc campaign show
      smsc campaign show spring
    """
    store = cli.store()
    if name is None:
        rows = store.campaigns(account or None)
        if as_json:
            echo_json([_json(c, {}) for c in rows])
            return
        echo_table(["CAMPAIGN", "ACCOUNT", "STATE", "WINDOW", "CREATED"],
                   [[c.name, c.account, c.state.value + (f" ({c.pause_reason})"
                                                        if c.pause_reason else ""),
                     str(SendingWindow(c.window_start, c.window_end)), iso(c.created_at)]
                    for c in rows])
        return
    found = _find(cli, name, account)
    counts = {k.value: v for k, v in store.campaign_counts(found.id).items()}
    if as_json:
        echo_json(_json(found, counts))
        return
    click.echo(f"campaign {found.name!r} of {found.account}: {found.state.value}"
               + (f" ({found.pause_reason})" if found.pause_reason else ""))
    click.echo(f"text: {found.template}")
    click.echo(f"from {found.source or '(default sender)'}, window "
               f"{SendingWindow(found.window_start, found.window_end)}, throughput "
               f"{found.throughput or 'the account'}")
    click.echo("contacts: " + (", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
                               or "none handled yet"))


def _json(c: Campaign, counts: dict[str, int]) -> dict[str, object]:
    return {"name": c.name, "account": c.account, "state": c.state.value,
            "pause_reason": c.pause_reason, "template": c.template, "source": c.source,
            "window": str(SendingWindow(c.window_start, c.window_end)),
            "throughput": c.throughput, "validity": c.validity,
            "start_at": iso(c.start_at) if c.start_at else None, "counts": counts,
            "created_at": iso(c.created_at)}
