"""What a large routing table and blacklist add to the server's cost per message.

    python -m bench.routing_overhead [--count 50000] [--repeat 3] [--out FILE] [--json FILE]

The server benchmark's goal scenario (4 binds, window 64, a receipt per message; the load
client of :mod:`bench.load` through :func:`bench.run.run_load`) is run against ``smsc serve``
in two variants, alternating (a b, b a, a b ...) ``--repeat`` times each, every run on a fresh
database:

a. ``bench/conf/routing.toml`` as it is: ONE route (``380``) and an empty blacklist;
b. the same file with ``--routes`` - 1 generated routes appended (random prefixes of Ukrainian
   and other countries' numbers, 3 to 10 digits) and ``--blacklist`` entries in the store
   (global and per account, exact numbers and prefixes, none matching the load's
   destinations, which all route).

For each run: throughput, p99 latency and the server's CPU time per answered message (from
/proc, every thread). The figures are the medians of each variant, the overhead is
median(b) / median(a) - 1 and, less sensitive to drift, the median of the ratios of the runs
paired in order. Beside them, the in-process cost of one ``Router.decide`` over the load's
destinations with each variant's tables, to show what share of a message the routing itself is.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import phonenumbers
from phonenumbers import PhoneNumberType

from bench.queue_bench import memory_kib, serve_database
from bench.routing_bench import build_blacklist
from bench.run import (
    BenchOptions,
    Scenario,
    StartError,
    Target,
    machine_description,
    receipts_ok,
    run_load,
)
from smsc.config.loader import load_config
from smsc.pdu.errors import PduError
from smsc.routing.accounts import hash_password
from smsc.routing.numbers import NumberPlan
from smsc.routing.router import Router
from smsc.store.records import Account, BlacklistEntry, Bucket
from smsc.store.sqlite import SqliteStore

__all__ = [
    "ROUTING_CONFIG",
    "SCENARIO",
    "OverheadOptions",
    "Variant",
    "blacklist_entries",
    "decide_cost",
    "main",
    "many_routes",
    "run_overhead",
    "toml_routes",
]

ROUTING_CONFIG = Path(__file__).resolve().parent / "conf" / "routing.toml"
SCENARIO = Scenario(binds=4, window=64, receipts=True)
SYSTEM_ID = "bench"
PASSWORD = "bench1"
CREDIT = 10**12  # minor units: covers every run at any route's price
UA_MOBILE = (
    "50",
    "63",
    "66",
    "67",
    "68",
    "73",
    "91",
    "92",
    "93",
    "94",
    "95",
    "96",
    "97",
    "98",
    "99",
)
OPERATORS = ("default", "backup")
SEED = 20240901


@dataclass(frozen=True, slots=True, kw_only=True)
class OverheadOptions:
    count: int = 50_000
    repeat: int = 3
    routes: int = 10_000
    blacklist: int = 100_000
    max_seconds: float = 60.0
    receipt_timeout: float = 60.0
    startup_timeout: float = 120.0
    stop_timeout: float = 30.0
    destination_base: int = 380_671_000_000
    verbose: bool = True


@dataclass(slots=True, kw_only=True)
class Variant:
    """One side of the comparison and its runs."""

    key: str  # "a" or "b"
    label: str
    config: Path
    blacklist: list[BlacklistEntry]
    runs: list[dict[str, Any]] = field(default_factory=list)
    listening_s: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    decide_us: float = 0.0

    def median(self, key: str) -> float | None:
        values = [float(r[key]) for r in self.runs if r.get(key) is not None and not r.get("fatal")]
        return statistics.median(values) if values else None


# --- the tables ----------------------------------------------------------------------------


def _number_heads(rng: random.Random) -> Iterator[str]:
    """Endless leading digits of valid numbers: half Ukrainian mobile ranges, half other
    countries' (phonenumbers' example mobile and fixed-line numbers of every region)."""
    examples: list[str] = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None and number.country_code != 380:
                examples.append(f"{number.country_code}{number.national_number}")
    while True:
        if rng.random() < 0.5:
            yield (
                "380" + rng.choice(UA_MOBILE) + "".join(rng.choice("0123456789") for _ in range(7))
            )
        else:
            example = rng.choice(examples)
            keep = rng.randint(3, len(example) - 1)
            yield example[:keep] + "".join(
                rng.choice("0123456789") for _ in range(len(example) - keep)
            )


def many_routes(count: int, seed: int = SEED, taken: Sequence[str] = ("380",)) -> list[str]:
    """``count`` distinct route prefixes (3 to 10 digits) cut from valid-looking numbers, none
    of them in ``taken``."""
    rng = random.Random(seed)
    seen = set(taken)
    out: list[str] = []
    heads = _number_heads(rng)
    while len(out) < count:
        head = next(heads)
        prefix = head[: rng.randint(3, min(10, len(head)))]
        if prefix not in seen:
            seen.add(prefix)
            out.append(prefix)
    return out


def toml_routes(prefixes: Sequence[str], seed: int = SEED) -> str:
    """``[[routes]]`` tables for the prefixes, one route each, operators and prices varied."""
    rng = random.Random(seed + 1)
    lines: list[str] = []
    for n, prefix in enumerate(prefixes, 1):
        operators = OPERATORS if rng.random() < 0.5 else OPERATORS[::-1]
        lines += [
            "",
            "[[routes]]",
            f'name = "r{n}"',
            f'prefix = "{prefix}"',
            f'operators = ["{operators[0]}", "{operators[1]}"]',
            f'price = "0.0{rng.randint(1, 9)}"',
        ]
    return "\n".join(lines) + "\n"


def _hits_range(prefix: str, low: int, high: int) -> bool:
    """Whether ``prefix`` begins some number in [low, high] (all of one length)."""
    width = len(str(low))
    if len(prefix) > width:
        return False
    scale: int = 10 ** (width - len(prefix))
    first = int(prefix) * scale
    return first <= high and first + scale - 1 >= low


def blacklist_entries(count: int, low: int, high: int, seed: int = SEED) -> list[BlacklistEntry]:
    """``count`` distinct entries (bench.routing_bench's mix: a tenth prefixes, a third per
    account), none of which matches a number in [low, high]."""
    rng = random.Random(seed + 2)
    spare = max(1000, count // 50)
    while True:
        entries = [
            e
            for e in build_blacklist(count + spare, rng)
            if not _hits_range(e.number, low, high)
            and not (not e.prefix and low <= int(e.number) <= high)
        ]
        if len(entries) >= count:
            return entries[:count]
        spare *= 2


# --- measuring -----------------------------------------------------------------------------


def decide_cost(
    config: Path, entries: Sequence[BlacklistEntry], destinations: Sequence[str], rounds: int = 3
) -> float:
    """CPU microseconds of one Router.decide over ``destinations`` with the config's routes
    and ``entries`` as the blacklist (best of ``rounds``, after one warm-up pass). Raises
    ValueError when a destination would not be routed and accepted."""
    router: Router = load_config(config).routing.router(blacklist=entries, numbers=NumberPlan())
    account = Account(system_id=SYSTEM_ID, password_hash="")
    decide = router.decide

    def one_pass() -> None:
        for number in destinations:
            decision = decide(
                account,
                source_addr="Bench",
                source_ton=5,
                source_npi=0,
                destination_addr=number,
                dest_ton=1,
                dest_npi=1,
                now=0.0,
            )
            if decision.blacklisted:
                raise ValueError(f"{number} is blacklisted")

    try:
        one_pass()
    except PduError as error:
        raise ValueError(f"a load destination is refused: {error}") from error
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        one_pass()
        best = min(best, time.process_time() - start)
    return best / len(destinations) * 1e6


def _prepare(db: Path, entries: Sequence[BlacklistEntry]) -> None:
    store = SqliteStore(db)
    try:
        now = time.time()
        store.create_account(
            Account(
                system_id=SYSTEM_ID,
                password_hash=hash_password(PASSWORD),
                throughput=0.0,
                created_at=now,
            )
        )
        store.credit(SYSTEM_ID, CREDIT, Bucket.BOUGHT, now, note="routing overhead benchmark")
        for start in range(0, len(entries), 10_000):
            store.add_blacklist(entries[start : start + 10_000])
    finally:
        store.close()


def measure_once(variant: Variant, options: OverheadOptions) -> dict[str, Any]:
    """One run of the scenario against a fresh server of ``variant``."""
    bench = BenchOptions(
        count=options.count,
        max_seconds=options.max_seconds,
        receipt_timeout=options.receipt_timeout,
        startup_timeout=options.startup_timeout,
        stop_timeout=options.stop_timeout,
        destination_base=options.destination_base,
        smsc_config=variant.config,
        system_id=SYSTEM_ID,
        password=PASSWORD,
    )
    with tempfile.TemporaryDirectory(prefix="smsc-routing-overhead-") as work:
        db = Path(work) / "routing.sqlite"
        _prepare(db, variant.blacklist)
        with serve_database(
            db,
            variant.config,
            startup_timeout=options.startup_timeout,
            stop_timeout=options.stop_timeout,
        ) as server:
            target = Target(
                name="smsc",
                host=server.host,
                port=server.port,
                system_id=SYSTEM_ID,
                password=PASSWORD,
                child=server.child,
            )
            load = os.getloadavg()[0]
            result = run_load(target, SCENARIO, bench)
            result["load_1min"] = round(load, 2)
            variant.listening_s.append(server.listening_s)
            variant.rss_kib.append(memory_kib(server.child.pid)[0])
    variant.runs.append(result)
    return result


def _order(repeat: int) -> Iterator[str]:
    """a b, b a, a b, ...: each variant goes first as often as the other (give or take one)."""
    for n in range(repeat):
        yield from ("a", "b") if n % 2 == 0 else ("b", "a")


def run_overhead(
    options: OverheadOptions, say: Callable[[str], None] = lambda _: None
) -> dict[str, Variant]:
    low = options.destination_base
    high = low + options.count - 1
    destinations = [str(n) for n in range(low, high + 1)]
    with tempfile.TemporaryDirectory(prefix="smsc-routing-config-") as work:
        big = Path(work) / "routing-10k.toml"
        prefixes = many_routes(options.routes - 1)
        big.write_text(ROUTING_CONFIG.read_text() + toml_routes(prefixes))
        entries = blacklist_entries(options.blacklist, low, high)
        routes_loaded = len(load_config(big).routing.routes)
        variants = {
            "a": Variant(
                key="a", label="1 route, empty blacklist", config=ROUTING_CONFIG, blacklist=[]
            ),
            "b": Variant(
                key="b",
                label=f"{routes_loaded:,} routes, {len(entries):,} blacklist entries",
                config=big,
                blacklist=entries,
            ),
        }
        sample = destinations[:: max(1, len(destinations) // 5000)]
        for variant in variants.values():
            variant.decide_us = decide_cost(variant.config, variant.blacklist, sample)
            say(f"{variant.key}: {variant.label}; Router.decide {variant.decide_us:.2f} us")
        for n, key in enumerate(_order(options.repeat), 1):
            variant = variants[key]
            result = measure_once(variant, options)
            say(f"run {n} ({key}): {_summary(result)}")
    return variants


def _summary(result: dict[str, Any]) -> str:
    if result.get("fatal"):
        return f"failed: {result['fatal']}"
    return (
        f"{float(result.get('throughput', 0)):,.0f} msg/s, p99 {result.get('p99_ms')} ms, "
        f"server {result.get('server_cpu_us_per_msg')} us/msg, "
        f"receipts {'ok' if receipts_ok(result) else 'NOT ok'}"
    )


# --- figures and output --------------------------------------------------------------------


def overhead(variants: dict[str, Variant]) -> dict[str, float | None]:
    """b / a - 1 of the medians of server CPU per message, and the median of the per-pair
    ratios (runs paired in the order they were made)."""
    a, b = variants["a"], variants["b"]
    median_a, median_b = a.median("server_cpu_us_per_msg"), b.median("server_cpu_us_per_msg")
    of_medians = median_b / median_a - 1 if median_a and median_b is not None else None
    pairs = [
        float(y["server_cpu_us_per_msg"]) / float(x["server_cpu_us_per_msg"]) - 1
        for x, y in zip(a.runs, b.runs, strict=False)
        if x.get("server_cpu_us_per_msg") and y.get("server_cpu_us_per_msg") is not None
    ]
    return {"of_medians": of_medians, "paired": statistics.median(pairs) if pairs else None}


def _fmt(value: float | None, spec: str, unit: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{unit}"


def table_rows(variants: dict[str, Variant]) -> list[list[str]]:
    rows = [
        [
            "variant",
            "runs",
            "msg/s (median)",
            "p99 ms (median)",
            "server CPU us/msg (median)",
            "server CPU us/msg (each run)",
            "client CPU us/msg",
            "Router.decide us",
            "start until listening s",
            "receipts ok",
            "load avg at start (each run)",
        ]
    ]
    for v in variants.values():
        each = ", ".join(_fmt(r.get("server_cpu_us_per_msg"), ".1f") for r in v.runs)
        rows.append(
            [
                f"{v.key}: {v.label}",
                str(len(v.runs)),
                _fmt(v.median("throughput"), ",.0f"),
                _fmt(v.median("p99_ms"), ".2f"),
                _fmt(v.median("server_cpu_us_per_msg"), ".1f"),
                each,
                _fmt(v.median("client_cpu_us_per_msg"), ".1f"),
                f"{v.decide_us:.2f}",
                _fmt(statistics.median(v.listening_s) if v.listening_s else None, ".2f"),
                f"{sum(receipts_ok(r) for r in v.runs)}/{len(v.runs)}",
                ", ".join(_fmt(r.get("load_1min"), ".1f") for r in v.runs),
            ]
        )
    return rows


def verdict_lines(variants: dict[str, Variant]) -> list[str]:
    ratio = overhead(variants)
    a, b = variants["a"], variants["b"]
    of_medians = _fmt(_pct(ratio["of_medians"]), "+.1f", "%")
    paired = _fmt(_pct(ratio["paired"]), "+.1f", "%")
    lines = [
        f"overhead of b over a in server CPU per message: {of_medians} (medians), "
        f"{paired} (median of paired runs)",
    ]
    cpu_a = a.median("server_cpu_us_per_msg")
    if cpu_a:
        lines.append(
            f"Router.decide is {a.decide_us / cpu_a:.1%} (a) and {b.decide_us / cpu_a:.1%} (b) of "
            f"the server CPU per message of a"
        )
    tput_a, tput_b = a.median("throughput"), b.median("throughput")
    if tput_a and tput_b:
        lines.append(f"throughput b / a: {tput_b / tput_a:.2f}")
    return lines


def _pct(value: float | None) -> float | None:
    return None if value is None else value * 100


def _plain(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows
    )


def markdown_report(
    variants: dict[str, Variant], options: OverheadOptions, started: datetime
) -> str:
    rows = table_rows(variants)
    head, *body = rows
    machine = machine_description()
    parts = [
        "# smsc routing overhead",
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC: scenario {SCENARIO.label}, {options.count:,} "
        f"messages per run, {options.repeat} runs per variant (alternating), a fresh database "
        "each run.",
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in machine.items()) + ".",
        "",
        "| " + " | ".join(head) + " |",
        "|---|" + "---:|" * (len(head) - 1),
        *("| " + " | ".join(row) + " |" for row in body),
        "",
        *(f"- {line}" for line in verdict_lines(variants)),
    ]
    return "\n".join(parts) + "\n"


def _parse_args(argv: Sequence[str] | None) -> tuple[argparse.Namespace, OverheadOptions]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.routing_overhead",
        description="Server CPU per message with 1 route vs 10,000 routes and 100,000 "
        "blacklist entries.",
    )
    parser.add_argument("--count", type=int, default=50_000, help="messages per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per variant (1-9)")
    parser.add_argument("--routes", type=int, default=10_000, help="routes of variant b")
    parser.add_argument(
        "--blacklist", type=int, default=100_000, help="blacklist entries of variant b"
    )
    parser.add_argument(
        "--max-seconds", type=float, default=60.0, help="sending time limit per run"
    )
    parser.add_argument("--out", type=Path, help="write the results as Markdown")
    parser.add_argument("--json", type=Path, help="write every run's raw result as JSON")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if not 1 <= args.count <= 1_000_000:
        parser.error("--count must be 1..1000000")
    if not 1 <= args.repeat <= 9:
        parser.error("--repeat must be 1..9")
    if not 2 <= args.routes <= 1_000_000:
        parser.error("--routes must be 2..1000000")
    if not 0 <= args.blacklist <= 5_000_000:
        parser.error("--blacklist must be 0..5000000")
    if not 0 < args.max_seconds <= 3600:
        parser.error("--max-seconds must be in (0, 3600]")
    options = OverheadOptions(
        count=args.count,
        repeat=args.repeat,
        routes=args.routes,
        blacklist=args.blacklist,
        max_seconds=args.max_seconds,
        verbose=not args.quiet,
    )
    return args, options


def main(argv: Sequence[str] | None = None) -> int:
    args, options = _parse_args(argv)
    started = datetime.now(UTC)

    def say(line: str) -> None:
        if options.verbose:
            print(line, file=sys.stderr, flush=True)

    try:
        variants = run_overhead(options, say)
    except (StartError, ValueError) as error:
        print(f"routing overhead benchmark stopped: {error}", file=sys.stderr)
        return 2
    print(_plain(table_rows(variants)))
    for line in verdict_lines(variants):
        print(line)
    if args.out is not None:
        args.out.write_text(markdown_report(variants, options, started))
    if args.json is not None:
        raw = {
            "machine": machine_description(),
            "options": {k: getattr(options, k) for k in OverheadOptions.__dataclass_fields__},
            "variants": {
                k: {
                    "label": v.label,
                    "decide_us": v.decide_us,
                    "runs": v.runs,
                    "listening_s": v.listening_s,
                    "rss_kib": v.rss_kib,
                }
                for k, v in variants.items()
            },
            "overhead": overhead(variants),
        }
        args.json.write_text(json.dumps(raw, indent=2) + "\n")
    clean = all(
        not r.get("fatal") and receipts_ok(r) and not r.get("errors")
        for v in variants.values()
        for r in v.runs
    )
    return 0 if clean else 1


if __name__ == "__main__":
    raise SystemExit(main())
