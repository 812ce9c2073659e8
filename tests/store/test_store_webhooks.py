"""The Store contract for receipts and MO by webhook, against every implementation (see
conftest.py): the hook a part and an outbox item carry, which reader takes which items, and the
webhook courier's claims, retries, failed list and replays."""

from __future__ import annotations

import dataclasses
import threading

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from smsc.store.base import Store
from smsc.store.records import DAY, HookStyle, OutboxItem
from tests.store.conftest import StoreMaker
from tests.store.test_store_contract import NOW, funded, outbox_item, part

HOOK = "http://app.example/dlr?id=%I&s=%d"
JSON_URL = "https://shop.example/hook"


def test_a_part_keeps_its_hook(store: Store) -> None:
    funded(store, bought=100)
    hooked = dataclasses.replace(part(1), hook_url=HOOK, hook_style=int(HookStyle.KANNEL))
    store.accept([hooked, part(2)], NOW)
    (first,) = store.get_messages(1)
    (second,) = store.get_messages(2)
    assert (first.hook_url, first.hook_style) == (HOOK, HookStyle.KANNEL)
    assert (second.hook_url, second.hook_style) == ("", 0)


def test_an_account_keeps_its_webhook_settings(store: Store) -> None:
    funded(store, webhook_url=JSON_URL, webhook_secret="k" * 64)
    found = store.get_account("acme")
    assert found is not None
    assert (found.webhook_url, found.webhook_secret) == (JSON_URL, "k" * 64)


def test_the_smpp_reader_never_sees_hooked_items(store: Store) -> None:
    funded(store)
    plain, hooked, other = store.add_outbox([
        outbox_item(),
        outbox_item(hook_url=JSON_URL, hook_style=int(HookStyle.JSON)),
        outbox_item(hook_url=HOOK, hook_style=int(HookStyle.KANNEL)),
    ])
    assert (hooked.hook_url, hooked.hook_style) == (JSON_URL, HookStyle.JSON)
    assert store.outbox_for("acme", 0, 10, NOW) == [plain]
    assert store.outbox_for("acme", 0, 10, NOW, hooked=True) == [hooked, other]
    assert store.outbox_for("acme", hooked.id, 10, NOW, hooked=True) == [other]
    assert store.outbox_count("acme") == 3
    assert other.id > hooked.id > plain.id


def test_hooked_items_come_back_from_apply_with_their_hook(store: Store) -> None:
    funded(store)
    (item,) = store.apply([], [outbox_item(hook_url=JSON_URL, hook_style=1,
                                           expires_at=NOW + DAY)], NOW)
    assert item.id and item.hook_url == JSON_URL and item.hook_style == 1


def _hooked(**kw: object) -> OutboxItem:
    kw.setdefault("hook_url", JSON_URL)
    kw.setdefault("hook_style", int(HookStyle.JSON))
    return outbox_item(**kw)  # type: ignore[arg-type]


def test_a_claim_takes_due_hooked_items_once_per_lease(store: Store) -> None:
    funded(store)
    plain, first, later, second, dead = store.add_outbox([
        outbox_item(), _hooked(), _hooked(not_before=NOW + 60), _hooked(),
        _hooked(expires_at=NOW)])
    claimed = store.claim_webhooks(NOW, 10, 30.0)
    assert [i.id for i in claimed] == [first.id, second.id]
    assert all(i.not_before == NOW + 30.0 and i.hook_url == JSON_URL for i in claimed)
    assert store.claim_webhooks(NOW + 1, 10, 30.0) == []  # leased
    again = store.claim_webhooks(NOW + 60, 10, 30.0)  # the lease ran out; later is due
    assert [i.id for i in again] == [first.id, second.id, later.id]
    assert store.outbox_for("acme", 0, 10, NOW) == [plain]
    assert dead.id not in {i.id for i in again}


def test_a_claim_is_limited_and_takes_the_earliest_due_first(store: Store) -> None:
    funded(store)
    items = store.add_outbox([_hooked(not_before=NOW - n) for n in range(5)])
    claimed = store.claim_webhooks(NOW, 2, 10.0)
    assert [i.id for i in claimed] == [items[4].id, items[3].id]
    assert store.claim_webhooks(NOW, 0, 10.0) == []


