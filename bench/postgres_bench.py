"""PostgreSQL for the benchmarks: a fresh schema per run, and the CPU its backends spent.

``fresh_schema(url)`` makes a schema of its own in the database at ``url`` for one smsc run and
drops it afterwards; the URL it yields names that schema (``options=-csearch_path=...``) and a
unique ``application_name``, by which ``backend_cpu_seconds`` finds the server processes
(backends) serving that run in ``pg_stat_activity`` and adds up their CPU time from /proc: the
database's share of the work, beside the smsc process's own. The PostgreSQL server must run on
this machine for that (the benchmarks run on loopback anyway).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit


def _psycopg() -> Any:
    import psycopg  # only the PostgreSQL runs need it

    return psycopg


def with_params(url: str, **params: str) -> str:
    """``url`` with these query parameters set (libpq reads them as connection options)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


@contextlib.contextmanager
def fresh_schema(url: str) -> Iterator[str]:
    """A URL naming a new, empty schema in the database at ``url``, dropped afterwards."""
    psycopg = _psycopg()
    name = f"smsc_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    options = dict(parse_qsl(urlsplit(url).query)).get("options", "")
    try:
        yield with_params(url, options=f"{options} -csearch_path={name}".strip(),
                          application_name=name)
    finally:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def application_name(url: str) -> str:
    return dict(parse_qsl(urlsplit(url).query)).get("application_name", "")


def backend_cpu_seconds(url: str) -> float | None:
    """User + system CPU of the backends connected under the URL's application_name (None
    when they cannot be read: another machine, or no such backend)."""
    name = application_name(url)
    if not name:
        return None
    psycopg = _psycopg()
    try:
        with psycopg.connect(with_params(url, application_name="smsc-bench-probe"),
                             autocommit=True, connect_timeout=5) as conn:
            pids = [r[0] for r in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (name,))]
    except psycopg.Error:
        return None
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total if pids else None
