"""smsc.core.verified_logins: a login that matched is taken again without a hash while its
TTL runs and the account's password hash is the same; nothing else is."""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from smsc.core.verified_logins import VerifiedLogins
from smsc.store.records import Account

ACCOUNT = Account(system_id="acme", password_hash="scrypt$1")
T0 = 1_750_000_000.0


def test_a_match_is_held_for_its_ttl_and_that_password_only() -> None:
    logins = VerifiedLogins(ttl=60.0)
    assert not logins.holds(ACCOUNT, "pw", T0)
    logins.remember(ACCOUNT, "pw", T0)
    assert logins.holds(ACCOUNT, "pw", T0 + 59.9)
    assert not logins.holds(ACCOUNT, "pw2", T0)
    assert not logins.holds(dataclasses.replace(ACCOUNT, system_id="other"), "pw", T0)
    assert not logins.holds(None, "pw", T0)
    assert not logins.holds(ACCOUNT, "pw", T0 + 60.0)  # run out, and forgotten
    assert len(logins) == 0


def test_a_new_password_hash_misses() -> None:
    logins = VerifiedLogins()
    logins.remember(ACCOUNT, "pw", T0)
    assert not logins.holds(dataclasses.replace(ACCOUNT, password_hash="scrypt$2"), "pw", T0)
    assert not logins.holds(ACCOUNT, "pw", T0)  # forgotten with the miss


@given(st.lists(st.text(max_size=8), min_size=1, max_size=40))
def test_at_most_size_logins_are_kept_the_newest(passwords: list[str]) -> None:
    logins = VerifiedLogins(size=5)
    for password in passwords:
        logins.remember(ACCOUNT, password, T0)
    assert len(logins) <= 5
    assert logins.holds(ACCOUNT, passwords[-1], T0)


def test_no_password_is_kept_in_clear() -> None:
    logins = VerifiedLogins()
    logins.remember(ACCOUNT, "correct horse", T0)
    assert "correct horse" not in repr(vars(logins)) and b"correct horse" not in repr(
        vars(logins)).encode()
