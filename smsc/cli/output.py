"""Shared by the commands: times in and out, tables, JSON and CSV, progress bars, durations."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TextIO

import click

from smsc.config_error import ConfigError
from smsc.operators.config import parse_duration

JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def duration(text: str, param: str) -> float:
    """Seconds from ``90``, ``"90s"``, ``"15m"``, ``"72h"``, ``"3d"``, ``"1h30m"``."""
    value: float | str = text
    with contextlib.suppress(ValueError):
        value = float(text)
    try:
        return parse_duration(value, param)
    except ConfigError as e:
        raise click.BadParameter(e.message, param_hint=param) from None


def _absolute(text: str) -> float | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def when(text: str, now: float, param: str) -> float:
    """A point in the past or present: ``now``, an ISO 8601 date or date and time (UTC unless
    it says otherwise), or a duration ago (``2h``: two hours ago)."""
    text = text.strip()
    if text.lower() == "now":
        return now
    moment = _absolute(text)
    if moment is not None:
        return moment
    try:
        return now - parse_duration(text, param)
    except ConfigError:
        raise click.BadParameter(
            f"{text!r} is neither an ISO date (2025-01-31, 2025-01-31T14:00:00+02:00) nor a "
            "duration ago (90m, 2h, 7d)",
            param_hint=param,
        ) from None


def until(text: str, now: float, param: str) -> float:
    """A point in the future: an ISO 8601 date or date and time, or a duration from now."""
    text = text.strip()
    moment = _absolute(text)
    if moment is None:
        try:
            moment = now + parse_duration(text, param)
        except ConfigError:
            raise click.BadParameter(
                f"{text!r} is neither an ISO date (2025-03-01) nor a duration from now (30d)",
                param_hint=param,
            ) from None
    if moment <= now:
        raise click.BadParameter(f"{text!r} lies in the past", param_hint=param)
    return moment


def iso(moment: float | None, *, millis: bool = False) -> str:
    """``2025-01-31T02:00:00Z`` (UTC), "" for None."""
    if moment is None:
        return ""
    stamp = datetime.fromtimestamp(moment, UTC)
    text = stamp.isoformat(timespec="milliseconds" if millis else "seconds")
    return text.replace("+00:00", "Z")


def echo_json(value: object) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=False, default=str))


def echo_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Columns aligned to their widest cell; numbers to the right."""
    body = [[("" if cell is None else str(cell)) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in body:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    right = [all(_numeric(row[i]) for row in body) and bool(body) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        out = [
            cell.rjust(widths[i]) if right[i] else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return "  ".join(out).rstrip()

    click.echo(line(headers))
    for row in body:
        click.echo(line(row))


def _numeric(text: str) -> bool:
    return bool(text) and text.replace(".", "", 1).replace("-", "", 1).isdigit()


@contextmanager
def csv_output(target: str) -> Iterator[Any]:
    """A csv writer on FILE, or on standard output for ``-``."""
    if target == "-":
        buffer = io.StringIO()
        yield csv.writer(buffer, lineterminator="\n")
        click.echo(buffer.getvalue(), nl=False)
        return
    try:
        handle: IO[str] = Path(target).open("w", newline="", encoding="utf-8")  # noqa: SIM115
    except OSError as e:
        raise click.BadParameter(
            f"cannot write {target}: {e.strerror}", param_hint="--csv"
        ) from None
    with handle:
        yield csv.writer(handle, lineterminator="\n")


def progress_stream() -> TextIO:
    """Where progress bars go: standard error, so the output stays clean for scripts."""
    return sys.stderr
