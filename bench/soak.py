"""The soak: a well-behaved customer's traffic with hostile peers alongside, for a bounded time.

    python -m bench.soak [--minutes 30] [--quick] [--rate 50] [--json FILE]

1. ``smsc serve`` starts on a fresh database in a temporary directory with
   ``bench/conf/smsc.toml`` (an operator that delivers at once), after three accounts are made:
   the bystander's, one for the slow readers and the garbage peers that bind, and a victim for
   the bind storm's wrong passwords (never the bystander's account or address).
2. The bystander (:mod:`bench.soak_bystander`, a process of its own) binds from 127.0.0.1 and
   submits at ``--rate`` per second with a receipt each, for the warm-up and the soak.
3. After the warm-up the server's resident memory is taken as the start, and the hostile peers
   (:mod:`bench.soak_hostile`, one process per kind, each from loopback addresses of its own)
   run for ``--minutes``: slow readers that never read, garbage, a bind storm of unknown
   system_ids and wrong passwords from 127.0.0.2 on, connection churn and idle connections.
4. Every 10 s the server's VmRSS, open file descriptors and log size are sampled (/proc).
5. When the soak ends the peers stop; the bystander waits for its last answers and receipts.
   The server is stopped by its PID (SIGTERM, then SIGKILL after a timeout).

It prints the bystander's latency per interval (a minute by default), the memory at the start,
the end and the peak, the log's size and its most frequent lines, what each hostile peer did,
and whether anything was lost; the whole report goes to ``bench/results/soak-<time>.json``
(or ``--json``). Not part of the test suite (a smoke run is: tests/test_bench_soak_smoke.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from bench.run import (
    BENCH_CONFIG,
    LISTENING,
    LOCAL_LISTEN,
    REPO_ROOT,
    BenchOptions,
    ChildProcess,
    StartError,
    machine_description,
    run_to_end,
    smsc_command,
)
from bench.soak_report import (
    Sample,
    SoakResult,
    database_figures,
    listen_counters,
    log_summary,
    proc_status,
    render,
)

__all__ = ["SoakOptions", "SoakResult", "main", "render", "run_soak"]

RESULTS = Path(__file__).resolve().parent / "results"
BYSTANDER = ("soakby", "soakby1")
SLOW = ("soakslow", "slow1")
VICTIM = ("soakvic", "victim1")
CREDIT = "10000000"
SAMPLE_EVERY = 10.0


@dataclass(frozen=True, slots=True, kw_only=True)
class SoakOptions:
    minutes: float = 30.0
    warmup: float = 30.0
    interval: float = 60.0
    rate: float = 50.0
    peers: tuple[str, ...] = ("slow", "garbage", "storm", "churn")
    slow_readers: int = 3
    slow_rate: float = 1000.0
    slow_submit_every: int = 20
    garbage_rate: float = 5.0
    storm_rate: float = 40.0
    storm_per_address: int = 2
    churn_rate: float = 20.0
    idle: int = 50
    bind_every: float = 10.0
    receipt_timeout: float = 60.0
    sample_every: float = SAMPLE_EVERY
    startup_timeout: float = 60.0
    stop_timeout: float = 30.0
    config: Path = BENCH_CONFIG
    verbose: bool = True


class _Sampler:
    """Samples the server every ``every`` seconds on a thread of its own until stopped."""

    def __init__(self, server: ChildProcess, attack_at: float, every: float) -> None:
        self.server = server
        self.attack_at = attack_at
        self.every = every
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-sampler", daemon=True)

    def take(self) -> Sample:
        status = proc_status(self.server.pid)
        sample = Sample(
            at=round(time.time() - self.attack_at, 1),
            rss_kib=status.get("VmRSS", 0),
            hwm_kib=status.get("VmHWM", 0),
            fds=status.get("fds", 0),
            threads=status.get("Threads", 0),
            log_bytes=self.server.stderr_size(),
        )
        if len(self.samples) < 10_000:
            self.samples.append(sample)
        return sample

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.take()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(self.every + 5)


class _Peer:
    """A peer process started by the soak: stdout and stderr to files, stopped by its PID."""

    def __init__(self, name: str, argv: Sequence[str], directory: Path) -> None:
        self.name = name
        self._out: IO[bytes] = open(directory / f"{name}.out", "w+b")  # noqa: SIM115
        self._err: IO[bytes] = open(directory / f"{name}.err", "w+b")  # noqa: SIM115
        self.process = subprocess.Popen(
            list(argv), cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._err
        )

    def first_line(self, timeout: float) -> str | None:
        """The first line the peer printed, waiting at most ``timeout``; None when it exited
        or time ran out first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            head = os.pread(self._out.fileno(), 4096, 0)  # the peer keeps its write position
            if b"\n" in head:
                return head.split(b"\n", 1)[0].decode("utf-8", "replace")
            if self.process.poll() is not None:
                return None
            time.sleep(0.1)
        return None

    def finish(self, timeout: float) -> dict[str, Any]:
        """Its JSON result, waiting at most ``timeout`` (then SIGTERM, SIGKILL); once only."""
        process = self.process
        if self._out.closed:
            return {"fatal": f"{self.name} was already finished"}
        try:
            process.wait(max(timeout, 0.1))
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
            self._close()
            return {"fatal": f"{self.name} did not finish in time and was stopped"}
        self._out.seek(0)
        lines = self._out.read().decode("utf-8", "replace").strip().splitlines()
        self._err.seek(0)
        err = self._err.read()[-2000:].decode("utf-8", "replace")
        self._close()
        try:
            result: dict[str, Any] = json.loads(lines[-1])
        except (IndexError, json.JSONDecodeError):
            return {"fatal": f"{self.name} exited with {process.returncode}: {err}"}
        return result

    def _close(self) -> None:
        self._out.close()
        self._err.close()


