"""The session state machine: the whole table through real sessions, windows, sequence numbers,
timers, hostile bytes, a model-based hypothesis machine, and an ESME and an SMSC talking."""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from smsc.pdu import pdus
from smsc.pdu.codec import decode, encode
from smsc.pdu.constants import RESPONSE_BIT, CommandId, CommandStatus, EsmClass
from smsc.pdu.errors import PduError
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
)
from smsc.pdu.session import (
    BIND_IN_PROGRESS_STATUS,
    DUPLICATE_SEQUENCE_STATUS,
    MANAGEMENT_SLOTS,
    MAX_SEQUENCE_NUMBER,
    LocalProtocolError,
    Session,
    WindowFull,
)
from smsc.pdu.transitions import TABLE, Direction, Role, SessionState, sender_of
from tests.pdu.strategies import pdu_of

S = SessionState
C = CommandId
ST = CommandStatus
BINDS = {C.BIND_TRANSMITTER, C.BIND_RECEIVER, C.BIND_TRANSCEIVER}
MANAGEMENT = BINDS | {C.UNBIND, C.ENQUIRE_LINK}
REQUESTS = [c for c in CommandId if not c.is_response]
RESPONSES = [c for c in CommandId if c.is_response]
BIND_FOR = {
    S.BOUND_TX: pdus.BindTransmitter,
    S.BOUND_RX: pdus.BindReceiver,
    S.BOUND_TRX: pdus.BindTransceiver,
}
SUBMIT = pdus.SubmitSm(destination_addr="380501234567", short_message=b"hello")


def sample(command_id: int, **changes: object) -> pdus.Pdu:
    """A valid PDU of any command (submit_multi needs a destination to encode)."""
    cls = pdus.PDU_CLASSES_BY_ID[command_id]
    if cls is pdus.SubmitMulti:
        changes.setdefault("dest_addresses", (pdus.SmeAddress(destination_addr="1"),))
    return cls(**changes)  # type: ignore[arg-type]


def answers(command_id: int) -> bool:
    return bool(pdus.PDU_CLASSES_BY_ID[command_id].response_name)


def other(role: Role) -> Role:
    return Role.ESME if role is Role.SMSC else Role.SMSC


def state_of(session: Session) -> SessionState:
    """The state, read through a call so that mypy does not narrow it across a send."""
    return session.state


def room(session: Session) -> bool:
    return session.can_send_request


def drain(session: Session) -> list[Event]:
    events = []
    while (event := session.next_event()) is not None:
        events.append(event)
    return events


class Link:
    """An ESME and an SMSC session joined by bytes only."""

    def __init__(self, **options: object) -> None:
        self.esme = Session(Role.ESME, now=0.0, **options)  # type: ignore[arg-type]
        self.smsc = Session(Role.SMSC, now=0.0, **options)  # type: ignore[arg-type]

    def side(self, role: Role) -> Session:
        return self.esme if role is Role.ESME else self.smsc

    def carry(self, sender: Role, data: bytes, now: float = 0.0) -> list[Event]:
        receiver = self.side(other(sender))
        receiver.receive_data(data, now)
        return drain(receiver)

    def request(self, sender: Role, pdu: pdus.Pdu, now: float = 0.0) -> pdus.Pdu:
        """Send a request across; return it as the receiver got it."""
        (event,) = self.carry(sender, self.side(sender).send(pdu, now), now)
        assert isinstance(event, RequestReceived), event
        return event.pdu

    def exchange(
        self, sender: Role, pdu: pdus.Pdu, now: float = 0.0, **response: object
    ) -> ResponseReceived:
        """A request across and its response back."""
        received = self.request(sender, pdu, now)
        answer = self.side(other(sender)).send(received.response(**response), now)
        (event,) = self.carry(other(sender), answer, now)
        assert isinstance(event, ResponseReceived), event
        return event

    def bind(self, state: SessionState) -> None:
        self.exchange(Role.ESME, BIND_FOR[state](system_id="acme", password="secret"))
        assert self.esme.state is self.smsc.state is state

    def unbind(self) -> None:
        self.exchange(Role.ESME, pdus.Unbind())
        assert self.esme.state is self.smsc.state is S.UNBOUND


# --- the whole table, cell by cell, through real sessions ---------------------------------

CASES = [
    (role, state, direction, command)
    for role in Role
    for state in SessionState
    for direction in Direction
    for command in CommandId
]


def prepare(
    role: Role, state: SessionState, direction: Direction, command: CommandId
) -> tuple[Link, int]:
    """A link with ``role``'s session in ``state``; for a response, the request it answers is in
    flight when some history allows it. Returns the sequence_number to use."""
    link = Link()
    wanted: tuple[Role, CommandId] | None = None
    if command.is_response:
        request = C.ENQUIRE_LINK if command is C.GENERIC_NACK else C(command & ~RESPONSE_BIT)
        wanted = (other(sender_of(role, direction)), request)
    seq = 77

    def send_wanted() -> None:
        nonlocal seq, wanted
        if wanted is None:
            return
        sender, request = wanted
        if link.side(sender).may_send(request) and answers(request):
            seq = link.request(sender, sample(request)).sequence_number
            wanted = None

    if state is S.OPEN:
        send_wanted()
    elif state in BIND_FOR:
        link.bind(state)
        send_wanted()
    elif state in (S.UNBOUND, S.CLOSED):
        link.bind(S.BOUND_TRX)
        send_wanted()
        link.unbind()
        if state is S.CLOSED:
            link.side(role).close()
    assert link.side(role).state is state
    return link, seq


