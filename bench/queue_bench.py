"""A million parts waiting in an operator queue: restart time, memory, and the drain after the
outage ends.

    python -m bench.queue_bench [--messages 1000000] [--receipts] [--out FILE] [--json FILE]

1. A fresh SQLite database is filled directly through :meth:`SqliteStore.accept` (batches of
   5,000 parts, credit debited per part, a ledger row per message, as the server would) with
   ``--messages`` parts for the operator ``queued`` of ``bench/conf/queues.toml``; every part
   then waits for the end of that operator's outage (its ``next_at`` is the outage end, where
   a running server leaves the parts it finds due during an outage).
2. A copy of the config is written next to the database with an outage window that began an
   hour before the fill and ends ``--outage-seconds`` after the fill is done.
3. ``smsc serve`` is started on that database ``--starts`` times (each start but the last is
   stopped again): the time from starting the process to the ``listening on`` line and to a
   successful bind, and its resident memory (VmRSS, VmHWM from /proc) once idle.
4. The last server keeps running through the end of the outage; the waiting parts are counted
   every second from a separate read-only SQLite connection for at most ``--drain-seconds``,
   which gives the drain rate (parts leaving the queue per second) and the time the whole
   queue would take at that rate. With ``--receipts`` the parts ask for a receipt and a
   receiver bound to the account takes them as they come.
5. The server is stopped by its PID (SIGTERM, then SIGKILL after a timeout) and the results
   are printed, with the machine; ``--out`` writes them as Markdown.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import re
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.run import (
    LISTENING,
    LOCAL_LISTEN,
    BenchOptions,
    ChildProcess,
    StartError,
    machine_description,
    smsc_command,
)
from smsc.config.loader import load_config
from smsc.core.accounts import ensure_test_account
from smsc.pdu.codec import HEADER, encode
from smsc.pdu.constants import CommandId, DataCoding, Npi, Ton
from smsc.pdu.errors import FramingError
from smsc.pdu.framing import FrameBuffer
from smsc.pdu.pdus import BindReceiver, Unbind
from smsc.routing.accounts import hash_password
from smsc.store.records import Account, Bucket, NewMessage
from smsc.store.sqlite import SqliteStore

__all__ = [
    "QUEUE_CONFIG",
    "DrainSample",
    "QueueBenchOptions",
    "QueueResult",
    "ServerStart",
    "drain_figures",
    "fill_queue",
    "main",
    "markdown_report",
    "memory_kib",
    "outage_config",
    "run_queue_bench",
    "serve_database",
]

QUEUE_CONFIG = Path(__file__).resolve().parent / "conf" / "queues.toml"
OPERATOR = "queued"
ROUTE = "ukraine"
SYSTEM_ID = "qbench"
PASSWORD = "qbench1"
PRICE = 1  # minor units per part
DESTINATION_BASE = 380_671_000_000
TEXT = b"A message waiting for the end of an outage"
MAX_MESSAGES = 10_000_000
OPERATOR_INDEX = "bench_due_by_operator"
_OUTAGES_LINE = re.compile(r"^outages = .*$", re.MULTILINE)
_DELIVER_SM = int(CommandId.DELIVER_SM)
_DELIVER_SM_RESP = int(CommandId.DELIVER_SM_RESP)
_BIND_RECEIVER_RESP = int(CommandId.BIND_RECEIVER_RESP)
_ENQUIRE_LINK = int(CommandId.ENQUIRE_LINK)
_ENQUIRE_LINK_RESP = int(CommandId.ENQUIRE_LINK_RESP)
_UNBIND = int(CommandId.UNBIND)
_UNBIND_RESP = int(CommandId.UNBIND_RESP)
_RESP_HEAD = struct.Struct(">IIIIB")  # header + an empty message_id
_HASH_SEED = "PYTHONHASHSEED"


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueBenchOptions:
    messages: int = 1_000_000
    batch: int = 5_000
    outage_seconds: float = 60.0
    drain_seconds: float = 120.0
    starts: int = 2
    receipts: bool = False
    config: Path = QUEUE_CONFIG
    startup_timeout: float = 300.0
    stop_timeout: float = 120.0
    profile: Path | None = None  # py-spy raw output of the server during the drain
    profile_seconds: float = 20.0
    operator_index: bool = False  # experiment: add an index on (operator, next_at) first
    hash_seed: int | None = None  # the server's PYTHONHASHSEED (None: random)
    verbose: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerStart:
    """One start of the server on the full database."""

    listening_s: float  # process start to the `listening on` line
    serving_s: float  # process start to a successful bind
    rss_kib: int  # VmRSS once bound and idle
    hwm_kib: int  # VmHWM (peak resident) at that moment
    stop_s: float | None = None  # SIGTERM to exit, for the starts that were stopped


@dataclass(frozen=True, slots=True, kw_only=True)
class DrainSample:
    at: float  # seconds after the outage end (negative: before)
    waiting: int  # parts with a next_at
    outbox: int = -1  # receipts waiting in the outbox (-1: not counted)
    received: int = 0  # receipts the bound receiver got so far
    rss_kib: int = 0


@dataclass(slots=True, kw_only=True)
class QueueResult:
    messages: int
    receipts: bool
    operator_index: bool = False
    due_batch: int = 0  # the server's parts per queue round, from the config
    hash_seed: int | None = None
    visit_order: list[str] = field(default_factory=list)  # with hash_seed: operators' order
    fill_s: float = 0.0
    retime_s: float = 0.0
    database_mib: float = 0.0
    starts: list[ServerStart] = field(default_factory=list)
    idle_before_outage_end: bool = True
    samples: list[DrainSample] = field(default_factory=list)
    drained: int = 0
    window_s: float = 0.0
    rate: float = 0.0  # parts per second over the whole window after the outage end
    steady_rate: float = 0.0  # parts per second between the first and the last part leaving
    all_drained_s: float | None = None  # when the queue was empty, if within the window
    projected_s: float | None = None  # the whole queue at ``rate``
    receipts_received: int = 0
    receipt_rate: float = 0.0  # receipts per second over the window
    receipt_rate_draining: float = 0.0  # ... while parts were still waiting
    receipt_rate_after: float = 0.0  # ... once the queue was empty
    peak_rss_kib: int = 0
    load_before: float = 0.0  # the machine's 1-minute load average when the run began
    load_after: float = 0.0  # ... and when it ended
    final_stop_s: float | None = None
    notes: list[str] = field(default_factory=list)  # what went wrong
    remarks: list[str] = field(default_factory=list)  # worth knowing, not a failure


# --- filling the store -------------------------------------------------------------------


def fill_queue(
    db: Path,
    *,
    messages: int,
    batch: int,
    next_at: float,
    registered_delivery: int,
    now: float,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Accept ``messages`` one-part messages for the operator queue in batches, for an account
    (``SYSTEM_ID``) created with exactly enough credit; each waits until ``next_at``."""
    store = SqliteStore(db)
    try:
        store.create_account(
            Account(
                system_id=SYSTEM_ID,
                password_hash=hash_password(PASSWORD),
                throughput=0.0,
                created_at=now,
            )
        )
        store.credit(SYSTEM_ID, messages * PRICE, Bucket.BOUGHT, now, note="queue benchmark")
        first_id = store.reserve_ids(messages)
        expires_at = now + 72 * 3600.0
        snippet = TEXT[:20].decode("ascii")
        done = 0
        while done < messages:
            size = min(batch, messages - done)
            parts = [
                NewMessage(
                    message_id=first_id + i,
                    account=SYSTEM_ID,
                    credit_owner=SYSTEM_ID,
                    source_addr_ton=Ton.ALPHANUMERIC,
                    source_addr_npi=Npi.UNKNOWN,
                    source_addr="Queue",
                    dest_addr_ton=Ton.INTERNATIONAL,
                    dest_addr_npi=Npi.ISDN,
                    destination_addr=str(DESTINATION_BASE + i),
                    esm_class=0,
                    data_coding=DataCoding.DEFAULT,
                    registered_delivery=registered_delivery,
                    short_message=TEXT,
                    operator=OPERATOR,
                    route=ROUTE,
                    price=PRICE,
                    submitted_at=now,
                    expires_at=expires_at,
                    next_at=next_at,
                    text_snippet=snippet,
                )
                for i in range(done, done + size)
            ]
            outcomes = store.accept(parts, now)
            refused = [o for o in outcomes if o.status]
            if refused:
                raise RuntimeError(f"{len(refused)} parts refused, the first with {refused[0]}")
            done += size
            if progress is not None:
                progress(done)
    finally:
        store.close()


