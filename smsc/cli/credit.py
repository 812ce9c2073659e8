"""``smsc credit ...``: top-ups, balances and the ledger."""

from __future__ import annotations

from typing import Any

import click

from smsc.cli.context import CliContext, pass_cli
from smsc.cli.output import JSON_OPTION, csv_output, echo_json, echo_table, iso, until, when
from smsc.routing.prices import parse_amount
from smsc.store.records import Account, Bucket, LedgerEntry, LedgerKind


@click.group()
def credit() -> None:
    """Credit: top-ups, balances and the ledger (every change is a ledger row).

    Two kinds of credit: subscription credit lapses at the end of its period and is spent
    first; bought credit never lapses. A sub-account draws on its parent's credit.

    \b
    Example:
      smsc credit topup acme 50
      smsc credit topup acme 20 --subscription --expires 30d
      smsc credit adjust acme -5 --note "refund of invoice 1234 booked twice"
      smsc credit ledger acme --since 7d --csv acme.csv
    """


# An amount may be negative ("-10"): without this click reads it as an option.
_SIGNED = {"ignore_unknown_options": True}


def _owner(cli: CliContext, system_id: str) -> Account:
    found = cli.account(system_id)
    return cli.account(found.parent) if found.parent else found


@credit.command("topup", context_settings=_SIGNED)
@click.argument("system_id")
@click.argument("amount")
@click.option(
    "--subscription",
    is_flag=True,
    help="Subscription credit (lapses at --expires) instead of bought credit.",
)
@click.option(
    "--expires",
    metavar="WHEN",
    help="End of the subscription period: an ISO date or time, or a duration from now (30d).",
)
@click.option("--note", default="", help="Text kept with the ledger row.")
@pass_cli
def topup(
    cli: CliContext, system_id: str, amount: str, subscription: bool, expires: str | None, note: str
) -> None:
    """Add credit to an account (a sub-account's goes to its parent).

    \b
    Example:
      smsc credit topup acme 50
      smsc credit topup acme 19.90 --subscription --expires 2025-03-01 --note "March plan"
    """
    found = cli.account(system_id)
    owner = _owner(cli, system_id)
    try:
        units = parse_amount(amount, cli.decimals(owner.currency), negative=True)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="AMOUNT") from None
    if units <= 0:
        raise click.BadParameter(
            "must be more than 0 (to take credit away: smsc credit adjust)", param_hint="AMOUNT"
        )
    now = cli.now()
    expires_at: float | None = None
    if expires is not None:
        if not subscription:
            raise click.UsageError("--expires is for --subscription credit")
        expires_at = until(expires, now, "--expires")
    elif subscription:
        raise click.UsageError("subscription credit needs --expires (e.g. --expires 30d)")
    bucket = Bucket.SUBSCRIPTION if subscription else Bucket.BOUGHT
    balance = cli.store().credit(
        owner.system_id,
        units,
        bucket,
        now,
        expires_at=expires_at,
        note=note or "top-up",
        account=found.system_id,
    )
    to = f"{owner.system_id} (parent of {system_id})" if found.parent else system_id
    kind = f"subscription credit until {iso(expires_at)}" if subscription else "bought credit"
    click.echo(
        f"{cli.money(units, owner.currency)} {kind} added to {to}; available now "
        f"{cli.money(balance.available(now), owner.currency)}"
    )


@credit.command("adjust", context_settings=_SIGNED)
@click.argument("system_id")
@click.argument("amount")
@click.option("--note", required=True, help="Why (kept with the ledger row; required).")
@click.option(
    "--subscription", is_flag=True, help="Correct the subscription credit instead of bought."
)
@pass_cli
def adjust(cli: CliContext, system_id: str, amount: str, note: str, subscription: bool) -> None:
    """Correct an account's credit by AMOUNT (negative takes credit away, never below zero):
    an ADJUST ledger row with the note.

    \b
    Example:
      smsc credit adjust acme -5 --note "test traffic billed by mistake"
      smsc credit adjust acme 2.50 --note "goodwill for the outage on 3 March"
    """
    found = cli.account(system_id)
    owner = _owner(cli, system_id)
    try:
        units = parse_amount(amount, cli.decimals(owner.currency), negative=True)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="AMOUNT") from None
    if units == 0:
        raise click.BadParameter("must not be 0", param_hint="AMOUNT")
    if not note.strip():
        raise click.BadParameter("say why the credit is corrected", param_hint="--note")
    store = cli.store()
    now = cli.now()
    balance = store.balance(owner.system_id, now)
    held = balance.subscription_now(now) if subscription else balance.bought
    bucket_name = "subscription" if subscription else "bought"
    if units < 0 and -units > held:
        raise click.ClickException(
            f"{owner.system_id} has {cli.money(held, owner.currency)} {bucket_name} credit: "
            f"it cannot be reduced by {cli.money(-units, owner.currency)}"
        )
    if units > 0 and subscription and not balance.subscription_now(now):
        raise click.ClickException(
            "no subscription period runs: add subscription credit with "
            "`smsc credit topup --subscription --expires`"
        )
    bucket = Bucket.SUBSCRIPTION if subscription else Bucket.BOUGHT
    after = store.credit(owner.system_id, units, bucket, now, note=note,
                         account=found.system_id, kind=LedgerKind.ADJUST)
    click.echo(
        f"{bucket_name} credit of {owner.system_id} adjusted by "
        f"{cli.money(units, owner.currency)}; available now "
        f"{cli.money(after.available(now), owner.currency)}"
    )


