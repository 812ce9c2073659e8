"""Builders for operator-simulation tests: stored parts, and a driver that plays the core's role
(take the part when due, attempt, apply the change) until the part is final."""

from __future__ import annotations

import dataclasses
from typing import Any

from smsc.operators.profile import (
    DAY,
    HOUR,
    Delay,
    OfflineHandsets,
    OperatorProfile,
    Outcome,
    OutcomeMix,
)
from smsc.operators.receipts import with_change
from smsc.operators.simulation import Decision, OperatorSimulator
from smsc.pdu.constants import MessageState
from smsc.store.records import StoredMessage

T0 = 1_750_000_000.0  # 2025-06-15 15:06:40 UTC, a fixed "now" for every test

DELIVERED = Outcome(state=MessageState.DELIVERED)


def profile(name: str = "op", **changes: Any) -> OperatorProfile:
    """A plain operator: fixed 2 s delay, always DELIVRD, no outages or offline handsets."""
    base = OperatorProfile(
        name=name,
        throughput=10.0,
        delay=Delay.fixed(2.0),
        outcomes=OutcomeMix.only(DELIVERED),
        offline=OfflineHandsets(probability=0.0),
        default_validity=24 * HOUR,
        max_validity=2 * DAY,
    )
    return dataclasses.replace(base, **changes)


def simulator(*profiles: OperatorProfile, seed: int = 7, **kwargs: Any) -> OperatorSimulator:
    chosen = profiles or (profile(),)
    return OperatorSimulator({p.name: p for p in chosen}, seed=seed, **kwargs)


def message(**changes: Any) -> StoredMessage:
    """A waiting part submitted at T0, due at T0 + 2 s, valid for 24 h."""
    return StoredMessage(**_fields(changes))


def _fields(changes: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": 1,
        "message_id": 1000,
        "account": "acct",
        "credit_owner": "acct",
        "source_addr_ton": 5,
        "source_addr_npi": 0,
        "source_addr": "ShopName",
        "dest_addr_ton": 1,
        "dest_addr_npi": 1,
        "destination_addr": "380671234567",
        "esm_class": 0,
        "protocol_id": 0,
        "priority_flag": 0,
        "data_coding": 0,
        "registered_delivery": 1,
        "short_message": b"Hello from the test suite, a long enough text",
        "tlvs": b"",
        "service_type": "",
        "part_ref": 0,
        "part_total": 1,
        "part_index": 1,
        "operator": "op",
        "route": "r",
        "price": 5,
        "charged_subscription": 0,
        "charged_bought": 5,
        "submitted_at": T0,
        "scheduled_at": None,
        "expires_at": T0 + 24 * HOUR,
        "next_at": T0 + 2.0,
        "state": int(MessageState.ENROUTE),
        "attempts": 0,
        "done_at": None,
        "error_code": 0,
        "text_snippet": "Hello from the test ",
        "blacklisted": False,
        "refunded": 0,
    }
    fields.update(changes)
    return fields


def accepted(sim: OperatorSimulator, **changes: Any) -> StoredMessage:
    """A part as the core would store it: next_at from ``first_attempt_at``."""
    fields = _fields(changes)
    fields["next_at"] = sim.first_attempt_at(
        operator=fields["operator"],
        message_id=fields["message_id"],
        part_index=fields["part_index"],
        destination_addr=fields["destination_addr"],
        now=fields["submitted_at"],
        scheduled_at=fields["scheduled_at"],
        blacklisted=fields["blacklisted"],
        expires_at=fields["expires_at"],
    )
    return StoredMessage(**fields)


def live(
    sim: OperatorSimulator, part: StoredMessage, *, max_steps: int = 10_000, **kwargs: Any
) -> tuple[StoredMessage, list[tuple[float, Decision]]]:
    """Attempt the part each time it is due until it is final; returns the final part and the
    (time, decision) of every attempt."""
    steps: list[tuple[float, Decision]] = []
    for _ in range(max_steps):
        due = part.next_at
        if due is None:
            return part, steps
        decision = sim.attempt(part, due, **kwargs)
        steps.append((due, decision))
        part = with_change(part, decision.change)
    raise AssertionError(f"part not final after {max_steps} attempts")
