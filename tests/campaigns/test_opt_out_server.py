"""A simulated handset that replies STOP (an MO rule) in a running server: the queue round puts
it on the account's opt-out list and the confirmation is submitted through intake and the group
commit at price 0, once (a second STOP changes nothing and is not confirmed, so a handset that
answers everything with STOP cannot start a loop). The real service on a fake clock
(tests/server/harness.py)."""

from __future__ import annotations

from typing import Any

from smsc.config.loader import config_from_tables
from smsc.pdu import pdus
from smsc.store.memory import MemoryStore
from smsc.store.records import MessageFilter
from tests.server.harness import (
    DESTINATION,
    OPERATOR_DELAY,
    SENDER,
    Rig,
    add_account,
    base_tables,
)


def _rig(reply: str) -> tuple[Rig, MemoryStore]:
    tables: dict[str, Any] = base_tables()
    tables["routes"].append({"name": "back", "prefix": "380631", "operators": ["op"],
                             "price": "0.05"})
    tables["mo_rules"] = [{"account": "acme", "mode": "fixed", "text": reply}]
    store = MemoryStore()
    add_account(store)
    return Rig(store, config_from_tables(tables)), store


def _run(rig: Rig, esme: Any, seconds: float) -> list[pdus.DeliverSm]:
    got: list[pdus.DeliverSm] = []
    for _ in range(int(seconds)):
        rig.advance(1.0)
        for pdu in esme.deliveries():
            got.append(pdu)
            esme.answer(pdu)
    return got


def test_a_handset_stop_opts_out_and_is_confirmed_once() -> None:
    rig, store = _rig("STOP")
    esme = rig.bound()
    esme.submit_and_commit(DESTINATION, b"spring sale")
    delivered = _run(rig, esme, OPERATOR_DELAY * 6)
    mo = [p for p in delivered if p.short_message == b"STOP"]
    assert mo and mo[0].source_addr == DESTINATION  # the customer hears the STOP
    assert store.opted_out("acme", [DESTINATION]) == {DESTINATION}
    parts = list(store.messages(MessageFilter(account="acme")))
    confirmations = [p for p in parts if p.source_addr == SENDER and p.price == 0
                     and p.registered_delivery == 0]
    assert len(confirmations) == 1, parts
    assert confirmations[0].destination_addr == DESTINATION
    assert len(parts) == 2  # the customer's message and one confirmation, no loop
    assert rig.service.confirmations.sent == 1
    debits = [e.amount for e in store.ledger("acme") if e.amount < 0]
    assert debits == [-1]  # only the customer's message was charged (0.01)


def test_other_replies_change_nothing() -> None:
    rig, store = _rig("thanks")
    esme = rig.bound()
    esme.submit_and_commit(DESTINATION, b"spring sale")
    _run(rig, esme, OPERATOR_DELAY * 3)
    assert store.opted_out("acme", [DESTINATION]) == set()
    assert rig.service.confirmations.sent == 0


def test_a_reload_takes_new_opt_out_words() -> None:
    rig, store = _rig("HALT")
    tables: dict[str, Any] = base_tables()
    tables["routes"].append({"name": "back", "prefix": "380631", "operators": ["op"],
                             "price": "0.05"})
    tables["mo_rules"] = [{"account": "acme", "mode": "fixed", "text": "HALT"}]
    tables["opt_out"] = {"stop_words": ["HALT"], "stop_reply": ""}
    rig.service.reloader.read = lambda: config_from_tables(tables)
    assert rig.service.reload("test")
    esme = rig.bound()
    esme.submit_and_commit(DESTINATION, b"spring sale")
    _run(rig, esme, OPERATOR_DELAY * 3)
    assert store.opted_out("acme", [DESTINATION]) == {DESTINATION}
    assert rig.service.confirmations.sent == 0  # stop_reply "": no confirmation


def test_a_handset_stop_reaches_http_sends_at_once() -> None:
    """HTTP sends skip the opt-out read of an account known to have none; the round that
    applies a STOP makes them read again, before any upkeep tick."""
    rig, _ = _rig("STOP")
    reads = rig.service.web.opt_outs
    told: list[set[str]] = []
    reads.read("acme", [DESTINATION], told.append, lambda failure: None)
    rig.turn()
    reads.read("acme", [DESTINATION], told.append, lambda failure: None)
    assert told == [set(), set()]  # the second answered at once: acme has no opt-out
    esme = rig.bound()
    esme.submit_and_commit(DESTINATION, b"spring sale")
    rig.service.upkeep.changed.clear()  # only the round's own word may make sends read again
    delivered = _run(rig, esme, OPERATOR_DELAY * 6)
    assert any(p.short_message == b"STOP" for p in delivered)
    reads.read("acme", [DESTINATION], told.append, lambda failure: None)
    assert len(told) == 2  # read from the store again
    rig.turn()
    assert told[-1] == {DESTINATION}
