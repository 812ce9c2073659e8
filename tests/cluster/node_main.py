"""One smsc node on a PostgreSQL database, for the cluster tests and the benchmark:

    python -m tests.cluster.node_main DSN CONFIG

It runs exactly what ``smsc serve`` runs (smsc.server.run.serve) on a PostgresStore, printing
the same announcements ("listening on tcp:HOST:PORT", "cluster node NAME") on stdout.
"""

from __future__ import annotations

import sys
from pathlib import Path

from smsc.config.check import load_located
from smsc.server.run import serve
from smsc.store.postgres import PostgresStore


def main(dsn: str, config_path: str) -> int:
    path = Path(config_path)
    config = load_located(path)

    def announce(line: str) -> None:
        print(line, flush=True)

    return serve(config, PostgresStore(dsn), announce=announce,
                 reload_config=lambda: load_located(path))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
