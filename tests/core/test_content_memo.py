"""The content memo of intake (smsc.core.content.ContentMemo): the same content as
submit_content for any submit, made once for a run of one plain single-part text."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from smsc.core.content import ContentMemo, submit_content
from smsc.pdu.constants import Tag
from smsc.pdu.errors import PduError
from smsc.pdu.tlv import EMPTY_TLVS, Tlvs
from smsc.store.records import Account

ACCOUNT = Account(system_id="acct", password_hash="x")


def references() -> itertools.count[int]:
    return itertools.count(1)


def test_a_run_of_one_plain_text_is_made_once_and_anything_else_again() -> None:
    memo, refs = ContentMemo(), references()
    first = memo.content(ACCOUNT, 0, 0, b"hello", EMPTY_TLVS, refs.__next__)
    assert memo.content(ACCOUNT, 0, 0, b"hello", EMPTY_TLVS, refs.__next__) is first
    assert first == submit_content(ACCOUNT, 0, 0, b"hello", EMPTY_TLVS, refs.__next__)
    other = memo.content(ACCOUNT, 0, 8, b"hello!", EMPTY_TLVS, refs.__next__)
    assert other is not first and other.data_coding == 8
    assert memo.content(ACCOUNT, 0, 0, b"hello", EMPTY_TLVS, refs.__next__) is not first
    fewer = memo.content(ACCOUNT.__class__(system_id="b", password_hash="x", max_parts=2), 0, 0,
                         b"hello", EMPTY_TLVS, refs.__next__)
    assert fewer == first and fewer is not first  # another max_parts is another key


def test_split_texts_take_a_new_reference_each_time() -> None:
    memo, refs = ContentMemo(), references()
    long = b"x" * 400
    one = memo.content(ACCOUNT, 0, 0, long, EMPTY_TLVS, refs.__next__)
    two = memo.content(ACCOUNT, 0, 0, long, EMPTY_TLVS, refs.__next__)
    assert len(one.segments) == 3 and one.segments[0][2] != two.segments[0][2]


def test_submits_with_tlvs_are_made_each_time_and_refusals_are_not_kept() -> None:
    memo, refs = ContentMemo(), references()
    payload = Tlvs([(int(Tag.MESSAGE_PAYLOAD), b"hi")])
    assert memo.content(ACCOUNT, 0, 0, b"", payload, refs.__next__) is not memo.content(
        ACCOUNT, 0, 0, b"", payload, refs.__next__)
    one_part = ACCOUNT.__class__(system_id="c", password_hash="x", max_parts=1)
    for _ in range(2):
        try:
            memo.content(one_part, 0, 0, b"x" * 400, EMPTY_TLVS, refs.__next__)
        except PduError as e:
            assert "at most 1" in str(e)
        else:
            raise AssertionError("a text of three parts passed max_parts 1")


@settings(max_examples=200, deadline=None)
@given(submits=st.lists(st.tuples(st.sampled_from([b"", b"hi", b"hi there", b"\x00" * 141,
                                                   b"y" * 170, "жук".encode("utf-16-be")]),
                                  st.sampled_from([0, 3, 8]), st.sampled_from([0, 0x40]),
                                  st.integers(1, 3)), max_size=12))
def test_the_memo_gives_what_submit_content_gives(
        submits: list[tuple[bytes, int, int, int]]) -> None:
    memo, mine, theirs = ContentMemo(), references(), references()
    for short_message, coding, esm_class, max_parts in submits:
        account = ACCOUNT.__class__(system_id="p", password_hash="x", max_parts=max_parts)
        try:
            expected = submit_content(account, esm_class, coding, short_message, EMPTY_TLVS,
                                      theirs.__next__)
        except PduError as e:
            try:
                memo.content(account, esm_class, coding, short_message, EMPTY_TLVS,
                             mine.__next__)
            except PduError as f:
                assert (f.command_status, str(f)) == (e.command_status, str(e))
                continue
            raise AssertionError("the memo passed what submit_content refused") from None
        got = memo.content(account, esm_class, coding, short_message, EMPTY_TLVS,
                           mine.__next__)
        assert got == expected
