"""The HTTP benchmark works end to end: a real server and both HTTP ceiling responders
(twisted.web and the lean one), the HTTP load client with single and batch POSTs, and receipts
counted by the client's own webhook receiver."""

from __future__ import annotations

from bench.http_bench import LEAN, HttpScenario, lean_projection, measure, verdict
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
                              HttpScenario(name="ceiling single", batch=1, connections=4,
                                           ceiling=True),
                              HttpScenario(name="http batch 50", batch=50, connections=2)])
    assert len(lines) == 2 and all("of the SMPP rate" in line for line in lines)
    assert "of the ceiling's" in lines[0] and "ceiling" not in lines[1]


def test_the_lean_projection_adds_smscs_own_cost_to_the_lean_http_cost() -> None:
    def run(rate: float, cpu: float) -> dict[str, object]:
        return {"throughput": rate, "server_cpu_us_per_msg": cpu}

    results = {"smpp": run(9000.0, 90.0), "ceiling single": run(2500.0, 330.0),
               "ceiling-lean single": run(5000.0, 150.0), "http single": run(1200.0, 680.0)}
    projection = lean_projection(results, [
        HttpScenario(name="ceiling single", batch=1, connections=4, ceiling=True),
        HttpScenario(name="ceiling-lean single", batch=1, connections=4, ceiling=True,
                     responder=LEAN),
        HttpScenario(name="http single", batch=1, connections=4)])
    assert projection == [
        "ceiling-lean single: 5,000 msg/s, 150 us/msg; 2.00 of the twisted.web ceiling's rate"
        " (330 us/msg); 0.56 of the SMPP rate (90 us/msg); smsc with a lean HTTP layer: 350 us"
        " of its own + 150 = 500 us/msg, about 0.18 of the SMPP rate by CPU"]
