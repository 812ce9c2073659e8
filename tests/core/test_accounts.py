"""smsc.core.accounts without Twisted: the rules of removing an account, the test account."""

from __future__ import annotations

import pytest

from smsc.core.accounts import CreditLeft, HasSubAccounts, check_removal, ensure_test_account
from smsc.store.memory import MemoryStore
from smsc.store.records import Account, Bucket

T0 = 1_750_000_000.0


def _store() -> MemoryStore:
    store = MemoryStore()
    store.create_account(Account(system_id="acme", password_hash="x", created_at=T0))
    store.create_account(Account(system_id="acme-eu", password_hash="x", parent="acme",
                                 created_at=T0))
    return store


def test_an_account_with_sub_accounts_is_not_removed() -> None:
    store = _store()
    acme = store.get_account("acme")
    assert acme is not None
    with pytest.raises(HasSubAccounts) as e:
        check_removal(store, acme, T0, force=True)
    assert e.value.subs == ["acme-eu"]


def test_credit_left_stops_a_removal_unless_forced() -> None:
    store = _store()
    store.delete_account("acme-eu", now=T0)
    store.credit("acme", 500, Bucket.BOUGHT, T0, note="top-up")
    acme = store.get_account("acme")
    assert acme is not None
    with pytest.raises(CreditLeft) as e:
        check_removal(store, acme, T0, force=False)
    assert e.value.amount == 500
    check_removal(store, acme, T0, force=True)


def test_a_sub_account_draws_on_its_parent_and_is_removed_freely() -> None:
    store = _store()
    store.credit("acme", 500, Bucket.BOUGHT, T0, note="top-up")
    sub = store.get_account("acme-eu")
    assert sub is not None
    check_removal(store, sub, T0, force=False)


def test_a_test_account_another_node_made_meanwhile_is_taken_as_it_is() -> None:
    """Nodes starting at once on one database race to create the test account: the loser
    finds it (no error, no second bonus, no password to print)."""
    class Racing(MemoryStore):
        def get_account(self, system_id: str) -> Account | None:
            found = super().get_account(system_id)
            if found is None and not getattr(self, "raced", False):
                self.raced = True  # another node creates it between the read and the write
                ensure_test_account(self, system_id=system_id, password="first", credit=500,
                                    currency="EUR", throughput=0.0, now=1.0)
                return None
            return found

    store = Racing()
    account, password = ensure_test_account(store, system_id="smsctest", password="", credit=500,
                                            currency="EUR", throughput=0.0, now=2.0)
    assert password is None and account.created_at == 1.0
    assert store.balance("smsctest", 2.0).bought == 500
