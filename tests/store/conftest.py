"""The Store implementations the contract tests run against, one fixture parameter each.

``maker`` hands a test a :class:`StoreMaker` for one implementation: ``new()`` opens a fresh,
empty store, ``again(store)`` opens another handle on the same data (a second process, a restart)
for the implementations that keep data outside the Python object, and ``spec(store)`` names that
data for a subprocess. Every store a maker opened is closed when the test ends.

The PostgreSQL parameter gives every store a schema of its own, dropped when the test ends, in
the test process's own database (:mod:`tests.postgres_db`: the server at SMSC_TEST_POSTGRES,
default 127.0.0.1:5432). Without psycopg or a reachable server it skips with the reason, or
fails where SMSC_REQUIRE_POSTGRES=1.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from smsc.store.base import Store
from smsc.store.memory import MemoryStore
from smsc.store.sqlite import SqliteStore
from tests import postgres_db

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

    def release(self, store: Store) -> None:
        """Close a store before the test ends (a state machine's example is over)."""
        self._opened.remove(store)
        store.close()

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

    def __init__(self) -> None:
        super().__init__()
        self._schemas: list[str] = []

    def new(self) -> Store:
        dsn, schema = postgres_db.new_schema_dsn("smsc_contract")
        self._schemas.append(schema)
        return self._open(("postgres", dsn))

    def release(self, store: Store) -> None:
        """Close it and, unless another handle on its schema is open, empty the schema for the
        next store (a state machine makes one per example)."""
        spec = self._specs[id(store)]
        super().release(store)
        if not any(self._specs.get(id(other)) == spec for other in self._opened):
            schema = next(s for s in self._schemas if f"search_path={s} " in spec[1])
            self._schemas.remove(schema)
            postgres_db.recycle_schema(schema)

    def close_all(self) -> None:
        super().close_all()
        while self._schemas:
            postgres_db.recycle_schema(self._schemas.pop())


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
        postgres_db.need_postgres()
        m = PostgresMaker()
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
