"""smsc.core.submit without Twisted: every status a submit is answered with, decided by
``Intake.answer`` / ``Intake.refusal`` (the server only encodes the answer), and the queue depths
a refusal gives back."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from smsc.core.centre import operator_desk
from smsc.core.depths import QueueDepths
from smsc.core.routebook import Routed
from smsc.core.submit import Answer, BindContext, Intake, Prepared, RefusedDestination
from smsc.pdu import pdus
from smsc.pdu.constants import CommandStatus, Tag, standard_status
from smsc.pdu.errors import PduError
from smsc.pdu.tlv import Tlvs
from smsc.routing.throttle import TokenBucket
from smsc.store.records import AcceptOutcome, Account
from tests.operators.factories import T0, profile, simulator

S = CommandStatus
ACCOUNT = Account(system_id="acme", password_hash="x")
STANDARD = Account(system_id="std", password_hash="x", standard_statuses=True)


def _route(account: Account, *, source_addr: str, source_ton: int, source_npi: int,
           destination_addr: str, dest_ton: int, dest_npi: int, now: float) -> Routed:
    """National numbers (starting 0) are read as international ones, country code 380."""
    number = "380" + destination_addr[1:] if destination_addr.startswith("0") else destination_addr
    return Routed(source_addr=source_addr, source_ton=source_ton, source_npi=source_npi,
                  destination_addr=number, time_zone=None, operator="op", route="r", price=1)


def _intake(queue_limit: int = 1000) -> tuple[Intake, QueueDepths]:
    depths = QueueDepths()
    ids = itertools.count(0x100)
    intake = Intake(route=_route, take_id=lambda: next(ids), queue_depths=depths,
                    operators=operator_desk(simulator(profile(queue_limit=queue_limit))),
                    format_id=lambda n: f"{n:X}")
    return intake, depths


def _bind(account: Account = ACCOUNT, throttle: TokenBucket | None = None) -> BindContext:
    return BindContext(account=account, throttle=throttle)


def _spent() -> BindContext:
    """A bind whose throttle has no token left at T0."""
    bucket = TokenBucket(rate=1.0)
    assert bucket.take(T0)
    return _bind(throttle=bucket)


def _submit(**kw: Any) -> pdus.SubmitSm:
    kw.setdefault("short_message", b"hi")
    return pdus.SubmitSm(sequence_number=1, source_addr="Shop", destination_addr="380671000001",
                         dest_addr_ton=1, dest_addr_npi=1, **kw)


def _multi(*dests: pdus.SmeAddress | pdus.DistributionList) -> pdus.SubmitMulti:
    return pdus.SubmitMulti(sequence_number=1, source_addr="Shop", dest_addresses=dests,
                            short_message=b"hi")


def _accepted(prepared: Prepared, refused: dict[str, int] | None = None) -> list[AcceptOutcome]:
    """The store's outcome per group: accepted, or refused with a status by destination."""
    refused = refused or {}
    groups = dict.fromkeys(p.destination_addr for p in prepared.parts)
    return [AcceptOutcome(message_id=prepared.message_id, destination_addr=d,
                          status=refused.get(d, 0)) for d in groups]


def test_an_accepted_submit_sm_is_answered_rok_with_its_message_id() -> None:
    intake, depths = _intake()
    prepared = intake.prepare(_bind(), _submit(), T0)
    assert depths.get("op") == 1
    answer = intake.answer(prepared, _accepted(prepared), ACCOUNT)
    assert answer == Answer(status=0, cause=0, message_id=f"{prepared.message_id:X}")
    assert depths.get("op") == 1


def test_an_accepted_data_sm_is_answered_rok_with_its_message_id() -> None:
    intake, _ = _intake()
    pdu = pdus.DataSm(sequence_number=1, source_addr="Shop", destination_addr="380671000001")
    prepared = intake.prepare(_bind(), pdu, T0)
    answer = intake.answer(prepared, _accepted(prepared), ACCOUNT)
    assert answer.status == 0 and answer.message_id == f"{prepared.message_id:X}"


