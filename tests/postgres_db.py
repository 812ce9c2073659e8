"""A PostgreSQL database of the test run's own, for the tests that run smsc on PostgreSQL.

The server is the one at SMSC_TEST_POSTGRES (default ``postgresql://127.0.0.1:5432/test``, a
database used only to create and drop others). Each test process creates one database with a
random name the first time a test asks (:func:`test_database`) and drops it when the run ends;
the store contract gives each store a schema of its own inside it.

Without psycopg, the PostgreSQL store or a reachable server, those tests skip with the reason,
unless SMSC_REQUIRE_POSTGRES=1 (CI sets it): then they fail.
"""

from __future__ import annotations

import atexit
import importlib
import importlib.util
import os
import uuid
from typing import Any
from urllib.parse import quote

import pytest

SERVER_DSN = os.environ.get("SMSC_TEST_POSTGRES", "postgresql://127.0.0.1:5432/test")
REQUIRED = os.environ.get("SMSC_REQUIRE_POSTGRES", "") == "1"

_problem: list[str] = []  # computed once per process
_database: list[str] = []  # the dsn of this process's database, once made


def psycopg() -> Any:
    """psycopg, imported only where PostgreSQL is wanted."""
    importlib.import_module("psycopg.conninfo")
    return importlib.import_module("psycopg")


def problem() -> str:
    """Why PostgreSQL tests cannot run here, or "" when they can."""
    if not _problem:
        _problem.append(_find_problem())
    return _problem[0]


def _find_problem() -> str:
    if importlib.util.find_spec("psycopg") is None:
        return "psycopg is not installed"
    if not hasattr(importlib.import_module("smsc.store.postgres"), "PostgresStore"):
        return "smsc.store.postgres has no PostgresStore"
    pg = psycopg()
    try:
        with pg.connect(SERVER_DSN, connect_timeout=3):
            pass
    except pg.Error as e:
        return f"PostgreSQL unreachable at {SERVER_DSN}: {e}".strip()
    return ""


def need_postgres() -> None:
    """Skip the calling test without PostgreSQL, or fail it where it is required."""
    reason = problem()
    if reason:
        if REQUIRED:
            pytest.fail(f"SMSC_REQUIRE_POSTGRES=1 but {reason}", pytrace=False)
        pytest.skip(reason)


def test_database() -> str:
    """The dsn of this process's own database (made on first use, dropped at exit)."""
    need_postgres()
    if not _database:
        pg = psycopg()
        name = f"smsc_test_{uuid.uuid4().hex[:12]}"
        with pg.connect(SERVER_DSN, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        _database.append(pg.conninfo.make_conninfo(SERVER_DSN, dbname=name))
        atexit.register(_drop, name)
    return _database[0]


test_database.__test__ = False  # type: ignore[attr-defined]  # not a test for pytest


def _drop(name: str) -> None:
    pg = psycopg()
    try:
        with pg.connect(SERVER_DSN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    except pg.Error:
        pass  # the server went away: nothing to drop it from


_clean: list[str] = []  # schemas emptied by recycle_schema, ready for the next store


def new_schema_dsn(prefix: str = "smsc", *, fresh: bool = False) -> tuple[str, str]:
    """An empty schema in this process's database: (dsn whose search_path is it, schema).
    A schema a previous test used and :func:`recycle_schema` emptied is handed out again
    (creating smsc's tables takes a few tenths of a second; emptying them a few
    milliseconds) unless ``fresh`` asks for one without tables (to test the schema itself)."""
    pg = psycopg()
    dsn = test_database()
    if _clean and not fresh:
        schema = _clean.pop()
    else:
        schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with pg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
    # synchronous_commit off: a test's commits need not wait for the disk (the server still
    # never loses a committed transaction short of a crash of the machine).
    options = f"-csearch_path={schema} -csynchronous_commit=off"
    return pg.conninfo.make_conninfo(dsn, options=options), schema


def new_schema_url(prefix: str = "smsc", *, fresh: bool = True) -> str:
    """An empty schema in this process's database (without tables unless ``fresh`` is
    False: see :func:`new_schema_dsn`), as the ``postgresql://`` URL ``smsc --db`` takes (the
    schema in its ``options``)."""
    pg = psycopg()
    dsn, _ = new_schema_dsn(prefix, fresh=fresh)
    parts = pg.conninfo.conninfo_to_dict(dsn)
    user = f"{quote(str(parts['user']))}@" if parts.get("user") else ""
    host = str(parts.get("host") or "127.0.0.1")
    port = f":{parts['port']}" if parts.get("port") else ""
    return (f"postgresql://{user}{host}{port}/{parts['dbname']}"
            f"?options={quote(str(parts['options']))}")


def recycle_schema(schema: str) -> None:
    """Empty a schema whose stores are all closed, for :func:`new_schema_dsn` to hand out
    again: every table's rows go (the version row stays), counters and sequences restart."""
    pg = psycopg()
    with pg.connect(test_database(), autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)).fetchall()]
        if "schema_version" not in tables or "counters" not in tables:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")  # not smsc's: gone
            return
        with conn.transaction():
            for table in tables:
                if table not in ("schema_version", "counters"):
                    conn.execute(f"DELETE FROM {schema}.{table}")
            conn.execute(f"UPDATE {schema}.counters SET value = CASE name "
                         "WHEN 'next_message_id' THEN 1 ELSE 0 END")
            conn.execute("SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n "
                         "ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND n.nspname = %s",
                         (schema,))
    _clean.append(schema)


def drop_schema(schema: str) -> None:
    pg = psycopg()
    with pg.connect(test_database(), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
