"""The Twisted side of one SMPP connection: bytes in, one call per event, bytes out.

No business decisions here: requests go to the service (``SmppEndpoint`` below), which answers
through :meth:`SmppServerProtocol.respond`; outgoing requests (deliver_sm, enquire_link, unbind)
go out through :meth:`SmppServerProtocol.send_request`.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol as TypingProtocol

from twisted.internet.interfaces import IAddress, IReactorTime
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsc.pdu import pdus
from smsc.pdu.codec import decode
from smsc.pdu.session import (
    EnquireLinkDue,
    InactivityTimeout,
    LocalProtocolError,
    ProtocolViolation,
    RequestReceived,
    RequestRefused,
    ResponseReceived,
    ResponseTimeout,
    Session,
    StreamFailed,
)
from smsc.pdu.transitions import SessionState
from smsc.slotted import slot_constructor

_log = Logger()
_DELIVER_SM = b"\x00\x00\x00\x05"


_make_deliver_sm = slot_constructor(pdus.DeliverSm)
_DELIVER_SM_FIELDS = tuple(f.name for f in dataclasses.fields(pdus.DeliverSm))
_DELIVER_SM_DEFAULTS = tuple(getattr(pdus.DeliverSm(), name) for name in _DELIVER_SM_FIELDS)
_SEQUENCE_AT = _DELIVER_SM_FIELDS.index("sequence_number")


def _deliver_sm_stand_in(sequence_number: int) -> pdus.DeliverSm:
    """What the session keeps of a stored deliver_sm it sends: enough to match the answer
    (a default deliver_sm with that number, built without the dataclass's slow init)."""
    values = list(_DELIVER_SM_DEFAULTS)
    values[_SEQUENCE_AT] = sequence_number
    return _make_deliver_sm(*values)


class SmppEndpoint(TypingProtocol):
    """What a connection reports to (the service)."""

    def connected(self, conn: SmppServerProtocol) -> None: ...

    def request(self, conn: SmppServerProtocol, pdu: pdus.Pdu) -> None: ...

    def response(self, conn: SmppServerProtocol, pdu: pdus.Pdu, request: pdus.Pdu) -> None: ...

    def no_response(self, conn: SmppServerProtocol, request: pdus.Pdu) -> None: ...

    def disconnected(self, conn: SmppServerProtocol, abandoned: list[pdus.Pdu]) -> None: ...

    def new_session(self, now: float) -> Session: ...


class SmppServerProtocol(Protocol):
    """One customer connection. ``bind`` is set by the service once the bind succeeded."""

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

    # --- Twisted callbacks ----------------------------------------------------------------
    def connectionMade(self) -> None:
        peer: IAddress = self.transport.getPeer()  # type: ignore[union-attr]
        self.peer_host = str(getattr(peer, "host", ""))
        self.endpoint.connected(self)

    def dataReceived(self, data: bytes) -> None:
        session = self.session
        session.receive_data(data, self.clock.seconds())
        endpoint = self.endpoint
        while True:
            event = session.next_event()
            if event is None:
                return
            if type(event) is RequestReceived:
                endpoint.request(self, event.pdu)
            elif type(event) is ResponseReceived:
                endpoint.response(self, event.pdu, event.request)
            elif isinstance(event, RequestRefused):
                self._write(event.data)
            elif isinstance(event, ProtocolViolation):
                _log.info("{peer}: {reason}", peer=self.peer_host, reason=event.reason)
                if event.request is not None:
                    self.endpoint.no_response(self, event.request)
            elif isinstance(event, StreamFailed):
                _log.info("{peer}: closing, {reason}", peer=self.peer_host, reason=event.reason)
                self._write(event.data)
                self.close()
                return

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        abandoned = self.session.close()
        self.endpoint.disconnected(self, abandoned)

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
        if session.state is SessionState.CLOSED:
            return 0
        return max(0, self.receipt_window - len(session.outstanding_requests))

    def send_frame(self, frame: bytes) -> pdus.Pdu | None:
        """Send a pre-encoded request whose sequence_number is 0 (an outbox item): numbered,
        accounted in the session, written. None when the window or the state refuses it."""
        session = self.session
        if not session.may_send(int.from_bytes(frame[4:8], "big")):
            return None
        seq = session.next_sequence_number()
        numbered = frame[:12] + seq.to_bytes(4, "big") + frame[16:]
        stand_in = _deliver_sm_stand_in(seq) if frame[4:8] == _DELIVER_SM else decode(numbered)
        try:
            data = session.send_encoded(stand_in, numbered, self.clock.seconds())
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
                _log.info("{peer}: nothing received for too long, closing", peer=self.peer_host)
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
        if self.transport is not None:
            self.transport.loseConnection()

    def _write(self, data: bytes) -> None:
        self.transport.write(data)  # type: ignore[union-attr]


class SmppServerFactory(Factory):
    """Builds a protocol per connection, all reporting to one endpoint."""

    noisy = False  # the service announces its listeners itself

    def __init__(self, endpoint: SmppEndpoint, clock: IReactorTime,
                 receipt_window: int = 64) -> None:
        self.endpoint = endpoint
        self.clock = clock
        self.receipt_window = receipt_window

    def buildProtocol(self, addr: IAddress | None) -> SmppServerProtocol:
        protocol = SmppServerProtocol(self.endpoint, self.clock)
        protocol.receipt_window = min(protocol.session.window, self.receipt_window)
        protocol.factory = self
        return protocol
