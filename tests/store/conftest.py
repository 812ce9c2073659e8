"""The Store implementations the contract tests run against, one fixture parameter each.

``maker`` hands a test a :class:`StoreMaker` for one implementation: ``new()`` opens a fresh,
empty store, ``again(store)`` opens another handle on the same data (a second process, a restart)
for the implementations that keep data outside the Python object, and ``spec(store)`` names that
data for a subprocess. Every store a maker opened is closed when the test ends.

A PostgreSQL store does not exist yet; its parameter looks for ``smsc.store.postgres.PostgresStore``
and skips (with the reason) until that module, psycopg and a server are all there. It then gives
every store a schema of its own in the database ``test`` at 127.0.0.1:5432 (override the address
with the environment variable SMSC_TEST_POSTGRES), dropped when the test ends.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from smsc.store.base import Store
from smsc.store.memory import MemoryStore
from smsc.store.sqlite import SqliteStore

POSTGRES_DSN = os.environ.get("SMSC_TEST_POSTGRES", "postgresql://127.0.0.1:5432/test")
IMPLEMENTATIONS = ("memory", "sqlite", "postgres")


class StoreMaker:
    """Opens stores of one implementation for one test and closes them afterwards."""

    name = ""
    shared = False  # a second handle (``again``) sees the same data

    def __init__(self) -> None:
        self._opened: list[Store] = []
        self._specs: dict[int, tuple[str, str]] = {}

    def _open(self, spec: tuple[str, str]) -> Store:
        store = open_spec(spec)
        self._opened.append(store)
        self._specs[id(store)] = spec
        return store

    def new(self) -> Store:
        raise NotImplementedError

    def again(self, store: Store) -> Store:
        """Another handle on the data of ``store`` (only where ``shared``)."""
        return self._open(self.spec(store))

    def spec(self, store: Store) -> tuple[str, str]:
        """(implementation, location): enough for a subprocess to open the same data."""
        return self._specs[id(store)]

    def close_all(self) -> None:
        while self._opened:
            self._opened.pop().close()


class MemoryMaker(StoreMaker):
    name = "memory"

    def new(self) -> Store:
        store = MemoryStore()
        self._opened.append(store)
        return store

    def again(self, store: Store) -> Store:
        raise AssertionError("a MemoryStore cannot be opened twice")


class SqliteMaker(StoreMaker):
    name = "sqlite"
    shared = True

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self._directory = directory
        self._count = itertools.count(1)

    def new(self) -> Store:
        return self._open(("sqlite", str(self._directory / f"store{next(self._count)}.db")))


class PostgresMaker(StoreMaker):
    name = "postgres"
    shared = True

    def __init__(self, dsn: str) -> None:
        super().__init__()
        self._dsn = dsn
        self._schemas: list[str] = []

    def new(self) -> Store:
        psycopg = _psycopg()
        schema = f"smsc_contract_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self._dsn, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        self._schemas.append(schema)
        dsn = psycopg.conninfo.make_conninfo(self._dsn, options=f"-csearch_path={schema}")
        return self._open(("postgres", dsn))

    def close_all(self) -> None:
        super().close_all()
        with _psycopg().connect(self._dsn, autocommit=True) as conn:
            for schema in self._schemas:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def _psycopg() -> Any:
    """psycopg, imported only where PostgreSQL is wanted (it is an optional dependency)."""
    importlib.import_module("psycopg.conninfo")
    return importlib.import_module("psycopg")


def open_spec(spec: tuple[str, str]) -> Store:
    """Open a store from ``StoreMaker.spec`` (also used in subprocesses)."""
    kind, location = spec
    if kind == "sqlite":
        return SqliteStore(location)
    if kind == "postgres":
        store_class: Any = importlib.import_module("smsc.store.postgres").PostgresStore
        store: Store = store_class(location)
        return store
    raise ValueError(f"no store called {kind!r}")


_postgres_problem: list[str] = []  # computed once per session


def postgres_problem() -> str:
    """Why the PostgreSQL parameter cannot run here, or "" when it can."""
    if not _postgres_problem:
        _postgres_problem.append(_find_postgres_problem())
    return _postgres_problem[0]


def _find_postgres_problem() -> str:
    if importlib.util.find_spec("smsc.store.postgres") is None:
        return "no PostgreSQL store yet (smsc.store.postgres.PostgresStore does not exist)"
    if not hasattr(importlib.import_module("smsc.store.postgres"), "PostgresStore"):
        return "smsc.store.postgres has no PostgresStore"
    if importlib.util.find_spec("psycopg") is None:
        return "psycopg is not installed"
    psycopg = _psycopg()
    try:
        with psycopg.connect(POSTGRES_DSN, connect_timeout=3):
            pass
    except psycopg.Error as e:
        return f"PostgreSQL unreachable at {POSTGRES_DSN}: {e}".strip()
    return ""


@pytest.fixture(
    params=[pytest.param(name, marks=[pytest.mark.postgres] if name == "postgres" else [])
            for name in IMPLEMENTATIONS]
)  # fmt: skip
def maker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreMaker]:
    m: StoreMaker
    if request.param == "memory":
        m = MemoryMaker()
    elif request.param == "sqlite":
        m = SqliteMaker(tmp_path)
    else:
        problem = postgres_problem()
        if problem:
            pytest.skip(problem)
        m = PostgresMaker(POSTGRES_DSN)
    try:
        yield m
    finally:
        m.close_all()


@pytest.fixture
def store(maker: StoreMaker) -> Store:
    return maker.new()


@pytest.fixture
def shared_maker(maker: StoreMaker) -> StoreMaker:
    """A maker whose stores can be opened twice (file or server backed)."""
    if not maker.shared:
        pytest.skip(f"a {maker.name} store keeps nothing outside its object")
    return maker


@pytest.fixture
def known_bug(request: pytest.FixtureRequest, maker: StoreMaker) -> Callable[[str, str], None]:
    """``known_bug(name, reason)`` marks the running test as a strict expected failure for the
    implementation ``name``: the test states the contract, the implementation does not meet it
    yet, and the day it does the XPASS fails the run so the mark gets removed."""

    def mark(name: str, reason: str) -> None:
        if maker.name == name:
            request.applymarker(pytest.mark.xfail(strict=True, reason=reason))

    return mark