def retime_queue(db: Path, next_at: float, *, operator_index: bool = False) -> None:
    """Every waiting part waits until ``next_at``; the WAL is folded into the database after.

    ``operator_index`` adds the index this benchmark suggests for the store (waiting parts by
    operator, then due time), to measure what it changes; the store itself does not make it."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE messages SET next_at = ? WHERE next_at IS NOT NULL", (next_at,))
        if operator_index:
            conn.execute(
                f"CREATE INDEX IF NOT EXISTS {OPERATOR_INDEX} ON messages (operator, next_at) "
                "WHERE next_at IS NOT NULL"
            )
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def prepare_test_account(db: Path, config: Path, now: float) -> None:
    """Create the config's test account now, so that the measured starts are restarts."""
    settings = load_config(config).server.test_account
    store = SqliteStore(db)
    try:
        ensure_test_account(
            store,
            system_id=settings.system_id,
            password=settings.password,
            credit=settings.credit,
            currency=settings.currency,
            throughput=settings.throughput,
            now=now,
        )
    finally:
        store.close()


def outage_config(template: str, start: float, end: float) -> str:
    """The config text with its one ``outages = ...`` line set to the window [start, end)."""
    line = f"outages = [{{ start = {_iso(start)}, end = {_iso(end)} }}]"
    text, count = _OUTAGES_LINE.subn(line, template)
    if count != 1:
        raise ValueError(f"the config template has {count} `outages = ` lines, not one")
    return text


