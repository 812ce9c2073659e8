"""``smsc credit``: top-ups of both kinds, the balance and a ledger that adds up to it."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

from smsc.store.records import Bucket
from tests.cli.conftest import Cli


def test_topup_bought_and_subscription(cli: Cli) -> None:
    cli("account", "add", "acme", "--password", "p", "--credit", "10")
    out = cli("credit", "topup", "acme", "5.50")
    assert "5.50 EUR bought credit added to acme; available now 15.50 EUR" in out
    cli("credit", "topup", "acme", "20", "--subscription", "--expires", "30d", "--note", "plan")
    info = cli.json("credit", "show", "acme")
    assert (info["bought"], info["subscription"], info["available"]) == (1550, 2000, 3550)
    assert info["ledger_rows"] == 3 and info["ledger_total"] == 3550 and info["ledger_matches"]
    expires = cli.store().balance("acme", time.time()).subscription_expires_at
    assert expires is not None and 29 * 86400 < expires - time.time() <= 30 * 86400
    cli("credit", "topup", "acme", "1", "--subscription", "--expires", "2099-01-01")
    assert "= the balance" in cli("credit", "show", "acme")


def test_a_sub_account_tops_up_its_parent(cli: Cli) -> None:
    cli("account", "add", "acme", "--password", "p")
    cli("account", "add", "acme-eu", "--parent", "acme", "--password", "p")
    assert "added to acme (parent of acme-eu)" in cli("credit", "topup", "acme-eu", "2")
    assert cli.json("credit", "show", "acme")["available"] == 200
    (row,) = cli.store().ledger("acme")
    assert row.account == "acme-eu" and row.bucket == Bucket.BOUGHT
    assert "draws on the credit of acme" in cli("credit", "show", "acme-eu")


def test_bad_topups(cli: Cli) -> None:
    cli("account", "add", "acme", "--password", "p")
    cli.fails("credit", "topup", "acme", "0", code=2, says="more than 0")
    cli.fails("credit", "topup", "acme", "0.001", code=2, says="fraction")
    cli.fails("credit", "topup", "acme", "ten", code=2, says="not a decimal amount")
    cli.fails("credit", "topup", "acme", "5", "--subscription", code=2, says="--expires")
    cli.fails("credit", "topup", "acme", "5", "--expires", "3d", code=2, says="--subscription")
    cli.fails(
        "credit",
        "topup",
        "acme",
        "5",
        "--subscription",
        "--expires",
        "2001-01-01",
        code=2,
        says="in the past",
    )
    cli.fails("credit", "topup", "nobody", "5", says="no account")
    # a negative amount is an amount, not an option: refused as such, pointing at adjust
    cli.fails("credit", "topup", "acme", "-10", code=2, says=["more than 0", "credit adjust"])


def test_adjust_corrects_credit_with_a_ledger_row(cli: Cli) -> None:
    cli("account", "add", "acme", "--password", "p", "--credit", "10")
    out = cli("credit", "adjust", "acme", "-2.50", "--note", "test traffic billed twice")
    assert "adjusted by -2.50 EUR; available now 7.50 EUR" in out
    cli("credit", "adjust", "acme", "1", "--note", "goodwill")
    rows = cli.json("credit", "ledger", "acme")
    assert [(r["kind"], r["amount"], r["balance_after"], r["note"]) for r in rows[1:]] == [
        ("adjust", "-2.50", "7.50", "test traffic billed twice"),
        ("adjust", "1.00", "8.50", "goodwill"),
    ]
    assert rows[0]["currency"] == "EUR"
    assert cli.json("credit", "show", "acme")["ledger_matches"]
    cli.fails("credit", "adjust", "acme", "-9", "--note", "x", says="cannot be reduced")
    cli.fails("credit", "adjust", "acme", "-1", code=2, says="--note")
    cli.fails("credit", "adjust", "acme", "0", "--note", "x", code=2, says="not be 0")
    cli.fails("credit", "adjust", "acme", "1", "--subscription", "--note", "x",
              says="no subscription period")
    assert "AMOUNT (EUR)" in cli("credit", "ledger", "acme")


def test_the_ledger_as_table_csv_and_json(cli: Cli, tmp_path: Path) -> None:
    cli("account", "add", "acme", "--password", "p", "--credit", "10")
    for amount in ("1", "2", "3"):
        cli("credit", "topup", "acme", amount)
    text = cli("credit", "ledger", "acme")
    assert "4 rows; the whole ledger adds up to 16.00 EUR" in text
    rows = cli.json("credit", "ledger", "acme", "--limit", "2")
    assert [r["amount"] for r in rows] == ["2.00", "3.00"]
    assert rows[-1]["balance_after"] == "16.00"
    assert cli.json("credit", "ledger", "acme", "--since", "2099-01-01") == []
    target = tmp_path / "ledger.csv"
    assert "4 ledger rows written" in cli("credit", "ledger", "acme", "--csv", str(target))
    table = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [r["kind"] for r in table] == ["topup"] * 4
    assert sum(float(r["amount"]) for r in table) == 16.0
    piped = list(csv.reader(io.StringIO(cli("credit", "ledger", "acme", "--csv", "-"))))
    assert piped[0][:3] == ["id", "at", "kind"] and len(piped) == 5
    cli.fails("credit", "ledger", "acme", "--since", "yesterday", code=2, says="duration ago")
    cli.fails(
        "credit",
        "ledger",
        "acme",
        "--csv",
        str(tmp_path / "no" / "dir.csv"),
        code=2,
        says="cannot write",
    )
