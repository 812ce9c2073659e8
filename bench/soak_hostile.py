"""Hostile peers for the soak (:mod:`bench.soak`), one kind per process, printing one JSON object.

    python -m bench.soak_hostile slow    --port P --seconds S --system-id ID --password PW
    python -m bench.soak_hostile garbage --port P --seconds S --system-id ID --password PW
    python -m bench.soak_hostile storm   --port P --seconds S --victim ID
    python -m bench.soak_hostile churn   --port P --seconds S

- ``slow``: peers with a small SO_RCVBUF that bind (transceiver, right password), then flood
  enquire_link and submit_sm (every ``--submit-every``-th PDU, asking for a receipt) at ``--rate``
  PDUs/s each and never read again.
  At most 256 KiB waits in the peer's own buffer: when the server stops reading, the peer stops
  writing and counts the time it was held up ("stalled").
- ``garbage``: connections at ``--rate`` per second, each sending one kind of bad input (random
  bytes, unknown command_ids, an oversized or too small command_length, responses nobody asked
  for before and after a bind, a submit_sm before the bind), reading what comes back for a
  moment, closing, reconnecting.
- ``storm``: binds at ``--rate`` per second, alternately with unknown system_ids and with the
  ``--victim`` account and wrong passwords, each from a loopback address of its own from
  127.0.0.2 on (``--per-address`` binds per address); the time to each bind_resp and its status.
- ``churn``: connect-and-close at ``--rate`` per second (half closed with a reset), and
  ``--idle`` connections that never send a byte, opened again whenever the server closes one.

Every loop ends at ``--seconds`` and after a bounded number of rounds; every peer uses source
addresses of its own kind (127.N.x.y), never the bystander's 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import struct
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench.load import percentile
from bench.soak_wire import (
    bind_frame,
    connect,
    count,
    header,
    loopback_address,
    numbered,
    read_frame,
    source_address,
    status_name,
    submit_frame,
)
from smsc.pdu.constants import CommandId
from smsc.pdu.errors import FramingError
from smsc.pdu.framing import FrameBuffer

__all__ = ["KINDS", "HostileSettings", "main", "run_kind"]

KINDS = ("slow", "garbage", "storm", "churn")
SLOW_BLOCK, GARBAGE_BLOCK, CHURN_BLOCK = 1, 2, 3  # 127.N.x.y per kind; the storm uses 127.0.x.y
_WRITE_LIMIT = 256 * 1024  # bytes a slow reader lets wait in its own buffer
_TICK = 0.02
_RESPONSE = 0x80000000
_BIND_RESPS = {int(CommandId.BIND_TRANSMITTER_RESP), int(CommandId.BIND_TRANSCEIVER_RESP)}
_ENQUIRE_LINK = int(CommandId.ENQUIRE_LINK)
_UNSOLICITED = (
    int(CommandId.SUBMIT_SM_RESP),
    int(CommandId.DELIVER_SM_RESP),
    int(CommandId.GENERIC_NACK),
    int(CommandId.ENQUIRE_LINK_RESP),
    0x00000FFF,  # no such command
    0x80000FFF,  # no such response
)


@dataclass(frozen=True, slots=True, kw_only=True)
class HostileSettings:
    kind: str
    host: str = "127.0.0.1"
    port: int
    seconds: float
    rate: float
    peers: int = 3
    system_id: str = ""
    password: str = ""
    victim: str = ""
    per_address: int = 2
    idle: int = 50
    unsolicited: int = 200
    submit_every: int = 20
    seed: int = 1


class _Pacer:
    """``rate`` events per second from now on; at most ``limit`` of them."""

    def __init__(self, rate: float, limit: int) -> None:
        self.interval = 1.0 / rate
        self.next_at = time.monotonic()
        self.limit = limit
        self.taken = 0

    async def wait(self, deadline: float) -> bool:
        """Sleep until the next event is due; False when the time or the count is up."""
        if self.taken >= self.limit:
            return False
        at = self.next_at
        self.next_at = max(at + self.interval, time.monotonic() - 1.0)  # no burst after a stall
        if at >= deadline:
            return False
        delay = at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        self.taken += 1
        return time.monotonic() < deadline


def _limit(rate: float, seconds: float) -> int:
    return int(rate * seconds * 1.2) + 10


# --- slow readers ---------------------------------------------------------------------------------


class _Mute(asyncio.Protocol):
    """Reads only until the bind_resp, then never again."""

    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.frames = FrameBuffer()
        self.bound: asyncio.Future[int] = loop.create_future()
        self.lost: asyncio.Future[None] = loop.create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.frames.feed(data)
        try:
            while (frame := self.frames.next_frame()) is not None:
                command_id, status = struct.unpack_from(">II", frame, 4)
                if command_id in _BIND_RESPS and not self.bound.done():
                    self.bound.set_result(status)
                    assert self.transport is not None
                    self.transport.pause_reading()  # from here on: never read
                    return
        except FramingError:
            assert self.transport is not None
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.bound.done():
            self.bound.set_exception(ConnectionError("closed before bind_resp"))
        if not self.lost.done():
            self.lost.set_result(None)


async def _slow_peer(settings: HostileSettings, number: int, out: dict[str, Any]) -> None:
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + settings.seconds
    template, at, length = submit_frame(b"slow reader flood", receipts=True)
    sequence = 0
    sent = 0
    for attempt in range(1000):
        if time.monotonic() >= deadline:
            return
        source = source_address(SLOW_BLOCK, number * 1000 + attempt)
        try:
            sock = await connect(settings.host, settings.port, source=source, rcvbuf=4096)
            _, mute = await loop.create_connection(_Mute, sock=sock)
            assert mute.transport is not None
            bind = bind_frame(settings.system_id, settings.password, transceiver=True)
            mute.transport.write(bind)
            status = await asyncio.wait_for(mute.bound, 10.0)
        except (OSError, ConnectionError, TimeoutError) as error:
            count(out["errors"], type(error).__name__)
            await asyncio.sleep(1.0)
            continue
        count(out["binds"], status_name(status))
        out["connections"] += 1
        if status:
            mute.transport.abort()
            await asyncio.sleep(1.0)
            continue
        transport = mute.transport
        started = time.monotonic()
        while not mute.lost.done() and (now := time.monotonic()) < deadline:
            due = int((now - started) * settings.rate) - sent
            if transport.get_write_buffer_size() >= _WRITE_LIMIT:
                out["stalled_s"] += _TICK
            elif due > 0:
                chunk = []
                for _ in range(min(due, 500)):
                    sequence = sequence % 0x7FFFFFFF + 1
                    if sequence % settings.submit_every:
                        chunk.append(header(_ENQUIRE_LINK, sequence))
                    else:
                        chunk.append(bytes(numbered(template, sequence, at, length, sequence)))
                data = b"".join(chunk)
                transport.write(data)
                sent += len(chunk)
                out["pdus_sent"] += len(chunk)
                out["bytes_sent"] += len(data)
            await asyncio.sleep(_TICK)
        if mute.lost.done():
            out["closed_by_server"] += 1
            sent = 0
            await asyncio.sleep(1.0)
        else:
            transport.abort()


async def _slow(settings: HostileSettings) -> dict[str, Any]:
    out: dict[str, Any] = {
        "peers": settings.peers,
        "rate_per_peer": settings.rate,
        "submit_every": settings.submit_every,
        "connections": 0,
        "binds": {},
        "pdus_sent": 0,
        "bytes_sent": 0,
        "stalled_s": 0.0,
        "closed_by_server": 0,
        "errors": {},
    }
    await asyncio.gather(*(_slow_peer(settings, n, out) for n in range(settings.peers)))
    out["stalled_s"] = round(out["stalled_s"], 1)
    return out


# --- garbage --------------------------------------------------------------------------------------


def _unsolicited(n: int, rng: random.Random) -> bytes:
    """``n`` responses to nothing and PDUs with unknown command_ids, well framed."""
    frames = []
    for i in range(n):
        command_id = _UNSOLICITED[i % len(_UNSOLICITED)]
        body = b"\x00" if i % len(_UNSOLICITED) in (0, 1) else b""  # an empty message_id
        frames.append(header(command_id, rng.randint(1, 0x7FFFFFFF), body=body))
    return b"".join(frames)


def _garbage_payload(variant: str, rng: random.Random) -> bytes:
    if variant == "random_bytes":
        return rng.randbytes(rng.randint(1, 4096))
    if variant == "bad_command_id":
        return b"".join(header(0x00000FFF + i, i + 1) for i in range(10))
    if variant == "oversized_length":
        return struct.pack(">IIII", 0x7FFFFFF0, 4, 0, 1) + rng.randbytes(64)
    if variant == "short_length":
        return struct.pack(">IIII", 8, 4, 0, 1)
    if variant == "submit_before_bind":
        frame, at, length = submit_frame(b"before bind", receipts=False)
        return bytes(numbered(frame, 1, at, length, 0))
    if variant == "responses_before_bind":
        return _unsolicited(50, rng)
    raise ValueError(variant)


_GARBAGE = (
    "random_bytes",
    "bad_command_id",
    "oversized_length",
    "short_length",
    "submit_before_bind",
    "responses_before_bind",
    "responses_after_bind",
)


async def _drain(reader: asyncio.StreamReader, seconds: float, out: dict[str, Any]) -> None:
    """Read frames for ``seconds`` (or until the server closes), counting them."""
    until = time.monotonic() + seconds
    while (left := until - time.monotonic()) > 0:
        frame = await read_frame(reader, left)
        if frame is None:
            if reader.at_eof():
                out["closed_by_server"] += 1
            return
        command_id, status = struct.unpack_from(">II", frame, 4)
        try:
            name = CommandId(command_id).name.lower()
        except ValueError:
            name = f"0x{command_id:08X}"
        count(out["answers"], f"{name}:{status_name(status)}")


async def _garbage_once(
    settings: HostileSettings, variant: str, source: str, rng: random.Random, out: dict[str, Any]
) -> None:
    sock = await connect(settings.host, settings.port, source=source)
    reader, writer = await asyncio.open_connection(sock=sock)
    try:
        if variant == "responses_after_bind":
            writer.write(bind_frame(settings.system_id, settings.password, transceiver=True))
            frame = await read_frame(reader, 10.0)
            status = struct.unpack_from(">I", frame, 8)[0] if frame else -1
            count(out["binds"], status_name(status) if status >= 0 else "no answer")
            data = _unsolicited(settings.unsolicited, rng)
        else:
            data = _garbage_payload(variant, rng)
        writer.write(data)
        out["bytes_sent"] += len(data)
        await asyncio.wait_for(writer.drain(), 5.0)
        await _drain(reader, 0.5, out)
    finally:
        writer.transport.abort()


async def _garbage(settings: HostileSettings) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rate": settings.rate,
        "connections": 0,
        "variants": {},
        "binds": {},
        "bytes_sent": 0,
        "answers": {},
        "closed_by_server": 0,
        "errors": {},
    }
    rng = random.Random(settings.seed)
    deadline = time.monotonic() + settings.seconds
    pacer = _Pacer(settings.rate, _limit(settings.rate, settings.seconds))
    running: set[asyncio.Task[None]] = set()
    index = 0

    async def one(variant: str, source: str) -> None:
        try:
            await _garbage_once(settings, variant, source, rng, out)
        except (OSError, ConnectionError, TimeoutError) as error:
            count(out["errors"], type(error).__name__)

    while await pacer.wait(deadline):
        if len(running) >= 50:  # the server is not answering: do not pile up connections
            count(out["errors"], "skipped, 50 connections open")
            continue
        variant = _GARBAGE[index % len(_GARBAGE)]
        count(out["variants"], variant)
        out["connections"] += 1
        task = asyncio.create_task(one(variant, source_address(GARBAGE_BLOCK, index)))
        running.add(task)
        task.add_done_callback(running.discard)
        index += 1
    if running:
        await asyncio.wait(running, timeout=15.0)
    return out


# --- bind storm -----------------------------------------------------------------------------------


async def _storm(settings: HostileSettings) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rate": settings.rate,
        "per_address": settings.per_address,
        "attempts": 0,
        "addresses": 0,
        "statuses": {},
        "errors": {},
    }
    latencies: dict[str, list[float]] = {"unknown_system_id": [], "wrong_password": []}
    deadline = time.monotonic() + settings.seconds
    limit = min(_limit(settings.rate, settings.seconds), 65_000 * settings.per_address)
    pacer = _Pacer(settings.rate, limit)
    rng = random.Random(settings.seed)
    running: set[asyncio.Task[None]] = set()

    async def one(attempt: int) -> None:
        source = loopback_address(attempt // settings.per_address)
        unknown = attempt % 2 == 0
        if unknown:
            system_id, password, kind = f"st{rng.randrange(10**12):012d}", "x", "unknown_system_id"
        else:
            system_id, password, kind = settings.victim, f"w{attempt % 10**7}", "wrong_password"
        try:
            sock = await connect(settings.host, settings.port, source=source)
            reader, writer = await asyncio.open_connection(sock=sock)
        except (OSError, TimeoutError) as error:
            count(out["errors"], type(error).__name__)
            return
        try:
            started = time.perf_counter()
            writer.write(bind_frame(system_id, password, attempt + 1))
            frame = await read_frame(reader, 15.0)
            if frame is None:
                count(out["statuses"], f"{kind}:no answer")
                return
            latencies[kind].append(time.perf_counter() - started)
            status = struct.unpack_from(">I", frame, 8)[0]
            count(out["statuses"], f"{kind}:{status_name(status)}")
        finally:
            writer.transport.abort()

    attempt = 0
    while await pacer.wait(deadline):
        if len(running) >= 64:
            count(out["errors"], "skipped, 64 binds unanswered")
            continue
        task = asyncio.create_task(one(attempt))
        running.add(task)
        task.add_done_callback(running.discard)
        attempt += 1
    if running:
        await asyncio.wait(running, timeout=20.0)
    out["attempts"] = attempt
    out["addresses"] = (attempt + settings.per_address - 1) // settings.per_address
    out["last_address"] = loopback_address(max(0, attempt - 1) // settings.per_address)
    for kind, values in latencies.items():
        ordered = sorted(values)
        out[f"{kind}_bind_ms"] = {
            "count": len(ordered),
            "p50": round(percentile(ordered, 0.5) * 1000, 2),
            "p99": round(percentile(ordered, 0.99) * 1000, 2),
            "max": round(ordered[-1] * 1000, 2) if ordered else 0.0,
        }
    return out


# --- connection churn -----------------------------------------------------------------------------


async def _churn(settings: HostileSettings) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rate": settings.rate,
        "idle_wanted": settings.idle,
        "connects": 0,
        "resets": 0,
        "idle_opened": 0,
        "idle_closed_by_server": 0,
        "idle_held_max": 0,
        "errors": {},
    }
    deadline = time.monotonic() + settings.seconds
    held = [0]

    async def idle_slot(slot: int) -> None:
        for round_ in range(10_000):
            if time.monotonic() >= deadline:
                return
            source = source_address(CHURN_BLOCK, 60_000 + slot * 7 + round_ % 7)
            try:
                sock = await connect(settings.host, settings.port, source=source)
            except (OSError, TimeoutError) as error:
                count(out["errors"], f"idle:{type(error).__name__}")
                await asyncio.sleep(1.0)
                continue
            out["idle_opened"] += 1
            held[0] += 1
            out["idle_held_max"] = max(out["idle_held_max"], held[0])
            loop = asyncio.get_running_loop()
            try:
                left = deadline - time.monotonic()
                await asyncio.wait_for(loop.sock_recv(sock, 4096), max(left, 0.01))
                out["idle_closed_by_server"] += 1  # it closed (or wrote to) a silent connection
            except TimeoutError:
                pass
            except OSError:
                out["idle_closed_by_server"] += 1
            finally:
                held[0] -= 1
                sock.close()
            await asyncio.sleep(0.5)

    async def churn() -> None:
        pacer = _Pacer(settings.rate, _limit(settings.rate, settings.seconds))
        index = 0
        while await pacer.wait(deadline):
            source = source_address(CHURN_BLOCK, index % 50_000)
            try:
                sock = await connect(settings.host, settings.port, source=source)
            except (OSError, TimeoutError) as error:
                count(out["errors"], f"churn:{type(error).__name__}")
                continue
            out["connects"] += 1
            if index % 2:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                out["resets"] += 1
            sock.close()
            index += 1

    await asyncio.gather(churn(), *(idle_slot(n) for n in range(settings.idle)))
    return out


_RUNNERS: dict[str, Callable[[HostileSettings], Awaitable[dict[str, Any]]]] = {
    "slow": _slow,
    "garbage": _garbage,
    "storm": _storm,
    "churn": _churn,
}


async def run_kind(settings: HostileSettings) -> dict[str, Any]:
    """Run one kind of hostile peer for ``settings.seconds``; what it did, as a dict."""
    started = time.monotonic()
    result = await _RUNNERS[settings.kind](settings)
    result["kind"] = settings.kind
    result["seconds"] = round(time.monotonic() - started, 1)
    return result


def _parse_args(argv: Sequence[str] | None) -> HostileSettings:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak_hostile", description="Hostile SMPP peers; prints JSON."
    )
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True, help="run this long (max 7200)")
    parser.add_argument("--rate", type=float, default=10.0, help="events per second (see above)")
    parser.add_argument("--peers", type=int, default=3, help="slow readers (1..32)")
    parser.add_argument("--system-id", default="", help="account of slow and garbage peers")
    parser.add_argument("--password", default="")
    parser.add_argument("--victim", default="", help="account the storm tries wrong passwords on")
    parser.add_argument("--per-address", type=int, default=2, help="storm binds per address")
    parser.add_argument("--idle", type=int, default=50, help="idle connections held (0..1000)")
    parser.add_argument(
        "--unsolicited", type=int, default=200, help="responses nobody asked for, per bound peer"
    )
    parser.add_argument(
        "--submit-every", type=int, default=20,
        help="slow readers: every Nth PDU a submit_sm, the others enquire_link (1..1000)",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= 7200:
        parser.error("--seconds must be in (0, 7200]")
    if not 0 < args.rate <= 10_000:
        parser.error("--rate must be in (0, 10000]")
    if not 1 <= args.peers <= 32 or not 0 <= args.idle <= 1000 or not 1 <= args.per_address <= 100:
        parser.error("--peers 1..32, --idle 0..1000, --per-address 1..100")
    if not 1 <= args.submit_every <= 1000:
        parser.error("--submit-every must be 1..1000")
    if args.kind in ("slow", "garbage") and not (args.system_id and args.password):
        parser.error(f"{args.kind} needs --system-id and --password")
    if args.kind == "storm" and not args.victim:
        parser.error("storm needs --victim")
    return HostileSettings(
        kind=args.kind,
        host=args.host,
        port=args.port,
        seconds=args.seconds,
        rate=args.rate,
        peers=args.peers,
        system_id=args.system_id,
        password=args.password,
        victim=args.victim,
        per_address=args.per_address,
        idle=args.idle,
        unsolicited=max(1, min(args.unsolicited, 10_000)),
        submit_every=args.submit_every,
        seed=args.seed,
    )


def main(argv: Sequence[str] | None = None) -> int:
    settings = _parse_args(argv)
    with contextlib.suppress(ValueError, OSError):  # lower priority than the server it attacks
        os.nice(5)
    result = asyncio.run(run_kind(settings))
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
