"""The cluster benchmark works end to end with a tiny count: one node on SQLite and two on
PostgreSQL, three load clients spread over the nodes, every receipt once, CPU figures read."""

from __future__ import annotations

import pytest

from bench.cluster_bench import ClusterConfig, measure, table
from tests.postgres_db import SERVER_DSN, need_postgres

pytestmark = pytest.mark.postgres


def test_one_sqlite_node_and_two_postgres_nodes_serve_the_same_load() -> None:
    need_postgres()
    rows = [measure(ClusterConfig(store="sqlite", nodes=1), count=40, clients=3, window=8,
                    postgres=SERVER_DSN, max_seconds=30.0),
            measure(ClusterConfig(store="postgres", nodes=2), count=40, clients=3, window=8,
                    postgres=SERVER_DSN, max_seconds=30.0)]
    for row in rows:
        assert row["fatal"] == "", row
        assert row["messages"] == 120 and row["receipts_ok"], row
        assert row["throughput"] > 0 and row["p99_ms"] >= row["p50_ms"] > 0, row
    sqlite, postgres = rows
    assert sqlite["db_cpu_us_per_msg"] == 0 and len(sqlite["node_cpu_s"]) == 1
    assert len(postgres["node_cpu_s"]) == 2 and all(c > 0 for c in postgres["node_cpu_s"])
    assert postgres["db_cpu_us_per_msg"] > 0 and 0 < postgres["db_share"] < 1
    assert "2 nodes, PostgreSQL" in table(rows)
