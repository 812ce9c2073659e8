"""The soak's well-behaved customer (:mod:`bench.soak`), in a process of its own; prints JSON.

    python -m bench.soak_bystander --port P --system-id ID --password PW --rate 50 \\
        --warmup 30 --seconds 1800 [--interval 60]

One transceiver bind from 127.0.0.1 submits at a steady ``--rate`` (a receipt asked for each),
answers every deliver_sm at once, and times every submit from its write to its submit_sm_resp.
Once bound it prints ``{"attack_at": T}``: the wall-clock time ``--warmup`` seconds later, when
the hostile peers are to start. Submits are counted in the interval in which they were sent:
"warm-up" before T, then interval 0, 1, ... of ``--interval`` seconds. Every
``--bind-every`` seconds a second connection binds as a transmitter and unbinds, to time a
legitimate bind. ``--seconds`` after T it stops sending, waits for every answer and every receipt
(at most ``--receipt-timeout``), unbinds and prints what it saw: "nothing lost" means every
submit answered ESME_ROK, every receipt received exactly once, matched by message id.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import struct
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.load import ReceiptLedger, percentile, tally_receipt
from bench.soak_wire import (
    bind_frame,
    connect,
    count,
    header,
    numbered,
    read_frame,
    status_name,
    submit_frame,
)
from smsc.pdu.constants import CommandId
from smsc.pdu.errors import FramingError
from smsc.pdu.framing import FrameBuffer

__all__ = ["BystanderSettings", "Interval", "main", "run_bystander"]

WARM_UP = -1  # the interval index of submits sent before the hostile peers started
_TICK = 0.01
_SUBMIT_SM_RESP = int(CommandId.SUBMIT_SM_RESP)
_DELIVER_SM = int(CommandId.DELIVER_SM)
_DELIVER_SM_RESP = int(CommandId.DELIVER_SM_RESP)
_ENQUIRE_LINK = int(CommandId.ENQUIRE_LINK)
_ENQUIRE_LINK_RESP = int(CommandId.ENQUIRE_LINK_RESP)
_UNBIND = int(CommandId.UNBIND)
_UNBIND_RESP = int(CommandId.UNBIND_RESP)
_BIND_TRANSCEIVER_RESP = int(CommandId.BIND_TRANSCEIVER_RESP)
_GENERIC_NACK = int(CommandId.GENERIC_NACK)


@dataclass(frozen=True, slots=True, kw_only=True)
class BystanderSettings:
    host: str = "127.0.0.1"
    port: int
    system_id: str
    password: str
    rate: float = 50.0
    warmup: float = 0.0
    seconds: float  # of sending after the warm-up
    interval: float = 60.0
    window: int = 256
    bind_every: float = 10.0
    receipt_timeout: float = 60.0


@dataclass(slots=True)
class Interval:
    """What one interval's submits saw."""

    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    bind_ms: list[float] = field(default_factory=list)

    def summary(self, index: int) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        binds = sorted(self.bind_ms)
        return {
            "interval": "warm-up" if index == WARM_UP else index,
            "acked": len(ordered),
            "errors": sum(self.errors.values()),
            "p50_ms": round(percentile(ordered, 0.5) * 1000, 2),
            "p99_ms": round(percentile(ordered, 0.99) * 1000, 2),
            "max_ms": round(ordered[-1] * 1000, 2) if ordered else 0.0,
            "binds": len(binds),
            "bind_max_ms": round(binds[-1], 1) if binds else None,
        }


