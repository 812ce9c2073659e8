"""A blocking SMPP client (ESME) on a plain socket, for ``smsc send``: no reactor, every wait
bounded.

The wire is :class:`smsc.pdu.session.Session` in the ESME role: this module only moves octets
between it and the socket. Requests from the server are answered at once (deliver_sm with
ESME_ROK, enquire_link, unbind) and deliver_sm are kept, with the time they came, for the
caller to read. A receipt for a message this connection did not submit (one waiting for the
account's own client) is answered with ESME_RX_T_APPN, a temporary error: the server keeps it
and delivers it again later, to another receiver of the account.
"""

from __future__ import annotations

import contextlib
import re
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from smsc.pdu import pdus
from smsc.pdu.constants import CommandStatus, EsmClass, Tag
from smsc.pdu.events import (
    ProtocolViolation,
    RequestReceived,
    RequestRefused,
    ResponseReceived,
    StreamFailed,
)
from smsc.pdu.session import LocalProtocolError, Session
from smsc.pdu.transitions import Role

MAX_KEPT: Final = 100_000  # deliver_sm kept for the caller; older ones are dropped
MAX_OWN_IDS: Final = 1_000_000  # message ids this connection was given (a bounded memory)
_RECEIPT_TYPES: Final = EsmClass.TYPE_DELIVERY_RECEIPT | EsmClass.TYPE_INTERMEDIATE_NOTIFICATION
_RECEIPT_ID: Final = re.compile(rb"id:(\S+)")
MAX_EVENTS_PER_READ: Final = 100_000
_READ_SIZE: Final = 65_536


