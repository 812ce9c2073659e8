"""A database made before contact lists and campaigns (schema 2) gets their tables when the store
opens it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from smsc.store.campaign_records import Campaign
from smsc.store.contact_records import Contact
from smsc.store.records import Account
from smsc.store.sqlite import SqliteStore
from smsc.store.sqlite_schema import SCHEMA_VERSION

NOW = 1_700_000_000.0


def test_a_schema_2_database_gets_the_contact_tables(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    store = SqliteStore(str(path))
    store.create_account(Account(system_id="acme", password_hash="h"))
    store.close()
    with sqlite3.connect(path) as conn:
        for table in ("contacts", "contact_lists", "opt_outs", "campaigns", "campaign_marks"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    conn.close()
    store = SqliteStore(str(path))
    try:
        made = store.create_contact_list("acme", "vip", now=NOW)
        assert store.add_contacts(made.id, [Contact(number="380671000001")]) == [True]
        assert store.opt_out("acme", "380671000001", NOW)
        assert store.create_campaign(Campaign(account="acme", name="c", lists=(made.id,),
                                              template="Hi"), NOW).id > 0
        assert store.get_account("acme") is not None
    finally:
        store.close()
    with sqlite3.connect(path) as conn:
        (version,) = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    conn.close()
    assert int(version) == SCHEMA_VERSION
