"""The adapter-test rig: the real service on a fake reactor, and customers made of a sans-I/O
ESME session over a StringTransport.

- :class:`InlineWorker` stands in for the store thread: every call runs at once and returns an
  already-fired Deferred, so a test sees the whole effect of a PDU when ``dataReceived`` returns.
- :class:`Rig` builds the service with ``run.build_service`` on a ``MemoryReactorClock`` (a
  ``task.Clock`` that also records ``listenTCP``, so ``startService`` runs unchanged) and opens
  connections through the factory the service listens with.
- :class:`Esme` is one customer: it encodes what it sends with an ESME-role
  :class:`~smsc.pdu.session.Session` and reads the server's bytes back as PDUs.

Time moves only when a test calls :meth:`Rig.advance`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from twisted.internet import defer
from twisted.internet.address import IPv4Address
from twisted.internet.protocol import connectionDone
from twisted.internet.testing import MemoryReactorClock, StringTransport

from smsc.config.loader import Config, config_from_tables
from smsc.pdu import pdus
from smsc.pdu.codec import decode, encode
from smsc.pdu.constants import CommandStatus
from smsc.pdu.events import Event, RequestReceived, ResponseReceived
from smsc.pdu.receipt_text import ReceiptText
from smsc.pdu.session import Role, Session, SessionState
from smsc.routing.accounts import hash_password
from smsc.server.protocol import SmppServerFactory, SmppServerProtocol
from smsc.server.run import build_service
from smsc.server.service import SmscService
from smsc.server.worker import StoreWorker
from smsc.store.base import Store
from smsc.store.records import Account, Bucket

T = TypeVar("T")
S = CommandStatus

PASSWORD = "secret"
# A cheap scrypt cost: the hash is self-describing, so verification uses it too.
PASSWORD_HASH = hash_password(PASSWORD, n=16, r=1, p=1)
START = 1_700_000_000.0  # the clock's first reading: a realistic POSIX time
DESTINATION = "380501234567"  # routed to the one operator "op" of base_tables()
SENDER = "380631112233"
OPERATOR_DELAY = 5.0  # seconds from acceptance to the operator's (only) attempt
COMMIT_DELAY = 0.01


def base_tables() -> dict[str, Any]:
    """A small deterministic config: one operator that delivers everything after exactly
    OPERATOR_DELAY, one route to it, and server timers the tests can reason about."""
    return {
        "server": {
            "listen": ["tcp:2775:interface=127.0.0.1"],
            "commit_delay": COMMIT_DELAY,
            "enquire_link_interval": "30s",
            "inactivity_timeout": "5m",
            "response_timeout": "10s",
            "bind_timeout": "30s",
            "lock_after": 3,
            "lock_for": "60s",
            "receipt_retry_min": "1s",
            "receipt_retry_max": "60s",
        },
        "simulation": {"seed": 7, "builtin_operators": False, "test_numbers": True},
        "operators": {
            "op": {
                "throughput": 0,
                "delay": {"kind": "fixed", "value": OPERATOR_DELAY},
                "outcomes": [{"stat": "DELIVRD", "weight": 1}],
                "offline": {"probability": 0.0},
                "default_validity": "24h",
                "max_validity": "24h",
            },
        },
        "money": {"currency": "EUR", "decimals": 2},
        "routes": [{"name": "ua", "prefix": "380", "operators": ["op"], "price": "0.01"}],
    }


def make_config(server: Mapping[str, Any] | None = None) -> Config:
    tables = base_tables()
    tables["server"].update(server or {})
    return config_from_tables(tables)


def add_account(
    store: Store, system_id: str = "acme", *, credit: int = 100_000, **fields: Any
) -> Account:
    account = Account(system_id=system_id, password_hash=PASSWORD_HASH, created_at=START, **fields)
    store.create_account(account)
    if credit:
        store.credit(system_id, credit, Bucket.BOUGHT, START, note="test credit")
    return account


class InlineWorker(StoreWorker):
    """The store worker without a thread: each call runs now and its Deferred has fired.

    With ``hold`` set, calls wait instead (like calls queued on a busy store thread) until
    :meth:`release` runs them in order and fires their Deferreds."""

    def __init__(self) -> None:  # no thread pool: nothing to start
        self.pending = 0
        self.calls = 0
        self.started = False
        self.stopped = False
        self.hold = False
        self._held: list[tuple[Callable[[], Any], defer.Deferred[Any]]] = []

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.stopped = True

    def call(self, fn: Callable[..., T], *args: Any, lane: int = 1,
             **kwargs: Any) -> defer.Deferred[T]:
        del lane  # one lane: calls run at once, in the order made
        self.calls += 1
        if self.hold:
            d: defer.Deferred[T] = defer.Deferred()
            self._held.append((lambda: fn(*args, **kwargs), d))
            self.pending += 1
            return d
        try:
            result = fn(*args, **kwargs)
        except Exception as e:
            return defer.fail(e)
        return defer.succeed(result)

    def release(self) -> None:
        """Run the held calls in order, firing each one's Deferred; stop holding."""
        self.hold = False
        while self._held:
            run, d = self._held.pop(0)
            self.pending -= 1
            try:
                result = run()
            except Exception as e:
                d.errback(e)
            else:
                d.callback(result)

    def idle(self) -> bool:
        return self.pending == 0


