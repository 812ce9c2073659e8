"""Multi-row SQLite statements (smsc.store.sqlite_batch): the same rows, in the same order and
with the same consecutive rowids, as ``executemany``; updates of exactly the ids given; fewer
statements than rows."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsc.store.sqlite_batch import MAX_ROWS, chunk_sizes, insert_rows, most_rows, update_ids

INSERT = "INSERT INTO t (a, b, c) VALUES (?, ?, ?)"
ROWS = st.lists(st.tuples(st.integers(-(2**63), 2**63 - 1),
                          st.text(max_size=5), st.none() | st.binary(max_size=4)),
                max_size=300)


def _db() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b TEXT, c BLOB)")
    conn.execute("INSERT INTO t (a) VALUES (0)")  # ids start after an existing row
    return conn


@given(st.integers(0, 2_000), st.sampled_from([1, 2, 8, 64, MAX_ROWS]))
def test_chunks_add_up_fall_as_powers_of_two_and_respect_the_bound(count: int,
                                                                   most: int) -> None:
    sizes = chunk_sizes(count, most)
    assert sum(sizes) == count and sizes == sorted(sizes, reverse=True)
    assert all(s <= most and s & (s - 1) == 0 for s in sizes)
    assert len(set(sizes)) <= 8 and len(sizes) <= count // most + 7


@settings(max_examples=60)
@given(ROWS)
def test_insert_rows_stores_what_executemany_stores_with_the_same_ids(
        rows: list[tuple[int, str, bytes | None]]) -> None:
    mine, theirs = _db(), _db()
    insert_rows(mine, INSERT, rows)
    theirs.executemany(INSERT, rows)
    dump = "SELECT id, a, b, c FROM t ORDER BY id"
    assert mine.execute(dump).fetchall() == theirs.execute(dump).fetchall()
    last = "SELECT last_insert_rowid()"
    if rows:  # the callers count ids back from the last one
        assert mine.execute(last).fetchone() == theirs.execute(last).fetchone()


@settings(max_examples=60)
@given(st.sets(st.integers(1, 400), max_size=300))
def test_update_ids_changes_exactly_the_ids_given(ids: set[int]) -> None:
    conn = _db()
    conn.executemany("INSERT INTO t (id, a) VALUES (?, 0)", [(i,) for i in range(2, 401)])
    update_ids(conn, "UPDATE t SET a = ? WHERE id", (7,), sorted(ids))
    assert {r[0] for r in conn.execute("SELECT id FROM t WHERE a = 7")} == ids


def test_a_commit_of_many_rows_takes_few_statements() -> None:
    conn = _db()
    steps: list[str] = []
    conn.set_trace_callback(steps.append)
    insert_rows(conn, INSERT, [(n, "x", None) for n in range(45)])  # 32 + 8 + 4 + 1
    assert len(steps) == 4 and conn.execute("SELECT count(*) FROM t").fetchone() == (46,)


def test_the_bound_on_parameters_is_kept() -> None:
    conn = _db()
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)  # SQLite before 3.32
    assert most_rows(conn, 42) == 16 and most_rows(conn, 3) == MAX_ROWS
    insert_rows(conn, INSERT, [(n, "y", b"") for n in range(700)])
    assert conn.execute("SELECT count(*) FROM t WHERE b = 'y'").fetchone() == (700,)
    with pytest.raises(ValueError, match="not an INSERT"):
        insert_rows(conn, "UPDATE t SET a = ?", [(1,)])
