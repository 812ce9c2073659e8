"""The running SMS centre: listeners, connections, the store thread, group commit, the operator
queues' rounds and receipts out, under one Twisted service.

Every PDU a connection receives comes here as one call; the decision is the core's, the
plumbing (which thread, which batch, which connection) is this module's.
"""

from __future__ import annotations

import dataclasses
import resource
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twisted.application import service
from twisted.internet import defer, endpoints
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IListeningPort, IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.server import Site

from smsc.config.loader import Config
from smsc.config.server import ServerSettings
from smsc.config.watch import ConfigWatch
from smsc.config_error import ConfigError
from smsc.core.binds import LockPolicy, Throttles
from smsc.core.centre import BindVerdict, Committed, DueRound, SmscCore, operator_desk
from smsc.core.ids import IdBlock
from smsc.core.messages import Cancelled
from smsc.core.outbox import OutboxDispatcher
from smsc.core.routebook import RouteBook
from smsc.core.submit import Answer, BindContext, Prepared
from smsc.pdu import pdus
from smsc.pdu.constants import INTERFACE_VERSION, CommandStatus, Tag
from smsc.pdu.errors import PduError
from smsc.pdu.session import Role, Session
from smsc.pdu.tlv import Tlvs
from smsc.server.binding import BindDispatcher, HashPool, Runner
from smsc.server.committer import GroupCommitter
from smsc.server.delivery import OutboxCourier
from smsc.server.lograte import LogLimiter, suppressed_note
from smsc.server.metrics import MetricsPage
from smsc.server.observed import service_metrics
from smsc.server.outbind import Outbinder
from smsc.server.protocol import SmppServerFactory, SmppServerProtocol
from smsc.server.responses import message_response
from smsc.server.storehealth import StoreHealth
from smsc.server.worker import StoreWorker
from smsc.slotted import slot_constructor
from smsc.store.base import Store
from smsc.store.records import AcceptOutcome, Account, BindType, OutboxItem

_log = Logger()
S = CommandStatus
_BIND_TYPES = {pdus.BindTransmitter: BindType.TRANSMITTER, pdus.BindReceiver: BindType.RECEIVER,
               pdus.BindTransceiver: BindType.TRANSCEIVER}
_SC_VERSION = Tlvs.of({Tag.SC_INTERFACE_VERSION: INTERFACE_VERSION})
SHORT_ROUND = 64  # parts per queue round while submits wait for their commit
# A failed id block reservation is asked again after these pauses (doubling), whether or not
# submits come: service is back within about REFILL_RETRY_MAX once the store is.
REFILL_RETRY_MIN = 0.1
REFILL_RETRY_MAX = 2.0
FD_RESERVE = 64  # file descriptors kept for the store, listeners and logs, not connections


@dataclass(slots=True)
class BindRecord:
    account: Account
    bind_type: BindType
    context: BindContext


_submit_sm_resp = slot_constructor(pdus.SubmitSmResp)  # sequence_number, status, message_id


