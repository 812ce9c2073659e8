"""The ceiling responder: a Twisted SMPP server that does no work.

It answers every bind with ESME_ROK, every submit_sm with a submit_sm_resp whose message_id is a
counter, enquire_link and unbind as the specification says, and ignores responses. With
``--receipts`` it follows each submit_sm_resp with a delivery receipt (deliver_sm, esm_class 0x04,
the usual receipt text, receipted_message_id and message_state TLVs) on the same connection.
There is no session state machine, no store and no validation: it is the fastest an SMPP server
written in Python on Twisted can answer, and the benchmark measures smsc against it.

Run it as its own process::

    python -m bench.ceiling --port 0 --receipts

The first line on stdout is ``listening on tcp:HOST:PORT`` (the same form ``smsc serve`` prints),
so a parent process can read the port it got.
"""

from __future__ import annotations

import argparse
import struct
import sys
import time
from collections.abc import Sequence

from twisted.internet.interfaces import IAddress
from twisted.internet.protocol import Protocol, ServerFactory

from smsc.pdu.codec import HEADER, encode, peek_header
from smsc.pdu.constants import CommandId, CommandStatus, EsmClass, Npi, Ton
from smsc.pdu.errors import FramingError
from smsc.pdu.framing import FrameBuffer
from smsc.pdu.pdus import DeliverSm, GenericNack

__all__ = [
    "RECEIPT_SOURCE",
    "CeilingFactory",
    "CeilingProtocol",
    "ReceiptFrames",
    "main",
]

RECEIPT_SOURCE = "380670000000"  # the "handset" a receipt comes from
RECEIPT_DESTINATION = "Bench"
SYSTEM_ID = b"ceiling"

_RESPONSE = 0x80000000
_BINDS = frozenset(
    (CommandId.BIND_TRANSMITTER, CommandId.BIND_RECEIVER, CommandId.BIND_TRANSCEIVER)
)
_SUBMIT_SM = int(CommandId.SUBMIT_SM)
_SUBMIT_SM_RESP = int(CommandId.SUBMIT_SM_RESP)
_DELIVER_SM = int(CommandId.DELIVER_SM)
_ENQUIRE_LINK = int(CommandId.ENQUIRE_LINK)
_UNBIND = int(CommandId.UNBIND)
_RINVCMDID = int(CommandStatus.ESME_RINVCMDID)
_TLV_LENGTH = struct.Struct(">H")
_MESSAGE_STATE_DELIVERED = b"\x04\x27\x00\x01\x02"  # message_state TLV: DELIVERED
_RECEIPT_TEXT = (
    b"id:%s sub:001 dlvrd:001 submit date:%s done date:%s stat:DELIVRD err:000 text:Benchmark"
)


