"""A campaign's report and cleaning (smsc.core.campaign_report): the real core sends the
campaign, the packaged operators finish every message (a US number is REJECTD by coverage, a
possible number in no assigned range UNDELIV err 1), and the report and the cleaning follow."""

from __future__ import annotations

from smsc.core.campaign_report import campaign_report, clean_lists
from smsc.core.campaign_runner import CampaignRunner
from smsc.store.campaign_records import CampaignState, MarkState
from smsc.store.contact_records import Contact
from smsc.store.memory import MemoryStore
from smsc.store.records import MessageFilter
from tests.campaigns.test_campaign_runner import MORNING_UTC, UA, _core, _setup

UNASSIGNED = "447700900123"  # possible, in no assigned range: UNDELIV err 1
US = "12025550123"  # the packaged coverage rule: REJECTD


def _finished_campaign() -> tuple[MemoryStore, int]:
    store = MemoryStore()
    campaign_id = _setup(store, [*UA[:6], UNASSIGNED, US], window="")
    store.opt_out("acme", UA[5], MORNING_UTC)
    core = _core(store)
    result = CampaignRunner(store).step(campaign_id, core.intake, MORNING_UTC, 100)
    assert result.state == CampaignState.DONE
    now = MORNING_UTC
    for _ in range(500):
        now += 600
        core.due_round(now)
        if all(m.next_at is None for m in store.messages(MessageFilter(account="acme"))):
            break
    return store, campaign_id


def test_the_report_counts_marks_outcomes_errors_and_cost() -> None:
    store, campaign_id = _finished_campaign()
    seen: list[str] = []
    report = campaign_report(store, campaign_id, lambda o: seen.append(o.number))
    assert seen == sorted([*UA[:6], UNASSIGNED, US])
    assert report.marks == {"sent": 7, "skipped": 1}
    assert report.skipped == {"opted out": 1}
    assert sum(report.outcomes.values()) == 7 and report.finished == 7
    assert any(stat == "REJECTD" for stat, _ in report.errors)
    assert report.errors[("UNDELIV", 1)] >= 1
    delivered = report.outcomes.get("DELIVRD", 0)
    assert report.delivery_rate == delivered / 7
    charged = sum(p.charged_subscription + p.charged_bought - (p.refunded or 0)
                  for p in store.messages(MessageFilter(account="acme")))
    assert report.charged == charged and report.parts == 7


def test_clean_removes_the_unreachable_or_moves_them() -> None:
    store, campaign_id = _finished_campaign()
    campaign = store.campaign(campaign_id)
    assert campaign is not None
    (list_id,) = campaign.lists
    assert clean_lists(store, campaign_id, dry_run=True).removed >= 2
    dead = store.create_contact_list("acme", "dead", now=MORNING_UTC)
    cleaned = clean_lists(store, campaign_id, move_to=dead)
    assert cleaned.moved == cleaned.removed >= 2
    left = {c.number for c in store.contacts(list_id)}
    moved = {c.number: c for c in store.contacts(dead.id)}
    assert UNASSIGNED in moved and US in moved and not ({UNASSIGNED, US} & left)
    assert moved[US].fields == {"name": "N7"}
    assert UA[5] in left  # skipped (opted out), not cleaned
    assert clean_lists(store, campaign_id).removed == 0  # nothing left to clean
    assert store.campaign_counts(campaign_id)[MarkState.SENT] == 7


def test_a_contact_skipped_keeps_its_list_and_an_unsent_campaign_reports_nothing() -> None:
    store = MemoryStore()
    campaign_id = _setup(store, UA[:2])
    report = campaign_report(store, campaign_id)
    assert report.marks == {} and report.delivery_rate is None
    store.add_contacts(1, [Contact(number=UA[3])])
    assert clean_lists(store, campaign_id).removed == 0
