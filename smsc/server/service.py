"""The running SMS centre under one Twisted service: the composition root that builds the
server's collaborators, starts and stops them, and dispatches each PDU a connection receives
to the one that deals with it.

The collaborators, each owning its state: ``connections`` (accept, caps, eviction, bind
timeout; smsc.server.connections), ``sessions`` (the bind path and the binds per account;
smsc.server.sessions), ``submits`` (submit to answer, the group commit, the id block refill;
smsc.server.submits), ``requests`` (query, cancel, replace; smsc.server.requests), ``rounds``
(the operator queues' due loop; smsc.server.rounds), ``reloader`` (config reload;
smsc.server.reload), ``upkeep`` (the periodic work; smsc.server.upkeep) and ``campaigns``
(the running campaigns' steps; smsc.server.campaigns). The decision is
the core's, the plumbing (which thread, which batch, which connection) is theirs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from twisted.application import service
from twisted.internet import defer, endpoints
from twisted.internet.address import UNIXAddress
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IListeningPort, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.server import Site

from smsc.config.endpoints import PROXIED
from smsc.config.http import HttpSettings
from smsc.config.loader import Config
from smsc.config.server import ServerSettings
from smsc.core.binds import Throttles
from smsc.core.centre import SmscCore
from smsc.core.cluster import ClusterPolicy
from smsc.core.ids import IdBlock
from smsc.core.optout import OptOutChange
from smsc.core.outbox import OutboxDispatcher
from smsc.core.routebook import RouteBook
from smsc.core.webhook_desk import WebhookDesk
from smsc.core.webhook_queue import WebhookQueue
from smsc.core.webhooks import WebhookPolicy
from smsc.pdu import pdus
from smsc.pdu.constants import CommandStatus
from smsc.pdu.session import Role, Session
from smsc.server.binding import HashPool, Runner
from smsc.server.campaigns import CampaignSender
from smsc.server.cluster import ClusterNode, cluster_metrics
from smsc.server.confirmations import OptOutConfirmations
from smsc.server.connections import Connections
from smsc.server.delivery import OutboxCourier
from smsc.server.lograte import LogLimiter
from smsc.server.metrics import MetricsPage
from smsc.server.observed import service_metrics
from smsc.server.outbind import Outbinder
from smsc.server.protocol import SmppServerFactory, SmppServerProtocol
from smsc.server.proxied import listen
from smsc.server.reload import ConfigReload, lock_policy
from smsc.server.requests import MessageRequests
from smsc.server.rounds import QueueRounds
from smsc.server.sessions import BIND_TYPES, BoundSessions
from smsc.server.storehealth import StoreHealth
from smsc.server.submits import Submits
from smsc.server.upkeep import Upkeep
from smsc.server.web.api import HttpApi
from smsc.server.web.lean_server import LeanHttpFactory
from smsc.server.web.sendsms import SendsmsResource
from smsc.server.web.site import api_site, web_metrics
from smsc.server.web.webhook_endpoints import WebhookEndpoints
from smsc.server.webhooks import WebhookCourier
from smsc.server.worker import StoreWorker
from smsc.store.base import Store
from smsc.store.records import Account

_log = Logger()
S = CommandStatus


class SmscService(service.Service):
    def __init__(self, reactor: Any, settings: ServerSettings, store: Store, core: SmscCore,
                 ids: IdBlock, *, announce: Callable[[str], None] = print,
                 worker: StoreWorker | None = None, routing: RouteBook | None = None,
                 config: Config | None = None,
                 reload_config: Callable[[], Config] | None = None,
                 hasher: Runner | None = None, node: str = "",
                 clustered: bool | None = None,
                 cluster_policy: ClusterPolicy | None = None) -> None:
        self.reactor = reactor
        self.clock: IReactorTime = reactor
        self.settings = settings
        self.store = store
        self.core = core
        self.ids = ids
        self.announce = announce
        self.worker = worker if worker is not None else StoreWorker(reactor)
        self.health = StoreHealth(reactor)
        # Password hashes run in a pool of their own, never on the store thread.
        self.hasher = hasher if hasher is not None else HashPool(reactor, settings.hash_threads)
        self.courier = OutboxCourier(
            reactor, self.worker, store,
            # Room for a full commit's receipts on top of what the binds have in flight, so
            # receipts committed here go straight out instead of being read back.
            OutboxDispatcher(per_account=max(4096, settings.receipt_window * 16
                                             + 2 * settings.commit_batch),
                             retry_min=settings.receipt_retry_min,
                             retry_max=settings.receipt_retry_max),
            health=self.health)
        self.webhooks = WebhookCourier(
            reactor, self.worker,
            WebhookDesk(store, policy=webhook_policy(settings), format_id=core.id_format.format,
                        zone=settings.receipt_zone),
            WebhookQueue(webhook_policy(settings)), health=self.health)
        self.courier.hooked = self.webhooks.offer
        self.logs = LogLimiter()  # lines about causes that are not one peer's
        self.connections = Connections(self.clock, settings, self.logs)
        self.sessions = BoundSessions(reactor, settings, core, self.worker, self.hasher,
                                      self.connections, self.courier, self.logs, self.health)
        self.binder = self.sessions.binder
        # A node among several on one database (the store says; tests may ask for it on one):
        # binds, throughput and outbox deliveries counted and leased in the store.
        self.cluster: ClusterNode | None = None
        if store.shared_by_nodes if clustered is None else clustered:
            if cluster_policy is None:
                cluster_policy = ClusterPolicy.for_lease(settings.node_lease)
            self.cluster = ClusterNode(reactor, store, self.worker, node or settings.node or
                                       "node", courier=self.courier, health=self.health,
                                       policy=cluster_policy,
                                       about=" ".join(settings.listen))
            self.sessions.cluster = self.cluster
            self.sessions.throttles = Throttles(self.cluster.ask, cluster_policy.shares)
            self.courier.dispatcher.may_deliver = self.cluster.may_deliver
            core.queues.clustered(cluster_policy.shares, cluster_policy.claim)
        self.outbinder = Outbinder(reactor, self.worker, store, factory=lambda: self.factory,
                                   system_id=settings.system_id,
                                   receiving=self.sessions.receiving,
                                   is_open=self.connections.__contains__)
        self.sessions.outbinder = self.outbinder
        self.rounds = QueueRounds(self.clock, settings, core, self.worker, self.courier,
                                  self.health, self.sessions.by_account)
        self.submits = Submits(reactor, settings, core, ids, self.worker, self.courier,
                               self.health, self.rounds.left_queues)
        self.committer = self.submits.committer
        self.confirmations = OptOutConfirmations(self.clock, core, self.committer)
        self.rounds.on_opt_outs = self._opt_outs_changed
        self.requests = MessageRequests(self.clock, core, self.worker, self.courier,
                                        self.health)
        self.reloader = ConfigReload(settings, core, store, self.worker, self.health,
                                     use_settings=self._use_settings, announce=announce,
                                     routing=routing, config=config, read=reload_config,
                                     use_http=self._use_http)
        self.upkeep = Upkeep(self.clock, store, core, self.worker, self.courier,
                             self.outbinder, self.connections, self.sessions, self.reloader,
                             self.health, self.logs)
        self.http_settings = config.http if config is not None else HttpSettings()
        self.api_factory: LeanHttpFactory | None = None  # the HTTP listeners' factory
        # The customer HTTP API (smsc.server.web): the same core, committer, ids and throttles.
        self.web = HttpApi(reactor, settings=self.http_settings, store=store, core=core, ids=ids,
                           worker=self.worker, committer=self.committer, courier=self.courier,
                           health=self.health, throttles=self.sessions.throttles,
                           decimals=_decimals(routing),
                           refill_ids=self.submits.refill_if_low)
        self.upkeep.rescans.append(self.webhooks.wake)
        if self.cluster is not None:
            self.cluster.on_due = self.rounds.wake
            self.cluster.on_changes = self.upkeep.check_changes
        self.upkeep.changed.append(self.web.verified.clear)  # a key revoked, an account changed
        self.upkeep.changed.append(self.web.opt_outs.forget)  # an opt-out added elsewhere
        # Campaigns the store says are running: the same intake, committer, ids and throttles.
        self.campaigns = CampaignSender(self.clock, core, self.worker, self.committer,
                                        self.sessions.throttles, self.health,
                                        refill_ids=self.submits.refill_if_low)
        if self.cluster is not None:  # each running campaign stepped by one node
            self.campaigns.found = self.cluster.campaigns_found
            self.campaigns.may_run = self.cluster.may_run
        self.ports: list[IListeningPort] = []
        self.factory = SmppServerFactory(self, self.clock, settings.receipt_window,
                                         output_buffer=settings.output_buffer,
                                         drain_timeout=settings.drain_timeout,
                                         unbound_error_limit=settings.unbound_error_limit)
        self.started = defer.Deferred[None]()
        self.started_at = reactor.seconds()
        # Dispatch by PDU type (request below): the submit path is one lookup and one call.
        self._submit = self.submits.submit
        self._bind = self.sessions.bind
        self._message_request = self.requests.message_request

    # --- what the metrics and the tests read (each owned by one collaborator) --------------
    @property
    def binds(self) -> Mapping[str, set[SmppServerProtocol]]:
        """The bound connections of each account (``sessions.by_account``)."""
        return self.sessions.by_account

    @property
    def closed_for(self) -> Mapping[str, int]:
        return self.connections.closed_for

    @property
    def stats(self) -> Mapping[str, int]:
        return {"submits": self.submits.accepted, "refused": self.submits.refused,
                "binds": self.sessions.bound}

    @property
    def refusals(self) -> Mapping[int, int]:
        return self.submits.refusals

    @property
    def bind_refusals(self) -> Mapping[int, int]:
        return self.sessions.refusals

    @property
    def finals(self) -> Mapping[str, int]:
        return self.rounds.finals

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
        if self.cluster is not None:
            await self.cluster.start()
            self.announce(f"cluster node {self.cluster.node}")
        first, count = await self.worker.call(self.core.reserve_ids, self.ids.block_size)
        self.ids.add_block(first, count)
        self.upkeep.change_counter = await self.worker.call(self.store.change_counter)
        self.outbinder.use_targets(await self.worker.call(self.outbinder.load_targets))
        factory = self.factory
        for description in self.settings.listen:
            port = await listen(self.reactor,
                                with_backlog(description, self.settings.listen_backlog), factory)
            self.ports.append(port)
            address = port.getHost()
            kind = "ssl" if description.removeprefix(PROXIED).startswith("ssl:") else "tcp"
            self.announce(f"listening on {_where(kind, address)}")
        if self.settings.metrics:
            endpoint = endpoints.serverFromString(  # type: ignore[no-untyped-call]
                self.reactor, self.settings.metrics)
            site = Site(MetricsPage(  # type: ignore[no-untyped-call]
                lambda: service_metrics(self) + web_metrics(self.web) + (
                    cluster_metrics(self.cluster) if self.cluster is not None else [])))
            site.noisy = False
            port = await endpoint.listen(site)
            self.ports.append(port)
            address = port.getHost()
            self.announce(f"metrics on http://{address.host}:{address.port}/metrics")
        if self.http_settings.listen:
            self.api_factory = api_factory = api_site(
                self.web, self.http_settings.max_body,
                {b"cgi-bin": SendsmsResource(self.web, self.binder)},
                WebhookEndpoints(self.web, self.webhooks.desk))
            for description in self.http_settings.listen:
                port = await listen(self.reactor, with_backlog(
                    description, self.settings.listen_backlog), api_factory)
                self.ports.append(port)
                address = port.getHost()
                scheme = "https" if description.removeprefix(PROXIED).startswith("ssl:") else "http"
                if isinstance(address, UNIXAddress):
                    self.announce(f"HTTP API on unix:{_path(address)}")
                else:
                    self.announce(f"HTTP API on {scheme}://{address.host}:{address.port}/v1")
            self.web.start()
        self.upkeep.start()
        self.campaigns.start()
        self.rounds.schedule(0.0)
        self.webhooks.wake()
        self.started.callback(None)

    def _start_failed(self, failure: Failure) -> None:
        if not isinstance(failure.value, CannotListenError | FileNotFoundError | PermissionError):
            # a busy port, a key file that cannot be read: one line, no traceback
            _log.failure("smsc could not start", failure)
        if not self.started.called:
            self.started.errback(failure)

    async def stop(self) -> None:
        """Unbind every customer, answer what is pending, flush to the store, stop."""
        self.connections.stopping = True
        self.reloader.stopping = True
        self.rounds.stopping = True
        self.submits.stopping = True
        for port in self.ports:
            await defer.maybeDeferred(port.stopListening)
        self.upkeep.stop()
        self.campaigns.stop()
        self.web.stop()
        self.rounds.stop()
        self.submits.stop()
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
        self.webhooks.stopping = True  # claims no more; calls running get a moment to end
        deadline = self.clock.seconds() + 2.0
        while not self.webhooks.idle and self.clock.seconds() < deadline:
            await _sleep(self.clock, 0.02)
        await defer.maybeDeferred(self.webhooks.stop)
        while not self.worker.idle():
            await _sleep(self.clock, 0.01)
        if self.cluster is not None:
            await self.cluster.stop()
        # Closing checkpoints the WAL (disk I/O): on the store thread, like every store call.
        await self.worker.call(self.store.close)
        self.hasher.stop()
        self.worker.stop()

    def stopService(self) -> defer.Deferred[None]:
        super().stopService()  # type: ignore[no-untyped-call]
        return defer.ensureDeferred(self.stop())

    def _opt_outs_changed(self, changes: Sequence[tuple[Account | None, OptOutChange]]) -> None:
        """A round's MO changed opt-out lists: HTTP sends read them again from now on, and
        the handsets get their confirmations."""
        self.web.opt_outs.forget()
        self.confirmations.submit(changes)

    # --- configuration reload -------------------------------------------------------------------
    def reload(self, why: str = "") -> bool:
        """Read the config again and use it without dropping binds (see ConfigReload.reload).
        Returns whether the new one was taken."""
        return self.reloader.reload(why)

    def _use_settings(self, settings: ServerSettings) -> None:
        """A reloaded config's settings, handed to whoever reads them while running."""
        self.settings = settings
        self.connections.settings = settings
        self.rounds.settings = settings
        self.sessions.use_settings(settings)
        self.submits.use_settings(settings)
        factory = self.factory  # for connections opened from now on
        factory.output_buffer = settings.output_buffer
        factory.drain_timeout = settings.drain_timeout
        factory.unbound_error_limit = settings.unbound_error_limit
        self.core.binds.policy = lock_policy(settings)

    def _use_http(self, settings: HttpSettings) -> None:
        """A reloaded ``[http]`` table (its ``listen`` kept): the body limit for requests
        read from now on, the Idempotency-Key answers' time to live and number."""
        self.http_settings = settings
        self.web.settings = settings
        if self.api_factory is not None:
            self.api_factory.limits = dataclasses.replace(self.api_factory.limits,
                                                          max_body=settings.max_body)

    # --- connections (SmppEndpoint) -------------------------------------------------------------
    def new_session(self, now: float) -> Session:
        s = self.settings
        return Session(Role.SMSC, now=now, window=s.window, max_pdu_length=s.max_pdu_length,
                       enquire_link_interval=s.enquire_link_interval,
                       inactivity_timeout=s.inactivity_timeout,
                       response_timeout=s.response_timeout,
                       window_full_status=s.window_full_status)

    def connected(self, conn: SmppServerProtocol) -> None:
        self.connections.connected(conn)

    def drained(self, conn: SmppServerProtocol) -> None:
        self.sessions.drained(conn)

    def disconnected(self, conn: SmppServerProtocol, abandoned: list[pdus.Pdu]) -> None:
        self.connections.forget(conn)
        self.sessions.unbound(conn)

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
        elif kind in BIND_TYPES:
            self._bind(conn, pdu)  # type: ignore[arg-type]
        elif kind is pdus.Unbind:
            conn.respond(pdus.UnbindResp(sequence_number=pdu.sequence_number))
            conn.finish()
        elif kind is pdus.QuerySm or kind is pdus.CancelSm or kind is pdus.ReplaceSm:
            self._message_request(conn, pdu)
        else:  # pragma: no cover - the session's table lets nothing else through
            conn.respond(pdus.error_response(pdu.command_id, pdu.sequence_number,
                                             S.ESME_RINVCMDID))


