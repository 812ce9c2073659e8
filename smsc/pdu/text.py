"""Message text <-> short_message octets, part counting and splitting of long messages.

The unit a part is measured in depends on the alphabet: septets for the GSM default alphabet
(an escaped character takes two), UTF-16 code units for UCS2 (a character outside the BMP takes
two), octets for everything else. A pair of units is never cut across two parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache
from typing import Final, Literal

from smsc.pdu.constants import CommandStatus, EsmClass, Tag
from smsc.pdu.errors import PduError
from smsc.pdu.gsm import (
    ESCAPE,
    TextError,
    gsm_decode,
    gsm_encode,
    gsm_septet_count,
    gsm_septets,
    is_gsm,
)
from smsc.pdu.tlv import EMPTY_TLVS, Tlvs
from smsc.pdu.udh import IEI_CONCAT_8BIT, IEI_CONCAT_16BIT

__all__ = [
    "MAX_PARTS",
    "MAX_PAYLOAD_OCTETS",
    "UNSUPPORTED_STATUS",
    "Alphabet",
    "PartCount",
    "Segment",
    "TextError",
    "alphabet_of",
    "choose_data_coding",
    "count_octet_parts",
    "count_parts",
    "decode_text",
    "encode_text",
    "part_sizes",
    "payload_segment",
    "payload_segment_octets",
    "split_octets",
    "split_text",
]

MAX_PARTS: Final = 255  # the total of a concatenated message is one octet
MAX_PAYLOAD_OCTETS: Final = 65535  # message_payload's length is a 16-bit field
UNSUPPORTED_STATUS: Final = CommandStatus.ESME_RSUBMITFAIL


class Alphabet(IntEnum):
    """How a data_coding value turns text into octets."""

    GSM7 = 0  # GSM 03.38 default alphabet, unpacked septets
    ASCII = 1  # IA5
    LATIN1 = 2  # ISO-8859-1
    OCTETS = 3  # binary: text is the octets read as Latin-1
    UCS2 = 4  # UTF-16BE, surrogate pairs for characters outside the BMP


_ALPHABETS: Final[dict[int, Alphabet]] = {
    0x00: Alphabet.GSM7,
    0x01: Alphabet.ASCII,
    0x02: Alphabet.OCTETS,
    0x03: Alphabet.LATIN1,
    0x04: Alphabet.OCTETS,
    0x08: Alphabet.UCS2,
}
# SMPP 3.4 passes 0xC0-0xFF through as GSM 03.38 coding groups: message waiting indication
# (0xC0-0xDF default alphabet, 0xE0-0xEF UCS2) and message class (0xF0-0xFF, bit 2 = 8-bit data).
for _dcs in range(0xC0, 0x100):
    if _dcs >= 0xF0:
        _ALPHABETS[_dcs] = Alphabet.OCTETS if _dcs & 0x04 else Alphabet.GSM7
    elif _dcs >= 0xE0:
        _ALPHABETS[_dcs] = Alphabet.UCS2
    else:
        _ALPHABETS[_dcs] = Alphabet.GSM7


def alphabet_of(data_coding: int) -> Alphabet:
    """The alphabet of a data_coding value; TextError (ESME_RSUBMITFAIL) when not supported."""
    alphabet = _ALPHABETS.get(data_coding)
    if alphabet is None:
        raise TextError(UNSUPPORTED_STATUS, f"data_coding 0x{data_coding:02X} is not supported")
    return alphabet


def choose_data_coding(text: str) -> int:
    """0 (GSM 03.38) when every character is in the default alphabet, else 8 (UCS2)."""
    return 0 if is_gsm(text) else 8


# --- encoding ---------------------------------------------------------------------------------


def _cannot(data_coding: int, what: str) -> TextError:
    return TextError(CommandStatus.ESME_RSUBMITFAIL, f"data_coding {data_coding}: {what}")


def encode_text(text: str, data_coding: int) -> bytes:
    """short_message octets for ``text`` in ``data_coding``; TextError when it does not fit."""
    alphabet = alphabet_of(data_coding)
    if alphabet is Alphabet.GSM7:
        return gsm_encode(text)
    if alphabet is Alphabet.UCS2:
        try:
            return text.encode("utf-16-be")
        except UnicodeEncodeError:
            raise _cannot(data_coding, "text holds a lone surrogate") from None
    codec = "ascii" if alphabet is Alphabet.ASCII else "latin-1"
    try:
        return text.encode(codec)
    except UnicodeEncodeError as e:
        raise _cannot(data_coding, f"character U+{ord(text[e.start]):04X} does not fit") from None


def decode_text(octets: bytes, data_coding: int) -> str:
    """Text of short_message octets in ``data_coding``.

    Binary codings (2, 4 and 8-bit classes) give the octets as Latin-1 text. A UCS2 high surrogate
    left at the end (a pair cut by a sender's split) decodes as U+FFFD; an odd number of UCS2
    octets is ESME_RINVMSGLEN; an IA5 octet above 0x7F is refused.
    """
    alphabet = alphabet_of(data_coding)
    data = bytes(octets)
    if alphabet is Alphabet.GSM7:
        return gsm_decode(data)
    if alphabet is Alphabet.UCS2:
        if len(data) % 2:
            raise TextError(
                CommandStatus.ESME_RINVMSGLEN,
                f"UCS2 short_message has an odd number of octets ({len(data)})",
            )
        return data.decode("utf-16-be", errors="replace")
    if alphabet is Alphabet.ASCII and not data.isascii():
        raise _cannot(data_coding, "IA5 octet above 0x7F")
    return data.decode("latin-1")


# --- part sizes -------------------------------------------------------------------------------

# (units in one part, units per part with an 8-bit reference UDH, with a 16-bit one)
_SIZES: Final[dict[Alphabet, tuple[int, int, int]]] = {
    Alphabet.GSM7: (160, 153, 152),
    Alphabet.UCS2: (70, 67, 66),
    Alphabet.ASCII: (140, 134, 133),
    Alphabet.LATIN1: (140, 134, 133),
    Alphabet.OCTETS: (140, 134, 133),
}


def _check_reference_bits(reference_bits: int) -> None:
    if reference_bits not in (8, 16):
        raise ValueError(f"reference_bits must be 8 or 16, not {reference_bits}")


def part_sizes(data_coding: int, reference_bits: int = 8) -> tuple[int, int]:
    """(units in a single part, units per part of a split message) for a data_coding."""
    _check_reference_bits(reference_bits)
    single, per8, per16 = _SIZES[alphabet_of(data_coding)]
    return single, per8 if reference_bits == 8 else per16


@dataclass(frozen=True, slots=True, kw_only=True)
class PartCount:
    """How many parts a message takes.

    ``units`` are septets (GSM), UTF-16 code units (UCS2) or octets (others); ``per_part`` is the
    capacity of each part as used: the single-part size when ``parts`` is 1, else the split size.
    An empty message is one part.
    """

    data_coding: int
    parts: int
    units: int
    per_part: int


# Every octet except the first octets of UTF-16 high surrogates (0xD8-0xDB), for bytes.translate.
_NOT_HIGH_SURROGATE: Final = bytes(b for b in range(256) if not 0xD8 <= b <= 0xDB)


def _pair_starts(data: bytes, alphabet: Alphabet) -> bool:
    """Whether ``data`` can hold a unit pair that must not be cut."""
    if alphabet is Alphabet.GSM7:
        return ESCAPE in data
    if alphabet is Alphabet.UCS2:
        return bool(data[0::2].translate(None, _NOT_HIGH_SURROGATE))
    return False


def _ends_with_pair_start(data: bytes, alphabet: Alphabet, cut: int) -> bool:
    """Whether unit ``cut - 1`` opens a pair (an escape, or a UTF-16 high surrogate)."""
    if alphabet is Alphabet.GSM7:
        return data[cut - 1] == ESCAPE
    return 0xD8 <= data[2 * (cut - 1)] <= 0xDB


def _cuts(data: bytes, alphabet: Alphabet, per_part: int) -> list[int]:
    """Unit offsets where each part ends, for a message too long for a single part."""
    units = len(data) // 2 if alphabet is Alphabet.UCS2 else len(data)
    if not _pair_starts(data, alphabet):
        return [*range(per_part, units, per_part), units]
    cuts: list[int] = []
    start = 0
    while units - start > per_part:
        cut = start + per_part
        if _ends_with_pair_start(data, alphabet, cut):
            cut -= 1
        cuts.append(cut)
        start = cut
    cuts.append(units)
    return cuts


@lru_cache(maxsize=4096)
def _part_count(data_coding: int, parts: int, units: int, per_part: int) -> PartCount:
    # PartCount is immutable, so equal counts can share one object: this saves building a frozen
    # dataclass per message on the hot path.
    return PartCount(data_coding=data_coding, parts=parts, units=units, per_part=per_part)


def _count(
    data_coding: int, alphabet: Alphabet, units: int, data: bytes | None, bits: int
) -> PartCount:
    single, per8, per16 = _SIZES[alphabet]
    if units <= single:
        return _part_count(data_coding, 1, units, single)
    per = per8 if bits == 8 else per16
    parts = -(-units // per) if data is None else len(_cuts(data, alphabet, per))
    return _part_count(data_coding, parts, units, per)


def _count_gsm(text: str, data_coding: int, septets: int, bits: int) -> PartCount:
    if septets > 160 and septets != len(text):
        # Escaped characters may fall on a part boundary: find them in the septets.
        return _count(data_coding, Alphabet.GSM7, septets, gsm_encode(text), bits)
    return _count(data_coding, Alphabet.GSM7, septets, None, bits)


def count_parts(text: str, data_coding: int | None = None, *, reference_bits: int = 8) -> PartCount:
    """How many parts ``text`` takes in ``data_coding`` (chosen by choose_data_coding if None).

    Cheap: no part is built. GSM text is only encoded when it is long and holds an escaped
    character that could fall on a part boundary; non-ASCII UCS2 text is encoded (one C call) to
    count its code units and find its surrogate pairs.
    """
    if reference_bits != 8:
        _check_reference_bits(reference_bits)
    if data_coding is None:
        septets = gsm_septet_count(text)
        if septets is not None:
            return _count_gsm(text, 0, septets, reference_bits)
        data_coding, alphabet = 8, Alphabet.UCS2
    else:
        alphabet = alphabet_of(data_coding)
        if alphabet is Alphabet.GSM7:
            return _count_gsm(text, data_coding, gsm_septets(text), reference_bits)
    if alphabet is Alphabet.UCS2:
        if text.isascii():
            return _count(data_coding, alphabet, len(text), None, reference_bits)
        # One C call; it also refuses a lone surrogate, as encode_text does.
        data = encode_text(text, data_coding)
        return _count(data_coding, alphabet, len(data) // 2, data, reference_bits)
    if alphabet is Alphabet.ASCII:
        if not text.isascii():
            encode_text(text, data_coding)  # raises with the offending character
    elif not text.isascii():
        encode_text(text, data_coding)  # one C call: raises for a character beyond Latin-1
    return _count(data_coding, alphabet, len(text), None, reference_bits)


def count_octet_parts(octets: bytes, data_coding: int, *, reference_bits: int = 8) -> PartCount:
    """How many parts already encoded short_message octets take (for example a message_payload)."""
    _check_reference_bits(reference_bits)
    alphabet = alphabet_of(data_coding)
    data = bytes(octets)
    units = _units_of(data, alphabet)
    return _count(data_coding, alphabet, units, data, reference_bits)


def _units_of(data: bytes, alphabet: Alphabet) -> int:
    if alphabet is Alphabet.UCS2:
        if len(data) % 2:
            raise TextError(
                CommandStatus.ESME_RINVMSGLEN,
                f"UCS2 octets have an odd length ({len(data)})",
            )
        return len(data) // 2
    return len(data)


# --- splitting --------------------------------------------------------------------------------

Scheme = Literal["udh", "sar"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Segment:
    """One short message of a (possibly long) message, ready to go in a submit_sm / deliver_sm.

    ``esm_class`` holds the bits to OR into the PDU's esm_class (UDHI for a UDH part); ``tlvs``
    holds the SAR parameters (or message_payload) to add. A message that fits one part is a single
    segment with neither.
    """

    data_coding: int
    short_message: bytes
    esm_class: int = 0
    tlvs: Tlvs = EMPTY_TLVS
    index: int = 1
    total: int = 1


def _check_split_args(reference: int, reference_bits: int, scheme: str, max_parts: int) -> None:
    _check_reference_bits(reference_bits)
    if not 0 <= reference < (1 << reference_bits):
        raise ValueError(f"reference {reference} does not fit {reference_bits} bits")
    if scheme not in ("udh", "sar"):
        raise ValueError(f"scheme must be 'udh' or 'sar', not {scheme!r}")
    if not 1 <= max_parts <= MAX_PARTS:
        raise ValueError(f"max_parts must be 1..{MAX_PARTS}, not {max_parts}")


def split_octets(
    octets: bytes,
    data_coding: int,
    *,
    reference: int,
    reference_bits: int = 8,
    scheme: Scheme = "udh",
    max_parts: int = MAX_PARTS,
) -> list[Segment]:
    """Split encoded short_message octets (any supported data_coding, binary included) into parts.

    More parts than ``max_parts`` raises PduError(SMSC_RTOOMANYPARTS).
    """
    _check_split_args(reference, reference_bits, scheme, max_parts)
    alphabet = alphabet_of(data_coding)
    data = bytes(octets)
    units = _units_of(data, alphabet)
    single, per8, per16 = _SIZES[alphabet]
    if units <= single:
        return [Segment(data_coding=data_coding, short_message=data)]
    cuts = _cuts(data, alphabet, per8 if reference_bits == 8 else per16)
    total = len(cuts)
    if total > max_parts:
        raise PduError(
            CommandStatus.SMSC_RTOOMANYPARTS,
            f"message needs {total} parts, at most {max_parts} allowed",
        )
    width = 2 if alphabet is Alphabet.UCS2 else 1
    # The concatenation element without its index; the same octets build_udh would give.
    prefix = (
        bytes((5, IEI_CONCAT_8BIT, 3, reference, total))
        if reference_bits == 8
        else bytes((6, IEI_CONCAT_16BIT, 4, reference >> 8, reference & 0xFF, total))
    )
    sar_head = (
        (int(Tag.SAR_MSG_REF_NUM), reference.to_bytes(2, "big")),
        (int(Tag.SAR_TOTAL_SEGMENTS), bytes((total,))),
    )
    udhi = int(EsmClass.UDHI)
    segments: list[Segment] = []
    start = 0
    for index, cut in enumerate(cuts, 1):
        chunk = data[start * width : cut * width]
        start = cut
        if scheme == "udh":
            segment = Segment(
                data_coding=data_coding,
                short_message=prefix + bytes((index,)) + chunk,
                esm_class=udhi,
                index=index,
                total=total,
            )
        else:
            sar = Tlvs.from_raw((*sar_head, (int(Tag.SAR_SEGMENT_SEQNUM), bytes((index,)))))
            segment = Segment(
                data_coding=data_coding, short_message=chunk, tlvs=sar, index=index, total=total
            )
        segments.append(segment)
    return segments


def split_text(
    text: str,
    *,
    data_coding: int | None = None,
    reference: int,
    reference_bits: int = 8,
    scheme: Scheme = "udh",
    max_parts: int = MAX_PARTS,
) -> list[Segment]:
    """Encode ``text`` (choosing GSM or UCS2 when data_coding is None) and split it into parts.

    ``reference`` is the concatenation reference shared by the parts (it must fit
    ``reference_bits``; with ``scheme="sar"`` it becomes sar_msg_ref_num and ``reference_bits``
    only sets the part sizes the network's header will leave).
    """
    if data_coding is None:
        data_coding = choose_data_coding(text)
    return split_octets(
        encode_text(text, data_coding),
        data_coding,
        reference=reference,
        reference_bits=reference_bits,
        scheme=scheme,
        max_parts=max_parts,
    )


def payload_segment_octets(octets: bytes, data_coding: int) -> Segment:
    """A single segment carrying encoded octets in one message_payload TLV (no split)."""
    alphabet_of(data_coding)
    data = bytes(octets)
    if len(data) > MAX_PAYLOAD_OCTETS:
        raise TextError(
            CommandStatus.ESME_RINVPARLEN,
            f"message_payload holds at most {MAX_PAYLOAD_OCTETS} octets, not {len(data)}",
        )
    return Segment(
        data_coding=data_coding,
        short_message=b"",
        tlvs=Tlvs.from_raw(((int(Tag.MESSAGE_PAYLOAD), data),)),
    )


def payload_segment(text: str, *, data_coding: int | None = None) -> Segment:
    """A single segment carrying ``text`` in one message_payload TLV (up to 65535 octets)."""
    if data_coding is None:
        data_coding = choose_data_coding(text)
    return payload_segment_octets(encode_text(text, data_coding), data_coding)
