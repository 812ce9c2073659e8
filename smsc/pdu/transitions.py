"""The SMPP 3.4 session transition table: which PDU may pass in which state, and where it leads.

This module is data. ``ROWS`` says, for each command and each side that may send it, the session
states in which it is legal and the state a response with ESME_ROK leads to. ``TABLE`` spells the
same rules out for every (state, sender, command_id) of :class:`CommandId`, so nothing is implied:
a missing row means "never legal". :mod:`smsc.pdu.session` compiles ``TABLE`` into per-state dicts;
``docs/session.md`` shows it in human form (a test keeps the two equal).

Rules (SMPP 3.4 section 2.3 and table 2-1, plus the deliberate choices noted):

- Binds go ESME -> SMSC in OPEN; the bind's response with ESME_ROK moves both sides to BOUND_TX,
  BOUND_RX or BOUND_TRX. A failed bind leaves the session OPEN, so the ESME may try again.
- submit_sm, submit_multi, query_sm, cancel_sm and replace_sm go ESME -> SMSC from a transmitter or
  transceiver bind. deliver_sm and alert_notification go SMSC -> ESME to a receiver or transceiver.
  data_sm goes either way: from the ESME on TX/TRX binds, from the SMSC on RX/TRX binds.
- unbind is legal in every bound state, from either side; its response with ESME_ROK moves to
  UNBOUND, where only responses to requests made earlier may pass. The connection is closed next.
- enquire_link is legal in every bound state and, as SMPP 5.0 allows and many clients expect, in
  OPEN too. generic_nack is legal in every state but CLOSED (a stream can be unreadable from its
  first octet). Nothing passes in CLOSED.
- Every response is also legal in UNBOUND (it answers a request sent before the unbind completed).
- outbind goes SMSC -> ESME in OPEN; it has no response.

An incoming request that is not legal is answered with ``refusal``: ESME_RALYBND for a bind in a
bound state, ESME_RINVBNDSTS for anything else (before bind, after unbind, not allowed for this bind
type, or never sent by that side). Responses are never answered; an illegal one is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from smsc.pdu.constants import CommandId, CommandStatus


class Role(IntEnum):
    """Which end of the link a session is."""

    SMSC = 1
    ESME = 2


class SessionState(IntEnum):
    OPEN = 0
    BOUND_TX = 1
    BOUND_RX = 2
    BOUND_TRX = 3
    UNBOUND = 4
    CLOSED = 5


class Direction(IntEnum):
    """Seen from one session: IN is what the peer sends, OUT what this side sends."""

    IN = 0
    OUT = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One command sent by one side: the states where it is legal and where ESME_ROK leads."""

    command_id: CommandId
    senders: tuple[Role, ...]
    legal_in: frozenset[SessionState]
    on_ok: SessionState | None = None  # None: the state does not change


@dataclass(frozen=True, slots=True, kw_only=True)
class Cell:
    """The outcome of one (state, sender, command_id).

    ``next_state`` is the state after the PDU passes (for a response: after one with ESME_ROK; any
    other status leaves the state as it was). ``refusal`` is the status an illegal incoming request
    is answered with, and ESME_ROK in legal cells.
    """

    legal: bool
    next_state: SessionState
    refusal: CommandStatus


_S = SessionState
_C = CommandId
_ESME: Final = (Role.ESME,)
_SMSC: Final = (Role.SMSC,)
_EITHER: Final = (Role.ESME, Role.SMSC)

_OPEN: Final = frozenset({_S.OPEN})
TX_STATES: Final = frozenset({_S.BOUND_TX, _S.BOUND_TRX})  # binds that may submit
RX_STATES: Final = frozenset({_S.BOUND_RX, _S.BOUND_TRX})  # binds that may be delivered to
BOUND_STATES: Final = frozenset({_S.BOUND_TX, _S.BOUND_RX, _S.BOUND_TRX})
_UNBOUND: Final = frozenset({_S.UNBOUND})
_NOT_CLOSED: Final = _OPEN | BOUND_STATES | _UNBOUND