class ReceiptFrames:
    """Builds receipt deliver_sm frames from a body prepared once by the codec."""

    __slots__ = ("_body_head", "_date", "_minute")

    def __init__(self) -> None:
        prepared = encode(
            DeliverSm(
                source_addr_ton=Ton.INTERNATIONAL,
                source_addr_npi=Npi.ISDN,
                source_addr=RECEIPT_SOURCE,
                dest_addr_ton=Ton.ALPHANUMERIC,
                dest_addr_npi=Npi.UNKNOWN,
                destination_addr=RECEIPT_DESTINATION,
                esm_class=EsmClass.TYPE_DELIVERY_RECEIPT,
            )
        )
        # Without short_message and TLVs the frame ends with sm_length 0: keep what precedes it.
        self._body_head = prepared[16:-1]
        self._minute = -1
        self._date = b""

    def date(self) -> bytes:
        """The receipt date (YYMMDDhhmm, UTC), formatted once a minute."""
        now = time.time()
        minute = int(now // 60)
        if minute != self._minute:
            self._minute = minute
            self._date = time.strftime("%y%m%d%H%M", time.gmtime(now)).encode("ascii")
        return self._date

    def frame(self, message_id: bytes, sequence_number: int) -> bytes:
        date = self.date()
        text = _RECEIPT_TEXT % (message_id, date, date)
        body = b"%s%c%s\x00\x1e%s%s\x00%s" % (
            self._body_head,
            len(text),
            text,
            _TLV_LENGTH.pack(len(message_id) + 1),
            message_id,
            _MESSAGE_STATE_DELIVERED,
        )
        return HEADER.pack(16 + len(body), _DELIVER_SM, 0, sequence_number) + body


class CeilingFactory(ServerFactory):
    """Shared by every connection: the message id counter and the receipt switch."""

    noisy = False

    def __init__(self, *, receipts: bool) -> None:
        self.receipts = receipts
        self.receipt_frames = ReceiptFrames()
        self.next_message_id = 1

    def buildProtocol(self, addr: IAddress | None) -> CeilingProtocol:
        return CeilingProtocol(self)


class CeilingProtocol(Protocol):
    def __init__(self, factory: CeilingFactory) -> None:
        self.ceiling = factory
        self.frames = FrameBuffer()
        self.deliver_sequence = 0

    def connectionMade(self) -> None:
        transport = self.transport
        set_no_delay = getattr(transport, "setTcpNoDelay", None)
        if set_no_delay is not None:
            set_no_delay(True)

    def dataReceived(self, data: bytes) -> None:
        transport = self.transport
        assert transport is not None
        frames = self.frames
        frames.feed(data)
        out: list[bytes] = []
        try:
            while (frame := frames.next_frame()) is not None:
                if self.answer(frame, out):
                    transport.write(b"".join(out))
                    transport.loseConnection()
                    return
        except FramingError as error:
            out.append(
                encode(
                    GenericNack(
                        sequence_number=error.sequence_number,
                        command_status=error.command_status,
                    )
                )
            )
            transport.write(b"".join(out))
            transport.loseConnection()
            return
        if out:
            transport.write(b"".join(out))

    def answer(self, frame: bytes, out: list[bytes]) -> bool:
        """Append the answer to ``frame`` to ``out``; True when the connection should close."""
        _, command_id, _, sequence = peek_header(frame)
        if command_id == _SUBMIT_SM:
            ceiling = self.ceiling
            message_id = b"%d" % ceiling.next_message_id
            ceiling.next_message_id += 1
            out.append(
                HEADER.pack(17 + len(message_id), _SUBMIT_SM_RESP, 0, sequence)
                + message_id
                + b"\x00"
            )
            if ceiling.receipts:
                self.deliver_sequence += 1
                out.append(ceiling.receipt_frames.frame(message_id, self.deliver_sequence))
        elif command_id & _RESPONSE:
            pass  # deliver_sm_resp, enquire_link_resp, generic_nack: nothing to do
        elif command_id == _ENQUIRE_LINK:
            out.append(HEADER.pack(16, _ENQUIRE_LINK | _RESPONSE, 0, sequence))
        elif command_id in _BINDS:
            body = SYSTEM_ID + b"\x00"
            out.append(HEADER.pack(16 + len(body), command_id | _RESPONSE, 0, sequence) + body)
        elif command_id == _UNBIND:
            out.append(HEADER.pack(16, _UNBIND | _RESPONSE, 0, sequence))
            return True
        else:
            out.append(encode(GenericNack(sequence_number=sequence, command_status=_RINVCMDID)))
        return False


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ceiling", description="Trivial SMPP responder (the ceiling)."
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one")
    parser.add_argument("--interface", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--receipts", action="store_true", help="send a delivery receipt after every submit_sm_resp"
    )
    parser.add_argument(
        "--lifetime",
        type=float,
        default=3600.0,
        help="stop by itself after this many seconds (default 3600)",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error("--port must be 0..65535")
    if not 0 < args.lifetime <= 86400:
        parser.error("--lifetime must be in (0, 86400] seconds")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    from twisted.internet import reactor
    from twisted.internet.interfaces import IReactorCore, IReactorTCP, IReactorTime

    tcp = IReactorTCP(reactor)
    port = tcp.listenTCP(
        args.port, CeilingFactory(receipts=args.receipts), interface=args.interface
    )
    host = port.getHost()
    core = IReactorCore(reactor)

    def announce() -> None:
        # Once the reactor runs, its SIGTERM handler is in place: a parent may stop us cleanly.
        sys.stdout.write(f"listening on tcp:{host.host}:{host.port}\n")  # type: ignore[attr-defined]
        sys.stdout.flush()

    core.callWhenRunning(announce)
    IReactorTime(reactor).callLater(args.lifetime, core.stop)
    core.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