class EsmeError(Exception):
    """The connection failed, timed out, or the server broke the protocol."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivered:
    """A deliver_sm from the server (a receipt or an MO message) and when it came."""

    pdu: pdus.DeliverSm
    at: float


class BlockingEsme:
    """One connection to an SMSC. Use as a context manager; ``close`` is idempotent."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float = 10.0,
        window: int = 64,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.timeout = timeout
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as e:
            raise EsmeError(f"cannot connect to {host}:{port}: {e.strerror or e}") from None
        self.session = Session(Role.ESME, now=clock(), window=window)
        self.responses: dict[int, tuple[pdus.Pdu, float]] = {}
        self.delivered: deque[Delivered] = deque(maxlen=MAX_KEPT)
        self.own_ids: set[str] = set()  # from our submit responses, for telling receipts apart
        self.passed_on = 0  # receipts of other clients' messages, refused for the server to keep
        self.closed = False
        self.unbound_by_server = False

    def __enter__(self) -> BlockingEsme:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.session.close()
        self.sock.close()

    # --- sending -------------------------------------------------------------------------
    def send(self, pdu: pdus.Pdu) -> tuple[int, float]:
        """Send a request; its sequence_number and the time it left."""
        if self.closed:
            raise EsmeError("the connection is closed")
        seq = self.session.next_sequence_number()
        now = self.clock()
        try:
            data = self.session.send(pdu.replace(sequence_number=seq), now)
        except LocalProtocolError as e:
            raise EsmeError(str(e)) from None
        self._write(data)
        return seq, now

    def _write(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as e:
            self.closed = True
            raise EsmeError(f"the connection failed: {e.strerror or e}") from None

    # --- receiving ------------------------------------------------------------------------
    def pump(self, timeout: float) -> None:
        """Read once, waiting at most ``timeout`` seconds, and handle what came."""
        if self.closed:
            raise EsmeError("the server closed the connection")
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(_READ_SIZE)
        except TimeoutError:
            return
        except OSError as e:
            data = b""
            if not isinstance(e, ConnectionResetError):
                self.closed = True
                raise EsmeError(f"the connection failed: {e.strerror or e}") from None
        now = self.clock()
        if not data:
            self.closed = True
            return
        self.session.receive_data(data, now)
        for _ in range(MAX_EVENTS_PER_READ):
            event = self.session.next_event()
            if event is None:
                return
            if isinstance(event, ResponseReceived):
                self.responses[event.pdu.sequence_number] = (event.pdu, now)
                message_id = getattr(event.pdu, "message_id", "")
                if message_id and len(self.own_ids) < MAX_OWN_IDS:
                    self.own_ids.add(message_id)
            elif isinstance(event, RequestReceived):
                self._answer(event.pdu, now)
            elif isinstance(event, RequestRefused):
                self._write(event.data)
            elif isinstance(event, StreamFailed):
                self._write(event.data)
                self.close()
                raise EsmeError(f"the server's stream broke: {event.reason}")
            elif isinstance(event, ProtocolViolation):
                raise EsmeError(f"the server broke the protocol: {event.reason}")

    def foreign_receipt(self, pdu: pdus.DeliverSm) -> bool:
        """A receipt (or intermediate notification) about a message we did not submit."""
        if not pdu.esm_class & _RECEIPT_TYPES:
            return False
        message_id = pdu.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID)
        if message_id is None:
            found = _RECEIPT_ID.match(pdu.short_message)
            message_id = found.group(1).decode("latin-1") if found else ""
        return message_id not in self.own_ids

    def _answer(self, pdu: pdus.Pdu, now: float) -> None:
        if isinstance(pdu, pdus.DeliverSm) and self.foreign_receipt(pdu):
            self.passed_on += 1  # for the account's own client: the server keeps it
            answer: pdus.Pdu = pdus.DeliverSmResp(sequence_number=pdu.sequence_number,
                                                  command_status=CommandStatus.ESME_RX_T_APPN)
        elif isinstance(pdu, pdus.DeliverSm):
            self.delivered.append(Delivered(pdu=pdu, at=now))
            answer = pdus.DeliverSmResp(sequence_number=pdu.sequence_number)
        elif isinstance(pdu, pdus.Unbind):
            self.unbound_by_server = True
            answer = pdus.UnbindResp(sequence_number=pdu.sequence_number)
        else:
            try:
                answer = pdu.response()
            except TypeError:  # alert_notification, outbind: no response
                return
        self._write(self.session.send(answer, now))

    def take_delivered(self) -> list[Delivered]:
        """The deliver_sm received since the last call, oldest first."""
        items = list(self.delivered)
        self.delivered.clear()
        return items

    def wait_for(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Pump until ``condition()`` holds (True) or ``timeout`` seconds pass (False)."""
        deadline = self.clock() + timeout
        while not condition():
            remaining = deadline - self.clock()
            if remaining <= 0:
                return False
            if self.closed:
                raise EsmeError("the server closed the connection")
            self.pump(remaining)
        return True

    def response(self, seq: int, timeout: float | None = None) -> tuple[pdus.Pdu, float]:
        """The response to request ``seq`` and when it came; EsmeError after ``timeout``."""
        wait = self.timeout if timeout is None else timeout
        if not self.wait_for(lambda: seq in self.responses, wait):
            raise EsmeError(f"no response to request {seq} within {wait:g} s")
        return self.responses.pop(seq)

    def request(self, pdu: pdus.Pdu, timeout: float | None = None) -> tuple[pdus.Pdu, float]:
        """Send a request and wait for its response; (response, seconds it took)."""
        seq, sent = self.send(pdu)
        response, at = self.response(seq, timeout)
        return response, at - sent

    # --- session ---------------------------------------------------------------------------
    def bind_transceiver(self, system_id: str, password: str) -> tuple[pdus.Pdu, float]:
        return self.request(pdus.BindTransceiver(system_id=system_id, password=password))

    def unbind(self, timeout: float = 2.0) -> None:
        """Unbind politely (bounded), then close."""
        if not self.closed:
            with contextlib.suppress(EsmeError):
                self.request(pdus.Unbind(), timeout)
        self.close()
