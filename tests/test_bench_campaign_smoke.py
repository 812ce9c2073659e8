"""The campaign benchmark works end to end on a small list: CSV import and preview by the CLI, the
campaign sent by a real ``smsc serve`` with a receipt per message to a receiver bind, and the
SMPP load for the same count, with the server's RSS read."""

from __future__ import annotations

from bench.campaign_bench import run_campaign_bench
from bench.run import BenchOptions

OPTIONS = BenchOptions(max_seconds=30.0, receipt_timeout=30.0, startup_timeout=30.0)


def test_the_campaign_benchmark_runs_and_its_figures_add_up() -> None:
    figures = run_campaign_bench(300, OPTIONS, send_limit=60.0, repeat=2)
    assert figures["campaign_state"] == "done"
    assert figures["campaign_sent"] == figures["imported"] == figures["preview_parts"]
    assert figures["campaign_receipts"] == figures["campaign_sent"]
    assert figures["smpp_messages"] == figures["smpp_receipts"] == figures["campaign_sent"]
    assert figures["campaign_over_smpp"] is not None
    assert len(figures["campaign_runs_per_second"]) == len(figures["smpp_runs_per_second"]) == 2
    assert 0 < figures["rss_before_kib"] <= figures["rss_peak_kib"]
