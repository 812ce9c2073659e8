"""Blacklist: scopes, exact numbers and prefixes, agreement with a brute-force reference."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsc.routing.blacklist import Blacklist
from smsc.store.records import Account, BlacklistEntry

GLOBAL_NUMBER = BlacklistEntry(number="380671234567")
GLOBAL_PREFIX = BlacklistEntry(number="38099", prefix=True)
ACME_NUMBER = BlacklistEntry(number="380501234567", account="acme")
ACME_PREFIX = BlacklistEntry(number="3806311", account="acme", prefix=True)
LIST = Blacklist([GLOBAL_NUMBER, GLOBAL_PREFIX, ACME_NUMBER, ACME_PREFIX])


def test_global_entries_apply_to_everyone() -> None:
    assert LIST.match("380671234567") is GLOBAL_NUMBER
    assert LIST.match("380671234567", "anyone") is GLOBAL_NUMBER
    assert LIST.match("380991111111", "anyone") is GLOBAL_PREFIX
    assert LIST.match("380671234568", "anyone") is None


def test_account_entries_apply_to_the_account_and_its_sub_accounts() -> None:
    assert LIST.match("380501234567", "acme") is ACME_NUMBER
    assert LIST.match("380501234567", "acme-sub", "acme") is ACME_NUMBER
    assert LIST.match("380501234567", "other") is None
    assert LIST.match("380501234567") is None
    assert LIST.match("380631199999", "acme") is ACME_PREFIX
    assert LIST.match("380631299999", "acme") is None


def test_a_prefix_entry_does_not_match_shorter_numbers_and_exact_is_exact() -> None:
    assert LIST.match("3809", "acme") is None
    assert LIST.match("3806712345678") is None
    assert LIST.match("38099") is GLOBAL_PREFIX


def test_blocks_takes_an_account() -> None:
    sub = Account(system_id="acme-sub", password_hash="", parent="acme")
    assert LIST.blocks("380501234567", sub) is ACME_NUMBER
    assert LIST.blocks("380501234567", None) is None
    assert LIST.blocks("380671234567", None) is GLOBAL_NUMBER


def test_duplicates_count_once_and_bad_numbers_are_refused() -> None:
    assert len(Blacklist([GLOBAL_NUMBER, GLOBAL_NUMBER, ACME_NUMBER])) == 2
    with pytest.raises(ValueError, match="digits"):
        Blacklist([BlacklistEntry(number="+380")])
    with pytest.raises(ValueError, match="digits"):
        Blacklist([BlacklistEntry(number="")])


def test_the_same_number_in_several_scopes() -> None:
    entries = [
        BlacklistEntry(number="111", account="b"),
        BlacklistEntry(number="111"),
        BlacklistEntry(number="111", account="a"),
    ]
    blacklist = Blacklist(entries)
    assert len(blacklist) == 3
    assert blacklist.match("111", "a") == BlacklistEntry(number="111")  # the global one first
    assert blacklist.match("111", "zzz") == BlacklistEntry(number="111")


entries_strategy = st.lists(
    st.builds(
        BlacklistEntry,
        number=st.text(alphabet="012", min_size=1, max_size=6),
        account=st.sampled_from(["", "a", "b", "p"]),
        prefix=st.booleans(),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(
    entries=entries_strategy,
    lookups=st.lists(
        st.tuples(
            st.text(alphabet="012", min_size=1, max_size=8),
            st.sampled_from(["", "a", "b", "c"]),
            st.sampled_from(["", "p"]),
        ),
        min_size=1,
        max_size=30,
    ),
)
def test_agrees_with_brute_force(
    entries: list[BlacklistEntry], lookups: list[tuple[str, str, str]]
) -> None:
    blacklist = Blacklist(entries)
    for number, account, parent in lookups:
        applicable = [
            e
            for e in entries
            if (not e.account or e.account in (account, parent))
            and (number.startswith(e.number) if e.prefix else number == e.number)
        ]
        found = blacklist.match(number, account, parent)
        assert (found is not None) == bool(applicable)
        if found is not None:
            assert found in applicable
            if any(not e.prefix for e in applicable):
                assert not found.prefix  # exact entries first
            else:
                assert len(found.number) == max(len(e.number) for e in applicable)
