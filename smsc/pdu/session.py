"""The SMPP session state machine, sans-I/O: bytes in, events out; PDUs in, bytes out.

One :class:`Session` is one end of one connection, SMSC or ESME. It never touches a socket or a
clock: the caller feeds received octets with :meth:`Session.receive_data`, takes events with
:meth:`Session.next_event` until it returns None, turns outgoing PDUs into octets with
:meth:`Session.send`, and drives the timers with :meth:`Session.tick` at the time
:meth:`Session.next_deadline` asks for. Every time is a float in seconds passed in as ``now``.

Which PDU may pass in which state is :data:`smsc.pdu.transitions.TABLE`; the session compiles it
into one dict per state, so the legality check on the hot path is a single dict lookup.

The events are the classes of :mod:`smsc.pdu.events`.

Errors: :meth:`receive_data` and :meth:`next_event` never raise. Whatever the peer sends becomes an
event; an incoming request the session cannot accept becomes :class:`RequestRefused`, carrying the
encoded response to write. :meth:`send` raises :class:`LocalProtocolError` (or its subclass
:class:`WindowFull`) for this side's own mistakes, and :class:`~smsc.pdu.errors.PduError` when the
codec cannot encode a field; in both cases nothing in the session has changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Final

from smsc.pdu import pdus
from smsc.pdu.codec import DECODERS, HEADER, Decoder, encode
from smsc.pdu.constants import HEADER_LENGTH, RESPONSE_BIT, CommandId, CommandStatus
from smsc.pdu.errors import FramingError, PduError
from smsc.pdu.events import (
    EnquireLinkDue,
    Event,
    InactivityTimeout,
    ProtocolViolation,
    RequestReceived,
    RequestRefused,
    ResponseReceived,
    ResponseTimeout,
    StreamFailed,
    TimerEvent,
)
from smsc.pdu.framing import DEFAULT_MAX_PDU_LENGTH, FrameBuffer
from smsc.pdu.transitions import TABLE, Direction, Role, SessionState, sender_of

MAX_SEQUENCE_NUMBER: Final = 0x7FFFFFFF
# Room beyond the window for bind, unbind and enquire_link, so a window full of messages never
# blocks the requests that keep the session alive or end it.
MANAGEMENT_SLOTS: Final = 4
# Status for a request that reuses the sequence_number of one still awaiting our response.
DUPLICATE_SEQUENCE_STATUS: Final = CommandStatus.ESME_RUNKNOWNERR
# Status for a bind received while another bind still awaits its response.
BIND_IN_PROGRESS_STATUS: Final = CommandStatus.ESME_RALYBND

_BINDS: Final = frozenset(
    {CommandId.BIND_TRANSMITTER, CommandId.BIND_RECEIVER, CommandId.BIND_TRANSCEIVER}
)
_MANAGEMENT: Final = _BINDS | {CommandId.UNBIND, CommandId.ENQUIRE_LINK}
_GENERIC_NACK: Final = int(CommandId.GENERIC_NACK)
_CLOSED: Final = SessionState.CLOSED
_unpack_header = HEADER.unpack_from
_new = object.__new__


class LocalProtocolError(Exception):
    """This side tried to send something the protocol does not allow now (a caller's mistake)."""


class WindowFull(LocalProtocolError):
    """A request was sent while ``window`` requests already await their responses."""


_Setter = Callable[[object, object], None]


def _slot_setter(cls: type, name: str) -> _Setter:
    """The ``__set__`` of a slot: sets a field of a frozen slotted instance directly."""
    for klass in cls.__mro__:
        descriptor = klass.__dict__.get(name)
        if descriptor is not None and hasattr(descriptor, "__set__"):
            setter: _Setter = descriptor.__set__
            return setter
    raise AttributeError(f"{cls.__name__} has no slot {name}")  # pragma: no cover


# The hot path builds these two events without the frozen dataclass __init__ (a third the cost).
_set_received_pdu = _slot_setter(RequestReceived, "pdu")
_set_response_pdu = _slot_setter(ResponseReceived, "pdu")
_set_response_request = _slot_setter(ResponseReceived, "request")


# --- the table compiled per (role, direction, state) --------------------------------------


@dataclass(frozen=True, slots=True)
class _Rule:
    legal: bool
    next_state: SessionState
    refusal: int
    is_request: bool
    answered: bool  # a request that has a response
    bind: bool
    enquire: bool
    management: bool
    decoder: Decoder


def _rule(state: SessionState, sender: Role, command_id: CommandId) -> _Rule:
    cell = TABLE[state, sender, command_id]
    cls = pdus.PDU_CLASSES_BY_ID[command_id]
    return _Rule(
        legal=cell.legal,
        next_state=cell.next_state,
        refusal=int(cell.refusal),
        is_request=not cls.is_response,
        answered=bool(cls.response_name),
        bind=command_id in _BINDS,
        enquire=command_id is CommandId.ENQUIRE_LINK,
        management=command_id in _MANAGEMENT,
        decoder=DECODERS[command_id],
    )


_Rules = tuple[dict[int, _Rule], ...]  # indexed by SessionState

_COMPILED: Final[dict[tuple[Role, Direction], _Rules]] = {
    (role, direction): tuple(
        {int(c): _rule(state, sender_of(role, direction), c) for c in CommandId}
        for state in SessionState
    )
    for role in Role
    for direction in Direction
}


# --- copying a request to give it a sequence_number ---------------------------------------

_Copier = tuple[tuple[str, _Setter], ...]
_COPIERS: dict[type[pdus.Pdu], _Copier] = {
    cls: tuple(
        (f.name, _slot_setter(cls, f.name)) for f in fields(cls) if f.name != "sequence_number"
    )
    for cls in pdus.PDU_CLASSES
}


def _with_sequence(pdu: pdus.Pdu, sequence_number: int) -> pdus.Pdu:
    """``pdu.replace(sequence_number=...)``, several times cheaper."""
    cls = type(pdu)
    copier = _COPIERS.get(cls)
    if copier is None:  # a subclass defined elsewhere
        return pdu.replace(sequence_number=sequence_number)
    out: pdus.Pdu = _new(cls)
    for name, setter in copier:
        setter(out, getattr(pdu, name))
    _SET_SEQUENCE(out, sequence_number)
    return out


_SET_SEQUENCE: Final = _slot_setter(pdus.Pdu, "sequence_number")


# --- the session --------------------------------------------------------------------------


class Session:
    """One end of one SMPP connection; see the module docstring and docs/session.md."""

    __slots__ = (
        "_bind_in_flight",
        "_enquire_link_interval",
        "_enquire_reported",
        "_enquires_out",
        "_frames",
        "_idle_reported",
        "_in_by_state",
        "_in_rules",
        "_inactivity_timeout",
        "_last_enquire_sent",
        "_last_received",
        "_max_pdu_length",
        "_next_sequence",
        "_now",
        "_out_by_state",
        "_out_rules",
        "_outstanding",
        "_outstanding_view",
        "_response_timeout",
        "_role",
        "_sent_at",
        "_state",
        "_unanswered",
        "_unanswered_view",
        "_window",
        "_window_full_status",
    )

    def __init__(
        self,
        role: Role,
        *,
        now: float,
        window: int = 64,
        max_pdu_length: int = DEFAULT_MAX_PDU_LENGTH,
        enquire_link_interval: float | None = None,
        inactivity_timeout: float | None = None,
        response_timeout: float = 30.0,
        window_full_status: int = CommandStatus.ESME_RTHROTTLED,
    ) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        if response_timeout <= 0:
            raise ValueError("response_timeout must be positive")
        for name, value in (
            ("enquire_link_interval", enquire_link_interval),
            ("inactivity_timeout", inactivity_timeout),
        ):
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive or None")
        self._role = Role(role)
        self._max_pdu_length = max_pdu_length
        self._frames = FrameBuffer(max_pdu_length)
        self._window = window
        self._window_full_status = int(window_full_status)
        self._enquire_link_interval = enquire_link_interval
        self._inactivity_timeout = inactivity_timeout
        self._response_timeout = response_timeout
        self._in_by_state = _COMPILED[self._role, Direction.IN]
        self._out_by_state = _COMPILED[self._role, Direction.OUT]
        self._state = SessionState.OPEN
        self._in_rules = self._in_by_state[SessionState.OPEN]
        self._out_rules = self._out_by_state[SessionState.OPEN]
        # Requests we sent that await a response: sequence_number -> request / time sent.
        # Both dicts keep sending order, so the oldest request is always first.
        self._outstanding: dict[int, pdus.Pdu] = {}
        self._sent_at: dict[int, float] = {}
        # Requests we received that await our response: sequence_number -> command_id.
        self._unanswered: dict[int, int] = {}
        self._outstanding_view: Mapping[int, pdus.Pdu] = MappingProxyType(self._outstanding)
        self._unanswered_view: Mapping[int, int] = MappingProxyType(self._unanswered)
        self._next_sequence = 1
        self._bind_in_flight = False
        self._enquires_out = 0
        self._now = now
        self._last_received = now
        self._last_enquire_sent = now
        self._idle_reported: float | None = None
        self._enquire_reported: float | None = None

    # --- what the caller may look at ----------------------------------------------------

    @property
    def role(self) -> Role:
        return self._role

    @property
    def state(self) -> SessionState:
        return self._state

    @property
    def max_pdu_length(self) -> int:
        return self._max_pdu_length

    @property
    def window(self) -> int:
        return self._window

    @property
    def outstanding_requests(self) -> Mapping[int, pdus.Pdu]:
        """Requests this side sent that await a response, by sequence_number, oldest first."""
        return self._outstanding_view

    @property
    def unanswered_requests(self) -> Mapping[int, int]:
        """Requests received that await this side's response: sequence_number -> command_id."""
        return self._unanswered_view

    @property
    def can_send_request(self) -> bool:
        """Whether the window has room for one more request (the state allowing it aside)."""
        return self._state is not _CLOSED and len(self._outstanding) < self._window

    def may_send(self, command_id: int) -> bool:
        """Whether the table allows this side to send ``command_id`` in the current state."""
        rule = self._out_rules.get(command_id)
        return rule is not None and rule.legal

    def next_sequence_number(self) -> int:
        """Take the next sequence_number (1..0x7FFFFFFF, wrapping, skipping ones in use).

        Building a request with it saves :meth:`send` copying the PDU to number it.
        """
        seq = self._next_sequence
        outstanding = self._outstanding
        while seq in outstanding:
            seq = seq % MAX_SEQUENCE_NUMBER + 1
        self._next_sequence = seq % MAX_SEQUENCE_NUMBER + 1
        return seq

    # --- bytes in, events out -----------------------------------------------------------

    def receive_data(self, data: bytes, now: float) -> None:
        """Buffer octets received at ``now``; then call :meth:`next_event` until it gives None.

        Octets received after the session is CLOSED are dropped.
        """
        self._now = now
        if self._state is not _CLOSED:
            self._frames.feed(data)

    def next_event(self) -> Event | None:
        """The next event from the buffered octets, or None when a whole PDU is not there yet."""
        if self._state is _CLOSED:
            return None
        try:
            frame = self._frames.next_frame()
        except FramingError as e:
            if e.command_id is None and len(self._frames) < HEADER_LENGTH:
                return None  # wait for the whole header: the generic_nack carries its number
            return self._stream_failed(e)
        if frame is None:
            return None
        self._last_received = self._now
        _, command_id, status, seq = _unpack_header(frame)
        rule = self._in_rules.get(command_id)
        if rule is None:
            return self._refuse(
                frame,
                None,
                command_id,
                seq,
                CommandStatus.ESME_RINVCMDID,
                f"unknown command_id 0x{command_id:08X}",
            )
        if rule.is_request:
            if not rule.legal:
                return self._refuse_illegal(frame, rule, command_id, seq)
            unanswered = self._unanswered
            if rule.answered and (
                len(unanswered) >= self._window
                or seq in unanswered
                or (rule.bind and self._bind_in_flight)
            ):
                refused = self._check_window(frame, rule, command_id, seq)
                if refused is not None:  # None: a management request in a spare slot
                    return refused
            try:
                pdu = rule.decoder(frame, len(frame), seq, status)
            except PduError as e:
                return self._refuse(frame, None, command_id, seq, e.command_status, str(e))
            if rule.answered:
                unanswered[seq] = command_id
                if rule.bind:
                    self._bind_in_flight = True
            received: RequestReceived = _new(RequestReceived)
            _set_received_pdu(received, pdu)
            return received
        # A response with the number of one of our requests releases it, accepted or not.
        request = self._outstanding.pop(seq, None)
        if request is None:
            return self._violation(frame, rule, command_id, seq, None, "no request awaits it")
        if command_id != request.command_id | RESPONSE_BIT and command_id != _GENERIC_NACK:
            return self._violation(
                frame, rule, command_id, seq, request, f"it does not answer {request.command_name}"
            )
        if not rule.legal:  # never true with today's table; keeps the table the authority
            return self._violation(
                frame, rule, command_id, seq, request, f"not legal in {self._state.name}"
            )
        try:
            pdu = rule.decoder(frame, len(frame), seq, status)
        except PduError as e:
            return self._violation(frame, None, command_id, seq, request, str(e))
        del self._sent_at[seq]
        if self._bind_in_flight or self._enquires_out:
            self._forget(request)
        if status == 0 and rule.next_state is not self._state:
            self._enter(rule.next_state)
        response: ResponseReceived = _new(ResponseReceived)
        _set_response_pdu(response, pdu)
        _set_response_request(response, request)
        return response

    # --- PDUs in, bytes out -------------------------------------------------------------

    def send(self, pdu: pdus.Pdu, now: float | None = None) -> bytes:
        """Check that this side may send ``pdu`` now, account for it, and return its octets.

        A request with sequence_number 0 is given the next one (the PDU returned by
        :meth:`outstanding_requests` and in events carries it). A response must answer a
        request in :attr:`unanswered_requests`. ``now`` starts a request's response timer; when
        omitted, the latest ``now`` given to any method is used.
        """
        if now is not None:
            self._now = now
        state = self._state
        if state is _CLOSED:
            raise LocalProtocolError(f"cannot send {pdu.command_name}: the session is closed")
        rule = self._out_rules.get(pdu.command_id)
        if rule is None:  # pragma: no cover - every PDU class has a table row
            raise LocalProtocolError(f"{pdu.command_name} is not in the table")
        if not rule.legal:
            raise LocalProtocolError(
                f"the {self.role.name} may not send {pdu.command_name} in {state.name}"
            )
        if rule.is_request:
            return self._send_request(pdu, rule)
        seq = pdu.sequence_number
        request_id = self._unanswered.get(seq)
        if request_id is None:
            raise LocalProtocolError(
                f"{pdu.command_name}: no received request with sequence_number {seq} "
                "awaits a response"
            )
        command_id = pdu.command_id
        if command_id != request_id | RESPONSE_BIT and command_id != _GENERIC_NACK:
            raise LocalProtocolError(
                f"{pdu.command_name} does not answer {CommandId(request_id).name.lower()}"
            )
        data = encode(pdu)
        del self._unanswered[seq]
        if self._bind_in_flight and request_id in _BINDS:
            self._bind_in_flight = False
        if pdu.command_status == 0 and rule.next_state is not state:
            self._enter(rule.next_state)
        return data

    def send_encoded(self, pdu: pdus.Pdu, data: bytes, now: float | None = None) -> bytes:
        """:meth:`send` for a request whose octets the caller has already: ``data`` must be the
        encoding of ``pdu``, sequence_number included (not 0). ``pdu`` is what the session
        keeps to match the response; it may be a lighter object of the same class carrying
        that sequence_number. Saves encoding a PDU twice (the server's stored receipts)."""
        if now is not None:
            self._now = now
        if self._state is _CLOSED:
            raise LocalProtocolError(f"cannot send {pdu.command_name}: the session is closed")
        rule = self._out_rules.get(pdu.command_id)
        if rule is None or not rule.legal or not rule.is_request:
            raise LocalProtocolError(
                f"the {self.role.name} may not send {pdu.command_name} in {self._state.name}"
            )
        if pdu.sequence_number == 0:
            raise LocalProtocolError("send_encoded needs a numbered request")
        return self._send_request(pdu, rule, data)

    def _send_request(self, pdu: pdus.Pdu, rule: _Rule, data: bytes | None = None) -> bytes:
        outstanding = self._outstanding
        if rule.answered:
            if len(outstanding) >= self._window and (
                not rule.management or len(outstanding) >= self._window + MANAGEMENT_SLOTS
            ):
                raise WindowFull(
                    f"{len(outstanding)} requests already await a response (window {self._window})"
                )
            if rule.bind and self._bind_in_flight:
                raise LocalProtocolError("a bind is already in progress")
        seq = pdu.sequence_number
        if seq == 0:
            seq = self.next_sequence_number()
            pdu = _with_sequence(pdu, seq)
        elif not 0 < seq <= MAX_SEQUENCE_NUMBER:
            raise LocalProtocolError(f"sequence_number {seq} is outside 1..0x7FFFFFFF")
        elif seq in outstanding:
            raise LocalProtocolError(f"sequence_number {seq} already awaits a response")
        if data is None:
            data = encode(pdu)
        if rule.answered:
            outstanding[seq] = pdu
            self._sent_at[seq] = self._now
            if rule.bind:
                self._bind_in_flight = True
            elif rule.enquire:
                self._enquires_out += 1
                self._last_enquire_sent = self._now
        return data

    def close(self) -> list[pdus.Pdu]:
        """The connection is gone: move to CLOSED and return the requests left unanswered."""
        abandoned = list(self._outstanding.values())
        self._outstanding.clear()
        self._sent_at.clear()
        self._unanswered.clear()
        self._bind_in_flight = False
        self._enquires_out = 0
        self._enter(_CLOSED)
        self._frames = FrameBuffer(self._max_pdu_length)
        return abandoned

    # --- timers -------------------------------------------------------------------------

    def tick(self, now: float) -> list[TimerEvent]:
        """The timer events due at ``now`` (``now`` never decreases between calls).

        Response timeouts come first, oldest request first; each timed-out request leaves the
        window. An inactivity timeout and a due enquire_link are each reported once per quiet
        period (until a PDU arrives or an enquire_link is sent).
        """
        self._now = now
        events: list[TimerEvent] = []
        if self._state is _CLOSED:
            return events
        if self._sent_at:
            limit = self._response_timeout
            expired = [(seq, at) for seq, at in self._sent_at.items() if at + limit <= now]
            for seq, sent_at in expired:
                request = self._outstanding.pop(seq)
                del self._sent_at[seq]
                self._forget(request)
                events.append(ResponseTimeout(request=request, sent_at=sent_at))
        idle = self._idle_deadline()
        if idle is not None and idle <= now:
            self._idle_reported = self._last_received
            events.append(InactivityTimeout(last_received=self._last_received))
        enquire = self._enquire_deadline()
        if enquire is not None and enquire <= now:
            quiet_since = max(self._last_received, self._last_enquire_sent)
            self._enquire_reported = quiet_since
            events.append(EnquireLinkDue(quiet_since=quiet_since))
        return events

    def next_deadline(self, now: float) -> float | None:
        """When :meth:`tick` next has something to report: a time >= ``now``, or None."""
        if self._state is _CLOSED:
            return None
        deadlines = [
            d
            for d in (self._response_deadline(), self._idle_deadline(), self._enquire_deadline())
            if d is not None
        ]
        return max(min(deadlines), now) if deadlines else None

    def _response_deadline(self) -> float | None:
        for sent_at in self._sent_at.values():
            return sent_at + self._response_timeout
        return None

    def _idle_deadline(self) -> float | None:
        if self._inactivity_timeout is None or self._idle_reported == self._last_received:
            return None
        return self._last_received + self._inactivity_timeout

    def _enquire_deadline(self) -> float | None:
        interval = self._enquire_link_interval
        if interval is None or self._enquires_out or not self.may_send(CommandId.ENQUIRE_LINK):
            return None
        quiet_since = max(self._last_received, self._last_enquire_sent)
        if self._enquire_reported == quiet_since:
            return None
        return quiet_since + interval

    # --- the slow paths -----------------------------------------------------------------

    def _check_window(
        self, frame: bytes, rule: _Rule, command_id: int, seq: int
    ) -> RequestRefused | None:
        """Refuse an incoming request past the window, reusing a busy number, or a second bind."""
        unanswered = self._unanswered
        count = len(unanswered)
        if count >= self._window and (
            not rule.management or count >= self._window + MANAGEMENT_SLOTS
        ):
            return self._refuse(
                frame,
                rule,
                command_id,
                seq,
                self._window_full_status,
                f"{count} requests already await a response (window {self._window})",
            )
        if seq in unanswered:
            return self._refuse(
                frame,
                rule,
                command_id,
                seq,
                DUPLICATE_SEQUENCE_STATUS,
                f"sequence_number {seq} is in use by a request awaiting a response",
            )
        if rule.bind and self._bind_in_flight:
            return self._refuse(
                frame, rule, command_id, seq, BIND_IN_PROGRESS_STATUS, "a bind is in progress"
            )
        return None

    def _enter(self, state: SessionState) -> None:
        self._state = state
        self._in_rules = self._in_by_state[state]
        self._out_rules = self._out_by_state[state]

    def _forget(self, request: pdus.Pdu) -> None:
        """Bookkeeping for a request of ours that left the window."""
        command_id = request.command_id
        if command_id in _BINDS:
            self._bind_in_flight = False
        elif command_id is CommandId.ENQUIRE_LINK:
            self._enquires_out -= 1

    def _refuse_illegal(self, frame: bytes, rule: _Rule, command_id: int, seq: int) -> Event:
        name = CommandId(command_id).name.lower()
        return self._refuse(
            frame,
            rule,
            command_id,
            seq,
            rule.refusal,
            f"{name} from the {_peer(self.role).name} is not legal in {self._state.name}",
        )

    def _refuse(
        self,
        frame: bytes,
        rule: _Rule | None,
        command_id: int,
        seq: int,
        status: int,
        reason: str,
    ) -> RequestRefused:
        request: pdus.Pdu | None = None
        if rule is not None:
            try:
                request = rule.decoder(frame, len(frame), seq, 0)
            except PduError:
                request = None
        response = pdus.error_response(command_id, seq, status)
        return RequestRefused(
            response=response, data=encode(response), request=request, reason=reason
        )

    def _violation(
        self,
        frame: bytes,
        rule: _Rule | None,
        command_id: int,
        seq: int,
        request: pdus.Pdu | None,
        reason: str,
    ) -> ProtocolViolation:
        pdu: pdus.Pdu | None = None
        if rule is not None:
            try:
                pdu = rule.decoder(frame, len(frame), seq, _unpack_header(frame)[2])
            except PduError:
                pdu = None
        if request is not None:  # already out of _outstanding
            del self._sent_at[seq]
            self._forget(request)
        name = CommandId(command_id).name.lower()
        return ProtocolViolation(
            command_id=command_id,
            sequence_number=seq,
            reason=f"{name} with sequence_number {seq} dropped: {reason}",
            pdu=pdu,
            request=request,
        )

    def _stream_failed(self, error: FramingError) -> StreamFailed:
        self._enter(_CLOSED)
        self._frames = FrameBuffer(self._max_pdu_length)
        response = pdus.GenericNack(
            sequence_number=error.sequence_number, command_status=error.command_status
        )
        return StreamFailed(response=response, data=encode(response), reason=str(error))


def _peer(role: Role) -> Role:
    return Role.ESME if role is Role.SMSC else Role.SMSC


__all__ = [
    "BIND_IN_PROGRESS_STATUS",
    "DUPLICATE_SEQUENCE_STATUS",
    "MANAGEMENT_SLOTS",
    "MAX_SEQUENCE_NUMBER",
    "LocalProtocolError",
    "Role",
    "Session",
    "SessionState",
    "WindowFull",
]