def webhook_policy(settings: ServerSettings) -> WebhookPolicy:
    return WebhookPolicy(timeout=settings.webhook_timeout,
                         connect_timeout=min(5.0, settings.webhook_timeout),
                         retry_min=settings.webhook_retry_min,
                         retry_max=settings.webhook_retry_max,
                         max_in_flight=settings.webhook_in_flight,
                         per_host=settings.webhook_per_host,
                         batch=settings.webhook_batch)


def _path(address: UNIXAddress) -> str:
    name = address.name
    return name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)


def _where(kind: str, address: Any) -> str:
    """A listener as announced: ``tcp:HOST:PORT`` (or ssl), ``unix:PATH`` for a UNIX socket."""
    if isinstance(address, UNIXAddress):
        return f"unix:{_path(address)}"
    return f"{kind}:{address.host}:{address.port}"


def with_backlog(description: str, backlog: int) -> str:
    """A tcp or ssl endpoint string with ``backlog=`` added unless it sets one (Twisted's
    default of 50 makes a burst of connects wait for SYN retries)."""
    if description.startswith(PROXIED):
        return PROXIED + with_backlog(description[len(PROXIED):], backlog)
    kind = description.split(":", 1)[0].lower()
    if kind not in ("tcp", "ssl", "tcp6") or "backlog=" in description:
        return description
    return f"{description}:backlog={backlog}"


def _decimals(routing: RouteBook | None) -> Callable[[str], int]:
    """The decimal places of a currency by the routing config in force (it changes on a
    reload)."""
    def decimals(currency: str) -> int:
        return routing.config.decimals(currency) if routing is not None else 2
    return decimals


def _sleep(clock: IReactorTime, seconds: float) -> defer.Deferred[None]:
    d = defer.Deferred[None]()
    clock.callLater(seconds, d.callback, None)
    return d


__all__ = ["SmscService", "webhook_policy", "with_backlog"]
