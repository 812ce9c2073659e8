"""Receipts out: the operator round makes them, the courier sends them as deliver_sm to rx/trx
binds, keeps them until their deliver_sm_resp, retries with backoff, waits for a customer that
is not bound (across a restart too) and spreads them over the account's receivers."""

from __future__ import annotations

from pathlib import Path

import pytest

from smsc.pdu import pdus
from smsc.pdu.constants import CommandStatus, MessageState, Tag
from smsc.store.base import Store
from smsc.store.sqlite import SqliteStore
from tests.server.harness import (
    COMMIT_DELAY,
    DESTINATION,
    OPERATOR_DELAY,
    SENDER,
    Esme,
    Rig,
    add_account,
    make_config,
    receipt_of,
    submit_sm,
)

# The operator rounds run every due_interval (50 ms): a part due at t goes out by t + 50 ms.
DUE_SLACK = 0.1


def check_receipt(pdu: pdus.DeliverSm, message_id: str, stat: str = "DELIVRD") -> None:
    text = receipt_of(pdu)
    assert text.message_id == message_id
    assert text.stat == stat
    assert pdu.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) == message_id
    assert pdu.source_addr == DESTINATION
    assert pdu.destination_addr == SENDER


@pytest.mark.parametrize("receiver_kind", [pdus.BindReceiver, pdus.BindTransceiver])
def test_receipt_is_delivered_after_the_operator_delay(
    rig: Rig, receiver_kind: type[pdus.BindRequest]
) -> None:
    sender = rig.bound(pdus.BindTransmitter)
    receiver = rig.bound(receiver_kind)
    message_id = sender.submit_and_commit()
    rig.advance(OPERATOR_DELAY - COMMIT_DELAY - 0.1)
    assert receiver.read() == []
    rig.advance(0.2)
    (deliver,) = receiver.deliveries()
    check_receipt(deliver, message_id)
    assert deliver.tlvs.get_int(Tag.MESSAGE_STATE) == MessageState.DELIVERED
    assert sender.read() == []  # a transmitter gets no deliver_sm
    # Kept in the store until the customer answers, removed after.
    assert rig.store.outbox_count("acme") == 1
    receiver.answer(deliver)
    rig.advance(0.1)
    assert rig.store.outbox_count("acme") == 0
    rig.advance(30.0)
    assert receiver.deliveries() == []


def test_no_receipt_when_none_was_asked_for(rig: Rig) -> None:
    esme = rig.bound()
    esme.submit_and_commit(registered_delivery=0)
    rig.advance(OPERATOR_DELAY + 1.0)
    assert esme.deliveries() == []
    assert rig.store.outbox_count("acme") == 0


def delivery_times(
    rig: Rig, esme: Esme, seconds: float, step: float = 0.02
) -> list[tuple[float, pdus.DeliverSm]]:
    seen = []
    end = rig.clock.seconds() + seconds
    while rig.clock.seconds() < end:
        rig.advance(step)
        seen += [(rig.clock.seconds(), d) for d in esme.deliveries()]
    return seen


def test_unanswered_deliver_sm_is_sent_again_with_backoff(store: Store) -> None:
    rig = Rig(store, make_config({"enquire_link_interval": "10m"}))
    esme = rig.bound()
    message_id = esme.submit_and_commit()
    settings = rig.config.server
    timeout, first_retry = settings.response_timeout, settings.receipt_retry_min
    seen = delivery_times(rig, esme, OPERATOR_DELAY + 3 * timeout + 7 * first_retry + 1.0)
    assert len(seen) == 4
    for _, pdu in seen:
        check_receipt(pdu, message_id)
    assert len({pdu.sequence_number for _, pdu in seen}) == 4  # each try is a new request
    (t0, _), (t1, _), (t2, _), (t3, _) = seen
    # Each resend comes after the response timeout (checked every half second) plus a backoff
    # that doubles: 1 s, 2 s, 4 s.
    tick = 0.5 + 0.02  # the housekeeping interval, and how finely this test looks
    for gap, backoff in (
        (t1 - t0, first_retry),
        (t2 - t1, 2 * first_retry),
        (t3 - t2, 4 * first_retry),
    ):
        assert timeout + backoff - tick <= gap <= timeout + backoff + tick
    assert (t3 - t2) - (t2 - t1) > (t2 - t1) - (t1 - t0) > 0
    # Answered at last: delivered once more, then never again.
    esme.answer(seen[-1][1])
    rig.advance(0.1)
    assert rig.store.outbox_count("acme") == 0
    assert delivery_times(rig, esme, 2 * timeout, step=1.0) == []


def test_response_timeout_counts_from_when_the_deliver_sm_was_sent(store: Store) -> None:
    """A deliver_sm goes out between two housekeeping ticks; its response timeout must run
    from then, not from the tick before (it would fire up to half a second early)."""
    rig = Rig(store, make_config({"enquire_link_interval": "10m"}))
    esme = rig.bound()
    esme.submit_and_commit()
    settings = rig.config.server
    seen = delivery_times(rig, esme, OPERATOR_DELAY + settings.response_timeout + 2.0)
    assert len(seen) == 2
    (t0, _), (t1, _) = seen
    assert t1 - t0 >= settings.response_timeout + settings.receipt_retry_min - 0.02