def _iso(when: float) -> str:
    return (
        datetime.fromtimestamp(when, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


# --- the server --------------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class RunningServer:
    child: ChildProcess
    host: str
    port: int
    started: float  # time.monotonic() just before the process was started
    listening_s: float


@contextlib.contextmanager
def serve_database(
    db: Path,
    config: Path,
    *,
    startup_timeout: float,
    stop_timeout: float,
    stopped: Callable[[float], None] | None = None,
    hash_seed: int | None = None,
) -> Iterator[RunningServer]:
    """``smsc --db DB --config CONFIG serve`` on loopback port 0 for the ``with`` block; stopped
    by its PID on the way out (``stopped`` is told how long the stop took). ``hash_seed`` is
    the server's PYTHONHASHSEED (None: inherited, normally random)."""
    options = BenchOptions(smsc_config=config)
    argv = smsc_command(options, db, "serve", "--listen", LOCAL_LISTEN)
    started = time.monotonic()
    try:
        with _hash_seed(hash_seed):
            child = ChildProcess(argv, cwd=db.parent, name="smsc")
    except OSError as error:
        raise StartError(f"cannot start smsc: {error}") from error
    try:
        found = child.wait_for([LISTENING], startup_timeout)
        if found is None:
            raise StartError("smsc serve did not start listening\n" + child.output_tail())
        listening_s = time.monotonic() - started
        yield RunningServer(
            child=child,
            host=found[0]["host"],
            port=int(found[0]["port"]),
            started=started,
            listening_s=listening_s,
        )
    finally:
        stop_at = time.monotonic()
        child.stop(stop_timeout)
        if stopped is not None:
            stopped(time.monotonic() - stop_at)
        child.close()


@contextlib.contextmanager
def _hash_seed(seed: int | None) -> Iterator[None]:
    """PYTHONHASHSEED set to ``seed`` for the processes started in the block."""
    if seed is None:
        yield
        return
    before = os.environ.get(_HASH_SEED)
    os.environ[_HASH_SEED] = str(seed)
    try:
        yield
    finally:
        if before is None:
            del os.environ[_HASH_SEED]
        else:
            os.environ[_HASH_SEED] = before


def visit_order(names: Sequence[str], hash_seed: int) -> list[str]:
    """The order in which a Python process with PYTHONHASHSEED ``hash_seed`` iterates the set
    of operator ``names`` (the server visits its operators' queues in set order each round)."""
    code = f"import sys; print(' '.join(set({list(names)!r}) | {{{names[0]!r}}}))"
    with _hash_seed(hash_seed):
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
        )
    return done.stdout.split()


def memory_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in KiB from /proc (zeros where it cannot be read)."""
    rss = hwm = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return rss, hwm


class ReceiptSink(asyncio.Protocol):
    """A bound receiver that answers every deliver_sm at once and counts them."""

    def __init__(self, system_id: str, password: str) -> None:
        self.frames = FrameBuffer()
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.bound: asyncio.Future[int] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.received = 0
        self.system_id = system_id
        self.password = password
        self.problem = ""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        bind = BindReceiver(
            sequence_number=1,
            system_id=self.system_id,
            password=self.password,
            system_type="qbench",
        )
        transport.write(encode(bind))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.bound.done():
            self.bound.set_exception(ConnectionError(f"closed before bind_resp ({exc})"))
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        frames = self.frames
        frames.feed(data)
        out: list[bytes] = []
        try:
            while (frame := frames.next_frame()) is not None:
                _, command_id, status, sequence = HEADER.unpack_from(frame)
                if command_id == _DELIVER_SM:
                    self.received += 1
                    out.append(_RESP_HEAD.pack(17, _DELIVER_SM_RESP, 0, sequence, 0))
                elif command_id == _ENQUIRE_LINK:
                    out.append(HEADER.pack(16, _ENQUIRE_LINK_RESP, 0, sequence))
                elif command_id == _UNBIND:
                    out.append(HEADER.pack(16, _UNBIND_RESP, 0, sequence))
                elif command_id == _BIND_RECEIVER_RESP and not self.bound.done():
                    self.bound.set_result(status)
        except FramingError as error:
            self.problem = f"unreadable stream: {error}"
            if self.transport is not None:
                self.transport.close()
            return
        if out and self.transport is not None:
            self.transport.write(b"".join(out))

    async def close(self, timeout: float = 5.0) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.write(encode(Unbind(sequence_number=2)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.closed), timeout)
        self.transport.close()


async def bind_receiver(host: str, port: int, timeout: float) -> ReceiptSink:
    """A receiver bound as the benchmark account (raises ConnectionError when refused)."""
    loop = asyncio.get_running_loop()
    _, sink = await asyncio.wait_for(
        loop.create_connection(lambda: ReceiptSink(SYSTEM_ID, PASSWORD), host, port), timeout
    )
    status = await asyncio.wait_for(asyncio.shield(sink.bound), timeout)
    if status:
        await sink.close()
        raise ConnectionError(f"bind_receiver refused with status 0x{status:08x}")
    return sink


class QueueCounter:
    """Counts waiting parts (and outbox rows) through its own read-only connection."""

    def __init__(self, db: Path) -> None:
        self._conn = sqlite3.connect(
            f"file:{db}?mode=ro", uri=True, check_same_thread=False, timeout=30.0
        )

    def waiting(self) -> int:
        row = self._conn.execute("SELECT count(*) FROM messages WHERE next_at IS NOT NULL")
        return int(row.fetchone()[0])

    def outbox(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def close(self) -> None:
        self._conn.close()


# --- figures -----------------------------------------------------------------------------


def drain_figures(samples: Sequence[DrainSample], total: int) -> dict[str, float | None]:
    """Rates from samples of the waiting count (``at`` counted from the outage end).

    ``rate``: parts gone per second from the outage end until the queue was empty, or until
    the last sample; ``steady``: parts gone per second between the first sample that shows the
    drain and the last one still above zero (the backlog's own pace, without the start and the
    tail); ``empty_at``: the first sample at zero; ``projected``: ``total`` at ``rate``."""
    after = [s for s in samples if s.at >= 0]
    if not after:
        return {"rate": 0.0, "steady": 0.0, "empty_at": None, "projected": None}
    empty = next((s for s in after if s.waiting == 0), None)
    end = empty if empty is not None else after[-1]
    rate = (total - end.waiting) / end.at if end.at > 0 else 0.0
    busy = [s for s in after if 0 < s.waiting < total]
    steady = 0.0
    if len(busy) >= 2 and busy[-1].at > busy[0].at:
        steady = (busy[0].waiting - busy[-1].waiting) / (busy[-1].at - busy[0].at)
    return {
        "rate": rate,
        "steady": steady,
        "empty_at": None if empty is None else empty.at,
        "projected": total / rate if rate > 0 else None,
    }


def receipt_figures(samples: Sequence[DrainSample]) -> dict[str, float]:
    """Receipts taken by the receiver per second: over the whole window after the outage end,
    while parts were still waiting, and once the queue was empty (0.0 where not seen)."""
    after = [s for s in samples if s.at >= 0]

    def pace(span: Sequence[DrainSample]) -> float:
        if len(span) < 2 or span[-1].at <= span[0].at:
            return 0.0
        return (span[-1].received - span[0].received) / (span[-1].at - span[0].at)

    draining = [s for s in after if s.waiting > 0]
    empty = [s for s in after if s.waiting == 0]
    if draining and empty:
        draining.append(empty[0])  # the interval in which the queue emptied
    first = [DrainSample(at=0.0, waiting=-1, received=after[0].received)] if after else []
    return {
        "overall": pace([*first, *after[-1:]]),
        "draining": pace(draining),
        "after_empty": pace(empty),
    }


# --- the run -----------------------------------------------------------------------------


def _say(options: QueueBenchOptions, text: str, *, end: str = "\n") -> None:
    if options.verbose:
        print(text, file=sys.stderr, end=end, flush=True)


def run_queue_bench(options: QueueBenchOptions) -> QueueResult:
    result = QueueResult(
        messages=options.messages, receipts=options.receipts, operator_index=options.operator_index
    )
    result.load_before = _load()
    result.hash_seed = options.hash_seed
    with tempfile.TemporaryDirectory(prefix="smsc-queue-bench-") as work:
        directory = Path(work)
        db = directory / "queues.sqlite"
        fill_start = time.time()
        prepare_test_account(db, options.config, fill_start)
        t0 = time.monotonic()
        step = max(options.batch, options.messages // 20)

        def progress(done: int) -> None:
            if done % step < options.batch or done == options.messages:
                rate = done / max(time.monotonic() - t0, 1e-9)
                _say(options, f"  filled {done:,}/{options.messages:,} parts ({rate:,.0f}/s)")

        _say(options, f"filling {db.name} with {options.messages:,} parts")
        far = fill_start + 365 * 86_400.0  # a placeholder until the outage end is known
        fill_queue(
            db,
            messages=options.messages,
            batch=options.batch,
            next_at=far,
            registered_delivery=1 if options.receipts else 0,
            now=fill_start,
            progress=progress,
        )
        result.fill_s = time.monotonic() - t0
        outage_end = time.time() + options.outage_seconds
        t1 = time.monotonic()
        retime_queue(db, outage_end, operator_index=options.operator_index)
        result.retime_s = time.monotonic() - t1
        result.database_mib = _database_mib(db)
        template = options.config.read_text()
        config = directory / "queues.toml"
        config.write_text(outage_config(template, fill_start - 3600.0, outage_end))
        # A mistake in the generated file shows here, not in the server.
        loaded = load_config(config)
        result.due_batch = loaded.server.due_batch
        if options.hash_seed is not None:
            result.visit_order = visit_order(list(loaded.operators.profiles), options.hash_seed)
        _say(
            options,
            f"filled in {result.fill_s:.1f} s; database {result.database_mib:,.0f} MiB; "
            f"the outage ends in {outage_end - time.time():.1f} s",
        )
        asyncio.run(_measure(db, config, outage_end, options, result))
    result.load_after = _load()
    figures = drain_figures(result.samples, options.messages)
    result.rate = float(figures["rate"] or 0.0)
    result.steady_rate = float(figures["steady"] or 0.0)
    result.all_drained_s = figures["empty_at"]
    result.projected_s = figures["projected"]
    if result.samples:
        last = result.samples[-1]
        result.drained = options.messages - last.waiting
        result.window_s = max(0.0, last.at)
        result.receipts_received = last.received
        if options.receipts:
            paces = receipt_figures(result.samples)
            result.receipt_rate = paces["overall"]
            result.receipt_rate_draining = paces["draining"]
            result.receipt_rate_after = paces["after_empty"]
        result.peak_rss_kib = max(s.rss_kib for s in result.samples)
    return result


def _load() -> float:
    """The 1-minute load average (0.0 where the system does not tell)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


def _database_mib(db: Path) -> float:
    size = 0
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(OSError):
            size += db.with_name(db.name + suffix).stat().st_size
    return size / 2**20


async def _measure(
    db: Path, config: Path, outage_end: float, options: QueueBenchOptions, result: QueueResult
) -> None:
    for number in range(1, options.starts + 1):
        last = number == options.starts
        stop_times: list[float] = []
        with serve_database(
            db,
            config,
            startup_timeout=options.startup_timeout,
            stop_timeout=options.stop_timeout,
            stopped=stop_times.append,
            hash_seed=options.hash_seed,
        ) as server:
            sink = await bind_receiver(server.host, server.port, options.startup_timeout)
            serving_s = time.monotonic() - server.started
            await asyncio.sleep(1.0)  # let the first queue rounds and timers settle
            rss, hwm = memory_kib(server.child.pid)
            if time.time() >= outage_end:
                result.idle_before_outage_end = False
            _say(
                options,
                f"start {number}: listening after {server.listening_s:.2f} s, bound after "
                f"{serving_s:.2f} s, VmRSS {rss / 1024:,.0f} MiB (peak {hwm / 1024:,.0f} MiB)",
            )
            start = ServerStart(
                listening_s=server.listening_s, serving_s=serving_s, rss_kib=rss, hwm_kib=hwm
            )
            if not last:
                await sink.close()
            else:
                if not options.receipts:
                    await sink.close()
                await _drain(db, server, sink, outage_end, options, result)
                await sink.close()
        stop_s = stop_times[0] if stop_times else None
        result.starts.append(dataclasses.replace(start, stop_s=stop_s))
        if last:
            result.final_stop_s = stop_s
    if not result.idle_before_outage_end:
        result.notes.append(
            "the outage ended before the idle memory of every start was read: "
            "use a longer --outage-seconds"
        )


async def _drain(
    db: Path,
    server: RunningServer,
    sink: ReceiptSink,
    outage_end: float,
    options: QueueBenchOptions,
    result: QueueResult,
) -> None:
    counter = QueueCounter(db)
    profiler: subprocess.Popen[bytes] | None = None
    try:
        wait = outage_end - time.time() - 2.0
        if wait > 0:
            _say(options, f"waiting {wait:.0f} s for the outage to end")
            await asyncio.sleep(wait)
        deadline = outage_end + options.drain_seconds
        tick = time.time()
        while True:
            now = time.time()
            waiting = await asyncio.to_thread(counter.waiting)
            outbox = await asyncio.to_thread(counter.outbox) if options.receipts else -1
            rss, _ = memory_kib(server.child.pid)
            sample = DrainSample(
                at=round(now - outage_end, 3),
                waiting=waiting,
                outbox=outbox,
                received=sink.received,
                rss_kib=rss,
            )
            result.samples.append(sample)
            if (sample.at >= 0 and int(sample.at) % 10 == 0) or waiting == 0:
                _say(
                    options,
                    f"  t={sample.at:6.1f} s waiting {waiting:,}"
                    + (f" outbox {outbox:,} received {sink.received:,}" if options.receipts else "")
                    + f" VmRSS {rss / 1024:,.0f} MiB",
                )
            if profiler is None and options.profile is not None and sample.at >= 2.0:
                profiler = _start_profiler(server.child.pid, options, result)
            receipts_done = not options.receipts or sink.received >= options.messages
            if (waiting == 0 and receipts_done) or now >= deadline:
                break
            if sink.problem:
                result.notes.append(f"the receiver stopped: {sink.problem}")
                break
            if server.child.process.poll() is not None:
                result.notes.append("the server exited during the drain")
                break
            tick += 1.0
            await asyncio.sleep(max(0.0, tick - time.time()))
    finally:
        counter.close()
        if profiler is not None:
            await asyncio.to_thread(_finish_profiler, profiler, options, result)


def _start_profiler(
    pid: int, options: QueueBenchOptions, result: QueueResult
) -> subprocess.Popen[bytes] | None:
    py_spy = Path(sys.executable).with_name("py-spy")
    if not py_spy.exists() or options.profile is None:
        result.notes.append("py-spy was not found beside the interpreter: no profile")
        return None
    argv = [
        str(py_spy),
        "record",
        "-p",
        str(pid),
        "-f",
        "raw",
        "-o",
        str(options.profile),
        "-d",
        str(int(options.profile_seconds)),
        "--nonblocking",
    ]
    return subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def _finish_profiler(
    profiler: subprocess.Popen[bytes], options: QueueBenchOptions, result: QueueResult
) -> None:
    try:
        _, err = profiler.communicate(timeout=options.profile_seconds + 30)
    except subprocess.TimeoutExpired:
        profiler.terminate()
        profiler.communicate(timeout=10)
        result.notes.append("py-spy did not finish in time")
        return
    if profiler.returncode:
        result.notes.append(f"py-spy failed: {err.decode('utf-8', 'replace')[-300:]}")
    else:
        result.remarks.append(f"profile of the drain written to {options.profile}")


# --- output ------------------------------------------------------------------------------


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f} s"


