"""The content of a submit: its text checked against the account's part limit and cut into the
segments that become its parts (smsc splits long text itself; a customer's own UDH or SAR part
stays one part), with the TLVs forwarded to the operator. Pure: called by
:class:`smsc.core.submit.Intake` for every submit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from smsc.core.parts import text_snippet
from smsc.pdu.constants import CommandStatus, Tag
from smsc.pdu.errors import PduError
from smsc.pdu.text import count_octet_parts, split_octets
from smsc.pdu.tlv import EMPTY_TLVS, Tlvs
from smsc.pdu.udh import ConcatInfo, read_part
from smsc.slotted import slot_constructor
from smsc.store.records import Account

S = CommandStatus
_UDHI = 0x40
# Vendor TLV (0x1400-0x3FFF is the vendor range): 1 asks for recipient-local-time scheduling.
TAG_RECIPIENT_LOCAL_TIME = 0x1501
_SAR_TAGS = (Tag.SAR_MSG_REF_NUM, Tag.SAR_TOTAL_SEGMENTS, Tag.SAR_SEGMENT_SEQNUM)
_DROP_TAGS = (Tag.MESSAGE_PAYLOAD, *_SAR_TAGS, TAG_RECIPIENT_LOCAL_TIME)


@dataclass(frozen=True, slots=True)
class Content:
    """What a submit carries, ready to become its parts."""

    data_coding: int
    esm_class: int
    segments: tuple[tuple[bytes, int, int, int, int], ...]  # (octets, esm bits, ref, total, index)
    tlvs: bytes
    snippet: str
    concat: ConcatInfo | None = None  # a customer's part of a concatenated message (UDH or SAR)
    payload: bytes = b""  # that part's user data after the UDH


_content = slot_constructor(Content)  # built through the slots on the hot path


def submit_content(account: Account, esm_class: int, data_coding: int, short_message: bytes,
                   tlvs: Tlvs, take_reference: Callable[[], int]) -> Content:
    """A submit's text checked against the account's ``max_parts`` and cut into segments: a
    customer's part of a concatenated message (UDH or SAR) or a message with a UDH stays one
    segment; other text is split by smsc, with a reference from ``take_reference``. The TLVs
    forwarded leave out message_payload, the SAR ones and the recipient-local-time flag."""
    payload = tlvs.raw(Tag.MESSAGE_PAYLOAD) if tlvs else None
    if payload is not None and short_message:
        raise PduError(S.ESME_RINVOPTPARAMVAL,
                       "message_payload given together with a non-empty short_message")
    forward = tlvs.without(*_DROP_TAGS).encoded() if tlvs else b""
    if payload is None and (tlvs or esm_class & _UDHI):
        header = read_part(esm_class, short_message, tlvs if tlvs else EMPTY_TLVS)
        concat = header.concat
        if concat is not None:
            if concat.total > account.max_parts:
                raise PduError(S.SMSC_RTOOMANYPARTS,
                               f"the message has {concat.total} parts; this account may "
                               f"send at most {account.max_parts}")
            snippet = text_snippet(header.payload, data_coding)  # this part's own text
            return Content(data_coding, esm_class, ((short_message, 0, concat.reference,
                                                      concat.total, concat.index),),
                            forward, snippet, concat, header.payload)
        if header.udh is not None:  # a UDH without concatenation (ports, ...): one part
            return Content(data_coding, esm_class, ((short_message, 0, 0, 1, 1),), forward,
                            text_snippet(header.payload, data_coding))
    if payload is None:
        payload = short_message
    count = count_octet_parts(payload, data_coding) if payload else None
    if count is not None and count.parts > account.max_parts:
        raise PduError(S.SMSC_RTOOMANYPARTS,
                       f"the message needs {count.parts} parts; this account may send at "
                       f"most {account.max_parts}")
    if count is None or count.parts == 1:
        segments: tuple[tuple[bytes, int, int, int, int], ...] = ((payload, 0, 0, 1, 1),)
    else:
        reference = (take_reference() & 0xFF)
        segments = tuple((s.short_message, s.esm_class, reference, s.total, s.index)
                         for s in split_octets(payload, data_coding, reference=reference,
                                               max_parts=account.max_parts))
    return _content(data_coding, esm_class, segments, forward,
                    text_snippet(payload, data_coding), None, b"")


class ContentMemo:
    """The last plain single-part content made, kept: the destinations of a batch, the steps
    of a campaign and a run of sends of one text carry the same content, made once for all
    of them instead of once per message. Only a submit without TLVs or UDH whose content is
    one segment is kept (a split message takes a new concatenation reference each time); one
    entry, replaced by the next such content. Owned by :class:`smsc.core.submit.Intake`."""

    __slots__ = ("_content", "_key")

    def __init__(self) -> None:
        self._key: tuple[bytes, int, int, int] | None = None
        self._content: Content | None = None

    def content(self, account: Account, esm_class: int, data_coding: int, short_message: bytes,
                tlvs: Tlvs, take_reference: Callable[[], int]) -> Content:
        """What :func:`submit_content` gives for these arguments."""
        if tlvs or esm_class & _UDHI:
            return submit_content(account, esm_class, data_coding, short_message, tlvs,
                                  take_reference)
        key = (short_message, data_coding, esm_class, account.max_parts)
        if key == self._key and self._content is not None:
            return self._content
        made = submit_content(account, esm_class, data_coding, short_message, tlvs,
                              take_reference)
        if len(made.segments) == 1:
            self._key, self._content = key, made
        return made
