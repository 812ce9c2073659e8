"""Fixtures of the adapter tests: a store with the account ``acme`` (each test runs once on the
SQLite store and once on the memory store) and a started rig on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from smsc.store.base import Store
from smsc.store.memory import MemoryStore
from smsc.store.sqlite import SqliteStore
from tests.server.harness import Rig, add_account


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    store: Store = SqliteStore(":memory:") if request.param == "sqlite" else MemoryStore()
    add_account(store)
    yield store


@pytest.fixture
def rig(store: Store) -> Rig:
    return Rig(store)