@pytest.mark.parametrize(("account", "sent"), [(ACCOUNT, S.SMSC_RNOCREDIT),
                                               (STANDARD, standard_status(S.SMSC_RNOCREDIT))])
def test_a_credit_refusal_is_answered_without_id_and_gives_back_its_queue_room(
        account: Account, sent: int) -> None:
    intake, depths = _intake()
    prepared = intake.prepare(_bind(account), _submit(), T0)
    answer = intake.answer(prepared, _accepted(prepared, {"380671000001": S.SMSC_RNOCREDIT}),
                           account)
    assert answer == Answer(status=sent, cause=S.SMSC_RNOCREDIT)
    assert sent != S.SMSC_RNOCREDIT or not account.standard_statuses
    assert depths.get("op") == 0


def test_a_failed_commit_is_answered_system_error_and_gives_back_its_queue_room() -> None:
    intake, depths = _intake()
    prepared = intake.prepare(_bind(), _submit(), T0)
    assert intake.answer(prepared, None, ACCOUNT) == Answer(status=S.ESME_RSYSERR,
                                                            cause=S.ESME_RSYSERR)
    assert depths.get("op") == 0


@pytest.mark.parametrize(("make", "bind", "cause"), [
    (lambda: _submit(esm_class=0x04), _bind(), S.ESME_RINVESMCLASS),
    (_submit, _spent(), S.ESME_RTHROTTLED),
    (lambda: _submit(short_message=b"x" * 200),
     _bind(Account(system_id="one", password_hash="x", max_parts=1)), S.SMSC_RTOOMANYPARTS),
], ids=["esm_class", "throttled", "too_many_parts"])
def test_a_refusal_while_preparing_is_answered_with_its_status(make: Any, bind: BindContext,
                                                               cause: int) -> None:
    intake, depths = _intake()
    with pytest.raises(PduError) as e:
        intake.prepare(bind, make(), T0)
    assert e.value.command_status == cause
    assert intake.refusal(bind.account, cause) == Answer(status=cause, cause=cause)
    assert intake.refusal(STANDARD, cause).status == standard_status(cause)
    assert depths.get("op") == 0


def test_a_full_queue_refuses_the_submit() -> None:
    intake, depths = _intake(queue_limit=1)
    intake.prepare(_bind(), _submit(), T0)
    with pytest.raises(PduError) as e:
        intake.prepare(_bind(), _submit(), T0)
    assert e.value.command_status == S.ESME_RMSGQFUL
    assert depths.get("op") == 1


def test_a_credit_refusal_in_a_submit_multi_names_the_destination_as_the_customer_gave_it(
        ) -> None:
    """The store refuses by the number as stored (international); the customer is told of the
    number, ton and npi it sent (routing refusals always were, credit refusals said 1/1)."""
    intake, depths = _intake()
    pdu = _multi(pdus.SmeAddress(dest_addr_ton=2, dest_addr_npi=1, destination_addr="0671000002"),
                 pdus.SmeAddress(dest_addr_ton=5, dest_addr_npi=0,
                                 destination_addr="380671000003"),
                 pdus.SmeAddress(dest_addr_ton=1, dest_addr_npi=1,
                                 destination_addr="380671000004"))
    prepared = intake.prepare(_bind(), pdu, T0)
    assert depths.get("op") == 3
    outcomes = _accepted(prepared, {"380671000002": S.SMSC_RNOCREDIT,
                                    "380671000003": S.SMSC_RNOCREDIT})
    answer = intake.answer(prepared, outcomes, ACCOUNT)
    assert answer.status == 0 and answer.multi
    assert answer.message_id == f"{prepared.message_id:X}"
    assert answer.unsuccess == (
        RefusedDestination(address="0671000002", ton=2, npi=1, status=S.SMSC_RNOCREDIT),
        RefusedDestination(address="380671000003", ton=5, npi=0, status=S.SMSC_RNOCREDIT))
    assert depths.get("op") == 1  # the refused groups gave back their queue room


