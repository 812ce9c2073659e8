"""Test numbers: valid yet reserved numbers, each with its documented result and delay."""

from __future__ import annotations

import phonenumbers
import pytest

from smsc.operators.outcome_rules import OutcomeRule, OutcomeRules
from smsc.operators.profile import HOUR, OutageWindow, Outcome, OutcomeMix
from smsc.operators.receipts import enroute_notification, final_receipt
from smsc.operators.simulation import OperatorSimulator
from smsc.operators.testnumbers import SPARE_NUMBERS, TEST_BEHAVIOURS, lookup
from smsc.pdu.constants import CommandStatus, MessageState
from smsc.pdu.receipt_text import ReceiptText
from tests.operators.factories import T0, accepted, live, profile, simulator

S = MessageState
RECEIPTS = [b for b in TEST_BEHAVIOURS if not b.refuses]
REFUSALS = [b for b in TEST_BEHAVIOURS if b.refuses]

# The documented table (docs/operators.md): number -> (stat, err, seconds to the final receipt).
DOCUMENTED = {
    "61491570006": ("DELIVRD", 0, 2),
    "61491570156": ("UNDELIV", 1, 2),
    "61491570157": ("REJECTD", 13, 2),
    "61491570158": ("EXPIRED", 27, 30),
    "61491570159": ("DELETED", 0, 2),
    "61491570110": ("ACCEPTD", 0, 2),
    "61491570313": ("UNKNOWN", 34, 2),
    "61491570737": ("DELIVRD", 0, 12),
    "61491571266": ("DELIVRD", 0, 600),
    "61491571491": ("EXPIRED", 27, 32),
}
DOCUMENTED_REFUSALS = {
    "61491571804": CommandStatus.ESME_RTHROTTLED,
    "61491572549": CommandStatus.ESME_RMSGQFUL,
    "61491572665": CommandStatus.ESME_RSYSERR,
    "61491572983": CommandStatus.SMSC_RNOCREDIT,
    "61491573770": CommandStatus.ESME_RSUBMITFAIL,
    "61491573087": CommandStatus.SMSC_RBLACKLISTED,
    "61491574118": CommandStatus.SMSC_RSENDERNOTREG,
    "61491574632": CommandStatus.SMSC_RCOVERAGE,
    "61491575254": CommandStatus.SMSC_RNOROUTE,
    "61491575789": CommandStatus.ESME_RINVDSTADR,
}


@pytest.mark.parametrize("number", [b.number for b in TEST_BEHAVIOURS] + list(SPARE_NUMBERS))
def test_numbers_are_valid_australian_mobiles(number: str) -> None:
    parsed = phonenumbers.parse("+" + number)
    assert phonenumbers.is_valid_number(parsed)
    assert phonenumbers.region_code_for_number(parsed) == "AU"
    assert phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE
    # ACMA's fictional-use block: 0491 57x xxx.
    assert number.startswith("6149157")


def test_numbers_are_distinct_and_the_table_is_documented() -> None:
    numbers = [b.number for b in TEST_BEHAVIOURS]
    assert len(set(numbers) | set(SPARE_NUMBERS)) == len(numbers) + len(SPARE_NUMBERS) == 30
    assert {b.number for b in RECEIPTS} == set(DOCUMENTED)
    assert {b.number: b.submit_status for b in REFUSALS} == DOCUMENTED_REFUSALS
    assert lookup("380671234567") is None
    assert lookup("+61491570006") is None  # routing hands over digits only


@pytest.mark.parametrize("number", sorted(DOCUMENTED))
def test_each_receipt_number_gives_its_status_after_its_delay(number: str) -> None:
    stat, err, seconds = DOCUMENTED[number]
    # An operator that would fail everything and is down: test numbers ignore both.
    op = profile(
        outcomes=OutcomeMix.only(Outcome(state=S.REJECTED, err=99)),
        outages=(OutageWindow(start=T0, end=T0 + 2 * HOUR),),
    )
    rules = OutcomeRules([OutcomeRule(prefix="61", mix=op.outcomes)])
    sim = OperatorSimulator({"op": op}, rules, seed=3)
    part = accepted(sim, destination_addr=number, registered_delivery=0x11)
    final, steps = live(sim, part)
    receipt = final_receipt(final, steps[-1][1].change, str)
    assert receipt is not None
    text = ReceiptText.parse(receipt.short_message)
    assert (text.stat, text.err) == (stat, err)
    assert final.done_at == T0 + seconds
    behaviour = lookup(number)
    assert behaviour is not None
    notices = [t for t, d in steps if d.notify_enroute]
    if behaviour.enroute_first:
        assert notices == [T0 + 2]
        notice = enroute_notification(part, T0 + 2, str)
        assert notice is not None and b"stat:ENROUTE" in notice.short_message
    else:
        assert notices == []


def test_the_validity_period_still_applies_to_test_numbers() -> None:
    sim = simulator()
    part = accepted(sim, destination_addr="61491571266", expires_at=T0 + 60)
    final, _ = live(sim, part)
    assert (final.state, final.done_at) == (S.EXPIRED, T0 + 60)


@pytest.mark.parametrize(("number", "status"), sorted(DOCUMENTED_REFUSALS.items()))
def test_each_refusal_number_gives_its_submit_status(number: str, status: int) -> None:
    sim = simulator()
    assert sim.test_submit_status(number) == status
    assert sim.test_submit_status("380671234567") == 0
    assert sim.test_submit_status("61491570006") == 0  # accepted, then a receipt


def test_test_numbers_can_be_switched_off() -> None:
    sim = simulator(test_numbers=False)
    assert sim.test_submit_status("61491571804") == 0
    part = accepted(sim, destination_addr="61491570156")
    assert part.next_at == T0 + 2.0
    assert live(sim, part)[0].state == S.DELIVERED
