"""The operators part of the TOML configuration: the shipped file, overrides, and every mistake
reported with its key path."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomlkit

from smsc.config_error import ConfigError
from smsc.operators.config import OperatorsConfig, parse_duration
from smsc.operators.mo import MoMode
from smsc.operators.profile import DAY, HOUR, MINUTE, DelayKind, builtin_profiles
from smsc.pdu.constants import MessageState
from tests.examples import with_examples

CONF = Path(__file__).resolve().parents[2] / "conf" / "operators.toml"
S = MessageState


def test_the_shipped_file_reads_with_tomllib_and_tomlkit() -> None:
    text = with_examples(CONF.read_text(encoding="utf-8"))
    config = OperatorsConfig.from_mapping(tomllib.loads(text))
    assert OperatorsConfig.from_mapping(tomlkit.parse(text)) == config
    assert set(config.profiles) == set(builtin_profiles())
    kyivstar = config.profiles["kyivstar"]
    assert kyivstar.title == "Kyivstar"
    assert kyivstar.throughput == 200
    assert kyivstar.delay.kind == DelayKind.LOGNORMAL
    assert kyivstar.delay.cap == 10 * MINUTE
    assert kyivstar.offline.retry_interval == 5 * MINUTE
    assert len(kyivstar.outages) == 1
    assert config.profiles["intertelecom"].daily_outages[0].start == HOUR
    for name, hours in (("lifecell", 24), ("kyivstar", 72), ("intertelecom", 24)):
        assert config.profiles[name].max_validity == hours * HOUR
    assert config.seed == 20240901
    assert len(config.outcome_rules) == 2
    # US/Canada is rejected by the coverage rule of routes.toml, not by an outcome rule.
    assert config.outcome_rules.find("anyone", "default", "12025550123") is None
    acme = config.outcome_rules.find("acme", "kyivstar", "380671234567")
    assert acme is not None
    assert acme.mix.entries[0][1].state == S.UNDELIVERABLE
    assert {rule.mode for rule in config.mo_rules} == {MoMode.ECHO, MoMode.KEYWORD, MoMode.FIXED}
    keyword = config.mo_rules.find("acme", "380631112233")
    assert keyword is not None and keyword.keywords is not None
    assert keyword.keywords["stop"].startswith("You will")
    sim = config.simulator()
    assert sim.seed == config.seed
    assert config.pacing().available("kyivstar", 0.0) == 200


def test_sections_read() -> None:
    assert OperatorsConfig.SECTIONS == ("simulation", "operators", "outcome_rules", "mo_rules")


def test_empty_document_gives_the_built_in_defaults() -> None:
    config = OperatorsConfig.from_mapping({})
    assert config == OperatorsConfig.from_mapping({"listen": {"anything": 1}})
    assert config.profiles == OperatorsConfig.defaults().profiles
    assert config.test_numbers
    assert config.max_schedule_ahead == 30 * DAY


def test_keys_override_the_base_operator() -> None:
    config = OperatorsConfig.from_mapping(
        {
            "operators": {
                "lifecell": {"throughput": 5, "offline": {"probability": 0.5}},
                "default": {"throughput": 7, "max_validity": "12h"},
                "newnet": {"queue_limit": 10},
            }
        }
    )
    builtin = builtin_profiles()
    lifecell = config.profiles["lifecell"]
    assert lifecell.throughput == 5
    assert lifecell.offline.probability == 0.5
    assert lifecell.offline.retry_interval == builtin["lifecell"].offline.retry_interval
    assert lifecell.outcomes == builtin["lifecell"].outcomes
    # A new operator starts from the configured default operator.
    newnet = config.profiles["newnet"]
    assert (newnet.throughput, newnet.queue_limit, newnet.title) == (7, 10, "newnet")
    assert newnet.max_validity == newnet.default_validity == 12 * HOUR


def test_builtin_operators_can_be_left_out() -> None:
    config = OperatorsConfig.from_mapping(
        {"simulation": {"builtin_operators": False}, "operators": {"solo": {}}}
    )
    assert set(config.profiles) == {"solo", "default"}


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (90, 90.0),
        (1.5, 1.5),
        ("90s", 90.0),
        ("15m", 900.0),
        ("72h", 259_200.0),
        ("3d", 259_200.0),
        ("1h30m", 5_400.0),
        ("500ms", 0.5),
        (" 2H ", 7_200.0),
        ("0", None),
    ],
)
def test_durations(value: object, seconds: float | None) -> None:
    if seconds is None:
        with pytest.raises(ConfigError):
            parse_duration(value, "x")
    else:
        assert parse_duration(value, "x") == seconds


def test_every_delay_form() -> None:
    delays = {
        "a": "3s",
        "b": {"kind": "fixed", "value": 4},
        "c": {"kind": "uniform", "low": "1s", "high": "5s"},
        "d": {"kind": "lognormal", "median": "2s", "sigma": 0.4, "cap": "1m"},
        "e": {"kind": "exponential", "mean": "4s"},
    }
    config = OperatorsConfig.from_mapping(
        {"operators": {name: {"delay": d} for name, d in delays.items()}}
    )
    got = {name: config.profiles[name].delay for name in delays}
    assert (got["a"].kind, got["a"].a) == (DelayKind.FIXED, 3.0)
    assert (got["b"].kind, got["b"].a) == (DelayKind.FIXED, 4.0)
    assert (got["c"].a, got["c"].b) == (1.0, 5.0)
    assert (got["d"].a, got["d"].b, got["d"].cap) == (2.0, 0.4, 60.0)
    assert (got["e"].kind, got["e"].a) == (DelayKind.EXPONENTIAL, 4.0)


def test_rules_parse() -> None:
    config = OperatorsConfig.from_mapping(
        {
            "outcome_rules": [
                {
                    "account": "a",
                    "operator": "kyivstar",
                    "prefix": "380",
                    "stat": "undeliv",
                    "err": 1,
                    "network_error": 300,
                },
                {"outcomes": [{"stat": "DELIVERED", "weight": 3}, {"stat": "EXPIRED"}]},
            ],
            "mo_rules": [
                {"mode": "keyword", "keywords": {"Stop": "bye"}, "delay": "1m"},
                {"account": "a", "number": "380671234567", "mode": "echo"},
            ],
        }
    )
    first = config.outcome_rules.find("a", "kyivstar", "380671234567")
    assert first is not None
    outcome = first.mix.entries[0][1]
    assert (outcome.state, outcome.err, outcome.network_error_code) == (S.UNDELIVERABLE, 1, 300)
    mix = config.outcome_rules.find("b", "x", "1")
    assert mix is not None
    assert [w for w, _ in mix.mix.entries] == [3.0, 1.0]
    keyword = config.mo_rules.find("z", "380501111111")
    assert keyword is not None
    assert keyword.keywords == {"stop": "bye"}
    assert keyword.delay == 60.0


def error_of(data: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        OperatorsConfig.from_mapping(data)
    return caught.value


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"simulation": {"seed": "x"}}, "simulation.seed"),
        ({"simulation": {"sede": 1}}, "simulation.sede"),
        ({"simulation": {"builtin_operators": 1}}, "simulation.builtin_operators"),
        ({"simulation": {"max_schedule_ahead": "0s"}}, "simulation.max_schedule_ahead"),
        ({"simulation": []}, "simulation"),
        ({"operators": []}, "operators"),
        ({"operators": {"bad name": {}}}, "operators.bad name"),
        ({"operators": {"kyivstar": 5}}, "operators.kyivstar"),
        ({"operators": {"kyivstar": {"throughput": -1}}}, "operators.kyivstar.throughput"),
        ({"operators": {"kyivstar": {"throughput": True}}}, "operators.kyivstar.throughput"),
        ({"operators": {"kyivstar": {"speed": 1}}}, "operators.kyivstar.speed"),
        ({"operators": {"kyivstar": {"burst": 1.5}}}, "operators.kyivstar.burst"),
        ({"operators": {"kyivstar": {"queue_limit": 0}}}, "operators.kyivstar.queue_limit"),
        ({"operators": {"kyivstar": {"max_validity": "3x"}}}, "operators.kyivstar.max_validity"),
        (
            {"operators": {"kyivstar": {"default_validity": "4d", "max_validity": "3d"}}},
            "operators.kyivstar.default_validity",
        ),
        ({"operators": {"k": {"delay": {"kind": "poisson"}}}}, "operators.k.delay.kind"),
        (
            {"operators": {"k": {"delay": {"kind": "lognormal", "median": 2}}}},
            "operators.k.delay.sigma",
        ),
        (
            {"operators": {"k": {"delay": {"kind": "lognormal", "median": "x", "sigma": 1}}}},
            "operators.k.delay.median",
        ),
        (
            {"operators": {"k": {"delay": {"kind": "uniform", "low": 5, "high": 1}}}},
            "operators.k.delay.high",
        ),
        (
            {"operators": {"k": {"delay": {"kind": "fixed", "value": 1, "max": 2}}}},
            "operators.k.delay.max",
        ),
        ({"operators": {"k": {"outcomes": []}}}, "operators.k.outcomes"),
        ({"operators": {"k": {"outcomes": {}}}}, "operators.k.outcomes"),
        (
            {"operators": {"k": {"outcomes": [{"stat": "DELIVRD", "weight": 0}]}}},
            "operators.k.outcomes",
        ),
        ({"operators": {"k": {"outcomes": [{"stat": "ENROUTE"}]}}}, "operators.k.outcomes[1].stat"),
        (
            {"operators": {"k": {"outcomes": [{"stat": "DELIVRD"}, {"stat": "NOPE"}]}}},
            "operators.k.outcomes[2].stat",
        ),
        (
            {"operators": {"k": {"outcomes": [{"stat": "UNDELIV", "err": 256}]}}},
            "operators.k.outcomes[1].err",
        ),
        (
            {"operators": {"k": {"outcomes": [{"stat": "UNDELIV", "weight": -1}]}}},
            "operators.k.outcomes[1].weight",
        ),
        (
            {"operators": {"k": {"outcomes": [{"stat": "UNDELIV", "eror": 1}]}}},
            "operators.k.outcomes[1].eror",
        ),
        (
            {"operators": {"k": {"outages": [{"start": "2025-01-01T00:00:00"}]}}},
            "operators.k.outages[1].start",
        ),
        (
            {
                "operators": {
                    "k": {
                        "outages": [
                            {"start": "2025-01-01T02:00:00Z", "end": "2025-01-01T01:00:00Z"}
                        ]
                    }
                }
            },
            "operators.k.outages[1].end",
        ),
        (
            {"operators": {"k": {"outages": [{"start": "yesterday"}]}}},
            "operators.k.outages[1].start",
        ),
        ({"operators": {"k": {"daily_outages": ["25:00-01:00"]}}}, "operators.k.daily_outages[1]"),
        ({"operators": {"k": {"daily_outages": ["01:00-01:00"]}}}, "operators.k.daily_outages[1]"),
        ({"operators": {"k": {"daily_outages": [1]}}}, "operators.k.daily_outages[1]"),
        ({"operators": {"k": {"offline": {"probability": 2}}}}, "operators.k.offline.probability"),
        (
            {"operators": {"k": {"offline": {"retry_interval": 0}}}},
            "operators.k.offline.retry_interval",
        ),
        (
            {"operators": {"k": {"offline": {"duration": {"kind": "x"}}}}},
            "operators.k.offline.duration.kind",
        ),
        ({"outcome_rules": {}}, "outcome_rules"),
        ({"outcome_rules": [{"prefix": "1"}]}, "outcome_rules[1]"),
        (
            {"outcome_rules": [{"stat": "DELIVRD"}, {"prefix": "+1", "stat": "DELIVRD"}]},
            "outcome_rules[2].prefix",
        ),
        (
            {"outcome_rules": [{"operator": "nowhere", "stat": "DELIVRD"}]},
            "outcome_rules[1].operator",
        ),
        (
            {"outcome_rules": [{"stat": "DELIVRD", "outcomes": [{"stat": "DELIVRD"}]}]},
            "outcome_rules[1].stat",
        ),
        ({"outcome_rules": [{"stat": "DELIVRD"}, {"stat": "UNDELIV"}]}, "outcome_rules[2]"),
        ({"outcome_rules": [{"stat": "DELIVRD", "acount": "a"}]}, "outcome_rules[1].acount"),
        ({"mo_rules": [{"mode": "shout"}]}, "mo_rules[1].mode"),
        ({"mo_rules": [{"mode": "fixed"}]}, "mo_rules[1].text"),
        ({"mo_rules": [{"mode": "keyword"}]}, "mo_rules[1].keywords"),
        (
            {"mo_rules": [{"mode": "keyword", "keywords": {"two words": "x"}}]},
            "mo_rules[1].keywords.two words",
        ),
        ({"mo_rules": [{"mode": "echo", "text": "x"}]}, "mo_rules[1]"),
        ({"mo_rules": [{"mode": "echo", "number": "+380"}]}, "mo_rules[1].number"),
        ({"mo_rules": [{"mode": "echo", "delay": "-1s"}]}, "mo_rules[1].delay"),
        ({"mo_rules": [{"mode": "echo"}, {"mode": "echo"}]}, "mo_rules[2]"),
    ],
)
def test_mistakes_name_their_key_path(data: dict[str, Any], path: str) -> None:
    error = error_of(data)
    assert error.path == path, str(error)
    assert error.message


def test_error_message_is_useful() -> None:
    error = error_of({"operators": {"kyivstar": {"throughput": -1}}})
    assert str(error) == "operators.kyivstar.throughput: -1 is not between 0 and 1e+06"
    unknown = error_of({"operators": {"kyivstar": {"througput": 5}}})
    assert "unknown key" in unknown.message and "throughput" in unknown.message
