"""The core's answers to query_sm, cancel_sm and replace_sm encoded as their SMPP responses.

The core decides every status (:mod:`smsc.core.messages`); this only puts the answer into the
response PDU the request asks for, with its sequence_number.
"""

from __future__ import annotations

from datetime import UTC, datetime

from smsc.core.messages import Cancelled, MessageStatus, Replaced
from smsc.pdu import pdus
from smsc.pdu.smpptime import format_absolute


def message_response(request: pdus.Pdu, answer: MessageStatus | Cancelled | Replaced
                     ) -> pdus.Pdu:
    """``answer`` as the response to ``request``: a query_sm_resp (its final_date an SMPP
    absolute time, its error_code one octet), a cancel_sm_resp or a replace_sm_resp; a refusal
    is the response without a body."""
    seq = request.sequence_number
    status = answer.status
    if isinstance(answer, MessageStatus):
        if status:
            return pdus.QuerySmResp(sequence_number=seq, command_status=status)
        final_date = ("" if answer.final_at is None
                      else format_absolute(datetime.fromtimestamp(answer.final_at, UTC)))
        return pdus.QuerySmResp(sequence_number=seq, message_id=answer.message_id,
                                final_date=final_date, message_state=answer.state,
                                error_code=min(answer.error, 255))
    if isinstance(answer, Cancelled):
        return pdus.CancelSmResp(sequence_number=seq, command_status=status)
    return pdus.ReplaceSmResp(sequence_number=seq, command_status=status)
