"""``smsc operator ...``: the simulated operators, edited in the operators config file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Final, TypeVar

import click

from smsc.cli.config_commands import operator_info
from smsc.cli.context import CliContext, pass_cli
from smsc.cli.output import JSON_OPTION, echo_json, echo_table, iso
from smsc.config.edit import ConfigEditor
from smsc.operators.config import OperatorsConfig
from smsc.operators.profile import builtin_profiles

F = TypeVar("F", bound=Callable[..., Any])
SIBLINGS: Final = OperatorsConfig.SECTIONS
_DELAY_KINDS: Final = {
    "fixed": ("value",),
    "uniform": ("low", "high"),
    "lognormal": ("median", "sigma"),
    "exponential": ("mean",),
}
_STATS: Final = ("DELIVRD", "UNDELIV", "REJECTD", "EXPIRED", "UNKNOWN", "ACCEPTD", "DELETED")


@click.group()
def operator() -> None:
    """Simulated operators: throughput, delivery delay, outcome mix, validity, outages and
    offline handsets. Changes are written to the operators config file, comments kept, after
    the whole config is checked; a running server re-reads it without dropping binds.

    \b
    Example:
      smsc operator list
      smsc operator set kyivstar --throughput 50 --outcome DELIVRD:90 --outcome UNDELIV:10:1
      smsc operator add testnet --delay 1s --validity 24h
    """


# --- option values ----------------------------------------------------------------------------


def _number_or_text(text: str) -> int | float | str:
    value = text.strip()
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value)
    except ValueError:
        return value


def delay_value(text: str) -> object:
    """``3s`` (fixed), or ``KIND:…`` — ``uniform:1s-5s``, ``lognormal:2s`` (median, sigma 0.5),
    ``exponential:4s`` (mean), or keys ``lognormal:median=2s,sigma=0.8,cap=10m``."""
    text = text.strip()
    if ":" not in text:
        return _number_or_text(text)
    kind, _, rest = text.partition(":")
    kind = kind.strip().lower()
    if kind not in _DELAY_KINDS:
        raise click.BadParameter(
            f"{kind!r} is not one of {', '.join(_DELAY_KINDS)}", param_hint="--delay"
        )
    table: dict[str, object] = {"kind": kind}
    for item in filter(None, (i.strip() for i in rest.split(","))):
        if "=" in item:
            key, _, value = item.partition("=")
            table[key.strip()] = _number_or_text(value)
        elif kind == "uniform" and "-" in item:
            low, _, high = item.partition("-")
            table.update(low=_number_or_text(low), high=_number_or_text(high))
        else:
            table[_DELAY_KINDS[kind][0]] = _number_or_text(item)
    if kind == "lognormal":
        table.setdefault("sigma", 0.5)
    return table


def outcome_value(text: str) -> dict[str, object]:
    """``STAT:WEIGHT[:ERR[:NETWORK_ERROR]]``, e.g. ``DELIVRD:96`` or ``UNDELIV:1.5:1``."""
    fields = [f.strip() for f in text.split(":")]
    if not 2 <= len(fields) <= 4 or fields[0].upper() not in _STATS:
        raise click.BadParameter(
            f"{text!r}: use STAT:WEIGHT[:ERR[:NETWORK_ERROR]] with STAT one of "
            f"{', '.join(_STATS)} (e.g. UNDELIV:1.5:1)",
            param_hint="--outcome",
        )
    out: dict[str, object] = {"stat": fields[0].upper()}
    try:
        out["weight"] = _number(fields[1])
        if len(fields) > 2:
            out["err"] = int(fields[2])
        if len(fields) > 3:
            out["network_error"] = int(fields[3])
    except ValueError:
        raise click.BadParameter(
            f"{text!r}: weight is a number, err and network error whole numbers",
            param_hint="--outcome",
        ) from None
    return out


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def outage_value(text: str) -> dict[str, datetime]:
    """``START/END`` in ISO 8601 with a UTC offset."""
    start_text, slash, end_text = text.partition("/")
    if not slash:
        raise click.BadParameter(
            f"{text!r}: use START/END, e.g. 2030-01-01T02:00Z/2030-01-01T03:30Z",
            param_hint="--outage",
        )
    out: dict[str, datetime] = {}
    for key, value in (("start", start_text), ("end", end_text)):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise click.BadParameter(
                f"{value!r} is not an ISO 8601 date and time", param_hint="--outage"
            ) from None
        if moment.tzinfo is None:
            raise click.BadParameter(
                f"{value!r}: give the UTC offset (Z or +02:00)", param_hint="--outage"
            )
        out[key] = moment
    return out


def operator_options(function: F) -> F:
    options = [
        click.option("--title", help="Name shown in reports."),
        click.option(
            "--throughput",
            metavar="MSG/S",
            type=click.FloatRange(0),
            help="Messages per second taken from the queue (0: no limit).",
        ),
        click.option(
            "--burst",
            type=click.IntRange(0),
            help="Token bucket depth (0: one second of throughput).",
        ),
        click.option(
            "--queue-limit",
            type=click.IntRange(1),
            help="Most messages waiting; beyond it submits get ESME_RMSGQFUL.",
        ),
        click.option(
            "--validity",
            metavar="DURATION",
            help="Sets both --default-validity and --max-validity.",
        ),
        click.option(
            "--default-validity",
            metavar="DURATION",
            help="Validity when a submit gives none (e.g. 24h).",
        ),
        click.option(
            "--max-validity",
            metavar="DURATION",
            help="Longest validity; longer requests are shortened to it.",
        ),
        click.option(
            "--delay",
            metavar="SPEC",
            help="Delivery delay: 3s, uniform:1s-5s, lognormal:2s, "
            "lognormal:median=2s,sigma=0.8,cap=10m, exponential:4s.",
        ),
        click.option(
            "--outcome",
            "outcomes",
            multiple=True,
            metavar="STAT:WEIGHT[:ERR]",
            help="An entry of the outcome mix (repeatable; replaces the mix), e.g. "
            "DELIVRD:96 UNDELIV:1.5:1 EXPIRED:0.7:27.",
        ),
        click.option(
            "--outage",
            "outages",
            multiple=True,
            metavar="START/END",
            help="An outage window, ISO times with offset (repeatable; replaces them).",
        ),
        click.option(
            "--daily-outage",
            "daily_outages",
            multiple=True,
            metavar="HH:MM-HH:MM",
            help="A daily outage window in UTC (repeatable; replaces them).",
        ),
        click.option(
            "--no-outages",
            is_flag=True,
            default=None,
            help="Remove every outage window, absolute and daily.",
        ),
        click.option(
            "--offline-probability",
            type=click.FloatRange(0, 1),
            help="Share of handsets offline at the first attempt.",
        ),
        click.option(
            "--offline-duration",
            metavar="SPEC",
            help="How long they stay offline (a delay SPEC as for --delay).",
        ),
        click.option(
            "--offline-retry", metavar="DURATION", help="Retry interval while a handset is offline."
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def settings_from_options(options: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """The keys to write into ``[operators.NAME]`` (``current``: the table as written)."""
    out: dict[str, Any] = {}
    for key in ("title", "throughput", "burst", "queue_limit"):
        if options.get(key) is not None:
            value = options[key]
            out[key] = _number(str(value)) if key == "throughput" else value
    if options.get("validity") is not None:
        out["default_validity"] = out["max_validity"] = _number_or_text(options["validity"])
    for key in ("default_validity", "max_validity"):
        if options.get(key) is not None:
            out[key] = _number_or_text(options[key])
    if options.get("delay") is not None:
        out["delay"] = delay_value(options["delay"])
    if options.get("outcomes"):
        out["outcomes"] = [outcome_value(o) for o in options["outcomes"]]
    if options.get("no_outages"):
        if options.get("outages") or options.get("daily_outages"):
            raise click.UsageError("give --no-outages or outage windows, not both")
        out["outages"] = []
        out["daily_outages"] = []
    if options.get("outages"):
        out["outages"] = [outage_value(o) for o in options["outages"]]
    if options.get("daily_outages"):
        out["daily_outages"] = list(options["daily_outages"])
    offline: dict[str, Any] = {}
    if options.get("offline_probability") is not None:
        offline["probability"] = options["offline_probability"]
    if options.get("offline_duration") is not None:
        offline["duration"] = delay_value(options["offline_duration"])
    if options.get("offline_retry") is not None:
        offline["retry_interval"] = _number_or_text(options["offline_retry"])
    if offline:
        existing = current.get("offline")
        out["offline"] = {**(existing if isinstance(existing, dict) else {}), **offline}
    return out


def _configured(editor: ConfigEditor, name: str) -> dict[str, Any] | None:
    found = editor.get(("operators", name))
    return found if isinstance(found, dict) else None


def _check_name(name: str) -> None:
    if not (
        1 <= len(name) <= 32
        and name[0].isalpha()
        and name.isascii()
        and all(c.islower() or c.isdigit() or c == "_" for c in name)
    ):
        raise click.BadParameter(
            "an operator name is a lower-case identifier (letters, digits, _) such as kyivstar",
            param_hint="NAME",
        )


# --- commands ---------------------------------------------------------------------------------


@operator.command("add")
@click.argument("name")
@operator_options
@pass_cli
def add(cli: CliContext, /, name: str, **options: Any) -> None:
    """Add an operator (keys not given take the "default" operator's values).

    \b
    Example:
      smsc operator add testnet --title "Test network" --throughput 20 --delay 1s \\
          --outcome DELIVRD:80 --outcome UNDELIV:20:1 --validity 24h
    """
    _check_name(name)
    if name in cli.config.operators.profiles:
        raise click.ClickException(
            f"operator {name} exists already (built in or configured); "
            "change it with `smsc operator set`"
        )
    editor = cli.editor()
    values = settings_from_options(options, {})
    editor.add_table(("operators", name), values, siblings=SIBLINGS)
    cli.save(editor)
    click.echo(f"operator {name} added; route traffic to it with `smsc route add`")


@operator.command("set")
@click.argument("name")
@operator_options
@pass_cli
def set_(cli: CliContext, /, name: str, **options: Any) -> None:
    """Change an operator; only the options given change. A built-in operator without a table
    of its own gets one.

    \b
    Example:
      smsc operator set kyivstar --throughput 50 --delay lognormal:median=3s,sigma=0.6
      smsc operator set kyivstar --outcome DELIVRD:90 --outcome UNDELIV:8:1 --outcome EXPIRED:2:27
      smsc operator set lifecell --outage 2030-01-01T02:00Z/2030-01-01T03:00Z
      smsc operator set intertelecom --no-outages --offline-probability 0.05
    """
    if name not in cli.config.operators.profiles:
        raise click.ClickException(
            f"no operator {name} (see `smsc operator list`; add one with `smsc operator add`)"
        )
    editor = cli.editor()
    current = _configured(editor, name)
    values = settings_from_options(options, current or {})
    if not values:
        raise click.UsageError("nothing to change: give at least one option (see --help)")
    if current is None:
        editor.add_table(("operators", name), values, siblings=SIBLINGS)
    else:
        editor.set_values(("operators", name), values)
    cli.save(editor)
    click.echo(f"operator {name}: set {', '.join(values)}")


@operator.command("rm")
@click.argument("name")
@pass_cli
def rm(cli: CliContext, name: str) -> None:
    """Remove an operator's table from the config. Routes and rules that name it must go
    first; a built-in operator goes back to its built-in settings.

    \b
    Example:
      smsc operator rm testnet
    """
    editor = cli.editor()
    if _configured(editor, name) is None:
        raise click.ClickException(
            f"operator {name} has no table in the config files"
            + (" (it is built in)" if name in builtin_profiles() else "")
        )
    editor.remove_table(("operators", name))
    cli.save(editor)
    still = name in (cli.config.operators.profiles or {})
    click.echo(f"operator {name} removed" + (" (the built-in one remains)" if still else ""))


@operator.command("list")
@JSON_OPTION
@pass_cli
def list_(cli: CliContext, as_json: bool) -> None:
    """List the operators in force (built-in and configured).

    \b
    Example:
      smsc operator list --json
    """
    rows = [operator_info(n, p) for n, p in sorted(cli.config.operators.profiles.items())]
    if as_json:
        echo_json(rows)
        return
    echo_table(
        ["NAME", "TITLE", "MSG/S", "VALIDITY", "DELAY", "OUTCOMES"],
        [
            [
                o["name"],
                o["title"],
                f"{o['throughput']:g}" if o["throughput"] else "-",
                f"{o['default_validity'] / 3600:g}h/{o['max_validity'] / 3600:g}h",
                o["delay"],
                o["outcomes"],
            ]
            for o in rows
        ],
    )


@operator.command("show")
@click.argument("name")
@JSON_OPTION
@pass_cli
def show(cli: CliContext, name: str, as_json: bool) -> None:
    """Show an operator's settings in force.

    \b
    Example:
      smsc operator show kyivstar
    """
    profile = cli.config.operators.profiles.get(name)
    if profile is None:
        raise click.ClickException(f"no operator {name} (see `smsc operator list`)")
    info = operator_info(name, profile)
    info["outages"] = [{"start": iso(w.start), "end": iso(w.end)} for w in profile.outages]
    info["daily_outages"] = [
        f"{int(w.start // 3600):02d}:{int(w.start % 3600 // 60):02d}-"
        f"{int(w.end // 3600):02d}:{int(w.end % 3600 // 60):02d}"
        for w in profile.daily_outages
    ]
    info["offline_retry_interval"] = profile.offline.retry_interval
    if as_json:
        echo_json(info)
        return
    for key, value in info.items():
        text = str(value)
        if isinstance(value, list):
            text = (
                ", ".join(
                    str(v if not isinstance(v, dict) else f"{v['start']}/{v['end']}") for v in value
                )
                or "none"
            )
        elif key.endswith(("validity", "interval")):
            text = f"{value / 3600:g}h" if value >= 3600 else f"{value:g}s"
        elif isinstance(value, float):
            text = f"{value:g}"
        click.echo(f"{key.replace('_', ' '):<24}{text}")
