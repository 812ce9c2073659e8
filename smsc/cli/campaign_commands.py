"""``smsc campaign create/start/pause/resume/cancel/show/report/clean``: a campaign's record,
its life (smsc.core.campaign_control) and its report (smsc.core.campaign_report). These write
the store; a running server sends the campaigns that are RUNNING (smsc.server.campaigns) and
notices a change of state by polling the store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from smsc.cli.campaigns import campaign
from smsc.cli.context import CliContext, pass_cli
from smsc.cli.output import JSON_OPTION, csv_output, duration, echo_json, echo_table, iso
from smsc.core.campaign_control import CampaignControl, CampaignRefused, NewCampaign
from smsc.core.campaign_report import ContactOutcome, campaign_report, clean_lists
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


@campaign.command("report")
@click.argument("name")
@click.option("--account", metavar="SYSTEM_ID")
@click.option("--csv", "csv_target", metavar="FILE",
              help="Also write every contact with its outcome (\"-\": standard output).")
@JSON_OPTION
@pass_cli
def report(cli: CliContext, name: str, account: str | None, csv_target: str | None,
           as_json: bool) -> None:
    """A campaign's counts: contacts sent, skipped (and why) and waiting; the messages'
    outcomes, errors, parts and cost; the delivery rate.

    \b
    Example:
      smsc campaign report spring
      smsc campaign report spring --csv spring-outcomes.csv
    """
    found = _find(cli, name, account)
    owner = cli.account(found.account)
    store = cli.store()
    currency = owner.currency
    ids = cli.ids
    if csv_target:
        with csv_output(csv_target) as writer:
            writer.writerow(["number", "mark", "note", "message_id", "stat", "err", "parts",
                             "charged"])

            def row(o: ContactOutcome) -> None:
                writer.writerow([o.number, o.mark.value, o.note,
                                 ids.format(o.message_id) if o.message_id else "",
                                 o.stat, o.error_code if o.stat else "", o.parts,
                                 cli.amount(o.charged, currency)])

            result = campaign_report(store, found.id, row)
    else:
        result = campaign_report(store, found.id)
    rate = result.delivery_rate
    if as_json:
        echo_json({"campaign": found.name, "account": found.account,
                   "state": found.state.value, "marks": dict(result.marks),
                   "skipped": dict(result.skipped), "outcomes": dict(result.outcomes),
                   "errors": [{"stat": s, "err": e, "count": n}
                              for (s, e), n in sorted(result.errors.items())],
                   "parts": result.parts, "charged": cli.amount(result.charged, currency),
                   "currency": currency,
                   "delivery_rate": round(rate, 4) if rate is not None else None})
        return
    if csv_target == "-":
        return
    click.echo(f"campaign {found.name!r} of {found.account}: {found.state.value}")
    click.echo("contacts: " + (", ".join(f"{v} {k}" for k, v in sorted(result.marks.items()))
                               or "none handled yet"))
    for why, count in sorted(result.skipped.items()):
        click.echo(f"  skipped, {why}: {count}")
    if result.outcomes:
        echo_table(["OUTCOME", "MESSAGES"], sorted(result.outcomes.items()))
    for (stat, err), count in sorted(result.errors.items()):
        click.echo(f"  {stat} err:{err:03d}: {count}")
    click.echo(f"{result.parts} parts, {cli.money(result.charged, currency)}; delivery rate "
               + (f"{rate:.1%}" if rate is not None else "- (nothing final yet)"))


@campaign.command("clean")
@click.argument("name")
@click.option("--account", metavar="SYSTEM_ID")
@click.option("--move-to", metavar="LIST", help="Move them to this list of the account "
                                                "(default: remove them).")
@click.option("--dry-run", is_flag=True, help="Only count them.")
@pass_cli
def clean(cli: CliContext, name: str, account: str | None, move_to: str | None,
          dry_run: bool) -> None:
    """Take the contacts whose message ended REJECTD, or UNDELIV for an unknown subscriber
    (err 1), out of their lists (or move them to another list).

    \b
    Example:
      smsc campaign clean spring --dry-run
      smsc campaign clean spring --move-to dead-numbers
    """
    found = _find(cli, name, account)
    store = cli.store()
    target = None
    if move_to:
        target = store.contact_list(found.account, move_to)
        if target is None:
            raise click.ClickException(f"account {found.account} has no list {move_to!r} "
                                       f"(`smsc list create {move_to} --account "
                                       f"{found.account}`)")
    done = clean_lists(store, found.id, move_to=target, dry_run=dry_run)
    if dry_run:
        click.echo(f"{done.removed} contacts would be taken out of their lists")
    elif target is not None:
        click.echo(f"{done.removed} contacts taken out of their lists, {done.moved} added to "
                   f"{target.name!r}")
    else:
        click.echo(f"{done.removed} contacts removed from their lists")