def test_the_events_of_a_failed_call_are_retried_together(store: Store) -> None:
    funded(store)
    items = store.add_outbox([_hooked() for _ in range(3)])
    plain = store.add_outbox([outbox_item()])[0]  # not hooked: left alone
    store.claim_webhooks(NOW, 10, 30.0)
    assert store.retry_webhooks([]) == 0
    written = store.retry_webhooks([(i.id, 1, NOW + 5 + n, "HTTP 500")
                                    for n, i in enumerate(items)] + [(plain.id, 1, NOW, "x")])
    assert written == 3
    assert store.claim_webhooks(NOW + 4.5, 10, 30.0) == []
    assert [(i.id, i.attempts) for i in store.claim_webhooks(NOW + 6, 10, 30.0)] == [
        (items[0].id, 1), (items[1].id, 1)]
    store.ack_outbox([i.id for i in items])
    assert store.retry_webhooks([(items[0].id, 2, NOW, "gone")]) == 0


def test_a_retry_is_kept_and_an_ack_removes_the_item(store: Store) -> None:
    funded(store)
    (item,) = store.add_outbox([_hooked()])
    store.claim_webhooks(NOW, 10, 30.0)
    assert store.retry_webhook(item.id, 1, NOW + 5, "HTTP 500")
    assert store.claim_webhooks(NOW + 4, 10, 30.0) == []
    (again,) = store.claim_webhooks(NOW + 5, 10, 30.0)
    assert again.attempts == 1 and again.id == item.id
    store.ack_outbox([item.id])
    assert store.outbox_count() == 0
    assert not store.retry_webhook(item.id, 2, NOW + 9, "gone")
    assert not store.retry_webhook(store.add_outbox([outbox_item()])[0].id, 1, NOW, "smpp")


def test_a_failed_webhook_moves_to_the_failed_list_and_replays_under_its_id(
        store: Store) -> None:
    funded(store)
    funded(store, "other")
    item, theirs = store.add_outbox([_hooked(), _hooked(account="other")])
    assert store.fail_webhook(item.id, 7, "HTTP 503: busy", NOW + 10)
    assert not store.fail_webhook(item.id, 7, "again", NOW + 10)
    assert store.outbox_count() == 1
    (failed,) = store.failed_webhooks()
    assert (failed.item.id, failed.item.pdu, failed.item.hook_url) == (item.id, item.pdu, JSON_URL)
    assert (failed.attempts, failed.last_error, failed.failed_at) == (7, "HTTP 503: busy",
                                                                      NOW + 10)
    assert failed.item.account == "acme" and failed.item.message_id == item.message_id
    assert store.failed_webhooks("other") == []
    back = store.replay_webhook(item.id, NOW + 20, NOW + DAY, "https://new.example/h")
    assert back is not None and back.id == item.id and back.attempts == 0
    assert (back.not_before, back.expires_at, back.hook_url) == (NOW + 20, NOW + DAY,
                                                                "https://new.example/h")
    assert store.failed_webhooks() == []
    assert store.replay_webhook(item.id, NOW + 20, NOW + DAY) is None
    claimed = store.claim_webhooks(NOW + 20, 10, 30.0)
    assert {i.id for i in claimed} == {item.id, theirs.id}
    assert next(i for i in claimed if i.id == item.id).hook_url == "https://new.example/h"


def test_the_failed_list_pages_by_id_and_account(store: Store) -> None:
    funded(store)
    funded(store, "other")
    items = store.add_outbox([_hooked(account="acme" if n % 2 else "other") for n in range(6)])
    for n, item in enumerate(items):
        store.fail_webhook(item.id, 1, "timeout", NOW + n)
    ids = [f.item.id for f in store.failed_webhooks(limit=4)]
    assert ids == [i.id for i in items[:4]]
    assert [f.item.id for f in store.failed_webhooks(after_id=ids[-1])] == [
        i.id for i in items[4:]]
    assert [f.item.id for f in store.failed_webhooks("acme")] == [
        i.id for i in items if i.account == "acme"]


