"""Outcome rule precedence: the most specific rule wins, by the documented levels."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsc.operators.outcome_rules import OutcomeRule, OutcomeRules
from smsc.operators.profile import Outcome, OutcomeMix
from smsc.pdu.constants import MessageState

MIX = OutcomeMix.only(Outcome(state=MessageState.DELIVERED))

# One rule per level, named by the level number of the documentation.
LEVELS = {
    1: ("acme", "kyivstar", "38067"),
    2: ("acme", "", "38067"),
    3: ("acme", "kyivstar", ""),
    4: ("acme", "", ""),
    5: ("", "kyivstar", "38067"),
    6: ("", "", "38067"),
    7: ("", "kyivstar", ""),
    8: ("", "", ""),
}


def rule(account: str, operator: str, prefix: str, err: int = 0) -> OutcomeRule:
    outcome = Outcome(state=MessageState.UNDELIVERABLE, err=err)
    return OutcomeRule(
        account=account, operator=operator, prefix=prefix, mix=OutcomeMix.only(outcome)
    )


def level_of(found: OutcomeRule | None) -> int | None:
    return None if found is None else found.mix.entries[0][1].err


@pytest.mark.parametrize("present", range(1, 9))
def test_each_level_beats_every_level_below_it(present: int) -> None:
    rules = OutcomeRules(rule(*LEVELS[n], err=n) for n in range(present, 9))
    assert level_of(rules.find("acme", "kyivstar", "380671234567")) == present


def test_levels_that_do_not_match_are_skipped() -> None:
    rules = OutcomeRules(rule(*scope, err=n) for n, scope in LEVELS.items())
    # Another account: the account levels do not apply.
    assert level_of(rules.find("other", "kyivstar", "380671234567")) == 5
    # Another operator, same prefix: account + prefix.
    assert level_of(rules.find("acme", "vodafone", "380671234567")) == 2
    # Another operator and prefix: account only.
    assert level_of(rules.find("acme", "vodafone", "380501234567")) == 4
    # Nothing specific: the rule without scope.
    assert level_of(rules.find("other", "vodafone", "380501234567")) == 8


def test_longest_prefix_wins_within_a_level() -> None:
    rules = OutcomeRules(
        [
            rule("", "", "3", err=1),
            rule("", "", "380", err=3),
            rule("", "", "38067", err=5),
            rule("", "", "3806712", err=7),
        ]
    )
    assert level_of(rules.find("a", "o", "380671234567")) == 7
    assert level_of(rules.find("a", "o", "380679999999")) == 5
    assert level_of(rules.find("a", "o", "380501234567")) == 3
    assert level_of(rules.find("a", "o", "390501234567")) == 1
    assert rules.find("a", "o", "490501234567") is None
    assert level_of(rules.find("a", "o", "38")) == 1  # a prefix longer than the number is skipped


def test_a_level_wins_even_over_a_longer_prefix_below_it() -> None:
    rules = OutcomeRules([rule("acme", "", "3", err=2), rule("", "", "380671234", err=6)])
    assert level_of(rules.find("acme", "op", "380671234567")) == 2


def test_no_rules_and_default_mix() -> None:
    rules = OutcomeRules()
    assert rules.find("a", "b", "1") is None
    assert rules.mix_for("a", "b", "1", MIX) is MIX
    assert len(rules) == 0


def test_duplicate_scopes_and_bad_prefixes_are_refused() -> None:
    with pytest.raises(ValueError, match="same scope"):
        OutcomeRules([rule("a", "", "1"), rule("a", "", "1")])
    with pytest.raises(ValueError, match="digits"):
        rule("", "", "+1")


scopes = st.tuples(
    st.sampled_from(["", "acme", "beta"]),
    st.sampled_from(["", "kyivstar", "vodafone"]),
    st.sampled_from(["", "3", "38", "380", "38067", "1"]),
)


def rank(scope: tuple[str, str, str]) -> int:
    account, operator, prefix = scope
    order = {
        (True, True, True): 1,
        (True, False, True): 2,
        (True, True, False): 3,
        (True, False, False): 4,
        (False, True, True): 5,
        (False, False, True): 6,
        (False, True, False): 7,
        (False, False, False): 8,
    }
    return order[(bool(account), bool(operator), bool(prefix))]


@settings(max_examples=150)
@given(
    chosen=st.lists(scopes, unique=True, max_size=12),
    account=st.sampled_from(["acme", "beta", "gamma"]),
    operator=st.sampled_from(["kyivstar", "vodafone", "lifecell"]),
    destination=st.sampled_from(["380671234567", "380501234567", "12025550123", "4930123"]),
)
def test_find_matches_a_brute_force_reading_of_the_rules(
    chosen: list[tuple[str, str, str]], account: str, operator: str, destination: str
) -> None:
    rules = OutcomeRules(
        OutcomeRule(account=a, operator=o, prefix=p, mix=MIX) for a, o, p in chosen
    )
    matching = [
        s
        for s in chosen
        if s[0] in ("", account) and s[1] in ("", operator) and destination.startswith(s[2])
    ]
    found = rules.find(account, operator, destination)
    if not matching:
        assert found is None
        return
    best = min(matching, key=lambda s: (rank(s), -len(s[2])))
    assert found is not None
    assert found.scope == best
