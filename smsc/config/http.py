"""The ``[http]`` section of conf/smsc.toml: the customer HTTP API (docs/http.md).

Without an ``[http]`` table the API is off (a config written before it existed keeps serving
SMPP only); the packaged config turns it on at ``tcp:8080:interface=127.0.0.1``, next to SMPP on
loopback. ``listen = []`` turns it off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from smsc.config.endpoints import EndpointError, server_endpoint
from smsc.config_error import ConfigError
from smsc.operators.config import parse_duration

PACKAGED_LISTEN = ("tcp:8080:interface=127.0.0.1",)


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpSettings:
    listen: tuple[str, ...] = ()  # Twisted endpoint strings; empty: no HTTP API
    max_body: int = 4 * 1024 * 1024  # octets of a request body at most (10,000 destinations fit)
    idempotency_ttl: float = 24 * 3600.0  # how long an Idempotency-Key's answer is kept
    idempotency_max: int = 1_000_000  # answers kept at most; the oldest go first


def _listen(value: object, path: str) -> tuple[str, ...]:
    endpoints = [value] if isinstance(value, str | int) else value
    if isinstance(endpoints, list):  # a bare port: listen = [8080]
        endpoints = [str(v) if isinstance(v, int) and not isinstance(v, bool) else v
                     for v in endpoints]
    if not isinstance(endpoints, list) or not all(isinstance(v, str) and v for v in endpoints):
        raise ConfigError(path, "must be a list of endpoint strings like "
                                "\"tcp:8080:interface=127.0.0.1\" ([]: no HTTP API)")
    out = []
    for v in endpoints:
        try:
            out.append(server_endpoint(v))
        except EndpointError as e:
            raise ConfigError(path, str(e)) from None
    return tuple(out)


def http_settings_from_mapping(data: Mapping[str, Any]) -> HttpSettings:
    """HttpSettings from the parsed ``[http]`` table (absent: the API is off)."""
    if not isinstance(data, Mapping):
        raise ConfigError("http", "must be a table")
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"http.{key}"
        if key == "listen":
            out[key] = _listen(value, path)
        elif key in ("max_body", "idempotency_max"):
            if isinstance(value, bool) or not isinstance(value, int) or not (
                    1024 <= value <= 2**31 - 1):
                raise ConfigError(path, "must be a whole number from 1024 up")
            out[key] = value
        elif key == "idempotency_ttl":
            out[key] = parse_duration(value, path, positive=True)
        else:
            raise ConfigError(path, "is not a setting smsc knows")
    return HttpSettings(**out)