def _python(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def _hostile_argv(kind: str, port: int, options: SoakOptions) -> list[str]:
    seconds = str(options.minutes * 60)
    common = ["--port", str(port), "--seconds", seconds]
    account = [f"--system-id={SLOW[0]}", f"--password={SLOW[1]}"]
    if kind == "slow":
        extra = [
            "--peers", str(options.slow_readers),
            "--rate", str(options.slow_rate),
            "--submit-every", str(options.slow_submit_every),
            *account,
        ]
    elif kind == "garbage":
        extra = ["--rate", str(options.garbage_rate), *account]
    elif kind == "storm":
        extra = [
            "--rate", str(options.storm_rate),
            "--victim", VICTIM[0],
            "--per-address", str(options.storm_per_address),
        ]
    else:
        extra = ["--rate", str(options.churn_rate), "--idle", str(options.idle)]
    return _python("bench.soak_hostile", kind, *common, *extra)


def _add_accounts(options: SoakOptions, db: Path, directory: Path) -> None:
    bench = BenchOptions(smsc_config=options.config)
    for (system_id, password), binds in ((BYSTANDER, 10), (SLOW, 100), (VICTIM, 10)):
        command = smsc_command(
            bench, db, "account", "add", system_id, "--password", password,
            "--credit", CREDIT, "--max-binds", str(binds), "--throughput", "0",
        )
        finished = run_to_end(command, cwd=directory, timeout=options.startup_timeout)
        if finished is None or finished[0]:
            detail = "timed out" if finished is None else finished[2][-2000:]
            raise StartError(f"`smsc account add {system_id}` failed: {detail}")


def _say(options: SoakOptions, text: str) -> None:
    if options.verbose:
        print(text, file=sys.stderr, flush=True)


def run_soak(options: SoakOptions) -> SoakResult:
    """Run the whole soak and return what it measured."""
    result = SoakResult(
        started=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        options={k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(options).items()},
        machine=machine_description(),
    )
    soak_s = options.minutes * 60
    with tempfile.TemporaryDirectory(prefix="smsc-soak-") as work:
        directory = Path(work)
        db = directory / "soak.db"
        _add_accounts(options, db, directory)
        bench = BenchOptions(smsc_config=options.config)
        serve = smsc_command(bench, db, "serve", "--listen", LOCAL_LISTEN)
        server = ChildProcess(serve, cwd=directory, name="smsc")
        try:
            found = server.wait_for([LISTENING], options.startup_timeout)
            if found is None:
                raise StartError("smsc serve did not start\n" + server.output_tail())
            port = int(found[0]["port"])
            _say(options, f"smsc pid {server.pid} on port {port}")
            _soak(options, result, server, port, directory, soak_s)
        finally:
            started_stop = time.monotonic()
            result.server_exit = server.stop(options.stop_timeout)
            result.server_stop_s = round(time.monotonic() - started_stop, 2)
            result.log_bytes, result.log_lines, result.log_top = log_summary(server)
            server.close()
        result.database = database_figures(db)
    if result.server_exit not in (0, None):
        result.notes.append(f"the server exited with {result.server_exit}")
    return result


def _soak(
    options: SoakOptions,
    result: SoakResult,
    server: ChildProcess,
    port: int,
    directory: Path,
    soak_s: float,
) -> None:
    bystander = _Peer(
        "bystander",
        _python(
            "bench.soak_bystander",
            "--port", str(port),
            f"--system-id={BYSTANDER[0]}",
            f"--password={BYSTANDER[1]}",
            "--rate", str(options.rate),
            "--warmup", str(options.warmup),
            "--seconds", str(soak_s),
            "--interval", str(options.interval),
            "--bind-every", str(options.bind_every),
            "--receipt-timeout", str(options.receipt_timeout),
        ),
        directory,
    )
    bound = bystander.first_line(options.startup_timeout)
    try:
        attack_at = float(json.loads(bound or "")["attack_at"])
    except (ValueError, KeyError, TypeError):
        result.bystander = bystander.finish(5.0)
        raise StartError(f"the bystander did not bind: {result.bystander}") from None
    sampler = _Sampler(server, attack_at, options.sample_every)
    sampler.start()
    peers: list[_Peer] = []
    try:
        time.sleep(max(0.0, attack_at - time.time()))
        start = sampler.take()
        result.rss_start_kib = start.rss_kib
        _say(options, f"warm-up done: server RSS {start.rss_kib} KiB; hostile peers start")
        listen_before = listen_counters()
        peers = [
            _Peer(kind, _hostile_argv(kind, port, options), directory) for kind in options.peers
        ]
        end_at = attack_at + soak_s
        while (left := end_at - time.time()) > 0.5:
            time.sleep(min(left - 0.5, options.interval))
            if options.verbose and left > 0.5:
                last = sampler.samples[-1]
                _say(options, f"  t={last.at:.0f} s RSS {last.rss_kib} KiB, fds {last.fds}, "
                              f"log {last.log_bytes} B")
        result.rss_end_kib = sampler.take().rss_kib
        listen_after = listen_counters()
        result.listen_overflows = {
            k: listen_after[k] - listen_before.get(k, 0) for k in listen_after
        }
        for peer in peers:
            result.hostile[peer.name] = peer.finish(end_at + 60 - time.time())
        peers = []
        result.bystander = bystander.finish(
            end_at + options.receipt_timeout + 90 - time.time()
        )
        after = sampler.take()
        result.rss_after_kib = after.rss_kib
    finally:
        sampler.stop()
        for peer in peers:
            peer.finish(0.1)
        if bystander.process.poll() is None:
            bystander.finish(0.1)
    result.samples = sampler.samples
    result.rss_max_kib = max((s.rss_kib for s in result.samples), default=0)
    result.hwm_kib = max((s.hwm_kib for s in result.samples), default=0)
    result.fds_max = max((s.fds for s in result.samples), default=0)


def _parse_args(argv: Sequence[str] | None) -> tuple[SoakOptions, Path | None]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak",
        description="Soak smsc with hostile peers beside a well-behaved customer.",
    )
    parser.add_argument("--minutes", type=float, help="soak length (default 30; --quick 1)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 minute, 10 s warm-up")
    parser.add_argument("--rate", type=float, default=50.0, help="bystander submits/s (default 50)")
    parser.add_argument("--warmup", type=float, help="seconds of bystander alone (default 30)")
    parser.add_argument("--interval", type=float, default=60.0, help="seconds per table row")
    parser.add_argument(
        "--peers", default="slow,garbage,storm,churn",
        help="hostile kinds, comma-separated (slow,garbage,storm,churn; '' for none)",
    )
    parser.add_argument("--slow-readers", type=int, default=3)
    parser.add_argument(
        "--slow-rate", type=float, default=1000.0, help="PDUs/s per slow reader (default 1000)"
    )
    parser.add_argument(
        "--slow-submit-every", type=int, default=20,
        help="every Nth PDU of a slow reader a submit_sm, the others enquire_link (default 20)",
    )
    parser.add_argument("--garbage-rate", type=float, default=5.0, help="connections/s")
    parser.add_argument("--storm-rate", type=float, default=40.0, help="failed binds/s")
    parser.add_argument("--storm-per-address", type=int, default=2)
    parser.add_argument("--churn-rate", type=float, default=20.0, help="connect-close/s")
    parser.add_argument("--idle", type=int, default=50, help="idle connections held")
    parser.add_argument("--bind-every", type=float, default=10.0, help="s between bind probes")
    parser.add_argument("--receipt-timeout", type=float, default=60.0)
    parser.add_argument("--sample-every", type=float, default=SAMPLE_EVERY, help="RSS sampling, s")
    parser.add_argument("--config", type=Path, default=BENCH_CONFIG)
    parser.add_argument("--json", type=Path, help="write the report here (default bench/results/)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    minutes = args.minutes if args.minutes is not None else (1.0 if args.quick else 30.0)
    warmup = args.warmup if args.warmup is not None else (10.0 if args.quick else 30.0)
    peers = tuple(p for p in args.peers.split(",") if p)
    if not 0 < minutes <= 120:
        parser.error("--minutes must be in (0, 120]")
    if not 0 <= warmup <= 600 or not 0 < args.interval <= 3600 or not 0 < args.sample_every <= 600:
        parser.error("--warmup 0..600, --interval (0, 3600], --sample-every (0, 600]")
    rates = (args.rate, args.slow_rate, args.garbage_rate, args.storm_rate, args.churn_rate)
    if not all(0 < r <= 10_000 for r in rates):
        parser.error("every rate must be in (0, 10000]")
    if not (1 <= args.slow_readers <= 32 and 0 <= args.idle <= 1000
            and 1 <= args.storm_per_address <= 100 and 1 <= args.slow_submit_every <= 1000):
        parser.error("--slow-readers 1..32, --idle 0..1000, --storm-per-address 1..100, "
                     "--slow-submit-every 1..1000")
    if bad := [p for p in peers if p not in ("slow", "garbage", "storm", "churn")]:
        parser.error(f"unknown --peers kind: {', '.join(bad)}")
    options = SoakOptions(
        minutes=minutes,
        warmup=warmup,
        interval=args.interval,
        rate=args.rate,
        peers=peers,
        slow_readers=args.slow_readers,
        slow_rate=args.slow_rate,
        slow_submit_every=args.slow_submit_every,
        garbage_rate=args.garbage_rate,
        storm_rate=args.storm_rate,
        storm_per_address=args.storm_per_address,
        churn_rate=args.churn_rate,
        idle=args.idle,
        bind_every=args.bind_every,
        receipt_timeout=args.receipt_timeout,
        sample_every=args.sample_every,
        config=args.config,
        verbose=not args.quiet,
    )
    return options, args.json


def main(argv: Sequence[str] | None = None) -> int:
    options, json_path = _parse_args(argv)
    try:
        result = run_soak(options)
    except StartError as error:
        print(f"soak stopped: {error}", file=sys.stderr)
        return 2
    print(render(result))
    if json_path is None:
        json_path = RESULTS / f"soak-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result.as_dict(), indent=2, default=str) + "\n")
    print(f"report written to {json_path}")
    return 0 if result.nothing_lost else 1


if __name__ == "__main__":
    raise SystemExit(main())