def _duration(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 120:
        return f"{value:,.1f} s"
    return f"{value / 60:,.1f} min"


def result_rows(result: QueueResult) -> list[tuple[str, str]]:
    rows = [
        (
            "parts waiting",
            f"{result.messages:,}"
            + (" (receipts asked for)" if result.receipts else " (no receipts)"),
        ),
        (
            "fill (SqliteStore.accept, 5,000 a batch)",
            f"{result.fill_s:,.1f} s ({result.messages / max(result.fill_s, 1e-9):,.0f} parts/s)",
        ),
        ("database size", f"{result.database_mib:,.0f} MiB"),
        ("server due_batch (parts per queue round)", f"{result.due_batch:,}"),
        (
            "server PYTHONHASHSEED (queue visit order)",
            "random"
            if result.hash_seed is None
            else f"{result.hash_seed} ({', '.join(result.visit_order)})",
        ),
    ]
    if result.operator_index:
        rows.append(("experiment", "index on messages (operator, next_at) added"))
    for n, start in enumerate(result.starts, 1):
        rows += [
            (f"start {n}: until `listening on`", _seconds(start.listening_s)),
            (f"start {n}: until a bind succeeds", _seconds(start.serving_s)),
            (
                f"start {n}: VmRSS idle (VmHWM)",
                f"{start.rss_kib / 1024:,.0f} MiB ({start.hwm_kib / 1024:,.0f} MiB)",
            ),
        ]
        if start.stop_s is not None:
            rows.append((f"start {n}: stop (SIGTERM to exit)", _seconds(start.stop_s)))
    rows += [
        ("drain window after the outage end", _seconds(result.window_s)),
        ("parts delivered in the window", f"{result.drained:,}"),
        ("drain rate over the window", f"{result.rate:,.0f} parts/s"),
        ("drain rate, steady part", f"{result.steady_rate:,.0f} parts/s"),
        ("queue empty after", _duration(result.all_drained_s)),
        ("whole queue at the window's rate", _duration(result.projected_s)),
        ("peak VmRSS during the drain", f"{result.peak_rss_kib / 1024:,.0f} MiB"),
        (
            "machine load average (1 min), start / end",
            f"{result.load_before:.2f} / {result.load_after:.2f}",
        ),
    ]
    if result.receipts:
        rows += [
            ("receipts received in the window", f"{result.receipts_received:,}"),
            ("receipt rate over the window", f"{result.receipt_rate:,.0f} receipts/s"),
            ("receipt rate while parts wait", f"{result.receipt_rate_draining:,.0f} receipts/s"),
            (
                "receipt rate once the queue is empty",
                f"{result.receipt_rate_after:,.0f} receipts/s",
            ),
        ]
    return rows


def plain_report(result: QueueResult) -> str:
    rows = result_rows(result)
    width = max(len(k) for k, _ in rows)
    lines = [f"{k.ljust(width)}  {v}" for k, v in rows]
    machine = machine_description()
    lines.append("machine: " + "; ".join(f"{k} {v}" for k, v in machine.items()))
    lines += [f"note: {n}" for n in [*result.notes, *result.remarks]]
    return "\n".join(lines)


def markdown_report(result: QueueResult, options: QueueBenchOptions, started: datetime) -> str:
    machine = machine_description()
    parts = [
        "# smsc queue benchmark",
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC: {result.messages:,} parts waiting for the end of an "
        f"outage of operator `{OPERATOR}` (throughput unlimited, delay 0, every part DELIVRD); "
        f"{options.starts} starts of the server on the full database; drain observed for at "
        f"most {options.drain_seconds:.0f} s.",
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in machine.items()) + ".",
        "",
        "| figure | value |",
        "|---|---:|",
    ]
    parts += [f"| {k} | {v} |" for k, v in result_rows(result)]
    if result.notes or result.remarks:
        parts += ["", "Notes:", ""] + [f"- {n}" for n in [*result.notes, *result.remarks]]
    return "\n".join(parts) + "\n"


