"""What the metrics page shows: the running service's figures, read from its memory."""

from __future__ import annotations

import resource
from collections.abc import Collection, Mapping
from typing import Protocol

from twisted.internet.interfaces import IReactorTime

from smsc.core.centre import SmscCore
from smsc.core.outbox import OutboxDispatcher
from smsc.core.webhook_queue import WebhookQueue
from smsc.pdu.constants import CommandStatus
from smsc.server.binding import BindDispatcher
from smsc.server.campaigns import CampaignSender
from smsc.server.committer import GroupCommitter
from smsc.server.metrics import Labels, Metric
from smsc.server.outbind import Outbinder
from smsc.server.protocol import SmppServerProtocol
from smsc.server.storehealth import StoreHealth
from smsc.server.worker import StoreWorker


class ObservedCourier(Protocol):
    """What the metrics read of the courier that writes the outbox to the binds."""

    @property
    def sent(self) -> int: ...
    @property
    def delivered(self) -> int: ...
    @property
    def dispatcher(self) -> OutboxDispatcher: ...
    def in_flight_count(self) -> int: ...


class ObservedWebhooks(Protocol):
    """What the metrics read of the webhook courier."""

    @property
    def queue(self) -> WebhookQueue: ...


class ObservedService(Protocol):
    """What the metrics read of the running service (smsc.server.service.SmscService has it all;
    this module does not import that one, which serves these metrics)."""

    @property
    def clock(self) -> IReactorTime: ...
    @property
    def started_at(self) -> float: ...
    @property
    def core(self) -> SmscCore: ...
    @property
    def connections(self) -> Collection[SmppServerProtocol]: ...
    @property
    def binds(self) -> Mapping[str, Collection[SmppServerProtocol]]: ...
    @property
    def closed_for(self) -> Mapping[str, int]: ...
    @property
    def stats(self) -> Mapping[str, int]: ...
    @property
    def refusals(self) -> Mapping[int, int]: ...
    @property
    def bind_refusals(self) -> Mapping[int, int]: ...
    @property
    def finals(self) -> Mapping[str, int]: ...
    @property
    def binder(self) -> BindDispatcher: ...
    @property
    def committer(self) -> GroupCommitter: ...
    @property
    def courier(self) -> ObservedCourier: ...
    @property
    def webhooks(self) -> ObservedWebhooks: ...
    @property
    def outbinder(self) -> Outbinder: ...
    @property
    def worker(self) -> StoreWorker: ...
    @property
    def health(self) -> StoreHealth: ...
    @property
    def campaigns(self) -> CampaignSender: ...


def _status(status: int) -> Labels:
    return (("status", CommandStatus.name_of(status)),)


