"""Logins, sub-accounts, passwords, allowed addresses, bind types, lockout and the order of bind
refusals."""

from __future__ import annotations

import pytest

from smsc.pdu.constants import CommandStatus
from smsc.routing.accounts import (
    PASSWORD_ALPHABET,
    address_allowed,
    bind_status,
    bind_type_allowed,
    check_cidrs,
    check_parent,
    check_password,
    check_sub_account_credit,
    check_system_id,
    dummy_verify,
    hash_password,
    lock_in_force,
    needs_rehash,
    new_password,
    sub_account_currency,
    verify_password,
)
from smsc.store.records import Account, BindLocks, BindType, LockKind, LockState

STORED = hash_password("secret12")


def test_hash_format_and_verification() -> None:
    kind, n, r, p, salt, digest = STORED.split("$")
    assert (kind, n, r, p) == ("scrypt", "2048", "8", "1")
    assert salt and digest
    assert verify_password("secret12", STORED)
    assert not verify_password("secret13", STORED)
    assert not verify_password("", STORED)
    assert hash_password("secret12") != STORED  # a fresh salt every time


def test_unicode_and_long_passwords() -> None:
    stored = hash_password("пароль")
    assert verify_password("пароль", stored)
    assert not verify_password("x" * 5000, stored)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "plain",
        "scrypt$2048$8$1$c2FsdA",
        "bcrypt$2048$8$1$c2FsdA$" + "A" * 43,
        "scrypt$2047$8$1$c2FsdA$" + "A" * 43,  # n not a power of two
        "scrypt$1048576$8$1$c2FsdA$" + "A" * 43,  # n too costly
        "scrypt$2048$99$1$c2FsdA$" + "A" * 43,
        "scrypt$2048$8$1$$" + "A" * 43,  # no salt
        "scrypt$2048$8$1$c2FsdA$AAAA",  # short hash
        "scrypt$2048$8$1$c2F!dA$" + "A" * 43,  # not base64
        "scrypt$x$8$1$c2FsdA$" + "A" * 43,
    ],
)
def test_malformed_hashes_match_nothing(bad: str) -> None:
    assert not verify_password("secret12", bad)
    assert needs_rehash(bad)


def test_rehash_when_cheaper_than_wanted() -> None:
    assert not needs_rehash(STORED)
    assert needs_rehash(STORED, n=4096)
    assert not needs_rehash(hash_password("x", n=4096))


def test_bad_hash_parameters() -> None:
    with pytest.raises(ValueError, match="scrypt parameters"):
        hash_password("x", n=1000)


def test_dummy_verify() -> None:
    assert dummy_verify("anything") is False


def test_addresses() -> None:
    account = Account(
        system_id="a", password_hash="", allowed_ips=("10.0.0.0/8", "192.168.1.7", "2001:db8::/32")
    )
    assert address_allowed(account, "10.1.2.3")
    assert address_allowed(account, "192.168.1.7")
    assert not address_allowed(account, "192.168.1.8")
    assert address_allowed(account, "2001:db8::1")
    assert not address_allowed(account, "2001:db9::1")
    assert address_allowed(account, "::ffff:10.0.0.1")  # IPv4-mapped IPv6
    assert not address_allowed(account, "not an address")
    assert not address_allowed(account, "")
    anyone = Account(system_id="b", password_hash="")
    assert address_allowed(anyone, "203.0.113.9")


def test_bad_stored_blocks_match_nothing() -> None:
    account = Account(system_id="a", password_hash="", allowed_ips=("nonsense", "10.0.0.0/8"))
    assert address_allowed(account, "10.0.0.1")
    assert not address_allowed(account, "11.0.0.1")


def test_check_cidrs() -> None:
    assert check_cidrs(["10.0.0.0/8", " 192.168.1.7 ", "2001:DB8::/32"]) == (
        "10.0.0.0/8",
        "192.168.1.7/32",
        "2001:db8::/32",
    )
    with pytest.raises(ValueError, match="not a CIDR block"):
        check_cidrs(["10.0.0.1/8"])  # host bits set
    with pytest.raises(ValueError, match="not a CIDR block"):
        check_cidrs(["example.com"])


def test_bind_types() -> None:
    account = Account(system_id="a", password_hash="", bind_types=frozenset({BindType.RECEIVER}))
    assert bind_type_allowed(account, BindType.RECEIVER)
    assert not bind_type_allowed(account, BindType.TRANSCEIVER)


ACCOUNT = Account(
    system_id="acme",
    password_hash=STORED,
    allowed_ips=("10.0.0.0/8",),
    bind_types=frozenset({BindType.TRANSMITTER}),
)
OPEN = LockState()
LOCKED = LockState(failures=3, locked_until=100.0)


def status(
    account: Account | None = ACCOUNT,
    *,
    password: str = "secret12",
    address: str = "10.0.0.1",
    bind_type: BindType = BindType.TRANSMITTER,
    account_lock: LockState = OPEN,
    address_lock: LockState = OPEN,
    pair_lock: LockState = OPEN,
) -> int:
    return bind_status(
        account,
        password=password,
        address=address,
        bind_type=bind_type,
        locks=BindLocks(account=account_lock, pair=pair_lock, address=address_lock),
        now=50.0,
    )


