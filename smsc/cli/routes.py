"""``smsc route ...`` and ``smsc routes suggest``: routes by prefix, edited in the routes config
file, and how one number is routed."""

from __future__ import annotations

from typing import Any, Final

import click

from smsc.cli.config_commands import COVERAGE_NAMES
from smsc.cli.context import CliContext, pass_cli
from smsc.cli.output import JSON_OPTION, echo_json, echo_table
from smsc.config.edit import ConfigEditor, render_value
from smsc.pdu.constants import CommandStatus
from smsc.pdu.errors import PduError
from smsc.routing.blacklist import Blacklist
from smsc.routing.config import SECTIONS as ROUTING_SECTIONS
from smsc.routing.forced_outcomes import ERR_UNKNOWN_SUBSCRIBER
from smsc.routing.numbers import NumberPlan
from smsc.routing.prices import check_currency, format_amount
from smsc.routing.suggest import carrier_prefixes, operator_id

SIBLINGS: Final = ROUTING_SECTIONS


@click.group()
def route() -> None:
    """Routes: destination prefixes to operators (in failover order) at a price per part.

    Written to the routes config file, comments kept, after the whole config is checked; a
    running server re-reads it without dropping binds.

    \b
    Example:
      smsc route list
      smsc route add uk-mobile --prefix 447 --operator default --price 0.05
      smsc route test 380671234567 --account acme
      smsc route suggest 380
    """


def _routes(editor: ConfigEditor) -> list[dict[str, Any]]:
    found = editor.get(("routes",))
    return list(found) if isinstance(found, list) else []


def route_index(editor: ConfigEditor, name: str) -> int:
    for index, entry in enumerate(_routes(editor), 1):
        if isinstance(entry, dict) and entry.get("name") == name:
            return index
    raise click.ClickException(f"no route {name!r} in the config (see `smsc route list`)")


def check_currency_change(cli: CliContext, route: str, currency: str, force: bool) -> str:
    """``currency`` (upper case, ISO 4217) for route ``route``, refused unless ``force`` when
    the change would leave accounts billed in the route's current currency without a price for
    it (a route priced in another currency is SMSC_RNOROUTE for them)."""
    currency = currency.upper()
    try:
        check_currency(currency)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--currency") from None
    routing = cli.config.routing
    old = next((r.currency for r in routing.routes if r.name == route), routing.currency)
    if currency == old or force:
        return currency
    lists = {p.account: p for p in routing.account_prices}
    accounts = cli.store().list_accounts() if cli.database_exists() else []
    losing = []
    for a in accounts:
        own = lists.get(a.system_id) or (lists.get(a.parent) if a.parent else None)
        priced = own is not None and own.currency == a.currency and route in own.by_route
        if a.currency == old and not priced:
            losing.append(a.system_id)
    if not losing and old != routing.currency:
        return currency
    who = ", ".join(losing) if losing else "none yet"
    raise click.ClickException(
        f"route {route} is priced in {old}: in {currency} it has no price for accounts billed "
        f"in {old}, which then get SMSC_RNOROUTE (0x404) for it (accounts: {who}; new accounts "
        f"are billed in {routing.currency}). Give --force to change it anyway, or price the "
        f"route in {currency} for one account with `smsc price set ... --account`"
    )


