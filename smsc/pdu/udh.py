"""User data headers (3GPP TS 23.040 9.2.3.24) and the concatenation info of long messages.

A part of a long message says which message it belongs to and where it goes in one of two ways:
a concatenation information element in the UDH at the start of short_message (esm_class UDHI),
or the SAR optional parameters. Both read into one ``ConcatInfo``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from smsc.pdu.constants import CommandStatus, EsmClass, Tag
from smsc.pdu.errors import PduError
from smsc.pdu.tlv import Tlvs

IEI_CONCAT_8BIT: Final = 0x00
IEI_CONCAT_16BIT: Final = 0x08
_CONCAT_IEIS: Final = frozenset((IEI_CONCAT_8BIT, IEI_CONCAT_16BIT))
MAX_UDH_OCTETS: Final = 140  # length octet plus elements: at most the whole 140-octet user data


@dataclass(frozen=True, slots=True, kw_only=True)
class ConcatInfo:
    """Where a part belongs: the message's reference, how many parts it has, and which one this is.

    ``index`` and ``total`` count from 1. ``reference_bits`` is 8 or 16 (SAR references are 16).
    """

    reference: int
    reference_bits: int
    total: int
    index: int


@dataclass(frozen=True, slots=True, kw_only=True)
class InformationElement:
    iei: int
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Udh:
    """A parsed user data header: every information element in wire order, unknown ones kept."""

    elements: tuple[InformationElement, ...]

    @property
    def concat(self) -> ConcatInfo | None:
        """The concatenation info of the header, or None; PduError when it is not valid."""
        return _concat_of(self.elements)

    def encoded(self) -> bytes:
        return build_udh(self.elements)


def _invalid_parts(message: str) -> PduError:
    return PduError(CommandStatus.SMSC_RINVPARTS, message)


def check_concat(info: ConcatInfo) -> ConcatInfo:
    """``info`` itself when index and total make sense; PduError(SMSC_RINVPARTS) otherwise."""
    if info.total == 0:
        raise _invalid_parts("concatenated message with a total of 0 parts")
    if info.index == 0:
        raise _invalid_parts("concatenated part with index 0")
    if info.index > info.total:
        raise _invalid_parts(f"part {info.index} of a message of {info.total} parts")
    return info


def _concat_of(elements: Iterable[InformationElement]) -> ConcatInfo | None:
    found: ConcatInfo | None = None
    for ie in elements:
        if ie.iei not in _CONCAT_IEIS:
            continue
        if found is not None:
            raise _invalid_parts("more than one concatenation element in the user data header")
        d = ie.data
        if ie.iei == IEI_CONCAT_8BIT:
            if len(d) != 3:
                raise _invalid_parts(f"8-bit concatenation element of {len(d)} octets, not 3")
            found = ConcatInfo(reference=d[0], reference_bits=8, total=d[1], index=d[2])
        else:
            if len(d) != 4:
                raise _invalid_parts(f"16-bit concatenation element of {len(d)} octets, not 4")
            found = ConcatInfo(
                reference=(d[0] << 8) | d[1], reference_bits=16, total=d[2], index=d[3]
            )
        check_concat(found)
    return found


def concat_ie(info: ConcatInfo) -> InformationElement:
    """The concatenation element for ``info`` (IE 0x00 for an 8-bit reference, 0x08 for 16)."""
    if info.reference_bits == 8:
        return InformationElement(
            iei=IEI_CONCAT_8BIT, data=bytes((info.reference, info.total, info.index))
        )
    if info.reference_bits == 16:
        return InformationElement(
            iei=IEI_CONCAT_16BIT,
            data=bytes((info.reference >> 8, info.reference & 0xFF, info.total, info.index)),
        )
    raise ValueError(f"reference_bits must be 8 or 16, not {info.reference_bits}")


def build_udh(ies: Iterable[InformationElement | tuple[int, bytes]]) -> bytes:
    """The header octets, length octet (UDHL) first, for information elements in order."""
    body = bytearray()
    for ie in ies:
        iei, data = (ie.iei, ie.data) if isinstance(ie, InformationElement) else ie
        if not 0 <= iei <= 0xFF or len(data) > 0xFF:
            raise ValueError(f"information element 0x{iei:X} of {len(data)} octets does not fit")
        body += bytes((iei, len(data)))
        body += data
    if len(body) >= MAX_UDH_OCTETS:
        raise ValueError(f"user data header of {len(body)} octets does not fit a short message")
    return bytes((len(body),)) + bytes(body)


def parse_udh(short_message: bytes) -> tuple[Udh, bytes]:
    """The header at the start of ``short_message`` (esm_class has UDHI) and the payload after it.

    A header running past the message, or an element running past the header, is
    ESME_RINVMSGLEN; a bad concatenation element is SMSC_RINVPARTS.
    """
    data = bytes(short_message)
    if not data:
        raise PduError(CommandStatus.ESME_RINVMSGLEN, "UDHI is set but short_message is empty")
    end = 1 + data[0]
    if end > len(data):
        raise PduError(
            CommandStatus.ESME_RINVMSGLEN,
            f"user data header of {data[0]} octets runs past the {len(data)}-octet message",
        )
    elements: list[InformationElement] = []
    pos = 1
    while pos < end:
        if pos + 2 > end:
            raise PduError(
                CommandStatus.ESME_RINVMSGLEN, "information element header runs past the UDH"
            )
        iei, length = data[pos], data[pos + 1]
        pos += 2
        if pos + length > end:
            raise PduError(
                CommandStatus.ESME_RINVMSGLEN,
                f"information element 0x{iei:02X} of {length} octets runs past the UDH",
            )
        elements.append(InformationElement(iei=iei, data=data[pos : pos + length]))
        pos += length
    udh = Udh(elements=tuple(elements))
    _concat_of(udh.elements)  # validate now, so a returned header is always usable
    return udh, data[end:]


def concat_from_sar(tlvs: Tlvs) -> ConcatInfo | None:
    """Concatenation info from the SAR optional parameters, or None when none of them is present.

    One or two of the three present: ESME_RMISSINGOPTPARAM. A value of the wrong length, a total
    or sequence number of 0, or a sequence number above the total: ESME_RINVOPTPARAMVAL.
    """
    ref = tlvs.raw(Tag.SAR_MSG_REF_NUM)
    total = tlvs.raw(Tag.SAR_TOTAL_SEGMENTS)
    seq = tlvs.raw(Tag.SAR_SEGMENT_SEQNUM)
    if ref is None and total is None and seq is None:
        return None
    missing = [
        name
        for name, raw in (
            ("sar_msg_ref_num", ref),
            ("sar_total_segments", total),
            ("sar_segment_seqnum", seq),
        )
        if raw is None
    ]
    if missing or ref is None or total is None or seq is None:
        raise PduError(
            CommandStatus.ESME_RMISSINGOPTPARAM,
            f"SAR parameters incomplete: {', '.join(missing)} missing",
        )
    if len(ref) != 2 or len(total) != 1 or len(seq) != 1:
        raise PduError(CommandStatus.ESME_RINVOPTPARAMVAL, "SAR parameter of the wrong length")
    info = ConcatInfo(
        reference=int.from_bytes(ref, "big"), reference_bits=16, total=total[0], index=seq[0]
    )
    try:
        return check_concat(info)
    except PduError as e:
        raise PduError(CommandStatus.ESME_RINVOPTPARAMVAL, f"SAR: {e.args[0]}") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class PartHeader:
    """What a received short message says about itself: its concatenation info (None for a
    message that stands alone), its UDH when esm_class has UDHI, and the payload after the UDH."""

    concat: ConcatInfo | None
    udh: Udh | None
    payload: bytes


def read_part(esm_class: int, short_message: bytes, tlvs: Tlvs) -> PartHeader:
    """Read the concatenation info of a received message from its UDH or its SAR parameters.

    When both are present they must agree on reference, total and index (SMSC_RINVPARTS if not);
    the UDH's info is returned.
    """
    sar = concat_from_sar(tlvs)
    if not esm_class & EsmClass.UDHI:
        return PartHeader(concat=sar, udh=None, payload=bytes(short_message))
    udh, payload = parse_udh(short_message)
    concat = udh.concat
    if sar is not None:
        if concat is None:
            concat = sar
        elif (concat.reference, concat.total, concat.index) != (
            sar.reference,
            sar.total,
            sar.index,
        ):
            raise _invalid_parts("UDH concatenation element and SAR parameters disagree")
    return PartHeader(concat=concat, udh=udh, payload=payload)
