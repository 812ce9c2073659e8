"""Property tests: decode(encode(p)) == p for every PDU class, and the framing of whole streams."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsc.pdu import pdus
from smsc.pdu.codec import decode, encode, peek_header
from smsc.pdu.framing import FrameBuffer
from smsc.pdu.layouts import LAYOUTS
from tests.pdu import strategies

HEADER_FIELDS = {"sequence_number", "command_status"}


@pytest.mark.parametrize("cls", pdus.PDU_CLASSES, ids=lambda c: c.__name__)
def test_layout_covers_every_field(cls: type[pdus.Pdu]) -> None:
    # A field missing from its layout would be silently dropped on the wire.
    body_fields = [f.name for f in dataclasses.fields(cls) if f.name not in HEADER_FIELDS]
    assert [f[1] for f in LAYOUTS[cls]] == body_fields


def test_every_command_id_has_one_class() -> None:
    assert set(LAYOUTS) == set(pdus.PDU_CLASSES)
    assert len(pdus.PDU_CLASSES_BY_ID) == len(pdus.PDU_CLASSES)


@pytest.mark.parametrize("cls", pdus.PDU_CLASSES, ids=lambda c: c.__name__)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_roundtrip(cls: type[pdus.Pdu], data: st.DataObject) -> None:
    pdu = data.draw(strategies.pdu_of(cls))
    frame = encode(pdu)
    length, command_id, status, sequence = peek_header(frame)
    assert (length, command_id, status, sequence) == (
        len(frame),
        cls.command_id,
        pdu.command_status,
        pdu.sequence_number,
    )
    assert decode(frame) == pdu
    # bytearray and memoryview frames decode the same.
    assert decode(memoryview(bytearray(frame))) == pdu


@settings(max_examples=150, deadline=None)
@given(pdu=strategies.any_pdu)
def test_encode_is_canonical(pdu: pdus.Pdu) -> None:
    # decoding then encoding again gives the very same octets (TLVs keep wire order and raw octets)
    frame = encode(pdu)
    assert encode(decode(frame)) == frame


@settings(max_examples=60, deadline=None)
@given(
    batch=st.lists(strategies.any_pdu, min_size=1, max_size=6),
    cuts=st.lists(st.integers(1, 400), max_size=20),
)
def test_stream_in_arbitrary_chunks(batch: list[pdus.Pdu], cuts: list[int]) -> None:
    stream = b"".join(encode(p) for p in batch)
    buffer = FrameBuffer()
    received: list[pdus.Pdu] = []
    pos = 0
    sizes = iter(cuts)
    while pos < len(stream):
        step = next(sizes, len(stream))
        buffer.feed(stream[pos : pos + step])
        pos += step
        received.extend(decode(frame) for frame in buffer.frames())
    assert received == batch
    assert len(buffer) == 0
