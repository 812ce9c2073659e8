"""The benchmark: smsc against the ceiling responder, same load, same machine, same run.

    python -m bench.run [--quick] [--count N] [--out FILE]

For each scenario (1 and 4 binds x window 1/10/64 x receipts off/on; ``--quick`` runs two of
them) it starts the ceiling responder (:mod:`bench.ceiling`) in a subprocess, drives it with the
load client (:mod:`bench.load`, another subprocess), stops it, then does the same with ``smsc
serve`` on a fresh database. It prints a table of throughput, latency and the ratio of smsc to
the ceiling, and with ``--out`` writes it as Markdown with a description of the machine.

Every subprocess is started here and stopped by its own PID (SIGTERM, then SIGKILL after a
timeout); every wait has a time limit.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import queue
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import IO, Any

__all__ = [
    "FULL_SCENARIOS",
    "QUICK_SCENARIOS",
    "BenchOptions",
    "ChildProcess",
    "Outcome",
    "Scenario",
    "Target",
    "goal_verdict",
    "machine_description",
    "main",
    "markdown_report",
    "run_load",
    "run_to_end",
    "smsc_command",
    "start_ceiling",
    "start_smsc",
]

REPO_ROOT = Path(__file__).resolve().parents[1]
LISTENING = re.compile(r"listening on tcp:(?P<host>[^\s:]+):(?P<port>\d+)")
TEST_ACCOUNT = re.compile(r"test account: system_id=(?P<system_id>\S+) password=(?P<password>\S+)")
LOCAL_LISTEN = "tcp:0:interface=127.0.0.1"
GOAL_RATIO = 1 / 3
GOAL_P99_MS = 20.0
BENCH_CREDIT = "100000000"
_LINE_QUEUE = 1000  # lines kept for readers of a child's stdout; later ones are dropped
_TAIL_LINES = 40


BENCH_CONFIG = Path(__file__).resolve().parent / "conf" / "smsc.toml"

@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    binds: int
    window: int
    receipts: bool

    @property
    def label(self) -> str:
        binds = "1 bind" if self.binds == 1 else f"{self.binds} binds"
        return f"{binds}, window {self.window}, " + ("receipts" if self.receipts else "no receipts")

    @property
    def is_goal(self) -> bool:
        """The scenario the performance goal is stated for: window 64 with a receipt each."""
        return self.window == 64 and self.receipts


FULL_SCENARIOS: tuple[Scenario, ...] = tuple(
    Scenario(binds=b, window=w, receipts=r)
    for b in (1, 4)
    for w in (1, 10, 64)
    for r in (False, True)
)
QUICK_SCENARIOS: tuple[Scenario, ...] = (
    Scenario(binds=1, window=10, receipts=True),
    Scenario(binds=4, window=64, receipts=True),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class BenchOptions:
    count: int = 50_000
    max_seconds: float = 30.0
    receipt_timeout: float = 60.0
    startup_timeout: float = 30.0
    stop_timeout: float = 15.0
    destination_base: int = 380671000000
    smsc: bool = True
    smsc_base_command: tuple[str, ...] = ()
    smsc_extra_args: tuple[str, ...] = ()
    smsc_config: Path | None = BENCH_CONFIG
    system_id: str = ""
    password: str = ""
    repeat: int = 1
    # A postgresql:// URL: smsc runs on PostgreSQL, a fresh schema of that database per run
    # (bench.postgres_bench); "" for a fresh SQLite file.
    postgres: str = ""


class ChildProcess:
    """A subprocess started by the benchmark; its stdout is read line by line by a thread.

    stderr goes to a temporary file, so a chatty child never blocks on a full pipe. Stop it with
    :meth:`stop`, which signals only this process, by its PID.
    """

    def __init__(self, argv: Sequence[str], *, cwd: Path, name: str) -> None:
        self.name = name
        self.argv = list(argv)
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self._lines: queue.Queue[str] = queue.Queue(maxsize=_LINE_QUEUE)
        self._tail: deque[str] = deque(maxlen=_TAIL_LINES)
        try:
            self.process = subprocess.Popen(
                self.argv,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                text=True,
                bufsize=1,
            )
        except OSError:
            self._stderr.close()
            raise
        self._reader = threading.Thread(target=self._read, name=f"{name}-stdout", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        for raw in stream:
            line = raw.rstrip("\n")
            self._tail.append(line)
            with contextlib.suppress(queue.Full):
                self._lines.put_nowait(line)

    def wait_for(
        self, patterns: Sequence[re.Pattern[str]], timeout: float
    ) -> list[re.Match[str]] | None:
        """The first match of every pattern on stdout, or None if the child exits or time is up."""
        found: dict[int, re.Match[str]] = {}
        deadline = time.monotonic() + timeout
        while len(found) < len(patterns):
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                line = self._lines.get(timeout=min(left, 0.2))
            except queue.Empty:
                if self.process.poll() is not None and self._lines.empty():
                    return None
                continue
            for i, pattern in enumerate(patterns):
                if i not in found and (match := pattern.search(line)) is not None:
                    found[i] = match
        return [found[i] for i in range(len(patterns))]

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of the child so far (Linux /proc), or None."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def stop(self, timeout: float) -> int | None:
        """SIGTERM, wait up to ``timeout``, then SIGKILL; the exit code (None if it never ended)."""
        process = self.process
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout)
        self._reader.join(timeout)
        if process.stdout is not None:
            process.stdout.close()
        return process.returncode

    def stderr_size(self) -> int:
        """Bytes the child has written to stderr (its log) so far."""
        return os.fstat(self._stderr.fileno()).st_size

    def read_stderr(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes of the child's stderr from ``offset``; positional, so a child
        still writing keeps its place."""
        return os.pread(self._stderr.fileno(), size, offset)

    def output_tail(self) -> str:
        self._stderr.seek(0, os.SEEK_END)
        size = self._stderr.tell()
        self._stderr.seek(max(0, size - 4000))
        err = self._stderr.read().decode("utf-8", "replace")
        return "\n".join(["stdout:", *self._tail, "stderr:", err])

    def close(self) -> None:
        self._stderr.close()


