"""Hostile and stuck peers, at the adapter: backpressure (the protocol as the producer of its
transport), drain and close time limits, invalid PDUs before a bind, connection caps, the
listen backlog, rate-limited log lines (see docs/operations.md)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import pytest
from twisted.logger import ILogObserver, LogEvent, globalLogPublisher

from smsc.pdu import pdus
from smsc.pdu.constants import CommandStatus
from smsc.server.lograte import LOG_BURST, LogLimiter, suppressed_note
from smsc.server.service import with_backlog
from smsc.store.base import Store
from tests.server.harness import OPERATOR_DELAY, Esme, Rig, make_config

S = CommandStatus
DUE_SLACK = 0.1
DRAIN = 3.0


@pytest.fixture
def logged() -> Iterator[list[LogEvent]]:
    """Every log event emitted during the test."""
    events: list[LogEvent] = []
    observer = cast(ILogObserver, events.append)
    globalLogPublisher.addObserver(observer)
    yield events
    globalLogPublisher.removeObserver(observer)


def lines_with(events: list[LogEvent], text: str) -> list[LogEvent]:
    return [e for e in events if text in str(e.get("log_format", ""))]


def paused_rig(store: Store, **server: object) -> Rig:
    return Rig(store, make_config({"drain_timeout": f"{DRAIN:g}s", **server}))


# --- backpressure -------------------------------------------------------------------------------


def test_the_connection_is_the_streaming_producer_of_its_transport(rig: Rig) -> None:
    esme = rig.connect()
    assert esme.transport.producer is esme.protocol
    assert esme.transport.streaming


def test_a_paused_connection_reads_nothing_until_its_output_drains(store: Store) -> None:
    rig = paused_rig(store)
    esme = rig.bound()
    # The transport's unsent output passed output_buffer: it pauses its producer.
    esme.protocol.pauseProducing()
    assert esme.transport.producerState == "paused"  # the socket is not read any more
    # What was read already waits in the session, unanswered.
    esme.send(pdus.EnquireLink(), pdus.EnquireLink())
    assert esme.read() == []
    esme.protocol.resumeProducing()  # everything written: read and answer again
    assert esme.transport.producerState == "producing"
    assert [type(p) for p in esme.read()] == [pdus.EnquireLinkResp, pdus.EnquireLinkResp]
    rig.advance(DRAIN * 2)
    assert not esme.gone()


def test_output_that_does_not_drain_within_drain_timeout_aborts_the_connection(
    store: Store,
) -> None:
    rig = paused_rig(store)
    esme = rig.bound()
    bystander = rig.bound()
    esme.protocol.pauseProducing()
    rig.advance(DRAIN - 0.1)
    assert not esme.gone()
    rig.advance(0.2)
    assert esme.transport.aborted and esme.gone()
    assert rig.service.closed_for["drain_timeout"] == 1
    assert esme.protocol not in rig.service.connections
    bystander.send(pdus.EnquireLink())
    assert isinstance(bystander.read_one(), pdus.EnquireLinkResp)


def test_a_close_whose_output_is_never_taken_is_aborted(store: Store) -> None:
    rig = paused_rig(store, bind_timeout="1s")
    esme = rig.connect()
    esme.transport.stuck = True  # loseConnection waits for output the peer never takes
    rig.advance(1.5)
    assert esme.closing() and not esme.gone()
    assert esme.transport.producer is None  # a registered producer would keep it open
    rig.advance(DRAIN)
    assert esme.transport.aborted and esme.gone()
    assert rig.service.closed_for["close_timeout"] == 1


def test_a_paused_connection_that_is_closed_is_aborted_once(store: Store) -> None:
    rig = paused_rig(store)
    esme = rig.bound()
    esme.transport.stuck = True
    esme.protocol.pauseProducing()
    rig.advance(1.0)
    esme.protocol.unbind_and_close()  # no answer comes: closed 2 s later, never drained
    rig.advance(DRAIN * 2)
    assert esme.transport.aborted and esme.gone()
    closed = rig.service.closed_for
    assert sum(closed.values()) == 1 and closed["drain_timeout"] == 1


def test_no_receipts_go_to_a_paused_receiver_until_it_drains(store: Store) -> None:
    rig = paused_rig(store, drain_timeout="1h")
    sender = rig.bound(pdus.BindTransmitter)
    receiver = rig.bound(pdus.BindReceiver)
    receiver.protocol.pauseProducing()
    sender.send(*(pdus.SubmitSm(source_addr="380631112233", destination_addr="380501234567",
                                dest_addr_ton=1, dest_addr_npi=1, short_message=b"x",
                                registered_delivery=1) for _ in range(3)))
    rig.advance(OPERATOR_DELAY + DUE_SLACK)
    assert receiver.deliveries() == []
    receiver.protocol.resumeProducing()
    rig.advance(0.01)
    assert len(receiver.deliveries()) == 3


# --- invalid PDUs before a bind -------------------------------------------------------------------


def unsolicited(esme: Esme, count: int, first: int = 1) -> None:
    for seq in range(first, first + count):
        esme.write_pdu(pdus.DeliverSmResp(sequence_number=seq))


def test_invalid_pdus_in_a_row_before_a_bind_close_the_connection(store: Store) -> None:
    rig = paused_rig(store, unbound_error_limit=5)
    esme = rig.connect()
    unsolicited(esme, 4)
    assert esme.read_raw() == [] and not esme.closing()
    # A refused request counts too (submit_sm before a bind: ESME_RINVBNDSTS).
    esme.write_pdu(pdus.SubmitSm(sequence_number=77, destination_addr="380501234567"))
    refused, nack = esme.read_raw()
    assert refused.command_status == S.ESME_RINVBNDSTS
    assert isinstance(nack, pdus.GenericNack)
    assert nack.command_status == S.ESME_RINVBNDSTS and nack.sequence_number == 77
    assert esme.closing()
    unsolicited(esme, 100, first=100)  # nothing after the limit is read
    assert esme.read_raw() == []
    rig.advance(0.01)
    assert esme.gone() and rig.service.closed_for["unbound_errors"] == 1


def test_a_valid_pdu_resets_the_count_of_invalid_ones(store: Store) -> None:
    rig = paused_rig(store, unbound_error_limit=3)
    esme = rig.connect()
    unsolicited(esme, 2)
    esme.send(pdus.EnquireLink())
    assert isinstance(esme.read_one(), pdus.EnquireLinkResp)
    unsolicited(esme, 2, first=10)
    assert not esme.closing()
    assert esme.bind().command_status == 0


def test_unsolicited_pdus_of_a_bound_peer_are_logged_a_few_times_only(
    rig: Rig, logged: list[LogEvent]
) -> None:
    esme = rig.bound()
    unsolicited(esme, 1000)
    assert not esme.closing()  # bound: not closed for it, but not a line per PDU either
    assert len(lines_with(logged, "{reason}")) == LOG_BURST
    rig.advance(30.0)
    unsolicited(esme, 1, first=5000)
    (line,) = lines_with(logged, "{reason}")[LOG_BURST:]
    assert line["suppressed"] == suppressed_note(995)


def test_a_failing_store_logs_a_few_tracebacks_not_one_per_commit(
    rig: Rig, logged: list[LogEvent]
) -> None:
    def broken(*_: object) -> object:
        raise OSError("disk I/O error")

    rig.service.committer._commit = broken  # type: ignore[assignment]
    esme = rig.bound()
    for _ in range(200):
        sent = esme.submit()
        rig.advance(0.02)
        (resp,) = [p for p in esme.read() if p.sequence_number == sent.sequence_number]
        assert resp.command_status == S.ESME_RSYSERR
    assert len(lines_with(logged, "group commit failed")) <= LOG_BURST + 1


# --- connection caps ------------------------------------------------------------------------


def test_connections_from_one_address_are_capped(store: Store) -> None:
    rig = Rig(store, make_config({"max_connections_per_address": 2}))
    first, second = rig.connect(), rig.connect()
    third = rig.connect()
    rig.advance(0.01)
    assert third.gone() and third.transport.aborted
    assert not first.gone() and not second.gone()
    other = rig.connect("127.0.0.2")
    assert other.bind().command_status == 0
    first.transport.loseConnection()
    rig.advance(0.01)
    assert rig.connect().bind().command_status == 0  # a slot of that address came free
    assert rig.service.closed_for["address_limit"] == 1


def test_at_the_connection_limit_the_oldest_never_bound_connection_makes_room(
    store: Store,
) -> None:
    rig = Rig(store, make_config({"max_connections": 3}))
    bound = rig.bound(host="127.0.0.2")
    idle_old = rig.connect("127.0.0.3")
    rig.advance(1.0)
    idle_new = rig.connect("127.0.0.4")
    newcomer = rig.connect("127.0.0.5")
    rig.advance(0.01)
    assert idle_old.gone() and not idle_new.gone() and not bound.gone()
    assert newcomer.bind().command_status == 0
    # All bound but one idle: it goes; then all bound: the newcomer is refused.
    assert rig.connect("127.0.0.6").bind().command_status == 0
    rig.advance(0.01)
    assert idle_new.gone()
    refused = rig.connect("127.0.0.7")
    rig.advance(0.01)
    assert refused.gone()
    assert rig.service.closed_for["evicted"] == 2
    assert rig.service.closed_for["connection_limit"] == 1


def test_the_connection_limit_stays_under_the_open_files_limit(rig: Rig) -> None:
    rig.service.connections.fd_limit = 100
    assert rig.service.connections.limit == 100 - 64


# --- listeners ------------------------------------------------------------------------------


def test_listeners_get_a_long_backlog(store: Store) -> None:
    rig = Rig(store, make_config({"listen_backlog": 777}))
    (backlog,) = [b for port, _, b, _ in rig.clock.tcpServers if port == 2775]
    assert backlog == 777


def test_a_backlog_in_the_endpoint_string_is_kept() -> None:
    assert with_backlog("tcp:2775:interface=127.0.0.1", 1024) == (
        "tcp:2775:interface=127.0.0.1:backlog=1024")
    assert with_backlog("tcp:2775:backlog=10", 1024) == "tcp:2775:backlog=10"
    assert with_backlog("ssl:3550:privateKey=k.pem", 9).endswith(":backlog=9")
    assert with_backlog("unix:/tmp/s", 9) == "unix:/tmp/s"
    assert with_backlog("haproxy:tcp:2775", 9) == "haproxy:tcp:2775:backlog=9"


# --- the log limiter --------------------------------------------------------------------------


def test_the_log_limiter_lets_a_burst_through_then_one_line_per_interval() -> None:
    limiter = LogLimiter(rate=1.0, burst=2, max_keys=2)
    assert [limiter.allow("a", 0.0) for _ in range(5)] == [0, 0, None, None, None]
    assert limiter.allow("b", 0.0) == 0  # keys are counted apart
    assert limiter.allow("a", 1.0) == 3  # the line after says how many were left out
    assert limiter.allow("c", 1.0) == 0
    assert len(limiter) == 2  # the oldest key went: the table is bounded
    assert limiter.forget_all() == 0 and len(limiter) == 0


def test_an_endpoint_behind_a_balancer_is_checked_as_the_one_it_wraps() -> None:
    from smsc.config.endpoints import EndpointError, endpoint_files, server_endpoint

    assert server_endpoint("haproxy:tcp:2775:interface=0.0.0.0") == (
        "haproxy:tcp:2775:interface=0.0.0.0")
    assert endpoint_files("haproxy:ssl:3550:privateKey=k.pem:certKey=c.pem") == ["k.pem",
                                                                                 "c.pem"]
    for bad in ("haproxy:", "haproxy:haproxy:tcp:1", "haproxy:tpc:2775", "haproxy:2775"):
        with pytest.raises(EndpointError):
            server_endpoint(bad)
