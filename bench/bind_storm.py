"""A customer's bind time while strangers bind in a loop (issue: authentication as a DoS lever).

Starts ``smsc serve`` on a fresh database (the packaged config, with ``--set`` changes), times
``--binds`` binds of the test account from 127.0.0.1 with nothing else going on, then again while
``--storm`` connections from 127.0.0.2-127.0.0.5 bind the test account with a wrong password in a
loop (the test account never locks, so each of their binds would cost a password hash).

    python -m bench.bind_storm                       # this checkout
    python -m bench.bind_storm --src OTHER_CHECKOUT  # another one (its smsc package), to compare
    python -m bench.bind_storm --set pending_binds=2 --set bind_refusal_delay=0s

Prints the median and the slowest bind of each phase and how many of the storm's binds were
answered per second, by status.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIND_TRANSCEIVER = 0x09
STORM_SOURCES = ("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5")


def bind_pdu(system_id: str, password: str, sequence: int) -> bytes:
    body = (system_id.encode() + b"\0" + password.encode() + b"\0" + b"\0"
            + bytes([0x34, 0, 0]) + b"\0")
    return struct.pack(">IIII", 16 + len(body), BIND_TRANSCEIVER, 0, sequence) + body


async def read_status(reader: asyncio.StreamReader) -> int:
    length, _, status, _ = struct.unpack(">IIII", await reader.readexactly(16))
    await reader.readexactly(length - 16)
    return int(status)


async def stranger(port: int, source: str, system_id: str, stop: asyncio.Event,
                   counts: dict[int, int]) -> None:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    except OSError:
        return
    sequence = 0
    try:
        while not stop.is_set():
            sequence += 1
            writer.write(bind_pdu(system_id, "wrong", sequence))
            status = await asyncio.wait_for(read_status(reader), 60)
            counts[status] = counts.get(status, 0) + 1
    except (OSError, asyncio.IncompleteReadError, TimeoutError):
        pass
    finally:
        writer.close()


async def timed_binds(port: int, login: tuple[str, str], count: int) -> list[float]:
    """Milliseconds from connecting to the bind's answer, one bind at a time."""
    out = []
    for _ in range(count):
        started = time.perf_counter()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(bind_pdu(login[0], login[1], 1))
        status = await asyncio.wait_for(read_status(reader), 60)
        out.append((time.perf_counter() - started) * 1000)
        writer.close()
        if status != 0:
            raise RuntimeError(f"the customer's bind was refused: 0x{status:x}")
        await asyncio.sleep(0.05)
    return out


def start_server(src: Path, work: Path, settings: list[str]) -> tuple[subprocess.Popen[str], int,
                                                                       tuple[str, str]]:
    defaults = src / "smsc" / "defaults"
    (work / "conf").mkdir()
    text = (defaults / "smsc.toml").read_text()
    for setting in settings:
        key, _, value = setting.partition("=")
        if not re.match(r"^[a-z_]+$", key.strip()):
            raise SystemExit(f"--set {setting!r}: KEY=VALUE")
        value = value.strip()
        if not re.fullmatch(r"\d+", value):
            value = f'"{value}"'
        text, replaced = re.subn(rf"^{key.strip()} = .*$", f"{key.strip()} = {value}", text,
                                 count=1, flags=re.M)
        if not replaced:
            text = text.replace("[server]\n", f"[server]\n{key.strip()} = {value}\n", 1)
    (work / "conf" / "smsc.toml").write_text(text)
    for name in ("operators.toml", "routes.toml"):
        (work / "conf" / name).write_text((defaults / name).read_text())
    env = dict(os.environ, PYTHONPATH=str(src))
    process = subprocess.Popen(
        [sys.executable, "-c", "from smsc.cli import main; main()", "--db",
         str(work / "smsc.sqlite"), "serve", "--listen", "tcp:0:interface=127.0.0.1"],
        cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    login: tuple[str, str] | None = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if found := re.match(r"test account: system_id=(\S+) password=(\S+)", line):
            login = (found.group(1), found.group(2))
        if found := re.match(r"listening on tcp:[\d.]+:(\d+)", line):
            if login is None:
                break
            return process, int(found.group(1)), login
    process.kill()
    raise SystemExit("the server did not start (or printed no test account)")


async def measure(port: int, login: tuple[str, str], storm: int, binds: int) -> None:
    quiet = await timed_binds(port, login, binds)
    stop = asyncio.Event()
    counts: dict[int, int] = {}
    tasks = [asyncio.create_task(stranger(port, STORM_SOURCES[i % len(STORM_SOURCES)],
                                          login[0], stop, counts)) for i in range(storm)]
    await asyncio.sleep(2.0)
    started, before = time.perf_counter(), sum(counts.values())
    busy = await timed_binds(port, login, binds)
    rate = (sum(counts.values()) - before) / (time.perf_counter() - started)
    stop.set()
    await asyncio.wait(tasks, timeout=70)
    print(f"no storm:             bind median {statistics.median(quiet):7.1f} ms, "
          f"slowest {max(quiet):7.1f} ms")
    print(f"{storm:4d} connections:     bind median {statistics.median(busy):7.1f} ms, "
          f"slowest {max(busy):7.1f} ms; the storm's binds answered {rate:.0f}/s "
          f"({', '.join(f'0x{k:x}: {v}' for k, v in sorted(counts.items()))})")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--src", type=Path, default=Path(__file__).resolve().parents[1],
                        help="a checkout whose smsc package runs (default: this one)")
    parser.add_argument("--storm", type=int, default=200, help="connections binding in a loop")
    parser.add_argument("--binds", type=int, default=20, help="customer binds timed per phase")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a [server] setting (repeatable)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        process, port, login = start_server(args.src, Path(work), args.set)
        try:
            asyncio.run(measure(port, login, args.storm, args.binds))
        finally:
            process.terminate()
            process.wait(30)


if __name__ == "__main__":
    main()