@dataclass(slots=True, kw_only=True)
class Target:
    """A running SMPP server the load client can be pointed at."""

    name: str
    host: str
    port: int
    system_id: str
    password: str
    child: ChildProcess
    database: str = ""  # the PostgreSQL URL the server runs on, if it does


class StartError(RuntimeError):
    """A server did not come up; the message carries the tail of its output."""


def run_to_end(argv: Sequence[str], *, cwd: Path, timeout: float) -> tuple[int, str, str] | None:
    """Run a command to its end: (exit code, stdout, stderr), or None when it took longer than
    ``timeout`` (it is then sent SIGTERM, and SIGKILL 10 s later)."""
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
        return None
    return process.returncode, out, err


def _python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


@contextlib.contextmanager
def start_ceiling(receipts: bool, options: BenchOptions) -> Iterator[Target]:
    """Run the ceiling responder for the duration of the ``with`` block."""
    lifetime = options.max_seconds + options.receipt_timeout + 120
    args = ["--port", "0", "--lifetime", str(lifetime)]
    if receipts:
        args.append("--receipts")
    child = ChildProcess(_python_module("bench.ceiling", *args), cwd=REPO_ROOT, name="ceiling")
    try:
        found = child.wait_for([LISTENING], options.startup_timeout)
        if found is None:
            raise StartError("the ceiling responder did not start\n" + child.output_tail())
        yield Target(
            name="ceiling",
            host=found[0]["host"],
            port=int(found[0]["port"]),
            system_id="bench",
            password="bench",
            child=child,
        )
    finally:
        child.stop(options.stop_timeout)
        child.close()


def smsc_command(options: BenchOptions, db: Path | str, *args: str) -> list[str]:
    """The command line of ``smsc --db DB ARGS...``: the one place that knows how to call smsc."""
    base = list(options.smsc_base_command)
    if not base:
        beside = Path(sys.executable).with_name("smsc")
        found = str(beside) if beside.exists() else shutil.which("smsc")
        base = [found] if found else _python_module("smsc.cli")
    config = ["--config", str(options.smsc_config)] if options.smsc_config else []
    return [*base, "--db", str(db), *config, *args]