@pytest.mark.parametrize(
    ("role", "state", "direction", "command"),
    CASES,
    ids=[f"{r.name}-{s.name}-{d.name}-{c.name}" for r, s, d, c in CASES],
)
def test_every_cell_through_a_session(
    role: Role, state: SessionState, direction: Direction, command: CommandId
) -> None:
    link, seq = prepare(role, state, direction, command)
    me = link.side(role)
    cell = TABLE[state, sender_of(role, direction), command]
    pdu = sample(command, sequence_number=seq)
    if direction is Direction.OUT:
        if not cell.legal:
            with pytest.raises(LocalProtocolError):
                me.send(pdu)
            assert me.state is state
            return
        data = me.send(pdu)
        assert decode(data) == pdu
        assert me.state is cell.next_state
        if command.is_response:
            assert seq not in me.unanswered_requests
        elif answers(command):
            assert me.outstanding_requests[seq] == pdu
        return
    me.receive_data(encode(pdu), 1.0)
    events = drain(me)
    if state is S.CLOSED:
        assert events == []
        return
    (event,) = events
    if not command.is_response:
        if cell.legal:
            assert event == RequestReceived(pdu=pdu)
            assert (seq in me.unanswered_requests) is answers(command)
        else:
            assert isinstance(event, RequestRefused)
            assert event.status == cell.refusal
            assert event.response == pdus.error_response(command, seq, cell.refusal)
            assert event.response.sequence_number == seq
            assert decode(event.data) == event.response
            assert event.request == pdu
        assert me.state is state
    elif cell.legal:
        assert isinstance(event, ResponseReceived)
        assert event.pdu == pdu
        assert event.request.sequence_number == seq
        assert me.state is cell.next_state
        assert seq not in me.outstanding_requests
    else:
        assert isinstance(event, ProtocolViolation)
        assert me.state is state


# --- the examples -----------------------------------------------------------------


def test_submit_before_bind_is_refused_with_rinvbndsts() -> None:
    smsc = Session(Role.SMSC, now=0.0)
    smsc.receive_data(encode(SUBMIT.replace(sequence_number=5)), 0.0)
    (event,) = drain(smsc)
    assert isinstance(event, RequestRefused)
    assert event.response == pdus.SubmitSmResp(sequence_number=5, command_status=4)
    assert event.data == bytes.fromhex("00000010 80000004 00000004 00000005")
    assert smsc.unanswered_requests == {}


@pytest.mark.parametrize("state", list(BIND_FOR))
def test_a_second_bind_is_refused_with_ralybnd(state: SessionState) -> None:
    link = Link()
    link.bind(state)
    link.smsc.receive_data(encode(pdus.BindTransceiver(sequence_number=9)), 0.0)
    (event,) = drain(link.smsc)
    assert isinstance(event, RequestRefused)
    assert event.response == pdus.BindTransceiverResp(sequence_number=9, command_status=5)
    with pytest.raises(LocalProtocolError):
        link.esme.send(pdus.BindTransmitter())


def test_a_bind_while_a_bind_awaits_its_response_is_refused() -> None:
    link = Link()
    first = link.request(Role.ESME, pdus.BindTransmitter(system_id="a"))
    with pytest.raises(LocalProtocolError, match="bind is already in progress"):
        link.esme.send(pdus.BindReceiver())
    link.smsc.receive_data(encode(pdus.BindReceiver(sequence_number=first.sequence_number + 1)), 0)
    (event,) = drain(link.smsc)
    assert isinstance(event, RequestRefused)
    assert event.status == BIND_IN_PROGRESS_STATUS
    # The first bind is still answerable, and binds the session.
    link.carry(Role.SMSC, link.smsc.send(first.response()))
    assert link.smsc.state is link.esme.state is S.BOUND_TX


def test_a_failed_bind_leaves_the_session_open_for_another_try() -> None:
    link = Link()
    event = link.exchange(Role.ESME, pdus.BindTransceiver(), command_status=ST.ESME_RINVPASWD)
    assert event.pdu.command_status == ST.ESME_RINVPASWD
    assert link.esme.state is link.smsc.state is S.OPEN
    link.bind(S.BOUND_TRX)


def test_deliver_sm_goes_only_to_receivers_and_transceivers() -> None:
    for state in BIND_FOR:
        link = Link()
        link.bind(state)
        deliver = pdus.DeliverSm(esm_class=EsmClass.TYPE_DELIVERY_RECEIPT)
        assert link.smsc.may_send(C.DELIVER_SM) is (state is not S.BOUND_TX)
        if state is S.BOUND_TX:
            with pytest.raises(LocalProtocolError, match="may not send deliver_sm"):
                link.smsc.send(deliver)
            # An SMSC that sends one anyway is refused by the ESME.
            (event,) = link.carry(Role.SMSC, encode(deliver.replace(sequence_number=3)))
            assert isinstance(event, RequestRefused)
            assert event.response == pdus.DeliverSmResp(sequence_number=3, command_status=4)
        else:
            link.exchange(Role.SMSC, deliver)


def test_a_receiver_may_not_submit() -> None:
    link = Link()
    link.bind(S.BOUND_RX)
    with pytest.raises(LocalProtocolError):
        link.esme.send(SUBMIT)
    (event,) = link.carry(Role.ESME, encode(SUBMIT.replace(sequence_number=8)))
    assert isinstance(event, RequestRefused)
    assert event.status == ST.ESME_RINVBNDSTS


# --- malformed and unknown input ----------------------------------------------------------


