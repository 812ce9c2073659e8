"""The windowed SMPP load client, run as its own process so it never shares a GIL with a server.

It binds N transceivers, keeps up to W submit_sm unanswered on each, sends a fixed number of
messages (and stops early at a wall-time limit), times every message from the write of its
submit_sm to the read of its submit_sm_resp, answers every deliver_sm, matches each delivery
receipt to the message ids it was given, and prints one JSON object on stdout::

    python -m bench.load --port 2775 --system-id bench --password secret \\
        --binds 4 --window 64 --count 20000 --receipts

Frames are prepared once by the codec; per message only the sequence number and the digits of
the destination number are patched in, so the client costs little next to the server it drives.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import math
import re
import resource
import struct
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from smsc.pdu.codec import HEADER, encode
from smsc.pdu.constants import CommandId, CommandStatus, DataCoding, Npi, Tag, Ton
from smsc.pdu.errors import FramingError
from smsc.pdu.framing import FrameBuffer
from smsc.pdu.pdus import BindTransceiver, SubmitSm, Unbind

__all__ = [
    "LoadResult",
    "LoadSettings",
    "ReceiptLedger",
    "main",
    "percentile",
    "read_receipt",
    "run_load",
    "tally_receipt",
]

MAX_BINDS = 64
MAX_WINDOW = 1024
MAX_COUNT = 2_000_000
MESSAGE_TEXT = b"Benchmark message from the smsc load client"
SOURCE_ADDR = "Bench"

_RESPONSE = 0x80000000
_SUBMIT_SM_RESP = int(CommandId.SUBMIT_SM_RESP)
_DELIVER_SM = int(CommandId.DELIVER_SM)
_DELIVER_SM_RESP = int(CommandId.DELIVER_SM_RESP)
_ENQUIRE_LINK = int(CommandId.ENQUIRE_LINK)
_UNBIND = int(CommandId.UNBIND)
_UNBIND_RESP = int(CommandId.UNBIND_RESP)
_BIND_TRANSCEIVER_RESP = int(CommandId.BIND_TRANSCEIVER_RESP)
_GENERIC_NACK = int(CommandId.GENERIC_NACK)
_RECEIPT_BIT = 0x04
_RECEIPTED_MESSAGE_ID = int(Tag.RECEIPTED_MESSAGE_ID)
_MESSAGE_PAYLOAD = int(Tag.MESSAGE_PAYLOAD)
_TLV_HEAD = struct.Struct(">HH")
_SEQUENCE = struct.Struct(">I")
_DELIVER_SM_RESP_HEAD = struct.Struct(">IIIIB")  # header + empty message_id
_MAX_SEQUENCE = 0x7FFFFFFF


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadSettings:
    host: str = "127.0.0.1"
    port: int
    system_id: str
    password: str
    binds: int = 1
    window: int = 10
    count: int = 1000
    receipts: bool = False
    destination_base: int = 380671000000
    max_seconds: float = 60.0
    receipt_timeout: float = 60.0
    latency_log: str = ""  # write every submit's latency here, in the order answered
    connect_timeout: float = 10.0


@dataclass(slots=True, kw_only=True)
class LoadResult:
    """Everything one run measured; printed as one JSON object."""

    binds: int
    window: int
    receipts: bool
    count: int
    sent: int = 0
    acked_ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0
    throughput: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    receipts_expected: int = 0
    receipts_received: int = 0
    receipts_duplicates: int = 0
    receipts_missing: int = 0
    receipts_unknown: int = 0
    receipts_mismatched: int = 0
    receipts_elapsed_s: float = 0.0
    receipts_throughput: float = 0.0
    receipt_stats: dict[str, int] = field(default_factory=dict)
    other_deliver_sm: int = 0
    duplicate_message_ids: int = 0
    timed_out: bool = False
    receipts_timed_out: bool = False
    client_cpu_s: float = 0.0
    client_cpu_us_per_msg: float = 0.0
    fatal: str = ""

    def as_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending sequence (0.0 for an empty one)."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


# service_type, source ton/npi/addr, dest ton/npi/addr, esm_class (group 1), protocol_id,
# priority_flag, schedule_delivery_time, validity_period, registered_delivery .. sm_default_msg_id:
# everything of a deliver_sm body up to sm_length, in one match.
_DELIVER_SM_HEAD = re.compile(
    rb"[^\x00]*\x00..[^\x00]*\x00..[^\x00]*\x00(.)..[^\x00]*\x00[^\x00]*\x00....", re.DOTALL
)


def read_receipt(frame: bytes) -> tuple[bytes, bytes, bytes] | None:
    """(receipted_message_id TLV, id: of the text, stat: of the text) of a receipt deliver_sm.

    None when the deliver_sm is not a delivery receipt (esm_class without bit 0x04). A missing
    part is returned empty. Raises ValueError or IndexError for a frame it cannot read.
    """
    head = _DELIVER_SM_HEAD.match(frame, 16)
    if head is None:
        raise ValueError("deliver_sm body ends inside its mandatory fields")
    if not frame[head.start(1)] & _RECEIPT_BIT:
        return None
    pos = head.end()
    length = frame[pos]
    pos += 1
    text = frame[pos : pos + length]
    pos += length
    receipted = b""
    end = len(frame)
    while pos + 4 <= end:
        tag, size = _TLV_HEAD.unpack_from(frame, pos)
        pos += 4
        if tag == _RECEIPTED_MESSAGE_ID:
            receipted = frame[pos : pos + size].rstrip(b"\x00")
            if text:
                break
        elif tag == _MESSAGE_PAYLOAD and not text:
            text = frame[pos : pos + size]
        pos += size
    if receipted and text.startswith(b"id:%s " % receipted):
        text_id = receipted  # the usual case, checked in one step
    elif text.startswith(b"id:"):
        space = text.find(b" ", 3)
        text_id = text[3:] if space < 0 else text[3:space]
    else:
        text_id = b""
    at = text.find(b" stat:", len(text_id))
    if at < 0:
        return receipted, text_id, b""
    space = text.find(b" ", at + 6)
    return receipted, text_id, text[at + 6 :] if space < 0 else text[at + 6 : space]


class ReceiptLedger:
    """Matches receipts to acknowledged message ids, in whichever order the two arrive.

    Holds at most ``limit`` receipt ids that match no acknowledged message; past that it only
    counts them.
    """

    __slots__ = ("acked", "duplicates", "limit", "matched", "overflow", "seen", "stats")

    def __init__(self, limit: int) -> None:
        self.acked: set[bytes] = set()
        self.seen: dict[bytes, int] = {}
        self.stats: dict[bytes, int] = {}
        self.matched = 0
        self.duplicates = 0
        self.overflow = 0
        self.limit = limit

    def message_acked(self, message_id: bytes) -> bool:
        """Record an acknowledged id; False when the server gave that id before."""
        acked = self.acked
        if message_id in acked:
            return False
        acked.add(message_id)
        if message_id in self.seen:
            self.matched += 1
        return True

    def receipt(self, message_id: bytes, stat: bytes) -> None:
        seen = self.seen
        stats = self.stats
        if stat in stats:
            stats[stat] += 1
        elif len(stats) < 64:
            stats[stat] = 1
        times = seen.get(message_id, 0)
        if times:
            seen[message_id] = times + 1
            self.duplicates += 1
        elif message_id in self.acked:
            seen[message_id] = 1
            self.matched += 1
        elif len(seen) - self.matched < self.limit:
            seen[message_id] = 1
        else:
            self.overflow += 1

    @property
    def received(self) -> int:
        """Receipts that matched an acknowledged message, each id counted once."""
        return self.matched

    @property
    def unknown(self) -> int:
        return len(self.seen) - self.matched + self.overflow


class ReceiptCounts(Protocol):
    """What :func:`tally_receipt` counts into."""

    ledger: ReceiptLedger
    mismatched: int
    other_deliver_sm: int


def tally_receipt(counts: ReceiptCounts, frame: bytes) -> None:
    """A deliver_sm frame counted: a receipt into the ledger (its TLV id and text id compared),
    anything else as another deliver_sm."""
    try:
        parts = read_receipt(frame)
    except (ValueError, IndexError):
        parts = None
    if parts is None:
        counts.other_deliver_sm += 1
        return
    receipted, text_id, stat = parts
    if receipted and text_id and receipted != text_id:
        counts.mismatched += 1
    counts.ledger.receipt(receipted or text_id, stat)


@dataclass(slots=True)
class _Shared:
    """State shared by every bind of one run."""

    settings: LoadSettings
    submit_frame: bytes
    digits_at: int
    digits_length: int
    ledger: ReceiptLedger
    done: asyncio.Future[None]
    receipts_done: asyncio.Future[None]
    next_index: int = 0
    answered: int = 0
    acked_ok: int = 0
    stopped: bool = False
    latencies: list[float] = field(default_factory=list)
    errors: dict[int, int] = field(default_factory=dict)
    first_write: float = 0.0
    last_answer: float = 0.0
    last_receipt: float = 0.0
    mismatched: int = 0
    other_deliver_sm: int = 0
    duplicate_ids: int = 0

    def check_done(self) -> None:
        if (
            not self.done.done()
            and self.answered >= self.next_index
            and (self.stopped or self.next_index >= self.settings.count)
        ):
            self.done.set_result(None)
        if (
            self.settings.receipts
            and self.done.done()
            and not self.receipts_done.done()
            and self.ledger.matched >= len(self.ledger.acked)
        ):
            self.receipts_done.set_result(None)

    def fail(self, reason: str) -> None:
        for future in (self.done, self.receipts_done):
            if not future.done():
                future.set_exception(ConnectionError(reason))


class _Bind(asyncio.Protocol):
    """One transceiver connection."""

    def __init__(self, shared: _Shared) -> None:
        self.shared = shared
        self.frames = FrameBuffer()
        self.transport: asyncio.Transport | None = None
        self.sequence = 0
        self.sent_at: dict[int, float] = {}
        self.bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.unbound: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.unbound.done():
            self.unbound.set_result(None)
        if not self.bound.done():
            self.bound.set_exception(ConnectionError("connection closed before bind_resp"))
        if not self.closing:
            self.shared.fail(f"connection lost during the run ({exc})")

    def next_sequence(self) -> int:
        self.sequence = self.sequence % _MAX_SEQUENCE + 1
        return self.sequence

    def write(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    def send_bind(self) -> None:
        settings = self.shared.settings
        self.write(
            encode(
                BindTransceiver(
                    sequence_number=self.next_sequence(),
                    system_id=settings.system_id,
                    password=settings.password,
                    system_type="bench",
                )
            )
        )

    def send_unbind(self) -> None:
        self.closing = True
        self.write(encode(Unbind(sequence_number=self.next_sequence())))

    def fill(self, out: list[bytes | bytearray]) -> None:
        """Append submit_sm frames to ``out`` until the window is full or nothing is left."""
        shared = self.shared
        count = shared.settings.count
        window = shared.settings.window
        sent_at = self.sent_at
        if shared.stopped or len(sent_at) >= window or shared.next_index >= count:
            return
        template = shared.submit_frame
        at = shared.digits_at
        until = at + shared.digits_length
        base = shared.settings.destination_base
        pack_into = _SEQUENCE.pack_into
        now = time.perf_counter()
        if not shared.first_write:
            shared.first_write = now
        first = shared.next_index
        sequence = self.sequence
        room = min(window - len(sent_at), count - first)
        for index in range(first, first + room):
            frame = bytearray(template)
            sequence = sequence % _MAX_SEQUENCE + 1
            pack_into(frame, 12, sequence)
            frame[at:until] = b"%d" % (base + index)
            sent_at[sequence] = now
            out.append(frame)
        shared.next_index = first + room
        self.sequence = sequence

    def data_received(self, data: bytes) -> None:
        frames = self.frames
        frames.feed(data)
        shared = self.shared
        out: list[bytes | bytearray] = []
        now = time.perf_counter()
        sent_at = self.sent_at
        latencies = shared.latencies
        ledger = shared.ledger if shared.settings.receipts else None
        answered = acked = 0
        unpack = HEADER.unpack_from
        try:
            while (frame := frames.next_frame()) is not None:
                _, command_id, status, sequence = unpack(frame)
                if command_id == _SUBMIT_SM_RESP:
                    sent = sent_at.pop(sequence, None)
                    if sent is None:
                        continue  # a response to nothing we sent
                    answered += 1
                    if status:
                        shared.errors[status] = shared.errors.get(status, 0) + 1
                        continue
                    acked += 1
                    latencies.append(now - sent)
                    if ledger is not None and not ledger.message_acked(frame[16:-1]):
                        shared.duplicate_ids += 1
                elif command_id == _DELIVER_SM:
                    self.on_deliver_sm(frame, now)
                    out.append(_DELIVER_SM_RESP_HEAD.pack(17, _DELIVER_SM_RESP, 0, sequence, 0))
                elif command_id == _ENQUIRE_LINK:
                    out.append(HEADER.pack(16, _ENQUIRE_LINK | _RESPONSE, 0, sequence))
                elif command_id == _UNBIND:
                    self.closing = True
                    out.append(HEADER.pack(16, _UNBIND_RESP, 0, sequence))
                elif command_id == _UNBIND_RESP:
                    if not self.unbound.done():
                        self.unbound.set_result(None)
                elif command_id == _BIND_TRANSCEIVER_RESP:
                    if not self.bound.done():
                        self.bound.set_result(status)
                elif command_id == _GENERIC_NACK and sent_at.pop(sequence, None) is not None:
                    answered += 1
                    key = _GENERIC_NACK | status
                    shared.errors[key] = shared.errors.get(key, 0) + 1
        except FramingError as error:
            shared.fail(f"unreadable stream from the server: {error}")
            return
        if answered:
            shared.answered += answered
            shared.acked_ok += acked
            shared.last_answer = now
        if shared.first_write and not self.closing:
            self.fill(out)
        if out:
            self.write(b"".join(out))
        shared.check_done()

    def on_deliver_sm(self, frame: bytes, now: float) -> None:
        shared = self.shared
        tally_receipt(shared, frame)
        shared.last_receipt = now


def _submit_template(settings: LoadSettings) -> tuple[bytes, int, int]:
    """The submit_sm frame every message starts from and where its destination digits are."""
    destination = str(settings.destination_base)
    last = str(settings.destination_base + settings.count - 1)
    if len(last) != len(destination):
        raise ValueError(
            f"destination numbers {destination}..{last} do not all have {len(destination)} digits"
        )
    frame = encode(
        SubmitSm(
            source_addr_ton=Ton.ALPHANUMERIC,
            source_addr_npi=Npi.UNKNOWN,
            source_addr=SOURCE_ADDR,
            dest_addr_ton=Ton.INTERNATIONAL,
            dest_addr_npi=Npi.ISDN,
            destination_addr=destination,
            registered_delivery=1 if settings.receipts else 0,
            data_coding=DataCoding.DEFAULT,
            short_message=MESSAGE_TEXT,
        )
    )
    at = frame.index(destination.encode("ascii") + b"\x00", 16)
    return frame, at, len(destination)


def _status_name(key: int) -> str:
    if key & _RESPONSE:
        return "generic_nack:" + CommandStatus.name_of(key & ~_RESPONSE)
    return CommandStatus.name_of(key)


async def _connect(shared: _Shared) -> list[_Bind]:
    loop = asyncio.get_running_loop()
    settings = shared.settings
    binds: list[_Bind] = []
    for _ in range(settings.binds):
        _, bind = await asyncio.wait_for(
            loop.create_connection(lambda: _Bind(shared), settings.host, settings.port),
            settings.connect_timeout,
        )
        binds.append(bind)
        bind.send_bind()
    for bind in binds:
        status = await asyncio.wait_for(bind.bound, settings.connect_timeout)
        if status:
            raise ConnectionError(f"bind_transceiver refused: {CommandStatus.name_of(status)}")
    return binds


async def _close(binds: list[_Bind], timeout: float) -> None:
    for bind in binds:
        if bind.transport is not None and not bind.transport.is_closing():
            bind.send_unbind()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(b.unbound for b in binds)), timeout)
    for bind in binds:
        bind.closing = True
        if bind.transport is not None:
            bind.transport.close()


async def run_load(settings: LoadSettings) -> LoadResult:
    """Run one load test and return what it measured (``fatal`` says why a run broke off)."""
    result = LoadResult(
        binds=settings.binds,
        window=settings.window,
        receipts=settings.receipts,
        count=settings.count,
    )
    frame, at, length = _submit_template(settings)
    loop = asyncio.get_running_loop()
    shared = _Shared(
        settings=settings,
        submit_frame=frame,
        digits_at=at,
        digits_length=length,
        ledger=ReceiptLedger(limit=settings.count + 1000),
        done=loop.create_future(),
        receipts_done=loop.create_future(),
    )
    cpu_before = _cpu_seconds()
    binds: list[_Bind] = []
    try:
        binds = await _connect(shared)
        for bind in binds:
            out: list[bytes | bytearray] = []
            bind.fill(out)
            if out:
                bind.write(b"".join(out))
        shared.check_done()
        try:
            await asyncio.wait_for(asyncio.shield(shared.done), settings.max_seconds)
        except TimeoutError:
            result.timed_out = True
            shared.stopped = True
            shared.check_done()
            with contextlib.suppress(TimeoutError):  # let what is in flight come back
                await asyncio.wait_for(asyncio.shield(shared.done), 5.0)
        shared.check_done()
        if settings.receipts and shared.done.done():
            try:
                await asyncio.wait_for(
                    asyncio.shield(shared.receipts_done), settings.receipt_timeout
                )
            except TimeoutError:
                result.receipts_timed_out = True
    except (OSError, ConnectionError, TimeoutError) as error:
        result.fatal = f"{type(error).__name__}: {error}"
    finally:
        for future in (shared.done, shared.receipts_done):
            if future.done() and not future.cancelled():
                future.exception()  # consumed, so asyncio does not log it
            else:
                future.cancel()
        await _close(binds, 5.0)
    cpu = _cpu_seconds() - cpu_before
    _fill_result(result, shared, cpu)
    return result


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _fill_result(result: LoadResult, shared: _Shared, cpu: float) -> None:
    result.sent = shared.next_index
    result.acked_ok = shared.acked_ok
    result.errors = {_status_name(k): v for k, v in sorted(shared.errors.items())}
    if shared.first_write and shared.last_answer > shared.first_write:
        result.elapsed_s = round(shared.last_answer - shared.first_write, 6)
        result.throughput = round(shared.acked_ok / result.elapsed_s, 1)
    if shared.settings.latency_log:
        with open(shared.settings.latency_log, "w") as log:
            log.writelines(f"{latency * 1000:.3f}\n" for latency in shared.latencies)
    ordered = sorted(shared.latencies)
    result.p50_ms = round(percentile(ordered, 0.50) * 1000, 3)
    result.p99_ms = round(percentile(ordered, 0.99) * 1000, 3)
    result.max_ms = round(ordered[-1] * 1000, 3) if ordered else 0.0
    ledger = shared.ledger
    if shared.settings.receipts:
        result.receipts_expected = len(ledger.acked)
        result.receipts_received = ledger.received
        result.receipts_duplicates = ledger.duplicates
        result.receipts_missing = len(ledger.acked) - ledger.matched
        result.receipts_unknown = ledger.unknown
        result.duplicate_message_ids = shared.duplicate_ids
        if shared.first_write and shared.last_receipt > shared.first_write:
            result.receipts_elapsed_s = round(shared.last_receipt - shared.first_write, 6)
            result.receipts_throughput = round(ledger.received / result.receipts_elapsed_s, 1)
    else:
        result.receipts_unknown = ledger.unknown
    result.receipts_mismatched = shared.mismatched
    result.receipt_stats = {k.decode("latin-1") or "?": v for k, v in sorted(ledger.stats.items())}
    result.other_deliver_sm = shared.other_deliver_sm
    result.client_cpu_s = round(cpu, 3)
    if shared.answered:
        result.client_cpu_us_per_msg = round(cpu / shared.answered * 1e6, 1)


def _parse_args(argv: Sequence[str] | None) -> LoadSettings:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description="Windowed SMPP load client; prints JSON."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--system-id", default="bench")
    parser.add_argument("--password", default="bench")
    parser.add_argument("--binds", type=int, default=1, help=f"transceiver binds, 1..{MAX_BINDS}")
    parser.add_argument(
        "--window", type=int, default=10, help=f"unanswered submit_sm per bind, 1..{MAX_WINDOW}"
    )
    parser.add_argument("--count", type=int, default=1000, help=f"messages, 1..{MAX_COUNT}")
    parser.add_argument(
        "--receipts", action="store_true", help="ask for receipts (registered_delivery=1)"
    )
    parser.add_argument(
        "--destination-base",
        type=int,
        default=380671000000,
        help="first destination number; message i goes to base + i (default 380671000000)",
    )
    parser.add_argument(
        "--max-seconds", type=float, default=60.0, help="stop sending after this long"
    )
    parser.add_argument(
        "--receipt-timeout", type=float, default=60.0, help="wait this long for receipts"
    )
    parser.add_argument(
        "--latency-log", default="", metavar="FILE",
        help="write each submit's latency (ms) to FILE, one per line in the order answered "
        "(to see when slow answers happen)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.binds <= MAX_BINDS:
        parser.error(f"--binds must be 1..{MAX_BINDS}")
    if not 1 <= args.window <= MAX_WINDOW:
        parser.error(f"--window must be 1..{MAX_WINDOW}")
    if not 1 <= args.count <= MAX_COUNT:
        parser.error(f"--count must be 1..{MAX_COUNT}")
    for name in ("max_seconds", "receipt_timeout"):
        if not 0 < getattr(args, name) <= 3600:
            parser.error(f"--{name.replace('_', '-')} must be in (0, 3600] seconds")
    if args.destination_base <= 0:
        parser.error("--destination-base must be a positive number")
    settings = LoadSettings(
        host=args.host,
        port=args.port,
        system_id=args.system_id,
        password=args.password,
        binds=args.binds,
        window=args.window,
        count=args.count,
        receipts=args.receipts,
        destination_base=args.destination_base,
        max_seconds=args.max_seconds,
        receipt_timeout=args.receipt_timeout,
        latency_log=args.latency_log,
    )
    try:
        _submit_template(settings)
    except ValueError as error:
        parser.error(str(error))
    return settings


def main(argv: Sequence[str] | None = None) -> int:
    settings = _parse_args(argv)
    result = asyncio.run(run_load(settings))
    sys.stdout.write(result.as_json() + "\n")
    sys.stdout.flush()
    return 1 if result.fatal else 0


if __name__ == "__main__":
    raise SystemExit(main())
