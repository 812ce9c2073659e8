"""``smsc price ...``: route prices and per-account price lists, edited in the routes config."""

from __future__ import annotations

from typing import Any

import click

from smsc.cli.context import CliContext, pass_cli
from smsc.cli.output import JSON_OPTION, echo_json, echo_table
from smsc.cli.routes import SIBLINGS, check_currency_change, route_index
from smsc.config.edit import ConfigEditor
from smsc.routing.prices import format_amount

_SINGULAR = {"routes": "route", "prefixes": "prefix"}


@click.group()
def price() -> None:
    """Prices per part: each route's price, and per-account price lists that override it (by
    route, or by destination prefix: the longest prefix wins). A sub-account without a list of
    its own uses its parent's.

    \b
    Example:
      smsc price list
      smsc price set 0.028 --route kyivstar
      smsc price set 0.02 --route kyivstar --account acme
      smsc price set 0.01 --prefix 38093 --account acme
      smsc price rm --prefix 38093 --account acme
    """


def _target(route: str | None, prefix: str | None, account: str | None) -> None:
    if bool(route) == bool(prefix):
        raise click.UsageError("give --route NAME or --prefix DIGITS")
    if prefix is not None:
        if not (prefix.isascii() and prefix.isdigit()):
            raise click.BadParameter("must be digits (38093)", param_hint="--prefix")
        if not account:
            raise click.UsageError(
                "a --prefix price belongs to an account's price list: give --account"
            )


def _list_currency(cli: CliContext, account: str, currency: str | None) -> str:
    if currency:
        return currency.upper()
    if cli.database_exists():
        found = cli.store().get_account(account)
        if found is not None:
            return found.currency
    return cli.config.routing.currency


def _set_in_list(
    editor: ConfigEditor, account: str, kind: str, key: str, value: str, currency: str
) -> None:
    table = ("account_prices", account)
    current = editor.get(table)
    if current is None:
        editor.add_table(table, {"currency": currency, kind: {key: value}}, siblings=SIBLINGS)
        return
    if editor.has_header((*table, kind)):
        editor.set_values((*table, kind), {key: value})
        return
    entries = dict(current.get(kind) or {})
    entries[key] = value
    editor.set_values(table, {kind: entries})


@price.command("set")
@click.argument("amount")
@click.option("--route", metavar="NAME", help="The route whose price this is.")
@click.option("--prefix", metavar="DIGITS", help="A destination prefix (account lists only).")
@click.option(
    "--account",
    metavar="SYSTEM_ID",
    help="Set it in this account's price list (default: the route's own price).",
)
@click.option("--currency", help="Currency (a new account list: the account's currency).")
@click.option(
    "--force",
    is_flag=True,
    help="Change a route's currency even if accounts billed in its old currency lose it; "
    "set a price for an account that does not exist (yet).",
)
@pass_cli
def set_(
    cli: CliContext,
    amount: str,
    route: str | None,
    prefix: str | None,
    account: str | None,
    currency: str | None,
    force: bool,
) -> None:
    """Set a price per part.

    \b
    Example:
      smsc price set 0.028 --route kyivstar
      smsc price set 0.02 --route vodafone --account acme
      smsc price set 0.01 --prefix 38093 --account acme
    """
    _target(route, prefix, account)
    editor = cli.editor()
    if account:
        if not force and cli.database_exists() and cli.store().get_account(account) is None:
            raise click.ClickException(
                f"no account {account!r} in {cli.database_shown} (see `smsc account list`): give "
                "--force to prepare a price list for an account you will create"
            )
        currency = _list_currency(cli, account, currency)
        if route:
            route_index(editor, route)  # the route must exist
            _set_in_list(editor, account, "routes", route, amount, currency)
        else:
            assert prefix is not None
            _set_in_list(editor, account, "prefixes", prefix, amount, currency)
        what = f"{account}'s price for " + (f"route {route}" if route else f"prefix {prefix}")
    else:
        assert route is not None
        values: dict[str, Any] = {"price": amount}
        if currency:
            values["currency"] = check_currency_change(cli, route, currency, force)
        editor.set_values(("routes", route_index(editor, route)), values)
        what = f"price of route {route}"
    cli.save(editor)
    click.echo(f"{what} set to {amount}")


@price.command("rm")
@click.option("--route", metavar="NAME", help="Remove the account's price for this route.")
@click.option("--prefix", metavar="DIGITS", help="Remove the account's price for this prefix.")
@click.option("--account", required=True, metavar="SYSTEM_ID", help="The account's price list.")
@pass_cli
def rm(cli: CliContext, route: str | None, prefix: str | None, account: str) -> None:
    """Remove an entry from an account's price list (the route's own price applies again).

    \b
    Example:
      smsc price rm --prefix 38093 --account acme
    """
    _target(route, prefix, account)
    editor = cli.editor()
    table = ("account_prices", account)
    current = editor.get(table)
    kind, key = ("routes", route) if route else ("prefixes", prefix)
    assert key is not None
    entries = dict((current or {}).get(kind) or {})
    if key not in entries:
        raise click.ClickException(f"{account}'s price list has no {_SINGULAR[kind]} {key}")
    if editor.has_header((*table, kind)):
        editor.remove_keys((*table, kind), [key])
    else:
        del entries[key]
        if entries:
            editor.set_values(table, {kind: entries})
        else:
            editor.remove_keys(table, [kind])
    cli.save(editor)
    click.echo(f"{account}'s price for {_SINGULAR[kind]} {key} removed")


@price.command("list")
@click.option("--account", metavar="SYSTEM_ID", help="This account's prices per route.")
@JSON_OPTION
@pass_cli
def list_(cli: CliContext, account: str | None, as_json: bool) -> None:
    """List route prices and price lists; with --account, what the account pays per route and
    its prefix prices.

    \b
    Example:
      smsc price list
      smsc price list --account acme --json
    """
    routing = cli.config.routing
    lists = {p.account: p for p in routing.account_prices}
    rows: list[dict[str, Any]] = []
    own = lists.get(account) if account else None
    if account and own is None and cli.database_exists():
        found = cli.store().get_account(account)
        if found is not None and found.parent:
            own = lists.get(found.parent)
    for r in routing.routes:
        row = {
            "route": r.name,
            "price": format_amount(r.price, routing.decimals(r.currency)),
            "currency": r.currency,
        }
        if own is not None and r.name in own.by_route:
            row.update(
                price=format_amount(own.by_route[r.name], routing.decimals(own.currency)),
                currency=own.currency,
                source=f"price list {own.account}",
            )
        elif account:
            row["source"] = "route"
        rows.append(row)
    prefixes = (
        [
            {
                "prefix": p,
                "price": format_amount(v, routing.decimals(own.currency)),
                "currency": own.currency,
            }
            for p, v in sorted(own.by_prefix.items())
        ]
        if own is not None
        else []
    )
    if as_json:
        echo_json(
            {"account": account, "routes": rows, "prefixes": prefixes, "price_lists": sorted(lists)}
        )
        return
    headers = ["ROUTE", "PRICE"] + (["FROM"] if account else [])
    echo_table(
        headers,
        [
            [r["route"], f"{r['price']} {r['currency']}"] + ([r["source"]] if account else [])
            for r in rows
        ],
    )
    if prefixes:
        click.echo("")
        echo_table(
            ["PREFIX", "PRICE"], [[p["prefix"], f"{p['price']} {p['currency']}"] for p in prefixes]
        )
    if not account and lists:
        click.echo(f"\nprice lists: {', '.join(sorted(lists))} (see --account)")
