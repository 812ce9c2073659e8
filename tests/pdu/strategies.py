"""Hypothesis strategies that build any valid PDU of every class smsc encodes.

Field names and octet limits come from :mod:`smsc.pdu.layouts`; that the layouts match the
dataclasses and the SMPP 3.4 limits is checked in ``test_codec_roundtrip`` and
``test_codec_vectors``, so a strategy built from a layout never hides a missing field.
"""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import strategies as st

from smsc.pdu import pdus
from smsc.pdu.constants import CommandStatus
from smsc.pdu.layouts import LAYOUTS
from smsc.pdu.tlv import LENGTH_LIMITS, Tlvs

# message_payload may hold 64 KB; a few hundred octets exercise the same code much faster.
PAYLOAD_CAP = 300
SHORT_MESSAGE_MAX = 255  # the codec's limit: sm_length is one octet

u8 = st.integers(0, 0xFF)
u32 = st.integers(0, 0xFFFF_FFFF)
LATIN1_NO_NUL = st.characters(min_codepoint=1, max_codepoint=0xFF)

KNOWN_TAGS = tuple(sorted(LENGTH_LIMITS))


def c_octet_string(max_octets: int) -> st.SearchStrategy[str]:
    """Latin-1 text without NUL that fits a C-Octet String of ``max_octets`` (its NUL included)."""
    return st.text(LATIN1_NO_NUL, max_size=max_octets - 1)


def known_tlv(tag: int) -> st.SearchStrategy[tuple[int, bytes]]:
    """A TLV of a tag smsc knows, with a value length the codec accepts for it."""
    low, high = LENGTH_LIMITS[tag]
    return st.binary(min_size=low, max_size=min(high, PAYLOAD_CAP)).map(lambda raw: (tag, raw))


unknown_tag = st.integers(0, 0xFFFF).filter(lambda tag: tag not in LENGTH_LIMITS)
unknown_tlv = st.tuples(unknown_tag, st.binary(max_size=40))
any_known_tlv = st.sampled_from(KNOWN_TAGS).flatmap(known_tlv)
# A known tag at most once (the codec refuses a repeated one); unknown tags too, for simplicity.
tlv_lists: st.SearchStrategy[Tlvs] = st.lists(
    st.one_of(any_known_tlv, unknown_tlv), max_size=6, unique_by=lambda tlv: tlv[0]
).map(Tlvs)

sme_addresses = st.builds(
    pdus.SmeAddress, dest_addr_ton=u8, dest_addr_npi=u8, destination_addr=c_octet_string(21)
)
distribution_lists = st.builds(pdus.DistributionList, dl_name=c_octet_string(21))
dest_address_lists = st.lists(
    st.one_of(sme_addresses, distribution_lists), min_size=1, max_size=8
).map(tuple)
unsuccess_sme_lists = st.lists(
    st.builds(
        pdus.UnsuccessSme,
        dest_addr_ton=u8,
        dest_addr_npi=u8,
        destination_addr=c_octet_string(21),
        error_status_code=u32,
    ),
    max_size=8,
).map(tuple)

command_statuses = st.one_of(st.just(0), st.sampled_from(list(CommandStatus)).map(int), u32)

_FIELD: dict[str, Callable[[int], st.SearchStrategy[object]]] = {
    "cstr": c_octet_string,
    "u8": lambda _size: u8,
    "sm": lambda _size: st.binary(max_size=SHORT_MESSAGE_MAX),
    "dests": lambda _size: dest_address_lists,
    "unsuccess": lambda _size: unsuccess_sme_lists,
    "tlvs": lambda _size: tlv_lists,
}


def pdu_of(cls: type[pdus.Pdu]) -> st.SearchStrategy[pdus.Pdu]:
    """Any valid PDU of ``cls``: every body field within its limit, any header values."""
    fields: dict[str, st.SearchStrategy[object]] = {
        "sequence_number": u32,
        "command_status": command_statuses,
    }
    for kind, name, size, _status in LAYOUTS[cls]:
        fields[name] = _FIELD[kind](size)
    return st.builds(cls, **fields)


any_pdu: st.SearchStrategy[pdus.Pdu] = st.sampled_from(pdus.PDU_CLASSES).flatmap(pdu_of)