def test_a_malformed_body_is_answered_with_its_own_status_and_the_stream_goes_on() -> None:
    link = Link()
    link.bind(S.BOUND_TX)
    bad = bytearray(encode(SUBMIT.replace(sequence_number=21, destination_addr="1")))
    # destination_addr of 25 digits: longer than its 21-octet field
    body = bytes(bad[16:]).replace(b"\x001\x00", b"\x00" + b"1" * 25 + b"\x00", 1)
    frame = struct.pack(">IIII", 16 + len(body), C.SUBMIT_SM, 0, 21) + body
    events = link.carry(Role.ESME, frame + encode(SUBMIT.replace(sequence_number=22)))
    refused, received = events
    assert isinstance(refused, RequestRefused)
    assert refused.response == pdus.SubmitSmResp(sequence_number=21, command_status=0x0B)
    assert refused.request is None
    assert isinstance(received, RequestReceived)
    assert received.pdu.sequence_number == 22
    assert link.smsc.state is S.BOUND_TX


@pytest.mark.parametrize("command_id", [0x00000099, 0x80000099, 0x00000104])
def test_an_unknown_command_gets_generic_nack_rinvcmdid(command_id: int) -> None:
    smsc = Session(Role.SMSC, now=0.0)
    smsc.receive_data(struct.pack(">IIII", 20, command_id, 0, 31) + b"abcd", 0.0)
    (event,) = drain(smsc)
    assert isinstance(event, RequestRefused)
    assert event.response == pdus.GenericNack(sequence_number=31, command_status=3)
    assert smsc.state is S.OPEN


@pytest.mark.parametrize("length", [0, 15, 70_001, 0xFFFFFFFF])
def test_a_bad_command_length_is_fatal(length: int) -> None:
    smsc = Session(Role.SMSC, now=0.0)
    smsc.receive_data(encode(pdus.EnquireLink(sequence_number=1)), 0.0)
    smsc.receive_data(struct.pack(">IIII", length, 4, 0, 12), 0.0)
    smsc.receive_data(encode(pdus.EnquireLink(sequence_number=2)), 0.0)
    first, failed = drain(smsc)
    assert isinstance(first, RequestReceived)
    assert isinstance(failed, StreamFailed)
    assert failed.response == pdus.GenericNack(sequence_number=12, command_status=2)
    assert decode(failed.data) == failed.response
    assert smsc.state is S.CLOSED
    smsc.receive_data(encode(pdus.EnquireLink(sequence_number=3)), 0.0)
    assert smsc.next_event() is None
    with pytest.raises(LocalProtocolError):
        smsc.send(pdus.EnquireLinkResp(sequence_number=1))


def test_a_bad_command_length_waits_for_the_whole_header() -> None:
    smsc = Session(Role.SMSC, now=0.0)
    header = struct.pack(">IIII", 8, 4, 0, 61)
    smsc.receive_data(header[:4], 0.0)
    assert smsc.next_event() is None
    smsc.receive_data(header[4:], 0.0)
    (failed,) = drain(smsc)
    assert isinstance(failed, StreamFailed)
    assert failed.response == pdus.GenericNack(sequence_number=61, command_status=2)


def test_the_length_limit_is_the_sessions_own() -> None:
    smsc = Session(Role.SMSC, now=0.0, max_pdu_length=100)
    smsc.receive_data(struct.pack(">IIII", 101, 4, 0, 1), 0.0)
    (failed,) = drain(smsc)
    assert isinstance(failed, StreamFailed)


def test_an_unsolicited_response_is_dropped() -> None:
    link = Link()
    link.bind(S.BOUND_TRX)
    (event,) = link.carry(Role.SMSC, encode(pdus.SubmitSmResp(sequence_number=40)))
    assert isinstance(event, ProtocolViolation)
    assert (event.command_id, event.sequence_number, event.request) == (C.SUBMIT_SM_RESP, 40, None)
    assert event.pdu == pdus.SubmitSmResp(sequence_number=40)
    assert "no request awaits it" in event.reason


def test_a_response_of_the_wrong_type_releases_the_request_it_names() -> None:
    link = Link()
    link.bind(S.BOUND_TRX)
    sent = link.request(Role.ESME, SUBMIT)
    (event,) = link.carry(Role.SMSC, encode(pdus.QuerySmResp(sequence_number=sent.sequence_number)))
    assert isinstance(event, ProtocolViolation)
    assert event.request == sent
    assert link.esme.outstanding_requests == {}


def test_an_unreadable_response_releases_its_request() -> None:
    link = Link()
    link.bind(S.BOUND_TRX)
    sent = link.request(Role.ESME, SUBMIT)
    frame = struct.pack(">IIII", 20, C.SUBMIT_SM_RESP, 0, sent.sequence_number) + b"abcd"
    (event,) = link.carry(Role.SMSC, frame)
    assert isinstance(event, ProtocolViolation)
    assert event.pdu is None
    assert event.request == sent
    assert link.esme.outstanding_requests == {}


def test_generic_nack_answers_any_request() -> None:
    link = Link()
    link.bind(S.BOUND_TRX)
    received = link.request(Role.ESME, SUBMIT)
    nack = pdus.GenericNack(sequence_number=received.sequence_number, command_status=8)
    (event,) = link.carry(Role.SMSC, link.smsc.send(nack))
    assert isinstance(event, ResponseReceived)
    assert event.pdu == nack
    assert event.request.command_id is C.SUBMIT_SM


def test_a_refused_bind_by_generic_nack_frees_the_next_bind() -> None:
    link = Link()
    bind = link.request(Role.ESME, pdus.BindTransmitter())
    link.carry(Role.SMSC, link.smsc.send(pdus.GenericNack(sequence_number=bind.sequence_number)))
    assert link.esme.state is S.OPEN
    link.bind(S.BOUND_TX)


# --- responses this side sends ------------------------------------------------------------