def test_a_submit_multi_refused_by_the_store_everywhere_is_submitfail_and_gives_back_its_room(
        ) -> None:
    intake, depths = _intake()
    pdu = _multi(pdus.SmeAddress(dest_addr_ton=1, dest_addr_npi=1,
                                 destination_addr="380671000002"))
    prepared = intake.prepare(_bind(STANDARD), pdu, T0)
    answer = intake.answer(prepared, _accepted(prepared, {"380671000002": S.SMSC_RNOCREDIT}),
                           STANDARD)
    assert answer.status == S.ESME_RSUBMITFAIL and answer.message_id
    assert [u.status for u in answer.unsuccess] == [
        standard_status(S.SMSC_RNOCREDIT)]
    assert depths.get("op") == 0


def test_a_submit_multi_refused_everywhere_while_preparing_is_submitfail_with_its_list() -> None:
    intake, depths = _intake(queue_limit=1)
    intake.prepare(_bind(), _submit(), T0)  # the queue is full now
    pdu = _multi(pdus.DistributionList(dl_name="friends"),
                 pdus.SmeAddress(dest_addr_ton=1, dest_addr_npi=1,
                                 destination_addr="380671000002"))
    prepared = intake.prepare(_bind(), pdu, T0)
    assert not prepared.parts
    answer = intake.answer(prepared, [], ACCOUNT)
    assert answer.status == S.ESME_RSUBMITFAIL and answer.multi
    assert answer.message_id == f"{prepared.message_id:X}"
    assert answer.unsuccess == (
        RefusedDestination(address="friends", ton=0, npi=0, status=S.ESME_RINVDLNAME),
        RefusedDestination(address="380671000002", ton=1, npi=1, status=S.ESME_RMSGQFUL))
    assert depths.get("op") == 1


def test_a_submit_multi_whose_commit_failed_is_refused_whole() -> None:
    intake, depths = _intake()
    pdu = _multi(pdus.SmeAddress(dest_addr_ton=1, dest_addr_npi=1,
                                 destination_addr="380671000002"))
    prepared = intake.prepare(_bind(), pdu, T0)
    answer = intake.answer(prepared, None, ACCOUNT)
    assert (answer.status, answer.message_id) == (S.ESME_RSYSERR, "")
    assert depths.get("op") == 0


def test_a_request_that_is_no_submit_is_refused() -> None:
    intake, _ = _intake()
    with pytest.raises(PduError) as e:
        intake.prepare(_bind(), pdus.EnquireLink(sequence_number=1), T0)
    assert e.value.command_status == S.ESME_RINVCMDID


def test_the_queue_depths_take_back_each_refused_group() -> None:
    depths = QueueDepths({"op": 5, "other": 1})
    depths.refused([("op", 1), ("op", 2), ("other", 3)])
    assert dict(depths.items()) == {"op": 2, "other": 0}
    depths.left({"op": 1})
    depths.reload({"new": 4})
    assert dict(depths.items()) == {"op": 0, "other": 0, "new": 4}


@pytest.mark.parametrize(("ttl", "lasts"), [(3600, 3600.0), (2**32 - 1, 2 * 86_400.0)])
def test_a_data_sm_lives_for_its_qos_time_to_live_within_the_operators_longest(
        ttl: int, lasts: float) -> None:
    """qos_time_to_live is a validity period relative to now; one past the 99 days a relative
    time can say is cut to them, then to the operator's max_validity (2 days here)."""
    intake, _ = _intake()
    pdu = pdus.DataSm(sequence_number=1, source_addr="Shop", destination_addr="380671000001",
                      dest_addr_ton=1, dest_addr_npi=1,
                      tlvs=Tlvs.of({Tag.MESSAGE_PAYLOAD: b"hi",
                                    Tag.QOS_TIME_TO_LIVE: ttl.to_bytes(4, "big")}))
    (part,) = intake.prepare(_bind(), pdu, T0).parts
    assert part.expires_at == T0 + lasts
