"""Credit left in the database by an account removed before removals settled it."""

from __future__ import annotations

from pathlib import Path

from smsc.store.base import CLOSED_ACCOUNT_NOTE
from smsc.store.records import Account, Bucket
from smsc.store.sqlite import SqliteStore

NOW = 1_750_000_000.0


def test_a_new_account_does_not_inherit_a_balance_left_behind(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "smsc.sqlite")
    try:
        store.create_account(Account(system_id="acme", password_hash="h"))
        store.credit("acme", 900, Bucket.BOUGHT, NOW)
        with store._write() as conn:  # what `account rm` did before it settled the credit
            conn.execute("DELETE FROM accounts WHERE system_id = 'acme'")
        store.create_account(Account(system_id="acme", password_hash="h", created_at=NOW + 1))
        assert store.balance("acme", NOW + 2).available(NOW + 2) == 0
        last = store.ledger("acme")[-1]
        assert (last.amount, last.balance_after, last.at, last.note) == (
            -900, 0, NOW + 1, CLOSED_ACCOUNT_NOTE)
    finally:
        store.close()
