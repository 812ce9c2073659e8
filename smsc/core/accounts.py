"""Accounts: the integrators' test account, created at start when it is missing."""

from __future__ import annotations

from smsc.routing.accounts import hash_password, new_password
from smsc.store.base import Store
from smsc.store.records import Account, Bucket

TEST_PASSWORD_META = "test_account_password"  # where earlier versions kept it in clear


def ensure_test_account(store: Store, *, system_id: str, password: str, credit: int,
                        currency: str, throughput: float, now: float) -> tuple[Account, str | None]:
    """Create the integrators' test account if it is missing, with its bonus credit; returns the
    account and, when it was just created, its password (to print once: like every password it
    is stored only as a hash; ``smsc account passwd`` prints a new one)."""
    existing = store.get_account(system_id)
    if existing is not None:
        if store.get_meta(f"{TEST_PASSWORD_META}:{system_id}"):
            store.set_meta(f"{TEST_PASSWORD_META}:{system_id}", "")  # kept in clear before
        return existing, None
    password = password or new_password()
    account = Account(system_id=system_id, password_hash=hash_password(password),
                      currency=currency, throughput=throughput, test_account=True,
                      created_at=now)
    store.create_account(account)
    if credit:
        store.credit(system_id, credit, Bucket.BOUGHT, now, note="test account bonus")
    return account, password
