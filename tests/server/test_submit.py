"""submit_sm through the running service: answered only after the group commit, batched,
throttled per account and limited per bind."""

from __future__ import annotations

import pytest

from smsc.pdu import pdus
from smsc.store.base import Store
from smsc.store.records import MessageFilter
from tests.server.harness import COMMIT_DELAY, Rig, S, add_account, make_config, submit_sm


def stored(rig: Rig) -> int:
    return len(list(rig.store.messages(MessageFilter())))


def test_submit_is_answered_only_after_the_group_commit(rig: Rig) -> None:
    esme = rig.bound(pdus.BindTransmitter)
    sent = esme.submit()
    assert esme.read() == []
    rig.advance(COMMIT_DELAY * 0.9)
    assert esme.read() == []
    assert stored(rig) == 0
    rig.advance(COMMIT_DELAY * 0.1)
    resp = esme.read_one()
    assert type(resp) is pdus.SubmitSmResp
    assert resp.sequence_number == sent.sequence_number
    assert resp.command_status == S.ESME_ROK
    assert resp.message_id
    # When the answer is out, the message and its debit are in the store.
    (part,) = rig.store.get_messages(int(resp.message_id, 16))
    assert part.destination_addr == sent.destination_addr
    assert rig.store.balance("acme", rig.clock.seconds()).bought == 100_000 - part.price


def test_submits_of_one_read_are_answered_together_from_one_commit(rig: Rig) -> None:
    esme = rig.bound(pdus.BindTransmitter)
    sent = esme.send(*(submit_sm(text=f"m{i}".encode()) for i in range(5)))
    commits = rig.service.committer.commits
    assert esme.read() == []
    rig.advance(COMMIT_DELAY)
    # One write of five answers, in order, all from one commit.
    responses = esme.read()
    assert [r.sequence_number for r in responses] == [s.sequence_number for s in sent]
    assert all(type(r) is pdus.SubmitSmResp and r.command_status == 0 for r in responses)
    assert len({r.message_id for r in responses if isinstance(r, pdus.SubmitSmResp)}) == 5
    assert rig.service.committer.commits == commits + 1
    assert stored(rig) == 5


def test_submits_of_two_binds_share_a_commit(rig: Rig) -> None:
    one = rig.bound(pdus.BindTransmitter)
    two = rig.bound(pdus.BindTransceiver)
    one.submit()
    two.submit()
    rig.advance(COMMIT_DELAY)
    assert one.read_one().command_status == 0
    assert two.read_one().command_status == 0
    assert rig.service.committer.commits == 1


def test_throughput_token_bucket_refuses_the_third_submit_in_an_instant(
    store: Store,
) -> None:
    add_account(store, "slow", throughput=2.0, burst=2)
    rig = Rig(store)
    esme = rig.bound(pdus.BindTransmitter, "slow")
    sent = esme.send(submit_sm(), submit_sm(), submit_sm())
    # The third is refused at once, before any commit.
    (refused,) = esme.read()
    assert refused.sequence_number == sent[2].sequence_number
    assert type(refused) is pdus.SubmitSmResp
    assert refused.command_status == S.ESME_RTHROTTLED
    rig.advance(COMMIT_DELAY)
    assert [r.command_status for r in esme.read()] == [0, 0]
    assert stored(rig) == 2
    # Half a second later at 2/s there is one token again, and one only.
    rig.advance(0.5 - COMMIT_DELAY)
    esme.send(submit_sm(), submit_sm())
    assert [r.command_status for r in esme.read()] == [S.ESME_RTHROTTLED]
    rig.advance(COMMIT_DELAY)
    assert [r.command_status for r in esme.read()] == [0]


def test_throughput_is_per_account_across_binds(store: Store) -> None:
    add_account(store, "slow", throughput=2.0, burst=2)
    rig = Rig(store)
    one = rig.bound(pdus.BindTransmitter, "slow")
    two = rig.bound(pdus.BindTransmitter, "slow")
    one.send(submit_sm(), submit_sm())
    two.send(submit_sm())
    assert [r.command_status for r in two.read()] == [S.ESME_RTHROTTLED]


@pytest.mark.parametrize(
    ("setting", "status"), [("throttled", S.ESME_RTHROTTLED), ("queue_full", S.ESME_RMSGQFUL)]
)
def test_window_full_refuses_the_extra_submit(store: Store, setting: str, status: int) -> None:
    rig = Rig(store, make_config({"window": 3, "window_full_status": setting}))
    esme = rig.bound(pdus.BindTransmitter)
    sent = esme.send(*(submit_sm() for _ in range(4)))
    (refused,) = esme.read()
    assert refused.sequence_number == sent[3].sequence_number
    assert refused.command_status == status
    rig.advance(COMMIT_DELAY)
    assert [r.command_status for r in esme.read()] == [0, 0, 0]
    # Answered requests leave the window: three more fit again.
    esme.send(*(submit_sm() for _ in range(3)))
    rig.advance(COMMIT_DELAY)
    assert [r.command_status for r in esme.read()] == [0, 0, 0]


def test_enquire_link_is_answered_even_with_a_full_window(store: Store) -> None:
    rig = Rig(store, make_config({"window": 2}))
    esme = rig.bound(pdus.BindTransmitter)
    esme.send(submit_sm(), submit_sm())
    (sent,) = esme.send(pdus.EnquireLink())
    resp = esme.read_one()
    assert type(resp) is pdus.EnquireLinkResp
    assert resp.sequence_number == sent.sequence_number


def test_refused_submit_is_answered_at_once_and_not_billed(rig: Rig) -> None:
    esme = rig.bound(pdus.BindTransmitter)
    esme.send(submit_sm(destination="+380501234567"))
    resp = esme.read_one()
    assert resp.command_status == S.ESME_RINVDSTADR
    rig.advance(COMMIT_DELAY)
    assert esme.read() == []
    assert stored(rig) == 0
    assert rig.store.balance("acme", rig.clock.seconds()).bought == 100_000


def test_submit_without_credit_is_refused_after_the_commit(store: Store) -> None:
    add_account(store, "broke", credit=0)
    rig = Rig(store)
    esme = rig.bound(pdus.BindTransmitter, "broke")
    esme.submit()
    assert esme.read() == []
    rig.advance(COMMIT_DELAY)
    resp = esme.read_one()
    assert type(resp) is pdus.SubmitSmResp
    assert resp.command_status == S.SMSC_RNOCREDIT
    assert stored(rig) == 0


def test_submit_and_unbind_in_one_write_gets_both_answers(rig: Rig) -> None:
    """A customer that unbinds right after its last submit still learns that submit's fate:
    the message is committed and billed either way, so its answer must not be lost."""
    esme = rig.bound(pdus.BindTransmitter)
    submit, _ = esme.send(submit_sm(), pdus.Unbind())
    rig.advance(1.0)
    answers = {type(p): p for p in esme.read()}
    assert pdus.UnbindResp in answers
    assert stored(rig) == 1
    resp = answers.get(pdus.SubmitSmResp)
    assert resp is not None, "the submit was committed but its submit_sm_resp never sent"
    assert resp.sequence_number == submit.sequence_number
    assert resp.command_status == 0
