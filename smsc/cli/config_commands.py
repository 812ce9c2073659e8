"""``smsc config ...``: check, show and start the config files."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import click

from smsc.cli.context import CliContext, pass_cli
from smsc.cli.output import JSON_OPTION, echo_json, echo_table
from smsc.config.check import check_config, display_path
from smsc.config.edit import render_value
from smsc.config.loader import Config, packaged_defaults
from smsc.operators.profile import Delay, DelayKind, OperatorProfile
from smsc.pdu.constants import CommandStatus
from smsc.pdu.receipt_text import stat_for_state
from smsc.routing.forced_outcomes import CoverageAction
from smsc.routing.prices import format_amount

COVERAGE_NAMES = {
    CoverageAction.REJECT: "rejectd",
    CoverageAction.UNDELIVER: "undeliv",
    CoverageAction.REFUSE: "refuse",
}


@click.group()
def config() -> None:
    """The config files: conf/smsc.toml and the files it includes.

    \b
    Example:
      smsc config init            # copy the defaults to conf/
      smsc config check           # file:line of every mistake
      smsc config show
    """


@config.command("check")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--quiet", "-q", is_flag=True, help="Print only mistakes.")
@pass_cli
def check(cli: CliContext, file: Path | None, quiet: bool) -> None:
    """Check smsc.toml and its includes as the server would; print each mistake as
    "file:line: key.path: message" and exit 1 if there is one.

    FILE defaults to --config, else conf/smsc.toml, else the built-in defaults.

    \b
    Example:
      smsc config check
      smsc config check conf/staging.toml
    """
    result = check_config(file or cli.config_path)
    for error in result.errors:
        click.echo(str(error), err=True)
    if result.errors:
        raise click.exceptions.Exit(1)
    assert result.config is not None
    for line in unknown_accounts(cli, result.config):
        click.echo(f"warning: {line}", err=True)
    if not quiet:
        names = ", ".join(display_path(p) for p in result.files)
        ops = len(result.config.operators.profiles)
        routes = len(result.config.routing.routes)
        click.echo(f"ok: {names} ({ops} operators, {routes} routes)")


def unknown_accounts(cli: CliContext, config: Config) -> list[str]:
    """Price lists, outcome rules and MO rules that name an account the database does not
    have (a typo, or an example left active): they apply to whoever creates that name."""
    if not cli.database_exists():
        return []
    known = {a.system_id for a in cli.store().list_accounts()}
    named = [(f"account_prices.{p.account}", p.account) for p in config.routing.account_prices]
    named += [(f"outcome_rules[{n}]", r.account)
              for n, r in enumerate(config.operators.outcome_rules, 1) if r.account]
    named += [(f"mo_rules[{n}]", r.account)
              for n, r in enumerate(config.operators.mo_rules, 1) if r.account]
    return [f"{path}: no account {account!r} in {cli.database_shown} (it applies to whoever "
            f"creates one of that name)" for path, account in named if account not in known]


def _delay(delay: Delay) -> str:
    if delay.kind == DelayKind.FIXED:
        text = f"{delay.a:g}s"
    elif delay.kind == DelayKind.UNIFORM:
        text = f"uniform {delay.a:g}-{delay.b:g}s"
    elif delay.kind == DelayKind.LOGNORMAL:
        text = f"lognormal median {delay.a:g}s sigma {delay.b:g}"
    else:
        text = f"exponential mean {delay.a:g}s"
    return text + (f" cap {delay.cap:g}s" if delay.cap is not None else "")


def _mix(profile: OperatorProfile) -> str:
    total = sum(w for w, _ in profile.outcomes.entries) or 1.0
    parts = []
    for weight, outcome in profile.outcomes.entries:
        stat = stat_for_state(outcome.state)
        parts.append(
            f"{stat}{f'/{outcome.err}' if outcome.err else ''} {100 * weight / total:.3g}%"
        )
    return ", ".join(parts)


def operator_info(name: str, profile: OperatorProfile) -> dict[str, Any]:
    return {
        "name": name,
        "title": profile.title,
        "throughput": profile.throughput,
        "burst": profile.burst,
        "queue_limit": profile.queue_limit,
        "default_validity": profile.default_validity,
        "max_validity": profile.max_validity,
        "delay": _delay(profile.delay),
        "outcomes": _mix(profile),
        "outages": len(profile.outages),
        "daily_outages": len(profile.daily_outages),
        "offline_probability": profile.offline.probability,
    }


def summary(config: Config) -> dict[str, Any]:
    """The effective config (defaults filled in), as plain data."""
    server = dataclasses.asdict(config.server)
    server["window_full_status"] = int(server["window_full_status"])
    routing = config.routing
    return {
        "files": [display_path(p) for p in config.files],
        "server": server,
        "simulation": {
            "seed": config.operators.seed,
            "test_numbers": config.operators.test_numbers,
            "max_schedule_ahead": config.operators.max_schedule_ahead,
            "outcome_rules": len(config.operators.outcome_rules),
            "mo_rules": len(config.operators.mo_rules),
        },
        "operators": [operator_info(n, p) for n, p in sorted(config.operators.profiles.items())],
        "money": {
            "currency": routing.currency,
            "decimals": routing.default_decimals,
            "currencies": dict(routing.currencies),
        },
        "routes": [
            {
                "name": r.name,
                "prefixes": list(r.prefixes),
                "operators": list(r.operators),
                "price": format_amount(r.price, routing.decimals(r.currency)),
                "currency": r.currency,
            }
            for r in routing.routes
        ],
        "coverage": [
            {
                "name": c.name,
                "prefixes": list(c.prefixes),
                "outcome": COVERAGE_NAMES[c.action],
                "err": c.error_code,
            }
            for c in routing.coverage
        ],
        "account_prices": sorted(p.account for p in routing.account_prices),
    }


@config.command("show")
@JSON_OPTION
@pass_cli
def show(cli: CliContext, as_json: bool) -> None:
    """Show the config in force: files, server settings, operators, routes, price lists.

    \b
    Example:
      smsc config show
      smsc --config conf/smsc.toml config show --json
    """
    info = summary(cli.config)
    if as_json:
        echo_json(info)
        return
    click.echo("files: " + ", ".join(info["files"]))
    # The settings as TOML, as they would be written in the files.
    click.echo("\n[server]")
    for key, value in info["server"].items():
        shown = value
        if key == "window_full_status":
            shown = "queue_full" if value == CommandStatus.ESME_RMSGQFUL else "throttled"
        if key != "test_account":
            click.echo(f"  {key} = {render_value(shown)}")
    click.echo("\n[test_account]")
    for key, value in info["server"]["test_account"].items():
        if key == "password" and value:
            click.echo("  # password is set (not shown)")
        else:
            click.echo(f"  {key} = {render_value(value)}")
    click.echo("\n[simulation]")
    for key, value in info["simulation"].items():
        if key in ("outcome_rules", "mo_rules"):
            click.echo(f"  # {key}: {value} (see `smsc outcome list`)")
        else:
            click.echo(f"  {key} = {render_value(value)}")
    click.echo("\noperators:")
    echo_table(
        ["NAME", "MSG/S", "VALIDITY", "DELAY", "OUTCOMES"],
        [
            [
                o["name"],
                f"{o['throughput']:g}",
                f"{o['default_validity'] / 3600:g}h/{o['max_validity'] / 3600:g}h",
                o["delay"],
                o["outcomes"],
            ]
            for o in info["operators"]
        ],
    )
    click.echo(f"\nroutes ({info['money']['currency']}):")
    echo_table(
        ["NAME", "PREFIXES", "OPERATORS", "PRICE"],
        [
            [
                r["name"],
                " ".join(r["prefixes"]),
                " > ".join(r["operators"]),
                f"{r['price']} {r['currency']}",
            ]
            for r in info["routes"]
        ],
    )
    if info["coverage"]:
        click.echo("\ncoverage:")
        echo_table(
            ["NAME", "PREFIXES", "OUTCOME", "ERR"],
            [
                [c["name"], " ".join(c["prefixes"]), c["outcome"], c["err"]]
                for c in info["coverage"]
            ],
        )
    if info["account_prices"]:
        click.echo("\nprice lists: " + ", ".join(info["account_prices"]))


@config.command("init")
@click.argument(
    "directory", required=False, default="conf", type=click.Path(file_okay=False, path_type=Path)
)
@click.option("--force", is_flag=True, help="Overwrite files that exist.")
def init(directory: Path, force: bool) -> None:
    """Copy the built-in config (smsc.toml, operators.toml, routes.toml, every key commented)
    into DIRECTORY (default: conf/), to edit and keep in git.

    \b
    Example:
      smsc config init
      smsc config init /etc/smsc && smsc --config /etc/smsc/smsc.toml config check
    """
    source = packaged_defaults().parent
    names = ("smsc.toml", "operators.toml", "routes.toml")
    existing = [n for n in names if (directory / n).exists()]
    if existing and not force:
        raise click.ClickException(
            f"{', '.join(str(directory / n) for n in existing)} exist(s); use --force to overwrite"
        )
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(source / name, directory / name)
    click.echo(f"wrote {', '.join(str(directory / n) for n in names)}")
