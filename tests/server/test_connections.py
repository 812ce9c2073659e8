"""smsc.server.connections.Connections on its own, without the service: the caps per address
and in total, eviction of the oldest never-bound connection, the bind timeout."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from twisted.internet.task import Clock

from smsc.server.connections import FD_RESERVE, Connections
from smsc.server.lograte import LogLimiter
from tests.server.harness import make_config


@dataclass(eq=False)
class FakeSession:
    unanswered_requests: dict[int, Any] = field(default_factory=dict)


@dataclass(eq=False)
class FakeConn:
    """What Connections reads of a connection, and what it did to it."""

    peer_host: str
    connected_at: float
    bind: object | None = None
    closing: bool = False
    closed_for: str = ""
    session: FakeSession = field(default_factory=FakeSession)
    aborted: str = ""
    closed: bool = False
    ticks: int = 0

    def abort(self, why: str) -> None:
        self.aborted = why
        self.closed_for = why

    def close(self) -> None:
        self.closed = True

    def tick(self, now: float) -> None:
        self.ticks += 1

    def log_info(self, cause: str, fmt: str, **fields: Any) -> None:
        pass


def table(**server: Any) -> tuple[Connections, Clock]:
    clock = Clock()
    conns = Connections(clock, make_config(server).server, LogLimiter())
    conns.fd_limit = 1 << 20
    return conns, clock


def test_the_cap_per_address_refuses_and_counts_why() -> None:
    conns, _ = table(max_connections_per_address=2)
    a, b, c = (FakeConn("127.0.0.2", connected_at=0.0) for _ in range(3))
    other = FakeConn("127.0.0.3", connected_at=0.0)
    for conn in (a, b, c, other):
        conns.connected(cast(Any, conn))
    assert (a in conns, b in conns, c in conns, other in conns) == (True, True, False, True)
    assert c.aborted == "address_limit" and conns.closed_for["address_limit"] == 1
    assert conns.per_address == {"127.0.0.2": 2, "127.0.0.3": 1}
    conns.forget(cast(Any, a))
    conns.forget(cast(Any, a))  # twice: counted once
    assert conns.per_address["127.0.0.2"] == 1 and len(conns) == 2


def test_at_the_total_cap_the_oldest_never_bound_goes_and_bound_ones_stay() -> None:
    conns, _ = table(max_connections=3)
    bound = FakeConn("127.0.0.2", connected_at=0.0, bind=object())
    binding = FakeConn("127.0.0.3", connected_at=1.0, session=FakeSession({1: None}))
    idle = FakeConn("127.0.0.4", connected_at=2.0)
    for conn in (bound, binding, idle):
        conns.connected(cast(Any, conn))
    newcomer = FakeConn("127.0.0.5", connected_at=3.0)
    conns.connected(cast(Any, newcomer))
    assert idle.aborted == "evicted" and idle not in conns and newcomer in conns
    assert conns.closed_for["evicted"] == 1
    last = FakeConn("127.0.0.6", connected_at=4.0)
    conns.connected(cast(Any, last))
    # the newcomer never bound either: it is the oldest of those now
    assert newcomer.aborted == "evicted" and last in conns
    newcomer.bind = last.bind = object()
    refused = FakeConn("127.0.0.7", connected_at=5.0)
    conns.connected(cast(Any, refused))
    assert refused.aborted == "connection_limit" and len(conns) == 3


def test_the_fd_limit_lowers_the_cap() -> None:
    conns, _ = table(max_connections=10_000)
    conns.fd_limit = FD_RESERVE + 5
    assert conns.limit == 5


def test_a_connection_that_does_not_bind_in_time_is_closed() -> None:
    conns, clock = table(bind_timeout=30)
    late = FakeConn("127.0.0.2", connected_at=0.0)
    bound = FakeConn("127.0.0.3", connected_at=0.0, bind=object())
    conns.connected(cast(Any, late))
    conns.connected(cast(Any, bound))
    clock.advance(30)
    conns.housekeeping()
    assert not late.closed and late.ticks == 1
    clock.advance(1)
    conns.housekeeping()
    assert (late.closed, late.closing, bound.closed, bound.ticks) == (True, True, False, 2)


def test_a_stopping_table_takes_no_new_connection() -> None:
    conns, _ = table()
    conns.stopping = True
    conn = FakeConn("127.0.0.2", connected_at=0.0)
    conns.connected(cast(Any, conn))
    assert conn.closed and conn not in conns
