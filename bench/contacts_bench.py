"""Contact lists at scale: import rate and preview time of a large list, and peak memory.

Writes a CSV of ``--contacts`` rows (default 100,000: national and international forms, a
name and a city, 1% invalid, 1% repeats), imports it into a contact list of a fresh SQLite
database through :class:`smsc.core.contacts.ContactImport` (batches of 1,000 rows), then
previews a personalised text over the list with :class:`smsc.core.preview.CampaignPreview`
(the packaged routes and prices), and runs a campaign over it in the core
(:class:`smsc.core.campaign_runner.CampaignRunner` steps of 1,000 contacts through intake and
``Store.accept_campaign``; no server, no operator: the parts stay queued). The import and the
preview run twice: once timed, once under tracemalloc for their peak of traced memory (Python
allocations, SQLite's page cache aside), which must not grow with the list. The process's peak
RSS is printed at the end.

    python -m bench.contacts_bench                    # 100,000 contacts
    python -m bench.contacts_bench --contacts 1000000 --no-trace
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from smsc.config.loader import load_config, packaged_defaults
from smsc.core.campaign_runner import CampaignRunner
from smsc.core.centre import SmscCore, operator_desk
from smsc.core.contacts import ContactImport, ImportSummary
from smsc.core.ids import MessageIdFormat
from smsc.core.preview import CampaignPreview, Preview
from smsc.core.routebook import RouteBook
from smsc.core.templates import Template
from smsc.routing.numbers import NumberPlan
from smsc.store.campaign_records import Campaign, CampaignState
from smsc.store.records import Account, Bucket
from smsc.store.sqlite import SqliteStore

T = TypeVar("T")
NOW = 1_750_000_000.0
TEXT = "Hello {name|customer}! Spring sale in {city|your city}: -20% until Sunday. {number}"
PREFIXES = ("067", "050", "063", "093", "068", "066", "073")


def write_csv(path: Path, contacts: int, seed: int = 14) -> None:
    rng = random.Random(seed)
    names = ["Olena", "Taras", "Iryna", "Bob", "Zoë", "Андрій", ""]
    cities = ["Kyiv", "Lviv", "Odesa", "Dnipro", ""]
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("\ufeffname;phone;city\n")
        last = "0671234567"
        for i in range(contacts):
            roll = rng.random()
            if roll < 0.01:
                number = "12" + str(i % 10)  # invalid
            elif roll < 0.02:
                number = last  # a repeat
            else:
                national = f"{PREFIXES[i % len(PREFIXES)]}{i:07d}"
                number = national if i % 2 else f"+38 {national}"
                last = national
            f.write(f"{names[i % len(names)]};{number};{cities[i % len(cities)]}\n")


def traced(run: Callable[[], T]) -> tuple[T, int]:
    tracemalloc.start()
    try:
        result = run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def run_campaign(store: SqliteStore, routing: RouteBook, config: Any,
                 list_name: str) -> dict[str, Any]:
    """Send the list once through the core's campaign runner; its rate."""
    lst = store.contact_list("acme", list_name)
    assert lst is not None
    made = store.create_campaign(Campaign(account="acme", name="bench", lists=(lst.id,),
                                          template=TEXT, source="Shop"), NOW)
    store.set_campaign_state(made.id, CampaignState.RUNNING, NOW)
    first = store.reserve_ids(lst.size + 10)
    ids = iter(range(first, first + lst.size + 10))
    core = SmscCore(store, simulator=config.operators.simulator(), route=routing.route,
                    id_format=MessageIdFormat(hex_ids=True), take_id=lambda: next(ids, None))
    runner = CampaignRunner(store)
    sent = 0
    started = time.perf_counter()
    for _ in range(lst.size // 100 + 10):
        result = runner.step(made.id, core.intake, NOW, 1000)
        sent += result.sent
        if result.state != CampaignState.RUNNING:
            break
    seconds = time.perf_counter() - started
    return {"campaign_sent": sent, "campaign_seconds": round(seconds, 3),
            "campaign_contacts_per_second": round(sent / seconds) if seconds else 0,
            "campaign_state": str(result.state)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--no-trace", action="store_true", help="Skip the tracemalloc runs.")
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "contacts.csv"
        write_csv(csv_path, args.contacts)
        store = SqliteStore(Path(tmp) / "bench.sqlite")
        account = Account(system_id="acme", password_hash="h", max_parts=4)
        store.create_account(account)
        store.credit("acme", 10**9, Bucket.BOUGHT, NOW)
        config = load_config(packaged_defaults())
        routing = RouteBook(config.routing)
        routing.install(routing.load(store))
        desk = operator_desk(config.operators.simulator())
        numbers = NumberPlan()
        numbers.warm([380])

        def do_import(name: str) -> ImportSummary:
            target = store.create_contact_list("acme", name, country="UA", now=NOW)
            with csv_path.open(encoding="utf-8-sig", newline="") as f:
                return ContactImport(store, target, account, numbers=numbers).run(f)

        def do_preview(name: str) -> Preview:
            lst = store.contact_list("acme", name)
            assert lst is not None
            return CampaignPreview(store, account, routing.route,
                                   test_status=desk.test_submit_status).run(
                [lst], Template.parse(TEXT), source="Shop", now=NOW)

        started = time.perf_counter()
        summary = do_import("timed")
        import_seconds = time.perf_counter() - started
        started = time.perf_counter()
        preview = do_preview("timed")
        preview_seconds = time.perf_counter() - started
        figures: dict[str, Any] = {
            "contacts_in_file": args.contacts,
            "rows": summary.rows, "added": summary.added, "duplicates": summary.duplicates,
            "invalid": summary.invalid,
            "import_seconds": round(import_seconds, 3),
            "import_rows_per_second": round(summary.rows / import_seconds),
            "preview_seconds": round(preview_seconds, 3),
            "preview_contacts_per_second": round(preview.contacts / preview_seconds),
            "preview_parts": preview.parts, "preview_total_minor": preview.total,
        }
        figures.update(run_campaign(store, routing, config, "timed"))
        if not args.no_trace:
            _, import_peak = traced(lambda: do_import("traced"))
            _, preview_peak = traced(lambda: do_preview("traced"))
            figures["import_traced_peak_kib"] = import_peak // 1024
            figures["preview_traced_peak_kib"] = preview_peak // 1024
        store.close()
    figures["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:32} {value}")
    return figures


if __name__ == "__main__":
    main()
