"""Batched writes of the PostgreSQL store: what keeps a group commit to two round trips and a
handful of statements, whatever the batch's size.

A batch's rows are added with one ``INSERT ... SELECT FROM unnest(arrays)`` per table and its
changes applied with one ``UPDATE ... FROM unnest(arrays)``: one statement, planned once (the
statements are prepared), rather than one per row (executemany sends its rows in one round trip,
but the server still runs each as a statement of its own, tens of microseconds a row). Unlike
COPY, these run in pipeline mode, so the hot methods queue their statements and wait for the
server only where they need an answer (see ``PostgresStore._write(pipeline=True)``).

PostgreSQL's text cannot hold the NUL character: in text values it is stored as U+FFFD (a
message text's snippet is the one place a customer could send it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from smsc.store.records import MessageChange

Conn = psycopg.Connection[Any]

# MessageChange's fields an UPDATE sets, and those it keeps where a change has None (COALESCE).
_SET = ("state", "next_at", "attempts", "done_at", "error_code")
_KEEP = ("short_message", "registered_delivery", "scheduled_at", "expires_at", "text_snippet")
_TYPES = {"id": "bigint", "state": "integer", "next_at": "float8", "attempts": "integer",
          "done_at": "float8", "error_code": "integer", "short_message": "bytea",
          "registered_delivery": "integer", "scheduled_at": "float8", "expires_at": "float8",
          "text_snippet": "text"}
_COLUMNS = ("id", *_SET, *_KEEP)
_FLOATS = {i for i, name in enumerate(_COLUMNS) if _TYPES[name] == "float8"}
_INTS = {i for i, name in enumerate(_COLUMNS) if _TYPES[name] in ("integer", "bigint")}
UPDATE_CHANGES = (
    "UPDATE messages AS m SET "
    + ", ".join(f"{name} = c.{name}" for name in _SET)
    + ", hot = 0, claimed_until = 0, "
    + ", ".join(f"{name} = COALESCE(c.{name}, m.{name})" for name in _KEEP)
    + " FROM unnest(" + ", ".join(f"%b::{_TYPES[name]}[]" for name in _COLUMNS)
    + f") AS c({', '.join(_COLUMNS)}) WHERE m.id = c.id"
)


class QueuedIds:
    """``count`` fresh values of a sequence, increasing (not always consecutive: other
    sessions draw from it at the same time). Asked for when made; in pipeline mode the request
    travels with the next round trip, and :meth:`fetched` reads the answer."""

    __slots__ = ("_cursor", "_ids")

    def __init__(self, conn: Conn, sequence: str, count: int) -> None:
        self._ids: list[int] | None = None
        self._cursor = None
        if count > 0:
            self._cursor = conn.execute("SELECT nextval(%s) FROM generate_series(1, %s)",
                                        (sequence, count))
        else:
            self._ids = []

    def fetched(self) -> list[int]:
        if self._ids is None:
            assert self._cursor is not None
            self._ids = [int(r[0]) for r in self._cursor.fetchall()]
        return self._ids


_ARRAY_TYPES = {int: "bigint", float: "float8", str: "text", bytes: "bytea"}


def _column(values: Sequence[Any], kind: type) -> list[Any]:
    """A column's values as one Python type (an int where a float column has one, an IntEnum
    as int), as psycopg dumps a list of one type only."""
    if kind is str:
        return [v.replace("\x00", "\ufffd") if v is not None and "\x00" in v else v
                for v in values]
    if kind is bytes:
        return list(values)
    return [None if v is None else kind(v) for v in values]


def insert_rows(conn: Conn, table: str, columns: dict[str, type],
                rows: Sequence[Sequence[Any]]) -> None:
    """Add ``rows`` (values in ``columns``' order; ``columns`` maps each to its Python type:
    int, float, str or bytes) to ``table`` in one statement."""
    if not rows:
        return
    kinds = list(columns.values())
    arrays = [_column(values, kind)
              for values, kind in zip(zip(*rows, strict=True), kinds, strict=True)]
    conn.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest("
                 + ", ".join(f"%b::{_ARRAY_TYPES[kind]}[]" for kind in kinds) + ")",
                 arrays)


def merged_changes(changes: Sequence[MessageChange]) -> list[tuple[Any, ...]]:
    """One row per part (``_COLUMNS``' order) from changes applied in order: a later change's
    state, times and counters win; content it does not carry (None) stays as an earlier
    change set it, or else as stored."""
    merged: dict[int, list[Any]] = {}
    for c in changes:
        row = [c.id, *(getattr(c, name) for name in _SET),
               *(getattr(c, name) for name in _KEEP)]
        earlier = merged.get(c.id)
        if earlier is not None:
            for i in range(1 + len(_SET), len(_COLUMNS)):
                if row[i] is None:
                    row[i] = earlier[i]
        merged[c.id] = row
    out = []
    for row in merged.values():
        for i in _FLOATS:
            if row[i] is not None:
                row[i] = float(row[i])
        for i in _INTS:
            if row[i] is not None:
                row[i] = int(row[i])
        if row[-1] is not None and "\x00" in row[-1]:  # text_snippet
            row[-1] = row[-1].replace("\x00", "\ufffd")
        out.append(tuple(row))
    return out


def apply_changes(conn: Conn, changes: Sequence[MessageChange]) -> None:
    """Every change in one UPDATE (see :func:`merged_changes` for several of one part)."""
    rows = merged_changes(changes)
    if rows:
        conn.execute(UPDATE_CHANGES, [list(column) for column in zip(*rows, strict=True)])
