"""The HTTP API benchmark: single-message POSTs and batch POSTs against the SMPP path, same run.

    python -m bench.http_bench [--count N] [--batch 1000] [--repeat K] [--out FILE]

Each scenario runs on a fresh ``smsc serve`` (the benchmark's config, bench/conf/smsc.toml: an
operator that delivers at once) with SMPP and the HTTP API on loopback ports of its own:

- ``smpp``: the SMPP load client (:mod:`bench.load`), 1 bind, window 64, a receipt per message;
- ``http single``: :mod:`bench.http_load`, one destination per POST, keep-alive connections;
- ``http batch``: POSTs of ``--batch`` destinations each;
- ``ceiling single`` and ``ceiling batch``: the same two loads against the HTTP ceiling
  responder (:mod:`bench.http_ceiling`: twisted.web answering ids, a receipt POSTed per message
  through the same Twisted client and pool smsc uses, no other work), as ``bench.run``
  measures the SMPP path against :mod:`bench.ceiling`;
- ``ceiling-lean single`` and ``ceiling-lean batch``: the same against the lean ceiling
  (:mod:`bench.http_ceiling_lean`: the same behaviour on a plain Twisted Protocol, llhttp's
  parser through ``httptools``, bytes written directly, a keep-alive pool per receiver): what
  the HTTP layer costs when it is as thin as it gets on Twisted in CPython. smsc serves HTTP
  on the same kind of layer (httptools on a Twisted Protocol), so its "vs ceiling" is to
  this one; the lean ceiling's own "vs ceiling" is to the twisted.web one.

The HTTP scenarios ask for a receipt per message on a per-message ``webhook_url`` pointing at
the load client's own receiver, so "receipts/s" says whether webhook deliveries keep pace. The
table gives messages/s, p50/p99 per request, the receipts, each HTTP rate's ratio to the SMPP
rate of the same run (goals: batch >= 0.8, single >= 1/3) and to the ceiling's rate for the
same load. ``--repeat`` runs the scenarios in turn K times and reports each one's median run.

Every subprocess is started here and stopped by its own PID; every wait has a time limit.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.run import (
    BENCH_CREDIT,
    LISTENING,
    LOCAL_LISTEN,
    REPO_ROOT,
    BenchOptions,
    ChildProcess,
    Scenario,
    StartError,
    Target,
    machine_description,
    run_load,
    run_to_end,
    smsc_command,
)

__all__ = [
    "LEAN",
    "WEB",
    "HttpScenario",
    "main",
    "run_http",
    "start_http_ceiling",
    "webhook_pace",
]

HTTP_LISTENING = re.compile(r"HTTP API on http://(?P<host>[^\s:/]+):(?P<port>\d+)/v1")
SYSTEM_ID = "bench"
PASSWORD = "benchpw"
SMPP = Scenario(binds=1, window=64, receipts=True)
BATCH_GOAL = 0.8
SINGLE_GOAL = 1 / 3
WEB = "bench.http_ceiling"  # the twisted.web ceiling
LEAN = "bench.http_ceiling_lean"  # the lean ceiling (httptools on a plain Protocol)


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpScenario:
    name: str
    batch: int  # 0: the SMPP path
    connections: int
    ceiling: bool = False  # against a ceiling responder, not smsc
    responder: str = WEB  # the ceiling's module: WEB or LEAN


def _setup(options: BenchOptions, db: Path, directory: Path) -> str:
    """The benchmark account and an API key for it; the key."""
    steps = [
        ("account", "add", SYSTEM_ID, "--password", PASSWORD, "--credit", BENCH_CREDIT),
        ("apikey", "create", SYSTEM_ID, "--json"),
    ]
    out = ""
    for step in steps:
        finished = run_to_end(smsc_command(options, db, *step), cwd=directory,
                              timeout=options.startup_timeout)
        if finished is None or finished[0]:
            detail = "timed out" if finished is None else finished[2][-2000:]
            raise StartError(f"`smsc {' '.join(step[:2])}` failed: {detail}")
        out = finished[1]
    key = json.loads(out)
    return str(key.get("key") or key.get("token"))


@contextlib.contextmanager
def start_server(options: BenchOptions) -> Iterator[tuple[Target, tuple[str, int], str]]:
    """``smsc serve`` with SMPP and HTTP on loopback ports, on a fresh database: the SMPP
    target, the HTTP address and the API key."""
    with tempfile.TemporaryDirectory(prefix="smsc-http-bench-") as work:
        directory = Path(work)
        db = directory / "bench.db"
        key = _setup(options, db, directory)
        serve = smsc_command(options, db, "serve", "--listen", LOCAL_LISTEN,
                             "--http", LOCAL_LISTEN, *options.smsc_extra_args)
        child = ChildProcess(serve, cwd=directory, name="smsc")
        try:
            found = child.wait_for([LISTENING, HTTP_LISTENING], options.startup_timeout)
            if found is None:
                raise StartError("smsc serve did not announce its listeners\n"
                                 + child.output_tail())
            smpp = Target(name="smsc", host=found[0]["host"], port=int(found[0]["port"]),
                          system_id=SYSTEM_ID, password=PASSWORD, child=child)
            yield smpp, (found[1]["host"], int(found[1]["port"])), key
        finally:
            child.stop(options.stop_timeout)
            child.close()


def run_http(address: tuple[str, int], key: str, scenario: HttpScenario,
             options: BenchOptions, child: ChildProcess) -> dict[str, Any]:
    argv = [sys.executable, "-m", "bench.http_load", "--host", address[0],
            "--port", str(address[1]), f"--key={key}", "--connections",
            str(scenario.connections), "--batch", str(scenario.batch), "--count",
            str(options.count), "--destination-base", str(options.destination_base),
            "--max-seconds", str(options.max_seconds), "--receipts", "--webhook-port", "0",
            "--receipt-timeout", str(options.receipt_timeout)]
    cpu_before = child.cpu_seconds()
    limit = options.max_seconds + options.receipt_timeout + 60
    finished = run_to_end(argv, cwd=REPO_ROOT, timeout=limit)
    if finished is None:
        return {"fatal": f"the HTTP load client did not finish within {limit:.0f} s"}
    cpu_after = child.cpu_seconds()
    code, out, err = finished
    try:
        result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"fatal": f"the HTTP load client exited with {code}: {err[-2000:]}"}
    if cpu_before is not None and cpu_after is not None and result.get("acked_ok"):
        result["server_cpu_us_per_msg"] = round(
            (cpu_after - cpu_before) / result["acked_ok"] * 1e6, 1)
    return result


@contextlib.contextmanager
def start_http_ceiling(options: BenchOptions, responder: str = WEB,
                       ) -> Iterator[tuple[tuple[str, int], ChildProcess]]:
    """A ceiling responder (with receipts) for the ``with`` block: its address."""
    lifetime = options.max_seconds + options.receipt_timeout + 120
    argv = [sys.executable, "-m", responder, "--port", "0", "--receipts",
            "--lifetime", str(lifetime)]
    child = ChildProcess(argv, cwd=REPO_ROOT, name="http-ceiling")
    try:
        found = child.wait_for([HTTP_LISTENING], options.startup_timeout)
        if found is None:
            raise StartError("the HTTP ceiling responder did not start\n" + child.output_tail())
        yield (found[0]["host"], int(found[0]["port"])), child
    finally:
        child.stop(options.stop_timeout)
        child.close()


def measure(scenario: HttpScenario, options: BenchOptions) -> dict[str, Any]:
    try:
        if scenario.ceiling:
            with start_http_ceiling(options, scenario.responder) as (address, child):
                return run_http(address, "ceiling", scenario, options, child)
        with start_server(options) as (smpp, http, key):
            if scenario.batch == 0:
                return run_load(smpp, SMPP, options)
            return run_http(http, key, scenario, options, smpp.child)
    except StartError as error:
        return {"fatal": str(error)}


def _median(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    broken = [run for run in runs if run.get("fatal")]
    if broken:
        return broken[0]
    ordered = sorted(runs, key=lambda run: float(run.get("throughput", 0.0)))
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    if len(runs) > 1:
        chosen["throughputs"] = [run.get("throughput", 0.0) for run in runs]
    return chosen


def _row(scenario: HttpScenario, result: dict[str, Any], smpp_rate: float,
         ceiling_rate: float) -> list[str]:
    if result.get("fatal"):
        return [scenario.name, "failed: " + str(result["fatal"]).splitlines()[0][:80],
                "", "", "", "", "", ""]
    rate = float(result.get("throughput", 0.0))
    receipts = (f"{result.get('receipts_received', 0)}/{result.get('receipts_expected', 0)}"
                f" at {float(result.get('receipts_throughput', 0.0)):,.0f}/s")
    ratio = f"{rate / smpp_rate:.2f}" if smpp_rate and scenario.batch else "1"
    lean = scenario.responder != WEB
    to_ceiling = (f"{rate / ceiling_rate:.2f}" if ceiling_rate and scenario.batch
                  and (lean or not scenario.ceiling) else "-")
    return [scenario.name, f"{rate:,.0f}", f"{float(result.get('p50_ms', 0.0)):.1f}",
            f"{float(result.get('p99_ms', 0.0)):.1f}", receipts, ratio, to_ceiling,
            str(result.get("server_cpu_us_per_msg", ""))]


HEADER = ["scenario", "msg/s", "p50 ms", "p99 ms", "receipts", "vs SMPP", "vs ceiling",
          "server us/msg"]


def ceiling_of(scenario: HttpScenario, scenarios: Sequence[HttpScenario],
               responder: str = WEB) -> str | None:
    """The name of the ceiling scenario (of ``responder``) with the same load as ``scenario``."""
    for other in scenarios:
        if other.ceiling and other.responder == responder and other.batch == scenario.batch:
            return other.name
    return None


def _cpu(result: dict[str, Any]) -> float:
    return float(result.get("server_cpu_us_per_msg") or 0.0)


def webhook_pace(results: dict[str, dict[str, Any]],
                 scenarios: Sequence[HttpScenario]) -> list[str]:
    """For each smsc HTTP row: whether its webhook deliveries kept pace with its messages
    (receipts per second over messages per second, both from the first request; goal 1) and
    how many events a webhook call carried on average."""
    lines = []
    for scenario in scenarios:
        if scenario.ceiling or not scenario.batch:
            continue
        result = results.get(scenario.name, {})
        rate = float(result.get("throughput", 0.0))
        receipts = float(result.get("receipts_throughput", 0.0))
        calls = int(result.get("receipts_calls", 0) or 0)
        if not rate:
            continue
        line = (f"{scenario.name}: webhooks {receipts:,.0f} events/s over {rate:,.0f} msg/s ="
                f" {receipts / rate:.2f} (goal 1)")
        if calls:
            line += (f"; {int(result.get('receipts_received', 0)) / calls:.1f} events per call"
                     f" ({calls:,} calls)")
        lines.append(line)
    return lines


def _markdown(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def paired_ratios(runs: dict[str, list[dict[str, Any]]], name: str) -> list[float]:
    """Each run of ``name`` over the SMPP run of the same round (the machine's slow and quick
    spells hit both alike); rounds with a failed run left out."""
    out = []
    for smpp, run in zip(runs.get("smpp", []), runs.get(name, []), strict=False):
        smpp_rate = float(smpp.get("throughput", 0.0) or 0.0)
        if smpp_rate and not smpp.get("fatal") and not run.get("fatal"):
            out.append(float(run.get("throughput", 0.0) or 0.0) / smpp_rate)
    return out


def verdict(results: dict[str, dict[str, Any]], scenarios: Sequence[HttpScenario],
            runs: dict[str, list[dict[str, Any]]] | None = None) -> list[str]:
    """Each smsc HTTP row against its goal. With several rounds the goal is judged on the
    median of the run-by-run ratios (each run over its own round's SMPP run), which a slow
    spell of the machine during one run moves less than the ratio of the two medians."""
    smpp_rate = float(results["smpp"].get("throughput", 0.0))
    lines = []
    for scenario in scenarios:
        if not scenario.batch or scenario.ceiling:
            continue
        goal = BATCH_GOAL if scenario.batch > 1 else SINGLE_GOAL
        rate = float(results[scenario.name].get("throughput", 0.0))
        ratio = rate / smpp_rate if smpp_rate else 0.0
        paired = paired_ratios(runs or {}, scenario.name)
        judged = statistics.median(paired) if len(paired) > 1 else ratio
        met = "met" if judged >= goal else "NOT met"
        line = f"{scenario.name}: {ratio:.2f} of the SMPP rate"
        if len(paired) > 1:
            line += (f" (medians); run by run {' / '.join(f'{r:.2f}' for r in paired)},"
                     f" median {judged:.2f}")
        line += f" (goal {goal:.2f}): {met}"
        ceiling = ceiling_of(scenario, scenarios, LEAN)
        top = float(results.get(ceiling, {}).get("throughput", 0.0)) if ceiling else 0.0
        if top:
            line += f"; {rate / top:.2f} of the lean ceiling's {top:,.0f} msg/s"
        lines.append(line)
    return lines


def _parse(argv: Sequence[str] | None) -> tuple[argparse.Namespace, BenchOptions]:
    parser = argparse.ArgumentParser(prog="python -m bench.http_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20_000, help="messages per run")
    parser.add_argument("--batch", type=int, default=1000, help="destinations per batch POST")
    parser.add_argument("--single-connections", type=int, default=64,
                        help="keep-alive connections of the single-POST load (default 64: as "
                             "many requests in flight as the SMPP path's window)")
    parser.add_argument("--batch-connections", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument("--receipt-timeout", type=float, default=60.0)
    parser.add_argument("--out", type=Path, default=None, help="write the table as Markdown")
    parser.add_argument("--only", default="",
                        help="comma-separated kinds to run besides smpp: ceiling, lean, http "
                             "(ceiling = the twisted.web ceiling) and single, batch; e.g. "
                             "'http,single' runs smpp and http single")
    parser.add_argument("--pin-cpu", default="-1", metavar="CPU|auto",
                        help="run smsc (its SMPP and HTTP rows alike) with `serve --pin-cpu`: "
                             "a CPU, or auto for the last one this process may use (none on "
                             "a single-CPU machine); default -1, smsc's default: not pinned")
    args = parser.parse_args(argv)
    pinned = pin_cpu_of(args.pin_cpu)
    options = BenchOptions(count=args.count, max_seconds=args.max_seconds,
                           receipt_timeout=args.receipt_timeout, repeat=args.repeat,
                           smsc_extra_args=("--pin-cpu", str(pinned)) if pinned >= 0 else ())
    return args, options


def pin_cpu_of(text: str) -> int:
    """``--pin-cpu``: a CPU index, -1 (none), or auto (the last CPU allowed, if there are
    two or more)."""
    if text == "auto":
        allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        return allowed[-1] if len(allowed) > 1 else -1
    try:
        return int(text)
    except ValueError:
        raise SystemExit(f"--pin-cpu: {text!r} is not a CPU number, -1 or auto") from None


def _chosen(scenario: HttpScenario, only: str) -> bool:
    """Whether ``--only`` keeps the scenario (smpp always: every ratio is to it)."""
    words = {w.strip() for w in only.split(",") if w.strip()}
    if not words or scenario.batch == 0:
        return True
    kind = ("lean" if scenario.responder == LEAN else "ceiling") if scenario.ceiling else "http"
    shape = "single" if scenario.batch == 1 else "batch"
    kinds = words & {"ceiling", "lean", "http"}
    shapes = words & {"single", "batch"}
    return (not kinds or kind in kinds) and (not shapes or shape in shapes)


def main(argv: Sequence[str] | None = None) -> int:
    args, options = _parse(argv)
    started = datetime.now(UTC)
    scenarios = [
        HttpScenario(name="smpp", batch=0, connections=1),
        HttpScenario(name="ceiling single", batch=1, connections=args.single_connections,
                     ceiling=True),
        HttpScenario(name="ceiling-lean single", batch=1, connections=args.single_connections,
                     ceiling=True, responder=LEAN),
        HttpScenario(name="http single", batch=1, connections=args.single_connections),
        HttpScenario(name=f"ceiling batch {args.batch}", batch=args.batch,
                     connections=args.batch_connections, ceiling=True),
        HttpScenario(name=f"ceiling-lean batch {args.batch}", batch=args.batch,
                     connections=args.batch_connections, ceiling=True, responder=LEAN),
        HttpScenario(name=f"http batch {args.batch}", batch=args.batch,
                     connections=args.batch_connections),
    ]
    scenarios = [s for s in scenarios if _chosen(s, args.only)]
    runs: dict[str, list[dict[str, Any]]] = {s.name: [] for s in scenarios}
    for _ in range(max(1, args.repeat)):
        for scenario in scenarios:  # in turn, so a slow spell of the machine hits each alike
            print(f"... {scenario.name}", file=sys.stderr, flush=True)
            result = measure(scenario, options)
            runs[scenario.name].append(result)
            print(f"    msg/s {result.get('throughput', result.get('fatal'))},"
                  f" server us/msg {result.get('server_cpu_us_per_msg', '-')},"
                  f" client us/msg {result.get('client_cpu_us_per_msg', '-')}",
                  file=sys.stderr, flush=True)
    results = {name: _median(r) for name, r in runs.items()}
    smpp_rate = float(results["smpp"].get("throughput", 0.0))
    rows = []
    for scenario in scenarios:
        ceiling = ceiling_of(scenario, scenarios, WEB if scenario.ceiling else LEAN)
        top = float(results[ceiling].get("throughput", 0.0)) if ceiling else 0.0
        rows.append(_row(scenario, results[scenario.name], smpp_rate, top))
    table = _markdown(rows)
    lines = verdict(results, scenarios, runs) + webhook_pace(results, scenarios)
    if options.smsc_extra_args:
        lines.append(f"smsc ran with serve {' '.join(options.smsc_extra_args)}")
    print(table)
    for line in lines:
        print(line)
    if args.out:
        machine = "; ".join(f"{k} {v}" for k, v in machine_description().items())
        args.out.write_text("\n".join([
            "# smsc HTTP API benchmark", "",
            f"Run {started:%Y-%m-%d %H:%M} UTC; {options.count} messages per run, "
            f"{max(1, args.repeat)} run(s) per scenario (median shown).", "",
            f"Machine: {machine}.", "", table, "", *[f"- {line}" for line in lines], ""]))
    failed = any(r.get("fatal") for r in results.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
