"""The acceptance plan (smsc.store.acceptance) on its own: no store, only balances and parts."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from smsc.pdu.constants import CommandStatus, MessageState
from smsc.store import acceptance
from smsc.store.records import (
    DAY,
    Balance,
    Bucket,
    FinalAtAcceptance,
    LedgerKind,
    NewMessage,
    OutboxItem,
    OutboxKind,
)

NOW = 1_000_000.0
OWNERS = ("acme", "beta", "gone")  # "gone" never has a balance: its groups are refused


def part(message_id: int, *, owner: str = "acme", dest: str = "380501234567", price: int = 10,
         index: int = 1, total: int = 1, next_at: float = NOW) -> NewMessage:
    return NewMessage(
        message_id=message_id, account=owner + "-sub", credit_owner=owner,
        source_addr_ton=5, source_addr_npi=0, source_addr="Shop",
        dest_addr_ton=1, dest_addr_npi=1, destination_addr=dest,
        esm_class=0, data_coding=0, registered_delivery=1, short_message=b"hello",
        part_total=total, part_index=index, operator="kyivstar", route="ua", price=price,
        submitted_at=NOW, expires_at=NOW + DAY, next_at=next_at,
    )  # fmt: skip


def receipt(message_id: int) -> OutboxItem:
    return OutboxItem(account="acme", kind=OutboxKind.RECEIPT, pdu=b"r%d" % message_id,
                      created_at=NOW, expires_at=NOW + DAY, message_id=message_id)


DELIVERED = FinalAtAcceptance(state=MessageState.DELIVERED, attempts=1, done_at=NOW)


@st.composite
def batches(draw: st.DrawFn) -> tuple[list[NewMessage], list[FinalAtAcceptance | None]]:
    """Parts of up to six messages (each of one owner) to one or two destinations."""
    out: list[NewMessage] = []
    done: list[FinalAtAcceptance | None] = []
    for message_id in range(1, draw(st.integers(1, 6)) + 1):
        owner = draw(st.sampled_from(OWNERS))
        total = draw(st.integers(1, 3))
        for dest in draw(st.sampled_from([["3801"], ["3801", "3802"]])):
            for index in range(1, total + 1):
                out.append(part(message_id, owner=owner, dest=dest, index=index, total=total,
                                price=draw(st.integers(0, 40)),
                                next_at=NOW + draw(st.sampled_from([0.0, 5.0, 600.0]))))
                with_receipt = dataclasses.replace(DELIVERED, receipt=receipt(message_id))
                done.append(draw(st.sampled_from([None, DELIVERED, with_receipt])))
    order = draw(st.permutations(range(len(out))))  # parts of a group need not be adjacent
    return [out[n] for n in order], [done[n] for n in order]


balance_of = st.builds(
    Balance, owner=st.just(""), bought=st.integers(0, 150), subscription=st.integers(0, 150),
    subscription_expires_at=st.sampled_from([None, NOW + 60.0, NOW]))


@settings(max_examples=150, deadline=None)
@given(batch_decided=batches(), acme=balance_of, beta=balance_of,
       hot_until=st.sampled_from([None, NOW + 10.0]), with_decided=st.booleans())
def test_plan_properties(batch_decided: tuple[list[NewMessage], list[FinalAtAcceptance | None]],
                         acme: Balance, beta: Balance, hot_until: float | None,
                         with_decided: bool) -> None:
    batch, done = batch_decided
    given = done if with_decided else None
    read = {"acme": dataclasses.replace(acme, owner="acme"),
            "beta": dataclasses.replace(beta, owner="beta")}
    groups = acceptance.group(batch)
    plan = acceptance.plan(batch, groups, read, NOW, hot_until=hot_until, generation=7,
                           decided=given)

    # groups: by (message, destination), every part in exactly one, in first-seen order
    keys = list(dict.fromkeys((m.message_id, m.destination_addr) for m in batch))
    assert list(groups.parts) == keys
    assert sorted(n for places in groups.parts.values() for n in places) == list(range(len(batch)))
    for key, places in groups.parts.items():
        assert all((batch[n].message_id, batch[n].destination_addr) == key for n in places)
        assert places == sorted(places)
    assert set(plan.accepted) | set(plan.refused) == set(keys)
    assert not set(plan.accepted) & set(plan.refused)

    new_balances = {b.owner: b for b in plan.balances}
    planned = {n: (from_sub, hot) for n, from_sub, hot in plan.parts}
    for owner, owner_keys in groups.owners.items():
        rows = [r for r in plan.ledger if r[0] == owner]
        if owner not in read:  # no balance: every group refused as a system error, no rows
            assert all(plan.refused[k].status == CommandStatus.ESME_RSYSERR for k in owner_keys)
            assert rows == [] and owner not in new_balances
            continue
        old = read[owner]
        sub_now = old.subscription_now(NOW)
        left = old.bought + sub_now
        debited = 0
        for key in owner_keys:  # in order: a group is refused exactly when it does not fit
            amount = sum(batch[n].price for n in groups.parts[key])
            if key in plan.refused:
                assert plan.refused[key].status == CommandStatus.SMSC_RNOCREDIT
                assert plan.refused[key].charged == 0
                assert amount > left
                assert not any(n in planned for n in groups.parts[key])  # debits nothing
            else:
                assert plan.accepted[key][0] == amount <= left
                left -= amount
                debited += amount
        # never more than the balance; the ledger rows add up to the debit, running balance
        assert debited <= old.bought + sub_now
        assert -sum(r[4] for r in rows) == debited
        running = old.bought + sub_now
        for r in rows:
            assert r[2] == LedgerKind.DEBIT and r[4] < 0
            running += r[4]
            assert r[5] == running
        # subscription credit first: it pays as much as it can
        from_sub = -sum(r[4] for r in rows if r[3] == Bucket.SUBSCRIPTION)
        assert from_sub == min(sub_now, debited)
        new = new_balances.get(owner, dataclasses.replace(old, subscription=sub_now))
        assert new.subscription == sub_now - from_sub >= 0
        assert new.bought == old.bought - (debited - from_sub) >= 0
        # each part carries its share: the parts' subscription shares are the ledger's
        owner_parts = [n for k in owner_keys if k in plan.accepted for n in groups.parts[k]]
        assert sum(planned[n][0] for n in owner_parts) == from_sub
        assert all(0 <= planned[n][0] <= batch[n].price for n in owner_parts)

    # held parts: due by hot_until and not final at acceptance
    for n, (_, hot) in planned.items():
        due = hot_until is not None and batch[n].next_at <= hot_until
        assert hot == (7 if due and (given is None or given[n] is None) else 0)
    # receipts of the accepted parts final at acceptance, in the parts' order
    decided = [given[n] if given is not None else None for n, _, _ in plan.parts]
    expected = [d.receipt for d in decided if d is not None and d.receipt is not None]
    assert [item for _, item in plan.receipts] == expected

    # the outcomes once written: ids follow plan.parts, receipts go to their group
    stored = [dataclasses.replace(item, id=500 + i) for i, (_, item) in enumerate(plan.receipts)]
    outcomes = plan.outcomes(100, stored)
    assert [(o.message_id, o.destination_addr) for o in outcomes] == keys
    ids = {n: 100 + i for i, (n, _, _) in enumerate(plan.parts)}
    for o in outcomes:
        key = (o.message_id, o.destination_addr)
        if key in plan.accepted:
            assert o.status == 0 and o.charged == plan.accepted[key][0]
            assert o.part_ids == tuple(ids[n] for n in groups.parts[key])
            assert all(item.message_id == o.message_id for item in o.items)
        else:
            assert o == plan.refused[key] and o.part_ids == () and o.items == ()
    assert sorted(i.id for o in outcomes for i in o.items) == [i.id for i in stored]


def test_subscription_share_goes_to_first_parts() -> None:
    batch = [part(1, index=1, total=3, price=10), part(1, index=2, total=3, price=10),
             part(1, index=3, total=3, price=10)]
    read = {"acme": Balance(owner="acme", bought=100, subscription=15)}
    plan = acceptance.plan(batch, acceptance.group(batch), read, NOW)
    assert plan.parts == [(0, 10, 0), (1, 5, 0), (2, 0, 0)]
    assert plan.balances == [Balance(owner="acme", bought=85, subscription=0)]
    assert [(r[3], r[4], r[5], r[6], r[7]) for r in plan.ledger] == [
        (Bucket.SUBSCRIPTION, -15, 100, "acme-sub", 1), (Bucket.BOUGHT, -15, 85, "acme-sub", 1)]


def test_group_that_does_not_fit_takes_nothing_and_a_later_one_still_can() -> None:
    batch = [part(1, dest="1", price=30), part(1, dest="1", price=30, index=2),
             part(2, price=20)]
    read = {"acme": Balance(owner="acme", bought=50)}
    plan = acceptance.plan(batch, acceptance.group(batch), read, NOW)
    outcomes = plan.outcomes(1)
    assert [(o.status, o.charged, o.part_ids) for o in outcomes] == [
        (CommandStatus.SMSC_RNOCREDIT, 0, ()), (0, 20, (1,))]
    assert plan.balances == [Balance(owner="acme", bought=30)]


def test_nothing_debited_leaves_no_balance_to_write() -> None:
    batch = [part(1, price=0), part(2, price=500)]
    read = {"acme": Balance(owner="acme", bought=10)}
    plan = acceptance.plan(batch, acceptance.group(batch), read, NOW)
    assert plan.balances == [] and plan.ledger == []
    assert [o.status for o in plan.outcomes(1)] == [0, CommandStatus.SMSC_RNOCREDIT]
