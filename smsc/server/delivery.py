"""Receipts and MO out to customers: runs the outbox dispatcher's store reads and acks on the
store thread and sends what it assigns over the bound connections."""

from __future__ import annotations

from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsc.outbox import OutboxDispatcher, Pull
from smsc.pdu import pdus
from smsc.pdu.constants import CommandStatus
from smsc.server.lograte import LogLimiter, suppressed_note
from smsc.server.protocol import SmppServerProtocol
from smsc.server.worker import StoreWorker
from smsc.store.base import Store
from smsc.store.records import OutboxItem, OutboxKind

# A customer answering a deliver_sm with one of these will never take it: drop it.
PERMANENT_REFUSALS = frozenset({CommandStatus.ESME_RX_P_APPN, CommandStatus.ESME_RX_R_APPN})

_log = Logger()


class ReceiptCourier:
    """Moves outbox items from the store to customers and acknowledgements back."""

    def __init__(self, reactor: IReactorTime, worker: StoreWorker, store: Store,
                 dispatcher: OutboxDispatcher, *, ack_delay: float = 0.005) -> None:
        self._reactor = reactor
        self._worker = worker
        self._store = store
        self.dispatcher = dispatcher
        self._ack_delay = ack_delay
        self._pump_call: IDelayedCall | None = None
        self._ack_call: IDelayedCall | None = None
        self._retry_call: IDelayedCall | None = None
        # Per connection: sequence_number -> the item it carries.
        self._in_flight: dict[SmppServerProtocol, dict[int, OutboxItem]] = {}
        self.delivered = 0
        self.sent = 0
        self._logs = LogLimiter()  # store faults: not a traceback per read

    # --- receivers come and go --------------------------------------------------------------
    def receiver_bound(self, account: str, conn: SmppServerProtocol) -> None:
        self._in_flight[conn] = {}
        self.dispatcher.bound(account, conn)
        self.pull()

    def receiver_gone(self, account: str, conn: SmppServerProtocol) -> None:
        items = self._in_flight.pop(conn, {})
        self.dispatcher.unbound(account, conn, list(items.values()))
        self.schedule_pump()

    # --- loading from the store ---------------------------------------------------------------
    def announce(self, accounts: frozenset[str] | set[str]) -> None:
        self.dispatcher.announce(accounts)
        self.pull()

    def offer(self, items: list[OutboxItem]) -> None:
        """Items this process just committed: taken at once where an account is caught up,
        read from the store later where it is not."""
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
        left_out = self._logs.allow("pull", self._reactor.seconds())
        if left_out is not None:
            _log.failure("reading the outbox of {account} failed{suppressed}", failure,
                         account=pull.account, suppressed=suppressed_note(left_out))
        self.dispatcher.pull_failed(pull)

    # --- sending ----------------------------------------------------------------------------------
    def schedule_pump(self) -> None:
        if self._pump_call is None:
            self._pump_call = self._reactor.callLater(0, self._pump)

    def _pump(self) -> None:
        self._pump_call = None
        now = self._reactor.seconds()
        for conn, item in self.dispatcher.assign(now):
            self._send(conn, item, now)  # type: ignore[arg-type]
        self._arm_retry()
        if self.dispatcher.has_acks:
            self._schedule_acks()
        self.pull()

    def _send(self, conn: SmppServerProtocol, item: OutboxItem, now: float) -> None:
        sent = conn.send_frame(item.pdu)
        if sent is None:
            self.dispatcher.failed(item, now)
            return
        self.sent += 1
        if item.kind == OutboxKind.ALERT:  # no response comes: written is done
            self.dispatcher.delivered(item)
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

    def _schedule_acks(self) -> None:
        if self._ack_call is None:
            self._ack_call = self._reactor.callLater(self._ack_delay, self.flush_acks)

    def flush_acks(self) -> None:
        if self._ack_call is not None and self._ack_call.active():
            self._ack_call.cancel()
        self._ack_call = None
        acks = self.dispatcher.take_acks()
        if acks:
            d = self._worker.call(self._store.ack_outbox, acks)
            d.addCallbacks(lambda _: self.dispatcher.acks_done(acks), self._acks_failed)

    def _acks_failed(self, failure: Failure) -> None:
        left_out = self._logs.allow("acks", self._reactor.seconds())
        if left_out is not None:
            _log.failure("removing delivered outbox items failed{suppressed}", failure,
                         suppressed=suppressed_note(left_out))

    def in_flight_count(self) -> int:
        return sum(len(v) for v in self._in_flight.values())

