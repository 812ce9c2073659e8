"""``smsc blacklist``: numbers and prefixes, global and per account, and file imports."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from smsc.store.records import BlacklistEntry
from smsc.store.sqlite import SqliteStore
from tests.cli.conftest import Cli


def entries(cli: Cli, account: str | None = None) -> set[tuple[str, str, bool]]:
    return {(e.number, e.account, e.prefix) for e in cli.store().blacklist(account)}


def test_add_list_and_rm(cli: Cli) -> None:
    cli("account", "add", "acme", "--password", "p")
    assert "2 added to the global blacklist" in cli(
        "blacklist", "add", "380671234567", "38050*", "--note", "stop"
    )
    cli("blacklist", "add", "+380 63 111 2233", "--account", "acme")
    assert "already there" in cli("blacklist", "add", "380671234567")
    assert entries(cli) == {
        ("380671234567", "", False),
        ("38050", "", True),
        ("380631112233", "acme", False),
    }
    rows = cli.json("blacklist", "list", "--account", "acme")
    assert rows == [{"number": "380631112233", "account": "acme", "prefix": False, "note": ""}]
    assert "38050*" in cli("blacklist", "list")
    cli("blacklist", "rm", "38050*")
    out = cli.fails("blacklist", "rm", "380671234567", "999", says="not in the global blacklist")
    assert "1 removed" in out
    cli("blacklist", "rm", "380631112233", "--account", "acme")
    assert entries(cli) == set()
    assert "empty" in cli("blacklist", "list")


def test_bad_entries(cli: Cli) -> None:
    cli.fails("blacklist", "add", "38067x", code=2, says="not a number or a prefix")
    cli.fails("blacklist", "add", "*", code=2, says="no digits")
    cli.fails("blacklist", "add", "1234567890123456", code=2, says="more than 15 digits")
    cli.fails("blacklist", "add", "380", "--account", "nobody", says="no account")
    cli.fails("blacklist", "rm", "38**", code=2)
    cli.fails("blacklist", "add", code=2)


def test_import_reads_comments_prefixes_and_spaces(cli: Cli, tmp_path: Path) -> None:
    file = tmp_path / "list.txt"
    file.write_text(
        "# opt-outs\n380671234567\n\n  +380 50 111 2233  \n38094*   # a range\n380671234567\n"
    )
    out = cli("blacklist", "import", str(file), "--note", "web")
    assert "4 entries read, 3 new in the global blacklist" in out
    assert entries(cli) == {
        ("380671234567", "", False),
        ("380501112233", "", False),
        ("38094", "", True),
    }
    assert {e.note for e in cli.store().blacklist()} == {"web"}


def test_an_invalid_line_stops_the_import_unless_skipped(cli: Cli, tmp_path: Path) -> None:
    file = tmp_path / "list.txt"
    file.write_text("380671234567\nabc\n38050*\n" + "9" * 2000 + "\n")
    out = cli.fails("blacklist", "import", str(file), says="2 invalid line(s); nothing imported")
    assert f"{file}:2: 'abc' is not a number" in out
    assert f"{file}:4: longer than" in out
    assert entries(cli) == set()
    assert "2 invalid line(s) skipped" in cli("blacklist", "import", str(file), "--skip-invalid")
    assert len(entries(cli)) == 2
    cli.fails("blacklist", "import", str(tmp_path / "missing.txt"), code=2, says="does not exist")


def test_a_hundred_thousand_lines_go_in_one_store_call(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("account", "add", "acme", "--password", "p")
    file = tmp_path / "big.txt"
    file.write_text("# a big list\n" + "".join(f"38067{n:07d}\n" for n in range(100_000)))
    calls: list[int] = []
    original = SqliteStore.add_blacklist

    def counting(self: SqliteStore, batch: Sequence[BlacklistEntry]) -> int:
        calls.append(len(batch))
        return original(self, batch)

    monkeypatch.setattr(SqliteStore, "add_blacklist", counting)
    out = cli("blacklist", "import", str(file), "--account", "acme")
    assert "100000 entries read, 100000 new in the account acme blacklist" in out
    assert calls == [100_000]
    assert len(cli.store().blacklist("acme")) == 100_000
