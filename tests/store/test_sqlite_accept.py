"""SQLite accept: the debit is written only over the balance the plan was made from."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from smsc.store.base import StoreError
from smsc.store.records import Account, Balance, Bucket
from smsc.store.sqlite import SqliteStore
from tests.store.test_acceptance import NOW, part


class _RacedStore(SqliteStore):
    """A store where another writer empties the balance right after accept has read it (what a
    weaker isolation than BEGIN IMMEDIATE, or a server database, would allow)."""

    raced = False

    def _current_balance(self, conn: sqlite3.Connection, owner: str, now: float) -> Balance:
        b = super()._current_balance(conn, owner, now)
        if self.raced:
            conn.execute("UPDATE balances SET bought = 0 WHERE owner = ?", (owner,))
        return b


def test_a_balance_changed_after_reading_fails_the_accept(tmp_path: Path) -> None:
    store = _RacedStore(tmp_path / "s.sqlite")
    try:
        store.create_account(Account(system_id="acme", password_hash="x"))
        store.credit("acme", 100, Bucket.BOUGHT, NOW)
        store.raced = True
        with pytest.raises(StoreError, match="changed while accepting"):
            store.accept([part(1, price=30)], NOW)
        store.raced = False
        assert store.balance("acme", NOW).bought == 100  # rolled back, nothing overdrawn
        assert store.get_messages(1) == []
        assert [e.amount for e in store.ledger("acme")] == [100]
        (outcome,) = store.accept([part(1, price=30)], NOW)  # unraced, the same batch fits
        assert outcome.status == 0 and store.balance("acme", NOW).bought == 70
    finally:
        store.close()