class SmscService(service.Service):
    def __init__(self, reactor: Any, settings: ServerSettings, store: Store, core: SmscCore,
                 ids: IdBlock, *, announce: Callable[[str], None] = print,
                 worker: StoreWorker | None = None, routing: RouteBook | None = None,
                 config: Config | None = None,
                 reload_config: Callable[[], Config] | None = None,
                 hasher: Runner | None = None) -> None:
        self.reactor = reactor
        self.clock: IReactorTime = reactor
        self.settings = settings
        self.store = store
        self.core = core
        self.ids = ids
        self.announce = announce
        self.routing = routing
        self.config = config
        self._reload_config = reload_config
        self._watch = ConfigWatch(config.files) if config is not None else None
        self.worker = worker if worker is not None else StoreWorker(reactor)
        self.health = StoreHealth(reactor)
        # Password hashes run in a pool of their own, never on the store thread.
        self.hasher = hasher if hasher is not None else HashPool(reactor, settings.hash_threads)
        self.binder = BindDispatcher(reactor, self.worker, self.hasher, lambda: self.core.binds,
                                     open_binds=self._open_binds,
                                     total=settings.pending_binds,
                                     per_address=settings.pending_binds_per_address,
                                     queue=settings.queued_binds,
                                     refusal_delay=settings.bind_refusal_delay)
        self.committer = GroupCommitter(reactor, self.worker, core.commit,
                                        delay=settings.commit_delay,
                                        max_batch=settings.commit_batch,
                                        after=self._settled, health=self.health)
        self._refill_delay = REFILL_RETRY_MIN
        self._refill_call: Any = None
        # The routing config the next router is built for (a reload changes it at once, so a
        # blacklist rebuild queued after the reload builds the new routes too).
        self._routing_config = routing.config if routing is not None else None
        self.courier = OutboxCourier(
            reactor, self.worker, store,
            # Room for a full commit's receipts on top of what the binds have in flight, so
            # receipts committed here go straight out instead of being read back.
            OutboxDispatcher(per_account=max(4096, settings.receipt_window * 16
                                             + 2 * settings.commit_batch),
                             retry_min=settings.receipt_retry_min,
                             retry_max=settings.receipt_retry_max),
            health=self.health)
        self.connections: set[SmppServerProtocol] = set()
        self.outbinder = Outbinder(reactor, self.worker, store, factory=lambda: self.factory,
                                   system_id=settings.system_id, receiving=self._receiving,
                                   is_open=self.connections.__contains__)
        self.binds: dict[str, set[SmppServerProtocol]] = {}
        self.throttles = Throttles()  # each account's bucket, shared by its binds
        self.ports: list[IListeningPort] = []
        self._loops: list[LoopingCall] = []
        self._due_running = False
        self._due_call: Any = None
        self._stopping = False
        self._change_counter = -1
        self.factory = SmppServerFactory(self, self.clock, settings.receipt_window,
                                         output_buffer=settings.output_buffer,
                                         drain_timeout=settings.drain_timeout,
                                         unbound_error_limit=settings.unbound_error_limit)
        self.per_address: Counter[str] = Counter()  # open connections by peer address
        # Connections the server closed or aborted, by why (drain_timeout, close_timeout,
        # unbound_errors, address_limit, connection_limit, evicted): for the metrics.
        self.closed_for: Counter[str] = Counter()
        self.fd_limit = _fd_soft_limit()
        self.logs = LogLimiter()  # lines about causes that are not one peer's
        self.started = defer.Deferred[None]()
        self.stats = {"submits": 0, "refused": 0, "binds": 0}
        # For the metrics: refused submits and binds by status, parts final by operator.
        self.refusals: Counter[int] = Counter()
        self.bind_refusals: Counter[int] = Counter()
        self.finals: Counter[str] = Counter()
        self.started_at = reactor.seconds()

    # --- lifecycle ----------------------------------------------------------------------------
    def startService(self) -> None:
        super().startService()  # type: ignore[no-untyped-call]
        self.worker.start()
        self.hasher.start()
        d = defer.ensureDeferred(self._start())
        d.addErrback(self._start_failed)

    async def _start(self) -> None:
        depths = await self.worker.call(self.core.begin)
        self.core.queue_depths.reload(depths)
        first, count = await self.worker.call(self.core.reserve_ids, self.ids.block_size)
        self.ids.add_block(first, count)
        self._change_counter = await self.worker.call(self.store.change_counter)
        self.outbinder.use_targets(await self.worker.call(self.outbinder.load_targets))
        factory = self.factory
        for description in self.settings.listen:
            endpoint = endpoints.serverFromString(  # type: ignore[no-untyped-call]
                self.reactor, with_backlog(description, self.settings.listen_backlog))
            port = await endpoint.listen(factory)
            self.ports.append(port)
            address = port.getHost()
            kind = "ssl" if description.startswith("ssl:") else "tcp"
            self.announce(f"listening on {kind}:{address.host}:{address.port}")
        if self.settings.metrics:
            endpoint = endpoints.serverFromString(  # type: ignore[no-untyped-call]
                self.reactor, self.settings.metrics)
            site = Site(MetricsPage(lambda: service_metrics(self)))  # type: ignore[no-untyped-call]
            site.noisy = False
            port = await endpoint.listen(site)
            self.ports.append(port)
            address = port.getHost()
            self.announce(f"metrics on http://{address.host}:{address.port}/metrics")
        for interval, fn in ((0.5, self._housekeeping), (1.0, self._every_second),
                             (5.0, self.outbinder.check), (60.0, self._every_minute)):
            loop = LoopingCall(fn)
            loop.clock = self.clock
            loop.start(interval, now=False).addErrback(self._periodic_failed)
            self._loops.append(loop)
        self._schedule_due(0.0)
        self.started.callback(None)

    def _start_failed(self, failure: Failure) -> None:
        if not isinstance(failure.value, CannotListenError | FileNotFoundError | PermissionError):
            # a busy port, a key file that cannot be read: one line, no traceback
            _log.failure("smsc could not start", failure)
        if not self.started.called:
            self.started.errback(failure)

    def _periodic_failed(self, failure: Failure) -> None:
        self._log_failure("loop", "a periodic task failed", failure)

    def _log_failure(self, cause: str, fmt: str, failure: Failure, **fields: Any) -> None:
        """A traceback, at most a few per cause in a burst, then one every few seconds."""
        left_out = self.logs.allow(cause, self.clock.seconds())
        if left_out is not None:
            _log.failure(fmt + "{suppressed}", failure, suppressed=suppressed_note(left_out),
                         **fields)

    def _loop_failed(self, failure: Failure) -> None:
        """A routine store call failed (logged at a bounded rate; the next round tries again)."""
        self.health.failed("a routine store call", failure)

    async def stop(self) -> None:
        """Unbind every customer, answer what is pending, flush to the store, stop."""
        self._stopping = True
        for port in self.ports:
            await defer.maybeDeferred(port.stopListening)
        for loop in self._loops:
            if loop.running:
                loop.stop()
        if self._due_call is not None and self._due_call.active():
            self._due_call.cancel()
        if self._refill_call is not None and self._refill_call.active():
            self._refill_call.cancel()
        self.committer.flush_now()  # submits waiting for a commit are answered first
        for conn in list(self.connections):
            conn.unbind_and_close()
        deadline = self.clock.seconds() + 3.0
        while self.connections and self.clock.seconds() < deadline:
            await _sleep(self.clock, 0.05)
        for conn in list(self.connections):
            conn.close()
        self.committer.flush_now()
        while self.committer.queued or not self.worker.idle():
            await _sleep(self.clock, 0.01)
            self.committer.flush_now()
        self.courier.flush_acks()
        while not self.worker.idle():
            await _sleep(self.clock, 0.01)
        # Closing checkpoints the WAL (disk I/O): on the store thread, like every store call.
        await self.worker.call(self.store.close)
        self.hasher.stop()
        self.worker.stop()

    def stopService(self) -> defer.Deferred[None]:
        super().stopService()  # type: ignore[no-untyped-call]
        return defer.ensureDeferred(self.stop())

    # --- connections (SmppEndpoint) -------------------------------------------------------------
    def new_session(self, now: float) -> Session:
        s = self.settings
        return Session(Role.SMSC, now=now, window=s.window, max_pdu_length=s.max_pdu_length,
                       enquire_link_interval=s.enquire_link_interval,
                       inactivity_timeout=s.inactivity_timeout,
                       response_timeout=s.response_timeout,
                       window_full_status=s.window_full_status)

    @property
    def connection_limit(self) -> int:
        """Connections open at once at most: max_connections, kept under the fd limit."""
        return max(1, min(self.settings.max_connections, self.fd_limit - FD_RESERVE))

    def connected(self, conn: SmppServerProtocol) -> None:
        if self._stopping:
            conn.close()
            return
        host = conn.peer_host
        if self.per_address[host] >= self.settings.max_connections_per_address:
            self._refuse_connection(conn, "address_limit",
                                    f"{self.per_address[host]} connections from it already")
            return
        if len(self.connections) >= self.connection_limit and not self._make_room():
            self._refuse_connection(conn, "connection_limit",
                                    f"{len(self.connections)} connections open, all bound")
            return
        self.connections.add(conn)
        self.per_address[host] += 1

    def _make_room(self) -> bool:
        """At the connection limit: abort the oldest connection that never bound (and is not
        binding); whether there was one."""
        unbound = [c for c in self.connections
                   if c.bind is None and not c.session.unanswered_requests]
        if not unbound:
            return False
        oldest = min(unbound, key=lambda c: c.connected_at)
        self._closing_log("evicted", f"{oldest.peer_host}: never bound, aborted to make room "
                                     f"for a new connection ({len(self.connections)} open)")
        oldest.abort("evicted")
        self._forget_connection(oldest)
        return True

    def _refuse_connection(self, conn: SmppServerProtocol, why: str, detail: str) -> None:
        self._closing_log(why, f"{conn.peer_host}: connection refused, {detail}")
        self.closed_for[why] += 1
        conn.abort(why)

    def _closing_log(self, cause: str, line: str) -> None:
        left_out = self.logs.allow(cause, self.clock.seconds())
        if left_out is not None:
            _log.info("{line}{suppressed}", line=line, suppressed=suppressed_note(left_out))

    def _forget_connection(self, conn: SmppServerProtocol) -> None:
        if conn in self.connections:
            self.connections.discard(conn)
            host = conn.peer_host
            self.per_address[host] -= 1
            if self.per_address[host] <= 0:
                del self.per_address[host]
            if conn.closed_for not in ("", "closed"):
                self.closed_for[conn.closed_for] += 1

    def drained(self, conn: SmppServerProtocol) -> None:
        """A connection's output was written after it had stopped reading: receipts may go
        to it again."""
        if isinstance(conn.bind, BindRecord) and conn.bind.bind_type.can_receive:
            self.courier.schedule_pump()

    def disconnected(self, conn: SmppServerProtocol, abandoned: list[pdus.Pdu]) -> None:
        self._forget_connection(conn)
        record = conn.bind
        if isinstance(record, BindRecord):
            account = record.account.system_id
            bound = self.binds.get(account)
            if bound is not None:
                bound.discard(conn)
                if not bound:
                    del self.binds[account]
            if record.bind_type.can_receive:
                self.courier.receiver_gone(account, conn)
            conn.bind = None

    def response(self, conn: SmppServerProtocol, pdu: pdus.Pdu, request: pdus.Pdu) -> None:
        if isinstance(request, pdus.DeliverSm):
            self.courier.answered(conn, pdu)
        elif isinstance(request, pdus.Unbind):
            conn.finish()

    def no_response(self, conn: SmppServerProtocol, request: pdus.Pdu) -> None:
        if isinstance(request, pdus.DeliverSm):
            self.courier.unanswered(conn, request)

    def request(self, conn: SmppServerProtocol, pdu: pdus.Pdu) -> None:
        kind = type(pdu)
        if kind is pdus.SubmitSm or kind is pdus.DataSm or kind is pdus.SubmitMulti:
            self._submit(conn, pdu)
        elif kind is pdus.EnquireLink:
            conn.respond(pdus.EnquireLinkResp(sequence_number=pdu.sequence_number))
        elif kind in _BIND_TYPES:
            self._bind(conn, pdu)  # type: ignore[arg-type]
        elif kind is pdus.Unbind:
            conn.respond(pdus.UnbindResp(sequence_number=pdu.sequence_number))
            conn.finish()
        elif kind is pdus.QuerySm or kind is pdus.CancelSm or kind is pdus.ReplaceSm:
            self._message_request(conn, pdu)
        else:  # pragma: no cover - the session's table lets nothing else through
            conn.respond(pdus.error_response(pdu.command_id, pdu.sequence_number,
                                             S.ESME_RINVCMDID))

    # --- bind ---------------------------------------------------------------------------------
    def _bind(self, conn: SmppServerProtocol, pdu: pdus.BindRequest) -> None:
        bind_type = _BIND_TYPES[type(pdu)]
        d = self.binder.authenticate(pdu.system_id, pdu.password, bind_type, conn.peer_host,
                                     lambda: conn in self.connections)
        d.addCallback(self._bound, conn, pdu, bind_type)
        d.addErrback(self._request_failed, conn, pdu)

    def _bound(self, verdict: BindVerdict, conn: SmppServerProtocol, pdu: pdus.BindRequest,
               bind_type: BindType) -> None:
        if conn not in self.connections:  # gone while the store thread checked the bind
            return
        status = verdict.status
        account = verdict.account
        if status != 0 or account is None:
            self.bind_refusals[status] += 1
            if not verdict.logged:
                # A bind storm must not write a line per bind: per status (and per account for
                # wrong passwords, which only existing accounts get), a few lines, then one
                # every few seconds. A line that announces a new lock is always written.
                key = ("bind", status, pdu.system_id if status == S.ESME_RINVPASWD else "")
                left_out = 0 if verdict.new_lock else self.logs.allow(key, self.clock.seconds())
                if left_out is not None:
                    _log.info("bind of {system_id!r} from {peer} refused: {reason}{suppressed}",
                              system_id=pdu.system_id, peer=conn.peer_host,
                              reason=verdict.reason or CommandStatus.name_of(status),
                              suppressed=suppressed_note(left_out))
            if verdict.delay > 0:  # refused for the limits: slow a peer binding in a loop
                self.clock.callLater(verdict.delay, self._refused_late, conn,
                                     pdu.response(command_status=verdict.answered))
            else:
                conn.respond(pdu.response(command_status=verdict.answered))
            return
        conn.respond(pdu.response(system_id=self.settings.system_id, tlvs=_SC_VERSION))
        record = BindRecord(account=account, bind_type=bind_type,
                            context=self.throttles.caller(account))
        conn.bind = record
        self.stats["binds"] += 1
        self.binds.setdefault(account.system_id, set()).add(conn)
        if bind_type.can_receive:
            self.courier.receiver_bound(account.system_id, conn)
            self.outbinder.receiver_bound(account.system_id)

    def _open_binds(self, system_id: str) -> int:
        return len(self.binds.get(system_id, ()))

    def _refused_late(self, conn: SmppServerProtocol, response: pdus.Pdu) -> None:
        if conn in self.connections:
            conn.respond(response)

    def _receiving(self, account: str) -> bool:
        """Whether ``account`` has a receiver or transceiver bound."""
        return any(isinstance(conn.bind, BindRecord) and conn.bind.bind_type.can_receive
                   for conn in self.binds.get(account, ()))

    # --- submit -------------------------------------------------------------------------------
    def _submit(self, conn: SmppServerProtocol, pdu: pdus.Pdu) -> None:
        record = conn.bind
        assert isinstance(record, BindRecord)
        now = self.clock.seconds()
        intake = self.core.intake
        if self.ids.wants_refill:  # before intake: a spent block must not stop the refill
            self._refill_ids()
        try:
            prepared = intake.prepare(record.context, pdu, now)
        except PduError as e:
            self._answer(conn, pdu, intake.refusal(record.account, e.command_status))
            return
        if not prepared.parts:  # a submit_multi whose every destination was refused
            self._answer(conn, pdu, intake.answer(prepared, [], record.account))
            return
        if type(pdu) is pdus.SubmitSm and pdu.replace_if_present_flag == 1:
            # The pending messages it replaces leave their queues first (on the store thread,
            # ahead of this commit); then it is committed like any other.
            d = self.worker.urgent(self.core.replace_pending, record.account, prepared.parts[0],
                                   now)
            d.addCallbacks(self._replaced, self._replace_failed,
                           callbackArgs=(conn, pdu, prepared), errbackArgs=(conn, pdu, prepared))
            return
        self._commit(conn, pdu, prepared)

    def _commit(self, conn: SmppServerProtocol, pdu: pdus.Pdu, prepared: Prepared) -> None:
        self.committer.add(prepared.parts, prepared.groups,
                           lambda outcomes: self._committed(conn, pdu, prepared, outcomes))

    def _replaced(self, items: list[OutboxItem], conn: SmppServerProtocol, pdu: pdus.Pdu,
                  prepared: Prepared) -> None:
        if items:
            self.courier.offer(items)
        self._commit(conn, pdu, prepared)

    def _replace_failed(self, failure: Failure, conn: SmppServerProtocol, pdu: pdus.Pdu,
                        prepared: Prepared) -> None:
        _log.failure("replacing pending messages failed", failure)
        self._committed(conn, pdu, prepared, None)

    def _committed(self, conn: SmppServerProtocol, pdu: pdus.Pdu, prepared: Prepared,
                   outcomes: list[AcceptOutcome] | None) -> None:
        account = conn.bind.account if isinstance(conn.bind, BindRecord) else None
        self._answer(conn, pdu, self.core.intake.answer(prepared, outcomes, account))

    def _answer(self, conn: SmppServerProtocol, pdu: pdus.Pdu, answer: Answer) -> None:
        """Send the core's answer to a submit, and count it for the metrics."""
        if not answer.status:
            self.stats["submits"] += 1
        else:
            self.stats["refused"] += 1
            self.refusals[answer.cause] += 1
        conn.respond(submit_response(pdu, answer))

    def _settled(self, committed: Committed) -> None:
        """Parts settled on acceptance: they left their queues, and their receipts go out
        after the submit_sm_resp that gave their ids."""
        self._left_queues(committed.finals)
        if committed.items:
            self.courier.offer(committed.items)

    def _left_queues(self, finals: dict[str, int]) -> None:
        self.core.queue_depths.left(finals)
        self.finals.update(finals)

    def _refill_ids(self) -> None:
        """Reserve the next id block; a failure is retried with backoff until it works, with
        or without submits (a spent block refuses every submit before it reaches here)."""
        self._refill_call = None
        self.ids.refill_pending = True
        d = self.worker.urgent(self.core.reserve_ids, self.ids.block_size)
        d.addCallbacks(self._refilled, self._refill_failed)

    def _refilled(self, block: tuple[int, int]) -> None:
        self._refill_delay = REFILL_RETRY_MIN
        self.ids.add_block(*block)
        self.health.ok()

    def _refill_failed(self, failure: Failure) -> None:
        self.health.failed("reserving message ids", failure)
        if self._stopping:
            self.ids.refill_pending = False
            return
        delay = self._refill_delay
        self._refill_delay = min(REFILL_RETRY_MAX, delay * 2)
        self._refill_call = self.clock.callLater(delay, self._refill_ids)  # still pending

    # --- query, cancel, replace ---------------------------------------------------------------
    def _message_request(self, conn: SmppServerProtocol, pdu: pdus.Pdu) -> None:
        record = conn.bind
        assert isinstance(record, BindRecord)
        now = self.clock.seconds()
        account = record.account
        if isinstance(pdu, pdus.QuerySm):
            d: defer.Deferred[Any] = self.worker.call(self.core.query, account, pdu)
            d.addCallback(lambda answer: conn.respond(message_response(pdu, answer)))
        elif isinstance(pdu, pdus.CancelSm):
            d = self.worker.call(self.core.cancel, account, pdu, now)
            d.addCallback(self._cancelled, conn, pdu)
        else:
            assert isinstance(pdu, pdus.ReplaceSm)
            d = self.worker.call(self.core.replace, account, pdu, now)
            d.addCallback(lambda answer: conn.respond(message_response(pdu, answer)))
        d.addErrback(self._request_failed, conn, pdu)

    def _cancelled(self, cancelled: Cancelled, conn: SmppServerProtocol, pdu: pdus.Pdu) -> None:
        conn.respond(message_response(pdu, cancelled))
        if cancelled.items:
            self.courier.offer(list(cancelled.items))

    def _request_failed(self, failure: Failure, conn: SmppServerProtocol, pdu: pdus.Pdu
                        ) -> None:
        self.health.failed(f"{pdu.command_name} from {conn.peer_host}", failure)
        conn.respond(pdus.error_response(pdu.command_id, pdu.sequence_number, S.ESME_RSYSERR))

    # --- the operator queues ------------------------------------------------------------------
    def _schedule_due(self, delay: float) -> None:
        if self._stopping:
            return
        self._due_call = self.clock.callLater(delay, self._run_due)

    def _run_due(self) -> None:
        self._due_call = None
        # While customers are bound, rounds stay short so their commits get the store thread
        # often (a round holds it for as long as it takes); otherwise a round takes a full
        # batch (a backlog drains fastest that way).
        limit = SHORT_ROUND if self.binds else None
        d = self.worker.call(self.core.due_round, self.clock.seconds(), limit)
        d.addCallbacks(self._due_done, self._due_failed)

    def _due_done(self, result: DueRound) -> None:
        self._left_queues(result.finals)
        if result.items:
            self.courier.offer(result.items)
        self._schedule_due(0.0 if result.full else self.settings.due_interval)

    def _due_failed(self, failure: Failure) -> None:
        self.health.failed("an operator queue round", failure)
        self._schedule_due(1.0)

    # --- periodic work ------------------------------------------------------------------------
    def _housekeeping(self) -> None:
        now = self.clock.seconds()
        bind_timeout = self.settings.bind_timeout
        for conn in list(self.connections):
            conn.tick(now)
            if conn.bind is None and now - conn.connected_at > bind_timeout and not conn.closing:
                conn.log_info("bind_timeout", "{peer}: no bind within {t:.0f} s, closing",
                              t=bind_timeout)
                conn.closing = True
                conn.close()

    def _every_second(self) -> None:
        self.courier.pull(rescan=True)
        if self._watch is not None and self._reload_config is not None:
            changed = self._watch.poll()
            if changed:
                self.reload(f"{', '.join(p.name for p in changed)} changed")
        d = self.worker.call(self.store.change_counter)
        d.addCallback(self._changes_seen)
        d.addErrback(self._loop_failed)

    def _changes_seen(self, counter: int) -> None:
        if counter == self._change_counter:
            return
        self._change_counter = counter
        self._rebuild_routes()
        outbind = self.worker.call(self.outbinder.load_targets)
        outbind.addCallback(self.outbinder.use_targets)
        outbind.addErrback(self._loop_failed)
        accounts = list(self.binds)
        d = self.worker.call(lambda: {a: self.store.get_account(a) for a in accounts})
        d.addCallback(self._accounts_reloaded)
        d.addErrback(self._loop_failed)

    def _rebuild_routes(self) -> None:
        """The blacklist or the ported numbers changed in the store: a new router."""
        if self.routing is None:
            return
        config = self._routing_config
        d = self.worker.call(self.routing.load, self.store, config)
        d.addCallback(self.routing.install, config)
        d.addErrback(self._loop_failed)

    # --- configuration reload -------------------------------------------------------------------
    def reload(self, why: str = "") -> bool:
        """Read the config again and use it without dropping binds. A config with a mistake is
        refused whole: the running one stays. Returns whether the new one was taken."""
        if self._reload_config is None or self._stopping:
            return False
        try:
            new = self._reload_config()
        except ConfigError as e:
            _log.error("config not reloaded ({why}): {error}", why=why or "asked", error=str(e))
            if self._watch is not None and self.config is not None:
                self._watch.reset(self.config.files)
            return False
        except OSError as e:
            _log.error("config not reloaded ({why}): {error}", why=why or "asked", error=str(e))
            return False
        self._apply_config(new)
        _log.info("config reloaded ({why})", why=why or "asked")
        self.announce(f"config reloaded ({why or 'asked'})")
        return True

    def _apply_config(self, new: Config) -> None:
        old = self.settings
        kept = [name for name in ("listen", "database", "synchronous", "message_id_format",
                                  "hash_threads")
                if getattr(old, name) != getattr(new.server, name)]
        if kept:
            _log.warn("config: {names} take effect at the next start",
                      names=", ".join(kept))
        settings = dataclasses.replace(new.server, listen=old.listen, database=old.database,
                                       synchronous=old.synchronous,
                                       message_id_format=old.message_id_format,
                                       hash_threads=old.hash_threads)
        self.settings = settings
        self.config = new
        self.committer.delay = settings.commit_delay
        self.committer.max_batch = settings.commit_batch
        factory = self.factory  # for connections opened from now on
        factory.output_buffer = settings.output_buffer
        factory.drain_timeout = settings.drain_timeout
        factory.unbound_error_limit = settings.unbound_error_limit
        core = self.core
        core.binds.policy = lock_policy(settings)
        self.binder.total = settings.pending_binds
        self.binder.per_address = settings.pending_binds_per_address
        self.binder.queue = settings.queued_binds
        self.binder.refusal_delay = settings.bind_refusal_delay
        # Operators and routing switch together. Built here and on the store thread (the
        # router reads the blacklist and ported numbers), then: the core (store thread) takes
        # the new operators (all they come with, as a whole) in the same store call that built
        # the router, and intake (the event loop) takes the new operators, which routing's
        # failover asks too, and the router in one callback, so no submit is routed by one
        # config and queued by the other. If the store call fails, neither changes.
        simulator = new.operators.simulator()
        desk = operator_desk(simulator)
        routing = self.routing
        routing_config = new.routing
        self._routing_config = routing_config

        def build() -> Any:  # store thread
            router = routing.load(self.store, routing_config) if routing is not None else None
            core.use_operators(simulator, new.operators.mo_rules, settings.due_batch,
                               settings.receipt_zone)
            return router

        def switch(router: Any) -> None:  # event loop
            core.intake.use_operators(desk)
            if routing is not None:
                routing.install(router, routing_config)

        d = self.worker.call(build)
        d.addCallbacks(switch, self._switch_failed)
        if self._watch is not None:
            self._watch.reset(new.files)

    def _switch_failed(self, failure: Failure) -> None:
        if self.routing is not None:
            self._routing_config = self.routing.config
        _log.failure("config: the new operators and routing could not be built; the running "
                     "ones stay (reload again)", failure)

    def _accounts_reloaded(self, accounts: dict[str, Account | None]) -> None:
        """Edits made while customers are bound (credit aside, which the store owns) take
        effect at once: limits, sender IDs, throughput; a removed or disabled account's binds
        are closed."""
        for system_id, account in accounts.items():
            for conn in list(self.binds.get(system_id, ())):
                record = conn.bind
                if not isinstance(record, BindRecord):
                    continue
                if account is None or not account.enabled:
                    conn.unbind_and_close()
                    continue
                record.account = account
                record.context = self.throttles.caller(account)

    def _every_minute(self) -> None:
        now = self.clock.seconds()
        self.core.intake.expire_sets(now)
        d = self.worker.call(self.store.expire_outbox, now)
        d.addErrback(self._loop_failed)
        purged = self.worker.call(self.core.binds.purge, now)
        purged.addErrback(self._loop_failed)
        d2 = self.worker.call(self.store.queue_depths)
        d2.addCallback(self._depths_reloaded)
        d2.addErrback(self._loop_failed)

    def _depths_reloaded(self, depths: dict[str, int]) -> None:
        self.core.queue_depths.reload(depths)


