"""What one page of ``GET /v1/messages`` costs the store when other accounts sent the most.

    python -m bench.message_page_bench [--others N] [--postgres URL] [--repeat R]

Fills a fresh SQLite file (and, with ``--postgres``, a fresh schema of that database) with 20
messages of account ``acme`` and then ``--others`` (default 200,000) newer messages of account
``bulk``, and times ``Store.message_page("acme", limit=100)`` from the newest (the median of
``--repeat`` calls), with no filter and with a ``destination`` filter. Also reports how long
the fill took (the insert path carries the messages' indexes) and what the page found.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.postgres_bench import fresh_schema
from smsc.core.lookup import PAGE_SCAN
from smsc.store.base import Store
from smsc.store.location import open_store
from smsc.store.records import Account, Bucket, NewMessage

NOW = 1_700_000_000.0
BATCH = 2_000
OWN = 20


def message(message_id: int, account: str, dest: str) -> NewMessage:
    return NewMessage(
        message_id=message_id, account=account, credit_owner=account, source_addr_ton=5,
        source_addr_npi=0, source_addr="Shop", dest_addr_ton=1, dest_addr_npi=1,
        destination_addr=dest, esm_class=0, data_coding=0, registered_delivery=1,
        short_message=b"hello", part_ref=0, part_total=1, part_index=1, operator="op",
        route="r", price=1, submitted_at=NOW + message_id, expires_at=NOW + 86_400,
        next_at=NOW + 86_400, text_snippet="hello")  # waiting, a day ahead


def fill(store: Store, others: int) -> float:
    """CPU seconds (this process) to store OWN messages of acme, then ``others`` of bulk."""
    for name in ("acme", "bulk"):
        store.create_account(Account(system_id=name, password_hash="x"))
        store.credit(name, 10 * (others + OWN), Bucket.BOUGHT, NOW)
    batches = [[message(i, "acme", f"38050{i:07d}") for i in range(1, OWN + 1)]]
    for first in range(OWN + 1, OWN + 1 + others, BATCH):
        last = min(first + BATCH, OWN + 1 + others)
        batches.append([message(i, "bulk", f"38067{i % 1000:07d}")
                        for i in range(first, last)])
    started = time.process_time()
    for batch in batches:
        store.accept(batch, NOW)
    return time.process_time() - started


def timed_page(store: Store, repeat: int, destination: str | None) -> tuple[float, int]:
    """(median milliseconds, messages found) of a first page of acme's messages."""
    times = []
    found = 0
    for _ in range(repeat):
        started = time.perf_counter()
        page = store.message_page("acme", before=None, limit=100, scan=PAGE_SCAN,
                                  destination=destination)
        times.append((time.perf_counter() - started) * 1000)
        found = len(page.messages)
    return statistics.median(times), found


def measure(name: str, location: str, others: int, repeat: int) -> None:
    store = open_store(location)
    try:
        filled = fill(store, others)
        plain, found = timed_page(store, repeat, None)
        to, found_to = timed_page(store, repeat, f"38050{OWN:07d}")
    finally:
        store.close()
    print(f"{name}: fill {others + OWN} messages {filled:.1f} s of CPU; first page of acme "
          f"{plain:.2f} ms ({found} messages); with to= {to:.2f} ms ({found_to} messages)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--others", type=int, default=200_000)
    parser.add_argument("--postgres", default="")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        measure("sqlite", str(Path(directory) / "pages.sqlite"), args.others, args.repeat)
    if args.postgres:
        with fresh_schema(args.postgres) as url:
            measure("postgres", url, args.others, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
