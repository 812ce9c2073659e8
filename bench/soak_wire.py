"""Wire helpers shared by the soak's peers (:mod:`bench.soak_bystander`, :mod:`bench.soak_hostile`).

Raw sockets on loopback only: a connection may be bound to another loopback source address
(127.0.0.2 and up) before it connects, and may have a small receive buffer; frames are encoded
once by the codec and patched per message.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Sequence

from smsc.pdu.codec import HEADER, encode
from smsc.pdu.constants import CommandStatus, DataCoding, Npi, Ton
from smsc.pdu.pdus import BindTransceiver, BindTransmitter, SubmitSm

__all__ = [
    "DESTINATION_BASE",
    "bind_frame",
    "connect",
    "count",
    "header",
    "loopback_address",
    "merged",
    "numbered",
    "read_frame",
    "source_address",
    "status_name",
    "submit_frame",
]

DESTINATION_BASE = 380_671_000_000
_SEQUENCE = struct.Struct(">I")
_MAX_FRAME = 70_000


def loopback_address(index: int) -> str:
    """The ``index``-th loopback source address from 127.0.0.2 on (last octets 1-254)."""
    if index < 0:
        raise ValueError("index must be >= 0")
    block, position = divmod(index + 1, 254)
    second, third = divmod(block, 256)
    if second > 255:
        raise ValueError("index beyond 127.255.255.254")
    return f"127.{second}.{third}.{position + 1}"


def source_address(block: int, index: int) -> str:
    """A loopback source address of its own for one kind of peer: 127.BLOCK.x.y (BLOCK 1-255),
    cycling through 65,024 addresses, so no peer shares the bystander's 127.0.0.1."""
    if not 1 <= block <= 255:
        raise ValueError("block must be 1..255")
    third, last = divmod(index % (256 * 254), 254)
    return f"127.{block}.{third}.{last + 1}"


async def connect(
    host: str,
    port: int,
    *,
    source: str | None = None,
    rcvbuf: int = 0,
    timeout: float = 5.0,
) -> socket.socket:
    """A connected non-blocking TCP socket, from ``source`` if given, with SO_RCVBUF set before
    the connect (so the window the peer sees is small from the start)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if source is not None:
            sock.bind((source, 0))
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        await asyncio.wait_for(loop.sock_connect(sock, (host, port)), timeout)
    except BaseException:
        sock.close()
        raise
    return sock


async def read_frame(reader: asyncio.StreamReader, timeout: float) -> bytes | None:
    """The next whole PDU, or None when the stream ended or time ran out."""
    try:
        head = await asyncio.wait_for(reader.readexactly(16), timeout)
        length = int.from_bytes(head[:4], "big")
        if not 16 <= length <= _MAX_FRAME:
            return None
        body = await asyncio.wait_for(reader.readexactly(length - 16), timeout)
    except (TimeoutError, asyncio.IncompleteReadError, ConnectionError, OSError):
        return None
    return head + body


def bind_frame(
    system_id: str, password: str, sequence: int = 1, *, transceiver: bool = False
) -> bytes:
    kind = BindTransceiver if transceiver else BindTransmitter
    return encode(
        kind(sequence_number=sequence, system_id=system_id, password=password, system_type="soak")
    )


def submit_frame(text: bytes, *, receipts: bool) -> tuple[bytes, int, int]:
    """A submit_sm to :data:`DESTINATION_BASE` and where its destination digits are:
    (frame, offset, length). Patch the sequence at 12 and the digits per message."""
    destination = str(DESTINATION_BASE)
    frame = encode(
        SubmitSm(
            source_addr_ton=Ton.ALPHANUMERIC,
            source_addr_npi=Npi.UNKNOWN,
            source_addr="Soak",
            dest_addr_ton=Ton.INTERNATIONAL,
            dest_addr_npi=Npi.ISDN,
            destination_addr=destination,
            registered_delivery=1 if receipts else 0,
            data_coding=DataCoding.DEFAULT,
            short_message=text,
        )
    )
    at = frame.index(destination.encode("ascii") + b"\x00", 16)
    return frame, at, len(destination)


def numbered(template: bytes, sequence: int, at: int, length: int, index: int) -> bytearray:
    """A copy of a :func:`submit_frame` template with its sequence and destination set."""
    frame = bytearray(template)
    _SEQUENCE.pack_into(frame, 12, sequence)
    frame[at : at + length] = b"%d" % (DESTINATION_BASE + index % 1_000_000)
    return frame


def header(command_id: int, sequence: int, status: int = 0, body: bytes = b"") -> bytes:
    return HEADER.pack(16 + len(body), command_id, status, sequence) + body


def status_name(status: int) -> str:
    return CommandStatus.name_of(status)


def count(into: dict[str, int], key: str, n: int = 1) -> None:
    into[key] = into.get(key, 0) + n


def merged(counters: Sequence[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for counter in counters:
        for key, value in counter.items():
            count(out, key, value)
    return dict(sorted(out.items()))
