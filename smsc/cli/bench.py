"""``smsc bench``: the load benchmark (bench/run.py), when it is at hand."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import click


def _available() -> bool:
    """Whether ``python -m bench.run`` would find the benchmark from the working directory."""
    if (Path.cwd() / "bench" / "run.py").is_file():
        return True
    try:
        return importlib.util.find_spec("bench.run") is not None
    except ImportError:
        return False


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench(args: tuple[str, ...]) -> None:
    """Run the load benchmark: smsc against a do-nothing SMPP responder on this machine, same
    load, with throughput and latency per scenario (`python -m bench.run`; its options pass
    through, see `smsc bench --help-bench`). The benchmark ships with the source tree, not with
    the installed package: run it from a checkout.

    \b
    Example:
      smsc bench --quick
      smsc bench --count 100000 --out results.md
    """
    if not _available():
        raise click.ClickException(
            "the benchmark is not importable here: it lives in bench/ of the source tree; run "
            "`smsc bench` from a checkout (the directory holding bench/)"
        )
    forwarded = ["--help" if a == "--help-bench" else a for a in args]
    try:
        code = subprocess.call([sys.executable, "-m", "bench.run", *forwarded])
    except KeyboardInterrupt:
        code = 130
    raise click.exceptions.Exit(code)
