"""Receipts and intermediate notifications as deliver_sm: which are sent, and their content."""

from __future__ import annotations

import pytest

from smsc.operators.profile import Delay, OfflineHandsets, Outcome, OutcomeMix
from smsc.operators.receipts import (
    build_receipt,
    enroute_notification,
    final_receipt,
    group_key,
    message_receipt,
    receipt_wanted,
    with_change,
)
from smsc.pdu.codec import decode, encode
from smsc.pdu.constants import MessageState, Tag
from smsc.pdu.pdus import DeliverSm
from smsc.pdu.receipt_text import ReceiptText
from smsc.pdu.tlv import NetworkErrorCode
from smsc.store.records import MessageChange, StoredMessage
from tests.operators.factories import T0, accepted, live, message, profile, simulator

S = MessageState
FINAL_STATES = [
    S.DELIVERED,
    S.EXPIRED,
    S.DELETED,
    S.UNDELIVERABLE,
    S.ACCEPTED,
    S.UNKNOWN,
    S.REJECTED,
]


def hex_id(value: int) -> str:
    return f"{value:X}"


def decimal_id(value: int) -> str:
    return str(value)


def finished(
    part: StoredMessage, state: MessageState, err: int = 0, at: float = T0 + 60
) -> MessageChange:
    return MessageChange(
        id=part.id, state=int(state), next_at=None, attempts=1, done_at=at, error_code=err
    )


@pytest.mark.parametrize("state", FINAL_STATES)
@pytest.mark.parametrize("registered", [0x00, 0x01, 0x02, 0x03, 0x10, 0x11, 0x12, 0xE1])
def test_which_final_outcomes_get_a_receipt(registered: int, state: MessageState) -> None:
    mode = registered & 0x03
    expected = {
        0: False,
        1: True,
        2: state not in (S.DELIVERED, S.ACCEPTED),
        3: state == S.DELIVERED,
    }[mode]
    assert receipt_wanted(registered, state) is expected
    part = message(registered_delivery=registered)
    receipt = final_receipt(part, finished(part, state), hex_id)
    assert (receipt is not None) is expected


def test_receipt_content() -> None:
    part = message(message_id=0x1A2B3C, registered_delivery=1)
    change = finished(part, S.UNDELIVERABLE, err=1, at=T0 + 3_600)
    receipt = final_receipt(part, change, hex_id, network_error=0x0101)
    assert isinstance(receipt, DeliverSm)
    # From the handset back to the sender.
    assert (receipt.source_addr, receipt.source_addr_ton, receipt.source_addr_npi) == (
        "380671234567",
        1,
        1,
    )
    assert (receipt.destination_addr, receipt.dest_addr_ton, receipt.dest_addr_npi) == (
        "ShopName",
        5,
        0,
    )
    assert receipt.esm_class == 0x04
    assert receipt.data_coding == 0
    assert receipt.short_message == (
        b"id:1A2B3C sub:001 dlvrd:000 submit date:2506151506 done date:2506151606"
        b" stat:UNDELIV err:001 text:Hello from the test "
    )
    assert receipt.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) == "1A2B3C"
    assert receipt.tlvs.get_int(Tag.MESSAGE_STATE) == S.UNDELIVERABLE
    assert receipt.tlvs.get(Tag.NETWORK_ERROR_CODE) == NetworkErrorCode(3, 0x0101)
    # It survives the codec and reads back as a receipt.
    assert decode(encode(receipt)) == receipt
    text = ReceiptText.parse(receipt.short_message)
    assert (text.message_id, text.stat, text.err) == ("1A2B3C", "UNDELIV", 1)


@pytest.mark.parametrize("format_id", [hex_id, decimal_id])
def test_the_id_in_the_text_and_tlv_is_the_submit_resp_id(format_id: object) -> None:
    part = message(message_id=987_654_321)
    receipt = final_receipt(part, finished(part, S.DELIVERED), format_id)  # type: ignore[arg-type]
    assert receipt is not None
    wanted = format_id(987_654_321)  # type: ignore[operator]
    assert receipt.short_message.startswith(f"id:{wanted} ".encode())
    assert receipt.tlvs.raw(Tag.RECEIPTED_MESSAGE_ID) == wanted.encode() + b"\x00"