@contextlib.contextmanager
def start_smsc(options: BenchOptions) -> Iterator[Target]:
    """Run ``smsc serve`` on a fresh database in a temporary directory for the ``with`` block.

    With ``options.system_id`` an account with that password and ample credit is created first
    (``smsc account add``); otherwise the test account the server prints on first start is used.
    """
    with contextlib.ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="smsc-bench-")))
        db: Path | str = directory / "bench.db"
        if options.postgres:
            from bench.postgres_bench import fresh_schema

            db = stack.enter_context(fresh_schema(options.postgres))
        if options.system_id:
            command = smsc_command(
                options,
                db,
                "account",
                "add",
                options.system_id,
                "--password",
                options.password,
                "--credit",
                BENCH_CREDIT,
            )
            try:
                finished = run_to_end(command, cwd=directory, timeout=options.startup_timeout)
            except OSError as error:
                raise StartError(f"`smsc account add` failed: {error}") from error
            if finished is None:
                raise StartError("`smsc account add` did not finish in time")
            if finished[0]:
                raise StartError(
                    f"`smsc account add` exited with {finished[0]}\n{finished[2][-2000:]}"
                )
        serve = smsc_command(
            options, db, "serve", "--listen", LOCAL_LISTEN, *options.smsc_extra_args
        )
        try:
            child = ChildProcess(serve, cwd=directory, name="smsc")
        except OSError as error:
            raise StartError(f"cannot start smsc: {error}") from error
        try:
            patterns = [LISTENING] if options.system_id else [LISTENING, TEST_ACCOUNT]
            found = child.wait_for(patterns, options.startup_timeout)
            if found is None:
                raise StartError(
                    "smsc serve did not print "
                    + " and ".join(repr(p.pattern) for p in patterns)
                    + "\n"
                    + child.output_tail()
                )
            system_id, password = options.system_id, options.password
            if not system_id:
                system_id, password = found[1]["system_id"], found[1]["password"]
            yield Target(
                name="smsc",
                host=found[0]["host"],
                port=int(found[0]["port"]),
                system_id=system_id,
                password=password,
                child=child,
                database=db if isinstance(db, str) else "",
            )
        finally:
            child.stop(options.stop_timeout)
            child.close()


def run_load(target: Target, scenario: Scenario, options: BenchOptions) -> dict[str, Any]:
    """Run the load client against ``target``; its JSON result plus the server's CPU per message."""
    argv = _python_module(
        "bench.load",
        "--host",
        target.host,
        "--port",
        str(target.port),
        f"--system-id={target.system_id}",
        f"--password={target.password}",  # "=": a password may start with "-"
        "--binds",
        str(scenario.binds),
        "--window",
        str(scenario.window),
        "--count",
        str(options.count),
        "--destination-base",
        str(options.destination_base),
        "--max-seconds",
        str(options.max_seconds),
        "--receipt-timeout",
        str(options.receipt_timeout),
    )
    if scenario.receipts:
        argv.append("--receipts")
    cpu_before = target.child.cpu_seconds()
    db_before = _database_cpu(target)
    limit = options.max_seconds + options.receipt_timeout + 60
    finished = run_to_end(argv, cwd=REPO_ROOT, timeout=limit)
    if finished is None:
        return {"fatal": f"the load client did not finish within {limit:.0f} s"}
    cpu_after = target.child.cpu_seconds()
    db_after = _database_cpu(target)
    code, out, err = finished
    lines = out.strip().splitlines()
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        return {"fatal": f"the load client exited with {code}: {err[-2000:]}"}
    answered = int(result.get("acked_ok", 0)) + sum(result.get("errors", {}).values())
    if cpu_before is not None and cpu_after is not None and answered:
        result["server_cpu_us_per_msg"] = round((cpu_after - cpu_before) / answered * 1e6, 1)
    if db_before is not None and db_after is not None and answered:
        result["database_cpu_us_per_msg"] = round((db_after - db_before) / answered * 1e6, 1)
    return result


def _database_cpu(target: Target) -> float | None:
    """CPU seconds of the PostgreSQL backends serving ``target`` (None on SQLite)."""
    if not target.database:
        return None
    from bench.postgres_bench import backend_cpu_seconds

    return backend_cpu_seconds(target.database)


@dataclass(slots=True, kw_only=True)
class Outcome:
    """The two measurements of one scenario."""

    scenario: Scenario
    ceiling: dict[str, Any] = field(default_factory=dict)
    smsc: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        top = float(self.ceiling.get("throughput", 0.0))
        ours = self.smsc.get("throughput")
        if not top or ours is None or self.smsc.get("fatal"):
            return None
        return float(ours) / top


def receipts_ok(result: dict[str, Any]) -> bool:
    """Every acknowledged message got exactly one receipt, and no receipt was for anything else."""
    return (
        not result.get("fatal")
        and not result.get("receipts_timed_out")
        and result.get("receipts_received")
        == result.get("receipts_expected")
        == result.get("acked_ok")
        and not result.get("receipts_duplicates")
        and not result.get("receipts_unknown")
        and not result.get("receipts_mismatched")
    )


