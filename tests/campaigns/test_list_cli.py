"""``smsc list ...`` and ``smsc campaign preview`` on a real database, in-process."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.cli.conftest import Cli


def _setup(cli: Cli, tmp_path: Path) -> Path:
    cli("account", "add", "acme", "--password", "pw")
    cli("credit", "topup", "acme", "10")
    cli("list", "create", "spring", "--account", "acme", "--country", "UA")
    path = tmp_path / "c.csv"
    path.write_bytes("\ufeffName;Phone;City\n\"Smith; J\";067 123 45 67;Kyiv\n"
                     "Олена;+380501112233;\nBad;12;x\nAgain;380671234567;y\n".encode())
    return path


def test_create_import_show_export_rm(cli: Cli, tmp_path: Path) -> None:
    path = _setup(cli, tmp_path)
    out = cli("list", "import", "spring", str(path))
    assert "4 rows: 2 new, 1 duplicate, 1 invalid, 0 blacklisted" in out
    assert "line 4: invalid" in out
    assert "spring" in cli("list", "show") and "Name, City" in cli("list", "show")
    shown = cli.json("list", "show", "spring")
    assert shown["size"] == 2 and shown["columns"] == ["Name", "City"]
    assert shown["first"][1] == {"number": "380501112233", "Name": "Олена", "City": ""}
    exported = list(csv.reader(io.StringIO(cli("list", "export", "spring"))))
    assert exported == [["number", "Name", "City"], ["380671234567", "Smith; J", "Kyiv"],
                        ["380501112233", "Олена", ""]]
    target = tmp_path / "out.csv"
    assert "2 contacts written" in cli("list", "export", "spring", "--csv", str(target))
    again = cli.json("list", "import", "spring", str(target))
    assert (again["added"], again["duplicates"], again["size"]) == (0, 2, 2)
    assert "deleted (2 contacts)" in cli("list", "rm", "spring", "--yes")
    cli.fails("list", "show", "spring", says="no list 'spring'")


def test_mistakes_are_clear(cli: Cli, tmp_path: Path) -> None:
    path = _setup(cli, tmp_path)
    cli.fails("list", "create", "spring", "--account", "acme", says="has a list 'spring'")
    cli.fails("list", "create", "x", "--account", "ghost", says="no account 'ghost'")
    cli.fails("list", "create", "x", "--account", "acme", "--country", "ua", code=2,
              says="capitals")
    cli.fails("list", "import", "nope", str(path), says="no list 'nope'")
    cli.fails("list", "import", "spring", str(path), "--number-column", "cell",
              says="no column 'cell'")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"number\n380671234567\n\xff\xfe\n")
    cli.fails("list", "import", "spring", str(bad), says="not UTF-8")
    huge = tmp_path / "huge.csv"
    huge.write_text("number,name\n380671234599," + "x" * 1_000_100 + "\n")
    cli.fails("list", "import", "spring", str(huge), says="line 2 is longer than")
    cli("account", "add", "beta", "--password", "pw")
    cli("list", "create", "spring", "--account", "beta")
    cli.fails("list", "show", "spring", says="--account")
    assert cli.json("list", "show", "spring", "--account", "beta")["size"] == 0


def test_campaign_preview(cli: Cli, tmp_path: Path) -> None:
    path = _setup(cli, tmp_path)
    cli("list", "import", "spring", str(path))
    out = cli("campaign", "preview", "--list", "spring", "--text", "Hi {Name}, {City|friend}",
              "--from", "Shop")
    assert "2 contacts: 2 to send (2 parts)" in out and "enough credit" in out
    assert "Hi Smith; J, Kyiv" in out and "Hi Олена, friend" in out
    result = cli.json("campaign", "preview", "--list", "spring", "--text", "Hi {Name}",
                      "--from", "Shop")
    assert result["by_encoding"] == {"GSM": 1, "UCS2": 1} and result["enough_credit"]
    assert result["total_minor"] == sum(int(r["price"].replace(".", ""))
                                        for r in result["rows"])
    cli.fails("campaign", "preview", "--list", "spring", "--text", "Hi {surname}", "--from", "Shop",
              code=2,
              says="no column for {surname}")
    cli.fails("campaign", "preview", "--list", "spring", "--text", "Hi {Name", "--from", "Shop",
              code=2,
              says="never closed")
    cli.fails("campaign", "preview", "--list", "spring", "--text", "Hi", code=2,
              says="no default sender")
    every = tmp_path / "every.csv"
    cli("campaign", "preview", "--list", "spring", "--text", "Hi", "--from", "Shop",
        "--csv", str(every))
    rows = list(csv.DictReader(io.StringIO(every.read_text(encoding="utf-8"))))
    assert [r["outcome"] for r in rows] == ["ok", "ok"]


def test_campaign_create_start_pause_resume_cancel_show(cli: Cli, tmp_path: Path) -> None:
    path = _setup(cli, tmp_path)
    cli("list", "import", "spring", str(path))
    cli.fails("campaign", "create", "c", "--account", "acme", "--list", "spring", "--text",
              "Hi {surname}", says="surname")
    cli.fails("campaign", "create", "c", "--account", "acme", "--list", "spring", "--text",
              "Hi", "--window", "9-20", says="window")
    cli("campaign", "create", "c", "--account", "acme", "--list", "spring", "--text",
        "Hi {City}", "--from", "Shop", "--window", "09:00-20:00", "--validity", "24h",
        "--start", "2025-06-16T09:00+03:00")
    cli.fails("campaign", "start", "c", says="no value for {City}")
    cli("campaign", "create", "d", "--account", "acme", "--list", "spring", "--text",
        "Hi {City|there}", "--from", "Shop")
    assert "running" in cli("campaign", "start", "d")
    assert "paused" in cli("campaign", "pause", "d")
    cli.fails("campaign", "pause", "d", says="is paused")
    assert "running" in cli("campaign", "resume", "d")
    shown = cli.json("campaign", "show", "c")
    assert (shown["state"], shown["window"], shown["validity"]) == ("draft", "09:00-20:00",
                                                                  86400.0)
    assert shown["start_at"] == "2025-06-16T06:00:00Z"
    assert "cancelled" in cli("campaign", "cancel", "c")
    table = cli("campaign", "show")
    assert "cancelled" in table and "running" in table


def test_campaign_report_and_clean(cli: Cli, tmp_path: Path) -> None:
    from smsc.core.campaign_runner import CampaignRunner
    from smsc.store.records import MessageFilter
    from tests.campaigns.test_campaign_runner import _core

    cli("account", "add", "acme", "--password", "pw")
    cli("credit", "topup", "acme", "10")
    cli("list", "create", "l", "--account", "acme")
    path = tmp_path / "l.csv"
    path.write_text("number,name\n380671000001,A\n12025550123,B\n447700900123,C\n")
    cli("list", "import", "l", str(path))
    cli("list", "create", "dead", "--account", "acme")
    cli("campaign", "create", "c", "--account", "acme", "--list", "l", "--text", "Hi {name}",
        "--from", "Shop")
    assert "delivery rate - (nothing final yet)" in cli("campaign", "report", "c")
    cli("campaign", "start", "c")
    store = cli.store()
    (campaign,) = store.campaigns("acme")
    core = _core(store)
    now = campaign.created_at
    assert CampaignRunner(store).step(campaign.id, core.intake, now, 10).sent == 3
    for _ in range(500):
        now += 600
        core.due_round(now)
        if all(m.next_at is None for m in store.messages(MessageFilter(account="acme"))):
            break
    result = cli.json("campaign", "report", "c")
    assert result["marks"] == {"sent": 3} and sum(result["outcomes"].values()) == 3
    assert {"stat": "UNDELIV", "err": 1, "count": 1} in result["errors"]
    assert "delivery rate" in cli("campaign", "report", "c")
    rows = list(csv.DictReader(io.StringIO(cli("campaign", "report", "c", "--csv", "-"))))
    assert [r["number"] for r in rows] == ["12025550123", "380671000001", "447700900123"]
    assert rows[0]["stat"] == "REJECTD"
    assert "2 contacts would be" in cli("campaign", "clean", "c", "--dry-run")
    cli.fails("campaign", "clean", "c", "--move-to", "nope", says="no list 'nope'")
    assert "2 contacts taken out of their lists, 2 added to 'dead'" in cli(
        "campaign", "clean", "c", "--move-to", "dead")
    assert cli.json("list", "show", "l")["size"] == 1
    assert cli.json("list", "show", "dead")["size"] == 2