def result_json(result: QueueResult, options: QueueBenchOptions) -> dict[str, Any]:
    raw = dataclasses.asdict(result)
    raw["options"] = {
        k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(options).items()
    }
    raw["machine"] = machine_description()
    return raw


def _parse_args(argv: Sequence[str] | None) -> tuple[argparse.Namespace, QueueBenchOptions]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.queue_bench",
        description="Restart time, memory and drain rate with parts waiting in a queue.",
    )
    parser.add_argument(
        "--messages",
        type=int,
        default=1_000_000,
        help="parts waiting in the queue (default 1000000)",
    )
    parser.add_argument("--batch", type=int, default=5_000, help="parts per accept() call")
    parser.add_argument(
        "--outage-seconds",
        type=float,
        default=60.0,
        help="the outage ends this long after the fill (default 60)",
    )
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=120.0,
        help="watch the drain at most this long (default 120)",
    )
    parser.add_argument(
        "--starts",
        type=int,
        default=2,
        help="server starts measured; the last one drains (default 2)",
    )
    parser.add_argument(
        "--receipts",
        action="store_true",
        help="parts ask for a receipt; a bound receiver takes them",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=QUEUE_CONFIG,
        help="config template (default bench/conf/queues.toml)",
    )
    parser.add_argument(
        "--profile", type=Path, help="record the server with py-spy during the drain (raw stacks)"
    )
    parser.add_argument("--profile-seconds", type=float, default=20.0)
    parser.add_argument(
        "--operator-index",
        action="store_true",
        help="experiment: index waiting parts by (operator, next_at) before the server starts",
    )
    parser.add_argument(
        "--hash-seed",
        type=int,
        help="PYTHONHASHSEED of the server (it fixes the order in which the server visits the "
        "operators' queues; default: random, as in production)",
    )
    parser.add_argument("--out", type=Path, help="write the results as Markdown")
    parser.add_argument("--json", type=Path, help="write the raw results as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    if not 1 <= args.messages <= MAX_MESSAGES:
        parser.error(f"--messages must be 1..{MAX_MESSAGES}")
    if not 1 <= args.batch <= 100_000:
        parser.error("--batch must be 1..100000")
    if args.hash_seed is not None and not 0 <= args.hash_seed <= 4_294_967_295:
        parser.error("--hash-seed must be 0..4294967295")
    if not 1 <= args.starts <= 9:
        parser.error("--starts must be 1..9")
    for name in ("outage_seconds", "drain_seconds", "profile_seconds"):
        if not 0 < getattr(args, name) <= 3600:
            parser.error(f"--{name.replace('_', '-')} must be in (0, 3600] seconds")
    options = QueueBenchOptions(
        messages=args.messages,
        batch=args.batch,
        outage_seconds=args.outage_seconds,
        drain_seconds=args.drain_seconds,
        starts=args.starts,
        receipts=args.receipts,
        config=args.config,
        profile=args.profile,
        profile_seconds=args.profile_seconds,
        operator_index=args.operator_index,
        hash_seed=args.hash_seed,
        verbose=not args.quiet,
    )
    return args, options


def main(argv: Sequence[str] | None = None) -> int:
    args, options = _parse_args(argv)
    started = datetime.now(UTC)
    try:
        result = run_queue_bench(options)
    except (StartError, ConnectionError, TimeoutError) as error:
        print(f"queue benchmark stopped: {error}", file=sys.stderr)
        return 2
    print(plain_report(result))
    if args.out is not None:
        args.out.write_text(markdown_report(result, options, started))
    if args.json is not None:
        args.json.write_text(json.dumps(result_json(result, options), indent=2) + "\n")
    return 0 if result.samples and not result.notes else 1


if __name__ == "__main__":
    raise SystemExit(main())