def test_a_response_must_answer_a_received_request_of_its_type() -> None:
    link = Link()
    link.bind(S.BOUND_TRX)
    received = link.request(Role.ESME, SUBMIT)
    with pytest.raises(LocalProtocolError, match="no received request"):
        link.smsc.send(pdus.SubmitSmResp(sequence_number=received.sequence_number + 1))
    with pytest.raises(LocalProtocolError, match="does not answer submit_sm"):
        link.smsc.send(pdus.QuerySmResp(sequence_number=received.sequence_number))
    link.smsc.send(received.response(message_id="x"))
    with pytest.raises(LocalProtocolError):  # only once
        link.smsc.send(received.response(message_id="x"))


def test_a_response_that_cannot_be_encoded_changes_nothing() -> None:
    link = Link()
    bind = link.request(Role.ESME, pdus.BindTransceiver())
    with pytest.raises(PduError):
        link.smsc.send(bind.response(system_id="x" * 40))
    assert state_of(link.smsc) is S.OPEN
    assert bind.sequence_number in link.smsc.unanswered_requests
    link.smsc.send(bind.response(system_id="smsc"))
    assert state_of(link.smsc) is S.BOUND_TRX


def test_an_error_unbind_resp_keeps_the_bind() -> None:
    link = Link()
    link.bind(S.BOUND_TRX)
    link.exchange(Role.ESME, pdus.Unbind(), command_status=ST.ESME_RSYSERR)
    assert link.esme.state is link.smsc.state is S.BOUND_TRX


# --- windows ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [ST.ESME_RTHROTTLED, ST.ESME_RMSGQFUL])
def test_requests_past_the_inbound_window_are_refused(status: CommandStatus) -> None:
    link = Link(window=2, window_full_status=status)
    link.bind(S.BOUND_TRX)
    frames = b"".join(encode(SUBMIT.replace(sequence_number=n)) for n in (10, 11, 12))
    first, second, third = link.carry(Role.ESME, frames)
    assert isinstance(first, RequestReceived) and isinstance(second, RequestReceived)
    assert isinstance(third, RequestRefused)
    assert third.response == pdus.SubmitSmResp(sequence_number=12, command_status=status)
    # enquire_link and unbind still pass, in a few spare slots
    spare = b"".join(encode(pdus.EnquireLink(sequence_number=20 + n)) for n in range(6))
    events = link.carry(Role.ESME, spare)
    assert [type(e) for e in events] == [RequestReceived] * MANAGEMENT_SLOTS + [RequestRefused] * 2
    link.smsc.send(first.pdu.response(message_id="a"))
    (fourth,) = link.carry(Role.ESME, encode(SUBMIT.replace(sequence_number=13)))
    assert isinstance(fourth, RequestRefused)  # still past the window: the enquire_links count
    for n in range(MANAGEMENT_SLOTS):
        link.smsc.send(pdus.EnquireLinkResp(sequence_number=20 + n))
    (fifth,) = link.carry(Role.ESME, encode(SUBMIT.replace(sequence_number=14)))
    assert isinstance(fifth, RequestReceived)


def test_outbound_window() -> None:
    link = Link(window=2)
    link.bind(S.BOUND_TRX)
    esme = link.esme
    assert esme.can_send_request
    esme.send(SUBMIT)
    esme.send(SUBMIT)
    assert not room(esme)
    with pytest.raises(WindowFull):
        esme.send(SUBMIT)
    assert issubclass(WindowFull, LocalProtocolError)
    for _ in range(MANAGEMENT_SLOTS):
        esme.send(pdus.EnquireLink())
    with pytest.raises(WindowFull):
        esme.send(pdus.EnquireLink())
    assert len(esme.outstanding_requests) == 2 + MANAGEMENT_SLOTS
    # requests without a response take no room
    link.smsc.send(pdus.AlertNotification())


def test_a_request_reusing_a_busy_sequence_number_is_refused() -> None:
    link = Link()
    link.bind(S.BOUND_TX)
    frame = encode(SUBMIT.replace(sequence_number=7))
    first, second = link.carry(Role.ESME, frame + frame)
    assert isinstance(first, RequestReceived)
    assert isinstance(second, RequestRefused)
    assert second.response == pdus.SubmitSmResp(
        sequence_number=7, command_status=DUPLICATE_SEQUENCE_STATUS
    )


# --- sequence numbers ---------------------------------------------------------------------


def test_sequence_numbers_count_up_wrap_and_skip_those_in_use() -> None:
    link = Link()
    link.bind(S.BOUND_TX)  # the bind took 1
    esme = link.esme
    assert [decode(esme.send(SUBMIT)).sequence_number for _ in range(3)] == [2, 3, 4]
    assert esme.outstanding_requests[3].sequence_number == 3
    esme.send(SUBMIT.replace(sequence_number=MAX_SEQUENCE_NUMBER - 1))
    esme.send(SUBMIT.replace(sequence_number=5))
    assert esme.next_sequence_number() == 6
    wrapping = Session(Role.ESME, now=0.0)
    wrapping._next_sequence = MAX_SEQUENCE_NUMBER  # reach the end without 2**31 sends
    wrapping.send(pdus.EnquireLink())
    wrapping.send(pdus.EnquireLink(sequence_number=2))
    assert decode(wrapping.send(pdus.EnquireLink())).sequence_number == 1
    assert decode(wrapping.send(pdus.EnquireLink())).sequence_number == 3
    assert list(wrapping.outstanding_requests) == [MAX_SEQUENCE_NUMBER, 2, 1, 3]