@credit.command("show")
@click.argument("system_id")
@JSON_OPTION
@pass_cli
def show(cli: CliContext, system_id: str, as_json: bool) -> None:
    """Show the balance and check it against the ledger (the rows must add up to it).

    Amounts in --json are minor units (cents) of the currency.

    \b
    Example:
      smsc credit show acme
    """
    owner = _owner(cli, system_id)
    store = cli.store()
    now = cli.now()
    balance = store.balance(owner.system_id, now)
    rows = store.ledger(owner.system_id)
    total = sum(r.amount for r in rows)
    held = balance.bought + balance.subscription
    info: dict[str, Any] = {
        "owner": owner.system_id,
        "currency": owner.currency,
        "bought": balance.bought,
        "subscription": balance.subscription_now(now),
        "subscription_expires_at": iso(balance.subscription_expires_at) or None,
        "available": balance.available(now),
        "ledger_rows": len(rows),
        "ledger_total": total,
        "ledger_matches": total == held,
    }
    if as_json:
        echo_json(info)
        return
    cur = owner.currency
    if owner.system_id != system_id:
        click.echo(f"{system_id} draws on the credit of {owner.system_id}")
    click.echo(f"available     {cli.money(balance.available(now), cur)}")
    click.echo(f"bought        {cli.money(balance.bought, cur)}")
    sub = f"subscription  {cli.money(balance.subscription_now(now), cur)}"
    if balance.subscription_expires_at is not None and balance.subscription:
        sub += f" until {iso(balance.subscription_expires_at)}"
    click.echo(sub)
    mark = "= the balance" if total == held else f"!= the balance {cli.money(held, cur)}"
    click.echo(f"ledger        {len(rows)} rows adding up to {cli.money(total, cur)} {mark}")
    if total != held:
        raise click.ClickException("the ledger does not add up to the balance")


def _entry(cli: CliContext, row: LedgerEntry, currency: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": iso(row.at, millis=True),
        "kind": row.kind.name.lower(),
        "bucket": row.bucket.name.lower(),
        "amount": cli.amount(row.amount, currency),
        "balance_after": cli.amount(row.balance_after, currency),
        "account": row.account,
        "message_id": cli.ids.format(row.message_id) if row.message_id is not None else "",
        "note": row.note,
        "currency": currency,
    }


@credit.command("ledger")
@click.argument("system_id")
@click.option("--since", metavar="WHEN", help="From this time: ISO date/time or duration ago.")
@click.option("--limit", type=click.IntRange(1), help="Only the newest N rows.")
@click.option("--csv", "csv_file", metavar="FILE", help="Write CSV to FILE (- for stdout).")
@JSON_OPTION
@pass_cli
def ledger(
    cli: CliContext,
    system_id: str,
    since: str | None,
    limit: int | None,
    csv_file: str | None,
    as_json: bool,
) -> None:
    """The ledger of an account's credit: top-ups, debits, refunds, lapses.

    A debit row is one accepted message (all its parts; one row per credit bucket it used).

    Every row carries the balance after it; the whole ledger adds up to the balance.

    \b
    Example:
      smsc credit ledger acme --limit 20
      smsc credit ledger acme --since 2025-01-01 --csv -
    """
    owner = _owner(cli, system_id)
    now = cli.now()
    start = when(since, now, "--since") if since else None
    rows = cli.store().ledger(owner.system_id, since=start, limit=limit)
    entries = [_entry(cli, r, owner.currency) for r in rows]
    if csv_file:
        with csv_output(csv_file) as writer:
            writer.writerow(list(entries[0]) if entries else list(_HEADERS))
            for e in entries:
                writer.writerow(list(e.values()))
        if csv_file != "-":
            click.echo(f"{len(entries)} ledger rows written to {csv_file}")
        return
    if as_json:
        echo_json(entries)
        return
    if not entries:
        click.echo("no ledger rows")
        return
    echo_table(
        [
            "ID",
            "AT (UTC)",
            "KIND",
            "BUCKET",
            f"AMOUNT ({owner.currency})",
            f"BALANCE ({owner.currency})",
            "ACCOUNT",
            "MESSAGE",
            "NOTE",
        ],
        [
            [
                e["id"],
                e["at"],
                e["kind"],
                e["bucket"],
                e["amount"],
                e["balance_after"],
                e["account"],
                e["message_id"],
                e["note"],
            ]
            for e in entries
        ],
    )
    total = sum(r.amount for r in rows)
    scope = "these rows add" if (since or limit) else "the whole ledger adds"
    click.echo(f"{len(rows)} rows; {scope} up to {cli.money(total, owner.currency)}")


_HEADERS = (
    "id",
    "at",
    "kind",
    "bucket",
    "amount",
    "balance_after",
    "account",
    "message_id",
    "note",
    "currency",
)