def _receipts_cell(result: dict[str, Any], scenario: Scenario) -> str:
    if not result or result.get("fatal"):
        return "-"
    if not scenario.receipts:
        return "n/a"
    if receipts_ok(result):
        return "yes"
    return (
        f"{result.get('receipts_received', 0)}/{result.get('receipts_expected', 0)}"
        f" dup {result.get('receipts_duplicates', 0)} unk {result.get('receipts_unknown', 0)}"
    )


def _rate(result: dict[str, Any]) -> str:
    if not result:
        return "-"
    if result.get("fatal"):
        return "failed"
    text = f"{float(result.get('throughput', 0.0)):,.0f}"
    if result.get("timed_out"):
        text += f" ({result.get('sent', 0)} sent)"
    return text


def _receipt_rate(result: dict[str, Any], scenario: Scenario) -> str:
    if not result or result.get("fatal") or not scenario.receipts:
        return "-"
    return f"{float(result.get('receipts_throughput', 0.0)):,.0f}"


def _ms(result: dict[str, Any], key: str) -> str:
    if not result or result.get("fatal"):
        return "-"
    return f"{float(result.get(key, 0.0)):.2f}"


def _us(result: dict[str, Any], key: str) -> str:
    value = result.get(key) if result and not result.get("fatal") else None
    return "-" if value is None else f"{float(value):.1f}"


def _table(outcomes: Sequence[Outcome]) -> list[list[str]]:
    rows = [
        [
            "scenario",
            "ceiling msg/s",
            "smsc msg/s",
            "ratio",
            "ceiling p50/p99 ms",
            "smsc p50 ms",
            "smsc p99 ms",
            "smsc receipts/s",
            "receipts ok (ceiling/smsc)",
        ]
    ]
    for o in outcomes:
        ratio = o.ratio
        rows.append(
            [
                o.scenario.label,
                _rate(o.ceiling),
                _rate(o.smsc),
                "-" if ratio is None else f"{ratio:.2f}",
                f"{_ms(o.ceiling, 'p50_ms')}/{_ms(o.ceiling, 'p99_ms')}",
                _ms(o.smsc, "p50_ms"),
                _ms(o.smsc, "p99_ms"),
                _receipt_rate(o.smsc, o.scenario),
                f"{_receipts_cell(o.ceiling, o.scenario)}/{_receipts_cell(o.smsc, o.scenario)}",
            ]
        )
    return rows


def _cost_table(outcomes: Sequence[Outcome]) -> list[list[str]]:
    rows = [
        [
            "scenario",
            "client CPU us/msg (vs ceiling)",
            "ceiling CPU us/msg",
            "client CPU us/msg (vs smsc)",
            "smsc CPU us/msg",
        ]
    ]
    for o in outcomes:
        rows.append(
            [
                o.scenario.label,
                _us(o.ceiling, "client_cpu_us_per_msg"),
                _us(o.ceiling, "server_cpu_us_per_msg"),
                _us(o.smsc, "client_cpu_us_per_msg"),
                _us(o.smsc, "server_cpu_us_per_msg"),
            ]
        )
    return rows


def _plain(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _markdown(rows: list[list[str]]) -> str:
    head, *body = rows
    lines = [
        "| " + " | ".join(head) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def goal_verdict(outcomes: Sequence[Outcome]) -> list[str]:
    """One line per goal scenario: ratio >= 1/3, p99 < 20 ms, every receipt delivered."""
    lines = []
    for o in outcomes:
        if not o.scenario.is_goal:
            continue
        if not o.smsc:
            lines.append(f"{o.scenario.label}: smsc not measured")
            continue
        if o.smsc.get("fatal"):
            lines.append(f"{o.scenario.label}: smsc run failed: {o.smsc['fatal']}")
            continue
        ratio = o.ratio or 0.0
        p99 = float(o.smsc.get("p99_ms", 0.0))
        misses = []
        if ratio < GOAL_RATIO:
            misses.append(f"ratio {ratio:.2f} < {GOAL_RATIO:.2f}")
        if p99 >= GOAL_P99_MS:
            misses.append(f"p99 {p99:.1f} ms >= {GOAL_P99_MS:.0f} ms")
        if not receipts_ok(o.smsc):
            misses.append("not every receipt arrived exactly once")
        verdict = "goal met" if not misses else "goal missed: " + "; ".join(misses)
        lines.append(f"{o.scenario.label}: {verdict}")
    return lines


def machine_description() -> dict[str, str]:
    """CPU model, core count, memory, OS, Python and Twisted versions of this machine."""
    cpu = platform.processor() or platform.machine()
    memory = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    try:
        twisted = metadata.version("twisted")
    except metadata.PackageNotFoundError:
        twisted = "?"
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count() or "?"),
        "memory": memory or "?",
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "twisted": twisted,
    }


