"""The operator simulation's part of the TOML configuration, checked whole.

:meth:`OperatorsConfig.from_mapping` reads the tables ``[simulation]``, ``[operators.<name>]``,
``[[outcome_rules]]`` and ``[[mo_rules]]`` of a parsed document (other top-level tables belong
to other parts of smsc and are ignored) and raises
:class:`~smsc.config_error.ConfigError` with the key path of the first mistake, for example
``operators.kyivstar.delay.median`` or ``outcome_rules[2].prefix`` (array entries count from 1).
conf/operators.toml documents every key.

Operators start from a base: a built-in operator of the same name, else the ``default``
operator; the keys given replace the base's values (``offline`` key by key, ``outcomes``,
``outages`` and ``daily_outages`` as a whole).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Final

from smsc.config_error import ConfigError
from smsc.operators.mo import MoMode, MoRule, MoRules
from smsc.operators.outcome_rules import OutcomeRule, OutcomeRules
from smsc.operators.pacing import OperatorPacing
from smsc.operators.profile import (
    DAY,
    DEFAULT_OPERATOR,
    DailyOutage,
    Delay,
    DelayKind,
    OfflineHandsets,
    OperatorProfile,
    OutageWindow,
    Outcome,
    OutcomeMix,
    builtin_profiles,
)
from smsc.operators.schedule import MAX_SCHEDULE_AHEAD
from smsc.operators.simulation import OperatorSimulator
from smsc.pdu.constants import MessageState
from smsc.pdu.receipt_text import ReceiptError, state_for_stat

_UNITS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3_600.0, "d": DAY}
_DURATION_PART: Final = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_DURATION: Final = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+")
_CLOCK: Final = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_NAME: Final = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_MAX_DURATION: Final = 3_650 * DAY
_MAX_RULES: Final = 100_000
_MAX_ENTRIES: Final = 1_000


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorsConfig:
    """Everything the operator simulation is configured with."""

    # The top-level keys this part of the configuration reads.
    SECTIONS: ClassVar[tuple[str, ...]] = ("simulation", "operators", "outcome_rules", "mo_rules")

    seed: int = 0
    profiles: Mapping[str, OperatorProfile]
    outcome_rules: OutcomeRules = dataclasses.field(default_factory=OutcomeRules)
    mo_rules: MoRules = dataclasses.field(default_factory=MoRules)
    test_numbers: bool = True
    max_schedule_ahead: float = MAX_SCHEDULE_AHEAD

    @classmethod
    def defaults(cls) -> OperatorsConfig:
        """The built-in operators, no rules, seed 0."""
        return cls(profiles=builtin_profiles())

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> OperatorsConfig:
        """Read a parsed TOML document (tomllib's dicts or a tomlkit document)."""
        unwrap = getattr(data, "unwrap", None)
        if callable(unwrap):
            data = unwrap()
        if not isinstance(data, Mapping):
            raise ConfigError("", "the configuration must be a table")
        simulation = _Table(data.get("simulation", {}), "simulation")
        seed = simulation.integer("seed", 0, low=-(2**63), high=2**64 - 1)
        builtin = simulation.boolean("builtin_operators", True)
        test_numbers = simulation.boolean("test_numbers", True)
        max_ahead = simulation.duration("max_schedule_ahead", MAX_SCHEDULE_AHEAD, positive=True)
        simulation.done()

        profiles = builtin_profiles() if builtin else {}
        base_default = builtin_profiles()[DEFAULT_OPERATOR]
        operators = data.get("operators", {})
        if not isinstance(operators, Mapping):
            raise ConfigError("operators", "must be a table of operators ([operators.<name>])")
        # The default operator first, so other new operators start from the configured one.
        names = sorted(operators, key=lambda n: (n != DEFAULT_OPERATOR, str(n)))
        for name in names:
            path = f"operators.{name}"
            if not isinstance(name, str) or not _NAME.fullmatch(name):
                raise ConfigError(path, "an operator name is 1-32 letters, digits, '_', '-', '.'")
            base = profiles.get(name) or profiles.get(DEFAULT_OPERATOR) or base_default
            profiles[name] = _profile(name, operators[name], path, base)
        if DEFAULT_OPERATOR not in profiles:
            profiles[DEFAULT_OPERATOR] = base_default

        outcome_rules = _outcome_rules(data.get("outcome_rules", []), profiles)
        mo_rules = _mo_rules(data.get("mo_rules", []))
        return cls(
            seed=seed,
            profiles=profiles,
            outcome_rules=outcome_rules,
            mo_rules=mo_rules,
            test_numbers=test_numbers,
            max_schedule_ahead=max_ahead,
        )

    def simulator(self) -> OperatorSimulator:
        return OperatorSimulator(
            self.profiles, self.outcome_rules, self.seed, test_numbers=self.test_numbers
        )

    def pacing(self) -> OperatorPacing:
        return OperatorPacing(self.profiles)


# --- values -------------------------------------------------------------------------------


def parse_duration(value: object, path: str, *, positive: bool = False) -> float:
    """Seconds from a number or a string such as ``"90s"``, ``"15m"``, ``"72h"``, ``"3d"``,
    ``"1h30m"`` or ``"500ms"``."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(
            path, f'expected a duration such as 90, "90s", "15m", "72h" or "3d", not {value!r}'
        )
    if isinstance(value, str):
        text = value.strip().lower()
        if not _DURATION.fullmatch(text):
            raise ConfigError(
                path,
                f"{value!r} is not a duration: use a number of seconds or "
                'digits with a unit ms, s, m, h or d ("90s", "1h30m")',
            )
        seconds = sum(float(n) * _UNITS[u] for n, u in _DURATION_PART.findall(text))
    else:
        seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0 or seconds > _MAX_DURATION:
        raise ConfigError(path, f"{value!r} must be a duration from 0 to 3650 days")
    if positive and seconds <= 0:
        raise ConfigError(path, "must be longer than 0")
    return seconds


def _type_name(value: object) -> str:
    return type(value).__name__


class _Table:
    """A table being read: typed getters that name the key path, then ``done`` to refuse keys
    nobody asked for (most often a typing mistake)."""

    __slots__ = ("data", "path", "seen")

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(path, f"must be a table, not {_type_name(data)}")
        self.data: Mapping[str, Any] = data
        self.path = path
        self.seen: set[str] = set()

    def key_path(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str) -> Any:
        self.seen.add(key)
        return self.data.get(key)

    def done(self) -> None:
        for key in self.data:
            if key not in self.seen:
                expected = ", ".join(sorted(self.seen))
                raise ConfigError(self.key_path(str(key)), f"unknown key (known here: {expected})")

    def number(
        self, key: str, default: float, *, low: float = 0.0, high: float = math.inf
    ) -> float:
        value = self.raw(key)
        if value is None:
            return default
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ConfigError(self.key_path(key), f"expected a number, not {value!r}")
        if not low <= value <= high:
            raise ConfigError(self.key_path(key), f"{value} is not between {low:g} and {high:g}")
        return float(value)

    def integer(self, key: str, default: int, *, low: int = 0, high: int = 2**31 - 1) -> int:
        value = self.raw(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(self.key_path(key), f"expected a whole number, not {value!r}")
        if not low <= value <= high:
            raise ConfigError(self.key_path(key), f"{value} is not between {low} and {high}")
        return int(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise ConfigError(self.key_path(key), f"expected true or false, not {value!r}")
        return value

    def string(self, key: str, default: str = "", *, max_length: int = 64) -> str:
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, str):
            raise ConfigError(self.key_path(key), f"expected a string, not {value!r}")
        if len(value) > max_length:
            raise ConfigError(self.key_path(key), f"at most {max_length} characters")
        return value

    def duration(self, key: str, default: float, *, positive: bool = False) -> float:
        value = self.raw(key)
        if value is None:
            return default
        return parse_duration(value, self.key_path(key), positive=positive)

    def array(self, key: str) -> Sequence[Any] | None:
        value = self.raw(key)
        if value is None:
            return None
        if not isinstance(value, list | tuple):
            raise ConfigError(self.key_path(key), f"expected an array, not {value!r}")
        if len(value) > _MAX_ENTRIES:
            raise ConfigError(self.key_path(key), f"at most {_MAX_ENTRIES} entries")
        return value


# --- operators ------------------------------------------------------------------------------

_DELAY_KEYS: Final[dict[str, tuple[DelayKind, tuple[str, ...]]]] = {
    "fixed": (DelayKind.FIXED, ("value",)),
    "uniform": (DelayKind.UNIFORM, ("low", "high")),
    "lognormal": (DelayKind.LOGNORMAL, ("median", "sigma")),
    "exponential": (DelayKind.EXPONENTIAL, ("mean",)),
}


def _delay(value: object, path: str) -> Delay:
    if not isinstance(value, Mapping):
        return Delay.fixed(parse_duration(value, path))
    table = _Table(value, path)
    kind_name = table.string("kind", "")
    if kind_name not in _DELAY_KEYS:
        raise ConfigError(
            table.key_path("kind"),
            f"{kind_name!r} is not one of {', '.join(_DELAY_KEYS)}",
        )
    kind, keys = _DELAY_KEYS[kind_name]
    params: list[float] = []
    for key in keys:
        if not table.has(key):
            raise ConfigError(table.key_path(key), f"a {kind_name} delay needs {key}")
        if key == "sigma":
            params.append(table.number(key, 0.0, high=5.0))
        else:
            params.append(table.duration(key, 0.0))
    cap = table.duration("cap", 0.0) if table.has("cap") else None
    table.done()
    if kind == DelayKind.UNIFORM and params[1] < params[0]:
        raise ConfigError(table.key_path("high"), "must not be below low")
    return Delay(kind=kind, a=params[0], b=params[1] if len(params) > 1 else 0.0, cap=cap)


def _stat(value: object, path: str) -> MessageState:
    if not isinstance(value, str):
        raise ConfigError(path, f'expected a receipt stat such as "DELIVRD", not {value!r}')
    try:
        state = state_for_stat(value)
    except ReceiptError:
        state = None
    if state is None or state == MessageState.ENROUTE:
        raise ConfigError(
            path,
            f"{value!r} is not a final stat (DELIVRD, UNDELIV, REJECTD, EXPIRED, DELETED, "
            "UNKNOWN or ACCEPTD)",
        )
    return state


def _outcome_of(table: _Table) -> Outcome:
    state = _stat(table.raw("stat"), table.key_path("stat"))
    err = table.integer("err", 0, high=255)
    network_error = (
        table.integer("network_error", 0, high=0xFFFF) if table.has("network_error") else None
    )
    return Outcome(state=state, err=err, network_error=network_error)


def _mix(value: Sequence[Any], path: str) -> OutcomeMix:
    if not value:
        raise ConfigError(path, "needs at least one outcome")
    entries: list[tuple[float, Outcome]] = []
    for index, item in enumerate(value, 1):
        table = _Table(item, f"{path}[{index}]")
        weight = table.number("weight", 1.0)
        entries.append((weight, _outcome_of(table)))
        table.done()
    if sum(w for w, _ in entries) <= 0:
        raise ConfigError(path, "the weights add up to 0")
    return OutcomeMix(entries=tuple(entries))


def _instant(value: object, path: str) -> float:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ConfigError(path, f"{value!r} is not an ISO 8601 date and time") from None
    if not isinstance(value, datetime):
        raise ConfigError(
            path, f"expected a date and time such as 2025-01-31T02:00:00Z, not {value!r}"
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise ConfigError(path, "give the time with its UTC offset (…Z or …+02:00)")
    return value.timestamp()


def _outages(value: Sequence[Any], path: str) -> tuple[OutageWindow, ...]:
    windows = []
    for index, item in enumerate(value, 1):
        table = _Table(item, f"{path}[{index}]")
        start = _instant(table.raw("start"), table.key_path("start"))
        end = _instant(table.raw("end"), table.key_path("end"))
        table.done()
        if end <= start:
            raise ConfigError(table.key_path("end"), "must be after start")
        windows.append(OutageWindow(start=start, end=end))
    return tuple(windows)


def _clock(text: str, path: str) -> float:
    match = _CLOCK.fullmatch(text.strip())
    if match is None:
        raise ConfigError(path, f"{text!r} is not a time of day hh:mm (00:00-23:59)")
    return int(match.group(1)) * 3_600.0 + int(match.group(2)) * 60.0


def _daily_outages(value: Sequence[Any], path: str) -> tuple[DailyOutage, ...]:
    windows = []
    for index, item in enumerate(value, 1):
        item_path = f"{path}[{index}]"
        if not isinstance(item, str) or item.count("-") != 1:
            raise ConfigError(item_path, f'expected "hh:mm-hh:mm" (UTC), not {item!r}')
        first, second = item.split("-")
        start, end = _clock(first, item_path), _clock(second, item_path)
        if start == end:
            raise ConfigError(item_path, "start and end are the same time")
        windows.append(DailyOutage(start=start, end=end))
    return tuple(windows)


def _offline(value: object, path: str, base: OfflineHandsets) -> OfflineHandsets:
    table = _Table(value, path)
    probability = table.number("probability", base.probability, high=1.0)
    duration = (
        _delay(table.raw("duration"), table.key_path("duration"))
        if table.has("duration")
        else base.duration
    )
    retry = table.duration("retry_interval", base.retry_interval, positive=True)
    table.done()
    return OfflineHandsets(probability=probability, duration=duration, retry_interval=retry)


def _profile(name: str, value: object, path: str, base: OperatorProfile) -> OperatorProfile:
    table = _Table(value, path)
    title = table.string("title", base.title if base.name == name else name)
    throughput = table.number("throughput", base.throughput, high=1_000_000.0)
    burst = table.integer("burst", base.burst, high=10_000_000)
    queue_limit = table.integer("queue_limit", base.queue_limit, low=1, high=10**9)
    max_validity = table.duration("max_validity", base.max_validity, positive=True)
    if table.has("default_validity"):
        default_validity = table.duration("default_validity", 0.0, positive=True)
        if default_validity > max_validity:
            raise ConfigError(table.key_path("default_validity"), "is longer than max_validity")
    else:
        default_validity = min(base.default_validity, max_validity)
    delay = _delay(table.raw("delay"), table.key_path("delay")) if table.has("delay") else None
    outcomes_value = table.array("outcomes")
    outcomes = (
        base.outcomes
        if outcomes_value is None
        else _mix(outcomes_value, table.key_path("outcomes"))
    )
    outages_value = table.array("outages")
    outages = (
        base.outages
        if outages_value is None
        else _outages(outages_value, table.key_path("outages"))
    )
    daily_value = table.array("daily_outages")
    daily = (
        base.daily_outages
        if daily_value is None
        else _daily_outages(daily_value, table.key_path("daily_outages"))
    )
    offline = base.offline
    if table.has("offline"):
        offline = _offline(table.raw("offline"), table.key_path("offline"), base.offline)
    table.done()
    return OperatorProfile(
        name=name,
        title=title,
        throughput=throughput,
        burst=burst,
        delay=base.delay if delay is None else delay,
        outcomes=outcomes,
        outages=outages,
        daily_outages=daily,
        offline=offline,
        default_validity=default_validity,
        max_validity=max_validity,
        queue_limit=queue_limit,
    )


# --- rules ----------------------------------------------------------------------------------


def _rule_array(value: object, path: str) -> Sequence[Any]:
    if not isinstance(value, list | tuple):
        raise ConfigError(path, f"must be an array of tables ([[{path}]]), not {value!r}")
    if len(value) > _MAX_RULES:
        raise ConfigError(path, f"at most {_MAX_RULES} rules")
    return value


def _outcome_rules(value: object, profiles: Mapping[str, OperatorProfile]) -> OutcomeRules:
    rules: list[OutcomeRule] = []
    seen: dict[tuple[str, str, str], int] = {}
    for index, item in enumerate(_rule_array(value, "outcome_rules"), 1):
        table = _Table(item, f"outcome_rules[{index}]")
        account = table.string("account")
        operator = table.string("operator")
        if operator and operator not in profiles:
            raise ConfigError(table.key_path("operator"), f"no operator named {operator!r}")
        prefix = table.string("prefix", max_length=15)
        if prefix and not (prefix.isascii() and prefix.isdigit()):
            raise ConfigError(
                table.key_path("prefix"), "a prefix is digits only (country code first, no '+')"
            )
        mix_value = table.array("outcomes")
        if mix_value is not None:
            if table.has("stat"):
                raise ConfigError(table.key_path("stat"), "give either stat or outcomes, not both")
            mix = _mix(mix_value, table.key_path("outcomes"))
        elif table.has("stat"):
            mix = OutcomeMix.only(_outcome_of(table))
        else:
            raise ConfigError(table.path, "a rule needs stat (a fixed outcome) or outcomes (a mix)")
        table.done()
        scope = (account, operator, prefix)
        if scope in seen:
            raise ConfigError(
                table.path, f"same account, operator and prefix as outcome_rules[{seen[scope]}]"
            )
        seen[scope] = index
        rules.append(OutcomeRule(account=account, operator=operator, prefix=prefix, mix=mix))
    return OutcomeRules(rules)


_MO_MODES: Final = {"echo": MoMode.ECHO, "keyword": MoMode.KEYWORD, "fixed": MoMode.FIXED}


def _mo_rules(value: object) -> MoRules:
    rules: list[MoRule] = []
    seen: dict[tuple[str, str], int] = {}
    for index, item in enumerate(_rule_array(value, "mo_rules"), 1):
        table = _Table(item, f"mo_rules[{index}]")
        account = table.string("account")
        number = table.string("number", max_length=21)
        if number and not (number.isascii() and number.isdigit()):
            raise ConfigError(table.key_path("number"), "a handset number is digits only")
        mode_name = table.string("mode", "")
        mode = _MO_MODES.get(mode_name)
        if mode is None:
            raise ConfigError(
                table.key_path("mode"), f"{mode_name!r} is not one of {', '.join(_MO_MODES)}"
            )
        text = table.string("text", max_length=1600)
        delay = table.duration("delay", 0.0)
        keywords: dict[str, str] = {}
        raw_keywords = table.raw("keywords")
        if raw_keywords is not None:
            words = _Table(raw_keywords, table.key_path("keywords"))
            for word in list(words.data):
                reply = words.string(str(word), max_length=1600)
                if not str(word).strip() or len(str(word).split()) != 1:
                    raise ConfigError(words.key_path(str(word)), "a keyword is one word")
                keywords[str(word).casefold()] = reply
            words.done()
        table.done()
        if mode == MoMode.FIXED and not text:
            raise ConfigError(table.key_path("text"), "a fixed reply needs a text")
        if mode == MoMode.KEYWORD and not keywords:
            raise ConfigError(table.key_path("keywords"), "a keyword rule needs keywords")
        if mode == MoMode.ECHO and (text or keywords):
            raise ConfigError(table.path, "an echo rule takes neither text nor keywords")
        scope = (account, number)
        if scope in seen:
            raise ConfigError(table.path, f"same account and number as mo_rules[{seen[scope]}]")
        seen[scope] = index
        rules.append(
            MoRule(
                account=account,
                number=number,
                mode=mode,
                text=text,
                keywords=keywords or None,
                delay=delay,
            )
        )
    return MoRules(rules)
