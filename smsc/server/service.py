"""The running SMS centre: listeners, connections, the store thread, group commit, the operator
queues' rounds and receipts out, under one Twisted service.

Every PDU a connection receives comes here as one call; the decision is the core's, the
plumbing (which thread, which batch, which connection) is this module's.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twisted.application import service
from twisted.internet import defer, endpoints
from twisted.internet.interfaces import IListeningPort, IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.server import Site

from smsc.binds import LockPolicy
from smsc.config.errors import ConfigError
from smsc.config.loader import Config
from smsc.config.server import ServerSettings
from smsc.config.watch import ConfigWatch
from smsc.core import BindVerdict, Committed, DueRound, SmscCore, operator_desk
from smsc.ids import IdBlock
from smsc.intake import BindContext, Prepared
from smsc.outbox import OutboxDispatcher
from smsc.pdu import pdus
from smsc.pdu.constants import INTERFACE_VERSION, CommandStatus, Tag
from smsc.pdu.errors import PduError
from smsc.pdu.session import Role, Session
from smsc.pdu.tlv import Tlvs
from smsc.routebook import RouteBook
from smsc.routing.throttle import TokenBucket
from smsc.server.binding import BindDispatcher, HashPool, Runner
from smsc.server.committer import GroupCommitter
from smsc.server.delivery import ReceiptCourier
from smsc.server.metrics import MetricsPage
from smsc.server.observed import service_metrics
from smsc.server.outbind import Outbinder
from smsc.server.protocol import SmppServerFactory, SmppServerProtocol
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
        # Password hashes run in a pool of their own, never on the store thread.
        self.hasher = hasher if hasher is not None else HashPool(reactor, settings.hash_threads)
        self.binder = BindDispatcher(reactor, self.worker, self.hasher, lambda: self.core.binds,
                                     total=settings.pending_binds,
                                     per_address=settings.pending_binds_per_address,
                                     queue=settings.queued_binds,
                                     refusal_delay=settings.bind_refusal_delay)
        self.committer = GroupCommitter(reactor, self.worker, core.commit,
                                        delay=settings.commit_delay,
                                        max_batch=settings.commit_batch,
                                        after=self._settled)
        self.courier = ReceiptCourier(
            reactor, self.worker, store,
            # Room for a full commit's receipts on top of what the binds have in flight, so
            # receipts committed here go straight out instead of being read back.
            OutboxDispatcher(per_account=max(4096, settings.receipt_window * 16
                                             + 2 * settings.commit_batch),
                             retry_min=settings.receipt_retry_min,
                             retry_max=settings.receipt_retry_max))
        self.connections: set[SmppServerProtocol] = set()
        self.outbinder = Outbinder(reactor, self.worker, store, factory=lambda: self.factory,
                                   system_id=settings.system_id, receiving=self._receiving,
                                   is_open=self.connections.__contains__)
        self.binds: dict[str, set[SmppServerProtocol]] = {}
        self.throttles: dict[str, TokenBucket] = {}
        self.ports: list[IListeningPort] = []
        self._loops: list[LoopingCall] = []
        self._due_running = False
        self._due_call: Any = None
        self._stopping = False
        self._change_counter = -1
        self.factory = SmppServerFactory(self, self.clock, settings.receipt_window)
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
        self.core.intake.queue_depths.update(depths)
        first, count = await self.worker.call(self.core.reserve_ids, self.ids.block_size)
        self.ids.add_block(first, count)
        self._change_counter = await self.worker.call(self.store.change_counter)
        self.outbinder.use_targets(await self.worker.call(self.outbinder.load_targets))
        factory = self.factory
        for description in self.settings.listen:
            endpoint = endpoints.serverFromString(  # type: ignore[no-untyped-call]
                self.reactor, description)
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
            loop.start(interval, now=False).addErrback(self._loop_failed)
            self._loops.append(loop)
        self._schedule_due(0.0)
        self.started.callback(None)

    def _start_failed(self, failure: Failure) -> None:
        _log.failure("smsc could not start", failure)
        if not self.started.called:
            self.started.errback(failure)

    def _loop_failed(self, failure: Failure) -> None:
        _log.failure("a periodic task failed", failure)

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
        self.hasher.stop()
        self.worker.stop()
        self.store.close()

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

    def connected(self, conn: SmppServerProtocol) -> None:
        if self._stopping:
            conn.close()
            return
        self.connections.add(conn)

    def disconnected(self, conn: SmppServerProtocol, abandoned: list[pdus.Pdu]) -> None:
        self.connections.discard(conn)
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
        if status == 0 and account is not None:
            bound = self.binds.setdefault(account.system_id, set())
            if len(bound) >= account.max_binds:
                status = S.ESME_RBINDFAIL
                _log.info("{account}: bind refused, {n} binds already", account=account.system_id,
                          n=len(bound))
        if status != 0 or account is None:
            self.bind_refusals[status] += 1
            if not verdict.logged:
                _log.info("bind of {system_id!r} from {peer} refused: {reason}",
                          system_id=pdu.system_id, peer=conn.peer_host,
                          reason=verdict.reason or CommandStatus.name_of(status))
            if verdict.delay > 0:  # refused for the limits: slow a peer binding in a loop
                self.clock.callLater(verdict.delay, self._refused_late, conn,
                                     pdu.response(command_status=status))
            else:
                conn.respond(pdu.response(command_status=status))
            return
        conn.respond(pdu.response(system_id=self.settings.system_id, tlvs=_SC_VERSION))
        record = BindRecord(account=account, bind_type=bind_type,
                            context=BindContext(account=account,
                                                throttle=self._throttle(account)))
        conn.bind = record
        self.stats["binds"] += 1
        self.binds[account.system_id].add(conn)
        if bind_type.can_receive:
            self.courier.receiver_bound(account.system_id, conn)
            self.outbinder.receiver_bound(account.system_id)

    def _refused_late(self, conn: SmppServerProtocol, response: pdus.Pdu) -> None:
        if conn in self.connections:
            conn.respond(response)

    def _receiving(self, account: str) -> bool:
        """Whether ``account`` has a receiver or transceiver bound."""
        return any(isinstance(conn.bind, BindRecord) and conn.bind.bind_type.can_receive
                   for conn in self.binds.get(account, ()))

    def _throttle(self, account: Account) -> TokenBucket | None:
        if account.throughput <= 0:
            return None
        bucket = self.throttles.get(account.system_id)
        if bucket is None or bucket.rate != account.throughput:  # new or changed
            burst = account.burst or max(1, int(account.throughput))
            bucket = TokenBucket(rate=account.throughput, burst=burst)
            self.throttles[account.system_id] = bucket
        return bucket

    # --- submit -------------------------------------------------------------------------------
    def _submit(self, conn: SmppServerProtocol, pdu: pdus.Pdu) -> None:
        record = conn.bind
        assert isinstance(record, BindRecord)
        now = self.clock.seconds()
        intake = self.core.intake
        try:
            if type(pdu) is pdus.SubmitSm:
                prepared = intake.submit_sm(record.context, pdu, now)
            elif type(pdu) is pdus.DataSm:
                prepared = intake.data_sm(record.context, pdu, now)
            else:
                prepared = intake.submit_multi(record.context, pdu, now)  # type: ignore[arg-type]
        except PduError as e:
            self.stats["refused"] += 1
            self.refusals[e.command_status] += 1
            conn.respond(pdus.error_response(pdu.command_id, pdu.sequence_number,
                                             e.command_status))
            return
        if self.ids.wants_refill:
            self._refill_ids()
        if not prepared.parts:  # a submit_multi whose every destination was refused
            conn.respond(pdus.SubmitMultiResp(
                sequence_number=pdu.sequence_number, command_status=S.ESME_RSUBMITFAIL,
                message_id=self.core.id_format.format(prepared.message_id),
                unsuccess_smes=prepared.unsuccess))
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
        seq = pdu.sequence_number
        message_id = self.core.id_format.format(prepared.message_id)
        if outcomes is None:
            self.core.intake.refused(prepared)
            self.stats["refused"] += 1
            self.refusals[S.ESME_RSYSERR] += 1
            conn.respond(pdus.error_response(pdu.command_id, seq, S.ESME_RSYSERR))
            return
        if type(pdu) is pdus.SubmitMulti:
            unsuccess = list(prepared.unsuccess)
            for o in outcomes:
                if o.status:
                    unsuccess.append(pdus.UnsuccessSme(dest_addr_ton=1, dest_addr_npi=1,
                                                       destination_addr=o.destination_addr,
                                                       error_status_code=o.status))
            if all(o.status for o in outcomes):
                self.core.intake.refused(prepared)
            status = S.ESME_RSUBMITFAIL if all(o.status for o in outcomes) else 0
            self.stats["submits"] += 1
            conn.respond(pdus.SubmitMultiResp(sequence_number=seq, command_status=status,
                                              message_id=message_id,
                                              unsuccess_smes=tuple(unsuccess)))
            return
        status = outcomes[0].status if outcomes else S.ESME_RSYSERR
        if status:
            self.core.intake.refused(prepared)
            self.stats["refused"] += 1
            self.refusals[status] += 1
            conn.respond(pdus.error_response(pdu.command_id, seq, status))
            return
        self.stats["submits"] += 1
        if type(pdu) is pdus.SubmitSm:
            conn.respond(_submit_sm_resp(seq, 0, message_id))
        else:
            conn.respond(pdus.DataSmResp(sequence_number=seq, message_id=message_id))

    def _settled(self, committed: Committed) -> None:
        """Parts settled on acceptance: they left their queues, and their receipts go out
        after the submit_sm_resp that gave their ids."""
        self._left_queues(committed.finals)
        if committed.items:
            self.courier.offer(committed.items)

    def _left_queues(self, finals: dict[str, int]) -> None:
        depths = self.core.intake.queue_depths
        for operator, count in finals.items():
            depths[operator] = max(0, depths.get(operator, 0) - count)
        self.finals.update(finals)

    def _refill_ids(self) -> None:
        self.ids.refill_pending = True
        d = self.worker.call(self.core.reserve_ids, self.ids.block_size)
        d.addCallback(lambda block: self.ids.add_block(*block))
        d.addErrback(self._refill_failed)

    def _refill_failed(self, failure: Failure) -> None:
        self.ids.refill_pending = False
        _log.failure("reserving message ids failed", failure)

    # --- query, cancel, replace ---------------------------------------------------------------
    def _message_request(self, conn: SmppServerProtocol, pdu: pdus.Pdu) -> None:
        record = conn.bind
        assert isinstance(record, BindRecord)
        now = self.clock.seconds()
        account = record.account
        if isinstance(pdu, pdus.QuerySm):
            d: defer.Deferred[Any] = self.worker.call(self.core.query, account, pdu)
            d.addCallback(conn.respond)
        elif isinstance(pdu, pdus.CancelSm):
            d = self.worker.call(self.core.cancel, account, pdu, now)
            d.addCallback(self._cancelled, conn)
        else:
            assert isinstance(pdu, pdus.ReplaceSm)
            d = self.worker.call(self.core.replace, account, pdu, now)
            d.addCallback(conn.respond)
        d.addErrback(self._request_failed, conn, pdu)

    def _cancelled(self, result: tuple[pdus.Pdu, list[OutboxItem]], conn: SmppServerProtocol
                   ) -> None:
        response, items = result
        conn.respond(response)
        if items:
            self.courier.offer(items)

    def _request_failed(self, failure: Failure, conn: SmppServerProtocol, pdu: pdus.Pdu
                        ) -> None:
        _log.failure("{command} from {peer} failed", failure, command=pdu.command_name,
                     peer=conn.peer_host)
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
        _log.failure("an operator queue round failed", failure)
        self._schedule_due(1.0)

    # --- periodic work ------------------------------------------------------------------------
    def _housekeeping(self) -> None:
        now = self.clock.seconds()
        bind_timeout = self.settings.bind_timeout
        for conn in list(self.connections):
            conn.tick(now)
            if conn.bind is None and now - conn.connected_at > bind_timeout and not conn.closing:
                _log.info("{peer}: no bind within {t:.0f} s, closing", peer=conn.peer_host,
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
        d = self.worker.call(self.routing.load, self.store)
        d.addCallback(self.routing.install)
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
        core = self.core
        core.binds.policy = lock_policy(settings)
        self.binder.total = settings.pending_binds
        self.binder.per_address = settings.pending_binds_per_address
        self.binder.queue = settings.queued_binds
        self.binder.refusal_delay = settings.bind_refusal_delay
        simulator = new.operators.simulator()
        core.intake.use_operators(operator_desk(simulator))
        d = self.worker.call(core.use_operators, simulator, new.operators.mo_rules,
                             settings.due_batch, settings.receipt_zone)
        d.addErrback(self._loop_failed)
        if self.routing is not None:
            routing = self.routing
            d2 = self.worker.call(routing.load, self.store, new.routing)
            d2.addCallback(routing.install, new.routing)
            d2.addErrback(self._loop_failed)
        if self._watch is not None:
            self._watch.reset(new.files)

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
                record.context = BindContext(account=account, throttle=self._throttle(account))

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
        current = self.core.intake.queue_depths
        for operator in list(current):
            current[operator] = depths.get(operator, 0)
        current.update(depths)


def lock_policy(settings: ServerSettings) -> LockPolicy:
    """The lockout rules of the config (see smsc.binds)."""
    return LockPolicy(lock_after=settings.lock_after, lock_for=settings.lock_for,
                      unknown_id_lock_after=settings.unknown_id_lock_after,
                      test_account_lock_after=settings.test_account.lock_after)


def _sleep(clock: IReactorTime, seconds: float) -> defer.Deferred[None]:
    d = defer.Deferred[None]()
    clock.callLater(seconds, d.callback, None)
    return d


__all__ = ["BindRecord", "SmscService", "lock_policy"]
