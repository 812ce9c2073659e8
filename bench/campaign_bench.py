"""The campaign benchmark: a large contact list from CSV to sent, beside the SMPP path, same run.

    python -m bench.campaign_bench [--contacts 100000] [--out FILE] [--json]

With the benchmark's server config (bench/conf/smsc.toml: an operator that delivers at once)
and the CLI as a user runs it:

1. ``smsc list import`` of a CSV of ``--contacts`` rows (bench.contacts_bench.write_csv: 1%
   invalid, 1% repeats): rows a second (the CLI's start included);
2. ``smsc campaign preview`` of a personalised text over the list: seconds;
3. ``smsc serve``, then ``smsc campaign create`` and ``start``: the running server sends the
   campaign through its submit path (intake, group commit, credit, acceptance), a receipt per
   message to the account's receiver bind (a thread here answers every deliver_sm). The rate is
   the contacts committed after the campaign's first commit over the time from it to the last
   (the marks' ``at`` in the store; the wall time from ``start`` to done, the server's poll
   included, is given too); the server's RSS is read before the start, at its peak while
   sending (sampled every 0.2 s) and after;
4. on the same server, the SMPP load client (bench.run's load: 1 bind, window 64, a receipt
   per message) on an account of its own, for the same number of messages: the campaign's
   rate over it (goal: 0.8 or more). With ``--repeat K`` a campaign (a new one to the same
   list) and an SMPP load run in turn K times: each campaign's rate over that of the SMPP load
   right after it, and the median of these ratios, so a busy spell of the machine hits both
   sides of a ratio alike.

Every subprocess is started here and stopped by its own PID; every wait has a time limit.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.contacts_bench import write_csv
from bench.run import (
    BENCH_CREDIT,
    LISTENING,
    LOCAL_LISTEN,
    BenchOptions,
    ChildProcess,
    Scenario,
    StartError,
    Target,
    run_load,
    run_to_end,
    smsc_command,
)
from smsc.pdu.codec import decode, encode
from smsc.pdu.framing import FrameBuffer
from smsc.pdu.pdus import BindReceiver, DeliverSm, EnquireLink, Unbind
from smsc.store.campaign_records import CampaignState
from smsc.store.sqlite import SqliteStore

__all__ = ["ReceiptSink", "main", "run_campaign_bench"]

SYSTEM_ID = "bench"  # the campaigns' account
SMPP_ID = "benchsmpp"  # the SMPP load's account (its receipts to its own binds)
PASSWORD = "benchpw"
TEXT = "Hello {name|customer}! Spring sale in {city|your city}: -20% until Sunday."
SMPP = Scenario(binds=1, window=64, receipts=True)
GOAL = 0.8
SAMPLE = 0.2  # seconds between looks at the campaign and the server's RSS


class ReceiptSink:
    """A receiver bind that answers every deliver_sm with ESME_ROK and counts them (a thread
    of its own, blocking socket; stopped by :meth:`stop`)."""

    def __init__(self, host: str, port: int, system_id: str, password: str) -> None:
        self.sock = socket.create_connection((host, port), timeout=10.0)
        self.sock.sendall(encode(BindReceiver(sequence_number=1, system_id=system_id,
                                              password=password)))
        self.frames = FrameBuffer()
        self.received = 0
        self.bound = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="receipt-sink", daemon=True)
        self._thread.start()
        if not self.bound.wait(10.0):
            self.stop()
            raise StartError("the receipt sink could not bind")

    def _run(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                data = self.sock.recv(1 << 16)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            self.frames.feed(data)
            out: list[bytes] = []
            while (frame := self.frames.next_frame()) is not None:
                pdu = decode(frame)
                if isinstance(pdu, DeliverSm):
                    self.received += 1
                    out.append(encode(pdu.response()))
                elif isinstance(pdu, EnquireLink):
                    out.append(encode(pdu.response()))
                elif pdu.command_id & 0x80000000 and pdu.command_status == 0:
                    self.bound.set()
            if out:
                self.sock.sendall(b"".join(out))

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self.sock.sendall(encode(Unbind(sequence_number=2)))
        self._thread.join(5.0)
        self.sock.close()


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cli(options: BenchOptions, db: Path, directory: Path, *args: str,
         timeout: float = 600.0) -> tuple[str, float]:
    """``smsc ARGS`` to its end: its output and how long it took."""
    started = time.perf_counter()
    finished = run_to_end(smsc_command(options, db, *args), cwd=directory, timeout=timeout)
    seconds = time.perf_counter() - started
    if finished is None or finished[0]:
        detail = "timed out" if finished is None else finished[2][-2000:]
        raise StartError(f"`smsc {' '.join(args[:3])}` failed: {detail}")
    return finished[1], seconds


@contextlib.contextmanager
def _serve(options: BenchOptions, db: Path, directory: Path) -> Iterator[Target]:
    child = ChildProcess(smsc_command(options, db, "serve", "--listen", LOCAL_LISTEN),
                         cwd=directory, name="smsc")
    try:
        found = child.wait_for([LISTENING], options.startup_timeout)
        if found is None:
            raise StartError("smsc serve did not start\n" + child.output_tail())
        yield Target(name="smsc", host=found[0]["host"], port=int(found[0]["port"]),
                     system_id=SYSTEM_ID, password=PASSWORD, child=child)
    finally:
        child.stop(options.stop_timeout)
        child.close()


@dataclass(frozen=True, slots=True)
class _Sent:
    sent: int
    rate: float  # contacts committed after the first commit, over the time to the last
    halves: tuple[float, float]  # the rate over the first and the second half of that time
    wall: float  # from `campaign start` to the campaign seen done (polls included)
    state: str
    receipts: int
    peak_kib: int
    cpu_us_per_msg: float  # the server's CPU from start to the last receipt, per message


def _rates(times: list[float]) -> tuple[float, tuple[float, float]]:
    if len(times) < 2:
        return 0.0, (0.0, 0.0)
    first, last = min(times), max(times)
    if last <= first:
        return 0.0, (0.0, 0.0)
    middle = (first + last) / 2
    early = sum(1 for t in times if first < t <= middle)
    late = sum(1 for t in times if t > middle)
    half = (last - first) / 2
    return (early + late) / (last - first), (early / half, late / half)


def _send(options: BenchOptions, db: Path, directory: Path, target: Target, name: str,
          limit: float) -> _Sent:
    """Create and start a campaign on the running server and wait for it to end and for its
    receipts."""
    sink = ReceiptSink(target.host, target.port, SYSTEM_ID, PASSWORD)
    pid = target.child.pid
    peak = _rss_kib(pid)
    store = SqliteStore(db)
    cpu_before = target.child.cpu_seconds()
    try:
        _cli(options, db, directory, "campaign", "create", name, "--account", SYSTEM_ID,
             "--list", "big", "--text", TEXT, "--from", "Shop")
        _, took = _cli(options, db, directory, "campaign", "start", name, "--account",
                       SYSTEM_ID)
        started = time.monotonic() - took
        (campaign,) = [c for c in store.campaigns(SYSTEM_ID) if c.name == name]
        deadline = time.monotonic() + limit
        state = campaign.state
        while state == CampaignState.RUNNING and time.monotonic() < deadline:
            time.sleep(SAMPLE)
            peak = max(peak, _rss_kib(pid))
            found = store.campaign(campaign.id)
            state = found.state if found is not None else CampaignState.CANCELLED
        wall = time.monotonic() - started
        times = [m.at for m in _marks(store, campaign.id)]
        counts = store.campaign_counts(campaign.id)
        sent = sum(n for k, n in counts.items() if k == "sent")
        receipts_deadline = time.monotonic() + options.receipt_timeout
        while sink.received < sent and time.monotonic() < receipts_deadline:
            time.sleep(SAMPLE)
            peak = max(peak, _rss_kib(pid))
        cpu_after = target.child.cpu_seconds()
        cpu = (cpu_after - cpu_before) / sent * 1e6 \
            if cpu_before is not None and cpu_after is not None and sent else 0.0
        rate, halves = _rates(times)
        return _Sent(sent=sent, rate=rate, halves=halves, wall=wall, state=str(state),
                     receipts=sink.received, peak_kib=max(peak, _rss_kib(pid)),
                     cpu_us_per_msg=round(cpu, 1))
    finally:
        sink.stop()
        store.close()


def _marks(store: SqliteStore, campaign_id: int) -> Iterator[Any]:
    after = ""
    for _ in range(10_000):
        page = store.campaign_marks(campaign_id, after=after, limit=1000)
        if not page:
            return
        yield from page
        after = page[-1].number


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2] if ordered else 0.0


def run_campaign_bench(contacts: int, options: BenchOptions, send_limit: float = 600.0,
                       repeat: int = 1) -> dict[str, Any]:
    """Import and preview once; then, on one running server, ``repeat`` times in turn: a
    campaign to the whole list, and the SMPP load (its own account) for as many messages."""
    figures: dict[str, Any] = {"contacts_in_file": contacts}
    with tempfile.TemporaryDirectory(prefix="smsc-campaign-bench-") as work:
        directory = Path(work)
        db = directory / "bench.db"
        csv_path = directory / "contacts.csv"
        write_csv(csv_path, contacts)
        for system_id in (SYSTEM_ID, SMPP_ID):
            _cli(options, db, directory, "account", "add", system_id, "--password", PASSWORD,
                 "--credit", BENCH_CREDIT)
        _cli(options, db, directory, "list", "create", "big", "--account", SYSTEM_ID,
             "--country", "UA")
        out, seconds = _cli(options, db, directory, "list", "import", "big", str(csv_path),
                            "--account", SYSTEM_ID, "--json")
        summary = json.loads(out)
        figures.update(imported=summary.get("added"), import_seconds=round(seconds, 2),
                       import_rows_per_second=round(contacts / seconds))
        out, seconds = _cli(options, db, directory, "campaign", "preview", "--list", "big",
                            "--account", SYSTEM_ID, "--text", TEXT, "--from", "Shop", "--json",
                            "--rows", "0")
        preview = json.loads(out)
        figures.update(preview_seconds=round(seconds, 2),
                       preview_contacts_per_second=round(contacts / seconds),
                       preview_parts=preview.get("parts"))
        campaigns: list[_Sent] = []
        smpp_runs: list[dict[str, Any]] = []
        with _serve(options, db, directory) as target:
            pid = target.child.pid
            figures["rss_before_kib"] = _rss_kib(pid)
            smpp_target = dataclasses.replace(target, system_id=SMPP_ID)
            for run in range(max(1, repeat)):
                sent = _send(options, db, directory, target, f"big{run + 1}", send_limit)
                campaigns.append(sent)
                smpp = run_load(smpp_target, SMPP,
                                dataclasses.replace(options, count=max(1, sent.sent)))
                if smpp.get("fatal"):
                    raise StartError(f"the SMPP load failed: {smpp['fatal']}")
                smpp_runs.append(smpp)
            figures["rss_peak_kib"] = max([c.peak_kib for c in campaigns] + [_rss_kib(pid)])
            figures["rss_after_kib"] = _rss_kib(pid)
    last = campaigns[-1]
    rate = _median([c.rate for c in campaigns])
    smpp_rate = _median([float(r.get("throughput", 0.0)) for r in smpp_runs])
    figures.update(
        campaign_sent=last.sent, campaign_state=last.state,
        campaign_wall_seconds=round(last.wall, 2), campaign_per_second=round(rate),
        campaign_runs_per_second=[round(c.rate) for c in campaigns],
        campaign_halves_per_second=[[round(h) for h in c.halves] for c in campaigns],
        campaign_receipts=last.receipts,
        campaign_server_cpu_us_per_msg=[c.cpu_us_per_msg for c in campaigns],
        smpp_server_cpu_us_per_msg=[r.get("server_cpu_us_per_msg") for r in smpp_runs],
        smpp_messages=smpp_runs[-1].get("acked_ok"), smpp_per_second=round(smpp_rate),
        smpp_runs_per_second=[round(float(r.get("throughput", 0.0))) for r in smpp_runs],
        smpp_receipts=smpp_runs[-1].get("receipts_received"),
        campaign_over_smpp_runs=[round(c.rate / float(r["throughput"]), 2)
                                 if r.get("throughput") else 0.0
                                 for c, r in zip(campaigns, smpp_runs, strict=True)],
        campaign_over_smpp=round(_median([c.rate / float(r["throughput"])
                                          for c, r in zip(campaigns, smpp_runs, strict=True)
                                          if r.get("throughput")]), 2) if smpp_rate else None)
    return figures


def _markdown(figures: dict[str, Any]) -> str:
    rows = [
        ("import (`smsc list import`, CLI start included)",
         f"{figures['import_seconds']} s: {figures['import_rows_per_second']:,} rows/s"),
        ("preview (`smsc campaign preview`)",
         f"{figures['preview_seconds']} s: {figures['preview_contacts_per_second']:,} "
         "contacts/s"),
        ("campaign through `smsc serve` (a receipt each, to a receiver bind)",
         f"{figures['campaign_sent']:,} sent, {figures['campaign_per_second']:,} msg/s "
         f"(runs {figures['campaign_runs_per_second']}; "
         f"{figures['campaign_wall_seconds']} s from start to done)"),
        ("SMPP, 1 bind, window 64, a receipt each (same server, in turn)",
         f"{figures['smpp_messages']:,}: {figures['smpp_per_second']:,} msg/s "
         f"(runs {figures['smpp_runs_per_second']})"),
        ("campaign / SMPP, each campaign over the SMPP load right after it (median)",
         f"{figures['campaign_over_smpp']} (runs {figures['campaign_over_smpp_runs']}; "
         f"goal {GOAL})"),
        ("server CPU per message, campaign / SMPP (each run)",
         f"{figures['campaign_server_cpu_us_per_msg']} / "
         f"{figures['smpp_server_cpu_us_per_msg']} us"),
        ("server RSS at start / peak while sending a campaign / at the end",
         f"{figures['rss_before_kib'] // 1024} / {figures['rss_peak_kib'] // 1024} / "
         f"{figures['rss_after_kib'] // 1024} MiB"),
    ]
    return "\n".join(["| Figure | Value |", "|---|---|",
                      *[f"| {a} | {b} |" for a, b in rows]])


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.campaign_bench",
                                     description=__doc__.split("\n", 1)[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--send-limit", type=float, default=600.0,
                        help="seconds the campaign may take at most")
    parser.add_argument("--max-seconds", type=float, default=120.0,
                        help="seconds the SMPP load may take at most")
    parser.add_argument("--repeat", type=int, default=1,
                        help="campaigns and SMPP loads, in turn (medians shown)")
    parser.add_argument("--out", type=Path, default=None, help="write the table as Markdown")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    options = BenchOptions(max_seconds=args.max_seconds, receipt_timeout=60.0)
    figures = run_campaign_bench(args.contacts, options, args.send_limit, args.repeat)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:32} {value}")
        print(_markdown(figures))
    if args.out:
        args.out.write_text(_markdown(figures) + "\n")
    return figures


if __name__ == "__main__":
    main()
    sys.exit(0)
