"""The cluster benchmark: 1, 2 and 3 smsc nodes on one PostgreSQL against one node on SQLite,
same load client, same run.

    python -m bench.cluster_bench [--count N] [--clients 3] [--window 64] [--nodes 1,2,3]
                                  [--repeat K] [--postgres URL] [--out FILE]

Each configuration starts its nodes with ``smsc --db LOCATION serve`` (the benchmark's config,
bench/conf/smsc.toml: an operator that delivers at once, a receipt per message) on a fresh
database: an SQLite file, or a PostgreSQL database made for the run on the server at
``--postgres`` (default: SMSC_TEST_POSTGRES, else postgresql://127.0.0.1:5432/test) and
dropped afterwards. The load is always ``--clients`` runs of :mod:`bench.load` at once (one
transceiver bind each, window ``--window``, ``--count`` messages each, each its own account so
its receipts come back to it), client i bound to node i mod N: the binds spread over the nodes.

Per configuration the table gives the messages per second (all clients together, over the
longest client's time), p50/p99 of every submit's latency (all clients' logs merged), whether
every receipt arrived exactly once, the nodes' CPU per message (µs, user + system from
/proc/PID/stat of each node; the sum and the busiest node) and the database's CPU per message
and share of all the server-side CPU (PostgreSQL: the backends serving the run's database, by
pg_stat_activity, plus the WAL writer, checkpointer and background writer, which serve the
whole server: run it on a quiet server).

Every subprocess is started here and stopped by its own PID; every wait has a time limit.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.load import percentile
from bench.run import (
    BENCH_CONFIG,
    BENCH_CREDIT,
    LISTENING,
    LOCAL_LISTEN,
    REPO_ROOT,
    BenchOptions,
    ChildProcess,
    StartError,
    machine_description,
    smsc_command,
)
from smsc.routing.accounts import hash_password
from smsc.store.location import open_store
from smsc.store.records import Account, Bucket

__all__ = ["ClusterConfig", "ClusterRun", "main", "measure"]

PASSWORD = "benchpw"
DEFAULT_POSTGRES = os.environ.get("SMSC_TEST_POSTGRES", "postgresql://127.0.0.1:5432/test")
_BACKGROUND = ("walwriter", "checkpointer", "background writer")


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterConfig:
    store: str  # "sqlite" or "postgres"
    nodes: int

    @property
    def label(self) -> str:
        nodes = "1 node" if self.nodes == 1 else f"{self.nodes} nodes"
        return f"{nodes}, {'SQLite' if self.store == 'sqlite' else 'PostgreSQL'}"


@dataclass(slots=True, kw_only=True)
class ClusterRun:
    config: ClusterConfig
    clients: list[dict[str, Any]] = field(default_factory=list)
    node_cpu_s: list[float] = field(default_factory=list)
    db_cpu_s: float = 0.0
    fatal: str = ""

    @property
    def messages(self) -> int:
        return sum(int(c.get("acked_ok", 0)) for c in self.clients)

    def summary(self, latencies: Sequence[float]) -> dict[str, Any]:
        elapsed = max((float(c.get("elapsed_s", 0.0)) for c in self.clients), default=0.0)
        messages = self.messages
        ordered = sorted(latencies)
        node_cpu = sum(self.node_cpu_s)
        server_cpu = node_cpu + self.db_cpu_s
        return {
            "label": self.config.label, "store": self.config.store, "nodes": self.config.nodes,
            "messages": messages, "fatal": self.fatal,
            "throughput": round(messages / elapsed, 1) if elapsed else 0.0,
            "p50_ms": round(percentile(ordered, 0.5), 3),  # latencies are in ms
            "p99_ms": round(percentile(ordered, 0.99), 3),
            "receipts_ok": bool(self.clients) and all(_receipts_ok(c) for c in self.clients),
            "node_cpu_us_per_msg": round(node_cpu / messages * 1e6, 1) if messages else 0.0,
            "busiest_node_cpu_us_per_msg": (round(max(self.node_cpu_s) / messages * 1e6, 1)
                                            if messages and self.node_cpu_s else 0.0),
            "db_cpu_us_per_msg": round(self.db_cpu_s / messages * 1e6, 1) if messages else 0.0,
            "db_share": round(self.db_cpu_s / server_cpu, 3) if server_cpu else 0.0,
            "node_cpu_s": [round(c, 3) for c in self.node_cpu_s],
        }


def _receipts_ok(client: dict[str, Any]) -> bool:
    return (not client.get("fatal") and not client.get("receipts_timed_out")
            and client.get("receipts_received") == client.get("receipts_expected")
            == client.get("acked_ok") and not client.get("receipts_duplicates")
            and not client.get("receipts_unknown"))


def _proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the database ------------------------------------------------------------------------------
def _psycopg() -> Any:
    import importlib

    importlib.import_module("psycopg.conninfo")
    return importlib.import_module("psycopg")


@contextlib.contextmanager
def postgres_database(server: str) -> Iterator[str]:
    """A database of its own on ``server`` for the ``with`` block: its URL."""
    psycopg = _psycopg()
    name = f"smsc_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    info = psycopg.conninfo.conninfo_to_dict(server)
    host, port = info.get("host", "127.0.0.1"), info.get("port", "5432")
    user = f"{info['user']}@" if info.get("user") else ""
    try:
        yield f"postgresql://{user}{host}:{port}/{name}"
    finally:
        with psycopg.connect(server, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _db_pids(url: str) -> list[int]:
    """The backends serving the run's database and the server's WAL, checkpoint and background
    writers (PostgreSQL processes on this machine)."""
    psycopg = _psycopg()
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE (datname = %s AND "
                            "pid <> pg_backend_pid()) OR backend_type = ANY(%s)",
                            (name, list(_BACKGROUND))).fetchall()
    return [int(r[0]) for r in rows]


# --- the nodes ---------------------------------------------------------------------------------
def _node_config(directory: Path, node: str) -> Path:
    text = BENCH_CONFIG.read_text()
    text = text.replace("[server]\n", f'[server]\nnode = "{node}"\nnode_lease = "10s"\n', 1)
    path = directory / f"{node}.toml"
    path.write_text(text)
    return path


def _smsc(location: str, config: Path, *args: str) -> list[str]:
    """``smsc --db LOCATION --config CONFIG ARGS``; LOCATION may be a URL (which a Path would
    spoil: smsc_command is given a stand-in and the URL put in its place)."""
    command = smsc_command(BenchOptions(smsc_config=config), Path("DB"), *args)
    command[command.index("--db") + 1] = location
    return command


@contextlib.contextmanager
def start_nodes(config: ClusterConfig, location: str, directory: Path, accounts: int,
                timeout: float) -> Iterator[list[tuple[ChildProcess, int]]]:
    """The accounts made, then the nodes started; (process, SMPP port) each."""
    store = open_store(location)  # the accounts, in this process (faster than the CLI)
    try:
        hashed = hash_password(PASSWORD)
        now = time.time()
        for n in range(accounts):
            store.create_account(Account(system_id=f"bench{n + 1}", password_hash=hashed,
                                         created_at=now))
            store.credit(f"bench{n + 1}", int(BENCH_CREDIT), Bucket.BOUGHT, now)
    finally:
        store.close()
    children: list[ChildProcess] = []
    try:
        for n in range(config.nodes):
            node_config = _node_config(directory, f"n{n + 1}")
            children.append(ChildProcess(
                _smsc(location, node_config, "serve", "--listen", LOCAL_LISTEN),
                cwd=directory, name=f"smsc-n{n + 1}"))
        started: list[tuple[ChildProcess, int]] = []
        for child in children:
            found = child.wait_for([LISTENING], timeout)
            if found is None:
                raise StartError(f"{child.name} did not start\n{child.output_tail()}")
            started.append((child, int(found[0]["port"])))
        yield started
    finally:
        for child in children:
            child.stop(15.0)
            child.close()


def _run_clients(ports: Sequence[int], clients: int, count: int, window: int,
                 directory: Path, max_seconds: float) -> tuple[list[dict[str, Any]],
                                                               list[float]]:
    """``clients`` load clients at once, client i on ports[i % len(ports)]; their results and
    every latency (milliseconds)."""
    import subprocess

    processes = []
    logs = []
    for n in range(clients):
        log = directory / f"latency{n + 1}.txt"
        logs.append(log)
        argv = [sys.executable, "-m", "bench.load", "--port", str(ports[n % len(ports)]),
                f"--system-id=bench{n + 1}", f"--password={PASSWORD}", "--binds", "1",
                "--window", str(window), "--count", str(count), "--receipts",
                "--destination-base", str(380671000000 + n * 1_000_000),
                "--max-seconds", str(max_seconds), "--receipt-timeout", str(max_seconds),
                "--latency-log", str(log)]
        processes.append(subprocess.Popen(argv, cwd=REPO_ROOT, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          text=True))
    results: list[dict[str, Any]] = []
    for process in processes:
        try:
            out, err = process.communicate(timeout=2 * max_seconds + 60)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate(timeout=15)
        try:
            results.append(json.loads(out.strip().splitlines()[-1]))
        except (IndexError, json.JSONDecodeError):
            results.append({"fatal": f"load client exited {process.returncode}: {err[-500:]}"})
    latencies: list[float] = []
    for log in logs:
        with contextlib.suppress(OSError):
            latencies.extend(float(line) for line in log.read_text().split())
    return results, latencies


def measure(config: ClusterConfig, *, count: int, clients: int, window: int,
            postgres: str = DEFAULT_POSTGRES, max_seconds: float = 120.0,
            timeout: float = 60.0) -> dict[str, Any]:
    """One configuration, on a fresh database: its summary row."""
    run = ClusterRun(config=config)
    latencies: list[float] = []
    with tempfile.TemporaryDirectory(prefix="smsc-cluster-bench-") as work:
        directory = Path(work)
        with contextlib.ExitStack() as stack:
            if config.store == "postgres":
                location = stack.enter_context(postgres_database(postgres))
            else:
                location = str(directory / "bench.sqlite")
            try:
                nodes = stack.enter_context(start_nodes(config, location, directory, clients,
                                                        timeout))
            except StartError as error:
                run.fatal = str(error)[:2000]
                return run.summary([])
            pids = [child.pid for child, _ in nodes]
            db_pids = _db_pids(location) if config.store == "postgres" else []
            before = [_proc_cpu(p) for p in pids]
            db_before = {p: _proc_cpu(p) for p in db_pids}
            run.clients, latencies = _run_clients([port for _, port in nodes], clients, count,
                                                  window, directory, max_seconds)
            run.node_cpu_s = [_proc_cpu(p) - b for p, b in zip(pids, before, strict=True)]
            if config.store == "postgres":
                # backends that came meanwhile (a reconnect) count from zero
                for pid in _db_pids(location):
                    run.db_cpu_s += _proc_cpu(pid) - db_before.get(pid, 0.0)
            fatal = [c["fatal"] for c in run.clients if c.get("fatal")]
            run.fatal = fatal[0] if fatal else ""
    return run.summary(latencies)  # milliseconds, as the load client logs them


def median_run(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The run in the middle by throughput (a failed run counts as the slowest), with every
    run's throughput beside it."""
    ordered = sorted(runs, key=lambda r: (not r["fatal"], r["throughput"]))
    middle = dict(ordered[len(ordered) // 2])
    middle["throughputs"] = [r["throughput"] for r in runs]
    return middle


def table(rows: Sequence[dict[str, Any]]) -> str:
    """The markdown table; throughput also as a ratio to the SQLite node of the same run."""
    base = next((r["throughput"] for r in rows if r["store"] == "sqlite"), 0.0)
    lines = ["| Configuration | msg/s | vs SQLite | p50 ms | p99 ms | receipts once | "
             "node CPU µs/msg (sum; busiest) | DB CPU µs/msg | DB share |",
             "|---|---:|---:|---:|---:|---|---:|---:|---:|"]
    for r in rows:
        ratio = f"{r['throughput'] / base:.2f}" if base else "-"
        lines.append(
            f"| {r['label']} | {r['throughput']:.0f} | {ratio} | {r['p50_ms']:.1f} | "
            f"{r['p99_ms']:.1f} | {'yes' if r['receipts_ok'] else 'NO'} | "
            f"{r['node_cpu_us_per_msg']:.0f}; {r['busiest_node_cpu_us_per_msg']:.0f} | "
            f"{r['db_cpu_us_per_msg']:.0f} | {r['db_share'] * 100:.0f}% |")
    return "\n".join(lines)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000, help="messages per client")
    parser.add_argument("--clients", type=int, default=3, help="load clients (accounts)")
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--nodes", default="1,2,3", help="PostgreSQL node counts to run")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES,
                        help="a PostgreSQL server to make the run's databases on")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run the configurations in turn this many times; each row is "
                             "the configuration's median run (by msg/s)")
    parser.add_argument("--out", default="", help="write the results as JSON here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    configs = [ClusterConfig(store="sqlite", nodes=1)] + [
        ClusterConfig(store="postgres", nodes=int(n)) for n in args.nodes.split(",") if n]
    runs: dict[ClusterConfig, list[dict[str, Any]]] = {c: [] for c in configs}
    for turn in range(max(1, args.repeat)):
        for config in configs:
            print(f"running {config.label} ({turn + 1} of {args.repeat}) ...",
                  file=sys.stderr, flush=True)
            runs[config].append(measure(config, count=args.count, clients=args.clients,
                                        window=args.window, postgres=args.postgres))
    rows = [median_run(runs[c]) for c in configs]
    print(table(rows))
    for row in rows:
        if row["fatal"]:
            print(f"{row['label']}: {row['fatal']}")
    if args.out:
        Path(args.out).write_text(json.dumps({
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine_description(), "count": args.count, "clients": args.clients,
            "window": args.window, "repeat": args.repeat, "rows": rows}, indent=2))
    return 0 if all(not r["fatal"] and r["receipts_ok"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
