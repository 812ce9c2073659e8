"""Many rows in few SQLite statements.

Python's sqlite3 lets go of the GIL around every step of a statement, and ``executemany`` steps
once per row: a group commit of 32 parts gave the GIL to the event loop and waited to get it
back 32 times for its message rows and 32 times for its receipts, each time a futex wake-up and
often a switch of threads. One ``INSERT ... VALUES (...), (...), ...`` or one ``UPDATE ... WHERE
id IN (...)`` steps once for all its rows. SQLite gives the rows of one multi-row INSERT their
rowids in the order written, as ``executemany`` did, so the callers' "consecutive ids" still
hold.

The rows go in statements of power-of-two sizes (at most ``MAX_ROWS``, and never more
parameters than the connection's SQLite allows), so each statement has at most eight texts and
the connection's statement cache keeps them compiled.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

MAX_ROWS = 128  # rows per statement (a power of two)


def chunk_sizes(count: int, most: int = MAX_ROWS) -> list[int]:
    """``count`` rows as statement sizes of at most ``most`` (a power of two): as many of
    ``most`` as fit, then the binary digits of the rest, largest first (45 -> 32, 8, 4, 1)."""
    sizes = [most] * (count // most)
    rest = count % most
    size = most // 2
    while rest:
        if rest >= size:
            sizes.append(size)
            rest -= size
        size //= 2
    return sizes


@lru_cache(maxsize=256)
def _values_text(sql: str, rows: int) -> str:
    head, found, values = sql.partition(" VALUES ")
    if not found:
        raise ValueError(f"not an INSERT ... VALUES (...) statement: {sql!r}")
    return f"{head} VALUES {', '.join([values] * rows)}"


@lru_cache(maxsize=256)
def _in_text(sql: str, ids: int) -> str:
    return f"{sql} IN ({', '.join('?' * ids)})"


def most_rows(conn: sqlite3.Connection, width: int) -> int:
    """The most rows of ``width`` parameters one statement may carry on ``conn``: a power of
    two, at most ``MAX_ROWS`` (SQLite before 3.32 allows 999 parameters, later 32,766)."""
    fits = max(1, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // max(1, width))
    most = MAX_ROWS
    while most > fits:
        most //= 2
    return most


def insert_rows(conn: sqlite3.Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """``conn.executemany(sql, rows)`` for an ``INSERT ... VALUES (?, ...)`` of one row, in as
    few statements as :func:`chunk_sizes` says, the rows in their order."""
    if not rows:
        return
    start = 0
    for size in chunk_sizes(len(rows), most_rows(conn, len(rows[0]))):
        conn.execute(_values_text(sql, size),
                     [value for row in rows[start:start + size] for value in row])
        start += size


def update_ids(conn: sqlite3.Connection, sql: str, values: Sequence[Any],
               ids: Sequence[int]) -> None:
    """``sql`` (an ``UPDATE ... WHERE ... id``, its ``IN (...)`` added here) with ``values``
    for its placeholders, for every id of ``ids``."""
    start = 0
    for size in chunk_sizes(len(ids), most_rows(conn, 1 + len(values))):
        conn.execute(_in_text(sql, size), [*values, *ids[start:start + size]])
        start += size


__all__ = ["MAX_ROWS", "chunk_sizes", "insert_rows", "most_rows", "update_ids"]
