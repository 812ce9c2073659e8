"""Per-call costs of the routing core (not a test): number check, route lookup, blacklist lookup,
the whole Router.decide with 10,000 routes and 100,000 blacklist entries loaded, and a password
verification. Figures are CPU time per call, best of five runs, including the loop's own cost.

    .venv/bin/python -m bench.routing_bench [--routes 10000] [--blacklist 100000]
"""

from __future__ import annotations

import argparse
import itertools
import random
import time
from collections.abc import Callable

from smsc.routing.accounts import hash_password, verify_password
from smsc.routing.blacklist import Blacklist
from smsc.routing.numbers import NumberPlan
from smsc.routing.prices import AccountPrices, PriceBook
from smsc.routing.router import Router
from smsc.routing.routes import CoverageRule, Route, RouteTable
from smsc.store.records import Account, BlacklistEntry

UA_ROUTES = {
    "lifecell": ("38063", "38073", "38093"),
    "kyivstar": ("38067", "38068", "38096", "38097", "38098"),
    "vodafone": ("38050", "38066", "38095", "38099"),
}


def per_call(label: str, call: Callable[[], object], loops: int) -> float:
    """Best of five runs of ``loops`` calls, in microseconds of this process's CPU time per
    call (CPU time, so that other work on the machine does not count)."""
    for _ in range(min(loops, 1000)):
        call()
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        for _ in range(loops):
            call()
        best = min(best, (time.process_time() - start) / loops)
    micro = best * 1e6
    print(f"{label:<58} {micro:9.2f} us")
    return micro


def build_routes(count: int, rng: random.Random) -> list[Route]:
    routes = [
        Route(name=name, prefixes=prefixes, operators=(name, "vodafone"), price=35, currency="EUR")
        for name, prefixes in UA_ROUTES.items()
    ]
    seen = {p for route in routes for p in route.prefixes}
    countries = ["48", "49", "44", "33", "39", "34", "373", "374", "375", "995", "7", "90"]
    while len(seen) < count:
        prefix = rng.choice(countries) + "".join(
            rng.choice("0123456789") for _ in range(rng.randint(1, 5))
        )
        if prefix in seen:
            continue
        seen.add(prefix)
        routes.append(
            Route(
                name=f"r{len(routes)}",
                prefixes=(prefix,),
                operators=(f"op{len(routes) % 50}", "backup"),
                price=rng.randint(1, 200),
                currency="EUR",
            )
        )
    return routes


def build_blacklist(count: int, rng: random.Random) -> list[BlacklistEntry]:
    """``count`` distinct entries: a tenth prefixes of 6-9 digits, a third per account."""
    entries: dict[tuple[str, str, bool], BlacklistEntry] = {}
    index = 0
    while len(entries) < count:
        index += 1
        prefix = index % 10 == 0
        digits = rng.randint(6, 9) if prefix else 12
        number = "380" + "".join(rng.choice("0123456789") for _ in range(digits - 3))
        account = "" if index % 3 else f"acct{index % 100}"
        entries[number, account, prefix] = BlacklistEntry(
            number=number, account=account, prefix=prefix
        )
    return list(entries.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--routes", type=int, default=10_000)
    parser.add_argument("--blacklist", type=int, default=100_000)
    parser.add_argument("--loops", type=int, default=200_000)
    args = parser.parse_args()
    rng = random.Random(7)
    loops = args.loops

    plan = NumberPlan()
    number = "380671234567"
    per_call("NumberPlan.check (UA mobile)", lambda: plan.check(number, 1, 1), loops)
    per_call("NumberPlan.check (US, shared +1 code)", lambda: plan.check("12025550123"), loops)
    # How Kannel sends by default: ton 2 (national), without '+'; and ton 2 with '+'.
    per_call("NumberPlan.check (ton 2, international digits)",
             lambda: plan.check(number, 2, 1), loops)
    per_call("NumberPlan.check (ton 2, national, home UA)",
             lambda: plan.check("0671234567", 2, 1, "UA"), loops)
    per_call("NumberPlan.check (ton 2, '+' first)", lambda: plan.check("+" + number, 2, 1), loops)
    per_call("NumberPlan.check (possible, not valid)", lambda: plan.check("447700900123"), loops)

    routes = build_routes(args.routes, rng)
    coverage = [CoverageRule(name="us-canada", prefixes=("1",))]
    prices = PriceBook([AccountPrices(account="priced", currency="EUR", by_route={"kyivstar": 30})])
    table = RouteTable(routes, coverage, prices=prices)
    print(f"route table: {len(table)} prefixes")
    per_call("RouteTable.route (no account)", lambda: table.route(number), loops)

    entries = build_blacklist(args.blacklist, rng)
    start = time.perf_counter()
    blacklist = Blacklist(entries)
    print(f"blacklist: {len(blacklist)} entries loaded in {time.perf_counter() - start:.2f} s")
    per_call("Blacklist.match (miss)", lambda: blacklist.match(number, "acct1"), loops)
    hit = next(e.number for e in entries if not e.prefix and not e.account)
    per_call("Blacklist.match (exact hit)", lambda: blacklist.match(hit, "acct1"), loops)

    router = Router(table, blacklist=blacklist, numbers=plan)
    account = Account(system_id="acct1", password_hash="", sender_ids=("Shop",))
    priced = Account(system_id="priced", password_hash="")

    def decide(who: Account = account, sender: str = "Shop") -> object:
        return router.decide(
            who,
            source_addr=sender,
            source_ton=5,
            source_npi=0,
            destination_addr=number,
            dest_ton=1,
            dest_npi=1,
            now=0.0,
        )

    per_call("Router.decide (valid, 10k routes, 100k blacklist)", decide, loops)
    per_call("Router.decide (account price list)", lambda: decide(priced), loops)
    numbers = [f"38067{rng.randrange(10**7):07d}" for _ in range(1000)]
    cycle = itertools.cycle(numbers)

    def decide_random() -> object:
        return router.decide(
            account,
            source_addr="Shop",
            source_ton=5,
            source_npi=0,
            destination_addr=next(cycle),
            dest_ton=1,
            dest_npi=1,
            now=0.0,
        )

    per_call("Router.decide (1,000 different destinations)", decide_random, loops)

    stored = hash_password("secret12")
    per_call(
        "verify_password (scrypt n=2048 r=8 p=1)", lambda: verify_password("secret12", stored), 50
    )


if __name__ == "__main__":
    main()