def with_backlog(description: str, backlog: int) -> str:
    """A tcp or ssl endpoint string with ``backlog=`` added unless it sets one (Twisted's
    default of 50 makes a burst of connects wait for SYN retries)."""
    kind = description.split(":", 1)[0].lower()
    if kind not in ("tcp", "ssl", "tcp6") or "backlog=" in description:
        return description
    return f"{description}:backlog={backlog}"


def _fd_soft_limit() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def submit_response(request: pdus.Pdu, answer: Answer) -> pdus.Pdu:
    """The core's answer to a submit as the response PDU to ``request``: a submit_multi_resp
    with its refused destinations, a submit_sm_resp or data_sm_resp with the message id, or
    for a submit refused whole, its response without a body."""
    seq = request.sequence_number
    if not answer.message_id:
        return pdus.error_response(request.command_id, seq, answer.status)
    if answer.multi:
        return pdus.SubmitMultiResp(sequence_number=seq, command_status=answer.status,
                                    message_id=answer.message_id,
                                    unsuccess_smes=tuple(
                                        pdus.UnsuccessSme(dest_addr_ton=u.ton,
                                                          dest_addr_npi=u.npi,
                                                          destination_addr=u.address,
                                                          error_status_code=u.status)
                                        for u in answer.unsuccess))
    if type(request) is pdus.SubmitSm:
        return _submit_sm_resp(seq, 0, answer.message_id)
    return pdus.DataSmResp(sequence_number=seq, message_id=answer.message_id)


def lock_policy(settings: ServerSettings) -> LockPolicy:
    """The lockout rules of the config (see smsc.core.binds)."""
    return LockPolicy(lock_after=settings.lock_after, lock_for=settings.lock_for,
                      unknown_id_lock_after=settings.unknown_id_lock_after,
                      test_account_lock_after=settings.test_account.lock_after)


def _sleep(clock: IReactorTime, seconds: float) -> defer.Deferred[None]:
    d = defer.Deferred[None]()
    clock.callLater(seconds, d.callback, None)
    return d


__all__ = ["BindRecord", "SmscService", "lock_policy"]
