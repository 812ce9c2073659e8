"""Every outbox item out to customers (receipts, MO, alerts): runs the outbox dispatcher's
store reads and acks on the store thread and sends what it assigns over the bound connections.

Delivery is at least once: an item leaves the store's outbox only after its deliver_sm_resp,
so after a crash (kill -9, power loss) the items sent and not yet removed are sent again. To
keep that window small and bounded, an item answered but not yet removed keeps its place in
its receiver's window until the removal is committed: per receiver bind, what a crash can
deliver twice is at most ``receipt_window`` items. Removals run as soon as the previous one
ended (one at a time, batching what was answered meanwhile), in the store's urgent lane.
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsc.core.outbox import OutboxDispatcher, Pull
from smsc.pdu import pdus
from smsc.pdu.constants import CommandStatus
from smsc.server.protocol import SmppServerProtocol
from smsc.server.storehealth import StoreHealth
from smsc.server.worker import StoreWorker
from smsc.store.base import Store
from smsc.store.records import OutboxItem, OutboxKind

# A customer answering a deliver_sm with one of these will never take it: drop it.
PERMANENT_REFUSALS = frozenset({CommandStatus.ESME_RX_P_APPN, CommandStatus.ESME_RX_R_APPN})

_log = Logger()
ACK_RETRY = 1.0  # seconds before removals the store refused are tried again


class _Gate:
    """A bound receiver as the dispatcher sees it: its free slots count the items it answered
    whose removal from the store is not committed yet."""

    __slots__ = ("conn", "unconfirmed")

    def __init__(self, conn: SmppServerProtocol) -> None:
        self.conn = conn
        self.unconfirmed = 0

    @property
    def free_slots(self) -> int:
        return self.conn.free_slots - self.unconfirmed


class OutboxCourier:
    """Carries every outbox item (receipts, MO, alerts) from the store to the customers' receiver
    binds, and their removals back once answered."""

    def __init__(self, reactor: IReactorTime, worker: StoreWorker, store: Store,
                 dispatcher: OutboxDispatcher, *, ack_delay: float = 0.0,
                 health: StoreHealth | None = None) -> None:
        self._reactor = reactor
        self._worker = worker
        self._store = store
        self.dispatcher = dispatcher
        self._ack_delay = ack_delay
        self._health = health
        self._acks_running = False  # one removal at a time; the next batches what comes
        self._gates: dict[SmppServerProtocol, _Gate] = {}
        # Answered items whose removal is not committed yet, and whose window they hold.
        self._ack_owner: dict[int, _Gate] = {}
        self._pump_call: IDelayedCall | None = None
        self._ack_call: IDelayedCall | None = None
        self._retry_call: IDelayedCall | None = None
        # Per connection: sequence_number -> the item it carries.
        self._in_flight: dict[SmppServerProtocol, dict[int, OutboxItem]] = {}
        self.delivered = 0
        self.sent = 0
        # Called when items with a hook were committed here (they are the webhook courier's).
        self.hooked: Callable[[list[OutboxItem]], None] | None = None

    # --- receivers come and go --------------------------------------------------------------
    def receiver_bound(self, account: str, conn: SmppServerProtocol) -> None:
        self._in_flight[conn] = {}
        gate = self._gates[conn] = _Gate(conn)
        self.dispatcher.bound(account, gate)
        self.pull()

    def receiver_gone(self, account: str, conn: SmppServerProtocol) -> None:
        items = self._in_flight.pop(conn, {})
        gate = self._gates.pop(conn, None)
        self.dispatcher.unbound(account, gate if gate is not None else conn,
                                list(items.values()))
        self.schedule_pump()

    # --- loading from the store ---------------------------------------------------------------
    def offer(self, items: list[OutboxItem]) -> None:
        """Items this process just committed: taken at once where an account is caught up,
        read from the store later where it is not. Items with a hook go to ``hooked``."""
        if self.hooked is not None:
            self.hooked(items)
        later = self.dispatcher.offer(items, self._reactor.seconds())
        if later:
            self.dispatcher.announce(later)
            self.pull()
        self.schedule_pump()

    def pull(self, *, rescan: bool = False) -> None:
        pulls = self.dispatcher.pulls(rescan=rescan)
        if not pulls:
            return
        self.flush_acks()  # queued first, so the reads below see the deletions
        now = self._reactor.seconds()
        for p in pulls:
            d = self._worker.call(self._store.outbox_for, p.account, p.after_id, p.limit, now)
            d.addCallbacks(self._loaded, self._pull_failed, callbackArgs=(p,),
                           errbackArgs=(p,))

    def _loaded(self, items: list[OutboxItem], pull: Pull) -> None:
        self.dispatcher.loaded(pull, items, self._reactor.seconds())
        self.schedule_pump()
        self._arm_retry()
        if len(items) >= pull.limit:
            self.pull()

    def _pull_failed(self, failure: Failure, pull: Pull) -> None:
        if self._health is not None:
            self._health.failed(f"reading the outbox of {pull.account}", failure)
        else:
            _log.failure("reading the outbox of {account} failed", failure, account=pull.account)
        self.dispatcher.pull_failed(pull)

    # --- sending ----------------------------------------------------------------------------------
    def schedule_pump(self) -> None:
        if self._pump_call is None:
            self._pump_call = self._reactor.callLater(0, self._pump)

    def _pump(self) -> None:
        self._pump_call = None
        now = self._reactor.seconds()
        for gate, item in self.dispatcher.assign(now):
            self._send(gate, item, now)  # type: ignore[arg-type]
        self._arm_retry()
        if self.dispatcher.has_acks:
            self._schedule_acks()
        self.pull()

    def _send(self, gate: _Gate, item: OutboxItem, now: float) -> None:
        conn = gate.conn
        sent = conn.send_frame(item.pdu)
        if sent is None:
            self.dispatcher.failed(item, now)
            return
        self.sent += 1
        if item.kind == OutboxKind.ALERT:  # no response comes: written is done
            self.dispatcher.delivered(item)
            self._unconfirmed(gate, item.id)
            self._schedule_acks()
            return
        self._in_flight.setdefault(conn, {})[sent.sequence_number] = item

    def _arm_retry(self) -> None:
        when = self.dispatcher.next_retry()
        if when is None:
            return
        if self._retry_call is not None and self._retry_call.active():
            if self._retry_call.getTime() <= when:
                return
            self._retry_call.cancel()
        delay = max(0.0, when - self._reactor.seconds())
        self._retry_call = self._reactor.callLater(delay, self.schedule_pump)

    # --- answers ------------------------------------------------------------------------------
    def answered(self, conn: SmppServerProtocol, pdu: pdus.Pdu) -> None:
        """A deliver_sm_resp or generic_nack for one of our deliver_sm."""
        item = self._in_flight.get(conn, {}).pop(pdu.sequence_number, None)
        if item is None:
            return
        status = pdu.command_status
        if status == 0 or status in PERMANENT_REFUSALS:
            if status:
                _log.info("{account} refused outbox item {id} for good ({status}); dropped",
                          account=item.account, id=item.id,
                          status=CommandStatus.name_of(status))
            self.dispatcher.delivered(item)
            self.delivered += 1
            gate = self._gates.get(conn)
            if gate is not None:
                self._unconfirmed(gate, item.id)
            self._schedule_acks()
        else:
            self.dispatcher.failed(item, self._reactor.seconds())
        self.schedule_pump()

    def unanswered(self, conn: SmppServerProtocol, request: pdus.Pdu) -> None:
        """A deliver_sm timed out (or its answer could not be read): try it again later."""
        item = self._in_flight.get(conn, {}).pop(request.sequence_number, None)
        if item is not None:
            self.dispatcher.failed(item, self._reactor.seconds())
            self.schedule_pump()

    def _unconfirmed(self, gate: _Gate, item_id: int) -> None:
        gate.unconfirmed += 1
        self._ack_owner[item_id] = gate

    def _schedule_acks(self, delay: float | None = None) -> None:
        if self._ack_call is None and not self._acks_running:
            self._ack_call = self._reactor.callLater(
                self._ack_delay if delay is None else delay, self.flush_acks)

    def flush_acks(self) -> None:
        """Remove the answered items from the store (one removal at a time)."""
        if self._ack_call is not None and self._ack_call.active():
            self._ack_call.cancel()
        self._ack_call = None
        if self._acks_running:
            return  # the running removal's end takes what came meanwhile
        acks = self.dispatcher.take_acks()
        if acks:
            self._acks_running = True
            d = self._worker.urgent(self._store.ack_outbox, acks)
            d.addCallbacks(self._acks_done, self._acks_failed, callbackArgs=(acks,),
                           errbackArgs=(acks,))

    def _acks_done(self, _: object, acks: list[int]) -> None:
        self._acks_running = False
        self.dispatcher.acks_done(acks)
        owners = self._ack_owner
        for item_id in acks:
            gate = owners.pop(item_id, None)
            if gate is not None:
                gate.unconfirmed -= 1
        if self.dispatcher.has_acks:
            self.flush_acks()
        self.schedule_pump()  # the windows they held are free

    def _acks_failed(self, failure: Failure, acks: list[int]) -> None:
        """The store could not remove them: they keep their windows (no more items go to those
        receivers meanwhile) and are tried again shortly."""
        self._acks_running = False
        if self._health is not None:
            self._health.failed("removing delivered outbox items", failure)
        else:
            _log.failure("removing delivered outbox items failed", failure)
        self.dispatcher.acks_failed(acks)
        self._schedule_acks(ACK_RETRY)

    @property
    def unconfirmed(self) -> int:
        """Items answered whose removal from the store is not committed yet."""
        return len(self._ack_owner)

    def in_flight_count(self) -> int:
        return sum(len(v) for v in self._in_flight.values())