class ClosingTransport(StringTransport):
    """A StringTransport whose ``loseConnection`` ends the connection on the next turn of the
    clock, as a real one does once its buffer is written."""

    def __init__(self, rig: Rig, peer: IPv4Address) -> None:
        super().__init__(peerAddress=peer)  # type: ignore[no-untyped-call]
        self._rig = rig
        self.lost = False
        self.aborted = False
        # A peer that takes nothing: a close waits for output that is never written.
        self.stuck = False
        self.connection: SmppServerProtocol | None = None

    def loseConnection(self) -> None:
        if self.disconnecting:
            return
        super().loseConnection()  # type: ignore[no-untyped-call]
        if not self.stuck:
            self._rig.clock.callLater(0, self._lose)

    def abortConnection(self) -> None:
        """Ends the connection on the next turn whatever is unsent."""
        if self.aborted:
            return
        self.aborted = True
        self.disconnecting = True
        self._rig.clock.callLater(0, self._lose)

    def _lose(self) -> None:
        if not self.lost and self.connection is not None:
            self.lost = True
            self.connection.connectionLost(connectionDone)

    def take(self) -> bytes:
        """What was written since the last take."""
        data: bytes = self.value()  # type: ignore[no-untyped-call]
        self.clear()  # type: ignore[no-untyped-call]
        return data


class Esme:
    """One customer connection seen from the customer's side."""

    def __init__(self, rig: Rig, protocol: SmppServerProtocol, transport: ClosingTransport) -> None:
        self.rig = rig
        self.protocol = protocol
        self.transport = transport
        self.session = Session(Role.ESME, now=rig.clock.seconds(), window=1000)
        self.inbox: list[pdus.Pdu] = []  # everything read from the server, in order

    # --- sending ----------------------------------------------------------------------------
    def numbered(self, pdu: pdus.Pdu) -> pdus.Pdu:
        if pdu.sequence_number == 0:
            pdu = pdu.replace(sequence_number=self.session.next_sequence_number())
        return pdu

    def send(self, *requests: pdus.Pdu) -> list[pdus.Pdu]:
        """Send requests (or responses) in one write; returns them with their numbers."""
        numbered = [self.numbered(p) if not p.is_response else p for p in requests]
        data = b"".join(self.session.send(p, self.rig.clock.seconds()) for p in numbered)
        self.write(data)
        return numbered

    def write(self, data: bytes) -> None:
        self.protocol.dataReceived(data)

    def write_pdu(self, pdu: pdus.Pdu) -> None:
        """Send a PDU the customer's own session would not let through (a protocol error)."""
        self.write(encode(pdu))

    def read_raw(self) -> list[pdus.Pdu]:
        """The PDUs the server wrote since the last read, decoded without the customer's
        session (for answers to requests that session never sent)."""
        data = self.transport.take()
        out = []
        while data:
            length = int.from_bytes(data[:4], "big")
            out.append(decode(data[:length]))
            data = data[length:]
        self.inbox.extend(out)
        return out

    # --- reading ----------------------------------------------------------------------------
    def read(self) -> list[pdus.Pdu]:
        """The PDUs the server wrote since the last read."""
        data = self.transport.take()
        self.session.receive_data(data, self.rig.clock.seconds())
        out: list[pdus.Pdu] = []
        while (event := self.session.next_event()) is not None:
            out.append(_pdu_of(event))
        self.inbox.extend(out)
        return out

    def read_one(self) -> pdus.Pdu:
        got = self.read()
        assert len(got) == 1, got
        return got[0]

    def deliveries(self) -> list[pdus.DeliverSm]:
        return [p for p in self.read() if isinstance(p, pdus.DeliverSm)]

    def answer(self, request: pdus.Pdu, status: int = 0) -> None:
        """Answer a request of the server's (deliver_sm, enquire_link, unbind)."""
        response = (
            request.response()
            if status == 0
            else pdus.error_response(request.command_id, request.sequence_number, status)
        )
        self.send(response)

    # --- conveniences -------------------------------------------------------------------------
    def bind(
        self,
        kind: type[pdus.BindRequest] = pdus.BindTransceiver,
        system_id: str = "acme",
        password: str = PASSWORD,
    ) -> pdus.Pdu:
        self.send(kind(system_id=system_id, password=password))
        return self.read_one()

    def submit(
        self,
        destination: str = DESTINATION,
        text: bytes = b"hello",
        *,
        registered_delivery: int = 1,
        **fields: Any,
    ) -> pdus.SubmitSm:
        pdu = submit_sm(destination, text, registered_delivery=registered_delivery, **fields)
        (sent,) = self.send(pdu)
        assert isinstance(sent, pdus.SubmitSm)
        return sent

    def submit_and_commit(
        self, destination: str = DESTINATION, text: bytes = b"hello", **fields: Any
    ) -> str:
        """Submit one message, let the group commit run, return its message id."""
        sent = self.submit(destination, text, **fields)
        self.rig.advance(COMMIT_DELAY)
        (resp,) = [p for p in self.read() if p.sequence_number == sent.sequence_number]
        assert isinstance(resp, pdus.SubmitSmResp), resp
        assert resp.command_status == 0, S.name_of(resp.command_status)
        return resp.message_id

    def closing(self) -> bool:
        """The server asked for the connection to be closed."""
        return bool(self.transport.disconnecting)

    def gone(self) -> bool:
        """The connection is closed (connectionLost ran)."""
        return self.transport.lost

    def is_bound(self) -> bool:
        return self.session.state in (
            SessionState.BOUND_TX,
            SessionState.BOUND_RX,
            SessionState.BOUND_TRX,
        )


