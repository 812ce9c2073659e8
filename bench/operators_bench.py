"""Micro-benchmark: cost per part of the operator simulation's hot path.

    .venv/bin/python -m bench.operators_bench [--parts N] [--repeat N]

Builds N waiting parts (default 20,000) for the built-in operators with the built-in outcome
mixes, offline handsets and a handful of outcome rules, then times, per part:

- ``first_attempt_at`` (run once per part at acceptance);
- ``attempt`` (run once or more per part in the due loop);
- ``attempt`` followed by ``final_receipt`` when the part is final: what the core does per
  part in a due round (the deliver_sm is built, not encoded);
- ``with_change`` + ``message_receipt`` for 3-part messages (the per-message receipt path).

Each figure is the best of ``--repeat`` passes over all N parts, in microseconds per part.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence

from smsc.operators.outcome_rules import OutcomeRule, OutcomeRules
from smsc.operators.profile import HOUR, Outcome, OutcomeMix, builtin_profiles
from smsc.operators.receipts import final_receipt, message_receipt, with_change
from smsc.operators.simulation import OperatorSimulator
from smsc.pdu.constants import MessageState
from smsc.store.records import MessageChange, StoredMessage

NOW = 1_750_000_000.0
OPERATORS = ("kyivstar", "vodafone", "lifecell", "utel", "peoplenet", "intertelecom")


def hex_id(value: int) -> str:
    return f"{value:X}"


def make_parts(sim: OperatorSimulator, count: int, part_total: int = 1) -> list[StoredMessage]:
    parts = []
    for i in range(count):
        operator = OPERATORS[i % len(OPERATORS)]
        message_id = 1_000_000 + i // part_total
        index = i % part_total + 1
        destination = f"38067{i // part_total:07d}"
        next_at = sim.first_attempt_at(
            operator=operator,
            message_id=message_id,
            part_index=index,
            destination_addr=destination,
            now=NOW,
            expires_at=NOW + 24 * HOUR,
        )
        parts.append(
            StoredMessage(
                id=i + 1,
                message_id=message_id,
                account=f"acct{i % 50}",
                credit_owner="owner",
                source_addr_ton=5,
                source_addr_npi=0,
                source_addr="ShopName",
                dest_addr_ton=1,
                dest_addr_npi=1,
                destination_addr=destination,
                esm_class=0x40 if part_total > 1 else 0,
                protocol_id=0,
                priority_flag=0,
                data_coding=0,
                registered_delivery=0x11,
                short_message=b"Your code is 4471. It expires in 10 minutes.",
                tlvs=b"",
                service_type="",
                part_ref=7 if part_total > 1 else 0,
                part_total=part_total,
                part_index=index,
                operator=operator,
                route="r",
                price=5,
                charged_subscription=0,
                charged_bought=5,
                submitted_at=NOW,
                scheduled_at=None,
                expires_at=NOW + 24 * HOUR,
                next_at=next_at,
                state=int(MessageState.ENROUTE),
                attempts=0,
                done_at=None,
                error_code=0,
                text_snippet="Your code is 4471. I",
                blacklisted=False,
                refunded=0,
            )
        )
    return parts


def best_per_item(run: Callable[[], int], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        items = run()
        best = min(best, (time.perf_counter() - start) / items)
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rules = OutcomeRules(
        [
            OutcomeRule(prefix="1", mix=OutcomeMix.only(Outcome(state=MessageState.REJECTED))),
            OutcomeRule(
                account="acct3", mix=OutcomeMix.only(Outcome(state=MessageState.DELIVERED))
            ),
            OutcomeRule(
                operator="kyivstar",
                prefix="3806799",
                mix=OutcomeMix.only(Outcome(state=MessageState.UNDELIVERABLE, err=1)),
            ),
        ]
    )
    sim = OperatorSimulator(builtin_profiles(), rules, seed=42)
    parts = make_parts(sim, args.parts)
    due = [(p, p.next_at or NOW) for p in parts]

    def accept() -> int:
        for p in parts:
            sim.first_attempt_at(
                operator=p.operator,
                message_id=p.message_id,
                part_index=p.part_index,
                destination_addr=p.destination_addr,
                now=NOW,
                expires_at=p.expires_at,
            )
        return len(parts)

    def attempt_only() -> int:
        for p, at in due:
            sim.attempt(p, at)
        return len(due)

    finals = 0

    def attempt_and_receipt() -> int:
        nonlocal finals
        finals = 0
        for p, at in due:
            decision = sim.attempt(p, at)
            if decision.change.next_at is None:
                finals += 1
                final_receipt(p, decision.change, hex_id, network_error=decision.network_error)
        return len(due)

    long_parts = make_parts(sim, args.parts - args.parts % 3, part_total=3)
    groups: list[Sequence[StoredMessage]] = [
        long_parts[i : i + 3] for i in range(0, len(long_parts), 3)
    ]

    def per_message() -> int:
        for group in groups:
            done = [
                with_change(
                    p,
                    MessageChange(
                        id=p.id,
                        state=int(MessageState.DELIVERED),
                        next_at=None,
                        attempts=1,
                        done_at=NOW + 5,
                    ),
                )
                for p in group
            ]
            message_receipt(done, hex_id)
        return len(long_parts)

    print(f"{args.parts} parts, built-in operators, 3 outcome rules, best of {args.repeat}")
    print(f"first_attempt_at            {best_per_item(accept, args.repeat):7.2f} us/part")
    print(f"attempt                     {best_per_item(attempt_only, args.repeat):7.2f} us/part")
    both = best_per_item(attempt_and_receipt, args.repeat)
    print(f"attempt + final_receipt     {both:7.2f} us/part  ({finals} of {len(due)} final)")
    print(f"with_change+message_receipt {best_per_item(per_message, args.repeat):7.2f} us/part")


if __name__ == "__main__":
    main()
