"""The Store contract for campaigns, against every implementation: the campaign record, and
marks written in the same transaction as the messages they stand for."""

from __future__ import annotations

import pytest

from smsc.pdu.constants import CommandStatus
from smsc.store.base import (
    CampaignExists,
    MarkedTwice,
    Store,
    UnknownAccount,
    UnknownCampaign,
    UnknownContactList,
)
from smsc.store.campaign_records import Campaign, CampaignMark, CampaignState, MarkState
from smsc.store.contact_records import Contact
from smsc.store.records import MessageFilter
from tests.store.conftest import StoreMaker
from tests.store.test_store_contract import NOW, account, funded, part

SENT, SKIPPED, WAITING = MarkState.SENT, MarkState.SKIPPED, MarkState.WAITING


def _campaign(store: Store, *, bought: int = 1000) -> Campaign:
    funded(store, "acme", bought=bought)
    lst = store.create_contact_list("acme", "l", now=NOW)
    store.add_contacts(lst.id, [Contact(number=f"38067100000{i}") for i in range(5)])
    return store.create_campaign(Campaign(account="acme", name="spring", lists=(lst.id,),
                                          template="Hi", source="Shop", window_start=540,
                                          window_end=1200), NOW)


def test_a_campaign_is_stored_as_a_draft(store: Store) -> None:
    made = _campaign(store)
    assert made.id > 0 and made.state == CampaignState.DRAFT
    assert (made.cursor_list, made.cursor_contact, made.created_at) == (0, 0, NOW)
    assert (made.window_start, made.window_end, made.template) == (540, 1200, "Hi")
    assert store.campaign(made.id) == made
    assert store.campaigns("acme") == [made] and store.campaigns() == [made]
    paused = store.set_campaign_state(made.id, CampaignState.PAUSED, NOW + 1, "no credit")
    assert (paused.state, paused.pause_reason, paused.updated_at) == \
        (CampaignState.PAUSED, "no credit", NOW + 1)
    assert store.campaign(made.id) == paused


def test_a_campaign_needs_its_account_its_lists_and_a_free_name(store: Store) -> None:
    made = _campaign(store)
    store.create_account(account("beta"))
    with pytest.raises(CampaignExists):
        store.create_campaign(Campaign(account="acme", name="spring", lists=made.lists,
                                       template="x"), NOW)
    with pytest.raises(UnknownAccount):
        store.create_campaign(Campaign(account="ghost", name="x", lists=(), template="x"), NOW)
    with pytest.raises(UnknownContactList):  # another account's list
        store.create_campaign(Campaign(account="beta", name="x", lists=made.lists,
                                       template="x"), NOW)
    with pytest.raises(UnknownCampaign):
        store.set_campaign_state(999, CampaignState.RUNNING, NOW)


def test_marks_and_messages_commit_together_with_the_cursor(store: Store) -> None:
    made = _campaign(store)
    batch = [part(1, dest="380671000000"), part(2, dest="380671000001")]
    marks = [CampaignMark(number="380671000000", state=SENT, message_id=1, list_id=1,
                          contact_id=1),
             CampaignMark(number="380671000001", state=SENT, message_id=2),
             CampaignMark(number="380671000002", state=SKIPPED, note="opted out"),
             CampaignMark(number="380671000003", state=WAITING, due_at=NOW + 60)]
    outcomes = store.accept_campaign(made.id, batch, marks, NOW, cursor=(0, 4))
    assert [o.status for o in outcomes] == [0, 0]
    assert store.campaign_marked(made.id, [m.number for m in marks] + ["1"]) == {
        "380671000000": SENT, "380671000001": SENT, "380671000002": SKIPPED,
        "380671000003": WAITING}
    assert store.campaign_counts(made.id) == {SENT: 2, SKIPPED: 1, WAITING: 1}
    found = store.campaign(made.id)
    assert found is not None and (found.cursor_list, found.cursor_contact) == (0, 4)
    assert len(list(store.messages(MessageFilter(account="acme")))) == 2
    (first,) = [m for m in store.campaign_marks(made.id) if m.number == "380671000000"]
    assert (first.message_id, first.list_id, first.contact_id, first.at) == (1, 1, 1, NOW)


def test_a_number_is_never_handled_twice(store: Store) -> None:
    made = _campaign(store)
    store.accept_campaign(made.id, [part(1, dest="380671000000")],
                          [CampaignMark(number="380671000000", state=SENT, message_id=1)], NOW)
    with pytest.raises(MarkedTwice):
        store.accept_campaign(made.id, [part(2, dest="380671000000")],
                              [CampaignMark(number="380671000000", state=SENT, message_id=2)],
                              NOW)
    with pytest.raises(MarkedTwice):
        store.accept_campaign(made.id, [], [CampaignMark(number="1", state=SKIPPED),
                                            CampaignMark(number="1", state=SKIPPED)], NOW)
    assert [m.message_id for m in store.messages(MessageFilter(account="acme"))] == [1]
    assert store.campaign_counts(made.id) == {SENT: 1}


def test_a_waiting_mark_is_replaced_when_it_is_sent(store: Store) -> None:
    made = _campaign(store)
    store.accept_campaign(made.id, [], [
        CampaignMark(number="380671000000", state=WAITING, due_at=NOW + 60),
        CampaignMark(number="380671000001", state=WAITING, due_at=NOW + 30)], NOW)
    assert [m.number for m in store.campaign_waiting(made.id, NOW + 60)] == \
        ["380671000001", "380671000000"]
    assert store.campaign_waiting(made.id, NOW + 10) == []
    store.accept_campaign(made.id, [part(1, dest="380671000001")],
                          [CampaignMark(number="380671000001", state=SENT, message_id=1)],
                          NOW + 30)
    assert [m.number for m in store.campaign_waiting(made.id, NOW + 60)] == ["380671000000"]


def test_a_group_refused_for_credit_leaves_its_number_unmarked_and_the_cursor(
        store: Store) -> None:
    made = _campaign(store, bought=15)
    batch = [part(1, dest="380671000000", price=10), part(2, dest="380671000001", price=10)]
    marks = [CampaignMark(number="380671000000", state=SENT, message_id=1),
             CampaignMark(number="380671000001", state=SENT, message_id=2)]
    outcomes = store.accept_campaign(made.id, batch, marks, NOW, cursor=(0, 2))
    assert [o.status for o in outcomes] == [0, CommandStatus.SMSC_RNOCREDIT]
    assert store.campaign_marked(made.id, ["380671000000", "380671000001"]) == {
        "380671000000": SENT}
    found = store.campaign(made.id)
    assert found is not None and found.cursor_contact == 0


def test_campaigns_survive_reopening(store: Store, maker: StoreMaker) -> None:
    if not maker.shared:
        pytest.skip("this store keeps nothing outside the object")
    made = _campaign(store)
    store.accept_campaign(made.id, [part(1, dest="380671000000")],
                          [CampaignMark(number="380671000000", state=SENT, message_id=1)], NOW,
                          cursor=(0, 1))
    other = maker.again(store)
    assert other.campaign(made.id) == store.campaign(made.id)
    assert other.campaign_counts(made.id) == {SENT: 1}
