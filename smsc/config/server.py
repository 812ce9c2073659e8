"""The ``[server]`` and ``[test_account]`` sections of conf/smsc.toml."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any

from smsc.config.endpoints import EndpointError, server_endpoint
from smsc.config_error import ConfigError
from smsc.operators.config import parse_duration
from smsc.operators.schedule import zone_named
from smsc.pdu.constants import CommandStatus
from smsc.routing.currencies import is_currency

DEFAULT_LISTEN = ("tcp:2775:interface=127.0.0.1",)


@dataclass(frozen=True, slots=True, kw_only=True)
class TestAccountSettings:
    """The account integrators find ready on first start."""

    system_id: str = "smsctest"
    password: str = ""  # empty: a random one is generated once and printed
    credit: int = 100_000  # bonus credit in minor units (1,000.00)
    currency: str = "EUR"
    throughput: float = 100.0
    lock_after: int = 0  # wrong passwords in a row that lock it; 0: never (integrators test them)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSettings:
    listen: tuple[str, ...] = DEFAULT_LISTEN
    database: str = "smsc.sqlite"
    synchronous: str = "NORMAL"
    system_id: str = "smsc"  # sent in bind responses
    node: str = ""  # this node's id among several on one database; "": kept in node_file
    node_file: str = "smsc-node-id"  # where a generated node id is kept (relative: to the cwd)
    node_lease: float = 10.0  # a node silent this long is dead (its binds, leases, claims go)
    message_id_format: str = "hex"  # or "decimal"
    window: int = 64  # requests a customer may have unanswered per bind
    window_full_status: int = CommandStatus.ESME_RTHROTTLED
    receipt_window: int = 64  # deliver_sm we keep unanswered per bind
    max_pdu_length: int = 70_000
    enquire_link_interval: float = 30.0
    inactivity_timeout: float = 300.0
    response_timeout: float = 30.0
    bind_timeout: float = 30.0  # an open connection must bind within this
    # Hostile or stuck peers (docs/operations.md): output a connection may have unsent before
    # the server stops reading from it, and how long output may stay above that (or a closing
    # connection stay undrained) before the connection is aborted.
    output_buffer: int = 64 * 1024
    drain_timeout: float = 20.0
    unbound_error_limit: int = 10  # invalid PDUs in a row before a bind: generic_nack, close
    listen_backlog: int = 1024  # for listeners whose endpoint string sets no backlog
    max_connections: int = 4096  # open at once in total (also kept under the fd limit)
    max_connections_per_address: int = 256  # open at once from one peer address
    lock_after: int = 3  # wrong passwords in a row for one account from one address; 0: never
    lock_for: float = 3 * 3600.0
    unknown_id_lock_after: int = 10  # unknown system_ids in a row from one address; 0: never
    pending_binds: int = 4  # binds checked at once; more wait, the addresses taking turns
    pending_binds_per_address: int = 8  # binds checked or waiting from one address; more refused
    queued_binds: int = 256  # binds waiting in all; more are refused (ESME_RBINDFAIL)
    bind_refusal_delay: float = 1.0  # such a refusal is answered after this
    hash_threads: int = 2  # threads that check passwords (scrypt), apart from the store thread
    pin_cpu: int = -1  # the CPU the event loop and store thread keep to (Linux); -1: any
    commit_batch: int = 1000  # parts per group commit at most
    commit_delay: float = 0.0  # how long a commit waits for company when the store is idle
    due_batch: int = 500  # parts the operator queues take per round
    due_interval: float = 0.05  # seconds between rounds when queues are idle
    receipt_retry_min: float = 1.0
    receipt_retry_max: float = 300.0
    # Receipts and MO by webhook (docs/webhooks.md): one call's time limit, the retry waits
    # (doubling from min to max, with jitter), calls at once in all and per host, and the
    # events one JSON call carries at most (only those already waiting are grouped).
    webhook_timeout: float = 10.0
    webhook_retry_min: float = 5.0
    webhook_retry_max: float = 3600.0
    webhook_in_flight: int = 64
    webhook_per_host: int = 8
    webhook_batch: int = 100
    metrics: str = ""  # an endpoint for GET /metrics (Prometheus text); empty: none
    receipt_time_zone: str = "UTC"  # IANA name: the zone of the dates in receipt texts
    test_account: TestAccountSettings = dataclasses.field(default_factory=TestAccountSettings)

    @property
    def hex_ids(self) -> bool:
        return self.message_id_format == "hex"

    @property
    def receipt_zone(self) -> tzinfo:
        return time_zone(self.receipt_time_zone)


def time_zone(name: str) -> tzinfo:
    """UTC, or the IANA zone of that name (ValueError when there is none)."""
    if name.upper() in ("UTC", "ETC/UTC"):
        return UTC
    zone = zone_named(name)
    if zone is None:
        raise ValueError(f"{name!r} is not a time zone name (like \"Europe/Kyiv\")")
    return zone


_DURATIONS = {"enquire_link_interval", "inactivity_timeout", "response_timeout",
              "bind_timeout", "drain_timeout", "lock_for", "commit_delay", "due_interval",
              "receipt_retry_min", "receipt_retry_max", "bind_refusal_delay",
              "webhook_timeout", "webhook_retry_min", "webhook_retry_max", "node_lease"}
_INTS = {"window", "receipt_window", "max_pdu_length", "commit_batch", "due_batch",
         "unbound_error_limit", "listen_backlog", "max_connections",
         "max_connections_per_address", "pending_binds", "pending_binds_per_address",
         "queued_binds", "hash_threads", "webhook_in_flight", "webhook_per_host"}
_COUNTS = {"lock_after", "unknown_id_lock_after"}  # 0 allowed: never
MAX_WEBHOOK_BATCH = 1000  # events one webhook call carries at most, the bound of the setting
_NODE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_STRINGS = {"database", "system_id"}


def valid_node_id(text: str) -> bool:
    """A node id: 1 to 64 letters, digits, '.', '_' or '-'."""
    return bool(_NODE_ID.fullmatch(text))


def _int(value: object, path: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(path, "must be a whole number")
    if not low <= value <= high:
        raise ConfigError(path, f"must be between {low} and {high}")
    return value


def _endpoint(value: str, path: str) -> str:
    try:
        return server_endpoint(value)
    except EndpointError as e:
        raise ConfigError(path, str(e)) from None


def _server(data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"server.{key}"
        if key == "listen":
            endpoints = [value] if isinstance(value, str | int) else value
            if isinstance(endpoints, list):  # a bare port: listen = [2776]
                endpoints = [str(v) if isinstance(v, int) and not isinstance(v, bool) else v
                             for v in endpoints]
            if not isinstance(endpoints, list) or not endpoints or not all(
                    isinstance(v, str) and v for v in endpoints):
                raise ConfigError(path, "must be a list of endpoint strings like "
                                        "\"tcp:2775:interface=127.0.0.1\"")
            out[key] = tuple(_endpoint(v, path) for v in endpoints)
        elif key in _DURATIONS:
            out[key] = parse_duration(value, path, positive=key == "drain_timeout")
        elif key in _INTS:
            out[key] = _int(value, path, 1, 64 if key == "hash_threads" else 2**31 - 1)
        elif key == "webhook_batch":
            out[key] = _int(value, path, 1, MAX_WEBHOOK_BATCH)
        elif key == "pin_cpu":
            out[key] = _int(value, path, -1, 4095)
        elif key == "output_buffer":
            out[key] = _int(value, path, 4096, 2**31 - 1)
        elif key in _COUNTS:
            out[key] = _int(value, path, 0, 2**31 - 1)
        elif key in _STRINGS:
            if not isinstance(value, str) or not value:
                raise ConfigError(path, "must be a non-empty string")
            if key == "system_id" and len(value) > 15:
                raise ConfigError(path, "must be at most 15 characters (SMPP system_id)")
            out[key] = value
        elif key in ("node", "node_file"):
            if not isinstance(value, str) or (key == "node_file" and not value):
                raise ConfigError(path, "must be a non-empty string" if key == "node_file"
                                  else "must be a string (\"\": generated)")
            if key == "node" and value and not valid_node_id(value):
                raise ConfigError(path, "must be 1 to 64 letters, digits, '.', '_' or '-'")
            out[key] = value
        elif key == "receipt_time_zone":
            if not isinstance(value, str):
                raise ConfigError(path, "must be a time zone name like \"Europe/Kyiv\"")
            try:
                time_zone(value)
            except ValueError as e:
                raise ConfigError(path, str(e)) from None
            out[key] = value
        elif key == "metrics":
            if not isinstance(value, str):
                raise ConfigError(path, "must be an endpoint string like "
                                        "\"tcp:9465:interface=127.0.0.1\" (\"\": none)")
            out[key] = _endpoint(value, path) if value else value
        elif key == "synchronous":
            if value not in ("NORMAL", "FULL", "EXTRA"):
                raise ConfigError(path, "must be NORMAL, FULL or EXTRA")
            out[key] = value
        elif key == "message_id_format":
            if value not in ("hex", "decimal"):
                raise ConfigError(path, "must be \"hex\" or \"decimal\"")
            out[key] = value
        elif key == "window_full_status":
            if value not in ("throttled", "queue_full"):
                raise ConfigError(path, "must be \"throttled\" or \"queue_full\"")
            out[key] = (CommandStatus.ESME_RTHROTTLED if value == "throttled"
                        else CommandStatus.ESME_RMSGQFUL)
        else:
            raise ConfigError(path, "is not a setting smsc knows")
    if out.get("bind_refusal_delay", 1.0) > 60.0:
        raise ConfigError("server.bind_refusal_delay", "must be at most 60 s")
    if out.get("receipt_retry_min", 1.0) > out.get("receipt_retry_max", 300.0):
        raise ConfigError("server.receipt_retry_min", "must not exceed receipt_retry_max")
    if out.get("webhook_retry_min", 5.0) > out.get("webhook_retry_max", 3600.0):
        raise ConfigError("server.webhook_retry_min", "must not exceed webhook_retry_max")
    if not 1.0 <= out.get("node_lease", 10.0) <= 600.0:
        raise ConfigError("server.node_lease", "must be between 1 s and 10 min")
    if out.get("webhook_timeout", 10.0) <= 0:
        raise ConfigError("server.webhook_timeout", "must be longer than 0")
    return out


def _test_account(data: Mapping[str, Any]) -> TestAccountSettings:
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"test_account.{key}"
        if key in ("system_id", "password", "currency"):
            if not isinstance(value, str):
                raise ConfigError(path, "must be a string")
            if key == "system_id" and not 1 <= len(value) <= 15:
                raise ConfigError(path, "must be 1 to 15 characters")
            if key == "password" and len(value) > 8:
                raise ConfigError(path, "must be at most 8 characters (SMPP password)")
            if key == "currency" and not is_currency(value):
                raise ConfigError(path, f"{value!r} is not an ISO 4217 currency code (EUR, UAH)")
            out[key] = value
        elif key == "credit":
            out[key] = _int(value, path, 0, 2**62)
        elif key == "lock_after":
            out[key] = _int(value, path, 0, 2**31 - 1)
        elif key == "throughput":
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ConfigError(path, "must be a number of messages per second (0: no limit)")
            out[key] = float(value)
        else:
            raise ConfigError(path, "is not a setting smsc knows")
    return TestAccountSettings(**out)


def server_settings_from_mapping(data: Mapping[str, Any]) -> ServerSettings:
    """ServerSettings from the parsed ``[server]`` and ``[test_account]`` tables."""
    server = data.get("server", {})
    test_account = data.get("test_account", {})
    if not isinstance(server, Mapping):
        raise ConfigError("server", "must be a table")
    if not isinstance(test_account, Mapping):
        raise ConfigError("test_account", "must be a table")
    return ServerSettings(**_server(server), test_account=_test_account(test_account))
