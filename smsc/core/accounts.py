"""Accounts: the rules of removing one (what ``smsc account rm`` enforces), and the integrators'
test account, created at start when it is missing. The rules of an account's settings (parent,
currency, password, sender IDs) are smsc.routing.accounts'."""

from __future__ import annotations

from smsc.core.hooks import new_webhook_secret
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
                      created_at=now, webhook_secret=new_webhook_secret())
    store.create_account(account)
    if credit:
        store.credit(system_id, credit, Bucket.BOUGHT, now, note="test account bonus")
    return account, password


class HasSubAccounts(ValueError):
    """An account with sub-accounts cannot be removed: they go first."""

    def __init__(self, system_id: str, subs: list[str]) -> None:
        super().__init__(f"{system_id} has sub-accounts ({', '.join(subs)}); remove them first")
        self.subs = subs


class CreditLeft(ValueError):
    """An account with credit left is removed only when forced (the credit is then closed to
    zero with a ledger row)."""

    def __init__(self, system_id: str, amount: int) -> None:
        super().__init__(f"account {system_id} has {amount} (minor units) credit left")
        self.amount = amount


def check_removal(store: Store, account: Account, now: float, *, force: bool) -> None:
    """Whether ``account`` may be removed: HasSubAccounts while it has sub-accounts; CreditLeft
    when it owns credit (a sub-account draws on its parent's) and ``force`` is not given."""
    subs = [a.system_id for a in store.list_accounts() if a.parent == account.system_id]
    if subs:
        raise HasSubAccounts(account.system_id, subs)
    if account.parent is None and not force:
        left = store.balance(account.system_id, now).available(now)
        if left:
            raise CreditLeft(account.system_id, left)