def test_delivered_receipt_counts_and_default_network_error() -> None:
    part = message()
    receipt = final_receipt(part, finished(part, S.DELIVERED), hex_id)
    assert receipt is not None
    assert b"sub:001 dlvrd:001" in receipt.short_message
    assert b"stat:DELIVRD err:000" in receipt.short_message
    assert receipt.tlvs.get(Tag.NETWORK_ERROR_CODE) == NetworkErrorCode(3, 0)


def test_a_change_that_is_not_final_has_no_receipt() -> None:
    part = message()
    waiting = MessageChange(id=1, state=int(S.ENROUTE), next_at=T0 + 300, attempts=1)
    assert final_receipt(part, waiting, hex_id) is None


def test_replace_can_change_registered_delivery() -> None:
    part = message(registered_delivery=0)
    change = MessageChange(
        id=1, state=int(S.DELIVERED), next_at=None, attempts=1, done_at=T0, registered_delivery=1
    )
    assert final_receipt(part, change, hex_id) is not None


def test_unsafe_snippet_characters_and_short_texts() -> None:
    part = message(text_snippet="Цена: 5$ @home")
    receipt = final_receipt(part, finished(part, S.DELIVERED), hex_id)
    assert receipt is not None
    assert receipt.short_message.endswith(b"text:????: 5? ?home")
    empty = message(text_snippet="")
    receipt = final_receipt(empty, finished(empty, S.DELIVERED), hex_id)
    assert receipt is not None
    assert receipt.short_message.endswith(b"text:")


@pytest.mark.parametrize(("registered", "sent"), [(0x10, True), (0x11, True), (0x01, False)])
def test_intermediate_notification(registered: int, sent: bool) -> None:
    part = message(registered_delivery=registered)
    notice = enroute_notification(part, T0 + 120, hex_id)
    assert (notice is not None) is sent
    if notice is not None:
        assert notice.esm_class == 0x20
        assert b"stat:ENROUTE err:000" in notice.short_message
        assert b"dlvrd:000" in notice.short_message
        assert notice.tlvs.get_int(Tag.MESSAGE_STATE) == S.ENROUTE


def test_the_simulator_and_receipts_together_for_an_offline_handset() -> None:
    op = profile(
        offline=OfflineHandsets(probability=1.0, duration=Delay.fixed(700.0)),
        outcomes=OutcomeMix.only(Outcome(state=S.DELIVERED)),
    )
    sim = simulator(op)
    part = accepted(sim, registered_delivery=0x11)
    sent: list[DeliverSm] = []
    for _ in range(10):
        assert part.next_at is not None
        now = part.next_at
        decision = sim.attempt(part, now)
        if decision.notify_enroute:
            notice = enroute_notification(part, now, hex_id)
            assert notice is not None
            sent.append(notice)
        if decision.final:
            receipt = final_receipt(part, decision.change, hex_id)
            assert receipt is not None
            sent.append(receipt)
            break
        part = with_change(part, decision.change)
    assert [p.esm_class for p in sent] == [0x20, 0x04]
    assert b"stat:ENROUTE" in sent[0].short_message
    assert b"stat:DELIVRD" in sent[1].short_message


# --- long messages ------------------------------------------------------------------------


def parts_of(count: int, **changes: object) -> list[StoredMessage]:
    return [
        message(id=i, part_index=i, part_total=count, part_ref=9, **changes)
        for i in range(1, count + 1)
    ]


def test_one_receipt_per_part_by_default() -> None:
    sim = simulator()
    receipts = []
    for i in (1, 2, 3):
        final, steps = live(sim, accepted(sim, id=i, part_index=i, part_total=3))
        receipt = final_receipt(final, steps[-1][1].change, hex_id)
        assert receipt is not None
        receipts.append(receipt)
    assert len(receipts) == 3
    assert all(b"sub:001 dlvrd:001" in r.short_message for r in receipts)


