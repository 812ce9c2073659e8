"""Message ids: blocks handed out in order, refills asked for early, text forms round-trip."""

from hypothesis import given
from hypothesis import strategies as st

from smsc.core.ids import IdBlock, MessageIdFormat


@given(st.lists(st.integers(1, 30), min_size=1, max_size=6), st.integers(2, 40),
       st.integers(0, 200))
def test_ids_come_in_block_order_and_refills_are_asked_at_half_a_block(
        sizes: list[int], block_size: int, takes: int) -> None:
    ids = IdBlock(block_size=block_size)
    start = 1000
    expected: list[int] = []
    for size in sizes:
        ids.add_block(start, size)
        expected += range(start, start + size)
        start += size + 7  # blocks need not touch
    got = []
    for _ in range(takes):
        value = ids.take()
        if value is None:
            break
        got.append(value)
        left = len(expected) - len(got)
        assert ids.remaining == left
        assert all(ids.holds(n) == (n <= left) for n in (0, 1, left, left + 1, left + 30))
        assert ids.wants_refill == (left < block_size // 2)
    assert got == expected[:len(got)]
    if len(got) < takes:
        assert len(got) == len(expected)  # None only once everything is spent
    ids.refill_pending = True
    assert not ids.wants_refill  # asked already


@given(st.integers(0, 2**63), st.booleans())
def test_message_id_text_round_trips(number: int, hex_ids: bool) -> None:
    form = MessageIdFormat(hex_ids=hex_ids)
    text = form.format(number)
    assert form.parse(text) == (number if len(text) <= 20 else None)


def test_message_id_text_refuses_what_was_never_issued() -> None:
    assert MessageIdFormat(hex_ids=True).parse("00zz") is None
    assert MessageIdFormat(hex_ids=False).parse("12a") is None
    assert MessageIdFormat(hex_ids=False).parse("") is None