def _prefixes(values: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for value in values:
        for raw in value.replace(",", " ").split():
            prefix = raw.removeprefix("+")
            if not (prefix.isascii() and prefix.isdigit()):
                raise click.BadParameter(
                    f"{prefix!r} is not a prefix of digits (380, 38067)", param_hint="--prefix"
                )
            out.append(prefix)
    return out


def _operators(values: tuple[str, ...]) -> list[str]:
    return [name for value in values for name in value.replace(",", " ").split()]


@route.command("add")
@click.argument("name")
@click.option(
    "--prefix",
    "prefixes",
    multiple=True,
    required=True,
    metavar="DIGITS",
    help="A prefix (repeatable, or comma-separated).",
)
@click.option(
    "--operator",
    "operators",
    multiple=True,
    required=True,
    metavar="NAME",
    help="An operator, in failover order (repeatable, or comma-separated).",
)
@click.option("--price", required=True, help="Price per part (e.g. 0.03).")
@click.option("--currency", help="Currency of the price (default: money.currency).")
@pass_cli
def add(
    cli: CliContext,
    name: str,
    prefixes: tuple[str, ...],
    operators: tuple[str, ...],
    price: str,
    currency: str | None,
) -> None:
    """Add a route.

    \b
    Example:
      smsc route add kyivstar-backup --prefix 38068 --operator kyivstar --operator vodafone \\
          --price 0.035
    """
    editor = cli.editor()
    if any(isinstance(r, dict) and r.get("name") == name for r in _routes(editor)):
        raise click.ClickException(f"route {name} exists already (change it with `smsc route set`)")
    values: dict[str, Any] = {"name": name}
    found = _prefixes(prefixes)
    if len(found) == 1:
        values["prefix"] = found[0]
    else:
        values["prefixes"] = found
    values["operators"] = _operators(operators)
    values["price"] = price
    if currency:
        values["currency"] = currency.upper()
    editor.append_array_table("routes", values, siblings=SIBLINGS)
    cli.save(editor)
    click.echo(f"route {name} added")


@route.command("set")
@click.argument("name")
@click.option(
    "--prefix",
    "prefixes",
    multiple=True,
    metavar="DIGITS",
    help="Replace the prefixes (repeatable, or comma-separated).",
)
@click.option(
    "--operator",
    "operators",
    multiple=True,
    metavar="NAME",
    help="Replace the operators, in failover order (repeatable).",
)
@click.option("--price", help="Price per part.")
@click.option("--currency", help="Currency of the price.")
@click.option(
    "--force", is_flag=True, help="Change the currency even if accounts lose the route."
)
@pass_cli
def set_(
    cli: CliContext,
    name: str,
    prefixes: tuple[str, ...],
    operators: tuple[str, ...],
    price: str | None,
    currency: str | None,
    force: bool,
) -> None:
    """Change a route; only the options given change.

    \b
    Example:
      smsc route set kyivstar --operator kyivstar,lifecell --price 0.028
    """
    editor = cli.editor()
    index = route_index(editor, name)
    current = _routes(editor)[index - 1]
    values: dict[str, Any] = {}
    remove: list[str] = []
    if prefixes:
        found = _prefixes(prefixes)
        if len(found) == 1 and "prefixes" not in current:
            values["prefix"] = found[0]
        else:
            values["prefixes"] = found
            remove.append("prefix")
        if "prefix" in values:
            remove.append("prefixes")
    if operators:
        values["operators"] = _operators(operators)
    if price is not None:
        values["price"] = price
    if currency is not None:
        values["currency"] = check_currency_change(cli, name, currency, force)
    if not values:
        raise click.UsageError(
            "nothing to change: give --prefix, --operator, --price or --currency"
        )
    editor.remove_keys(("routes", index), [k for k in remove if k in current])
    editor.set_values(("routes", index), values)
    cli.save(editor)
    click.echo(f"route {name}: set {', '.join(values)}")


@route.command("rm")
@click.argument("name")
@pass_cli
def rm(cli: CliContext, name: str) -> None:
    """Remove a route (account price lists that name it must drop it first).

    \b
    Example:
      smsc route rm kyivstar-backup
    """
    editor = cli.editor()
    editor.remove_table(("routes", route_index(editor, name)))
    cli.save(editor)
    click.echo(f"route {name} removed")


@route.command("list")
@JSON_OPTION
@pass_cli
def list_(cli: CliContext, as_json: bool) -> None:
    """List the routes and coverage rules in force.

    \b
    Example:
      smsc route list --json
    """
    routing = cli.config.routing
    rows = [
        {
            "name": r.name,
            "prefixes": list(r.prefixes),
            "operators": list(r.operators),
            "price": format_amount(r.price, routing.decimals(r.currency)),
            "currency": r.currency,
        }
        for r in routing.routes
    ]
    coverage: list[dict[str, Any]] = [
        {
            "name": c.name,
            "prefixes": list(c.prefixes),
            "outcome": COVERAGE_NAMES[c.action],
            "err": c.error_code,
            "note": c.note,
        }
        for c in routing.coverage
    ]
    if as_json:
        echo_json({"routes": rows, "coverage": coverage})
        return
    echo_table(
        ["ROUTE", "PREFIXES", "OPERATORS (FAILOVER)", "PRICE"],
        [
            [
                r["name"],
                " ".join(r["prefixes"]),
                " > ".join(r["operators"]),
                f"{r['price']} {r['currency']}",
            ]
            for r in rows
        ],
    )
    if coverage:
        click.echo("")
        echo_table(
            ["COVERAGE", "PREFIXES", "OUTCOME", "ERR"],
            [[c["name"], " ".join(c["prefixes"]), c["outcome"], c["err"]] for c in coverage],
        )


@route.command("test")
@click.argument("number")
@click.option(
    "--account",
    metavar="SYSTEM_ID",
    help="Route as this account (its price list, currency, blacklist).",
)
@JSON_OPTION
@pass_cli
def test(cli: CliContext, number: str, account: str | None, as_json: bool) -> None:
    """Show how a number is routed: route, operator, price per part and why (longest prefix,
    coverage rule, number portability, failover during an outage, account price list), with
    the blacklist and test-number behaviour. Exits 1 when the number would be refused.

    \b
    Example:
      smsc route test 380671234567
      smsc route test 380931234567 --account acme --json
    """
    config = cli.config
    found = cli.account(account) if account else None
    store = cli.store()
    now = cli.now()
    simulator = config.operators.simulator()
    info: dict[str, Any] = {"number": number, "account": account}
    try:
        # Read as a submit with ton 0 reads it: '+', '00', national numbers of the home country.
        destination = NumberPlan().check(number, 0, 1, config.routing.home_country)
        if found is not None and found.strict_numbers and not destination.valid:
            raise PduError(
                CommandStatus.ESME_RINVDSTADR,
                f"destination {destination.number} is a possible number in no assigned range "
                "(the account accepts valid numbers only)",
            )
        table = config.routing.route_table(store.ported())
        choice = table.route(
            destination.number,
            account=found,
            operator_up=lambda name: simulator.outage_end(name, now) is None,
        )
    except PduError as e:
        info["refused"] = {
            "status": CommandStatus.name_of(e.command_status),
            "code": f"0x{e.command_status:X}",
            "reason": str(e.args[0]),
        }
        if as_json:
            echo_json(info)
        else:
            click.echo(
                f"{number}: refused with {info['refused']['status']} "
                f"({info['refused']['code']}): {e.args[0]}"
            )
        raise click.exceptions.Exit(1) from None
    decimals = config.routing.decimals(choice.currency)
    info.update(
        route=choice.route,
        operator=choice.operator,
        prefix=choice.prefix,
        price=format_amount(choice.price, decimals),
        currency=choice.currency,
        reason=choice.reason,
        ported=choice.ported,
        failover=choice.failover,
        forced=None,
    )
    if choice.forced is not None:
        info["forced"] = {"state": choice.forced.state.name, "err": choice.forced.error_code}
    elif not destination.valid:
        info["forced"] = {"state": "UNDELIVERABLE", "err": ERR_UNKNOWN_SUBSCRIBER}
    info["valid"] = destination.valid
    listed = Blacklist(store.blacklist()).match(
        destination.number, found.system_id if found else "", (found.parent or "") if found else ""
    )
    info["blacklisted"] = (
        None
        if listed is None
        else {
            "entry": listed.number + ("*" if listed.prefix else ""),
            "scope": listed.account or "global",
            "effect": (
                "refused at submit (0x402)"
                if found is not None and found.blacklist_mode.name == "REFUSE"
                else "UNDELIV receipt, err 250"
            ),
        }
    )
    behaviour = simulator.test_behaviour(destination.number)
    info["test_number"] = behaviour.description if behaviour is not None else None
    if as_json:
        echo_json(info)
        return
    click.echo(f"number     {destination.number}" + (f" (as {account})" if account else ""))
    click.echo(
        f"route      {choice.route}" + (f" (prefix {choice.prefix})" if choice.prefix else "")
    )
    click.echo(f"operator   {choice.operator or '-'}")
    click.echo(f"price      {info['price']} {choice.currency} per part")
    click.echo(f"why        {choice.reason}")
    if not destination.valid and choice.forced is None:
        click.echo("outcome    in no assigned range: accepted, ends UNDELIV err 1")
    if info["blacklisted"]:
        b = info["blacklisted"]
        click.echo(f"blacklist  {b['entry']} ({b['scope']}): {b['effect']}")
    if behaviour is not None:
        click.echo(f"test       {behaviour.description}")


def _suggest(country_code: str, as_json: bool, as_toml: bool, price: str) -> None:
    if not country_code.isdigit():
        raise click.BadParameter("a country calling code is digits, e.g. 380", param_hint="CC")
    try:
        carriers = carrier_prefixes(int(country_code))
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="CC") from None
    if as_json:
        echo_json(carriers)
        return
    if not carriers:
        click.echo(f"no carrier data for +{country_code}")
        return
    if as_toml:
        for name, prefixes in carriers.items():
            ident = operator_id(name)
            click.echo(
                f"# {name}\n[[routes]]\nname = {render_value(ident.replace('_', '-'))}\n"
                f"prefixes = {render_value(prefixes)}\noperators = "
                f"{render_value([ident])}\nprice = {render_value(price)}\n"
            )
        return
    echo_table(
        ["CARRIER", "OPERATOR ID", "PREFIXES"],
        [[name, operator_id(name), " ".join(prefixes)] for name, prefixes in carriers.items()],
    )


_SUGGEST_HELP = """Mobile network prefixes of a country calling code, per carrier, from the
    phonenumbers library's carrier data (to write routes from).

    \b
    Example:
      smsc routes suggest 380
      smsc routes suggest 44 --toml --price 0.05 >> conf/routes.toml
    """


def _suggest_command() -> click.Command:
    @click.command("suggest", help=_SUGGEST_HELP)
    @click.argument("country_code", metavar="CC")
    @click.option("--toml", "as_toml", is_flag=True, help="Print [[routes]] tables to paste.")
    @click.option("--price", default="0.05", show_default=True, help="Price for --toml.")
    @JSON_OPTION
    def suggest(country_code: str, as_toml: bool, price: str, as_json: bool) -> None:
        _suggest(country_code, as_json, as_toml, price)

    return suggest


@click.group()
def routes() -> None:
    """Route helpers.

    \b
    Example:
      smsc routes suggest 380
    """


routes.add_command(_suggest_command())
route.add_command(_suggest_command())
