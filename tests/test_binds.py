"""smsc.core.binds without Twisted: which failures count toward which lock, in the three steps."""

from __future__ import annotations

import pytest

from smsc.core.binds import (
    BindDesk,
    BindVerdict,
    LockPolicy,
    admit,
    canonical_address,
    unlock_command,
)
from smsc.pdu.constants import CommandStatus
from smsc.routing.accounts import hash_password, password_matches
from smsc.store.memory import MemoryStore
from smsc.store.records import Account, BindType, LockKind, LockScope

S = CommandStatus
NOW = 1_700_000_000.0
HASH = hash_password("pw", n=16, r=1, p=1)
TRX = BindType.TRANSCEIVER


@pytest.fixture
def desk() -> BindDesk:
    store = MemoryStore()
    for account in (Account(system_id="acme", password_hash=HASH, max_binds=2),
                    Account(system_id="smsctest", password_hash=HASH, test_account=True),
                    Account(system_id="own", password_hash=HASH, lock_after=1, test_account=True),
                    Account(system_id="wide", password_hash=HASH, lock_scope=LockScope.ACCOUNT)):
        store.create_account(account)
    return BindDesk(store, LockPolicy(lock_after=3, lock_for=60.0, unknown_id_lock_after=4))


def bind(desk: BindDesk, system_id: str, password: str, address: str, now: float = NOW) -> int:
    return desk.authenticate(system_id, password, TRX, address, now).status


def test_the_steps_apart_decide_as_one_call(desk: BindDesk) -> None:
    check = desk.check("acme", "10.0.0.1", NOW)
    assert check.refused is None and check.account is not None
    assert desk.finish(check, password_matches(check.account, "pw"), TRX, NOW).status == S.ESME_ROK
    assert desk.finish(check, False, TRX, NOW).status == S.ESME_RINVPASWD


def test_wrong_passwords_lock_the_pair_only(desk: BindDesk) -> None:
    for _ in range(3):
        assert bind(desk, "acme", "x", "10.0.0.2") == S.ESME_RINVPASWD
    assert bind(desk, "acme", "pw", "10.0.0.2") == S.ESME_RBINDFAIL
    assert desk.check("acme", "10.0.0.2", NOW).refused is not None
    assert bind(desk, "acme", "pw", "10.0.0.1") == S.ESME_ROK
    assert bind(desk, "acme", "pw", "10.0.0.2", NOW + 61) == S.ESME_ROK


def test_an_ipv4_mapped_peer_is_the_same_address(desk: BindDesk) -> None:
    for _ in range(2):
        bind(desk, "acme", "x", "::ffff:10.0.0.2")
    bind(desk, "acme", "x", "10.0.0.2")
    assert bind(desk, "acme", "pw", "::ffff:10.0.0.2") == S.ESME_RBINDFAIL
    assert canonical_address("2001:DB8:0:0::1") == "2001:db8::1"
    assert canonical_address("not an address") == "not an address"


def test_unknown_ids_count_per_address_and_a_success_resets(desk: BindDesk) -> None:
    for n in range(3):
        assert bind(desk, f"ghost{n}", "x", "10.0.0.3") == S.ESME_RINVSYSID
    assert bind(desk, "acme", "pw", "10.0.0.3") == S.ESME_ROK  # resets the count
    for n in range(4):
        assert bind(desk, f"ghost{n}", "x", "10.0.0.3") == S.ESME_RINVSYSID
    verdict = desk.authenticate("acme", "pw", TRX, "10.0.0.3", NOW)
    assert verdict.status == S.ESME_RBINDFAIL
    assert "address 10.0.0.3 is locked" in verdict.reason
    assert "`smsc account unlock --address 10.0.0.3`" in verdict.reason
    assert bind(desk, "acme", "pw", "10.0.0.4") == S.ESME_ROK


