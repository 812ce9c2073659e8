"""The soak benchmark works end to end in a very short run, and its pieces do what they say."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest

from bench.run import REPO_ROOT, ChildProcess
from bench.soak import main, render
from bench.soak_bystander import WARM_UP, Interval
from bench.soak_hostile import _unsolicited
from bench.soak_report import database_figures, log_summary
from bench.soak_wire import loopback_address, source_address
from smsc.pdu.errors import FramingError
from smsc.pdu.framing import FrameBuffer


def test_storm_addresses_start_at_127_0_0_2_and_skip_0_and_255():
    assert loopback_address(0) == "127.0.0.2"
    assert loopback_address(252) == "127.0.0.254"
    assert loopback_address(253) == "127.0.1.1"
    addresses = [loopback_address(i) for i in range(2000)]
    assert len(set(addresses)) == 2000
    assert not any(a.endswith((".0", ".255")) or a == "127.0.0.1" for a in addresses)


def test_each_kind_of_peer_has_addresses_of_its_own():
    assert source_address(1, 0) == "127.1.0.1"
    assert source_address(3, 254) == "127.3.1.1"
    assert source_address(2, 256 * 254) == source_address(2, 0)  # cycles, never leaves 127.2
    with pytest.raises(ValueError):
        source_address(0, 1)


def test_unsolicited_responses_are_well_framed():
    import random

    frames = FrameBuffer()
    frames.feed(_unsolicited(12, random.Random(3)))
    seen = []
    try:
        while (frame := frames.next_frame()) is not None:
            seen.append(int.from_bytes(frame[4:8], "big"))
    except FramingError as error:  # pragma: no cover - the assertion below says what broke
        pytest.fail(f"unsolicited frames do not frame: {error}")
    assert len(seen) == 12 and len(frames) == 0
    assert 0x80000004 in seen and 0x00000FFF in seen


def test_an_interval_summary_has_percentiles_and_bind_times():
    interval = Interval(latencies=[0.001 * i for i in range(1, 101)], bind_ms=[3.0, 9.5])
    interval.errors["ESME_RTHROTTLED"] = 2
    summary = interval.summary(4)
    assert summary == {
        "interval": 4,
        "acked": 100,
        "errors": 2,
        "p50_ms": 50.0,
        "p99_ms": 99.0,
        "max_ms": 100.0,
        "binds": 2,
        "bind_max_ms": 9.5,
    }
    assert Interval().summary(WARM_UP)["interval"] == "warm-up"


def test_unknown_peer_kinds_are_refused(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit):
        main(["--peers", "slow,flood"])
    assert "unknown --peers kind: flood" in capsys.readouterr().err


def test_the_log_summary_counts_kinds_of_line_with_numbers_masked():
    script = (
        "import sys\n"
        "for i in range(5):\n"
        "    sys.stderr.write(f'2026-01-01T00:00:0{i}+0000 [smsc.server.protocol#info] "
        "127.0.0.{i}: submit_sm_resp with sequence_number {i * 7} dropped\\n')\n"
        "sys.stderr.write('2026-01-01T00:00:09+0000 [-] Main loop terminated.\\n')\n"
        "sys.stderr.write('no newline at the end')\n"
    )
    child = ChildProcess([sys.executable, "-c", script], cwd=REPO_ROOT, name="log")
    try:
        assert child.process.wait(30) == 0
        size, lines, top = log_summary(child)
        assert size == child.stderr_size() > 0
        assert child.read_stderr(0, 10) == b"2026-01-01"
    finally:
        child.stop(5.0)
        child.close()
    assert lines == 7
    assert top[0] == ("#: submit_sm_resp with sequence_number # dropped", 5)
    assert ("Main loop terminated.", 1) in top


def test_database_figures_count_lock_and_outbox_rows(tmp_path: Path):
    db = tmp_path / "soak.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE bind_locks (kind TEXT, system_id TEXT, address TEXT)")
    conn.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY, account TEXT)")
    conn.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY)")
    conn.executemany("INSERT INTO bind_locks VALUES (?, ?, ?)", [
        ("pair", "a", "127.0.0.2"), ("pair", "b", "127.0.0.3"), ("address", "", "127.0.0.2")])
    conn.executemany("INSERT INTO outbox (account) VALUES (?)", [("slow",)] * 3)
    conn.commit()
    conn.close()
    figures = database_figures(db)
    assert figures["lock_rows"] == {"pair": 2, "address": 1}
    assert figures["outbox_rows"] == {"slow": 3}
    assert figures["messages"] == 0
    assert figures["bytes"] >= db.stat().st_size > 0


@pytest.mark.slow
def test_a_short_soak_reports_memory_latency_per_interval_and_nothing_lost(tmp_path: Path):
    out = tmp_path / "soak.json"
    code = main(
        [
            "--minutes", "0.15", "--warmup", "2", "--interval", "3", "--rate", "20",
            "--slow-readers", "1", "--slow-rate", "20", "--garbage-rate", "3",
            "--storm-rate", "4", "--churn-rate", "2", "--idle", "3", "--bind-every", "2",
            "--receipt-timeout", "20", "--sample-every", "2", "--quiet", "--json", str(out),
        ]
    )
    report = json.loads(out.read_text())
    assert code == 0, render_failure(report)
    by = report["bystander"]
    assert report["nothing_lost"] is True
    assert by["sent"] == by["acked_ok"] == by["receipts_expected"] == by["receipts_received"] > 0
    assert by["receipts_duplicates"] == by["receipts_missing"] == by["unanswered"] == 0
    labels = [row["interval"] for row in by["intervals"]]
    assert labels[0] == "warm-up" and labels[1:4] == [0, 1, 2]
    assert sum(row["acked"] for row in by["intervals"]) == by["acked_ok"]
    assert all(row["p99_ms"] >= row["p50_ms"] > 0 for row in by["intervals"] if row["acked"])
    assert by["bind_probes"]["statuses"].get("ESME_ROK", 0) >= 1
    assert 0 < report["rss_start_kib"] <= report["rss_max_kib"]
    assert 0 < report["rss_end_kib"] <= report["rss_max_kib"]
    assert report["rss_after_kib"] > 0 and report["hwm_kib"] >= report["rss_max_kib"]
    assert len(report["samples"]) >= 4 and report["fds_max"] > 0
    assert report["log_bytes"] > 0 and report["log_lines"] > 0 and report["log_top"]
    assert report["server_exit"] == 0
    hostile = report["hostile"]
    assert set(hostile) == {"slow", "garbage", "storm", "churn"}
    assert not any("fatal" in outcome for outcome in hostile.values())
    assert hostile["slow"]["binds"] == {"ESME_ROK": 1} and hostile["slow"]["pdus_sent"] > 0
    assert hostile["garbage"]["closed_by_server"] > 0
    statuses = hostile["storm"]["statuses"]
    assert statuses.get("unknown_system_id:ESME_RINVSYSID", 0) > 0
    assert hostile["churn"]["connects"] > 0 and hostile["churn"]["idle_opened"] >= 3
    assert report["database"]["lock_rows"]["pair"] >= 1  # wrong passwords lock a pair


def render_failure(report: dict[str, object]) -> str:
    return json.dumps({k: report.get(k) for k in ("bystander", "hostile", "notes")})[:4000]


def test_render_shows_the_interval_table_and_the_verdict():
    from bench.soak import SoakResult  # re-exported from bench.soak_report

    result = SoakResult(started="2026-01-01 00:00 UTC", options={"minutes": 1, "peers": ["slow"],
                        "rate": 5.0}, machine={})
    result.bystander = {
        "nothing_lost": False,
        "fatal": "could not bind",
        "intervals": [Interval(latencies=[0.002]).summary(WARM_UP), Interval().summary(0)],
    }
    text = render(result)
    assert "nothing lost: NO (could not bind)" in text
    assert "warm-up" in text and "p99 ms" in text