def markdown_report(
    outcomes: Sequence[Outcome], options: BenchOptions, notes: Sequence[str], started: datetime
) -> str:
    machine = machine_description()
    parts = [
        "# smsc benchmark",
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC; {options.count} messages per run"
        f" (at most {options.max_seconds:.0f} s of sending)"
        + (
            f"; each scenario measured {options.repeat} times, the median run shown."
            if options.repeat > 1
            else "."
        ),
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in machine.items()) + ".",
        "",
        _markdown(_table(outcomes)),
        "",
        "CPU per answered message (client, and the server from /proc):",
        "",
        _markdown(_cost_table(outcomes)),
        "",
    ]
    verdict = goal_verdict(outcomes)
    if verdict:
        parts += ["Goal (window 64, a receipt per message):", ""]
        parts += [f"- {line}" for line in verdict]
        parts.append("")
    if notes:
        parts += ["Notes:", ""] + [f"- {note}" for note in notes] + [""]
    return "\n".join(parts)


def _measure(
    scenario: Scenario, options: BenchOptions, smsc_enabled: bool, notes: list[str]
) -> tuple[Outcome, bool]:
    """Ceiling then smsc, ``options.repeat`` times; each side keeps its median run."""
    ceiling_runs: list[dict[str, Any]] = []
    smsc_runs: list[dict[str, Any]] = []
    for _ in range(options.repeat):
        with start_ceiling(scenario.receipts, options) as ceiling:
            ceiling_runs.append(run_load(ceiling, scenario, options))
        if smsc_enabled:
            try:
                with start_smsc(options) as server:
                    smsc_runs.append(run_load(server, scenario, options))
            except StartError as error:
                print(f"smsc did not start: {error}", file=sys.stderr)
                notes.append(f"smsc was not measured: {_summary(str(error))}")
                smsc_enabled = False
    outcome = Outcome(
        scenario=scenario,
        ceiling=representative(ceiling_runs, scenario),
        smsc=representative(smsc_runs, scenario),
    )
    return outcome, smsc_enabled