def test_the_failed_list_keeps_the_newest_failures(store: Store) -> None:
    funded(store)
    items = store.add_outbox([_hooked() for _ in range(5)])
    for n, item in enumerate(items):
        store.fail_webhook(item.id, 1, "refused", NOW + 5 - n, keep=3)  # the first is newest
    assert [f.item.id for f in store.failed_webhooks()] == [i.id for i in items[:3]]


def test_expiry_moves_hooked_items_to_the_failed_list_and_drops_the_others(
        store: Store) -> None:
    funded(store)
    plain, claimed, tried, untried, alive = store.add_outbox([
        outbox_item(expires_at=NOW + 10), _hooked(expires_at=NOW + 10),
        _hooked(expires_at=NOW + 10), _hooked(expires_at=NOW + 10),
        _hooked(expires_at=NOW + 99)])
    assert [i.id for i in store.claim_webhooks(NOW, 1, 100.0)] == [claimed.id]
    store.retry_webhook(tried.id, 3, NOW + 1, "HTTP 500")
    assert store.expire_outbox(NOW + 10) == 3  # the claimed one waits for its lease
    failed = {f.item.id: f for f in store.failed_webhooks()}
    assert set(failed) == {tried.id, untried.id}
    assert (failed[tried.id].attempts, failed[tried.id].last_error) == (3, "HTTP 500")
    assert (failed[untried.id].attempts, failed[untried.id].last_error) == (0, "expired")
    assert failed[tried.id].failed_at == NOW + 10
    assert store.outbox_count() == 2 and store.outbox_for("acme", 0, 10, NOW) == []
    assert plain.id not in failed and alive.id not in failed


def test_a_retry_that_comes_due_after_the_ttl_fails_at_the_next_claim(store: Store) -> None:
    """A retry due just before the end of the time to live, claimed just after it: the claim
    moves it to the failed list with its last error (not the minute's expiry sweep)."""
    funded(store)
    (item,) = store.add_outbox([_hooked(expires_at=NOW + 3)])
    store.claim_webhooks(NOW, 10, 30.0)
    store.retry_webhook(item.id, 2, NOW + 2.7, "HTTP 503")
    assert store.claim_webhooks(NOW + 3.2, 10, 30.0) == []
    (failed,) = store.failed_webhooks()
    assert (failed.item.id, failed.attempts, failed.last_error, failed.failed_at) == (
        item.id, 2, "HTTP 503", NOW + 3.2)
    assert store.outbox_count() == 0