@pytest.mark.parametrize("seq", [-1, MAX_SEQUENCE_NUMBER + 1])
def test_a_sequence_number_out_of_range_is_refused(seq: int) -> None:
    with pytest.raises(LocalProtocolError, match="outside"):
        Session(Role.ESME, now=0.0).send(pdus.EnquireLink(sequence_number=seq))


def test_a_sequence_number_in_use_cannot_be_sent_again() -> None:
    esme = Session(Role.ESME, now=0.0)
    esme.send(pdus.EnquireLink(sequence_number=4))
    with pytest.raises(LocalProtocolError, match="already awaits"):
        esme.send(pdus.EnquireLink(sequence_number=4))


def test_send_numbers_a_copy_and_leaves_the_callers_pdu_alone() -> None:
    link = Link()
    link.bind(S.BOUND_TX)
    data = link.esme.send(SUBMIT)
    assert SUBMIT.sequence_number == 0
    numbered = decode(data)
    assert numbered == SUBMIT.replace(sequence_number=2)
    assert link.esme.outstanding_requests[2] == numbered


# --- timers -------------------------------------------------------------------------------


def test_response_timeout() -> None:
    link = Link(response_timeout=10.0)
    link.bind(S.BOUND_TX)
    esme = link.esme
    first = decode(esme.send(SUBMIT, now=100.0))
    second = decode(esme.send(SUBMIT, now=104.0))
    assert esme.next_deadline(100.0) == 110.0
    assert esme.tick(109.5) == []
    assert esme.tick(110.0) == [ResponseTimeout(request=first, sent_at=100.0)]
    assert list(esme.outstanding_requests) == [second.sequence_number]
    assert esme.next_deadline(110.0) == 114.0
    assert esme.next_deadline(120.0) == 120.0  # overdue: tick now
    # The late response is now unexpected.
    (late,) = link.carry(Role.SMSC, encode(first.response()))
    assert isinstance(late, ProtocolViolation)
    assert esme.tick(200.0) == [ResponseTimeout(request=second, sent_at=104.0)]
    assert esme.next_deadline(200.0) is None


def test_send_without_now_uses_the_latest_now() -> None:
    link = Link(response_timeout=10.0)
    link.bind(S.BOUND_TX)
    link.esme.receive_data(b"", 50.0)
    link.esme.send(SUBMIT)
    assert link.esme.next_deadline(50.0) == 60.0


def test_a_bind_that_times_out_allows_another_bind() -> None:
    esme = Session(Role.ESME, now=0.0, response_timeout=5.0)
    esme.send(pdus.BindTransmitter(), now=1.0)
    (timeout,) = esme.tick(6.0)
    assert isinstance(timeout, ResponseTimeout)
    esme.send(pdus.BindTransmitter(), now=6.0)


def test_inactivity_timeout() -> None:
    link = Link(inactivity_timeout=60.0)
    smsc = link.smsc
    smsc.tick(100.0)  # created at 0: already idle
    link.smsc = smsc = Session(Role.SMSC, now=100.0, inactivity_timeout=60.0)
    assert smsc.next_deadline(100.0) == 160.0
    smsc.receive_data(encode(pdus.EnquireLink(sequence_number=1))[:10], 130.0)
    assert smsc.next_deadline(130.0) == 160.0  # a part of a PDU is not activity
    smsc.receive_data(encode(pdus.EnquireLink(sequence_number=1))[10:], 135.0)
    drain(smsc)
    assert smsc.next_deadline(135.0) == 195.0
    assert smsc.tick(194.0) == []
    assert smsc.tick(195.0) == [InactivityTimeout(last_received=135.0)]
    assert smsc.tick(300.0) == []  # once per quiet period
    assert smsc.next_deadline(300.0) is None
    smsc.receive_data(encode(pdus.EnquireLink(sequence_number=2)), 310.0)
    drain(smsc)
    assert smsc.next_deadline(310.0) == 370.0


def test_enquire_link_due() -> None:
    link = Link(enquire_link_interval=30.0, response_timeout=10.0)
    link.bind(S.BOUND_TRX)
    esme = link.esme
    assert esme.next_deadline(0.0) == 30.0
    assert esme.tick(29.0) == []
    assert esme.tick(30.0) == [EnquireLinkDue(quiet_since=0.0)]
    assert esme.tick(31.0) == []  # reported once
    assert esme.next_deadline(31.0) is None
    sent = decode(esme.send(pdus.EnquireLink(), now=32.0))
    assert esme.next_deadline(32.0) == 42.0  # only the response timer while it is out
    (received,) = link.carry(Role.ESME, encode(sent), now=32.0)
    (answered,) = link.carry(Role.SMSC, link.smsc.send(received.pdu.response()), now=33.0)  # type: ignore[attr-defined]
    assert isinstance(answered, ResponseReceived)
    assert esme.next_deadline(33.0) == 63.0
    # Traffic received postpones the probe.
    link.carry(Role.SMSC, link.smsc.send(pdus.DeliverSm(), now=50.0), now=50.0)
    assert esme.next_deadline(50.0) == 80.0


def test_enquire_link_is_not_due_once_unbound() -> None:
    link = Link(enquire_link_interval=30.0)
    link.bind(S.BOUND_TX)
    link.unbind()
    assert link.esme.tick(100.0) == []
    assert link.esme.next_deadline(100.0) is None


def test_a_lost_enquire_link_times_out_and_the_probe_resumes() -> None:
    esme = Session(Role.ESME, now=0.0, enquire_link_interval=30.0, response_timeout=10.0)
    assert esme.tick(30.0) == [EnquireLinkDue(quiet_since=0.0)]
    probe = decode(esme.send(pdus.EnquireLink(), now=30.0))
    assert esme.tick(40.0) == [ResponseTimeout(request=probe, sent_at=30.0)]
    assert esme.next_deadline(40.0) == 60.0
    assert esme.tick(60.0) == [EnquireLinkDue(quiet_since=30.0)]


