"""``smsc outcome ...``: outcome rules, which replace an operator's mix for some messages."""

from __future__ import annotations

from typing import Any

import click

from smsc.cli.context import CliContext, pass_cli
from smsc.cli.operators import SIBLINGS, outcome_value
from smsc.cli.output import JSON_OPTION, echo_json, echo_table
from smsc.config.edit import ConfigEditor


@click.group()
def outcome() -> None:
    """Outcome rules: a fixed outcome or a mix for an account, an operator, a prefix, or any
    mix of them (the most specific rule wins; see docs/operators.md). Written to the operators
    config file, comments kept.

    \b
    Example:
      smsc outcome add --account acme --prefix 38067 --stat UNDELIV:1
      smsc outcome add --operator lifecell --outcome DELIVRD:1 --outcome EXPIRED:1:27
      smsc outcome list
      smsc outcome rm 2
    """


def _rules(cli: CliContext) -> list[dict[str, Any]]:
    found = ConfigEditor.open(cli.config_file).get(("outcome_rules",))
    return list(found) if isinstance(found, list) else []


def _describe(rule: dict[str, Any]) -> str:
    if "stat" in rule:
        return f"{rule['stat']}" + (f" err {rule['err']}" if rule.get("err") else "")
    mix = rule.get("outcomes") or []
    return ", ".join(
        f"{o.get('stat')}:{o.get('weight', 1)}" + (f":{o['err']}" if o.get("err") else "")
        for o in mix
    )


@outcome.command("add")
@click.option("--account", default="", metavar="SYSTEM_ID", help="Only this account's messages.")
@click.option("--operator", default="", metavar="NAME", help="Only this operator's messages.")
@click.option("--prefix", default="", metavar="DIGITS", help="Only destinations with this prefix.")
@click.option(
    "--stat",
    metavar="STAT[:ERR[:NETWORK_ERROR]]",
    help="A fixed outcome, e.g. UNDELIV:1 or DELIVRD.",
)
@click.option(
    "--outcome",
    "outcomes",
    multiple=True,
    metavar="STAT:WEIGHT[:ERR]",
    help="An entry of a mix (repeatable), e.g. DELIVRD:1 EXPIRED:1:27.",
)
@pass_cli
def add(
    cli: CliContext,
    account: str,
    operator: str,
    prefix: str,
    stat: str | None,
    outcomes: tuple[str, ...],
) -> None:
    """Add an outcome rule.

    \b
    Example:
      smsc outcome add --account acme --operator kyivstar --prefix 38067 --stat UNDELIV:1
      smsc outcome add --account acme --outcome DELIVRD:1 --outcome EXPIRED:1:27
    """
    if bool(stat) == bool(outcomes):
        raise click.UsageError("give either --stat or --outcome entries")
    rule: dict[str, Any] = {}
    for key, value in (("account", account), ("operator", operator), ("prefix", prefix)):
        if value:
            rule[key] = value
    if stat:
        fields = stat.split(":")
        fixed = outcome_value(f"{fields[0]}:1" + "".join(f":{f}" for f in fields[1:]))
        fixed.pop("weight")
        rule.update(fixed)
    else:
        rule["outcomes"] = [outcome_value(o) for o in outcomes]
    editor = cli.editor()
    index = editor.append_array_table("outcome_rules", rule, siblings=SIBLINGS)
    cli.save(editor)
    click.echo(f"outcome rule {index} added")


@outcome.command("rm")
@click.argument("index", type=click.IntRange(1))
@pass_cli
def rm(cli: CliContext, index: int) -> None:
    """Remove the outcome rule numbered INDEX in `smsc outcome list`.

    \b
    Example:
      smsc outcome rm 2
    """
    rules = _rules(cli)
    if index > len(rules):
        raise click.BadParameter(f"there are {len(rules)} outcome rules", param_hint="INDEX")
    editor = cli.editor()
    editor.remove_table(("outcome_rules", index))
    cli.save(editor)
    click.echo(f"outcome rule {index} removed ({_describe(rules[index - 1])})")


@outcome.command("list")
@JSON_OPTION
@pass_cli
def list_(cli: CliContext, as_json: bool) -> None:
    """List the outcome rules as written in the config, numbered.

    \b
    Example:
      smsc outcome list
    """
    rules = _rules(cli)
    if as_json:
        echo_json([{"index": i, **r} for i, r in enumerate(rules, 1)])
        return
    if not rules:
        click.echo("no outcome rules")
        return
    echo_table(
        ["#", "ACCOUNT", "OPERATOR", "PREFIX", "OUTCOME"],
        [
            [
                i,
                r.get("account") or "*",
                r.get("operator") or "*",
                r.get("prefix") or "*",
                _describe(r),
            ]
            for i, r in enumerate(rules, 1)
        ],
    )
