"""The transition table, cell by cell, against the SMPP 3.4 rules restated independently here."""

from __future__ import annotations

from pathlib import Path

import pytest

from smsc.pdu.constants import RESPONSE_BIT, CommandId, CommandStatus
from smsc.pdu.transitions import (
    BOUND_STATES,
    ROWS,
    TABLE,
    Cell,
    Direction,
    Role,
    SessionState,
    cell,
    sender_of,
)

S = SessionState
C = CommandId
DOC = Path(__file__).resolve().parents[2] / "docs" / "session.md"

# What each side may send as a request, by bind type (SMPP 3.4 section 2.3, table 2-1).
SUBMITS = {C.SUBMIT_SM, C.SUBMIT_MULTI, C.QUERY_SM, C.CANCEL_SM, C.REPLACE_SM, C.DATA_SM}
DELIVERIES = {C.DELIVER_SM, C.DATA_SM, C.ALERT_NOTIFICATION}
BINDS = {C.BIND_TRANSMITTER, C.BIND_RECEIVER, C.BIND_TRANSCEIVER}
CAN_SUBMIT = {S.BOUND_TX, S.BOUND_TRX}
CAN_RECEIVE = {S.BOUND_RX, S.BOUND_TRX}
BIND_RESULT = {
    C.BIND_TRANSMITTER_RESP: S.BOUND_TX,
    C.BIND_RECEIVER_RESP: S.BOUND_RX,
    C.BIND_TRANSCEIVER_RESP: S.BOUND_TRX,
}
BOUND = {S.BOUND_TX, S.BOUND_RX, S.BOUND_TRX}


def request_legal(state: SessionState, sender: Role, command: CommandId) -> bool:
    if command in BINDS:
        return sender is Role.ESME and state is S.OPEN
    if command is C.OUTBIND:
        return sender is Role.SMSC and state is S.OPEN
    if command is C.UNBIND:
        return state in BOUND
    if command is C.ENQUIRE_LINK:
        return state in BOUND or state is S.OPEN
    if sender is Role.ESME:
        return command in SUBMITS and state in CAN_SUBMIT
    return command in DELIVERIES and state in CAN_RECEIVE


def expected(state: SessionState, sender: Role, command: CommandId) -> Cell:
    """The cell as the rules say it, derived a different way from the table's rows.

    A response is legal where its request is legal from the other side, and also in UNBOUND when
    the request could have been sent while bound (it answers a request made before the unbind).
    """
    if command.is_response:
        if command is C.GENERIC_NACK:
            legal = state is not S.CLOSED
        else:
            request = CommandId(command & ~RESPONSE_BIT)
            other = Role.ESME if sender is Role.SMSC else Role.SMSC
            legal = request_legal(state, other, request) or (
                state is S.UNBOUND and any(request_legal(b, other, request) for b in BOUND)
            )
        if not legal:
            return Cell(legal=False, next_state=state, refusal=CommandStatus.ESME_RINVBNDSTS)
        next_state = state
        if command in BIND_RESULT:
            next_state = BIND_RESULT[command]
        elif command is C.UNBIND_RESP:
            next_state = S.UNBOUND
        return Cell(legal=True, next_state=next_state, refusal=CommandStatus.ESME_ROK)
    if request_legal(state, sender, command):
        return Cell(legal=True, next_state=state, refusal=CommandStatus.ESME_ROK)
    refusal = CommandStatus.ESME_RINVBNDSTS
    if command in BINDS and state in BOUND:
        refusal = CommandStatus.ESME_RALYBND
    return Cell(legal=False, next_state=state, refusal=refusal)


ALL_CELLS = [(s, r, c) for s in SessionState for r in Role for c in CommandId]


def test_the_table_has_exactly_one_cell_per_state_sender_and_command() -> None:
    assert set(TABLE) == set(ALL_CELLS)
    assert len(TABLE) == len(SessionState) * len(Role) * len(CommandId) == 324