def test_no_second_probe_while_one_is_out() -> None:
    esme = Session(Role.ESME, now=0.0, enquire_link_interval=30.0, response_timeout=100.0)
    assert esme.tick(30.0) == [EnquireLinkDue(quiet_since=0.0)]
    esme.send(pdus.EnquireLink(), now=30.0)
    assert esme.tick(60.0) == []
    assert esme.next_deadline(60.0) == 130.0


def test_timers_stop_when_closed() -> None:
    esme = Session(Role.ESME, now=0.0, inactivity_timeout=1.0, enquire_link_interval=1.0)
    esme.send(pdus.EnquireLink())
    assert esme.close() == [pdus.EnquireLink(sequence_number=1)]
    assert esme.state is S.CLOSED
    assert esme.tick(100.0) == []
    assert esme.next_deadline(100.0) is None
    assert esme.close() == []
    assert not esme.can_send_request


@pytest.mark.parametrize(
    "options",
    [
        {"window": 0},
        {"response_timeout": 0},
        {"enquire_link_interval": 0},
        {"inactivity_timeout": -1.0},
    ],
)
def test_bad_options(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Session(Role.SMSC, now=0.0, **options)  # type: ignore[arg-type]


# --- an ESME and an SMSC talking through bytes only ---------------------------------------


def test_a_whole_conversation() -> None:
    link = Link(enquire_link_interval=30.0)
    esme, smsc = link.esme, link.smsc
    # bind
    bound = link.exchange(
        Role.ESME, pdus.BindTransceiver(system_id="acme", password="secret"), system_id="smsc"
    )
    assert bound.pdu == pdus.BindTransceiverResp(sequence_number=1, system_id="smsc")
    assert esme.state is smsc.state is S.BOUND_TRX
    # submit
    submitted = link.exchange(Role.ESME, SUBMIT.replace(registered_delivery=1), message_id="m1")
    assert submitted.pdu.message_id == "m1"  # type: ignore[attr-defined]
    assert submitted.request.destination_addr == "380501234567"  # type: ignore[attr-defined]
    # the receipt comes back as a deliver_sm
    receipt = pdus.DeliverSm(
        esm_class=EsmClass.TYPE_DELIVERY_RECEIPT,
        short_message=b"id:m1 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 "
        b"stat:DELIVRD err:000 text:hello",
    )
    delivered = link.exchange(Role.SMSC, receipt)
    assert delivered.request.short_message == receipt.short_message  # type: ignore[attr-defined]
    # the ESME probes the link when it falls quiet
    assert esme.tick(40.0) == [EnquireLinkDue(quiet_since=0.0)]
    link.exchange(Role.ESME, pdus.EnquireLink(), now=40.0)
    link.exchange(Role.SMSC, pdus.EnquireLink(), now=41.0)
    # unbind
    link.unbind()
    assert esme.outstanding_requests == smsc.outstanding_requests == {}
    assert esme.unanswered_requests == smsc.unanswered_requests == {}
    assert esme.close() == smsc.close() == []


def test_outbind_then_bind_receiver() -> None:
    link = Link()
    outbind = link.request(Role.SMSC, pdus.Outbind(system_id="smsc", password="pw"))
    assert isinstance(outbind, pdus.Outbind)
    assert link.smsc.outstanding_requests == {}  # outbind has no response
    link.bind(S.BOUND_RX)
    link.exchange(Role.SMSC, pdus.DeliverSm())


def test_both_sides_unbinding_at_once() -> None:
    link = Link()
    link.bind(S.BOUND_TRX)
    from_esme = link.esme.send(pdus.Unbind())
    from_smsc = link.smsc.send(pdus.Unbind())
    (esme_unbind,) = link.carry(Role.ESME, from_esme)
    (smsc_unbind,) = link.carry(Role.SMSC, from_smsc)
    assert isinstance(esme_unbind, RequestReceived) and isinstance(smsc_unbind, RequestReceived)
    answer_esme = link.smsc.send(esme_unbind.pdu.response())
    assert link.smsc.state is S.UNBOUND
    (done,) = link.carry(Role.SMSC, answer_esme)
    assert isinstance(done, ResponseReceived)
    assert link.esme.state is S.UNBOUND
    (done,) = link.carry(Role.ESME, link.esme.send(smsc_unbind.pdu.response()))
    assert isinstance(done, ResponseReceived)
    assert link.esme.state is link.smsc.state is S.UNBOUND


def test_responses_still_flow_after_unbind() -> None:
    link = Link()
    link.bind(S.BOUND_TRX)
    submit = link.request(Role.ESME, SUBMIT)
    deliver = link.request(Role.SMSC, pdus.DeliverSm())
    link.unbind()
    (event,) = link.carry(Role.SMSC, link.smsc.send(submit.response(message_id="late")))
    assert isinstance(event, ResponseReceived)
    (event,) = link.carry(Role.ESME, link.esme.send(deliver.response()))
    assert isinstance(event, ResponseReceived)
    (event,) = link.carry(Role.ESME, encode(SUBMIT.replace(sequence_number=90)))
    assert isinstance(event, RequestRefused)
    assert event.status == ST.ESME_RINVBNDSTS


# --- bytes in any chunks ------------------------------------------------------------------

KNOWN_IDS = [int(c) for c in CommandId]
raw_frames = st.builds(
    lambda cid, status, seq, body: struct.pack(">IIII", 16 + len(body), cid, status, seq) + body,
    st.one_of(st.sampled_from(KNOWN_IDS), st.integers(0, 0xFFFFFFFF)),
    st.sampled_from([0, 0, 8, 0xFFFFFFFF]),
    st.integers(0, 0xFFFFFFFF),
    st.binary(max_size=60),
)
valid_frames = st.builds(
    lambda cid, seq: encode(sample(cid, sequence_number=seq)),
    st.sampled_from(list(CommandId)),
    st.integers(1, 40),
)
streams = st.lists(st.one_of(valid_frames, raw_frames, st.binary(max_size=24)), max_size=16).map(
    b"".join
)
DOCUMENTED = (RequestReceived, RequestRefused, ResponseReceived, ProtocolViolation, StreamFailed)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


def run_stream(session: Session, chunks: list[bytes]) -> list[Event]:
    events = []
    for chunk in chunks:
        session.receive_data(chunk, 1.0)
        events += drain(session)
    return events


def session_in(role: Role, state: SessionState) -> Session:
    link = Link(window=3)
    if state is not S.OPEN:
        link.bind(S.BOUND_TRX)
        link.request(Role.ESME, SUBMIT)
        link.request(Role.SMSC, pdus.DeliverSm())
    return link.side(role)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    role=st.sampled_from(list(Role)),
    state=st.sampled_from([S.OPEN, S.BOUND_TRX]),
    data=streams,
    cuts=st.lists(st.integers(0, 10_000), max_size=8),
)
def test_any_bytes_in_any_chunks_only_make_documented_events(
    role: Role, state: SessionState, data: bytes, cuts: list[int]
) -> None:
    session = session_in(role, state)
    events = run_stream(session, split(data, cuts))
    for event in events:
        assert isinstance(event, DOCUMENTED)
        if isinstance(event, (RequestRefused, StreamFailed)):
            assert decode(event.data) == event.response
    if any(isinstance(e, StreamFailed) for e in events):
        assert isinstance(events[-1], StreamFailed)
        assert session.state is S.CLOSED
    assert len(session.unanswered_requests) <= session.window + MANAGEMENT_SLOTS
    # However it was cut, the same octets make the same events.
    assert run_stream(session_in(role, state), [data]) == events


