"""How fast a running campaign goes (smsc.core.campaign_pace), on given times: the campaign's
throughput as an allowance of at most a second's worth, the account's bucket, the step's size,
and when the next step comes."""

from __future__ import annotations

from smsc.core.campaign_pace import IDLE, RETRY, SHARED_STEP, SHORTEST, STEP, CampaignPace
from smsc.core.campaign_runner import StepResult
from smsc.store.campaign_records import CampaignState

RUNNING = CampaignState.RUNNING


def result(sent: int, taken: int | None = None, *, held: int = 0,
           state: CampaignState = RUNNING) -> StepResult:
    return StepResult(sent=sent, skipped=0, waiting=0, state=state,
                      taken=sent + held if taken is None else taken, held=held)


def test_without_a_throughput_steps_are_full_and_follow_at_once() -> None:
    pace = CampaignPace()
    assert pace.budget(0.0, 100.0) == STEP
    assert pace.after(result(STEP), 0.0) == 0.0
    assert pace.budget(0.0, 100.0, room=42.7) == 42  # the account's bucket
    assert pace.after(result(42), 0.0) == 0.0


def test_a_throughput_is_an_allowance_of_at_most_a_second() -> None:
    pace = CampaignPace()
    assert pace.budget(10.0, 100.0) == 10  # a second's worth to begin with
    assert pace.after(result(10), 10.0) == 0.1  # room for one more after a tenth of a second
    assert pace.budget(10.0, 100.1) == 1
    pace.after(result(1), 10.0)
    assert pace.budget(10.0, 200.0) == 10  # idle for long: still only a second's worth
    assert pace.after(result(4, taken=10), 10.0) == SHORTEST  # skipped ones cost nothing


def test_held_back_nothing_due_and_stopped() -> None:
    pace = CampaignPace()
    pace.budget(0.0, 100.0)
    assert pace.after(result(3, held=2), 0.0) == RETRY
    assert pace.after(result(7), 0.0) == IDLE  # fewer than asked: the lists are read
    assert pace.after(result(0), 0.0) == IDLE
    assert pace.after(result(STEP, state=CampaignState.PAUSED), 0.0) is None
    assert pace.after(result(STEP, state=CampaignState.DONE), 0.0) is None
    assert pace.wait_for_room(0.0) == SHORTEST and pace.wait_for_room(60.0) == IDLE


def test_steps_are_smaller_while_other_submits_are_committed() -> None:
    pace = CampaignPace()
    assert pace.budget(0.0, 100.0, shared=True) == SHARED_STEP < STEP
    assert pace.budget(0.0, 100.0) == STEP
