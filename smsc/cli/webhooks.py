"""``smsc webhook ...``: receipts and MO whose webhook finally failed: list them, send again."""

from __future__ import annotations

import click

from smsc.cli.context import CliContext, pass_cli
from smsc.cli.output import JSON_OPTION, echo_json, echo_table
from smsc.core.webhook_desk import WebhookDesk
from smsc.core.webhooks import failed_view

LIST_LIMIT = 1000


@click.group()
def webhook() -> None:
    """Receipts and MO sent by webhook (docs/webhooks.md).

    \b
    Example:
      smsc webhook failed --account acme
      smsc webhook replay --all --account acme
    """


@webhook.command("failed")
@click.option("--account", metavar="SYSTEM_ID", help="Only this account's.")
@click.option("--limit", type=click.IntRange(1, LIST_LIMIT), default=100, show_default=True,
              help="Show at most this many.")
@click.option("--after", "after_id", type=click.IntRange(0), default=0, metavar="ID",
              help="Only those with an id above this (to page through the list).")
@JSON_OPTION
@pass_cli
def failed(cli: CliContext, account: str | None, limit: int, after_id: int,
           as_json: bool) -> None:
    """List receipts and MO whose webhook did not succeed within their time to live (the
    newest 10,000 are kept), with the last error each got.

    \b
    Example:
      smsc webhook failed
      smsc webhook failed --account acme --json
    """
    if account is not None:
        cli.account(account)
    found = WebhookDesk(cli.store()).failed(account, after_id=after_id, limit=limit)
    rows = [failed_view(f, format_id=cli.ids.format) for f in found]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no failed webhooks" + (f" for {account}" if account else ""))
        return
    echo_table(["id", "account", "type", "message", "attempts", "last error", "failed at",
                "url"],
               [(r["id"], r["account"], r["type"], r["message_id"] or "", r["attempts"],
                 r["last_error"], r["failed_at"], r["url"]) for r in rows])


@webhook.command("replay")
@click.argument("ids", nargs=-1, type=click.IntRange(1), metavar="[ID]...")
@click.option("--all", "every", is_flag=True, help="Every failed webhook (of --account).")
@click.option("--account", metavar="SYSTEM_ID", help="Only this account's.")
@JSON_OPTION
@pass_cli
def replay(cli: CliContext, ids: tuple[int, ...], every: bool, account: str | None,
           as_json: bool) -> None:
    """Send failed webhooks again: back into the outbox with a fresh time to live (the
    account's receipt TTL), under the same event id. A JSON webhook goes to the account's
    webhook URL as it is now; a running server sends them within a second.

    \b
    Example:
      smsc webhook replay 1042 1043
      smsc webhook replay --all --account acme
    """
    if bool(ids) == every:
        raise click.UsageError("give the ids to replay, or --all")
    if account is not None:
        cli.account(account)
    back = WebhookDesk(cli.store()).replay(list(ids) if ids else None, cli.now(),
                                           account=account)
    missing = sorted(set(ids) - {item.id for item in back})
    if as_json:
        echo_json({"replayed": [item.id for item in back], "not_found": missing})
    else:
        click.echo(f"{len(back)} webhook(s) back in the outbox"
                   + (f"; not in the failed list: {', '.join(map(str, missing))}"
                      if missing else ""))
    if missing and not back:
        raise SystemExit(1)
