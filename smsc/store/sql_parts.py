"""What the SQL stores' mixins call on their store, declared once for the type checker.

Each mixin of :class:`smsc.store.sqlite.SqliteStore` and :class:`smsc.store.postgres.PostgresStore`
inherits :class:`SqlStoreParts` with its driver's connection type; the store class itself
defines these methods (nothing is declared at run time, so nothing can shadow them)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

ConnT = TypeVar("ConnT")


class SqlStoreParts(Generic[ConnT]):
    """The store's transaction, read and change-counter plumbing, typed by its connection."""

    # Appended to a read that must hold its rows until the transaction ends: PostgreSQL locks
    # rows; SQLite's write transaction (BEGIN IMMEDIATE) holds the whole database already.
    _FOR_SHARE = ""
    _FOR_UPDATE = ""

    if TYPE_CHECKING:
        def _write(self) -> contextlib.AbstractContextManager[ConnT]: ...

        def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...

        def _sql(self, sql: str) -> str: ...

        def _bump_changes(self, conn: ConnT) -> None: ...

        def _require_account(self, conn: ConnT, system_id: str) -> None: ...
