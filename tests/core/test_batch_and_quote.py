"""smsc.core.batch and smsc.core.quote without Twisted: a send to many destinations through
Intake.prepare (duplicates as written and as read left out, opted-out numbers refused,
throughput per part, answers per destination), and a quote that prices exactly what the send
prepares, taking nothing."""

from __future__ import annotations

import itertools

from smsc.core.batch import BatchBuilder, answer_batch, prepare_batch
from smsc.core.centre import operator_desk
from smsc.core.depths import QueueDepths
from smsc.core.quote import quote
from smsc.core.routebook import Routed
from smsc.core.submit import BindContext, Intake
from smsc.pdu import pdus
from smsc.pdu.constants import CommandStatus, Tag
from smsc.pdu.errors import PduError
from smsc.pdu.tlv import Tlvs
from smsc.routing.throttle import TokenBucket
from smsc.store.records import AcceptOutcome, Account, HookStyle, MessageHook
from tests.operators.factories import T0, profile, simulator

S = CommandStatus
ACCOUNT = Account(system_id="acme", password_hash="x")


def _route(account: Account, *, source_addr: str, source_ton: int, source_npi: int,
           destination_addr: str, dest_ton: int, dest_npi: int, now: float) -> Routed:
    """'+' stripped; '9...' numbers have no route; '7...' are blacklisted (price 0)."""
    number = destination_addr.removeprefix("+")
    if number.startswith("9"):
        raise PduError(S.ESME_RINVDSTADR, "no such number")
    return Routed(source_addr=source_addr, source_ton=source_ton, source_npi=source_npi,
                  destination_addr=number, time_zone=None, operator="op", route="r",
                  price=5, blacklisted=number.startswith("7"))


def _intake() -> tuple[Intake, QueueDepths, list[int]]:
    depths = QueueDepths()
    taken: list[int] = []
    ids = itertools.count(1)

    def take() -> int:
        taken.append(next(ids))
        return taken[-1]

    intake = Intake(route=_route, take_id=take, queue_depths=depths,
                    operators=operator_desk(simulator(profile(queue_limit=1000))))
    return intake, depths, taken


def _requests(*numbers: str, text: bytes = b"hi") -> list[tuple[str, pdus.SubmitSm]]:
    tlvs = Tlvs([(int(Tag.MESSAGE_PAYLOAD), text)]) if len(text) > 254 else Tlvs()
    short = b"" if len(text) > 254 else text
    return [(n, pdus.SubmitSm(source_addr="Shop", source_addr_ton=5, destination_addr=n,
                              dest_addr_ton=0, dest_addr_npi=1, short_message=short,
                              tlvs=tlvs)) for n in numbers]


def test_duplicates_as_written_and_as_read_cost_nothing() -> None:
    intake, depths, _ = _intake()
    batch = prepare_batch(intake, BindContext(account=ACCOUNT, throttle=None),
                          _requests("380671", "380671", "+380671", "380672", "912"), T0)
    assert [i.to for i in batch.items] == ["380671", "380672", "912"]
    assert batch.duplicates == 2 and batch.groups == 2 and len(batch.parts) == 2
    assert batch.items[2].status == S.ESME_RINVDSTADR
    assert depths.get("op") == 2  # the duplicate read as 380671 gave its room back


def test_throughput_is_taken_per_part_and_a_refused_batch_says_when_to_retry() -> None:
    intake, depths, _ = _intake()
    bucket = TokenBucket(rate=1.0, burst=3)
    caller = BindContext(account=ACCOUNT, throttle=bucket)
    long_text = b"x" * 300  # two parts
    batch = prepare_batch(intake, caller, _requests("380671", "380672", text=long_text), T0)
    assert [i.status for i in batch.items] == [0, S.ESME_RTHROTTLED]
    assert batch.retry_after == 0.0 and depths.get("op") == 2
    again = prepare_batch(intake, caller, _requests("380673", text=long_text), T0)
    assert [i.status for i in again.items] == [S.ESME_RTHROTTLED]
    assert again.retry_after == 1.0  # one token there, two needed, one a second