def test_bind_status_each_refusal() -> None:
    assert status() == CommandStatus.ESME_ROK
    assert status(None) == CommandStatus.ESME_RINVSYSID
    assert status(password="wrong") == CommandStatus.ESME_RINVPASWD
    assert status(address="11.0.0.1") == CommandStatus.ESME_RBINDFAIL
    assert status(bind_type=BindType.RECEIVER) == CommandStatus.ESME_RBINDFAIL
    disabled = Account(system_id="acme", password_hash=STORED, enabled=False)
    assert status(disabled) == CommandStatus.SMSC_RACCOUNTDISABLED
    assert status(account_lock=LOCKED) == CommandStatus.ESME_RBINDFAIL
    assert status(address_lock=LOCKED) == CommandStatus.ESME_RBINDFAIL
    assert status(pair_lock=LOCKED) == CommandStatus.ESME_RBINDFAIL


def test_which_lock_refuses_first() -> None:
    every = BindLocks(account=LOCKED, pair=LOCKED, address=LOCKED)
    assert lock_in_force(ACCOUNT, every, 50.0) == LockKind.ADDRESS
    assert lock_in_force(None, every, 50.0) == LockKind.ADDRESS
    assert lock_in_force(ACCOUNT, BindLocks(account=LOCKED, pair=LOCKED), 50.0) == LockKind.ACCOUNT
    assert lock_in_force(ACCOUNT, BindLocks(pair=LOCKED), 50.0) == LockKind.PAIR
    # An unknown system_id has no account or pair to be locked.
    assert lock_in_force(None, BindLocks(account=LOCKED, pair=LOCKED), 50.0) is None
    assert lock_in_force(ACCOUNT, BindLocks(pair=LOCKED), 100.0) is None


def test_locked_binds_do_not_reveal_the_password() -> None:
    right = status(account_lock=LOCKED)
    wrong = status(password="wrong", account_lock=LOCKED)
    assert right == wrong == CommandStatus.ESME_RBINDFAIL
    assert status(pair_lock=LOCKED) == status(password="wrong", pair_lock=LOCKED)
    assert status(None, address_lock=LOCKED) == CommandStatus.ESME_RBINDFAIL
    # An expired lock no longer counts.
    assert status(account_lock=LockState(failures=3, locked_until=50.0)) == CommandStatus.ESME_ROK


def test_disabled_account_needs_the_password_to_find_out() -> None:
    disabled = Account(system_id="acme", password_hash=STORED, enabled=False)
    assert status(disabled, password="wrong") == CommandStatus.ESME_RINVPASWD


# --- logins and sub-accounts --------------------------------------------------------------------


@pytest.mark.parametrize("system_id", ["a", "acme-eu_2", "x" * 15, "ünï", "a.b@c"])
def test_system_ids_that_can_log_in(system_id: str) -> None:
    assert check_system_id(system_id) == system_id


@pytest.mark.parametrize("system_id", ["", "x" * 16, "ac me", "acme\n", "a\x00b", "\t"])
def test_system_ids_that_cannot(system_id: str) -> None:
    with pytest.raises(ValueError, match=r"^must be 1 to 15 printable characters without "
                                         r"spaces \(SMPP system_id\)$"):
        check_system_id(system_id)


def test_passwords_are_1_to_8_characters() -> None:
    for password in ("p", "s3cret", "12345678", "-dash"):
        assert check_password(password) == password
    for password in ("", "123456789"):
        with pytest.raises(ValueError, match=r"^must be 1 to 8 characters \(SMPP password\)$"):
            check_password(password)


def test_generated_passwords_are_8_letters_and_digits() -> None:
    seen = {new_password() for _ in range(200)}
    assert len(seen) == 200  # random
    for password in seen:
        assert check_password(password) == password
        assert len(password) == 8 and set(password) <= set(PASSWORD_ALPHABET)
        assert password.isascii() and password.isalnum()
    assert not set("-_lIO01") & set(PASSWORD_ALPHABET)


def test_sub_account_rules() -> None:
    parent = Account(system_id="acme", password_hash=STORED, currency="UAH")
    sub = Account(system_id="acme-eu", password_hash=STORED, parent="acme", currency="UAH")
    assert check_parent(parent) is parent
    with pytest.raises(ValueError, match=r"^acme-eu is itself a sub-account$"):
        check_parent(sub)
    for asked in (None, "", "UAH", "uah"):
        assert sub_account_currency(parent, asked) == "UAH"
    with pytest.raises(ValueError, match=r"^a sub-account uses its parent's currency UAH$"):
        sub_account_currency(parent, "EUR")
    check_sub_account_credit(0)
    with pytest.raises(ValueError, match="draws on its parent's credit; top up the parent"):
        check_sub_account_credit(1)
