"""What a :class:`~smsc.pdu.session.Session` reports: the events of
:meth:`Session.next_event <smsc.pdu.session.Session.next_event>` (octets received) and of
:meth:`Session.tick <smsc.pdu.session.Session.tick>` (timers). Frozen, slotted, keyword-only
dataclasses; what to do with each is in docs/session.md."""

from __future__ import annotations

from dataclasses import dataclass

from smsc.pdu import pdus


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Something :meth:`Session.next_event` or :meth:`Session.tick` reports."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestReceived(Event):
    """A legal request. If it has a response, answer it with ``session.send(response)``."""

    pdu: pdus.Pdu


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseReceived(Event):
    """The response to ``request`` (matched by sequence_number); the request leaves the window."""

    pdu: pdus.Pdu
    request: pdus.Pdu


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestRefused(Event):
    """An incoming request the session answered itself: write ``data`` to the peer.

    ``response`` is the request's ``*_resp`` (or generic_nack) with the refusal status; ``data`` is
    it encoded. Do not pass ``response`` to :meth:`Session.send`. ``request`` is the decoded
    request when it could be decoded.
    """

    response: pdus.Pdu
    data: bytes
    request: pdus.Pdu | None
    reason: str

    @property
    def status(self) -> int:
        return self.response.command_status


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtocolViolation(Event):
    """A response the session cannot accept; it is dropped and nothing is sent.

    Reasons: no request of ours has its sequence_number, it is not that request's response type,
    it is not legal in this state, or its body cannot be decoded. When it matched an outstanding
    request by sequence_number, that request leaves the window and is ``request`` here.
    """

    command_id: int
    sequence_number: int
    reason: str
    pdu: pdus.Pdu | None
    request: pdus.Pdu | None


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamFailed(Event):
    """The byte stream cannot be split into PDUs any more (bad command_length).

    Write ``data`` (a generic_nack), then drop the connection; the session is already CLOSED.
    """

    response: pdus.GenericNack
    data: bytes
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TimerEvent(Event):
    """Something :meth:`Session.tick` reports."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EnquireLinkDue(TimerEvent):
    """Nothing was received or probed since ``quiet_since``: send an enquire_link."""

    quiet_since: float


@dataclass(frozen=True, slots=True, kw_only=True)
class InactivityTimeout(TimerEvent):
    """No PDU was received since ``last_received``: unbind or close."""

    last_received: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseTimeout(TimerEvent):
    """``request`` got no response in time; it has left the window."""

    request: pdus.Pdu
    sent_at: float


__all__ = [
    "EnquireLinkDue",
    "Event",
    "InactivityTimeout",
    "ProtocolViolation",
    "RequestReceived",
    "RequestRefused",
    "ResponseReceived",
    "ResponseTimeout",
    "StreamFailed",
    "TimerEvent",
]
