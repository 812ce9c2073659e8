"""Metrics over HTTP in the Prometheus text format (version 0.0.4), for whoever runs the server.

``[server] metrics = "tcp:9465:interface=127.0.0.1"`` serves ``GET /metrics``. Every figure is
read from the server's memory when asked (no store call, nothing kept per message): counters
since the start, and gauges of now. :func:`exposition` writes the text; :class:`MetricsPage`
serves it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from twisted.web.resource import Resource
from twisted.web.server import Request

CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Metric:
    name: str  # smsc_...; counters end in _total
    kind: str  # "counter" or "gauge"
    help: str
    samples: Sequence[tuple[Labels, float]]


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


def exposition(metrics: Iterable[Metric]) -> str:
    """The text format: HELP and TYPE lines, then one line per sample."""
    lines: list[str] = []
    for metric in metrics:
        lines.append(f"# HELP {metric.name} {metric.help.replace(chr(10), ' ')}")
        lines.append(f"# TYPE {metric.name} {metric.kind}")
        for labels, value in metric.samples:
            if labels:
                inner = ",".join(f'{key}="{_escape_label(text)}"' for key, text in labels)
                lines.append(f"{metric.name}{{{inner}}} {_number(value)}")
            else:
                lines.append(f"{metric.name} {_number(value)}")
    return "\n".join(lines) + "\n"


class MetricsPage(Resource):
    """``/metrics`` (and the root, for convenience): the exposition of ``collect()``."""

    isLeaf = True  # noqa: N815 - the name Twisted looks for

    def __init__(self, collect: Callable[[], list[Metric]]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._collect = collect

    def render_GET(self, request: Request) -> bytes:
        path = request.path or b"/"
        if path not in (b"/", b"/metrics"):
            request.setResponseCode(404)
            return b"not found: the metrics are at /metrics\n"
        request.setHeader(b"content-type", CONTENT_TYPE)  # type: ignore[no-untyped-call]
        return exposition(self._collect()).encode("utf-8")
