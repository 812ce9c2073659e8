"""The bound sessions: the bind path (authentication on the hash pool and the store thread,
then the answer) and the registry of binds per account, which receipts and outbinds ask."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsc.config.server import ServerSettings
from smsc.core.binds import Throttles
from smsc.core.centre import BindVerdict, SmscCore
from smsc.core.cluster import Admission
from smsc.core.shares import SharedBucket
from smsc.core.submit import BindContext
from smsc.pdu import pdus
from smsc.pdu.constants import INTERFACE_VERSION, CommandStatus, Tag
from smsc.pdu.tlv import Tlvs
from smsc.server.binding import BindDispatcher, Runner
from smsc.server.cluster import ClusterNode
from smsc.server.connections import Connections
from smsc.server.delivery import OutboxCourier
from smsc.server.lograte import LogLimiter, suppressed_note
from smsc.server.outbind import Outbinder
from smsc.server.protocol import SmppServerProtocol
from smsc.server.storehealth import StoreHealth
from smsc.server.worker import StoreWorker
from smsc.store.records import Account, BindType

_log = Logger()
S = CommandStatus
BIND_TYPES = {pdus.BindTransmitter: BindType.TRANSMITTER, pdus.BindReceiver: BindType.RECEIVER,
              pdus.BindTransceiver: BindType.TRANSCEIVER}
_SC_VERSION = Tlvs.of({Tag.SC_INTERFACE_VERSION: INTERFACE_VERSION})


@dataclass(slots=True)
class BindRecord:
    account: Account
    bind_type: BindType
    context: BindContext
    cluster_id: int = 0  # its registration in the store (a node of a cluster); 0: none


class BoundSessions:
    """Binds customers and keeps who is bound: ``by_account`` (an account's bound connections),
    the throttles their binds share, and the bind counts for the metrics."""

    def __init__(self, reactor: Any, settings: ServerSettings, core: SmscCore,
                 worker: StoreWorker, hasher: Runner, connections: Connections,
                 courier: OutboxCourier, logs: LogLimiter, health: StoreHealth) -> None:
        self.clock: IReactorTime = reactor
        self.worker = worker
        self.settings = settings  # swapped by a config reload
        self.connections = connections
        self.courier = courier
        self.logs = logs
        self.health = health
        self.outbinder: Outbinder | None = None  # set once the service built it
        # A node of a cluster (set by the service): binds registered in the store, counted
        # across nodes, and receivers leasing their accounts' outboxes.
        self.cluster: ClusterNode | None = None
        self.by_account: dict[str, set[SmppServerProtocol]] = {}
        self.throttles = Throttles()  # each account's bucket, shared by its binds
        self.bound = 0  # binds accepted since the start
        self.refusals: Counter[int] = Counter()  # binds refused, by status
        # Password hashes run in a pool of their own, never on the store thread.
        self.binder = BindDispatcher(reactor, worker, hasher, lambda: core.binds,
                                     open_binds=self.open_binds,
                                     total=settings.pending_binds,
                                     per_address=settings.pending_binds_per_address,
                                     queue=settings.queued_binds,
                                     refusal_delay=settings.bind_refusal_delay)

    def use_settings(self, settings: ServerSettings) -> None:
        """A reloaded config: the bind limits of binds asked from now on."""
        self.settings = settings
        self.binder.total = settings.pending_binds
        self.binder.per_address = settings.pending_binds_per_address
        self.binder.queue = settings.queued_binds
        self.binder.refusal_delay = settings.bind_refusal_delay

    def bind(self, conn: SmppServerProtocol, pdu: pdus.BindRequest) -> None:
        bind_type = BIND_TYPES[type(pdu)]
        connections = self.connections
        d = self.binder.authenticate(pdu.system_id, pdu.password, bind_type, conn.peer_host,
                                     lambda: conn in connections)
        d.addCallback(self._bound, conn, pdu, bind_type)
        d.addErrback(self._request_failed, conn, pdu)

    def _bound(self, verdict: BindVerdict, conn: SmppServerProtocol, pdu: pdus.BindRequest,
               bind_type: BindType) -> None:
        if conn not in self.connections:  # gone while the store thread checked the bind
            return
        cluster = self.cluster
        if verdict.status != 0 or verdict.account is None or cluster is None:
            self._answer(verdict, conn, pdu, bind_type)
            return
        # A node of a cluster: the account's binds are counted across the nodes.
        bind_id = cluster.next_bind_id()
        d = self.worker.call(cluster.registry.admit, verdict, bind_id, self.clock.seconds())
        d.addCallback(self._registered, conn, pdu, bind_type, bind_id)
        d.addErrback(self._request_failed, conn, pdu)

    def _registered(self, admission: Admission, conn: SmppServerProtocol,
                    pdu: pdus.BindRequest, bind_type: BindType, bind_id: int) -> None:
        verdict = admission.verdict
        admitted = verdict.status == 0 and verdict.account is not None
        if conn not in self.connections or not admitted:
            if admitted and self.cluster is not None:
                self.cluster.release_bind(bind_id)
            if conn in self.connections:
                self._answer(verdict, conn, pdu, bind_type)
            return
        self._answer(verdict, conn, pdu, bind_type, bind_id, admission.share)

    def _answer(self, verdict: BindVerdict, conn: SmppServerProtocol, pdu: pdus.BindRequest,
                bind_type: BindType, cluster_id: int = 0, share: int = 0) -> None:
        status = verdict.status
        account = verdict.account
        if status != 0 or account is None:
            self.refusals[status] += 1
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
        context = self.throttles.caller(account)
        if share and isinstance(context.throttle, SharedBucket):
            context.throttle.granted(share, self.clock.seconds())
        conn.respond(pdu.response(system_id=self.settings.system_id, tlvs=_SC_VERSION))
        record = BindRecord(account=account, bind_type=bind_type, context=context,
                            cluster_id=cluster_id)
        conn.bind = record
        self.bound += 1
        self.by_account.setdefault(account.system_id, set()).add(conn)
        if bind_type.can_receive:
            self.courier.receiver_bound(account.system_id, conn)
            if self.cluster is not None:
                self.cluster.receiver_bound(account.system_id)
            if self.outbinder is not None:
                self.outbinder.receiver_bound(account.system_id)

    def _request_failed(self, failure: Failure, conn: SmppServerProtocol, pdu: pdus.Pdu
                        ) -> None:
        self.health.failed(f"{pdu.command_name} from {conn.peer_host}", failure)
        conn.respond(pdus.error_response(pdu.command_id, pdu.sequence_number, S.ESME_RSYSERR))

    def open_binds(self, system_id: str) -> int:
        return len(self.by_account.get(system_id, ()))

    def _refused_late(self, conn: SmppServerProtocol, response: pdus.Pdu) -> None:
        if conn in self.connections:
            conn.respond(response)

    def receiving(self, account: str) -> bool:
        """Whether ``account`` has a receiver or transceiver bound."""
        return any(isinstance(conn.bind, BindRecord) and conn.bind.bind_type.can_receive
                   for conn in self.by_account.get(account, ()))

    def drained(self, conn: SmppServerProtocol) -> None:
        """A connection's output was written after it had stopped reading: receipts may go
        to it again."""
        if isinstance(conn.bind, BindRecord) and conn.bind.bind_type.can_receive:
            self.courier.schedule_pump()

    def unbound(self, conn: SmppServerProtocol) -> None:
        """``conn`` closed: out of its account's binds (and the receipts' receivers)."""
        record = conn.bind
        if isinstance(record, BindRecord):
            account = record.account.system_id
            bound = self.by_account.get(account)
            if bound is not None:
                bound.discard(conn)
                if not bound:
                    del self.by_account[account]
            if record.bind_type.can_receive:
                self.courier.receiver_gone(account, conn)
            conn.bind = None
            cluster = self.cluster
            if cluster is not None:
                if record.cluster_id:
                    cluster.release_bind(record.cluster_id)
                if record.bind_type.can_receive and not self.receiving(account):
                    cluster.receiver_gone(account)

    def accounts_reloaded(self, accounts: dict[str, Account | None]) -> None:
        """Edits made while customers are bound (credit aside, which the store owns) take
        effect at once: limits, sender IDs, throughput; a removed or disabled account's binds
        are closed."""
        for system_id, account in accounts.items():
            for conn in list(self.by_account.get(system_id, ())):
                record = conn.bind
                if not isinstance(record, BindRecord):
                    continue
                if account is None or not account.enabled:
                    conn.unbind_and_close()
                    continue
                record.account = account
                record.context = self.throttles.caller(account)



__all__ = ["BIND_TYPES", "BindRecord", "BoundSessions"]
