"""The queue benchmark works end to end at a tiny scale, and its pieces do what they say."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.queue_bench import (
    OPERATOR,
    QUEUE_CONFIG,
    DrainSample,
    QueueBenchOptions,
    drain_figures,
    markdown_report,
    outage_config,
    receipt_figures,
    run_queue_bench,
)
from smsc.config.loader import load_config


def test_the_generated_config_has_exactly_the_outage_asked_for(tmp_path: Path):
    text = outage_config(QUEUE_CONFIG.read_text(), 1_700_000_000.0, 1_700_000_090.5)
    path = tmp_path / "queues.toml"
    path.write_text(text)
    profile = load_config(path).operators.profiles[OPERATOR]
    assert [(w.start, w.end) for w in profile.outages] == [(1_700_000_000.0, 1_700_000_090.5)]
    assert profile.outage_end(1_700_000_050.0) == 1_700_000_090.5
    assert profile.outage_end(1_700_000_090.5) is None
    assert profile.throughput == 0 and profile.queue_limit >= 1_000_000


@pytest.mark.parametrize("lines", [0, 2])
def test_a_template_without_exactly_one_outages_line_is_refused(lines: int):
    template = "[operators.queued]\n" + "outages = []\n" * lines
    with pytest.raises(ValueError, match=f"has {lines} `outages = ` lines"):
        outage_config(template, 0.0, 1.0)


def _samples(points: list[tuple[float, int, int]]) -> list[DrainSample]:
    return [DrainSample(at=at, waiting=waiting, received=got) for at, waiting, got in points]


def test_drain_figures_stop_at_the_first_empty_sample():
    samples = _samples(
        [
            (-1.0, 100, 0),
            (0.0, 100, 0),
            (1.0, 90, 0),
            (2.0, 50, 10),
            (3.0, 10, 20),
            (4.0, 0, 40),
            (5.0, 0, 100),
        ]
    )
    figures = drain_figures(samples, 100)
    assert figures["empty_at"] == 4.0
    assert figures["rate"] == 25.0  # 100 parts in 4 s, not in 5 s
    assert figures["steady"] == 40.0  # from 90 at 1 s to 10 at 3 s
    assert figures["projected"] == 4.0
    paces = receipt_figures(samples)
    assert paces["overall"] == 20.0
    assert paces["draining"] == 10.0  # 40 receipts from 0 s to 4 s
    assert paces["after_empty"] == 60.0


def test_drain_figures_project_an_unfinished_drain():
    figures = drain_figures(_samples([(0.0, 1000, 0), (2.0, 800, 0), (4.0, 600, 0)]), 1000)
    assert figures["empty_at"] is None
    assert figures["rate"] == 100.0
    assert figures["projected"] == 10.0
    assert drain_figures(_samples([(-2.0, 5, 0)]), 5)["rate"] == 0.0


def test_a_small_queue_waits_for_the_outage_then_drains_with_every_receipt():
    options = QueueBenchOptions(
        messages=600,
        batch=250,
        # long enough for a loaded machine to read the idle memory of the start before the
        # outage ends (a 5 s outage was too short for it under a parallel suite)
        outage_seconds=12.0,
        drain_seconds=30.0,
        starts=1,
        receipts=True,
        startup_timeout=60.0,
        stop_timeout=30.0,
        verbose=False,
    )
    result = run_queue_bench(options)
    assert result.notes == []
    assert len(result.starts) == 1
    start = result.starts[0]
    assert 0 < start.listening_s <= start.serving_s
    assert start.rss_kib > 0 and start.hwm_kib >= start.rss_kib
    assert start.stop_s is not None and result.final_stop_s == start.stop_s
    # Nothing leaves the queue before the outage ends (the samples start 2 s before its end
    # when the server is up by then).
    assert all(s.waiting == 600 and s.received == 0 for s in result.samples if s.at < -0.05)
    assert result.drained == 600
    assert result.all_drained_s is not None and result.all_drained_s >= 0
    assert result.receipts_received == 600
    report = markdown_report(result, options, datetime.now(UTC))
    assert "| parts delivered in the window | 600 |" in report
    assert "| receipts received in the window | 600 |" in report
