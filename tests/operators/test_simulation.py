"""The life of a part in its operator queue, with explicit times."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsc.operators.outcome_rules import OutcomeRule, OutcomeRules
from smsc.operators.profile import (
    DAY,
    ERR_ABSENT_SUBSCRIBER,
    ERR_BLACKLISTED,
    HOUR,
    MINUTE,
    DailyOutage,
    Delay,
    OfflineHandsets,
    OutageWindow,
    Outcome,
    OutcomeMix,
    builtin_profiles,
)
from smsc.operators.receipts import with_change
from smsc.operators.schedule import delivery_window_from_pdu
from smsc.operators.simulation import OperatorSimulator
from smsc.pdu.constants import MessageState
from tests.operators.factories import T0, accepted, live, message, profile, simulator

S = MessageState


def only(state: MessageState, err: int = 0) -> OutcomeMix:
    return OutcomeMix.only(Outcome(state=state, err=err))


def test_delivered_after_its_delay() -> None:
    sim = simulator(profile(delay=Delay.fixed(4.0)))
    part = accepted(sim)
    assert part.next_at == T0 + 4.0
    final, steps = live(sim, part)
    assert len(steps) == 1
    assert final.state == S.DELIVERED
    assert final.done_at == T0 + 4.0
    assert final.attempts == 1
    assert final.error_code == 0
    assert steps[0][1].counted and steps[0][1].final
    assert not steps[0][1].change.refund


@pytest.mark.parametrize(
    ("state", "err"),
    [(S.UNDELIVERABLE, 1), (S.REJECTED, 13), (S.UNKNOWN, 34), (S.ACCEPTED, 0), (S.DELETED, 0)],
)
def test_final_outcomes_of_the_mix(state: MessageState, err: int) -> None:
    sim = simulator(profile(outcomes=only(state, err)))
    final, steps = live(sim, accepted(sim))
    assert (final.state, final.error_code, final.done_at) == (state, err, T0 + 2.0)
    assert steps[-1][1].network_error == err


def test_failed_parts_are_refunded_only_when_the_account_asks() -> None:
    sim = simulator(profile(outcomes=only(S.UNDELIVERABLE, 1)))
    assert not live(sim, accepted(sim))[1][-1][1].change.refund
    assert live(sim, accepted(sim), refund_failed=True)[1][-1][1].change.refund
    delivered = simulator()
    assert not live(delivered, accepted(delivered), refund_failed=True)[1][-1][1].change.refund


def test_network_error_code_can_differ_from_err() -> None:
    outcome = Outcome(state=S.UNDELIVERABLE, err=1, network_error=0x0101)
    sim = simulator(profile(outcomes=OutcomeMix.only(outcome)))
    decision = live(sim, accepted(sim))[1][-1][1]
    assert decision.change.error_code == 1
    assert decision.network_error == 0x0101


def test_expired_outcome_waits_until_the_capped_validity() -> None:
    # A requested validity of 5 days is capped at the operator's maximum of 2 days.
    op = profile(outcomes=only(S.EXPIRED, ERR_ABSENT_SUBSCRIBER), max_validity=2 * DAY)
    window = delivery_window_from_pdu(now=T0, profile=op, validity_period="000005000000000R")
    assert window.expires_at == T0 + 2 * DAY
    sim = simulator(op)
    final, steps = live(sim, accepted(sim, expires_at=window.expires_at))
    assert [t for t, _ in steps] == [T0 + 2.0, T0 + 2 * DAY]
    assert steps[0][1].change.next_at == T0 + 2 * DAY
    assert steps[0][1].change.state == S.ENROUTE
    assert (final.state, final.error_code, final.done_at) == (S.EXPIRED, 27, T0 + 2 * DAY)
    assert final.attempts == 1


def test_scheduled_absolute_in_the_future() -> None:
    op = profile()
    # 2025-06-16 09:00:00 UTC, written with a +03:00 offset as 12:00 local.
    window = delivery_window_from_pdu(now=T0, profile=op, schedule_delivery_time="250616120000012+")
    nine = 1_750_064_400.0
    assert window.scheduled_at == nine
    assert window.expires_at == nine + 24 * HOUR
    sim = simulator(op)
    part = accepted(sim, scheduled_at=window.scheduled_at, expires_at=window.expires_at)
    assert part.next_at == nine + 2.0
    final, _ = live(sim, part)
    assert (final.state, final.done_at) == (S.DELIVERED, nine + 2.0)


def test_scheduled_relative_in_the_future() -> None:
    op = profile()
    window = delivery_window_from_pdu(now=T0, profile=op, schedule_delivery_time="000000013000000R")
    assert window.scheduled_at == T0 + 90 * MINUTE
    sim = simulator(op)
    part = accepted(sim, scheduled_at=window.scheduled_at, expires_at=window.expires_at)
    final, _ = live(sim, part)
    assert final.done_at == T0 + 90 * MINUTE + 2.0


def test_scheduled_in_recipient_local_time() -> None:
    op = profile()
    # 09:00 on 16 June on the recipient's clock in Kyiv (UTC+3 in summer) is 06:00 UTC,
    # whatever offset the client wrote.
    window = delivery_window_from_pdu(
        now=T0,
        profile=op,
        schedule_delivery_time="250616090000000+",
        recipient_zone="Europe/Kyiv",
    )
    six_utc = 1_750_053_600.0
    assert window.scheduled_at == six_utc
    sim = simulator(op)
    final, _ = live(sim, accepted(sim, scheduled_at=six_utc, expires_at=window.expires_at))
    assert final.done_at == six_utc + 2.0


def test_a_schedule_in_the_past_is_now() -> None:
    sim = simulator()
    assert sim.first_attempt_at(
        operator="op",
        message_id=1,
        part_index=1,
        destination_addr="380671234567",
        now=T0,
        scheduled_at=T0 - 100,
    ) == (T0 + 2.0)


def test_outage_then_delivered_after_it_ends() -> None:
    op = profile(outages=(OutageWindow(start=T0, end=T0 + HOUR),))
    sim = simulator(op)
    final, steps = live(sim, accepted(sim))
    first = steps[0][1]
    assert not first.counted
    assert first.change.next_at == T0 + HOUR
    assert first.change.attempts == 0
    assert (final.state, final.done_at, final.attempts) == (S.DELIVERED, T0 + HOUR, 1)
    assert sim.outage_end("op", T0 + 10) == T0 + HOUR
    assert sim.outage_end("op", T0 + HOUR) is None


def test_outage_longer_than_the_validity_expires_the_part() -> None:
    op = profile(outages=(OutageWindow(start=T0, end=T0 + 3 * DAY),))
    sim = simulator(op)
    final, steps = live(sim, accepted(sim))
    assert steps[0][1].change.next_at == T0 + 24 * HOUR
    assert (final.state, final.error_code, final.done_at) == (S.EXPIRED, 0, T0 + 24 * HOUR)
    assert final.attempts == 0


def test_daily_outage_is_waited_out() -> None:
    # T0 is 15:06:40 UTC; a daily window 15:00-15:30 holds the part until 15:30.
    op = profile(daily_outages=(DailyOutage(start=15 * HOUR, end=15.5 * HOUR),))
    sim = simulator(op)
    final, _ = live(sim, accepted(sim))
    assert final.done_at == T0 - 400 + 30 * MINUTE


def always_offline(duration: float, retry: float = 5 * MINUTE) -> OfflineHandsets:
    return OfflineHandsets(probability=1.0, duration=Delay.fixed(duration), retry_interval=retry)


def test_offline_handset_then_delivered() -> None:
    op = profile(offline=always_offline(12 * MINUTE))
    sim = simulator(op)
    final, steps = live(sim, accepted(sim, registered_delivery=0x11))
    times = [t for t, _ in steps]
    # Tried at +2 s, then every 5 minutes; back 12 minutes after the first attempt.
    assert times == [T0 + 2, T0 + 2 + 300, T0 + 2 + 600, T0 + 2 + 900]
    assert [d.notify_enroute for _, d in steps] == [True, False, False, False]
    assert (final.state, final.attempts, final.done_at) == (S.DELIVERED, 4, T0 + 902)


def test_only_the_delivery_after_offline_tries_says_the_handset_is_back() -> None:
    sim = simulator(profile(offline=always_offline(12 * MINUTE)))
    _, steps = live(sim, accepted(sim))
    assert [d.handset_back for _, d in steps] == [False, False, False, True]
    never_off = simulator(profile())
    _, steps = live(never_off, accepted(never_off))
    assert [d.handset_back for _, d in steps] == [False]


def test_offline_notification_only_when_asked() -> None:
    op = profile(offline=always_offline(12 * MINUTE))
    sim = simulator(op)
    _, steps = live(sim, accepted(sim, registered_delivery=0x01))
    assert not any(d.notify_enroute for _, d in steps)


def test_offline_handset_then_expired() -> None:
    op = profile(offline=always_offline(10 * DAY, retry=HOUR))
    sim = simulator(op)
    final, steps = live(sim, accepted(sim, expires_at=T0 + 3 * HOUR))
    assert [t for t, _ in steps] == [T0 + 2, T0 + 2 + HOUR, T0 + 2 + 2 * HOUR, T0 + 3 * HOUR]
    assert (final.state, final.error_code, final.done_at) == (S.EXPIRED, 27, T0 + 3 * HOUR)
    assert final.attempts == 3
    assert not steps[-1][1].counted


def test_all_parts_of_a_long_message_share_the_handset_state() -> None:
    op = profile(
        offline=OfflineHandsets(probability=0.5, duration=Delay.fixed(HOUR)),
        delay=Delay.uniform(1.0, 10.0),
    )
    sim = simulator(op)
    for message_id in range(1, 60):
        lives = [
            live(sim, accepted(sim, id=i, message_id=message_id, part_index=i, part_total=3))
            for i in (1, 2, 3)
        ]
        attempts = {len(steps) > 1 for _, steps in lives}
        assert len(attempts) == 1  # all offline, or none


def test_forced_outcome_from_submit_is_final_at_once() -> None:
    op = profile(outages=(OutageWindow(start=T0, end=T0 + HOUR),))
    sim = simulator(op)
    part = accepted(sim, forced_state=int(S.REJECTED), forced_error=21)
    final, steps = live(sim, part, refund_failed=True)
    assert (final.state, final.error_code, final.done_at) == (S.REJECTED, 21, T0 + 2)
    assert steps[0][1].change.refund
    assert not steps[0][1].counted


def test_blacklisted_part_is_undeliverable_at_once_and_refunded() -> None:
    sim = simulator()
    part = accepted(sim, blacklisted=True)
    assert part.next_at == T0
    final, steps = live(sim, part)
    assert (final.state, final.error_code, final.done_at) == (S.UNDELIVERABLE, ERR_BLACKLISTED, T0)
    assert steps[0][1].change.refund
    assert not steps[0][1].counted


def test_coverage_rule_rejects() -> None:
    rules = OutcomeRules([OutcomeRule(prefix="1", mix=only(S.REJECTED, 21))])
    sim = OperatorSimulator({"op": profile()}, rules, seed=1)
    final, _ = live(sim, accepted(sim, destination_addr="12025550123"))
    assert (final.state, final.error_code) == (S.REJECTED, 21)
    final, _ = live(sim, accepted(sim, destination_addr="380671234567"))
    assert final.state == S.DELIVERED


def test_rules_by_account_apply_to_that_account_only() -> None:
    rules = OutcomeRules([OutcomeRule(account="acme", mix=only(S.UNDELIVERABLE, 1))])
    sim = OperatorSimulator({"op": profile()}, rules, seed=1)
    assert live(sim, accepted(sim, account="acme"))[0].state == S.UNDELIVERABLE
    assert live(sim, accepted(sim, account="other"))[0].state == S.DELIVERED


def test_unknown_operator_uses_the_default_profile() -> None:
    sim = OperatorSimulator(builtin_profiles(), seed=1)
    assert sim.profile("nowhere") is sim.profile("default")
    part = accepted(sim, operator="nowhere")
    assert part.next_at is not None
    assert T0 < part.next_at < T0 + 10 * MINUTE + 1


def test_a_final_part_is_refused() -> None:
    sim = simulator()
    with pytest.raises(ValueError, match="not waiting"):
        sim.attempt(message(next_at=None, state=int(S.DELIVERED)), T0)


def test_queue_limit() -> None:
    sim = simulator(profile(queue_limit=10))
    assert sim.queue_has_room("op", 9)
    assert not sim.queue_has_room("op", 10)
    assert not sim.queue_has_room("op", 8, adding=3)


MIX = OutcomeMix.of(
    (70.0, Outcome(state=S.DELIVERED)),
    (15.0, Outcome(state=S.UNDELIVERABLE, err=1)),
    (10.0, Outcome(state=S.REJECTED, err=13)),
    (5.0, Outcome(state=S.EXPIRED, err=27)),
)


def run_many(seed: int, count: int = 10_000) -> list[tuple[int, int, float]]:
    op = profile(outcomes=MIX, delay=Delay.lognormal(3.0, 0.6))
    sim = simulator(op, seed=seed)
    results = []
    for i in range(count):
        part = accepted(sim, id=i, message_id=50_000 + i, destination_addr=f"3806{i:08d}")
        while True:
            assert part.next_at is not None
            change = sim.attempt(part, part.next_at).change
            if change.next_at is None:
                break
            part = with_change(part, change)
        assert change.done_at is not None
        results.append((change.state, change.error_code, change.done_at))
    return results


def test_ten_thousand_messages_end_in_the_mix_proportions_and_repeat_exactly() -> None:
    count = 10_000
    first = run_many(seed=2024, count=count)
    states = Counter(state for state, _, _ in first)
    for weight, outcome in MIX.entries:
        p = weight / 100.0
        sigma = math.sqrt(count * p * (1 - p))
        assert abs(states[outcome.state] - count * p) <= 4 * sigma, (outcome.state, states)
    # Same seed: the same outcomes and times, run after run.
    assert run_many(seed=2024, count=count) == first
    # Another seed: other draws.
    assert run_many(seed=2025, count=1_000) != first[:1_000]


def test_a_restart_in_the_middle_gives_the_same_outcomes() -> None:
    op = profile(
        outcomes=MIX,
        delay=Delay.exponential(5.0),
        offline=OfflineHandsets(probability=0.3, duration=Delay.exponential(20 * MINUTE)),
    )
    parts = [accepted(simulator(op, seed=9), id=i, message_id=70_000 + i) for i in range(300)]
    uninterrupted = [live(simulator(op, seed=9), p)[0] for p in parts]
    # Stop after the first attempt, then carry on with a new simulator (a new process).
    resumed = []
    for part in parts:
        decision = simulator(op, seed=9).attempt(part, part.next_at or 0.0)
        halfway = dataclasses.replace(
            part,
            state=decision.change.state,
            next_at=decision.change.next_at,
            attempts=decision.change.attempts,
            done_at=decision.change.done_at,
            error_code=decision.change.error_code,
        )
        resumed.append(live(simulator(op, seed=9), halfway)[0])
    assert resumed == uninterrupted
    assert {p.state for p in uninterrupted} >= {S.DELIVERED, S.UNDELIVERABLE, S.REJECTED}


def test_delays_follow_the_distribution() -> None:
    op = profile(delay=Delay.lognormal(3.0, 0.5))
    sim = simulator(op)
    delays = sorted(
        accepted(sim, message_id=i).next_at - T0  # type: ignore[operator]
        for i in range(2_001)
    )
    median = delays[1000]
    assert 2.8 < median < 3.2


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**64 - 1),
    message_id=st.integers(1, 2**40),
    part_index=st.integers(1, 4),
    offline=st.floats(0.0, 1.0),
    outage_start=st.floats(-HOUR, DAY),
    outage_length=st.floats(1.0, 3 * DAY),
    validity=st.floats(1.0, 3 * DAY),
    registered=st.sampled_from([0, 1, 2, 0x11]),
    destination=st.sampled_from(["380671234567", "61491570737", "61491571266", "4915112345"]),
)
def test_every_life_ends_final_by_its_expiry(
    seed: int,
    message_id: int,
    part_index: int,
    offline: float,
    outage_start: float,
    outage_length: float,
    validity: float,
    registered: int,
    destination: str,
) -> None:
    op = profile(
        outcomes=MIX,
        delay=Delay.lognormal(30.0, 1.0),
        offline=OfflineHandsets(probability=offline, duration=Delay.exponential(HOUR)),
        outages=(OutageWindow(start=T0 + outage_start, end=T0 + outage_start + outage_length),),
    )
    sim = simulator(op, seed=seed)
    part = accepted(
        sim,
        message_id=message_id,
        part_index=part_index,
        destination_addr=destination,
        expires_at=T0 + validity,
        registered_delivery=registered,
    )
    final, steps = live(sim, part)
    assert final.done_at is not None
    assert final.done_at <= final.expires_at
    assert final.state != S.ENROUTE
    times = [t for t, _ in steps]
    assert times == sorted(times)
    assert final.attempts == sum(d.counted for _, d in steps)
    notices = sum(d.notify_enroute for _, d in steps)
    assert notices <= (1 if registered & 0x10 else 0)
    # The same part on a fresh simulator lives the same life.
    assert live(simulator(op, seed=seed), part)[0] == final
