"""Operator throughput: token buckets, and a backlog after an outage draining at the rate."""

from __future__ import annotations

from smsc.operators.pacing import UNLIMITED, OperatorPacing
from smsc.operators.profile import HOUR, OutageWindow
from smsc.operators.receipts import with_change
from smsc.pdu.constants import MessageState
from smsc.store.records import StoredMessage
from tests.operators.factories import T0, accepted, profile, simulator


def test_bucket_starts_full_and_refills_at_the_rate() -> None:
    pacing = OperatorPacing({"op": profile(throughput=10.0), "default": profile("default")})
    assert pacing.available("op", T0) == 10
    pacing.consume("op", 10, T0)
    assert pacing.available("op", T0) == 0
    assert pacing.next_slot_at("op", T0) == T0 + 0.1
    assert pacing.available("op", T0 + 0.35) == 3
    assert pacing.available("op", T0 + 100) == 10  # never above the depth


def test_burst_sets_the_depth_and_fractional_rates_accumulate() -> None:
    pacing = OperatorPacing({"op": profile(throughput=0.5, burst=3)})
    assert pacing.available("op", T0) == 3
    pacing.consume("op", 3, T0)
    assert pacing.available("op", T0 + 1.9) == 0
    assert pacing.available("op", T0 + 2.0) == 1
    pacing.consume("op", 5, T0 + 2.0)  # more than available: the bucket stops at zero
    assert pacing.available("op", T0 + 2.0) == 0
    assert pacing.next_slot_at("op", T0 + 2.0) == T0 + 4.0


def test_zero_throughput_is_unlimited_and_unknown_operators_share_default() -> None:
    pacing = OperatorPacing(
        {"free": profile("free", throughput=0.0), "default": profile("default")}
    )
    assert pacing.available("free", T0) == UNLIMITED
    pacing.consume("free", 1_000_000, T0)
    assert pacing.available("free", T0) == UNLIMITED
    assert pacing.next_slot_at("free", T0) == T0
    pacing.consume("elsewhere", 4, T0)
    assert pacing.available("default", T0) == 6
    assert pacing.available("another", T0) == 6


def test_backlog_after_an_outage_drains_at_the_throughput() -> None:
    # 500 parts arrive during a one-hour outage of an operator taking 20 parts per second.
    op = profile(throughput=20.0, outages=(OutageWindow(start=T0, end=T0 + HOUR),))
    sim = simulator(op)
    pacing = OperatorPacing(sim.profiles)
    queue: list[StoredMessage] = [
        accepted(sim, id=i, message_id=i, submitted_at=T0 + i) for i in range(500)
    ]
    done: dict[int, float] = {}
    now = T0
    while queue and now < T0 + 2 * HOUR:
        # The core's loop: skip the operator while it is down, else take what the bucket
        # allows, oldest first.
        if sim.outage_end("op", now) is None:
            due = sorted(
                (p for p in queue if p.next_at is not None and p.next_at <= now),
                key=lambda p: (p.next_at, p.id),
            )
            taken = due[: pacing.available("op", now)]
            counted = 0
            for part in taken:
                decision = sim.attempt(part, now)
                counted += decision.counted
                queue.remove(part)
                if decision.final:
                    assert decision.change.state == MessageState.DELIVERED
                    done[part.id] = now
                else:
                    queue.append(with_change(part, decision.change))
            pacing.consume("op", counted, now)
        now += 0.5
    assert len(done) == 500
    times = sorted(done.values())
    assert times[0] == T0 + HOUR
    # 20 at once (the full bucket), then 20 per second (10 per half-second tick): the other
    # 480 take 24 s.
    assert times[-1] == T0 + HOUR + 24.0
    per_second: dict[int, int] = {}
    for t in times:
        per_second[int(t - T0 - HOUR)] = per_second.get(int(t - T0 - HOUR), 0) + 1
    assert max(per_second.values()) <= 40  # the initial burst plus one second of rate
    assert all(count <= 20 for second, count in per_second.items() if second >= 1)