def test_answers_per_destination_after_the_commit() -> None:
    intake, _, _ = _intake()
    hook = MessageHook(url="https://shop.example/dlr", style=HookStyle.JSON)
    batch = prepare_batch(intake, BindContext(account=ACCOUNT, throttle=None),
                          _requests("380671", "912", "380672"), T0, hook=hook)
    assert all(p.hook_url == hook.url and p.hook_style == 1 for p in batch.parts)
    outcomes = [AcceptOutcome(message_id=p.message_id, destination_addr=p.destination_addr,
                              status=s, charged=5 if not s else 0)
                for p, s in zip(batch.parts, (0, S.SMSC_RNOCREDIT), strict=True)]
    answered = answer_batch(intake, batch, outcomes, ACCOUNT)
    assert [(a.item.to, a.answer.status, a.charged) for a in answered] == [
        ("380671", 0, 5), ("912", S.ESME_RINVDSTADR, 0), ("380672", S.SMSC_RNOCREDIT, 0)]
    assert answered[0].answer.message_id and answered[0].parts == 1
    failed = answer_batch(intake, batch, None, ACCOUNT)
    assert [a.answer.status for a in failed] == [S.ESME_RSYSERR, S.ESME_RINVDSTADR,
                                                 S.ESME_RSYSERR]


def test_a_quote_prices_what_the_send_prepares_and_takes_nothing() -> None:
    intake, depths, taken = _intake()
    requests = _requests("380671", "+380671", "380672", "912", "7001", text=b"x" * 400)
    q = quote(intake, ACCOUNT, requests, T0)
    assert not taken and depths.get("op") == 0
    assert [(line.to, line.parts, line.price, line.status) for line in q.lines] == [
        ("380671", 3, 5, 0), ("380672", 3, 5, 0), ("912", 0, 0, S.ESME_RINVDSTADR),
        ("7001", 3, 0, 0)]
    assert q.duplicates == 1 and q.refused == 1 and q.blacklisted == 1
    batch = prepare_batch(intake, BindContext(account=ACCOUNT, throttle=None), requests, T0)
    assert q.total == sum(p.price for p in batch.parts) == 30
    assert q.parts == len(batch.parts) == 9


def test_opted_out_numbers_are_refused_and_take_no_throughput_or_queue_room() -> None:
    intake, depths, _ = _intake()
    bucket = TokenBucket(rate=1.0, burst=1.0)
    builder = BatchBuilder(intake, BindContext(account=ACCOUNT, throttle=bucket))
    builder.add(_requests("+380671", "380672", "912"), T0)
    assert builder.numbers() == ["380671", "380672"]  # as read, for the opt-out lookup
    batch = builder.batch({"380671"})
    assert [(i.to, i.status) for i in batch.items] == [
        ("+380671", S.SMSC_ROPTEDOUT), ("380672", 0), ("912", S.ESME_RINVDSTADR)]
    assert depths.get("op") == 1  # the opted-out one gave its room back
    assert len(batch.parts) == 1  # and the one token went to 380672
    [part] = batch.parts
    answers = answer_batch(intake, batch, [AcceptOutcome(
        message_id=part.message_id, destination_addr=part.destination_addr, status=0,
        charged=5)], ACCOUNT)
    assert [a.answer.cause for a in answers] == [S.SMSC_ROPTEDOUT, 0, S.ESME_RINVDSTADR]


def test_a_quote_refuses_opted_out_numbers_as_the_send_does() -> None:
    intake, _, _ = _intake()
    q = quote(intake, ACCOUNT, _requests("+380671", "380672", "380673"), T0)
    assert q.numbers() == ["380671", "380672", "380673"]
    assert q.opting_out(set()) is q
    out = q.opting_out({"380671", "380673"})
    assert out.opted_out == 2 and out.refused == 2 and out.total == 5 and out.parts == 1
    assert [line.status for line in out.lines] == [S.SMSC_ROPTEDOUT, 0, S.SMSC_ROPTEDOUT]
