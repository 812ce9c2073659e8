"""Operator profiles: delay distributions, outcome mixes, outage windows, the built-in set, and
the deterministic draws behind them."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsc.operators.draws import handset_key, mix64, number_key, part_key, unit
from smsc.operators.profile import (
    DAY,
    HOUR,
    DailyOutage,
    Delay,
    OfflineHandsets,
    OperatorProfile,
    OutageWindow,
    Outcome,
    OutcomeMix,
    builtin_profiles,
)
from smsc.pdu.constants import MessageState
from tests.operators.factories import T0, profile

S = MessageState
UNIFORMS = [(i + 0.5) / 4000 for i in range(4000)]  # evenly spread draws


def test_the_products_validity_table() -> None:
    profiles = builtin_profiles()
    expected = {
        "lifecell": 24,
        "kyivstar": 72,
        "vodafone": 72,
        "utel": 72,
        "peoplenet": 72,
        "intertelecom": 24,
    }
    for name, hours in expected.items():
        assert profiles[name].default_validity == hours * HOUR, name
        assert profiles[name].max_validity == hours * HOUR, name
    assert "default" in profiles
    for p in profiles.values():
        assert p.throughput > 0
        assert 1.0 <= p.delay.sample(0.5) <= 10.0  # a few seconds
        assert 0.9 < p.outcomes.probability(S.DELIVERED) < 0.99


def test_fixed_and_uniform_delays() -> None:
    assert Delay.fixed(3.0).sample(0.9) == 3.0
    uniform = Delay.uniform(1.0, 5.0)
    samples = [uniform.sample(u) for u in UNIFORMS]
    assert min(samples) >= 1.0
    assert max(samples) < 5.0
    assert statistics.mean(samples) == pytest.approx(3.0, abs=0.01)


def test_lognormal_delay_has_its_median() -> None:
    lognormal = Delay.lognormal(4.0, 0.7)
    samples = sorted(lognormal.sample(u) for u in UNIFORMS)
    assert statistics.median(samples) == pytest.approx(4.0, rel=0.01)
    assert lognormal.sample(0.0) > 0  # no log(0)


def test_exponential_delay_has_its_mean_and_the_cap_holds() -> None:
    exponential = Delay.exponential(10.0)
    assert statistics.mean(exponential.sample(u) for u in UNIFORMS) == pytest.approx(10.0, rel=0.02)
    capped = Delay.exponential(10.0, cap=15.0)
    assert max(capped.sample(u) for u in UNIFORMS) == 15.0


@pytest.mark.parametrize(
    "build",
    [
        lambda: Delay.uniform(5.0, 1.0),
        lambda: Delay.fixed(-1.0),
        lambda: Delay.fixed(math.inf),
        lambda: Delay.exponential(1.0, cap=-2.0),
    ],
)
def test_bad_delays_are_refused(build: object) -> None:
    with pytest.raises(ValueError):
        build()  # type: ignore[operator]


def test_mix_picks_by_weight() -> None:
    mix = OutcomeMix.of(
        (1.0, Outcome(state=S.DELIVERED)),
        (0.0, Outcome(state=S.UNKNOWN)),
        (3.0, Outcome(state=S.UNDELIVERABLE, err=1)),
    )
    picks = [mix.pick(u).state for u in UNIFORMS]
    assert picks.count(S.DELIVERED) == 1000
    assert picks.count(S.UNDELIVERABLE) == 3000
    assert S.UNKNOWN not in picks
    assert mix.pick(0.9999999999999999).state == S.UNDELIVERABLE
    assert mix.probability(S.UNDELIVERABLE) == 0.75


@pytest.mark.parametrize(
    "build",
    [
        lambda: OutcomeMix(entries=()),
        lambda: OutcomeMix.of((0.0, Outcome(state=S.DELIVERED))),
        lambda: OutcomeMix.of((-1.0, Outcome(state=S.DELIVERED))),
        lambda: Outcome(state=S.ENROUTE),
        lambda: Outcome(state=S.UNDELIVERABLE, err=256),
        lambda: Outcome(state=S.UNDELIVERABLE, network_error=70_000),
    ],
)
def test_bad_outcomes_are_refused(build: object) -> None:
    with pytest.raises(ValueError):
        build()  # type: ignore[operator]


def test_absolute_outage_windows_join_when_they_touch() -> None:
    op = profile(
        outages=(
            OutageWindow(start=T0, end=T0 + 100),
            OutageWindow(start=T0 + 100, end=T0 + 200),
            OutageWindow(start=T0 + 500, end=T0 + 600),
        )
    )
    assert op.outage_end(T0 - 1) is None
    assert op.outage_end(T0) == T0 + 200
    assert op.outage_end(T0 + 150) == T0 + 200
    assert op.outage_end(T0 + 200) is None
    assert op.outage_end(T0 + 599) == T0 + 600


def test_daily_outage_over_midnight() -> None:
    midnight = 1_750_032_000.0  # 2025-06-16 00:00 UTC
    window = DailyOutage(start=23.5 * HOUR, end=0.25 * HOUR)
    assert window.end_after(midnight - 1800) == midnight + 900
    assert window.end_after(midnight + 60) == midnight + 900
    assert window.end_after(midnight + 900) is None
    assert window.end_after(midnight + 12 * HOUR) is None
    op = profile(
        daily_outages=(window,),
        outages=(OutageWindow(start=midnight + 900, end=midnight + 1000),),
    )
    assert op.outage_end(midnight) == midnight + 1000


def test_bad_windows_and_profiles_are_refused() -> None:
    with pytest.raises(ValueError):
        OutageWindow(start=T0, end=T0)
    with pytest.raises(ValueError):
        DailyOutage(start=HOUR, end=HOUR)
    with pytest.raises(ValueError):
        OfflineHandsets(probability=1.5)
    with pytest.raises(ValueError):
        profile(default_validity=3 * DAY, max_validity=DAY)
    with pytest.raises(ValueError):
        profile(throughput=-1.0)


def test_bucket_depth_defaults_to_a_second_of_throughput() -> None:
    assert profile(throughput=50.0).bucket_depth == 50.0
    assert profile(throughput=0.2).bucket_depth == 1.0
    assert profile(throughput=50.0, burst=7).bucket_depth == 7.0
    assert isinstance(profile(), OperatorProfile)


# --- draws -----------------------------------------------------------------------------------


def test_splitmix64_known_values() -> None:
    # The first outputs of the SplitMix64 generator seeded with 0 (state += golden each step).
    golden = 0x9E3779B97F4A7C15
    assert mix64(0) == 0xE220A8397B1DCDAF
    assert mix64(golden) == 0x6E789E6AA1B965F4


def test_number_key_is_stable_and_distinguishes() -> None:
    assert number_key("380671234567") == 380671234567
    assert number_key("Shop") == number_key("Shop")
    assert number_key("Shop") != number_key("shop")
    assert handset_key(1, 2, "380671234567") != handset_key(1, 2, "380671234568")
    assert handset_key(1, 2, "380671234567") != handset_key(2, 2, "380671234567")
    assert part_key(5, 1) != part_key(5, 2)


@settings(max_examples=200)
@given(key=st.integers(min_value=0, max_value=2**64 - 1), salt=st.integers(0, 2**64 - 1))
def test_unit_is_in_the_half_open_interval(key: int, salt: int) -> None:
    assert 0.0 <= unit(key, salt) < 1.0


def test_unit_draws_are_uniform() -> None:
    draws = [unit(part_key(handset_key(3, i, "380671234567"), 1), 17) for i in range(20_000)]
    assert statistics.mean(draws) == pytest.approx(0.5, abs=0.01)
    buckets = [0] * 10
    for d in draws:
        buckets[int(d * 10)] += 1
    assert all(1_800 < b < 2_200 for b in buckets)
