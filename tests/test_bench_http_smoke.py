"""The HTTP benchmark works end to end: a real server and both HTTP ceiling responders
(twisted.web and the lean one), the HTTP load client with single and batch POSTs, and receipts
counted by the client's own webhook receiver."""

from __future__ import annotations

import os
from typing import Any

import pytest

from bench.http_bench import LEAN, HttpScenario, measure, pin_cpu_of, verdict, webhook_pace
from bench.run import BenchOptions

OPTIONS = BenchOptions(count=120, max_seconds=30.0, receipt_timeout=30.0, startup_timeout=30.0)


def _checked(result: dict[str, object], count: int) -> None:
    assert result.get("fatal") == "", result
    assert result["sent"] == result["acked_ok"] == count, result
    assert result["errors"] == {}, result
    assert result["receipts_expected"] == result["receipts_received"] == count, result
    assert result["receipts_duplicates"] == 0, result


def test_single_and_batch_posts_are_answered_and_every_webhook_receipt_arrives_once() -> None:
    single = measure(HttpScenario(name="http single", batch=1, connections=4), OPTIONS)
    _checked(single, OPTIONS.count)
    batch = measure(HttpScenario(name="http batch 50", batch=50, connections=2), OPTIONS)
    _checked(batch, OPTIONS.count)
    assert batch["requests"] == 3  # 50 + 50 + 20
    ceiling = measure(HttpScenario(name="ceiling single", batch=1, connections=4,
                                   ceiling=True), OPTIONS)
    _checked(ceiling, OPTIONS.count)
    lean = measure(HttpScenario(name="ceiling-lean single", batch=1, connections=4,
                                ceiling=True, responder=LEAN), OPTIONS)
    _checked(lean, OPTIONS.count)
    results = {"smpp": {"throughput": 1.0, "server_cpu_us_per_msg": 90.0},
               "http single": single, "http batch 50": batch, "ceiling single": ceiling,
               "ceiling-lean single": lean}
    lines = verdict(results, [HttpScenario(name="http single", batch=1, connections=4),
                              HttpScenario(name="ceiling-lean single", batch=1, connections=4,
                                           ceiling=True, responder=LEAN),
                              HttpScenario(name="http batch 50", batch=50, connections=2)])
    assert len(lines) == 2 and all("of the SMPP rate" in line for line in lines)
    assert "of the lean ceiling's" in lines[0] and "ceiling" not in lines[1]


def test_the_webhook_pace_is_receipts_over_messages_with_events_per_call() -> None:
    results = {"smpp": {"throughput": 9000.0},
               "http single": {"throughput": 2000.0, "receipts_throughput": 1900.0,
                               "receipts_received": 20000, "receipts_calls": 1000},
               "http batch 1000": {"throughput": 8000.0, "receipts_throughput": 8000.0}}
    lines = webhook_pace(results, [
        HttpScenario(name="ceiling-lean single", batch=1, connections=4, ceiling=True,
                     responder=LEAN),
        HttpScenario(name="http single", batch=1, connections=4),
        HttpScenario(name="http batch 1000", batch=1000, connections=2)])
    assert lines == [
        "http single: webhooks 1,900 events/s over 2,000 msg/s = 0.95 (goal 1); 20.0 events"
        " per call (1,000 calls)",
        "http batch 1000: webhooks 8,000 events/s over 8,000 msg/s = 1.00 (goal 1)"]


def test_the_goal_is_judged_run_by_run_against_the_smpp_run_of_the_same_round() -> None:
    """Rounds: SMPP 10,000 / 10,000 / 7,000 msg/s, single POSTs 4,000 / 2,700 / 3,000. The
    medians (3,000 over 10,000 = 0.30) pair a POST run with another round's SMPP run; run by
    run the ratios are 0.40, 0.27, 0.43, median 0.40: met."""
    runs: dict[str, list[dict[str, Any]]] = {
        "smpp": [{"throughput": r} for r in (10_000.0, 10_000.0, 7_000.0)],
        "http single": [{"throughput": r} for r in (4_000.0, 2_700.0, 3_000.0)]}
    results = {"smpp": {"throughput": 10_000.0}, "http single": {"throughput": 3_000.0}}
    scenarios = [HttpScenario(name="http single", batch=1, connections=4)]
    assert verdict(results, scenarios, runs) == [
        "http single: 0.30 of the SMPP rate (medians); run by run 0.40 / 0.27 / 0.43,"
        " median 0.40 (goal 0.33): met"]
    assert verdict(results, scenarios) == [
        "http single: 0.30 of the SMPP rate (goal 0.33): NOT met"]
    runs["smpp"][2] = {"fatal": "smsc did not start"}  # a failed round is left out
    assert verdict(results, scenarios, runs)[0].startswith(
        "http single: 0.30 of the SMPP rate (medians); run by run 0.40 / 0.27, median 0.34")


def test_pin_cpu_is_a_number_none_or_the_last_cpu_allowed() -> None:
    assert pin_cpu_of("-1") == -1 and pin_cpu_of("0") == 0
    allowed = sorted(os.sched_getaffinity(0))
    assert pin_cpu_of("auto") == (allowed[-1] if len(allowed) > 1 else -1)
    with pytest.raises(SystemExit, match="not a CPU number"):
        pin_cpu_of("first")
