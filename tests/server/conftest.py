"""Fixtures of the adapter tests: a store with the account ``acme`` and a started rig on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from smsc.store.sqlite import SqliteStore
from tests.server.harness import Rig, add_account


@pytest.fixture
def store() -> Iterator[SqliteStore]:
    store = SqliteStore(":memory:")
    add_account(store)
    yield store


@pytest.fixture
def rig(store: SqliteStore) -> Rig:
    return Rig(store)