def test_one_receipt_per_message_when_the_last_part_is_final() -> None:
    parts = parts_of(3)
    batch1 = {1: finished(parts[0], S.DELIVERED, at=T0 + 10)}
    state1 = [with_change(p, batch1.get(p.id)) for p in parts]
    assert message_receipt(state1, hex_id) is None  # parts 2 and 3 still wait
    batch2 = {
        2: finished(parts[1], S.UNDELIVERABLE, err=1, at=T0 + 20),
        3: finished(parts[2], S.DELIVERED, at=T0 + 30),
    }
    state2 = [with_change(p, batch2.get(p.id)) for p in state1]
    receipt = message_receipt(state2, hex_id)
    assert receipt is not None
    text = ReceiptText.parse(receipt.short_message)
    assert (text.submitted, text.delivered, text.stat, text.err) == (3, 2, "UNDELIV", 1)
    assert text.done_date == "2506151507"  # the last part, 30 s after T0
    assert receipt.tlvs.get_int(Tag.MESSAGE_STATE) == S.UNDELIVERABLE
    assert {group_key(p) for p in state2} == {(1000, "380671234567")}


def test_per_message_receipt_uses_the_worst_state() -> None:
    order = [S.REJECTED, S.UNDELIVERABLE, S.EXPIRED, S.DELETED, S.UNKNOWN, S.ACCEPTED, S.DELIVERED]
    for worst_index, worst in enumerate(order):
        better = order[worst_index:]
        parts = parts_of(len(better))
        done = [
            with_change(p, finished(p, st)) for p, st in zip(parts, reversed(better), strict=True)
        ]
        receipt = message_receipt(done, hex_id)
        assert receipt is not None
        assert receipt.tlvs.get_int(Tag.MESSAGE_STATE) == worst


def test_per_message_receipt_honours_failure_only() -> None:
    parts = parts_of(2, registered_delivery=2)
    delivered = [with_change(p, finished(p, S.DELIVERED)) for p in parts]
    assert message_receipt(delivered, hex_id) is None
    mixed = [
        with_change(parts[0], finished(parts[0], S.DELIVERED)),
        with_change(parts[1], finished(parts[1], S.EXPIRED, err=27)),
    ]
    receipt = message_receipt(mixed, hex_id)
    assert receipt is not None
    assert b"sub:002 dlvrd:001" in receipt.short_message
    assert message_receipt([], hex_id) is None


def test_build_receipt_defaults() -> None:
    part = message()
    receipt = build_receipt(part, state=int(S.DELIVERED), err=0, done_at=T0, format_id=hex_id)
    assert b"submit date:2506151506 done date:2506151506" in receipt.short_message


# --- the encoded fast path -------------------------------------------------------------------
from hypothesis import given as _given  # noqa: E402
from hypothesis import strategies as _st  # noqa: E402

from smsc.config.server import time_zone  # noqa: E402
from smsc.operators.receipts import build_receipt_frame as _build_frame  # noqa: E402
from smsc.pdu.codec import encode as _encode  # noqa: E402


@_given(
    state=_st.sampled_from([1, 2, 3, 4, 5, 6, 7, 8]),
    err=_st.integers(0, 255),
    network_error=_st.one_of(_st.none(), _st.integers(0, 65535)),
    snippet=_st.text(max_size=40),
    message_id=_st.integers(0, 2**40),
    intermediate=_st.booleans(),
    source=_st.text(alphabet="0123456789ABCxyz", max_size=15),
    destination=_st.text(alphabet="0123456789", min_size=1, max_size=15),
    zone=_st.sampled_from(["UTC", "Europe/Kyiv", "America/St_Johns", "Asia/Kathmandu"]),
)
def test_the_receipt_frame_is_the_encoded_receipt(
    state, err, network_error, snippet, message_id, intermediate, source, destination, zone
) -> None:
    from dataclasses import replace as _replace

    part = _replace(message(), message_id=message_id, text_snippet=snippet, source_addr=source,
                    destination_addr=destination, source_addr_ton=5, dest_addr_ton=1)
    kwargs = {"state": state, "err": err, "done_at": 1_800_000_123.0, "format_id": "{:08x}".format,
              "network_error": network_error, "intermediate": intermediate,
              "zone": time_zone(zone)}
    assert _build_frame(part, **kwargs) == _encode(build_receipt(part, **kwargs))


def test_receipt_dates_in_a_configured_zone() -> None:
    from smsc.operators.receipts import receipt_date

    moment = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
    assert receipt_date(moment) == "2311142213"
    assert receipt_date(moment, time_zone("Europe/Kyiv")) == "2311150013"  # UTC+2 in winter
    assert receipt_date(moment, time_zone("Asia/Kathmandu")) == "2311150358"  # UTC+5:45
