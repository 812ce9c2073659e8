"""The CLI on PostgreSQL (``smsc --db postgresql://...``): the commands that read and write the
store, one after the other on one database, as an operator would run them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import postgres_db
from tests.cli.conftest import Cli, copy_conf

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_cli(tmp_path: Path) -> Iterator[Cli]:
    postgres_db.need_postgres()
    url = postgres_db.new_schema_url("smsc_cli")
    runner = Cli(db=url, config=copy_conf(tmp_path / "conf"))
    yield runner
    runner.close()


def test_accounts_credit_blacklist_keys_and_reports(pg_cli: Cli, tmp_path: Path) -> None:
    cli = pg_cli
    cli("account", "add", "acme", "--password", "s3cret", "--credit", "10")
    cli("account", "add", "acme-shop", "--password", "sh0p", "--parent", "acme")
    assert [a["system_id"] for a in cli.json("account", "list")] == ["acme", "acme-shop"]
    cli("account", "set", "acme", "--throughput", "25")
    assert cli.json("account", "show", "acme")["throughput"] == 25
    cli("credit", "topup", "acme", "5")
    cli("credit", "adjust", "acme", "-2.50", "--note", "a correction")
    shown = cli("credit", "show", "acme")
    assert "12.50 EUR" in shown and "adding up to 12.50 EUR = the balance" in shown
    assert len(cli.json("credit", "ledger", "acme")) == 3
    cli("account", "lock", "acme", "--for", "1h")
    assert "acme" in cli("account", "locks")
    cli("account", "unlock", "acme")
    cli("blacklist", "add", "380501234567", "38067*", "--note", "complaint")
    assert len(cli.json("blacklist", "list")) == 2
    cli("blacklist", "rm", "380501234567")
    assert [e["number"] for e in cli.json("blacklist", "list")] == ["38067*"]
    key = cli("apikey", "create", "acme")
    key_id = re.search(r"\b(smsc_[0-9a-f]{12})", key)
    assert key_id is not None and key_id.group(1) in cli("apikey", "list", "acme")
    cli("apikey", "revoke", "acme", key_id.group(1))
    cli("optout", "add", "--account", "acme", "380631234567")
    assert "380631234567" in cli("optout", "list", "--account", "acme")
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("number,name\n380931112233,Ann\n380931112244,Bob\n380931112233,Ann\n")
    cli("list", "create", "spring", "--account", "acme")
    cli("list", "import", "spring", str(contacts))
    shown_list = cli("list", "show", "spring")
    assert "2 contacts" in shown_list and "fields: name" in shown_list, shown_list
    cli("campaign", "create", "spring-sale", "--account", "acme", "--list", "spring",
        "--text", "Hi {name}", "--from", "Shop")
    assert "spring-sale" in cli("campaign", "show")
    assert cli.json("report", "summary") is not None
    cli("report", "messages", "--account", "acme")
    cli("webhook", "failed")
    cli("account", "rm", "acme-shop", "--yes")
    cli.fails("account", "show", "acme-shop", says="no account")


def test_an_unreachable_database_is_a_one_line_error(tmp_path: Path) -> None:
    cli = Cli(db="postgresql://127.0.0.1:1/nothing",
              config=copy_conf(tmp_path / "conf"))
    cli.fails("account", "list", says="postgresql://127.0.0.1:1/nothing")
