"""Whatever happens between steps (lost steps, restarts, pauses, credit running out, time
passing across windows), a campaign sends each contact at most once, and once let run to the
end, exactly once (hypothesis over sequences of events; the real core on a memory store)."""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsc.core.campaign_control import CampaignControl
from smsc.core.campaign_runner import CampaignRunner
from smsc.store.campaign_records import CampaignState
from smsc.store.memory import MemoryStore
from smsc.store.records import Bucket
from tests.campaigns.test_campaign_runner import MORNING_UTC, UA, US, _core, _sent_to, _setup

NUMBERS = [*UA[:12], *US]
EVENTS = st.one_of(
    st.tuples(st.just("step"), st.integers(1, 6)),
    st.tuples(st.just("lost"), st.integers(1, 6)),
    st.tuples(st.just("restart"), st.just(0)),
    st.tuples(st.just("pause"), st.just(0)),
    st.tuples(st.just("resume"), st.just(0)),
    st.tuples(st.just("topup"), st.integers(1, 10)),
    st.tuples(st.just("wait"), st.integers(1, 12 * 3600)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(EVENTS, max_size=25), st.integers(0, 20))
def test_each_contact_once_whatever_happens(events: list[tuple[str, int]],
                                            credit: int) -> None:
    store = MemoryStore()
    campaign_id = _setup(store, NUMBERS, credit=credit)
    control = CampaignControl(store)
    core, runner = _core(store), CampaignRunner(store)
    now = MORNING_UTC
    for kind, value in events:
        if kind == "step":
            runner.step(campaign_id, core.intake, now, value)
        elif kind == "lost":
            batch = runner.read(campaign_id, now, value)
            if batch is not None and batch.campaign.state == CampaignState.RUNNING:
                runner.prepare(batch, core.intake, now)  # never committed
        elif kind == "restart":
            core, runner = _core(store), CampaignRunner(store)
        elif kind == "pause" and _state(store, campaign_id) == CampaignState.RUNNING:
            control.change(campaign_id, "pause", now)
        elif kind == "resume" and _state(store, campaign_id) == CampaignState.PAUSED:
            control.change(campaign_id, "resume", now)
        elif kind == "topup":
            store.credit("acme", value, Bucket.BOUGHT, now)
        elif kind == "wait":
            now += value
        assert max(_sent_to(store).values(), default=0) <= 1
    store.credit("acme", 10_000, Bucket.BOUGHT, now)
    if _state(store, campaign_id) == CampaignState.PAUSED:
        control.change(campaign_id, "resume", now)
    for _ in range(60):
        if _state(store, campaign_id) == CampaignState.DONE:
            break
        runner.step(campaign_id, core.intake, now, 5)
        now += 3600
    assert _state(store, campaign_id) == CampaignState.DONE
    assert _sent_to(store) == Counter(NUMBERS)


def _state(store: MemoryStore, campaign_id: int) -> CampaignState:
    found = store.campaign(campaign_id)
    assert found is not None
    return found.state
