"""The core's answers as the API encodes them (pure): a send refused alike is one problem with
Retry-After where waiting helps, a mixed one a 200 listing each destination; cursors round-trip
and a foreign one is a 422 naming the cursor."""

from __future__ import annotations

import json

import pytest

from smsc.core.batch import Batch, BatchAnswer, BatchItem
from smsc.core.submit import Answer
from smsc.http.answers import decode_cursor, encode_cursor, send_answer
from smsc.http.replies import ProblemReply
from smsc.pdu.constants import CommandStatus
from smsc.store.records import Account

S = CommandStatus
ACCOUNT = Account(system_id="acme", password_hash="x")


def refused(to: str, status: int) -> BatchAnswer:
    return BatchAnswer(item=BatchItem(to=to, status=status, detail="why"),
                       answer=Answer(status=status, cause=status))


def test_every_destination_throttled_is_a_429_with_retry_after() -> None:
    batch = Batch(items=(), duplicates=0, parts=(), groups=0, retry_after=2.2)
    with pytest.raises(ProblemReply) as e:
        send_answer(batch, [refused("1", S.ESME_RTHROTTLED), refused("2", S.ESME_RTHROTTLED)],
                    ACCOUNT, 2, None)
    reply = e.value.reply
    assert reply.status == 429 and ("Retry-After", "3") in reply.headers
    assert reply.content_type == "application/problem+json"
    body = json.loads(reply.body)
    assert body["code"] == "throttled" and body["retry_after"] == 3


def test_a_mixed_send_is_a_200_listing_each_destination() -> None:
    batch = Batch(items=(), duplicates=1, parts=(), groups=1)
    sent = BatchAnswer(item=BatchItem(to="380671234567"),
                       answer=Answer(status=0, cause=0, message_id="0000002a"), parts=2,
                       charged=6)
    reply = send_answer(batch, [sent, refused("12", S.ESME_RINVDSTADR)], ACCOUNT, 2, "ref")
    body = json.loads(reply.body)
    assert reply.status == 200 and body["accepted"] == 1 and body["refused"] == 1
    assert body["charged"] == 6 and body["duplicates"] == 1 and body["reference"] == "ref"
    assert body["messages"][1]["error"] == {"code": "invalid_destination", "smpp_status": 11,
                                            "detail": "why"}


def test_cursors_round_trip_and_foreign_ones_are_refused() -> None:
    assert decode_cursor(encode_cursor(123456)) == 123456
    for bad in ("", "nonsense", encode_cursor(5)[:-1] + "!", "djI6NQ"):
        with pytest.raises(ProblemReply) as e:
            decode_cursor(bad)
        assert json.loads(e.value.reply.body)["errors"][0]["field"] == "cursor"
