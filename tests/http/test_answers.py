"""The core's answers as the API encodes them (pure): a send refused alike is one problem with
Retry-After where waiting helps, a mixed one a 200 listing each destination; cursors round-trip
and a foreign one is a 422 naming the cursor."""

from __future__ import annotations

import json

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from smsc.core.batch import Batch, BatchAnswer, BatchItem
from smsc.core.submit import Answer
from smsc.http import models as m
from smsc.http import problems as p
from smsc.http.answers import AnswerTemplate, decode_cursor, encode_cursor, send_answer
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


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(st.tuples(st.text(min_size=1, max_size=24),
                                st.sampled_from([0, S.ESME_RINVDSTADR, S.SMSC_RNOCREDIT]),
                                st.integers(1, 10), st.integers(0, 10**6)),
                      min_size=1, max_size=5),
       duplicates=st.integers(0, 3), reference=st.none() | st.text(max_size=64))
def test_a_send_s_answer_is_what_its_models_encode(
        lines: list[tuple[str, int, int, int]], duplicates: int, reference: str | None) -> None:
    """The answer built as plain data and checked by SendAnswer's validator is the document
    the models themselves give (every field, order and default alike)."""
    answered = []
    for n, (to, status, parts, charged) in enumerate(lines):
        if status:
            answered.append(refused(to, status))
        else:
            answered.append(BatchAnswer(item=BatchItem(to=to),
                                        answer=Answer(status=0, cause=0, message_id=f"{n:08x}"),
                                        parts=parts, charged=charged))
    assume(len({a.answer.cause for a in answered} - {0}) != 1 or 0 in
           {a.answer.cause for a in answered})  # not one refusal for all: that is a problem
    batch = Batch(items=(), duplicates=duplicates, parts=(), groups=0)
    reply = send_answer(batch, answered, ACCOUNT, 2, reference)
    messages = [m.SentMessage(to=a.item.to, error=m.Refused(
                    code=p.refusal(a.answer.cause).code, smpp_status=a.answer.status,
                    detail=a.item.detail))
                if a.answer.status else
                m.SentMessage(to=a.item.to, id=a.answer.message_id, parts=a.parts,
                              charged=a.charged) for a in answered]
    expected = m.SendAnswer(
        messages=messages, accepted=sum(1 for x in messages if x.id is not None),
        refused=sum(1 for x in messages if x.id is None), duplicates=duplicates,
        parts=sum(x.parts or 0 for x in messages), charged=sum(x.charged or 0 for x in messages),
        currency=ACCOUNT.currency, decimals=2, reference=reference)
    assert reply.status == 200
    assert reply.body == expected.model_dump_json(by_alias=True).encode()
    assert m.SendAnswer.model_validate_json(reply.body) == expected


@settings(max_examples=100, deadline=None)
@given(to=st.text(min_size=1, max_size=24), message_id=st.text(max_size=12).filter(bool),
       parts=st.integers(0, 255), charged=st.integers(0, 2**40), duplicates=st.integers(0, 9),
       currency=st.sampled_from(["EUR", "UAH", "USD"]), decimals=st.integers(0, 4),
       reference=st.none() | st.text(max_size=64))
def test_a_single_accepted_send_written_from_its_template_is_what_its_model_writes(
        to: str, message_id: str, parts: int, charged: int, duplicates: int, currency: str,
        decimals: int, reference: str | None) -> None:
    account = Account(system_id="acme", password_hash="x", currency=currency)
    sent = BatchAnswer(item=BatchItem(to=to),
                       answer=Answer(status=0, cause=0, message_id=message_id), parts=parts,
                       charged=charged)
    batch = Batch(items=(), duplicates=duplicates, parts=(), groups=1)
    reply = send_answer(batch, [sent], account, decimals, reference)
    expected = m.SendAnswer(
        messages=[m.SentMessage(to=to, id=message_id, parts=parts, charged=charged)],
        accepted=1, refused=0, duplicates=duplicates, parts=parts, charged=charged,
        currency=currency, decimals=decimals, reference=reference)
    assert (reply.status, reply.content_type) == (200, "application/json")
    assert reply.body == expected.model_dump_json(by_alias=True).encode()


def test_a_template_refuses_a_marker_it_does_not_hold_once() -> None:
    sample = {"to": "\x00a", "message": "\x00a"}
    with pytest.raises(ValueError, match="not found once"):
        AnswerTemplate(m.FieldError, {"field": "\x00a", "message": "\x00a"}, ["\x00a"])
    with pytest.raises(ValueError, match="not found once"):
        AnswerTemplate(m.FieldError, {**sample, "field": "x"}, ["\x00b"])
    made = AnswerTemplate(m.FieldError, {"field": "\x00f", "message": "%d 100%"}, ["\x00f"])
    assert made.fill('to "3"') == b'{"field":"to \\"3\\"","message":"%d 100%"}'
