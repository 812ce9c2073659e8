"""The outbox dispatcher: which item goes to which receiver, when, and never twice or never."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from smsc.core.outbox import OutboxDispatcher, Pull
from smsc.store.memory import MemoryStore
from smsc.store.records import OutboxItem, OutboxKind

NOW = 1_000.0


@dataclass(eq=False)
class Receiver:
    window: int = 2
    sent: list[OutboxItem] = field(default_factory=list)
    unanswered: list[OutboxItem] = field(default_factory=list)

    @property
    def free_slots(self) -> int:
        return self.window - len(self.unanswered)


def item(item_id: int, account: str = "acme", **kw: object) -> OutboxItem:
    fields: dict[str, object] = {"id": item_id, "account": account, "kind": OutboxKind.RECEIPT,
                                 "pdu": b"x", "created_at": NOW, "expires_at": NOW + 3600}
    fields.update(kw)
    return OutboxItem(**fields)  # type: ignore[arg-type]


def send(d: OutboxDispatcher, now: float = NOW) -> list[tuple[Receiver, OutboxItem]]:
    out = d.assign(now)
    for receiver, it in out:
        receiver.sent.append(it)  # type: ignore[attr-defined]
        receiver.unanswered.append(it)  # type: ignore[attr-defined]
    return out  # type: ignore[return-value]


def answer(d: OutboxDispatcher, receiver: Receiver, ok: bool = True, now: float = NOW) -> None:
    it = receiver.unanswered.pop(0)
    if ok:
        d.delivered(it)
    else:
        d.failed(it, now)


def loaded_pull(d: OutboxDispatcher, items: list[OutboxItem], now: float = NOW) -> Pull:
    (pull,) = d.pulls()
    d.loaded(pull, [i for i in items if i.id > pull.after_id][: pull.limit], now)
    return pull


def test_round_robin_within_each_window() -> None:
    d = OutboxDispatcher(per_account=100)
    a, b = Receiver(window=2), Receiver(window=1)
    d.bound("acme", a)
    d.bound("acme", b)
    loaded_pull(d, [item(i) for i in range(1, 6)])
    sent = send(d)
    assert [(r is a, i.id) for r, i in sent] == [(True, 1), (False, 2), (True, 3)]
    assert send(d) == []  # both windows full
    answer(d, b)
    assert [i.id for _, i in send(d)] == [4]
    assert d.take_acks() == [2]


def test_a_failed_item_comes_back_after_a_doubling_backoff() -> None:
    d = OutboxDispatcher(per_account=10, retry_min=1.0, retry_max=3.0)
    r = Receiver(window=5)
    d.bound("acme", r)
    loaded_pull(d, [item(1)])
    send(d)
    answer(d, r, ok=False, now=NOW)
    assert send(d, NOW + 0.9) == []
    assert [i.id for _, i in send(d, NOW + 1.0)] == [1]
    answer(d, r, ok=False, now=NOW + 1.0)
    assert send(d, NOW + 2.9) == [] and len(send(d, NOW + 3.0)) == 1  # 2 s
    answer(d, r, ok=False, now=NOW + 3.0)
    assert send(d, NOW + 5.9) == [] and len(send(d, NOW + 6.0)) == 1  # capped at 3 s


def test_items_wait_for_not_before_and_expired_ones_are_dropped() -> None:
    d = OutboxDispatcher(per_account=10)
    r = Receiver(window=5)
    d.bound("acme", r)
    loaded_pull(d, [item(1, not_before=NOW + 5), item(2, expires_at=NOW - 1), item(3)])
    assert [i.id for _, i in send(d)] == [3]
    assert d.take_acks() == [2]  # out of its time to live: removed from the store too
    assert [i.id for _, i in send(d, NOW + 5)] == [1]


def test_a_receiver_that_goes_gives_its_items_to_the_next() -> None:
    d = OutboxDispatcher(per_account=10)
    first, second = Receiver(window=5), Receiver(window=0)
    d.bound("acme", first)
    d.bound("acme", second)
    loaded_pull(d, [item(1), item(2)])
    send(d)
    assert len(first.unanswered) == 2
    d.unbound("acme", first, first.unanswered)
    second.window = 5
    assert [i.id for _, i in send(d)] == [1, 2]


def test_the_last_receiver_gone_the_account_reads_the_store_again_on_the_next_bind() -> None:
    d = OutboxDispatcher(per_account=10)
    first = Receiver(window=5)
    d.bound("acme", first)
    loaded_pull(d, [item(1)])
    send(d)
    d.unbound("acme", first, first.unanswered)
    assert d.accounts() == []  # nothing held in memory: the store keeps the item
    d.bound("acme", Receiver(window=5))
    (pull,) = d.pulls()
    assert pull.after_id == 0


def test_offered_items_are_taken_only_by_a_caught_up_account() -> None:
    d = OutboxDispatcher(per_account=10)
    r = Receiver(window=10)
    d.bound("acme", r)
    assert d.offer([item(1)], NOW) == {"acme"}  # never read yet: read the store instead
    loaded_pull(d, [item(1)])  # the read finds it and comes back short: caught up
    assert d.offer([item(2), item(3)], NOW) == set()
    assert [i.id for _, i in send(d)] == [1, 2, 3]
    assert d.offer([item(4, account="nobody")], NOW) == set()  # no receiver: left in the store


def test_an_item_answered_while_a_read_runs_is_not_taken_again() -> None:
    d = OutboxDispatcher(per_account=10)
    r = Receiver(window=10)
    d.bound("acme", r)
    loaded_pull(d, [item(1)])
    send(d)
    (rescan,) = d.pulls(rescan=True)  # the read runs on the store thread ...
    answer(d, r)  # ... while the answer arrives
    acks = d.take_acks()
    d.loaded(rescan, [item(1)], NOW)  # the read saw the item before its removal
    assert send(d) == []
    d.acks_done(acks)


def test_the_rescan_finds_an_item_written_below_the_highest_id_loaded() -> None:
    d = OutboxDispatcher(per_account=10)
    r = Receiver(window=10)
    d.bound("acme", r)
    loaded_pull(d, [item(1)])
    d.offer([item(5)], NOW)  # this process committed 5; another one committed 3 meanwhile
    assert [i.id for _, i in send(d)] == [1, 5]
    assert d.pulls() == []  # caught up as far as it knows
    (rescan,) = d.pulls(rescan=True)
    d.loaded(rescan, [item(1), item(3), item(5)], NOW)
    assert [i.id for _, i in send(d)] == [3]


class Delivery(RuleBasedStateMachine):
    """Items written to a real store (by this process, offered, or by another one) reach the
    receivers: every item is answered exactly once in the end, however reads, answers,
    failures, binds and acknowledgements interleave."""

    def __init__(self) -> None:
        super().__init__()
        self.store = MemoryStore()
        self.d = OutboxDispatcher(per_account=4, retry_min=0.0, retry_max=0.0)
        self.receivers: list[Receiver] = []
        self.delivered: list[int] = []
        self.written: set[int] = set()
        self.reads: list[Pull] = []
        self.flushes: list[list[int]] = []

    def _write(self, n: int) -> list[OutboxItem]:
        made = self.store.add_outbox([item(0) for _ in range(n)])
        self.written.update(i.id for i in made)
        return made

    @rule(n=st.integers(1, 3), offered=st.booleans())
    def write(self, n: int, offered: bool) -> None:
        made = self._write(n)
        if offered:
            later = self.d.offer(made, NOW)
            self.d.announce(later)

    @rule()
    def bind(self) -> None:
        receiver = Receiver(window=2)
        self.receivers.append(receiver)
        self.d.bound("acme", receiver)

    @precondition(lambda self: self.receivers)
    @rule(data=st.data())
    def unbind(self, data: st.DataObject) -> None:
        receiver = data.draw(st.sampled_from(self.receivers))
        self.receivers.remove(receiver)
        self.d.unbound("acme", receiver, receiver.unanswered)
        receiver.unanswered = []

    @rule(rescan=st.booleans())
    def start_read(self, rescan: bool) -> None:
        self.reads.extend(self.d.pulls(rescan=rescan))

    @precondition(lambda self: self.reads)
    @rule()
    def finish_read(self) -> None:
        pull = self.reads.pop(0)
        items = self.store.outbox_for(pull.account, pull.after_id, pull.limit, NOW)
        self.d.loaded(pull, items, NOW)

    @rule()
    def assign(self) -> None:
        for receiver, it in self.d.assign(NOW):
            receiver.unanswered.append(it)  # type: ignore[attr-defined]

    @precondition(lambda self: any(r.unanswered for r in self.receivers))
    @rule(data=st.data(), ok=st.booleans())
    def answer(self, data: st.DataObject, ok: bool) -> None:
        receiver = data.draw(st.sampled_from([r for r in self.receivers if r.unanswered]))
        it = receiver.unanswered.pop(0)
        if ok:
            self.delivered.append(it.id)
            self.d.delivered(it)
        else:
            self.d.failed(it, NOW)

    @rule()
    def flush(self) -> None:
        acks = self.d.take_acks()
        self.store.ack_outbox(acks)
        self.flushes.append(acks)

    @precondition(lambda self: self.flushes)
    @rule()
    def flush_done(self) -> None:
        # Store work is in order: a flush completes after the reads started before it.
        if not self.reads:
            self.d.acks_done(self.flushes.pop(0))

    @invariant()
    def nothing_twice(self) -> None:
        assert len(self.delivered) == len(set(self.delivered))

    def teardown(self) -> None:
        # Drain: with a receiver bound, every written item is delivered once.
        if not self.receivers:
            self.bind()
        for _ in range(200):
            while self.reads:
                self.finish_read()
            self.flush()
            while self.flushes:
                self.d.acks_done(self.flushes.pop(0))
            self.reads.extend(self.d.pulls(rescan=True))
            while self.reads:
                self.finish_read()
            for _, it in self.d.assign(NOW):
                self.delivered.append(it.id)
                self.d.delivered(it)
            for receiver in self.receivers:
                while receiver.unanswered:
                    it = receiver.unanswered.pop(0)
                    self.delivered.append(it.id)
                    self.d.delivered(it)
            if set(self.delivered) >= self.written:
                break
        assert sorted(self.delivered) == sorted(self.written)


TestDelivery = Delivery.TestCase
TestDelivery.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)


def test_items_offered_while_the_rescan_reads_are_taken_once() -> None:
    d = OutboxDispatcher(per_account=10)
    r = Receiver(window=10)
    d.bound("acme", r)
    loaded_pull(d, [item(1)])
    (rescan,) = d.pulls(rescan=True)  # the periodic rescan runs on the store thread ...
    assert d.offer([item(2)], NOW) == set()  # ... and a commit's receipt is taken at once
    assert [i.id for _, i in send(d)] == [1, 2]
    d.loaded(rescan, [item(1), item(2)], NOW)  # the read saw it too: not taken twice
    assert send(d) == []
    assert d.pulls() == []  # still caught up: later commits are offered straight again
    assert d.offer([item(3)], NOW) == set()