class _Customer(asyncio.Protocol):
    """The transceiver: answers the server, matches responses and receipts."""

    def __init__(self, state: _State) -> None:
        loop = asyncio.get_running_loop()
        self.state = state
        self.frames = FrameBuffer()
        self.transport: asyncio.Transport | None = None
        self.sent_at: dict[int, tuple[float, int]] = {}
        self.bound: asyncio.Future[int] = loop.create_future()
        self.lost: asyncio.Future[None] = loop.create_future()
        self.unbound: asyncio.Future[None] = loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.bound.done():
            self.bound.set_exception(ConnectionError("closed before bind_resp"))
        for future in (self.lost, self.unbound):
            if not future.done():
                future.set_result(None)

    def data_received(self, data: bytes) -> None:
        self.frames.feed(data)
        state = self.state
        now = time.perf_counter()
        out: list[bytes] = []
        try:
            while (frame := self.frames.next_frame()) is not None:
                command_id, status, sequence = struct.unpack_from(">III", frame, 4)
                if command_id in (_SUBMIT_SM_RESP, _GENERIC_NACK):
                    sent = self.sent_at.pop(sequence, None)
                    if sent is not None:
                        state.answered(frame, command_id, status, now - sent[0], sent[1])
                elif command_id == _DELIVER_SM:
                    state.deliver_sm(frame)
                    out.append(header(_DELIVER_SM_RESP, sequence, body=b"\x00"))
                elif command_id == _ENQUIRE_LINK:
                    out.append(header(_ENQUIRE_LINK_RESP, sequence))
                elif command_id == _UNBIND:
                    out.append(header(_UNBIND_RESP, sequence))
                elif command_id == _UNBIND_RESP and not self.unbound.done():
                    self.unbound.set_result(None)
                elif command_id == _BIND_TRANSCEIVER_RESP and not self.bound.done():
                    self.bound.set_result(status)
        except FramingError as error:
            state.fatal = f"unreadable stream from the server: {error}"
            assert self.transport is not None
            self.transport.abort()
            return
        if out and self.transport is not None:
            self.transport.write(b"".join(out))


