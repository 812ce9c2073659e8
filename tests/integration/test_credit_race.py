"""Credit under concurrency, over real sockets: several binds hammer one small balance at once.

Whatever the interleaving, exactly floor(balance / price) parts are accepted, every other submit
is refused with SMSC_RNOCREDIT, the balance never goes below zero, each accepted part is billed
once, a long message is accepted or refused whole, and the ledger adds up to the balance
(docs/routing.md "Credit"). The module's server charges 0.03 EUR per part.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from decimal import Decimal
from typing import Any

from smsc.pdu import CommandStatus, Tag, Tlvs, pdus
from tests.integration.conftest import (
    PRICE_CENTS,
    UA_NUMBERS,
    CodecEsme,
    Login,
    SmscServer,
    bound_esme,
    submit,
)

S = CommandStatus
WINDOW = 32  # requests in flight per bind
HAMMER_TIMEOUT = 30.0  # for every bind to get all its answers


def hammer(
    esme: CodecEsme, requests: Sequence[pdus.Pdu], start: threading.Barrier
) -> list[pdus.Pdu]:
    """Send ``requests`` keeping up to WINDOW unanswered, once every bind is ready; the
    responses."""
    pending = list(reversed(requests))
    in_flight: set[int] = set()
    responses: list[pdus.Pdu] = []
    start.wait(timeout=HAMMER_TIMEOUT)
    deadline = time.monotonic() + HAMMER_TIMEOUT
    while pending or in_flight:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(in_flight)} requests unanswered")
        while pending and len(in_flight) < WINDOW:
            in_flight.add(esme.send(pending.pop()))
        esme.pump(0.2)
        for seq in [s for s in in_flight if s in esme.responses]:
            in_flight.discard(seq)
            responses.append(esme.responses.pop(seq))
        if esme.closed:
            raise ConnectionError("the server closed a hammering bind")
    return responses


def race(port: int, logins: Sequence[Login], requests: Sequence[Sequence[pdus.Pdu]]) -> list[Any]:
    """One bind per login, each sending its share of ``requests`` at the same moment."""
    start = threading.Barrier(len(logins))
    with ExitStack() as stack, ThreadPoolExecutor(len(logins)) as pool:
        binds = [stack.enter_context(bound_esme(port, "trx", login)) for login in logins]
        futures = [
            pool.submit(hammer, esme, share, start)
            for esme, share in zip(binds, requests, strict=True)
        ]
        return [r for f in futures for r in f.result(timeout=2 * HAMMER_TIMEOUT)]


def cents(amount: str) -> int:
    value = Decimal(amount) * 100
    assert value == value.to_integral_value(), amount
    return int(value)


def check_ledger(server: SmscServer, owner: str, *, debits: int, parts: int = 1) -> None:
    """The ledger adds up to the balance, row by row, never below zero, with one debit row per
    accepted message of ``parts`` parts."""
    rows: list[dict[str, Any]] = json.loads(server.cli("credit", "ledger", owner, "--json"))
    balance = server.balance(owner)
    running = 0
    for row in rows:
        running += cents(row["amount"])
        assert running == cents(row["balance_after"]) >= 0, row
    assert running == balance
    kinds = Counter(row["kind"] for row in rows)
    assert kinds == Counter({"topup": 1, "debit": debits})
    assert {cents(row["amount"]) for row in rows if row["kind"] == "debit"} == {
        -parts * PRICE_CENTS
    }


def stored(server: SmscServer, system_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(
        server.cli("report", "messages", "--account", system_id, "--json")
    )
    return rows


def test_four_binds_get_exactly_the_parts_one_balance_covers(smsc: SmscServer) -> None:
    login = smsc.add_account(credit="1.00")
    binds, per_bind = 4, 50
    shares = [
        [
            submit(UA_NUMBERS[(b + n) % 5], f"bind {b} #{n}".encode(), registered_delivery=0)
            for n in range(per_bind)
        ]
        for b in range(binds)
    ]
    responses = race(smsc.port, [login] * binds, shares)
    statuses = Counter(r.command_status for r in responses)
    covered = 100 // PRICE_CENTS  # 33 parts of 0.03 in 1.00
    assert statuses == Counter({S.ESME_ROK: covered, S.SMSC_RNOCREDIT: binds * per_bind - covered})
    ids = [r.message_id for r in responses if r.command_status == 0]
    assert len(set(ids)) == covered
    assert smsc.balance(login.system_id) == 100 - covered * PRICE_CENTS == 1
    check_ledger(smsc, login.system_id, debits=covered)
    assert len(stored(smsc, login.system_id)) == covered


def test_sub_accounts_racing_for_their_parents_credit_get_long_messages_whole(
    smsc: SmscServer,
) -> None:
    parent = smsc.add_account(credit="1.00")
    child = Login(system_id=f"{parent.system_id}c", password="kid1")
    smsc.cli("account", "add", child.system_id, "--parent", parent.system_id, "--password", "kid1")
    two_parts = Tlvs.of({Tag.MESSAGE_PAYLOAD: ("race " * 60)[:300].encode()})  # 0.06 each
    binds, per_bind = 4, 25
    shares = [
        [
            submit(UA_NUMBERS[n % 5], b"", registered_delivery=0, tlvs=two_parts)
            for n in range(per_bind)
        ]
        for _ in range(binds)
    ]
    responses = race(smsc.port, [parent, child, parent, child], shares)
    statuses = Counter(r.command_status for r in responses)
    covered = 100 // (2 * PRICE_CENTS)  # 16 messages of 2 parts; 0.04 is left, not enough
    assert statuses == Counter({S.ESME_ROK: covered, S.SMSC_RNOCREDIT: binds * per_bind - covered})
    assert smsc.balance(parent.system_id) == 100 - 2 * covered * PRICE_CENTS == 4
    check_ledger(smsc, parent.system_id, debits=covered, parts=2)
    parts = stored(smsc, parent.system_id) + stored(smsc, child.system_id)
    per_message = Counter(row["message_id"] for row in parts)
    assert len(per_message) == covered and set(per_message.values()) == {2}