def test_deliver_sm_resp_with_an_error_is_retried_later(rig: Rig) -> None:
    esme = rig.bound()
    message_id = esme.submit_and_commit()
    rig.advance(OPERATOR_DELAY + DUE_SLACK)
    (first,) = esme.deliveries()
    esme.answer(first, CommandStatus.ESME_RX_T_APPN)
    retry = rig.config.server.receipt_retry_min
    rig.advance(retry - 0.05)
    assert esme.deliveries() == []
    assert rig.store.outbox_count("acme") == 1
    rig.advance(0.1)
    (second,) = esme.deliveries()
    check_receipt(second, message_id)
    assert second.sequence_number != first.sequence_number
    # A second refusal waits twice as long.
    esme.answer(second, CommandStatus.ESME_RSYSERR)
    rig.advance(2 * retry - 0.05)
    assert esme.deliveries() == []
    rig.advance(0.1)
    (third,) = esme.deliveries()
    esme.answer(third)
    rig.advance(0.1)
    assert rig.store.outbox_count("acme") == 0


def test_deliver_sm_refused_for_good_is_dropped(rig: Rig) -> None:
    esme = rig.bound()
    esme.submit_and_commit()
    rig.advance(OPERATOR_DELAY + DUE_SLACK)
    (deliver,) = esme.deliveries()
    esme.answer(deliver, CommandStatus.ESME_RX_P_APPN)
    rig.advance(0.1)
    assert rig.store.outbox_count("acme") == 0
    rig.advance(60.0)
    assert esme.deliveries() == []


def test_receipt_waits_in_the_store_until_a_receiver_binds(rig: Rig) -> None:
    sender = rig.bound(pdus.BindTransmitter)
    message_id = sender.submit_and_commit()
    rig.advance(OPERATOR_DELAY + 1.0)
    assert sender.read() == []
    assert rig.store.outbox_count("acme") == 1
    receiver = rig.bound(pdus.BindReceiver)
    rig.turn()
    (deliver,) = receiver.deliveries()
    check_receipt(deliver, message_id)
    receiver.answer(deliver)
    rig.advance(0.1)
    assert rig.store.outbox_count("acme") == 0


def test_receipt_waits_across_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "smsc.sqlite"
    store = SqliteStore(path)
    add_account(store)
    rig = Rig(store)
    sender = rig.bound(pdus.BindTransmitter)
    done_id = sender.submit_and_commit()
    rig.advance(OPERATOR_DELAY + 1.0)  # its receipt is made and waits
    pending_id = sender.submit_and_commit()  # accepted, not yet at the operator
    stopped = rig.stop()
    (unbind,) = sender.read()
    assert type(unbind) is pdus.Unbind
    sender.answer(unbind)
    rig.advance(0.1)
    assert stopped.called
    assert sender.closing()

    again = Rig(SqliteStore(path), start_at=rig.clock.seconds())
    receiver = again.bound(pdus.BindReceiver)
    again.turn()
    (first,) = receiver.deliveries()
    check_receipt(first, done_id)
    receiver.answer(first)
    again.advance(OPERATOR_DELAY + DUE_SLACK)
    (second,) = receiver.deliveries()
    check_receipt(second, pending_id)
    receiver.answer(second)
    again.advance(0.1)
    assert again.store.outbox_count("acme") == 0


def test_receipts_go_round_robin_over_the_receivers(rig: Rig) -> None:
    sender = rig.bound(pdus.BindTransmitter)
    one = rig.bound(pdus.BindReceiver)
    two = rig.bound(pdus.BindTransceiver)
    ids = [sender.submit_and_commit(text=f"m{i}".encode()) for i in range(4)]
    rig.advance(OPERATOR_DELAY + DUE_SLACK)
    got_one, got_two = one.deliveries(), two.deliveries()
    assert len(got_one) == 2 and len(got_two) == 2
    assert sorted(receipt_of(d).message_id for d in got_one + got_two) == sorted(ids)
    for esme, got in ((one, got_one), (two, got_two)):
        for d in got:
            esme.answer(d)
    rig.advance(0.1)
    assert rig.store.outbox_count("acme") == 0


def test_receipts_of_a_gone_receiver_go_to_the_other(rig: Rig) -> None:
    sender = rig.bound(pdus.BindTransmitter)
    one = rig.bound(pdus.BindReceiver)
    two = rig.bound(pdus.BindReceiver)
    sender.send(submit_sm(), submit_sm())
    rig.advance(OPERATOR_DELAY + DUE_SLACK)
    ids = sorted(r.message_id for r in sender.read() if isinstance(r, pdus.SubmitSmResp))
    assert len(one.deliveries()) == 1
    (kept,) = two.deliveries()
    two.answer(kept)
    # One receiver drops its connection without answering: its receipt goes to the other.
    one.transport.loseConnection()
    rig.advance(0.1)
    (moved,) = two.deliveries()
    two.answer(moved)
    rig.advance(0.1)
    assert sorted([receipt_of(kept).message_id, receipt_of(moved).message_id]) == ids
    assert rig.store.outbox_count("acme") == 0


def test_receipts_respect_the_receipt_window(store: Store) -> None:
    rig = Rig(store, make_config({"receipt_window": 2}))
    sender = rig.bound(pdus.BindTransmitter)
    receiver = rig.bound(pdus.BindReceiver)
    sender.send(*(submit_sm() for _ in range(3)))
    rig.advance(OPERATOR_DELAY + DUE_SLACK)
    got = receiver.deliveries()
    assert len(got) == 2
    receiver.answer(got[0])
    rig.advance(0.01)
    assert len(receiver.deliveries()) == 1


def test_receipt_dates_follow_the_configured_time_zone(store: Store) -> None:
    rig = Rig(store, make_config({"receipt_time_zone": "Europe/Kyiv"}))
    esme = rig.bound()
    esme.submit_and_commit()
    rig.advance(OPERATOR_DELAY + DUE_SLACK)
    (deliver,) = esme.deliveries()
    # The rig's clock starts at 2023-11-14 22:13:20 UTC: 00:13 the next day in Kyiv (UTC+2).
    text = receipt_of(deliver)
    assert text.submit_date == "2311150013"
    assert text.done_date == "2311150013"
