"""Reassembly of concatenated parts: order, interleaving, disagreement, bounds and expiry."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsc.pdu.constants import CommandStatus
from smsc.pdu.errors import PduError
from smsc.pdu.reassembly import PartSet, Reassembler
from smsc.pdu.udh import ConcatInfo


def info(index: int, total: int = 3, reference: int = 7, bits: int = 8) -> ConcatInfo:
    return ConcatInfo(reference=reference, reference_bits=bits, total=total, index=index)


def status_of(call: object) -> int:
    assert callable(call)
    with pytest.raises(PduError) as e:
        call()
    return e.value.command_status


def test_parts_in_order() -> None:
    r = Reassembler(max_sets=10, timeout=60)
    assert r.add("k", info(1), b"aa", now=0) is None
    assert r.add("k", info(2), b"bb", now=1) is None
    done = r.add("k", info(3), b"c", now=2)
    assert done == PartSet(
        key="k",
        reference=7,
        reference_bits=8,
        total=3,
        parts=((1, b"aa"), (2, b"bb"), (3, b"c")),
        first_seen=0,
    )
    assert done.complete and done.payload == b"aabbc" and done.missing == ()
    assert len(r) == 0 and r.octets == 0


def test_parts_out_of_order() -> None:
    r = Reassembler(max_sets=10, timeout=60)
    assert r.add("k", info(3), b"c", now=0) is None
    assert r.add("k", info(1), b"a", now=0) is None
    done = r.add("k", info(2), b"b", now=0)
    assert done is not None and done.payload == b"abc"


def test_single_part_set_completes_at_once_and_is_not_held() -> None:
    r = Reassembler(max_sets=1, timeout=60)
    r.add("k", info(1, total=2), b"x", now=0)  # the only slot is taken
    done = r.add("other", info(1, total=1), b"solo", now=0)
    assert done is not None and done.payload == b"solo" and done.total == 1
    assert len(r) == 1


def test_interleaved_messages_stay_apart() -> None:
    r = Reassembler(max_sets=10, timeout=60)
    # same key, two references; same reference, another key; same number, 16-bit reference
    assert r.add("k", info(1, 2, reference=1), b"k1-1 ", now=0) is None
    assert r.add("k", info(1, 2, reference=2), b"k2-1 ", now=0) is None
    assert r.add("j", info(2, 2, reference=1), b"j1-2", now=0) is None
    assert r.add("k", info(2, 2, reference=1, bits=16), b"k1w-2", now=0) is None
    assert len(r) == 4
    done = r.add("k", info(2, 2, reference=2), b"k2-2", now=0)
    assert done is not None and done.payload == b"k2-1 k2-2"
    done = r.add("j", info(1, 2, reference=1), b"j1-1 ", now=0)
    assert done is not None and done.payload == b"j1-1 j1-2" and done.key == "j"
    done = r.add("k", info(2, 2, reference=1), b"k1-2", now=0)
    assert done is not None and done.payload == b"k1-1 k1-2"
    done = r.add("k", info(1, 2, reference=1, bits=16), b"k1w-1 ", now=0)
    assert done is not None and done.payload == b"k1w-1 k1w-2" and done.reference_bits == 16
    assert len(r) == 0


def test_repeated_part_with_the_same_content_is_ignored() -> None:
    r = Reassembler(max_sets=10, timeout=60)
    r.add("k", info(1), b"a", now=0)
    assert r.add("k", info(1), b"a", now=1) is None
    assert r.octets == 1
    r.add("k", info(2), b"b", now=2)
    done = r.add("k", info(3), b"c", now=3)
    assert done is not None and done.payload == b"abc"


def test_repeated_part_with_other_content_is_refused_and_the_set_kept() -> None:
    r = Reassembler(max_sets=10, timeout=60)
    r.add("k", info(1), b"a", now=0)
    assert status_of(lambda: r.add("k", info(1), b"X", now=1)) == CommandStatus.SMSC_RINVPARTS
    r.add("k", info(2), b"b", now=2)
    done = r.add("k", info(3), b"c", now=3)
    assert done is not None and done.payload == b"abc"


def test_total_that_changes_is_refused() -> None:
    r = Reassembler(max_sets=10, timeout=60)
    r.add("k", info(1, total=3), b"a", now=0)
    assert status_of(lambda: r.add("k", info(2, total=4), b"b", now=0)) == (
        CommandStatus.SMSC_RINVPARTS
    )
    assert status_of(lambda: r.add("k", info(1, total=1), b"a", now=0)) == (
        CommandStatus.SMSC_RINVPARTS
    )
    assert len(r) == 1 and r.octets == 1


@pytest.mark.parametrize(
    "bad",
    [info(0), info(4, total=3), info(0, total=0), info(256, total=256)],
)
def test_invalid_part_is_refused(bad: ConcatInfo) -> None:
    r = Reassembler(max_sets=10, timeout=60)
    assert status_of(lambda: r.add("k", bad, b"a", now=0)) == CommandStatus.SMSC_RINVPARTS
    assert len(r) == 0


def test_a_new_set_beyond_max_sets_is_refused_with_queue_full() -> None:
    r = Reassembler(max_sets=2, timeout=60)
    r.add("a", info(1), b"a", now=0)
    r.add("b", info(1), b"b", now=1)
    assert status_of(lambda: r.add("c", info(1), b"c", now=2)) == CommandStatus.ESME_RMSGQFUL
    assert r.add("a", info(2), b"a", now=2) is None  # parts of known sets still go in
    assert len(r) == 2
    expired = r.expire(now=60)
    assert [s.key for s in expired] == ["a"]
    assert r.add("c", info(1), b"c", now=60) is None


def test_octet_budget() -> None:
    r = Reassembler(max_sets=10, timeout=60, max_octets=10)
    r.add("a", info(1), b"12345", now=0)
    r.add("b", info(1), b"1234", now=0)
    assert status_of(lambda: r.add("c", info(1), b"xy", now=0)) == CommandStatus.ESME_RMSGQFUL
    assert status_of(lambda: r.add("a", info(2), b"xy", now=0)) == CommandStatus.ESME_RMSGQFUL
    assert len(r) == 2 and r.octets == 9
    # The last part of a set frees its set's octets instead of taking more.
    r.add("a", info(2), b"6", now=0)
    done = r.add("a", info(3), b"789", now=0)
    assert done is not None and done.payload == b"123456789"
    assert r.octets == 4


def test_expire_returns_timed_out_sets_with_what_they_have() -> None:
    r = Reassembler(max_sets=10, timeout=30)
    r.add("a", info(2), b"A2", now=0)
    r.add("b", info(1, total=2), b"B1", now=10)
    r.add("a", info(3), b"A3", now=20)  # a later part does not extend the deadline
    r.add("c", info(1), b"C1", now=25)
    assert r.next_deadline() == 30
    assert r.expire(now=29.9) == []
    expired = r.expire(now=30)
    assert len(expired) == 1
    (a,) = expired
    assert a.key == "a" and not a.complete
    assert a.parts == ((2, b"A2"), (3, b"A3")) and a.missing == (1,)
    assert a.first_seen == 0
    assert [s.key for s in r.expire(now=1000)] == ["b", "c"]
    assert len(r) == 0 and r.octets == 0 and r.next_deadline() is None


def test_part_after_expiry_opens_a_new_set() -> None:
    r = Reassembler(max_sets=10, timeout=30)
    r.add("a", info(1, total=2), b"1", now=0)
    r.expire(now=31)
    assert r.add("a", info(2, total=2), b"2", now=31) is None
    assert r.next_deadline() == 61


def test_clock_stepping_back_keeps_deadlines_in_order() -> None:
    r = Reassembler(max_sets=10, timeout=30)
    r.add("a", info(1), b"a", now=100)
    r.add("b", info(1), b"b", now=50)  # an earlier now than the set before it
    assert r.expire(now=129) == []
    assert [s.key for s in r.expire(now=130)] == ["a", "b"]


@pytest.mark.parametrize(("max_sets", "timeout"), [(0, 1.0), (1, 0.0), (1, -1.0)])
def test_argument_errors(max_sets: int, timeout: float) -> None:
    with pytest.raises(ValueError):
        Reassembler(max_sets=max_sets, timeout=timeout)


@given(
    st.lists(st.lists(st.binary(min_size=1, max_size=8), min_size=1, max_size=8), max_size=6),
    st.randoms(use_true_random=False),
)
def test_interleaved_sets_in_any_order_complete_exactly_once(
    messages: list[list[bytes]], rnd: random.Random
) -> None:
    r = Reassembler(max_sets=len(messages) or 1, timeout=60)
    feed = [
        (m, i, payload) for m, parts in enumerate(messages) for i, payload in enumerate(parts, 1)
    ]
    rnd.shuffle(feed)
    done: dict[int, bytes] = {}
    for m, i, payload in feed:
        total = len(messages[m])
        got = r.add(("acct", m % 2), info(i, total, reference=m), payload, now=0)
        if got is not None:
            assert m not in done
            done[got.reference] = got.payload
    assert done == {m: b"".join(parts) for m, parts in enumerate(messages)}
    assert len(r) == 0 and r.octets == 0
