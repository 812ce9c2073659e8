"""Which delivery receipts and intermediate notifications a part gets, and their deliver_sm.

The receipt text format is :mod:`smsc.pdu.receipt_text`; the octets of a one-part receipt on
the server's hot path are written by :func:`smsc.pdu.frames.receipt_deliver_sm`
(:func:`build_receipt_frame`); this module decides what they say and whether they are sent.

registered_delivery bits 0-1 say which final outcomes get a receipt: 0 none, 1 every final
outcome, 2 failures only (every final state but DELIVRD and ACCEPTD), 3 success only (DELIVRD;
reserved in SMPP 3.4, this is its SMPP 5.0 meaning). Bit 4 (0x10) asks for intermediate
notifications: an ENROUTE notice when a part first has to wait for a retry.

A receipt goes from the handset back to the sender: source_addr is the message's destination,
destination_addr its source (with their TON/NPI). esm_class is 0x04 (0x20 for an intermediate
notification), data_coding 0, the short_message the standard receipt text and the TLVs
receipted_message_id, message_state and network_error_code (network type 3, GSM). The id in
the text and the TLV is ``format_id(message_id)``, the same function that wrote the id into
the submit_sm_resp, so they match byte for byte.

A message smsc split itself (several parts under one message id) gets one receipt when the last
part reaches a final state, built by :func:`message_receipt`: sub is the number of parts, dlvrd
the number delivered, the state and err those of the worst part (REJECTD worst, then UNDELIV,
EXPIRED, DELETED, UNKNOWN, ACCEPTD, DELIVRD best), the dates the earliest submission and the
latest completion. A part the customer submitted on its own gets its own receipt.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import Final

from smsc.pdu.constants import (
    INTERMEDIATE_NOTIFICATION_BIT,
    RECEIPT_MASK,
    EsmClass,
    MessageState,
    Tag,
)
from smsc.pdu.frames import NETWORK_TYPE_GSM, receipt_deliver_sm
from smsc.pdu.pdus import DeliverSm
from smsc.pdu.receipt_text import (
    ONE_PART_RECEIPT_OCTETS,
    STAT_BY_STATE,
    ReceiptText,
    receipt_short_message,
    receipt_snippet_octets,
)
from smsc.pdu.smpptime import format_receipt_date
from smsc.pdu.tlv import NetworkErrorCode, Tlvs
from smsc.store.records import MessageChange, StoredMessage

FormatId = Callable[[int], str]

_RECEIPT_ESM: Final = int(EsmClass.TYPE_DELIVERY_RECEIPT)
_INTERMEDIATE_ESM: Final = int(EsmClass.TYPE_INTERMEDIATE_NOTIFICATION)
_NOT_FAILURES: Final = frozenset({int(MessageState.DELIVERED), int(MessageState.ACCEPTED)})
_ENROUTE: Final = int(MessageState.ENROUTE)
_STAT_OCTETS: Final = {int(k): v.encode("ascii") for k, v in STAT_BY_STATE.items()}
_DELIVERED: Final = int(MessageState.DELIVERED)

# Worst first; a lower rank is a worse outcome.
_SEVERITY: Final[dict[int, int]] = {
    int(state): rank
    for rank, state in enumerate(
        (
            MessageState.REJECTED,
            MessageState.UNDELIVERABLE,
            MessageState.EXPIRED,
            MessageState.DELETED,
            MessageState.UNKNOWN,
            MessageState.ACCEPTED,
            MessageState.DELIVERED,
        )
    )
}


def state_severity(state: int) -> int:
    """How bad a final state is: lower is worse (REJECTED 0 ... DELIVERED 6)."""
    return _SEVERITY.get(state, 0)


def receipt_wanted(registered_delivery: int, state: int) -> bool:
    """Whether a part that ended in ``state`` gets a final receipt."""
    mode = registered_delivery & RECEIPT_MASK
    if mode == 1:
        return True
    if mode == 2:
        return state not in _NOT_FAILURES
    if mode == 3:
        return state == _DELIVERED
    return False


def intermediate_wanted(registered_delivery: int) -> bool:
    return bool(registered_delivery & INTERMEDIATE_NOTIFICATION_BIT)


def is_finished(message: StoredMessage) -> bool:
    """A part the operator queue is done with (ACCEPTD counts: the simulation ends there)."""
    return message.next_at is None and message.state != _ENROUTE


def with_change(message: StoredMessage, change: MessageChange | None) -> StoredMessage:
    """The part as it will be stored once ``change`` is applied (for building receipts
    before the batch is written)."""
    if change is None:
        return message
    updates: dict[str, object] = {
        "state": change.state,
        "next_at": change.next_at,
        "attempts": change.attempts,
        "done_at": change.done_at,
        "error_code": change.error_code,
    }
    if change.registered_delivery is not None:
        updates["registered_delivery"] = change.registered_delivery
    if change.short_message is not None:
        updates["short_message"] = change.short_message
    if change.scheduled_at is not None:
        updates["scheduled_at"] = change.scheduled_at
    if change.expires_at is not None:
        updates["expires_at"] = change.expires_at
    if change.text_snippet is not None:
        updates["text_snippet"] = change.text_snippet
    return dataclasses.replace(message, **updates)  # type: ignore[arg-type]


@lru_cache(maxsize=4096)
def _date_of_minute(minute: int, zone: tzinfo) -> str:
    return format_receipt_date(datetime.fromtimestamp(minute * 60, UTC), zone)


def receipt_date(moment: float, zone: tzinfo = UTC) -> str:
    """``YYMMDDhhmm`` in ``zone`` (UTC unless the server's receipt_time_zone says otherwise)."""
    return _date_of_minute(int(moment // 60), zone)


def build_receipt(
    message: StoredMessage,
    *,
    state: int,
    err: int,
    done_at: float,
    format_id: FormatId,
    network_error: int | None = None,
    submitted: int = 1,
    delivered: int | None = None,
    submitted_at: float | None = None,
    intermediate: bool = False,
    zone: tzinfo = UTC,
) -> DeliverSm:
    """The deliver_sm of a receipt for ``message`` (whatever its registered_delivery says).

    ``delivered`` defaults to ``submitted`` for DELIVRD and 0 otherwise; ``network_error`` to
    ``err``; ``submitted_at`` to the part's.
    """
    message_id = format_id(message.message_id)
    if delivered is None:
        delivered = submitted if state == _DELIVERED else 0
    text = ReceiptText(
        message_id=message_id,
        submitted=submitted,
        delivered=delivered,
        submit_date=receipt_date(message.submitted_at if submitted_at is None else submitted_at,
                                 zone),
        done_date=receipt_date(done_at, zone),
        stat=STAT_BY_STATE[MessageState(state)],
        err=err,
        text=message.text_snippet,
    )
    tlvs = Tlvs.of((
        (Tag.RECEIPTED_MESSAGE_ID, message_id),
        (Tag.MESSAGE_STATE, state),
        (Tag.NETWORK_ERROR_CODE,
         NetworkErrorCode(NETWORK_TYPE_GSM, err if network_error is None else network_error)),
    ))
    return DeliverSm(
        source_addr_ton=message.dest_addr_ton,
        source_addr_npi=message.dest_addr_npi,
        source_addr=message.destination_addr,
        dest_addr_ton=message.source_addr_ton,
        dest_addr_npi=message.source_addr_npi,
        destination_addr=message.source_addr,
        esm_class=_INTERMEDIATE_ESM if intermediate else _RECEIPT_ESM,
        data_coding=0,
        short_message=receipt_short_message(text),
        tlvs=tlvs,
    )


@lru_cache(maxsize=4096)
def _safe_snippet(text: str) -> bytes:
    return receipt_snippet_octets(text)


def build_receipt_frame(
    message: StoredMessage,
    *,
    state: int,
    err: int,
    done_at: float,
    format_id: FormatId,
    network_error: int | None = None,
    intermediate: bool = False,
    zone: tzinfo = UTC,
) -> bytes:
    """The encoded deliver_sm of :func:`build_receipt` for one part (sub 1), sequence_number 0,
    built in one step (the text on octets, then :func:`smsc.pdu.frames.receipt_deliver_sm`):
    the same octets as ``encode(build_receipt(...))`` (a test holds them to it), at a fraction
    of the cost. The server uses this on its hot path."""
    message_id = format_id(message.message_id).encode("ascii")
    text = ONE_PART_RECEIPT_OCTETS % (
        message_id, 1 if state == _DELIVERED else 0,
        receipt_date(message.submitted_at, zone).encode("ascii"),
        receipt_date(done_at, zone).encode("ascii"), _STAT_OCTETS[state], err,
        _safe_snippet(message.text_snippet))
    return receipt_deliver_sm(
        source_addr_ton=message.dest_addr_ton,
        source_addr_npi=message.dest_addr_npi,
        source_addr=message.destination_addr,
        dest_addr_ton=message.source_addr_ton,
        dest_addr_npi=message.source_addr_npi,
        destination_addr=message.source_addr,
        esm_class=_INTERMEDIATE_ESM if intermediate else _RECEIPT_ESM,
        short_message=text,
        receipted_message_id=message_id,
        message_state=state,
        network_error=err if network_error is None else network_error,
    )


def _final_part(message: StoredMessage, change: MessageChange) -> StoredMessage | None:
    """The part as ``change`` leaves it, when the change makes it final and its
    registered_delivery asks for a receipt of that outcome; else None."""
    if change.next_at is not None or change.state == _ENROUTE:
        return None
    registered = (
        message.registered_delivery
        if change.registered_delivery is None
        else change.registered_delivery
    )
    if not receipt_wanted(registered, change.state):
        return None
    return with_change(message, change) if change.text_snippet is not None else message


def final_receipt_frame(
    message: StoredMessage,
    change: MessageChange,
    format_id: FormatId,
    *,
    network_error: int | None = None,
    zone: tzinfo = UTC,
) -> bytes | None:
    """:func:`final_receipt`, encoded (see :func:`build_receipt_frame`)."""
    part = _final_part(message, change)
    if part is None:
        return None
    return build_receipt_frame(
        part,
        state=change.state,
        err=change.error_code,
        done_at=part.submitted_at if change.done_at is None else change.done_at,
        format_id=format_id,
        network_error=network_error,
        zone=zone,
    )


def final_receipt(
    message: StoredMessage,
    change: MessageChange,
    format_id: FormatId,
    *,
    network_error: int | None = None,
    zone: tzinfo = UTC,
) -> DeliverSm | None:
    """The receipt of one part that ``change`` makes final, if its registered_delivery asks for
    one (None otherwise, or when the change is not final)."""
    part = _final_part(message, change)
    if part is None:
        return None
    return build_receipt(
        part,
        state=change.state,
        err=change.error_code,
        done_at=part.submitted_at if change.done_at is None else change.done_at,
        format_id=format_id,
        network_error=network_error,
        zone=zone,
    )


def enroute_notification(
    message: StoredMessage, now: float, format_id: FormatId, zone: tzinfo = UTC
) -> DeliverSm | None:
    """The ENROUTE intermediate notification of a part, if its registered_delivery asks."""
    if not intermediate_wanted(message.registered_delivery):
        return None
    return build_receipt(
        message, state=_ENROUTE, err=0, done_at=now, format_id=format_id, intermediate=True,
        zone=zone,
    )


def enroute_notification_frame(
    message: StoredMessage, now: float, format_id: FormatId, zone: tzinfo = UTC
) -> bytes | None:
    """:func:`enroute_notification`, encoded."""
    if not intermediate_wanted(message.registered_delivery):
        return None
    return build_receipt_frame(
        message, state=_ENROUTE, err=0, done_at=now, format_id=format_id, intermediate=True,
        zone=zone,
    )


def message_receipt(parts: Sequence[StoredMessage], format_id: FormatId,
                    zone: tzinfo = UTC) -> DeliverSm | None:
    """The one receipt of a message smsc split, or None while a part is still
    waiting or when registered_delivery does not ask for it.

    ``parts``: every part of one message to one destination, in their state after the current
    batch (see :func:`with_change`). Call it once per message and destination per batch in
    which any of its parts became final: only the batch that finishes the last part gets a
    receipt, so it is sent exactly once.
    """
    if not parts or not all(is_finished(p) for p in parts):
        return None
    worst = min(parts, key=lambda p: (_SEVERITY.get(p.state, 0), p.part_index))
    if not receipt_wanted(worst.registered_delivery, worst.state):
        return None
    first = min(parts, key=lambda p: p.part_index)
    done_at = max(p.done_at if p.done_at is not None else p.submitted_at for p in parts)
    return build_receipt(
        first,
        state=worst.state,
        err=worst.error_code,
        done_at=done_at,
        format_id=format_id,
        submitted=len(parts),
        delivered=sum(1 for p in parts if p.state == _DELIVERED),
        submitted_at=min(p.submitted_at for p in parts),
        zone=zone,
    )


def group_key(message: StoredMessage) -> tuple[int, str]:
    """Parts that share one per-message receipt: same message id and destination."""
    return (message.message_id, message.destination_addr)