@settings(max_examples=100)
@given(frames=st.lists(st.one_of(valid_frames, raw_frames), min_size=1, max_size=12))
def test_every_refused_request_gets_exactly_one_answer_with_its_number(
    frames: list[bytes],
) -> None:
    session = session_in(Role.SMSC, S.BOUND_TRX)
    session.receive_data(b"".join(frames), 1.0)
    events = drain(session)
    assert len(events) == len(frames)  # one event per whole frame, in order
    for frame, event in zip(frames, events, strict=True):
        _, command_id, _, seq = struct.unpack_from(">IIII", frame)
        if isinstance(event, RequestRefused):
            assert event.response.sequence_number == seq
            known = pdus.PDU_CLASSES_BY_ID.get(command_id)
            if known is None:
                assert type(event.response) is pdus.GenericNack
            elif event.response.command_status != ST.ESME_RINVCMDID:
                assert type(event.response) is pdus.response_class_for(command_id)
        elif isinstance(event, RequestReceived):
            assert event.pdu.sequence_number == seq
            assert not event.pdu.is_response
        else:
            assert isinstance(event, (ResponseReceived, ProtocolViolation))
            assert command_id & RESPONSE_BIT


# --- a model-based machine: any order of operations, both roles ---------------------------

WINDOW_TIMEOUT = 10.0


