"""The HTTP benchmark works end to end: a real server and the HTTP ceiling responder, the HTTP
load client with single and batch POSTs, and receipts counted by the client's own webhook
receiver."""

from __future__ import annotations

from bench.http_bench import HttpScenario, measure, verdict
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
    results = {"smpp": {"throughput": 1.0}, "http single": single, "http batch 50": batch,
               "ceiling single": ceiling}
    lines = verdict(results, [HttpScenario(name="http single", batch=1, connections=4),
                              HttpScenario(name="ceiling single", batch=1, connections=4,
                                           ceiling=True),
                              HttpScenario(name="http batch 50", batch=50, connections=2)])
    assert len(lines) == 2 and all("of the SMPP rate" in line for line in lines)
    assert "of the ceiling's" in lines[0] and "ceiling" not in lines[1]
