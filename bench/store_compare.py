"""The SMPP path on SQLite against PostgreSQL, same load, same machine, same run.

    python -m bench.store_compare [--postgres URL] [--count N] [--repeat R] [--out FILE]

bench.run's scenario of the performance goal (1 bind, window 64, a receipt per message) against
``smsc serve`` on a fresh SQLite file and on a fresh schema of the PostgreSQL database at
``--postgres`` (default postgresql://127.0.0.1:5432/test), the two alternating ``--repeat``
times; each side reports its median run. Figures: messages per second, submit latency (p50,
p99), the smsc process's CPU per message and, on PostgreSQL, the CPU of the database backends
serving it (bench.postgres_bench), and PostgreSQL's throughput as a share of SQLite's.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.postgres_bench import with_params
from bench.run import (
    BENCH_CONFIG,
    BenchOptions,
    Scenario,
    StartError,
    machine_description,
    receipts_ok,
    representative,
    run_load,
    start_smsc,
)

SCENARIO = Scenario(binds=1, window=64, receipts=True)
DEFAULT_POSTGRES = "postgresql://127.0.0.1:5432/test"
# PostgreSQL with synchronous_commit off for smsc's connection: a commit does not wait for its
# WAL to reach the disk (as SQLite's synchronous=NORMAL, smsc's default, does not wait for
# an fsync); a crash of smsc loses nothing, one of the database server or the machine may
# lose the last fraction of a second.
NO_FSYNC = "postgres, no fsync wait"


def measure(options: BenchOptions, postgres: str, repeat: int, *,
            verbose: bool = True) -> dict[str, dict[str, Any]]:
    """Median run per store (SQLite, PostgreSQL, PostgreSQL without waiting for the WAL's
    fsync), the stores alternating."""
    urls = {"sqlite": "", "postgres": postgres,
            NO_FSYNC: with_params(postgres, options="-csynchronous_commit=off")}
    runs: dict[str, list[dict[str, Any]]] = {store: [] for store in urls}
    for n in range(repeat):
        for store, url in urls.items():
            run_options = dataclasses.replace(options, postgres=url)
            with start_smsc(run_options) as server:
                result = run_load(server, SCENARIO, run_options)
            runs[store].append(result)
            if verbose:
                print(f"... {store} run {n + 1}: {result.get('throughput', result.get('fatal'))}"
                      " msg/s", file=sys.stderr, flush=True)
    return {store: representative(found, SCENARIO) for store, found in runs.items()}


def _cell(result: dict[str, Any], key: str, scale: float = 1.0, digits: int = 0) -> str:
    value = result.get(key)
    if value is None:
        return "-"
    return f"{float(value) * scale:,.{digits}f}"


def table(results: dict[str, dict[str, Any]]) -> list[list[str]]:
    rows = [["store", "msg/s", "p50 ms", "p99 ms", "smsc CPU us/msg", "database CPU us/msg",
             "receipts", "of SQLite"]]
    base = float(results["sqlite"].get("throughput", 0.0)) or None
    for store, result in results.items():
        share = (f"{float(result.get('throughput', 0.0)) / base:.2f}" if base else "-")
        rows.append([
            store, _cell(result, "throughput"), _cell(result, "p50_ms", digits=2),
            _cell(result, "p99_ms", digits=2), _cell(result, "server_cpu_us_per_msg"),
            _cell(result, "database_cpu_us_per_msg"),
            "all, once" if receipts_ok(result) else "MISSING OR DUPLICATED", share,
        ])
    return rows


def _plain(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def _markdown(rows: list[list[str]], options: BenchOptions, repeat: int) -> str:
    machine = machine_description()
    lines = [
        "# smsc on SQLite and on PostgreSQL", "",
        f"1 bind, window 64, a receipt per message; {options.count} messages per run, "
        f"median of {repeat} alternating runs per store.", "",
        "| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0]),
        *("| " + " | ".join(r) + " |" for r in rows[1:]), "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()), "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.store_compare",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES,
                        help=f"PostgreSQL database for the runs (default {DEFAULT_POSTGRES})")
    parser.add_argument("--count", type=int, default=20_000, help="messages per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per store (1..9)")
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument("--out", type=Path, help="write the table as Markdown here")
    args = parser.parse_args(argv)
    if not 1 <= args.count <= 1_000_000 or not 1 <= args.repeat <= 9:
        parser.error("--count must be 1..1000000 and --repeat 1..9")
    options = BenchOptions(count=args.count, max_seconds=args.max_seconds,
                           smsc_config=BENCH_CONFIG)
    try:
        results = measure(options, args.postgres, args.repeat)
    except StartError as error:
        print(f"benchmark stopped: {error}", file=sys.stderr)
        return 2
    rows = table(results)
    print(_plain(rows))
    if args.out is not None:
        args.out.write_text(_markdown(rows, options, args.repeat))
    return 0 if all(receipts_ok(r) for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