def test_who_locks_after_how_many(desk: BindDesk) -> None:
    policy = desk.policy
    store = desk.store
    accounts = {a.system_id: a for a in store.list_accounts()}
    assert policy.lock_after_for(accounts["acme"]) == 3
    assert policy.lock_after_for(accounts["smsctest"]) == 0  # the test account: never
    assert policy.lock_after_for(accounts["own"]) == 1  # its own setting wins
    for _ in range(30):
        assert bind(desk, "smsctest", "x", "10.0.0.5") == S.ESME_RINVPASWD
    assert bind(desk, "smsctest", "pw", "10.0.0.5") == S.ESME_ROK
    assert bind(desk, "own", "x", "10.0.0.5") == S.ESME_RINVPASWD
    assert bind(desk, "own", "pw", "10.0.0.5") == S.ESME_RBINDFAIL


def test_an_account_wide_lock_only_where_the_account_asks(desk: BindDesk) -> None:
    for n in range(3):
        bind(desk, "wide", "x", f"10.0.1.{n}")
        bind(desk, "acme", "x", f"10.0.1.{n}")
    assert bind(desk, "wide", "pw", "10.0.9.9") == S.ESME_RBINDFAIL
    assert bind(desk, "acme", "pw", "10.0.9.9") == S.ESME_ROK
    reason = desk.authenticate("wide", "pw", TRX, "10.0.9.9", NOW).reason
    assert "account 'wide' is locked (from every address)" in reason
    assert "`smsc account unlock wide`" in reason


def test_the_reason_says_when_a_failure_sets_a_lock(desk: BindDesk) -> None:
    reasons = [desk.authenticate("acme", "x", TRX, "10.0.0.6", NOW).reason for _ in range(3)]
    assert reasons[0] == "ESME_RINVPASWD (wrong password 1 of 3 in a row)"
    assert reasons[2].startswith("ESME_RINVPASWD (wrong password 3 of 3 in a row); now account "
                                 "'acme' from 10.0.0.6 is locked (after wrong passwords) until ")
    assert reasons[2].endswith("`smsc account unlock acme --address 10.0.0.6`")


def test_purge_forgets_old_counts(desk: BindDesk) -> None:
    bind(desk, "acme", "x", "10.0.0.7")
    bind(desk, "ghost", "x", "10.0.0.8", NOW + 50)
    assert desk.purge(NOW + 61) == 1
    assert [f.address for f in desk.store.locks(NOW + 61)] == ["10.0.0.8"]


def test_unlock_commands_quote_odd_system_ids() -> None:
    assert unlock_command(LockKind.ACCOUNT, "a b", "") == "smsc account unlock 'a b'"
    assert unlock_command(LockKind.PAIR, "acme", "::1") == "smsc account unlock acme --address ::1"


def test_an_account_binds_at_most_max_binds_times(desk: BindDesk) -> None:
    for open_binds in (0, 1):
        verdict = desk.authenticate("acme", "pw", TRX, "10.0.2.1", NOW, open_binds=open_binds)
        assert verdict.status == S.ESME_ROK and verdict.account is not None
    full = desk.authenticate("acme", "pw", TRX, "10.0.2.1", NOW, open_binds=2)
    assert full.status == S.ESME_RBINDFAIL
    assert full.reason == "2 binds open already (the account's max_binds is 2)"
    assert full.account is not None and full.account.system_id == "acme"
    # A refusal for max_binds counts toward no lock, and the password still comes first.
    for _ in range(5):
        assert desk.authenticate("acme", "pw", TRX, "10.0.2.1", NOW, open_binds=9).status \
            == S.ESME_RBINDFAIL
    assert desk.check("acme", "10.0.2.1", NOW).locks.failures == 0
    assert desk.authenticate("acme", "x", TRX, "10.0.2.1", NOW, open_binds=9).status \
        == S.ESME_RINVPASWD


def test_admit_leaves_every_refusal_as_it_is() -> None:
    account = Account(system_id="acme", password_hash=HASH, max_binds=1)
    for verdict in (BindVerdict(status=S.ESME_RINVPASWD),
                    BindVerdict(status=S.ESME_RBINDFAIL, reason="locked", logged=True),
                    BindVerdict(status=S.SMSC_RACCOUNTDISABLED, account=account)):
        assert admit(verdict, 5) is verdict
    ok = BindVerdict(status=S.ESME_ROK, account=account)
    assert admit(ok, 0) is ok
    assert admit(ok, 1).status == S.ESME_RBINDFAIL