@pytest.mark.parametrize(
    ("state", "sender", "command"),
    ALL_CELLS,
    ids=[f"{s.name}-{r.name}-{c.name}" for s, r, c in ALL_CELLS],
)
def test_every_cell_follows_the_rules(
    state: SessionState, sender: Role, command: CommandId
) -> None:
    assert TABLE[state, sender, command] == expected(state, sender, command)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("direction", list(Direction))
def test_cell_sees_the_table_from_either_end(role: Role, direction: Direction) -> None:
    sender = role if direction is Direction.OUT else next(r for r in Role if r is not role)
    assert sender_of(role, direction) is sender
    for state in SessionState:
        for command in CommandId:
            assert cell(state, role, direction, command) is TABLE[state, sender, command]


def test_no_two_rows_cover_the_same_cell() -> None:
    seen: set[tuple[SessionState, Role, CommandId]] = set()
    for row in ROWS:
        for sender in row.senders:
            for state in row.legal_in:
                key = (state, sender, row.command_id)
                assert key not in seen, key
                seen.add(key)


def test_nothing_is_legal_when_closed() -> None:
    assert not any(TABLE[S.CLOSED, r, c].legal for r in Role for c in CommandId)


def test_only_responses_change_the_state_and_only_bind_and_unbind_responses() -> None:
    changing = {(s, r, c) for (s, r, c), x in TABLE.items() if x.next_state is not s}
    assert {c for _, _, c in changing} == {*BIND_RESULT, C.UNBIND_RESP}
    assert all(s is S.OPEN for s, _, c in changing if c in BIND_RESULT)
    assert {s for s, _, c in changing if c is C.UNBIND_RESP} == BOUND


def test_the_issue_examples() -> None:
    smsc_in = Direction.IN
    submit_before_bind = cell(S.OPEN, Role.SMSC, smsc_in, C.SUBMIT_SM)
    assert not submit_before_bind.legal
    assert submit_before_bind.refusal is CommandStatus.ESME_RINVBNDSTS
    for state in BOUND_STATES:
        second_bind = cell(state, Role.SMSC, smsc_in, C.BIND_TRANSCEIVER)
        assert second_bind.refusal is CommandStatus.ESME_RALYBND
    delivers_to = {s for s in SessionState if cell(s, Role.SMSC, Direction.OUT, C.DELIVER_SM).legal}
    assert delivers_to == {S.BOUND_RX, S.BOUND_TRX}
    receiver_submits = cell(S.BOUND_RX, Role.SMSC, smsc_in, C.SUBMIT_SM)
    assert receiver_submits.refusal is CommandStatus.ESME_RINVBNDSTS


# --- the human form in docs/session.md ----------------------------------------------------

_SHORT = {S.BOUND_TX: "BOUND_TX", S.BOUND_RX: "BOUND_RX", S.BOUND_TRX: "BOUND_TRX"}


def _render_cell(state: SessionState, sender: Role, command: CommandId) -> str:
    x = TABLE[state, sender, command]
    if state is S.CLOSED:
        return "-"
    if x.legal:
        return f"ok -> {x.next_state.name}" if x.next_state is not state else "ok"
    if command.is_response:
        return "drop"
    return x.refusal.name.removeprefix("ESME_")


def render_table() -> str:
    """The table as the Markdown docs/session.md shows, one section per sending side."""
    lines: list[str] = []
    for sender, receiver in ((Role.ESME, Role.SMSC), (Role.SMSC, Role.ESME)):
        lines += [
            f"### Sent by the {sender.name}, received by the {receiver.name}",
            "",
            "| command | " + " | ".join(s.name for s in SessionState) + " |",
            "|---|" + "---|" * len(SessionState),
        ]
        for command in CommandId:
            cells = " | ".join(_render_cell(s, sender, command) for s in SessionState)
            lines.append(f"| {command.name.lower()} | {cells} |")
        lines.append("")
    return "\n".join(lines)


def test_docs_show_the_table() -> None:
    table = render_table()
    text = DOC.read_text(encoding="utf-8")
    assert table in text, "docs/session.md is out of date; its table should read:\n\n" + table