def representative(runs: Sequence[dict[str, Any]], scenario: Scenario) -> dict[str, Any]:
    """The run to report: the first one that broke or lost something, else the median by
    throughput (the lower middle one for an even number). Every throughput goes in
    ``throughputs``."""
    if not runs:
        return {}
    for run in runs:
        if run.get("fatal") or run.get("errors") or (scenario.receipts and not receipts_ok(run)):
            chosen = run
            break
    else:
        ordered = sorted(runs, key=lambda run: float(run.get("throughput", 0.0)))
        chosen = ordered[(len(ordered) - 1) // 2]
    if len(runs) > 1:
        chosen = {**chosen, "throughputs": [run.get("throughput", 0.0) for run in runs]}
    return chosen


def _summary(message: str) -> str:
    """The first line of an error and the last line of the output that came with it."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if len(lines) <= 1:
        return "".join(lines)
    last = lines[-1] if lines[-1] not in ("stdout:", "stderr:") else ""
    return f"{lines[0]} ({last})" if last else lines[0]


def run_all(
    scenarios: Sequence[Scenario], options: BenchOptions, *, verbose: bool = True
) -> tuple[list[Outcome], list[str]]:
    """Measure every scenario, ceiling then smsc, one after the other."""
    outcomes: list[Outcome] = []
    notes: list[str] = []
    smsc_enabled = options.smsc
    for scenario in scenarios:
        if verbose:
            print(f"... {scenario.label}", file=sys.stderr, flush=True)
        outcome, smsc_enabled = _measure(scenario, options, smsc_enabled, notes)
        outcomes.append(outcome)
        if verbose:
            summary = {k: v.get("throughput", v.get("fatal")) for k, v in _sides(outcome)}
            print(f"    msg/s {summary}", file=sys.stderr, flush=True)
    return outcomes, notes


def _sides(outcome: Outcome) -> Iterator[tuple[str, dict[str, Any]]]:
    if outcome.ceiling:
        yield "ceiling", outcome.ceiling
    if outcome.smsc:
        yield "smsc", outcome.smsc


def _all_clean(outcomes: Sequence[Outcome]) -> bool:
    """No run broke off, every message was acknowledged, every receipt arrived exactly once."""
    for outcome in outcomes:
        for _, result in _sides(outcome):
            if result.get("fatal") or result.get("errors") or result.get("timed_out"):
                return False
            if outcome.scenario.receipts and not receipts_ok(result):
                return False
    return True


def _parse_args(argv: Sequence[str] | None) -> tuple[argparse.Namespace, BenchOptions]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description="Benchmark smsc against the ceiling responder."
    )
    parser.add_argument("--quick", action="store_true", help="two scenarios, 2000 messages")
    parser.add_argument("--count", type=int, help="messages per run (default 50000)")
    parser.add_argument("--out", type=Path, help="write the Markdown report here")
    parser.add_argument("--json", type=Path, help="write every raw result here")
    parser.add_argument("--ceiling-only", action="store_true", help="do not start smsc")
    parser.add_argument(
        "--smsc-command", default="", help="how to call smsc (default: the smsc script)"
    )
    parser.add_argument(
        "--smsc-arg", action="append", default=[], help="extra argument for `smsc serve`"
    )
    parser.add_argument(
        "--smsc-config", type=Path, default=BENCH_CONFIG,
        help="config for the smsc server (default bench/conf/smsc.toml: an operator that "
        "delivers at once, no throughput limit)",
    )
    parser.add_argument(
        "--system-id", default="", help="create this account for the run (else the test account)"
    )
    parser.add_argument("--password", default="", help="password of --system-id (max 8)")
    parser.add_argument(
        "--max-seconds", type=float, default=30.0, help="sending time limit per run (default 30)"
    )
    parser.add_argument(
        "--receipt-timeout", type=float, default=60.0, help="wait for receipts per run"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="measure each scenario this many times, alternating sides; report the median",
    )
    parser.add_argument(
        "--destination-base", type=int, default=380671000000, help="first destination number"
    )
    args = parser.parse_args(argv)
    count = args.count if args.count is not None else (2000 if args.quick else 50_000)
    if not 1 <= count <= 1_000_000:
        parser.error("--count must be 1..1000000")
    if not 1 <= args.repeat <= 9:
        parser.error("--repeat must be 1..9")
    if bool(args.system_id) != bool(args.password):
        parser.error("--system-id and --password go together")
    if len(args.password) > 8 or len(args.system_id) > 15:
        parser.error("--system-id is at most 15 characters and --password at most 8")
    for name in ("max_seconds", "receipt_timeout"):
        if not 0 < getattr(args, name) <= 3600:
            parser.error(f"--{name.replace('_', '-')} must be in (0, 3600] seconds")
    options = BenchOptions(
        count=count,
        max_seconds=args.max_seconds,
        receipt_timeout=args.receipt_timeout,
        destination_base=args.destination_base,
        smsc=not args.ceiling_only,
        smsc_base_command=tuple(shlex.split(args.smsc_command)),
        smsc_extra_args=tuple(args.smsc_arg),
        smsc_config=args.smsc_config,
        system_id=args.system_id,
        password=args.password,
        repeat=args.repeat,
    )
    return args, options


def main(argv: Sequence[str] | None = None) -> int:
    args, options = _parse_args(argv)
    started = datetime.now(UTC)
    scenarios = QUICK_SCENARIOS if args.quick else FULL_SCENARIOS
    try:
        outcomes, notes = run_all(scenarios, options)
    except StartError as error:
        print(f"benchmark stopped: {error}", file=sys.stderr)
        return 2
    print(_plain(_table(outcomes)))
    print()
    print(_plain(_cost_table(outcomes)))
    for line in [*goal_verdict(outcomes), *notes]:
        print(line)
    if args.out is not None:
        args.out.write_text(markdown_report(outcomes, options, notes, started) + "\n")
    if args.json is not None:
        raw = {
            "machine": machine_description(),
            "options": dataclasses.asdict(options),
            "outcomes": [
                {"scenario": dataclasses.asdict(o.scenario), "ceiling": o.ceiling, "smsc": o.smsc}
                for o in outcomes
            ],
        }
        args.json.write_text(json.dumps(raw, indent=2, default=str) + "\n")
    if not _all_clean(outcomes):
        return 1
    if options.smsc and not all(o.smsc for o in outcomes):
        return 3  # smsc was asked for but could not be measured
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
