"""Outcome rules: fixed outcomes or outcome mixes scoped by account, operator and destination
prefix, overriding an operator's own mix.

A rule names any of ``account``, ``operator`` and ``prefix`` ("" = any). For a message the most
specific rule wins, by these levels, first match wins (within a level with a prefix, the longest
matching prefix wins):

1. account + operator + prefix
2. account + prefix
3. account + operator
4. account
5. operator + prefix
6. prefix
7. operator
8. a rule with no scope at all (every message)
9. no rule: the operator's own outcome mix.

The account comes first because a rule for an account is a deliberate test set-up for that
customer; a prefix comes before an operator because a prefix names fewer numbers than a whole
operator. Two rules with the same scope are refused by the configuration.

Evaluation is a handful of dict lookups: rules are indexed by (account, operator), and within
that by prefix, probing only the prefix lengths that occur.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from smsc.operators.profile import OutcomeMix


@dataclass(frozen=True, slots=True, kw_only=True)
class OutcomeRule:
    """Messages of ``account`` to ``operator`` whose destination starts with ``prefix`` (each
    "" for any) end with an outcome drawn from ``mix`` (one entry for a fixed outcome)."""

    account: str = ""
    operator: str = ""
    prefix: str = ""
    mix: OutcomeMix

    def __post_init__(self) -> None:
        if self.prefix and not (self.prefix.isascii() and self.prefix.isdigit()):
            raise ValueError(f"prefix {self.prefix!r} must be digits")

    @property
    def scope(self) -> tuple[str, str, str]:
        return (self.account, self.operator, self.prefix)


class _PrefixTable:
    """Rules of one (account, operator) scope, by prefix; "" holds the rule without prefix."""

    __slots__ = ("by_prefix", "lengths", "no_prefix")

    def __init__(self) -> None:
        self.by_prefix: dict[str, OutcomeRule] = {}
        self.lengths: tuple[int, ...] = ()  # longest first
        self.no_prefix: OutcomeRule | None = None

    def add(self, rule: OutcomeRule) -> None:
        if rule.prefix:
            self.by_prefix[rule.prefix] = rule
            self.lengths = tuple(sorted({len(p) for p in self.by_prefix}, reverse=True))
        else:
            self.no_prefix = rule

    def longest(self, destination: str) -> OutcomeRule | None:
        by_prefix = self.by_prefix
        size = len(destination)
        for length in self.lengths:
            if length <= size:
                rule = by_prefix.get(destination[:length])
                if rule is not None:
                    return rule
        return None


class OutcomeRules:
    """The rule set, indexed for :meth:`find`. Immutable once built."""

    __slots__ = ("_accounts", "_rules", "_tables")

    def __init__(self, rules: Iterable[OutcomeRule] = ()) -> None:
        self._rules: tuple[OutcomeRule, ...] = tuple(rules)
        self._tables: dict[tuple[str, str], _PrefixTable] = {}
        seen: set[tuple[str, str, str]] = set()
        for rule in self._rules:
            if rule.scope in seen:
                raise ValueError(f"two outcome rules for the same scope {rule.scope}")
            seen.add(rule.scope)
            table = self._tables.setdefault((rule.account, rule.operator), _PrefixTable())
            table.add(rule)
        self._accounts = frozenset(rule.account for rule in self._rules if rule.account)

    def __len__(self) -> int:
        return len(self._rules)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, OutcomeRules):
            return self._rules == other._rules
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"OutcomeRules({list(self._rules)!r})"

    def __iter__(self) -> Iterator[OutcomeRule]:
        return iter(self._rules)

    @property
    def rules(self) -> tuple[OutcomeRule, ...]:
        return self._rules

    def find(self, account: str, operator: str, destination: str) -> OutcomeRule | None:
        """The most specific rule for a message, or None (the operator's own mix applies)."""
        tables = self._tables
        if not tables:
            return None
        if account in self._accounts:
            rule = self._level(account, operator, destination)
            if rule is not None:
                return rule
        return self._level("", operator, destination)

    def _level(self, account: str, operator: str, destination: str) -> OutcomeRule | None:
        tables = self._tables
        with_operator = tables.get((account, operator))
        any_operator = tables.get((account, ""))
        if with_operator is not None and with_operator.lengths:
            rule = with_operator.longest(destination)
            if rule is not None:
                return rule
        if any_operator is not None and any_operator.lengths:
            rule = any_operator.longest(destination)
            if rule is not None:
                return rule
        if with_operator is not None and with_operator.no_prefix is not None:
            return with_operator.no_prefix
        if any_operator is not None:
            return any_operator.no_prefix
        return None

    def mix_for(
        self, account: str, operator: str, destination: str, default: OutcomeMix
    ) -> OutcomeMix:
        rule = self.find(account, operator, destination)
        return default if rule is None else rule.mix


NO_RULES = OutcomeRules()