ROWS: Final[tuple[Row, ...]] = (
    # binding
    Row(command_id=_C.BIND_TRANSMITTER, senders=_ESME, legal_in=_OPEN),
    Row(command_id=_C.BIND_TRANSMITTER_RESP, senders=_SMSC, legal_in=_OPEN, on_ok=_S.BOUND_TX),
    Row(command_id=_C.BIND_RECEIVER, senders=_ESME, legal_in=_OPEN),
    Row(command_id=_C.BIND_RECEIVER_RESP, senders=_SMSC, legal_in=_OPEN, on_ok=_S.BOUND_RX),
    Row(command_id=_C.BIND_TRANSCEIVER, senders=_ESME, legal_in=_OPEN),
    Row(command_id=_C.BIND_TRANSCEIVER_RESP, senders=_SMSC, legal_in=_OPEN, on_ok=_S.BOUND_TRX),
    Row(command_id=_C.OUTBIND, senders=_SMSC, legal_in=_OPEN),
    # session management
    Row(command_id=_C.UNBIND, senders=_EITHER, legal_in=BOUND_STATES),
    Row(
        command_id=_C.UNBIND_RESP,
        senders=_EITHER,
        legal_in=BOUND_STATES | _UNBOUND,
        on_ok=_S.UNBOUND,
    ),
    Row(command_id=_C.ENQUIRE_LINK, senders=_EITHER, legal_in=_OPEN | BOUND_STATES),
    Row(command_id=_C.ENQUIRE_LINK_RESP, senders=_EITHER, legal_in=_NOT_CLOSED),
    Row(command_id=_C.GENERIC_NACK, senders=_EITHER, legal_in=_NOT_CLOSED),
    # ESME -> SMSC message operations and their responses
    Row(command_id=_C.SUBMIT_SM, senders=_ESME, legal_in=TX_STATES),
    Row(command_id=_C.SUBMIT_SM_RESP, senders=_SMSC, legal_in=TX_STATES | _UNBOUND),
    Row(command_id=_C.SUBMIT_MULTI, senders=_ESME, legal_in=TX_STATES),
    Row(command_id=_C.SUBMIT_MULTI_RESP, senders=_SMSC, legal_in=TX_STATES | _UNBOUND),
    Row(command_id=_C.QUERY_SM, senders=_ESME, legal_in=TX_STATES),
    Row(command_id=_C.QUERY_SM_RESP, senders=_SMSC, legal_in=TX_STATES | _UNBOUND),
    Row(command_id=_C.CANCEL_SM, senders=_ESME, legal_in=TX_STATES),
    Row(command_id=_C.CANCEL_SM_RESP, senders=_SMSC, legal_in=TX_STATES | _UNBOUND),
    Row(command_id=_C.REPLACE_SM, senders=_ESME, legal_in=TX_STATES),
    Row(command_id=_C.REPLACE_SM_RESP, senders=_SMSC, legal_in=TX_STATES | _UNBOUND),
    Row(command_id=_C.DATA_SM, senders=_ESME, legal_in=TX_STATES),
    Row(command_id=_C.DATA_SM_RESP, senders=_SMSC, legal_in=TX_STATES | _UNBOUND),
    # SMSC -> ESME
    Row(command_id=_C.DELIVER_SM, senders=_SMSC, legal_in=RX_STATES),
    Row(command_id=_C.DELIVER_SM_RESP, senders=_ESME, legal_in=RX_STATES | _UNBOUND),
    Row(command_id=_C.DATA_SM, senders=_SMSC, legal_in=RX_STATES),
    Row(command_id=_C.DATA_SM_RESP, senders=_ESME, legal_in=RX_STATES | _UNBOUND),
    Row(command_id=_C.ALERT_NOTIFICATION, senders=_SMSC, legal_in=RX_STATES),
)

# Refusal of an illegal incoming request: these commands get their own status in bound states.
REFUSED_WHEN_BOUND: Final[dict[CommandId, CommandStatus]] = {
    _C.BIND_TRANSMITTER: CommandStatus.ESME_RALYBND,
    _C.BIND_RECEIVER: CommandStatus.ESME_RALYBND,
    _C.BIND_TRANSCEIVER: CommandStatus.ESME_RALYBND,
}
REFUSED_OTHERWISE: Final = CommandStatus.ESME_RINVBNDSTS

_LEGAL: Final[dict[tuple[SessionState, Role, CommandId], SessionState | None]] = {
    (state, sender, row.command_id): row.on_ok
    for row in ROWS
    for sender in row.senders
    for state in row.legal_in
}


def _cell(state: SessionState, sender: Role, command_id: CommandId) -> Cell:
    key = (state, sender, command_id)
    if key in _LEGAL:
        on_ok = _LEGAL[key]
        next_state = state if on_ok is None else on_ok
        return Cell(legal=True, next_state=next_state, refusal=CommandStatus.ESME_ROK)
    refusal = REFUSED_OTHERWISE
    if state in BOUND_STATES:
        refusal = REFUSED_WHEN_BOUND.get(command_id, REFUSED_OTHERWISE)
    return Cell(legal=False, next_state=state, refusal=refusal)


TABLE: Final[dict[tuple[SessionState, Role, CommandId], Cell]] = {
    (state, sender, command_id): _cell(state, sender, command_id)
    for state in SessionState
    for sender in Role
    for command_id in CommandId
}


def sender_of(role: Role, direction: Direction) -> Role:
    """Which side sends a PDU that ``role`` sees going in ``direction``."""
    if direction is Direction.OUT:
        return role
    return Role.ESME if role is Role.SMSC else Role.SMSC


def cell(state: SessionState, role: Role, direction: Direction, command_id: int) -> Cell:
    """The table's cell for a PDU seen by a ``role`` session in ``state`` going ``direction``."""
    return TABLE[state, sender_of(role, direction), CommandId(command_id)]


__all__ = [
    "BOUND_STATES",
    "REFUSED_OTHERWISE",
    "REFUSED_WHEN_BOUND",
    "ROWS",
    "RX_STATES",
    "TABLE",
    "TX_STATES",
    "Cell",
    "Direction",
    "Role",
    "Row",
    "SessionState",
    "cell",
    "sender_of",
]
