"""What a message's parts say: whether a customer's part still waits for the rest of its set,
the text snippet kept for reports, and the state a set of parts sums up to."""

from __future__ import annotations

from collections.abc import Iterable

from smsc.operators.receipts import state_severity
from smsc.pdu.constants import MessageState
from smsc.pdu.errors import PduError
from smsc.pdu.text import decode_text
from smsc.store.records import NewMessage, StoredMessage

SNIPPET = 20


def held_until(next_at: float, now: float, hold: float, total: int) -> float:
    """When a customer's part first goes to its operator: held parts of a set wait until
    ``now + hold`` (unless the core releases the complete set sooner); see :func:`is_held`."""
    if hold <= 0 or total < 2:
        return next_at
    return max(next_at, now + hold)


def is_held(part: NewMessage | StoredMessage, hold: float) -> bool:
    """Whether a part accepted with ``hold`` is still waiting for the rest of its set (a part
    scheduled later than its hold is simply scheduled)."""
    return (hold > 0 and part.part_total > 1 and part.next_at is not None
            and part.next_at == part.submitted_at + hold)


def text_snippet(octets: bytes, data_coding: int) -> str:
    try:
        text = decode_text(octets[: SNIPPET * 4], data_coding)
    except (PduError, ValueError):
        text = octets[:SNIPPET].decode("latin-1")
    return text[:SNIPPET]


def summary_state(states: Iterable[int]) -> int:
    """The state a set of part states sums up to (query_sm of a long message): ENROUTE while
    a part is not final, then the worst part's, in the order of the message's one receipt
    (REJECTED worst, then UNDELIVERABLE, EXPIRED, DELETED, UNKNOWN, ACCEPTED, DELIVERED)."""
    states = list(states)
    if any(not MessageState(s).is_final for s in states):
        return int(MessageState.ENROUTE)
    return min(states, key=state_severity) if states else int(MessageState.DELIVERED)
