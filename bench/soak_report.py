"""Figures and the text report of the soak (:mod:`bench.soak`): what it measured, the server's
log and database once it stopped, and the kernel's accept-queue counters."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.run import ChildProcess

__all__ = [
    "Sample",
    "SoakResult",
    "database_figures",
    "listen_counters",
    "log_summary",
    "proc_status",
    "render",
]

_LOG_CHUNK = 1 << 20
_LOG_STAMP = re.compile(r"^\S+ \[(?P<source>[^\]]*)\] ")
_LOG_NOISE = re.compile(r"\d+(\.\d+)*")


@dataclass(slots=True, kw_only=True)
class Sample:
    at: float  # seconds since the hostile peers started (negative: warm-up)
    rss_kib: int
    hwm_kib: int
    fds: int
    threads: int
    log_bytes: int


@dataclass(slots=True, kw_only=True)
class SoakResult:
    started: str
    options: dict[str, Any]
    machine: dict[str, str]
    samples: list[Sample] = field(default_factory=list)
    rss_start_kib: int = 0
    rss_end_kib: int = 0
    rss_after_kib: int = 0
    rss_max_kib: int = 0
    hwm_kib: int = 0
    fds_max: int = 0
    listen_overflows: dict[str, int] = field(default_factory=dict)
    log_bytes: int = 0
    log_lines: int = 0
    log_top: list[tuple[str, int]] = field(default_factory=list)
    server_exit: int | None = None
    server_stop_s: float | None = None
    database: dict[str, Any] = field(default_factory=dict)
    bystander: dict[str, Any] = field(default_factory=dict)
    hostile: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def nothing_lost(self) -> bool:
        return bool(self.bystander.get("nothing_lost"))

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["nothing_lost"] = self.nothing_lost
        return out

def proc_status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (KiB) and Threads of a process from /proc, and its open descriptors."""
    out: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "Threads"):
                out[key] = int(value.split()[0])
    with contextlib.suppress(OSError):
        out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    return out


def listen_counters() -> dict[str, int]:
    """ListenOverflows and ListenDrops of this network namespace (/proc/net/netstat): SYNs and
    handshakes dropped because a listener's accept queue was full. Counted for every listener of
    the machine, not only the soak's."""
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return {}
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], values.split()[1:], strict=False))
            return {k: int(table[k]) for k in ("ListenOverflows", "ListenDrops") if k in table}
    return {}

def log_summary(server: ChildProcess, top: int = 8) -> tuple[int, int, list[tuple[str, int]]]:
    """(bytes, lines, the ``top`` most frequent kinds of line) of the server's log; a kind is a
    line without its time stamp, numbers and addresses, cut at 90 characters."""
    size = server.stderr_size()
    kinds: Counter[str] = Counter()
    lines = 0
    offset = 0
    rest = b""
    while offset < size:
        chunk = server.read_stderr(offset, _LOG_CHUNK)
        if not chunk:
            break
        offset += len(chunk)
        *whole, rest = (rest + chunk).split(b"\n")
        for raw in whole:
            lines += 1
            line = raw.decode("utf-8", "replace")
            match = _LOG_STAMP.match(line)
            text = line[match.end() :] if match else line
            kind = _LOG_NOISE.sub("#", text)[:90]
            if len(kinds) < 10_000 or kind in kinds:
                kinds[kind] += 1
    if rest:
        lines += 1
    return size, lines, kinds.most_common(top)


def database_figures(db: Path) -> dict[str, Any]:
    """Sizes and row counts of the soak's database (read after the server stopped)."""
    out: dict[str, Any] = {}
    size = 0
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(OSError):
            size += (db.parent / (db.name + suffix)).stat().st_size
    out["bytes"] = size
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    except sqlite3.Error as error:
        out["error"] = str(error)
        return out
    try:
        for name, query in (
            ("lock_rows", "SELECT kind, count(*) FROM bind_locks GROUP BY kind"),
            ("outbox_rows", "SELECT account, count(*) FROM outbox GROUP BY account"),
        ):
            try:
                out[name] = {str(k): v for k, v in conn.execute(query)}
            except sqlite3.Error as error:
                out[name] = {"error": str(error)}
        try:
            out["messages"] = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        except sqlite3.Error as error:
            out["messages"] = str(error)
    finally:
        conn.close()
    return out



def _table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    cells = [[str(c) for c in head]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(head))]
    return [
        "  ".join(
            c.rjust(w) if i else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in cells
    ]


def _mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


def render(result: SoakResult) -> str:
    """The report as plain text."""
    by = result.bystander
    lines = [f"soak {result.started}: {result.options['minutes']} min of hostile peers "
             f"({', '.join(result.options['peers']) or 'none'}), bystander at "
             f"{result.options['rate']}/s"]
    lines += ["", "bystander (submits by the interval they were sent in):"]
    rows = [
        [
            i["interval"], i["acked"], i["errors"], i["p50_ms"], i["p99_ms"], i["max_ms"],
            i["bind_max_ms"] if i["bind_max_ms"] is not None else "-",
        ]
        for i in by.get("intervals", [])
    ]
    head = ["interval", "acked", "errors", "p50 ms", "p99 ms", "max ms", "bind max ms"]
    lines += _table(head, rows)
    lines += [
        "",
        f"sent {by.get('sent', 0)}, acked ROK {by.get('acked_ok', 0)}, errors "
        f"{by.get('errors', {})}, unanswered {by.get('unanswered', 0)}, disconnects "
        f"{by.get('disconnects', 0)}; receipts {by.get('receipts_received', 0)}/"
        f"{by.get('receipts_expected', 0)}, duplicates {by.get('receipts_duplicates', 0)}, "
        f"unknown {by.get('receipts_unknown', 0)}; bind probes {by.get('bind_probes', {})}",
        f"nothing lost: {'yes' if result.nothing_lost else 'NO'}"
        + (f" ({by['fatal']})" if by.get("fatal") else ""),
        "",
        f"server RSS: start {_mib(result.rss_start_kib)} (after the warm-up), end "
        f"{_mib(result.rss_end_kib)} (peers still on), after {_mib(result.rss_after_kib)} "
        f"(peers gone), max {_mib(result.rss_max_kib)}; peak (VmHWM) {_mib(result.hwm_kib)}; "
        f"open fds max {result.fds_max}; accept queue overflows during the soak (whole "
        f"machine) {result.listen_overflows}",
        f"server log: {result.log_bytes} bytes, {result.log_lines} lines; stop took "
        f"{result.server_stop_s} s (exit {result.server_exit})",
        f"database: {result.database}",
        "",
        "most frequent log lines:",
    ]
    lines += [f"  {n:>9}  {kind}" for kind, n in result.log_top]
    lines += ["", "hostile peers:"]
    for name, outcome in result.hostile.items():
        lines.append(f"  {name}: {json.dumps(outcome, sort_keys=True)}")
    lines += ["", "memory samples (s since the peers started: RSS MiB):"]
    lines.append(
        "  " + ", ".join(f"{s.at:.0f}: {s.rss_kib / 1024:.0f}" for s in result.samples)
    )
    lines += [f"note: {note}" for note in result.notes]
    return "\n".join(lines)
