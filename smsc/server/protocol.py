"""The Twisted side of one SMPP connection: bytes in, one call per event, bytes out.

No business decisions here: requests go to the service (``SmppEndpoint`` below), which answers
through :meth:`SmppServerProtocol.respond`; outgoing requests (deliver_sm, enquire_link, unbind)
go out through :meth:`SmppServerProtocol.send_request`.
"""

from __future__ import annotations

from typing import Any
from typing import Protocol as TypingProtocol

from twisted.internet.interfaces import IAddress, IDelayedCall, IPushProducer, IReactorTime
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from smsc.pdu import frames, pdus
from smsc.pdu.codec import encode
from smsc.pdu.constants import CommandStatus
from smsc.pdu.events import (
    EnquireLinkDue,
    InactivityTimeout,
    ProtocolViolation,
    RequestReceived,
    RequestRefused,
    ResponseReceived,
    ResponseTimeout,
    StreamFailed,
)
from smsc.pdu.session import LocalProtocolError, Session
from smsc.pdu.transitions import SessionState
from smsc.server.lograte import LogLimiter, suppressed_note

_log = Logger()


class SmppEndpoint(TypingProtocol):
    """What a connection reports to (the service)."""

    def connected(self, conn: SmppServerProtocol) -> None: ...

    def request(self, conn: SmppServerProtocol, pdu: pdus.Pdu) -> None: ...

    def response(self, conn: SmppServerProtocol, pdu: pdus.Pdu, request: pdus.Pdu) -> None: ...

    def no_response(self, conn: SmppServerProtocol, request: pdus.Pdu) -> None: ...

    def disconnected(self, conn: SmppServerProtocol, abandoned: list[pdus.Pdu]) -> None: ...

    def new_session(self, now: float) -> Session: ...

    def drained(self, conn: SmppServerProtocol) -> None: ...


# Defaults of the [server] settings of the same names (see docs/operations.md).
OUTPUT_BUFFER = 64 * 1024
DRAIN_TIMEOUT = 20.0
UNBOUND_ERROR_LIMIT = 10


def _transports(transport: Any) -> list[Any]:
    """The transport and those under it (TLS wraps TCP), outermost first."""
    chain = []
    for _ in range(4):
        if transport is None:
            break
        chain.append(transport)
        transport = getattr(transport, "transport", None)
    return chain