def service_metrics(service: ObservedService) -> list[Metric]:
    """Counters since the start and gauges of now; nothing here reads the store."""
    courier = service.courier
    committer = service.committer
    webhooks = service.webhooks.queue
    binds: dict[tuple[str, str], int] = {}
    for account, conns in service.binds.items():
        for conn in conns:
            record = getattr(conn.bind, "bind_type", None)
            kind = record.short if record is not None else "unknown"
            binds[account, kind] = binds.get((account, kind), 0) + 1
    unsent = [conn.unsent_bytes() for conn in service.connections]
    now = service.clock.seconds()
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return [
        Metric("smsc_uptime_seconds", "gauge", "Seconds since the server started.",
               [((), round(now - service.started_at, 3))]),
        Metric("smsc_connections", "gauge", "Open SMPP connections, bound or not.",
               [((), len(service.connections))]),
        Metric("smsc_connections_paused", "gauge",
               "Connections not read from because their unsent output is over output_buffer.",
               [((), sum(1 for conn in service.connections if conn.paused))]),
        Metric("smsc_output_unsent_bytes", "gauge",
               "Bytes written to connections and not yet taken by the peers, in all.",
               [((), sum(unsent))]),
        Metric("smsc_output_unsent_max_bytes", "gauge",
               "Unsent bytes of the connection with the most.",
               [((), max(unsent, default=0))]),
        Metric("smsc_connections_closed_total", "counter",
               "Connections the server refused, aborted or closed for a limit, by reason.",
               [((("reason", r),), n) for r, n in sorted(service.closed_for.items())]),
        Metric("smsc_binds", "gauge", "Bound sessions by account and bind type.",
               [((("account", a), ("type", k)), n) for (a, k), n in sorted(binds.items())]),
        Metric("smsc_binds_total", "counter", "Binds accepted since the start.",
               [((), service.stats["binds"])]),
        Metric("smsc_binds_refused_total", "counter", "Binds refused, by status.",
               [(_status(s), n) for s, n in sorted(service.bind_refusals.items())]),
        Metric("smsc_binds_pending", "gauge", "Binds being checked, and waiting for a place.",
               [((("state", "checked"),), service.binder.running),
                ((("state", "waiting"),), service.binder.queued)]),
        Metric("smsc_binds_refused_for_limits_total", "counter",
               "Binds refused unchecked for the pending bind limits (ESME_RBINDFAIL).",
               [((), service.binder.refused)]),
        Metric("smsc_submits_total", "counter",
               "submit_sm, data_sm and submit_multi accepted (answered ESME_ROK).",
               [((), service.stats["submits"])]),
        Metric("smsc_submits_refused_total", "counter", "Submits refused, by status.",
               [(_status(s), n) for s, n in sorted(service.refusals.items())]),
        Metric("smsc_commits_total", "counter", "Group commits.", [((), committer.commits)]),
        Metric("smsc_committed_parts_total", "counter", "Message parts committed.",
               [((), committer.committed_parts)]),
        Metric("smsc_commit_queue_parts", "gauge", "Parts waiting for the next group commit.",
               [((), committer.queued)]),
        Metric("smsc_parts_final_total", "counter",
               "Parts that reached a final state, by operator.",
               [((("operator", o),), n) for o, n in sorted(service.finals.items())]),
        Metric("smsc_queue_parts", "gauge", "Parts waiting in each operator's queue.",
               [((("operator", o),), n)
                for o, n in sorted(service.core.queue_depths.items())]),
        Metric("smsc_outbox_sent_total", "counter",
               "Receipts, MO and alerts written to customers (retries included).",
               [((), courier.sent)]),
        Metric("smsc_outbox_delivered_total", "counter",
               "Receipts and MO answered by customers (deliver_sm_resp).",
               [((), courier.delivered)]),
        Metric("smsc_outbox_in_flight", "gauge", "deliver_sm sent and not answered yet.",
               [((), courier.in_flight_count())]),
        Metric("smsc_outbox_held", "gauge",
               "Receipts and MO loaded for bound accounts and not delivered yet, by account.",
               [((("account", a),), n) for a, n in sorted(courier.dispatcher.backlog().items())]),
        Metric("smsc_webhooks_total", "counter",
               "Webhook calls (receipts and MO over HTTP) by result: sent, and once answered "
               "acked (2xx), retried or failed (moved to the failed list); deferred: items "
               "of a struggling host claimed beyond its share, left to their lease.",
               [((("result", r),), n) for r, n in webhooks.counts.items()]),
        Metric("smsc_webhooks_in_flight", "gauge", "Webhook calls running.",
               [((), webhooks.in_flight)]),
        Metric("smsc_webhooks_held", "gauge",
               "Webhook items claimed from the store and not settled yet (waiting, running, "
               "or their result being written).",
               [((), webhooks.held)]),
        Metric("smsc_outbind_attempts_total", "counter", "Outbind connections tried.",
               [((), service.outbinder.attempts)]),
        Metric("smsc_campaign_messages_total", "counter",
               "Messages of campaigns accepted (committed with their contacts' marks).",
               [((), service.campaigns.sent)]),
        Metric("smsc_campaigns_running", "gauge",
               "Campaigns the server is stepping through now.",
               [((), len(service.campaigns.runs))]),
        Metric("smsc_store_calls_pending", "gauge", "Calls queued for or running on the store.",
               [((), service.worker.pending)]),
        Metric("smsc_store_failures_total", "counter",
               "Store calls that failed (a full disk, a lock held too long, ...).",
               [((), service.health.failures)]),
        Metric("smsc_store_failing", "gauge",
               "1 from a store failure until a store write succeeds again, else 0.",
               [((), int(service.health.failing))]),
        Metric("smsc_max_resident_memory_bytes", "gauge", "Peak resident memory of the process.",
               [((), rss_kib * 1024)]),
    ]
