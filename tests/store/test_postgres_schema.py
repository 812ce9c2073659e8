"""The PostgreSQL store's own promises beyond the contract: the schema is versioned, applied on
open, idempotent and safe when several nodes start at once against one empty database; a
connection the database ended is replaced."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from smsc.store.base import StoreError
from tests import postgres_db

pytestmark = pytest.mark.postgres


@pytest.fixture
def empty_schema() -> Iterator[str]:
    """The dsn of a schema without any table."""
    postgres_db.need_postgres()
    dsn, schema = postgres_db.new_schema_dsn("smsc_schema", fresh=True)
    yield dsn
    postgres_db.drop_schema(schema)


def _postgres_store(dsn: str) -> Any:
    from smsc.store.postgres import PostgresStore  # needs psycopg

    return PostgresStore(dsn)


def _versions(dsn: str) -> list[int]:
    pg = postgres_db.psycopg()
    with pg.connect(dsn) as conn:
        return [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")]


def test_the_schema_is_made_on_first_open_and_left_alone_after(empty_schema: str) -> None:
    from smsc.store.postgres_schema import SCHEMA_VERSION, STEPS

    first = _postgres_store(empty_schema)
    assert first.schema_applied == [v for v, _ in STEPS]
    first.set_meta("kept", "yes")
    first.close()
    again = _postgres_store(empty_schema)
    assert again.schema_applied == []
    assert again.get_meta("kept") == "yes"
    again.close()
    assert _versions(empty_schema) == list(range(1, SCHEMA_VERSION + 1))


def test_nodes_starting_at_once_make_the_schema_once(empty_schema: str) -> None:
    stores: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def open_one() -> None:
        try:
            start.wait(timeout=30)
            stores.append(_postgres_store(empty_schema))
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    from smsc.store.postgres_schema import STEPS

    assert sorted(len(s.schema_applied) for s in stores) == [0, 0, 0, len(STEPS)]
    ids = [s.reserve_ids(5) for s in stores]
    assert len(set(ids)) == 4  # one id counter, shared
    for s in stores:
        s.close()


def test_a_newer_schema_is_refused(empty_schema: str) -> None:
    _postgres_store(empty_schema).close()
    pg = postgres_db.psycopg()
    with pg.connect(empty_schema, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_version (version) VALUES (999)")
    with pytest.raises(StoreError, match="version 999, newer"):
        _postgres_store(empty_schema)


def test_a_broken_connection_is_replaced_on_the_next_call(empty_schema: str) -> None:
    """The database ended the store's session (a restart, a dropped network): the call that
    finds out fails, the next one runs on a new connection, and nothing committed is lost."""
    store = _postgres_store(empty_schema)
    try:
        store.set_meta("before", "kept")
        pg = postgres_db.psycopg()
        with pg.connect(empty_schema, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (store._conn.info.backend_pid,))
        with pytest.raises(pg.OperationalError):
            store.get_meta("before")
        assert store.get_meta("before") == "kept"
        store.set_meta("after", "written")
        assert store.get_meta("after") == "written"
    finally:
        store.close()


def test_a_later_step_upgrades_an_older_database_once(empty_schema: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A database at the current version opened by code with one more step: the step runs
    once, recorded with its version; the data written before is kept."""
    from smsc.store import postgres_schema

    older = _postgres_store(empty_schema)
    older.set_meta("written", "at the older version")
    older.close()
    current = postgres_schema.SCHEMA_VERSION
    step = (current + 1, ("ALTER TABLE meta ADD COLUMN note text NOT NULL DEFAULT ''",))
    monkeypatch.setattr(postgres_schema, "STEPS", (*postgres_schema.STEPS, step))
    monkeypatch.setattr(postgres_schema, "SCHEMA_VERSION", current + 1)
    newer = _postgres_store(empty_schema)
    assert newer.schema_applied == [current + 1]
    assert newer.get_meta("written") == "at the older version"
    newer.close()
    again = _postgres_store(empty_schema)
    assert again.schema_applied == []
    again.close()
    assert _versions(empty_schema) == list(range(1, current + 2))


def test_a_database_at_step_3_gains_the_page_indexes(empty_schema: str) -> None:
    """Step 4 adds messages_account and messages_reference to a database made at step 3; its
    messages are paged as before."""
    from dataclasses import replace

    from smsc.store import postgres_schema
    from tests.store.test_store_contract import NOW, funded, part

    store = _postgres_store(empty_schema)
    funded(store, bought=1_000)
    store.accept([part(1), replace(part(2), reference="r-2")], NOW)
    store.close()
    pg = postgres_db.psycopg()
    with pg.connect(empty_schema, autocommit=True) as conn:
        conn.execute("DROP INDEX messages_account")
        conn.execute("DROP INDEX messages_reference")
        conn.execute("DELETE FROM schema_version WHERE version = 4")
    upgraded = _postgres_store(empty_schema)
    try:
        assert upgraded.schema_applied == [4] == [postgres_schema.SCHEMA_VERSION]
        page = upgraded.message_page("acme", before=None, limit=10, scan=100)
        assert [e[0].message_id for e in page.messages] == [2, 1]
        found = upgraded.message_page("acme", before=None, limit=10, scan=100, reference="r-2")
        assert [e[0].message_id for e in found.messages] == [2]
    finally:
        upgraded.close()
    with pg.connect(empty_schema) as conn:
        indexes = {r[0] for r in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'messages' "
            "AND schemaname = current_schema()")}
    assert {"messages_account", "messages_reference"} <= indexes
