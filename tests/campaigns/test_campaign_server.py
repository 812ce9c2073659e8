"""The campaign runner wired into the server (smsc.server.campaigns): the real service on a fake
clock (tests/server/harness.py) with the store changed from outside as the CLI does, and the
server noticing by its poll. Each contact gets one message through intake and the group commit;
the campaign's throughput paces it; pause, resume and cancel take effect on the running server;
credit running out pauses it and a top-up resumes it; the sending window is each recipient's
local time on the test clock."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from smsc.config.loader import config_from_tables
from smsc.core.campaign_control import CampaignControl, NewCampaign
from smsc.core.campaign_runner import NO_CREDIT
from smsc.store.campaign_records import CampaignState, MarkState
from smsc.store.contact_records import Contact
from smsc.store.memory import MemoryStore
from smsc.store.records import Bucket, MessageFilter
from tests.server.harness import Rig, add_account, base_tables

NUMBERS = [f"3805012{i:05d}" for i in range(40)]
US = "12025550123"  # New York


def _campaign(store: MemoryStore, numbers: list[str], *, throughput: float = 0.0,
              window: str = "", now: float) -> int:
    lst = store.create_contact_list("acme", "spring", now=now)
    store.add_contacts(lst.id, [Contact(number=n, fields={"name": f"N{i}"})
                                for i, n in enumerate(numbers)], ["name"])
    control = CampaignControl(store)
    made = control.create(NewCampaign(account="acme", name="spring", lists=("spring",),
                                      template="Hi {name}", source="Shop",
                                      throughput=throughput, window=window), now)
    control.change(made.id, "start", now)
    return made.id


def _sent_to(store: MemoryStore) -> Counter[str]:
    return Counter(m.destination_addr for m in store.messages(MessageFilter(account="acme")))


def _state(store: MemoryStore, campaign_id: int) -> tuple[CampaignState, str]:
    found = store.campaign(campaign_id)
    assert found is not None
    return found.state, found.pause_reason


def test_a_started_campaign_is_sent_once_per_contact_and_ends_done() -> None:
    store = MemoryStore()
    add_account(store)
    rig = Rig(store)
    campaign_id = _campaign(store, NUMBERS, now=rig.clock.seconds())
    rig.advance(3.0)
    assert _sent_to(store) == Counter(NUMBERS)
    assert _state(store, campaign_id) == (CampaignState.DONE, "")
    assert store.campaign_counts(campaign_id) == {MarkState.SENT: len(NUMBERS)}
    assert rig.service.campaigns.sent == len(NUMBERS)
    assert rig.service.campaigns.runs == {}  # a done campaign is not held
    debits = [e.amount for e in store.ledger("acme") if e.amount < 0]
    assert sum(debits) == -len(NUMBERS)  # 0.01 a part, billed like any submit


def test_the_throughput_paces_the_steps() -> None:
    store = MemoryStore()
    add_account(store)
    rig = Rig(store)
    _campaign(store, NUMBERS, throughput=10, now=rig.clock.seconds())
    rig.advance(1.0)
    first = sum(_sent_to(store).values())
    assert 5 <= first <= 21  # a second's worth and the first allowance, not all 40
    rig.advance(1.0)
    assert sum(_sent_to(store).values()) - first <= 11
    rig.advance(5.0)
    assert _sent_to(store) == Counter(NUMBERS)


def test_pause_resume_and_cancel_from_outside_take_effect() -> None:
    store = MemoryStore()
    add_account(store)
    rig = Rig(store)
    campaign_id = _campaign(store, NUMBERS, throughput=10, now=rig.clock.seconds())
    control = CampaignControl(store)
    rig.advance(1.0)
    control.change(campaign_id, "pause", rig.clock.seconds())
    rig.advance(1.0)  # the step under way may still commit
    paused_at = sum(_sent_to(store).values())
    rig.advance(5.0)
    assert sum(_sent_to(store).values()) == paused_at < len(NUMBERS)
    assert rig.service.campaigns.runs == {}
    control.change(campaign_id, "resume", rig.clock.seconds())
    rig.advance(1.5)
    resumed = sum(_sent_to(store).values())
    assert paused_at < resumed < len(NUMBERS)
    control.change(campaign_id, "cancel", rig.clock.seconds())
    rig.advance(1.0)
    cancelled_at = sum(_sent_to(store).values())
    rig.advance(5.0)
    assert sum(_sent_to(store).values()) == cancelled_at < len(NUMBERS)
    assert _state(store, campaign_id) == (CampaignState.CANCELLED, "")
    assert max(_sent_to(store).values()) == 1


def test_credit_running_out_pauses_and_a_top_up_resumes() -> None:
    store = MemoryStore()
    add_account(store, credit=7)  # 0.07 EUR: seven messages at 0.01
    rig = Rig(store)
    campaign_id = _campaign(store, NUMBERS[:12], now=rig.clock.seconds())
    rig.advance(3.0)
    assert _state(store, campaign_id) == (CampaignState.PAUSED, NO_CREDIT)
    assert sum(_sent_to(store).values()) == 7
    rig.advance(3.0)  # no credit yet: nothing more
    assert sum(_sent_to(store).values()) == 7
    store.credit("acme", 100, Bucket.BOUGHT, rig.clock.seconds())  # `smsc credit add`
    rig.advance(3.0)
    assert _sent_to(store) == Counter(NUMBERS[:12])
    assert _state(store, campaign_id) == (CampaignState.DONE, "")


def test_a_contact_outside_its_window_waits_for_its_morning() -> None:
    store = MemoryStore()
    add_account(store)
    tables = base_tables()
    tables["routes"].append({"name": "us", "prefix": "1", "operators": ["op"], "price": "0.01"})
    before_nine_in_new_york = datetime(2025, 6, 16, 12, 58, tzinfo=UTC).timestamp()  # Kyiv 15:58
    rig = Rig(store, config_from_tables(tables), start_at=before_nine_in_new_york)
    campaign_id = _campaign(store, [NUMBERS[0], US], window="09:00-20:00",
                            now=rig.clock.seconds())
    rig.advance(60.0)
    assert _sent_to(store) == Counter([NUMBERS[0]])
    assert _state(store, campaign_id) == (CampaignState.RUNNING, "")
    assert store.campaign_counts(campaign_id) == {MarkState.SENT: 1, MarkState.WAITING: 1}
    rig.advance(58.0)  # 08:59:58 in New York
    assert US not in _sent_to(store)
    rig.advance(4.0)
    assert _sent_to(store) == Counter([NUMBERS[0], US])
    assert _state(store, campaign_id) == (CampaignState.DONE, "")
