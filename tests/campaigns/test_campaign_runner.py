"""Running a campaign (smsc.core.campaign_runner) through the real core and stores: each contact
exactly once across steps, restarts and a lost step; the sending window in each recipient's
local time on a test clock; pause for credit and resume after a top-up; opt-outs and numbers in
two lists."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from smsc.config.loader import load_config, packaged_defaults
from smsc.core.campaign_runner import NO_ACCOUNT, NO_CREDIT, CampaignRunner
from smsc.core.centre import SmscCore
from smsc.core.ids import MessageIdFormat
from smsc.core.routebook import RouteBook
from smsc.core.sending_window import SendingWindow, WindowError
from smsc.store.base import Store
from smsc.store.campaign_records import Campaign, CampaignState, MarkState
from smsc.store.contact_records import Contact
from smsc.store.memory import MemoryStore
from smsc.store.records import Account, Bucket, MessageFilter
from smsc.store.sqlite import SqliteStore

CONFIG = load_config(packaged_defaults())
MORNING_UTC = datetime(2025, 6, 16, 6, 30, tzinfo=UTC).timestamp()  # Kyiv 09:30, New York 02:30
UA = [f"38067100{i:04d}" for i in range(25)]
US = ["12025550123", "12125550199"]


def _core(store: Store) -> SmscCore:
    routing = RouteBook(CONFIG.routing)
    routing.install(routing.load(store))
    first = store.reserve_ids(100_000)
    ids = iter(range(first, first + 100_000))
    return SmscCore(store, simulator=CONFIG.operators.simulator(), route=routing.route,
                    id_format=MessageIdFormat(hex_ids=True), take_id=lambda: next(ids))


def _setup(store: Store, numbers: list[str], *, credit: int = 1_000_000,
           window: str = "09:00-20:00") -> int:
    store.create_account(Account(system_id="acme", password_hash="h"))
    if credit:
        store.credit("acme", credit, Bucket.BOUGHT, MORNING_UTC)
    lst = store.create_contact_list("acme", "spring", now=MORNING_UTC)
    store.add_contacts(lst.id, [Contact(number=n, fields={"name": f"N{i}"})
                                for i, n in enumerate(numbers)], ["name"])
    w = SendingWindow.parse(window)
    made = store.create_campaign(Campaign(account="acme", name="spring", lists=(lst.id,),
                                          template="Hi {name}", source="Shop",
                                          window_start=w.start, window_end=w.end), MORNING_UTC)
    store.set_campaign_state(made.id, CampaignState.RUNNING, MORNING_UTC)
    return made.id


def _sent_to(store: Store) -> Counter[str]:
    return Counter(m.destination_addr for m in store.messages(MessageFilter(account="acme")))


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_every_contact_exactly_once_in_small_steps(kind: str, tmp_path: Path) -> None:
    store: Store = MemoryStore() if kind == "memory" else SqliteStore(tmp_path / "s.db")
    campaign_id = _setup(store, UA)
    core, runner = _core(store), CampaignRunner(store)
    for _ in range(20):
        result = runner.step(campaign_id, core.intake, MORNING_UTC, limit=4)
        if result.state == CampaignState.DONE:
            break
    assert result.state == CampaignState.DONE
    assert _sent_to(store) == Counter(UA)
    assert store.campaign_counts(campaign_id) == {MarkState.SENT: len(UA)}
    store.close()


def test_a_restart_and_a_lost_step_send_nobody_twice(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    campaign_id = _setup(store, UA)
    runner = CampaignRunner(store)
    runner.step(campaign_id, _core(store).intake, MORNING_UTC, limit=7)
    # A step read and prepared but never committed (the process was killed).
    lost = runner.read(campaign_id, MORNING_UTC, 7)
    assert lost is not None
    runner.prepare(lost, _core(store).intake, MORNING_UTC)
    store.close()
    store = SqliteStore(tmp_path / "s.db")  # a new process on the same file
    core, runner = _core(store), CampaignRunner(store)
    for _ in range(10):
        if runner.step(campaign_id, core.intake, MORNING_UTC, 7).state == CampaignState.DONE:
            break
    assert _sent_to(store) == Counter(UA)
    store.close()


def test_the_window_is_each_recipients_local_time() -> None:
    store = MemoryStore()
    campaign_id = _setup(store, [UA[0], *US])
    core, runner = _core(store), CampaignRunner(store)
    first = runner.step(campaign_id, core.intake, MORNING_UTC, 100)
    assert (first.sent, first.waiting) == (1, 2)  # Kyiv is open, New York asleep
    assert _sent_to(store) == Counter([UA[0]])
    (waiting, _) = store.campaign_waiting(campaign_id, float("inf"))
    assert datetime.fromtimestamp(waiting.due_at or 0, UTC).hour == 13  # 09:00 in New York
    assert runner.step(campaign_id, core.intake, MORNING_UTC + 3600, 100).sent == 0
    evening = datetime(2025, 6, 16, 13, 0, tzinfo=UTC).timestamp()
    result = runner.step(campaign_id, core.intake, evening, 100)
    assert result.sent == 2 and result.state == CampaignState.DONE
    assert _sent_to(store) == Counter([UA[0], *US])


def test_a_waiting_contact_whose_window_closed_again_waits_again() -> None:
    store = MemoryStore()
    campaign_id = _setup(store, US[:1])
    core, runner = _core(store), CampaignRunner(store)
    runner.step(campaign_id, core.intake, MORNING_UTC, 10)
    late = datetime(2025, 6, 17, 2, 0, tzinfo=UTC).timestamp()  # 22:00 in New York
    assert runner.step(campaign_id, core.intake, late, 10).sent == 0
    (waiting,) = store.campaign_waiting(campaign_id, float("inf"))
    assert datetime.fromtimestamp(waiting.due_at or 0, UTC) == datetime(2025, 6, 17, 13, 0,
                                                                       tzinfo=UTC)


def test_credit_running_out_pauses_and_a_top_up_resumes() -> None:
    store = MemoryStore()
    campaign_id = _setup(store, UA[:5], credit=0)
    core, runner = _core(store), CampaignRunner(store)
    store.credit("acme", 7, Bucket.BOUGHT, MORNING_UTC)  # 0.07: two messages at 0.03
    result = runner.step(campaign_id, core.intake, MORNING_UTC, 10)
    assert (result.state, result.reason) == (CampaignState.PAUSED, NO_CREDIT)
    found = store.campaign(campaign_id)
    assert found is not None and found.pause_reason == NO_CREDIT
    assert sum(_sent_to(store).values()) == 2
    assert runner.step(campaign_id, core.intake, MORNING_UTC, 10).sent == 0  # still no credit
    store.credit("acme", 1000, Bucket.BOUGHT, MORNING_UTC)
    for _ in range(5):
        if runner.step(campaign_id, core.intake, MORNING_UTC, 10).state == CampaignState.DONE:
            break
    assert _sent_to(store) == Counter(UA[:5])


def test_opted_out_and_numbers_in_two_lists() -> None:
    store = MemoryStore()
    campaign_id = _setup(store, UA[:3])
    other = store.create_contact_list("acme", "other", now=MORNING_UTC)
    store.add_contacts(other.id, [Contact(number=UA[0]), Contact(number=UA[5])])
    store.opt_out("acme", UA[1], MORNING_UTC)
    campaign = store.campaign(campaign_id)
    assert campaign is not None
    both = store.create_campaign(Campaign(account="acme", name="both",
                                          lists=(*campaign.lists, other.id), template="Hi",
                                          source="Shop"), MORNING_UTC)
    store.set_campaign_state(both.id, CampaignState.RUNNING, MORNING_UTC)
    result = CampaignRunner(store).step(both.id, _core(store).intake, MORNING_UTC, 100)
    assert (result.sent, result.skipped, result.state) == (3, 1, CampaignState.DONE)
    assert _sent_to(store) == Counter([UA[0], UA[2], UA[5]])
    marks = {m.number: m for m in store.campaign_marks(both.id)}
    assert marks[UA[1]].note == "opted out"


def test_a_paused_or_draft_campaign_sends_nothing() -> None:
    store = MemoryStore()
    campaign_id = _setup(store, UA[:2])
    store.set_campaign_state(campaign_id, CampaignState.PAUSED, MORNING_UTC, "by hand")
    result = CampaignRunner(store).step(campaign_id, _core(store).intake, MORNING_UTC, 10)
    assert (result.sent, result.state, result.reason) == (0, CampaignState.PAUSED, "by hand")


def test_window_parsing_and_spans() -> None:
    assert SendingWindow.parse("09:00-20:00") == SendingWindow(540, 1200)
    assert str(SendingWindow.parse("22:00-06:30")) == "22:00-06:30"
    assert SendingWindow.parse("").always and SendingWindow.parse("any").always
    night = SendingWindow.parse("22:00-06:00")
    at = datetime(2025, 6, 16, 23, 0, tzinfo=UTC).timestamp()
    assert night.is_open(["UTC"], at) and night.is_open(["Europe/Kyiv"], at)  # 02:00
    assert not night.is_open(["Asia/Tokyo"], at)  # 08:00
    for bad in ("9-20", "25:00-26:00", "09:60-10:00", "09:00"):
        with pytest.raises(WindowError):
            SendingWindow.parse(bad)


def test_a_number_in_several_zones_waits_for_all_of_them() -> None:
    w = SendingWindow.parse("09:00-20:00")
    at = datetime(2025, 6, 16, 23, 30, tzinfo=UTC).timestamp()  # Perth 07:30, Sydney 09:30
    opens = w.next_open(["Australia/Perth", "Australia/Sydney"], at)
    assert datetime.fromtimestamp(opens, UTC) == datetime(2025, 6, 17, 1, 0, tzinfo=UTC)


def test_a_full_operator_queue_holds_contacts_back_without_skipping_them() -> None:
    store = MemoryStore()
    campaign_id = _setup(store, UA[:4])
    core, runner = _core(store), CampaignRunner(store)
    core.queue_depths.add("kyivstar", 10**9)  # every queue of theirs is full
    result = runner.step(campaign_id, core.intake, MORNING_UTC, 10)
    assert (result.sent, result.skipped, result.state) == (0, 0, CampaignState.RUNNING)
    assert store.campaign_counts(campaign_id) == {}
    found = store.campaign(campaign_id)
    assert found is not None and (found.cursor_list, found.cursor_contact) == (0, 0)
    core.queue_depths.left({"kyivstar": 10**9})
    for _ in range(3):
        if runner.step(campaign_id, core.intake, MORNING_UTC, 10).state == CampaignState.DONE:
            break
    assert _sent_to(store) == Counter(UA[:4])


class _Bucket:
    """A throughput bucket that lets ``room`` messages through, then none."""

    def __init__(self, room: int) -> None:
        self.room = room

    def take(self, now: float, n: int = 1) -> bool:
        if self.room < n:
            return False
        self.room -= n
        return True


def test_the_accounts_throughput_holds_contacts_back_for_later() -> None:
    store = MemoryStore()
    campaign_id = _setup(store, UA[:5])
    core, runner = _core(store), CampaignRunner(store)
    bucket = _Bucket(2)
    result = runner.step(campaign_id, core.intake, MORNING_UTC, 10, throttle=bucket)
    assert (result.sent, result.skipped) == (2, 0)
    bucket.room = 100
    for _ in range(3):
        if runner.step(campaign_id, core.intake, MORNING_UTC, 10,
                       throttle=bucket).state == CampaignState.DONE:
            break
    assert _sent_to(store) == Counter(UA[:5])


def test_a_cancel_between_read_and_commit_stays_cancelled() -> None:
    store = MemoryStore()
    campaign_id = _setup(store, UA[:2])
    core, runner = _core(store), CampaignRunner(store)
    batch = runner.read(campaign_id, MORNING_UTC, 10)
    assert batch is not None
    runner.prepare(batch, core.intake, MORNING_UTC)
    store.set_campaign_state(campaign_id, CampaignState.CANCELLED, MORNING_UTC)
    runner.answered(runner.commit(batch, MORNING_UTC), core.intake)
    found = store.campaign(campaign_id)
    assert found is not None and found.state == CampaignState.CANCELLED  # not DONE
    assert runner.step(campaign_id, core.intake, MORNING_UTC, 10).sent == 0


def test_a_disabled_account_pauses_its_campaign_and_skips_nobody() -> None:
    store = MemoryStore()
    campaign_id = _setup(store, UA[:3])
    account = store.get_account("acme")
    assert account is not None
    store.update_account(replace(account, enabled=False))
    core, runner = _core(store), CampaignRunner(store)
    result = runner.step(campaign_id, core.intake, MORNING_UTC, 10)
    assert (result.state, result.reason) == (CampaignState.PAUSED, NO_ACCOUNT)
    assert store.campaign_counts(campaign_id) == {}
    found = store.campaign(campaign_id)
    assert found is not None and (found.cursor_list, found.cursor_contact) == (0, 0)