def _pdu_of(event: Event) -> pdus.Pdu:
    if isinstance(event, RequestReceived | ResponseReceived):
        return event.pdu
    raise AssertionError(f"the customer's session could not accept what it got: {event}")


def submit_sm(
    destination: str = DESTINATION,
    text: bytes = b"hello",
    *,
    registered_delivery: int = 1,
    **fields: Any,
) -> pdus.SubmitSm:
    return pdus.SubmitSm(
        source_addr_ton=1,
        source_addr_npi=1,
        source_addr=SENDER,
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr=destination,
        short_message=text,
        registered_delivery=registered_delivery,
        **fields,
    )


def receipt_of(pdu: pdus.DeliverSm) -> ReceiptText:
    assert pdu.esm_class & 0x3C == 0x04, f"not a delivery receipt: esm_class {pdu.esm_class}"
    return ReceiptText.parse(pdu.short_message)


class Rig:
    """A started SmscService on a fake clock and a store, with helpers to connect customers."""

    def __init__(
        self, store: Store, config: Config | None = None, *, start_at: float = START
    ) -> None:
        self.clock = MemoryReactorClock()  # type: ignore[no-untyped-call]
        self.clock.advance(start_at)
        self.store = store
        self.config = config if config is not None else make_config()
        self.worker = InlineWorker()
        self.hasher = InlineWorker()  # the password hash pool, inline too (``hold`` works)
        self.announced: list[str] = []
        self.service: SmscService = build_service(
            self.clock, self.config, store, announce=self.announced.append, worker=self.worker,
            hasher=self.hasher,
        )
        self.service.startService()
        assert self.service.started.called
        self._ports = 40_000

    @property
    def factory(self) -> SmppServerFactory:
        """The factory the service listens with (recorded by the fake reactor)."""
        (factory,) = [f for port, f, _, _ in self.clock.tcpServers
                      if port == 2775 and isinstance(f, SmppServerFactory)][-1:]
        return factory

    def connect(self, host: str = "127.0.0.1") -> Esme:
        self._ports += 1
        peer = IPv4Address("TCP", host, self._ports)
        protocol = self.factory.buildProtocol(peer)
        transport = ClosingTransport(self, peer)
        transport.connection = protocol
        protocol.makeConnection(transport)  # type: ignore[no-untyped-call]
        return Esme(self, protocol, transport)

    def bound(
        self,
        kind: type[pdus.BindRequest] = pdus.BindTransceiver,
        system_id: str = "acme",
        host: str = "127.0.0.1",
    ) -> Esme:
        esme = self.connect(host)
        resp = esme.bind(kind, system_id)
        assert resp.command_status == 0, S.name_of(resp.command_status)
        return esme

    def advance(self, seconds: float) -> None:
        """Move time on by ``seconds``, stopping at every scheduled call so each runs at its own
        time and calls made for "now" (``callLater(0)``) run before anything later: the order a
        real reactor keeps."""
        clock = self.clock
        end = clock.seconds() + seconds
        clock.advance(0)
        while True:
            due = [c.getTime() for c in clock.getDelayedCalls()]
            upcoming = min(due) if due else None
            if upcoming is None or upcoming > end:
                break
            clock.rightNow = max(clock.rightNow, upcoming)
            clock.advance(0)
        clock.rightNow = max(clock.rightNow, end)
        clock.advance(0)

    def turn(self) -> None:
        """Run what is due now (one turn of the reactor)."""
        self.clock.advance(0)

    def stop(self) -> defer.Deferred[None]:
        return self.service.stopService()
