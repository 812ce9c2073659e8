"""The intake's pure helpers, without Twisted or a store."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from smsc.core.parts import summary_state
from smsc.operators.receipts import state_severity
from smsc.pdu.constants import MessageState

M = MessageState
FINAL = [s for s in MessageState if s.is_final]


def test_query_sm_of_a_long_message_reports_its_worst_part() -> None:
    """The same state as the message's one receipt: REJECTD is worse than UNDELIV, whatever
    order the parts are in."""
    assert summary_state([M.UNDELIVERABLE, M.REJECTED]) == M.REJECTED
    assert summary_state([M.DELIVERED, M.EXPIRED, M.UNDELIVERABLE]) == M.UNDELIVERABLE
    assert summary_state([M.DELIVERED, M.DELIVERED]) == M.DELIVERED
    assert summary_state([M.DELIVERED, M.ENROUTE]) == M.ENROUTE


@given(st.lists(st.sampled_from(FINAL), min_size=1, max_size=6))
def test_the_summary_is_the_worst_final_state(states: list[MessageState]) -> None:
    summary = summary_state(states)
    assert summary in states
    assert all(state_severity(summary) <= state_severity(s) for s in states)