@dataclass(slots=True)
class _State:
    settings: BystanderSettings
    ledger: ReceiptLedger
    intervals: dict[int, Interval] = field(default_factory=dict)
    sent: int = 0
    acked_ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    unanswered: int = 0
    disconnects: int = 0
    late: int = 0
    duplicate_ids: int = 0
    mismatched: int = 0
    other_deliver_sm: int = 0
    bind_statuses: dict[str, int] = field(default_factory=dict)
    attack_at: float = 0.0  # wall-clock time the warm-up ends
    fatal: str = ""

    def interval_now(self) -> int:
        since = time.time() - self.attack_at
        return WARM_UP if since < 0 else int(since // self.settings.interval)

    def interval(self, index: int) -> Interval:
        found = self.intervals.get(index)
        if found is None:
            found = self.intervals[index] = Interval()
        return found

    def answered(self, frame: bytes, command_id: int, status: int, took: float, index: int) -> None:
        interval = self.interval(index)
        if command_id != _SUBMIT_SM_RESP or status:
            name = status_name(status) if command_id == _SUBMIT_SM_RESP else "generic_nack"
            count(self.errors, name)
            count(interval.errors, name)
            return
        self.acked_ok += 1
        interval.latencies.append(took)
        if not self.ledger.message_acked(bytes(frame[16:-1])):
            self.duplicate_ids += 1

    def deliver_sm(self, frame: bytes) -> None:
        tally_receipt(self, frame)


async def _bind(state: _State) -> _Customer:
    settings = state.settings
    loop = asyncio.get_running_loop()
    sock = await connect(settings.host, settings.port, source="127.0.0.1")
    _, customer = await loop.create_connection(lambda: _Customer(state), sock=sock)
    assert customer.transport is not None
    customer.transport.write(bind_frame(settings.system_id, settings.password, transceiver=True))
    status = await asyncio.wait_for(customer.bound, 15.0)
    if status:
        customer.transport.abort()
        raise ConnectionError(f"bind_transceiver refused: {status_name(status)}")
    return customer


async def _bind_main(state: _State, until: float) -> _Customer | None:
    """The transceiver bind, tried every second until ``until`` (monotonic)."""
    while True:
        try:
            return await _bind(state)
        except (OSError, ConnectionError, TimeoutError) as error:
            count(state.bind_statuses, f"main:{type(error).__name__}: {error}"[:80])
        if time.monotonic() + 1.0 >= until:
            return None
        await asyncio.sleep(1.0)


async def _send(state: _State, until: float, customer: _Customer | None) -> _Customer | None:
    """Submit at the rate until ``until`` (monotonic), binding again after a lost connection."""
    settings = state.settings
    template, at, length = submit_frame(b"Soak bystander message", receipts=True)
    limit = int(settings.rate * (settings.warmup + settings.seconds) * 1.1) + 10
    started = time.monotonic()
    sequence = 1
    for _ in range(100):  # connections at most
        if customer is None:
            customer = await _bind_main(state, until)
            if customer is None:
                return None
        transport = customer.transport
        assert transport is not None
        while not customer.lost.done() and (now := time.monotonic()) < until:
            due = min(int((now - started) * settings.rate), limit) - state.sent
            room = settings.window - len(customer.sent_at)
            if due > room:
                state.late += due - max(room, 0)
                due = max(room, 0)
            if due > 0:
                index = state.interval_now()
                chunk = []
                sent_at = time.perf_counter()
                for _ in range(due):
                    sequence = sequence % 0x7FFFFFFF + 1
                    chunk.append(bytes(numbered(template, sequence, at, length, state.sent)))
                    customer.sent_at[sequence] = (sent_at, index)
                    state.sent += 1
                transport.write(b"".join(chunk))
            await asyncio.sleep(_TICK)
        if not customer.lost.done():
            return customer
        state.disconnects += 1
        state.unanswered += len(customer.sent_at)
        customer.sent_at.clear()
        customer = None
        await asyncio.sleep(1.0)
    return customer


async def _probe_binds(state: _State, until: float) -> None:
    """Every ``bind_every`` seconds: a transmitter bind, timed, then unbind and close."""
    settings = state.settings
    while time.monotonic() + settings.bind_every < until:
        await asyncio.sleep(settings.bind_every)
        index = state.interval_now()
        started = time.perf_counter()
        try:
            sock = await connect(settings.host, settings.port, source="127.0.0.1")
            reader, writer = await asyncio.open_connection(sock=sock)
        except (OSError, TimeoutError) as error:
            count(state.bind_statuses, type(error).__name__)
            continue
        try:
            writer.write(bind_frame(settings.system_id, settings.password))
            frame = await read_frame(reader, 30.0)
            if frame is None:
                count(state.bind_statuses, "no answer")
                continue
            status = struct.unpack_from(">I", frame, 8)[0]
            count(state.bind_statuses, status_name(status))
            state.interval(index).bind_ms.append((time.perf_counter() - started) * 1000)
            if status == 0:
                writer.write(header(int(CommandId.UNBIND), 2))
                await read_frame(reader, 2.0)
        finally:
            writer.transport.abort()


async def run_bystander(settings: BystanderSettings) -> dict[str, Any]:
    state = _State(settings=settings, ledger=ReceiptLedger(limit=10_000))
    customer = await _bind_main(state, time.monotonic() + 30.0)
    if customer is None:
        state.fatal = "could not bind"
        return _result(state, False)
    state.attack_at = time.time() + settings.warmup
    until = time.monotonic() + settings.warmup + settings.seconds
    sys.stdout.write(json.dumps({"attack_at": state.attack_at}) + "\n")
    sys.stdout.flush()
    probe = asyncio.create_task(_probe_binds(state, until))
    customer = await _send(state, until, customer)
    await asyncio.wait([probe], timeout=35.0)
    receipts_timed_out = False
    if customer is not None:
        deadline = time.monotonic() + settings.receipt_timeout
        while time.monotonic() < deadline and not customer.lost.done():
            if not customer.sent_at and state.ledger.matched >= len(state.ledger.acked):
                break
            await asyncio.sleep(0.05)
        else:
            receipts_timed_out = not customer.lost.done()
        state.unanswered += len(customer.sent_at)
        if customer.transport is not None and not customer.lost.done():
            customer.transport.write(header(_UNBIND, 0x7FFFFFFF))
            await asyncio.wait([customer.unbound], timeout=5.0)
            customer.transport.abort()
    elif not state.fatal:
        state.fatal = "could not bind again"
    return _result(state, receipts_timed_out)


def _result(state: _State, receipts_timed_out: bool) -> dict[str, Any]:
    ledger = state.ledger
    missing = len(ledger.acked) - ledger.matched
    all_binds = sorted(b for i in state.intervals.values() for b in i.bind_ms)
    nothing_lost = (
        not state.fatal
        and state.sent > 0
        and state.acked_ok == state.sent
        and not state.errors
        and not state.unanswered
        and missing == 0
        and ledger.duplicates == 0
        and ledger.unknown == 0
        and state.duplicate_ids == 0
    )
    return {
        "rate": state.settings.rate,
        "interval_s": state.settings.interval,
        "sent": state.sent,
        "acked_ok": state.acked_ok,
        "errors": dict(sorted(state.errors.items())),
        "unanswered": state.unanswered,
        "disconnects": state.disconnects,
        "late_sends": state.late,
        "receipts_expected": len(ledger.acked),
        "receipts_received": ledger.received,
        "receipts_duplicates": ledger.duplicates,
        "receipts_missing": missing,
        "receipts_unknown": ledger.unknown,
        "receipts_mismatched": state.mismatched,
        "receipts_timed_out": receipts_timed_out,
        "receipt_stats": {k.decode("latin-1") or "?": v for k, v in sorted(ledger.stats.items())},
        "duplicate_message_ids": state.duplicate_ids,
        "other_deliver_sm": state.other_deliver_sm,
        "intervals": [state.intervals[i].summary(i) for i in sorted(state.intervals)],
        "bind_probes": {
            "statuses": dict(sorted(state.bind_statuses.items())),
            "p50_ms": round(percentile(all_binds, 0.5), 1),
            "max_ms": round(all_binds[-1], 1) if all_binds else None,
        },
        "nothing_lost": nothing_lost,
        "fatal": state.fatal,
    }


def _parse_args(argv: Sequence[str] | None) -> BystanderSettings:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak_bystander", description="The soak's bystander; prints JSON."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--system-id", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--rate", type=float, default=50.0, help="submits per second")
    parser.add_argument("--warmup", type=float, default=0.0, help="seconds before the soak")
    parser.add_argument(
        "--seconds", type=float, required=True, help="sending time after the warm-up (max 7200)"
    )
    parser.add_argument("--interval", type=float, default=60.0, help="seconds per table row")
    parser.add_argument(
        "--bind-every", type=float, default=10.0, help="seconds between bind probes"
    )
    parser.add_argument("--receipt-timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    if not 0 < args.rate <= 5000:
        parser.error("--rate must be in (0, 5000]")
    if not 0 <= args.warmup <= 600:
        parser.error("--warmup must be in [0, 600]")
    for name in ("seconds", "interval", "bind_every", "receipt_timeout"):
        if not 0 < getattr(args, name) <= 7200:
            parser.error(f"--{name.replace('_', '-')} must be in (0, 7200]")
    return BystanderSettings(
        host=args.host,
        port=args.port,
        system_id=args.system_id,
        password=args.password,
        rate=args.rate,
        warmup=args.warmup,
        seconds=args.seconds,
        interval=args.interval,
        bind_every=args.bind_every,
        receipt_timeout=args.receipt_timeout,
    )


def main(argv: Sequence[str] | None = None) -> int:
    settings = _parse_args(argv)
    result = asyncio.run(run_bystander(settings))
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 1 if result["fatal"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
