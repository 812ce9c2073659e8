"""bench/contacts_bench.py runs end to end on a small list and its figures add up."""

from __future__ import annotations

from bench.contacts_bench import main


def test_the_contacts_benchmark_runs(capsys: object) -> None:
    figures = main(["--contacts", "300", "--json"])
    assert figures["rows"] == 300
    assert figures["added"] + figures["duplicates"] + figures["invalid"] == 300
    assert figures["preview_parts"] >= figures["added"]
    assert figures["campaign_sent"] == figures["added"]
    assert figures["campaign_state"] == "done"
    assert figures["import_traced_peak_kib"] > 0 and figures["preview_traced_peak_kib"] > 0