class SessionMachine(RuleBasedStateMachine):
    """Drives one session with arbitrary requests and responses in both directions and checks
    every outcome against a model built from the table."""

    session: Session

    @initialize(
        role=st.sampled_from(list(Role)),
        window=st.integers(1, 3),
        full_status=st.sampled_from([ST.ESME_RTHROTTLED, ST.ESME_RMSGQFUL]),
    )
    def start(self, role: Role, window: int, full_status: CommandStatus) -> None:
        self.role = role
        self.window = window
        self.full_status = full_status
        self.session = Session(
            role,
            now=0.0,
            window=window,
            response_timeout=WINDOW_TIMEOUT,
            window_full_status=full_status,
        )
        self.now = 0.0
        self.state = S.OPEN
        self.outstanding: dict[int, tuple[CommandId, float]] = {}
        self.unanswered: dict[int, CommandId] = {}
        self.bind_in_flight = False

    def _full(self, count: int, command: CommandId) -> bool:
        return count >= self.window and (
            command not in MANAGEMENT or count >= self.window + MANAGEMENT_SLOTS
        )

    def _feed(self, data: bytes, cuts: list[int]) -> list[Event]:
        return run_stream(self.session, split(data, cuts))

    @rule(
        data=st.data(),
        command=st.sampled_from(REQUESTS),
        seq=st.one_of(st.integers(1, 6), st.integers(1, MAX_SEQUENCE_NUMBER)),
        cuts=st.lists(st.integers(0, 500), max_size=3),
    )
    def receive_request(
        self, data: st.DataObject, command: CommandId, seq: int, cuts: list[int]
    ) -> None:
        body = data.draw(pdu_of(pdus.PDU_CLASSES_BY_ID[command]), label="request")
        pdu = body.replace(sequence_number=seq, command_status=0)
        events = self._feed(encode(pdu), cuts)
        if self.state is S.CLOSED:
            assert events == []
            return
        (event,) = events
        cell = TABLE[self.state, other(self.role), command]
        status: int = ST.ESME_ROK
        if not cell.legal:
            status = cell.refusal
        elif answers(command):
            if self._full(len(self.unanswered), command):
                status = self.full_status
            elif seq in self.unanswered:
                status = DUPLICATE_SEQUENCE_STATUS
            elif command in BINDS and self.bind_in_flight:
                status = BIND_IN_PROGRESS_STATUS
        if status == ST.ESME_ROK:
            assert event == RequestReceived(pdu=pdu)
            if answers(command):
                self.unanswered[seq] = command
                self.bind_in_flight |= command in BINDS
        else:
            assert isinstance(event, RequestRefused)
            assert event.response == pdus.error_response(command, seq, status)
            assert decode(event.data) == event.response

    @rule(
        data=st.data(),
        command=st.sampled_from(RESPONSES),
        status=st.sampled_from([0, 0, 0, ST.ESME_RSYSERR]),
        cuts=st.lists(st.integers(0, 500), max_size=3),
    )
    def receive_response(
        self, data: st.DataObject, command: CommandId, status: int, cuts: list[int]
    ) -> None:
        seqs = sorted(self.outstanding)
        seq = data.draw(st.sampled_from(seqs) if seqs else st.integers(1, 50), label="seq")
        pdu = sample(command, sequence_number=seq, command_status=status)
        events = self._feed(encode(pdu), cuts)
        if self.state is S.CLOSED:
            assert events == []
            return
        (event,) = events
        cell = TABLE[self.state, other(self.role), command]
        request = self.outstanding.pop(seq, None)
        if request is not None and request[0] in BINDS:
            self.bind_in_flight = False
        matches = request is not None and command in (request[0] | RESPONSE_BIT, C.GENERIC_NACK)
        if matches and cell.legal:
            assert isinstance(event, ResponseReceived)
            assert event.request.sequence_number == seq
            assert event.request.command_id is request[0]  # type: ignore[index]
            if status == 0:
                self.state = cell.next_state
        else:
            assert isinstance(event, ProtocolViolation)
            assert (event.request is None) is (request is None)

    @rule(command=st.sampled_from(REQUESTS))
    def send_request(self, command: CommandId) -> None:
        must_fail = (
            self.state is S.CLOSED
            or not TABLE[self.state, self.role, command].legal
            or (answers(command) and self._full(len(self.outstanding), command))
            or (command in BINDS and self.bind_in_flight)
        )
        try:
            data = self.session.send(sample(command), now=self.now)
        except LocalProtocolError:
            assert must_fail
            return
        assert not must_fail
        sent = decode(data)
        assert 1 <= sent.sequence_number <= MAX_SEQUENCE_NUMBER
        assert sent.sequence_number not in self.outstanding
        if answers(command):
            self.outstanding[sent.sequence_number] = (command, self.now)
            self.bind_in_flight |= command in BINDS

    @rule(data=st.data(), kind=st.sampled_from(["own", "generic_nack", "other"]))
    def answer(self, data: st.DataObject, kind: str) -> None:
        seqs = sorted(self.unanswered)
        seq = data.draw(st.sampled_from(seqs) if seqs else st.integers(1, 50), label="seq")
        status = data.draw(st.sampled_from([0, 0, ST.ESME_RSYSERR]), label="status")
        request = self.unanswered.get(seq)
        if kind == "own" and request is not None:
            command = C(request | RESPONSE_BIT)
        elif kind == "generic_nack":
            command = C.GENERIC_NACK
        else:
            command = data.draw(st.sampled_from(RESPONSES), label="command")
        matches = request is not None and command in (request | RESPONSE_BIT, C.GENERIC_NACK)
        legal = self.state is not S.CLOSED and TABLE[self.state, self.role, command].legal
        try:
            self.session.send(sample(command, sequence_number=seq, command_status=status))
        except LocalProtocolError:
            assert not (matches and legal)
            return
        assert matches and legal
        del self.unanswered[seq]
        if request in BINDS:
            self.bind_in_flight = False
        if status == 0:
            self.state = TABLE[self.state, self.role, command].next_state

    @rule(advance=st.sampled_from([0.0, 1.0, 4.0, 9.5, 10.0, 25.0]))
    def tick(self, advance: float) -> None:
        self.now += advance
        events = self.session.tick(self.now)
        expired = [s for s, (_, at) in self.outstanding.items() if at + WINDOW_TIMEOUT <= self.now]
        if self.state is S.CLOSED:
            assert events == []
            return
        assert [e.request.sequence_number for e in events if isinstance(e, ResponseTimeout)] == (
            expired
        )
        assert all(isinstance(e, ResponseTimeout) for e in events)  # no other timer set
        for seq in expired:
            if self.outstanding.pop(seq)[0] in BINDS:
                self.bind_in_flight = False

    @precondition(lambda self: self.state is not S.OPEN)
    @rule()
    def close(self) -> None:
        abandoned = self.session.close()
        assert [p.sequence_number for p in abandoned] == list(self.outstanding)
        self.state = S.CLOSED
        self.outstanding.clear()
        self.unanswered.clear()
        self.bind_in_flight = False

    @invariant()
    def agrees_with_the_model(self) -> None:
        session = self.session
        assert session.state is self.state
        assert list(session.outstanding_requests) == list(self.outstanding)
        assert dict(session.unanswered_requests) == self.unanswered
        for seq, request in session.outstanding_requests.items():
            assert request.sequence_number == seq

    @invariant()
    def windows_hold(self) -> None:
        for commands in (
            [c for c, _ in self.outstanding.values()],
            list(self.unanswered.values()),
        ):
            assert len(commands) <= self.window + MANAGEMENT_SLOTS
            assert len([c for c in commands if c not in MANAGEMENT]) <= self.window


SessionMachine.TestCase.settings = settings(max_examples=100, stateful_step_count=40, deadline=None)
test_session_machine = SessionMachine.TestCase