@implementer(IPushProducer)
class SmppServerProtocol(Protocol):
    """One customer connection. ``bind`` is set by the service once the bind succeeded.

    It is the producer of its own transport: when the transport holds more than
    ``output_buffer`` unsent bytes it pauses us, and we stop reading (a peer that sends and
    never reads gets no further answers, and the kernel's buffers push back on it). Output
    that does not drain within ``drain_timeout`` aborts the connection; so does a close whose
    output is not written within it."""

    def __init__(self, endpoint: SmppEndpoint, clock: IReactorTime) -> None:
        self.endpoint = endpoint
        self.clock = clock
        self.session: Session = endpoint.new_session(clock.seconds())
        self.bind: object | None = None  # the service's record of this bind
        self.peer_host = ""
        self.connected_at = clock.seconds()
        self.closing = False
        self.close_when_answered = False  # unbound: close once every request is answered
        self.receipt_window = self.session.window  # deliver_sm in flight at most
        self.output_buffer = OUTPUT_BUFFER
        self.drain_timeout = DRAIN_TIMEOUT
        self.unbound_error_limit = UNBOUND_ERROR_LIMIT
        self.paused = False  # the transport's output is over output_buffer: not reading
        self.held = False  # paused, or refusing anything more from this peer
        self.lost = False  # connectionLost ran
        self.closed_for = ""  # why the server closed or aborted it ("" while open)
        self.errors_in_row = 0  # invalid or unsolicited PDUs in a row while unbound
        self._drain_call: IDelayedCall | None = None
        self._close_call: IDelayedCall | None = None
        self._logs: LogLimiter | None = None  # made at the first log line
        self._registered = False  # the producer of our transport
        self._aborted = False

    # --- Twisted callbacks ----------------------------------------------------------------
    def connectionMade(self) -> None:
        transport = self.transport
        peer: IAddress = transport.getPeer()  # type: ignore[union-attr]
        self.peer_host = str(getattr(peer, "host", ""))
        for t in _transports(transport):
            if hasattr(t, "bufferSize"):  # a file descriptor (TCP under TLS, or TCP)
                t.bufferSize = self.output_buffer
        transport.registerProducer(self, True)  # type: ignore[union-attr]
        self._registered = True
        self.endpoint.connected(self)

    def dataReceived(self, data: bytes) -> None:
        self.session.receive_data(data, self.clock.seconds())
        self._handle_events()

    def _handle_events(self) -> None:
        session = self.session
        endpoint = self.endpoint
        while not self.held:
            event = session.next_event()
            if event is None:
                return
            if type(event) is RequestReceived:
                endpoint.request(self, event.pdu)
                self.errors_in_row = 0
            elif type(event) is ResponseReceived:
                endpoint.response(self, event.pdu, event.request)
                self.errors_in_row = 0
            elif isinstance(event, RequestRefused):
                self._write(event.data)
                if self.bind is None:
                    self._unbound_error(event.response.sequence_number)
            elif isinstance(event, ProtocolViolation):
                self.log_info("violation", "{peer}: {reason}", reason=event.reason)
                if event.request is not None:
                    self.endpoint.no_response(self, event.request)
                if self.bind is None:
                    self._unbound_error(event.sequence_number)
            elif isinstance(event, StreamFailed):
                self.log_info("stream", "{peer}: closing, {reason}", reason=event.reason)
                self._write(event.data)
                self.close()
                return

    def _unbound_error(self, sequence_number: int) -> None:
        """One more invalid or unsolicited PDU before a bind: at the limit, a generic_nack and
        the connection closes; what the peer sent after it is not read."""
        self.errors_in_row += 1
        if self.errors_in_row < self.unbound_error_limit:
            return
        self.log_info("unbound_errors", "{peer}: {n} invalid or unsolicited PDUs in a row "
                      "before a bind, closing", n=self.errors_in_row)
        self._write(encode(pdus.GenericNack(sequence_number=sequence_number,
                                            command_status=CommandStatus.ESME_RINVBNDSTS)))
        self.held = True
        self.closed_for = "unbound_errors"
        self.close()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.lost = True
        self.held = True
        for call in (self._drain_call, self._close_call):
            if call is not None and call.active():
                call.cancel()
        self._drain_call = self._close_call = None
        if self._logs is not None:
            left_out = self._logs.forget_all()
            if left_out:
                _log.info("{peer}: {n} similar log lines of this connection were suppressed",
                          peer=self.peer_host, n=left_out)
        abandoned = self.session.close()
        self.endpoint.disconnected(self, abandoned)

    # --- producer of the transport (IPushProducer) ----------------------------------------------
    def pauseProducing(self) -> None:
        """The transport holds more than ``output_buffer`` unsent bytes: stop reading (and
        handling what was read) until it drains; abort if it does not within drain_timeout."""
        if self.paused or self.lost:
            return
        self.paused = True
        self.held = True
        self._reading(False)
        if self._drain_call is None:
            self._drain_call = self.clock.callLater(self.drain_timeout, self._not_drained,
                                                    "drain_timeout")

    def resumeProducing(self) -> None:
        """The transport wrote everything: read again, handle what waited, and tell the
        service (receipts may go out again)."""
        if not self.paused or self.lost:
            return
        self.paused = False
        if self._drain_call is not None and self._drain_call.active():
            self._drain_call.cancel()
        self._drain_call = None
        if self.closed_for:  # closing: nothing more is read
            return
        self.held = False
        self._reading(True)
        self._handle_events()
        if not self.paused and not self.lost:
            self.endpoint.drained(self)

    def _reading(self, on: bool) -> None:
        """Start or stop reading the socket (under TLS, the TCP transport beneath it)."""
        for t in _transports(self.transport):
            if hasattr(t, "pauseProducing"):
                (t.resumeProducing if on else t.pauseProducing)()
                return

    def stopProducing(self) -> None:
        """The transport is gone (connectionLost follows)."""

    def _not_drained(self, why: str) -> None:
        self._drain_call = None
        self._close_call = None
        if self.lost:
            return
        self.log_info(why, "{peer}: {n} bytes not taken by the peer in {t:g} s, aborting",
                      n=self.unsent_bytes(), t=self.drain_timeout)
        self.abort(why)

    def unsent_bytes(self) -> int:
        """Bytes written to the transport and not yet to the socket (TCP under TLS counted)."""
        total = 0
        for t in _transports(self.transport):
            buffer = getattr(t, "dataBuffer", None)
            if isinstance(buffer, bytes):
                total += (len(buffer) - int(getattr(t, "offset", 0))
                          + int(getattr(t, "_tempDataLen", 0)))
        return total

    # --- rate-limited logging -------------------------------------------------------------------
    def log_info(self, cause: str, fmt: str, **fields: object) -> None:
        """An info line about this peer (``{peer}`` in ``fmt``), at most a few per ``cause``
        in a burst and then one every few seconds; the next one written counts those left
        out."""
        if self._logs is None:
            self._logs = LogLimiter(max_keys=16)
        left_out = self._logs.allow(cause, self.clock.seconds())
        if left_out is None:
            return
        _log.info(fmt + "{suppressed}", peer=self.peer_host,
                  suppressed=suppressed_note(left_out), **fields)

    # --- used by the service --------------------------------------------------------------
    def respond(self, pdu: pdus.Pdu) -> None:
        """Answer a request received on this connection."""
        session = self.session
        if session.state is SessionState.CLOSED:
            return
        try:
            self._write(session.send(pdu, self.clock.seconds()))
        except LocalProtocolError as e:  # pragma: no cover - a bug in the service
            _log.error("{peer}: not sent: {error}", peer=self.peer_host, error=str(e))
        if self.close_when_answered and not session.unanswered_requests:
            self.close()

    def finish(self) -> None:
        """Close once every request received so far is answered (after an unbind)."""
        self.close_when_answered = True
        if not self.session.unanswered_requests:
            self.close()
        else:  # answers still owed (a commit under way): do not wait for ever
            self.clock.callLater(2.0, self.close)

    def send_request(self, pdu: pdus.Pdu) -> pdus.Pdu | None:
        """Send a request (deliver_sm, enquire_link, unbind); returns it with its
        sequence_number, or None when the window or the state does not allow it now. A PDU
        built with ``session.next_sequence_number()`` saves a copy."""
        session = self.session
        if not session.may_send(pdu.command_id):
            return None
        if pdu.sequence_number == 0:
            pdu = pdu.replace(sequence_number=session.next_sequence_number())
        try:
            data = session.send(pdu, self.clock.seconds())
        except LocalProtocolError:
            return None
        self._write(data)
        return pdu

    @property
    def free_slots(self) -> int:
        session = self.session
        if session.state is SessionState.CLOSED or self.paused:
            return 0
        return max(0, self.receipt_window - len(session.outstanding_requests))

    def send_frame(self, frame: bytes) -> pdus.Pdu | None:
        """Send a pre-encoded request whose sequence_number is 0 (an outbox item): numbered,
        accounted in the session, written. None when the window or the state refuses it."""
        session = self.session
        if not session.may_send(frames.command_id(frame)):
            return None
        seq = session.next_sequence_number()
        stand_in = frames.stand_in(frame, seq)
        try:
            data = session.send_encoded(stand_in, frames.with_sequence_number(frame, seq),
                                        self.clock.seconds())
        except LocalProtocolError:
            return None
        self._write(data)
        return stand_in

    def tick(self, now: float) -> None:
        for event in self.session.tick(now):
            if isinstance(event, ResponseTimeout):
                self.endpoint.no_response(self, event.request)
            elif isinstance(event, EnquireLinkDue):
                if self.bind is not None:  # SMPP 3.4 has enquire_link in bound states only
                    self.send_request(pdus.EnquireLink())
            elif isinstance(event, InactivityTimeout):
                self.log_info("inactivity", "{peer}: nothing received for too long, closing")
                self.unbind_and_close()

    def unbind_and_close(self) -> None:
        """Ask the customer to unbind, then close (now if the state has no unbind)."""
        if self.closing:
            return
        self.closing = True
        if self.send_request(pdus.Unbind()) is None:
            self.close()
        else:
            self.clock.callLater(2.0, self.close)

    def close(self) -> None:
        """Close once the output is written; abort if it is not within drain_timeout."""
        transport = self.transport
        if transport is None or self.lost or self._close_call is not None:
            return
        if not self.closed_for:
            self.closed_for = "closed"
        # A registered producer keeps a transport from closing: it goes first.
        if self._registered:
            self._registered = False
            transport.unregisterProducer()  # type: ignore[attr-defined]
        transport.loseConnection()
        if not self.lost:
            self._close_call = self.clock.callLater(self.drain_timeout, self._not_drained,
                                                    "close_timeout")

    def abort(self, why: str) -> None:
        """Drop the connection now, unsent output and all."""
        transport = self.transport
        if transport is None or self.lost or self._aborted:
            return
        self._aborted = True
        self.closed_for = why
        self.held = True
        self.closing = True
        abort = getattr(transport, "abortConnection", None)
        if abort is not None:
            abort()
        else:  # pragma: no cover - every transport of ours can abort
            transport.loseConnection()

    def _write(self, data: bytes) -> None:
        self.transport.write(data)  # type: ignore[union-attr]


class SmppServerFactory(Factory):
    """Builds a protocol per connection, all reporting to one endpoint."""

    noisy = False  # the service announces its listeners itself

    def __init__(self, endpoint: SmppEndpoint, clock: IReactorTime,
                 receipt_window: int = 64, *, output_buffer: int = OUTPUT_BUFFER,
                 drain_timeout: float = DRAIN_TIMEOUT,
                 unbound_error_limit: int = UNBOUND_ERROR_LIMIT) -> None:
        self.endpoint = endpoint
        self.clock = clock
        self.receipt_window = receipt_window
        self.output_buffer = output_buffer
        self.drain_timeout = drain_timeout
        self.unbound_error_limit = unbound_error_limit

    def buildProtocol(self, addr: IAddress | None) -> SmppServerProtocol:
        protocol = SmppServerProtocol(self.endpoint, self.clock)
        protocol.receipt_window = min(protocol.session.window, self.receipt_window)
        protocol.output_buffer = self.output_buffer
        protocol.drain_timeout = self.drain_timeout
        protocol.unbound_error_limit = self.unbound_error_limit
        protocol.factory = self
        return protocol