def test_claims_from_two_handles_in_threads_never_overlap(shared_maker: StoreMaker,
                                                          store: Store) -> None:
    """Two processes (or nodes) claiming at once: every due item is taken by one of them."""
    funded(store)
    items = store.add_outbox([_hooked() for _ in range(200)])
    other = shared_maker.again(store)
    taken: dict[str, list[int]] = {"a": [], "b": []}

    def claim(name: str, handle: Store) -> None:
        for _ in range(100):
            got = handle.claim_webhooks(NOW, 7, 60.0)
            if not got:
                return
            taken[name].extend(i.id for i in got)

    threads = [threading.Thread(target=claim, args=("a", store)),
               threading.Thread(target=claim, args=("b", other))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not set(taken["a"]) & set(taken["b"])
    assert sorted(taken["a"] + taken["b"]) == [i.id for i in items]


# --- a model of the webhook outbox ----------------------------------------------------------------
@dataclasses.dataclass
class _Modelled:
    attempts: int = 0
    not_before: float = 0.0
    expires_at: float = 0.0
    error: str = ""


class WebhookMachine(RuleBasedStateMachine):
    """Adds, claims, retries, acks, failures, expiry, replays and time passing, checked against
    a model: what is due, what is failed, with which attempts and errors."""

    maker: StoreMaker

    def __init__(self) -> None:
        super().__init__()
        self.store = self.maker.new()
        funded(self.store)
        self.now = NOW
        self.live: dict[int, _Modelled] = {}
        self.failed: dict[int, tuple[int, str]] = {}  # id -> attempts, last error

    def _move(self, item_id: int, attempts: int, error: str) -> None:
        del self.live[item_id]
        self.failed[item_id] = (attempts, error)

    def _expire_due(self) -> None:
        """What the store moves at a claim: due items past their time to live."""
        for item_id, m in sorted(self.live.items()):
            if m.expires_at <= self.now and m.not_before <= self.now:
                self._move(item_id, m.attempts, m.error or "expired")

    @rule(delay=st.floats(-5, 30), ttl=st.floats(1, 60))
    def add(self, delay: float, ttl: float) -> None:
        (item,) = self.store.add_outbox([_hooked(not_before=self.now + delay,
                                                 expires_at=self.now + ttl)])
        self.live[item.id] = _Modelled(not_before=self.now + delay, expires_at=self.now + ttl)

    @rule(seconds=st.floats(0, 20))
    def wait(self, seconds: float) -> None:
        self.now += seconds

    @rule(limit=st.integers(1, 5))
    def claim(self, limit: int) -> None:
        got = self.store.claim_webhooks(self.now, limit, 10.0)
        self._expire_due()
        due = sorted((m.not_before, i) for i, m in self.live.items()
                     if m.not_before <= self.now < m.expires_at)[:limit]
        assert [i.id for i in got] == [i for _, i in due]
        for item in got:
            assert item.attempts == self.live[item.id].attempts
            self.live[item.id].not_before = self.now + 10.0

    @precondition(lambda self: bool(self.live))
    @rule(data=st.data(), wait=st.floats(0, 20), error=st.sampled_from(["HTTP 500", "timeout"]))
    def retry(self, data: st.DataObject, wait: float, error: str) -> None:
        item_id = data.draw(st.sampled_from(sorted(self.live)))
        m = self.live[item_id]
        assert self.store.retry_webhook(item_id, m.attempts + 1, self.now + wait, error)
        m.attempts, m.not_before, m.error = m.attempts + 1, self.now + wait, error

    @precondition(lambda self: bool(self.live))
    @rule(data=st.data())
    def ack(self, data: st.DataObject) -> None:
        item_id = data.draw(st.sampled_from(sorted(self.live)))
        self.store.ack_outbox([item_id])
        del self.live[item_id]

    @precondition(lambda self: bool(self.live))
    @rule(data=st.data())
    def fail(self, data: st.DataObject) -> None:
        item_id = data.draw(st.sampled_from(sorted(self.live)))
        attempts = self.live[item_id].attempts + 1
        assert self.store.fail_webhook(item_id, attempts, "HTTP 404", self.now)
        self._move(item_id, attempts, "HTTP 404")

    @rule()
    def expire(self) -> None:
        self.store.expire_outbox(self.now)
        self._expire_due()

    @precondition(lambda self: bool(self.failed))
    @rule(data=st.data(), ttl=st.floats(1, 60))
    def replay(self, data: st.DataObject, ttl: float) -> None:
        item_id = data.draw(st.sampled_from(sorted(self.failed)))
        back = self.store.replay_webhook(item_id, self.now, self.now + ttl)
        assert back is not None and back.id == item_id and back.attempts == 0
        del self.failed[item_id]
        self.live[item_id] = _Modelled(not_before=self.now, expires_at=self.now + ttl)

    @invariant()
    def same_as_the_model(self) -> None:
        failed = {f.item.id: (f.attempts, f.last_error) for f in self.store.failed_webhooks(
            limit=1000)}
        assert failed == self.failed
        assert self.store.outbox_count() == len(self.live)

    def teardown(self) -> None:
        self.maker.release(self.store)


def test_webhook_state_machine(maker: StoreMaker) -> None:
    machine = type("Machine", (WebhookMachine,), {"maker": maker})
    run_state_machine_as_test(
        machine,
        settings=settings(max_examples=25 if maker.name == "postgres" else 40,
                          stateful_step_count=25, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture]),
    )


def test_released_claims_are_due_at_once(store: Store) -> None:
    funded(store)
    first, _, _ = store.add_outbox([_hooked(), _hooked(), _hooked(not_before=NOW + 50)])
    store.claim_webhooks(NOW, 10, 30.0)
    store.release_webhooks([first.id, 999], NOW + 1)
    assert [i.id for i in store.claim_webhooks(NOW + 1, 10, 30.0)] == [first.id]
    assert store.claim_webhooks(NOW + 2, 10, 30.0) == []  # the second still leased
