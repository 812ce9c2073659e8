"""MO (handset-originated) messages: simulated replies and the deliver_sm PDUs that carry MO.

Reply rules say how a handset answers a message it received (when every part of the message
was delivered):

- ``echo``: it sends the same text back;
- ``keyword``: the first word of the text, compared without regard to case, picks a reply
  from the rule's keyword table; with no match the rule's ``text`` is sent, or nothing when
  that is empty;
- ``fixed``: it always sends the rule's ``text``.

The reply goes ``delay`` seconds after the delivery. A rule is scoped by ``account`` and by
``number`` (the handset, i.e. the message's destination), each "" for any; the most specific
rule wins: account + number, then number, then account, then a rule for everyone. A handset
cannot answer an alphanumeric sender ID, so messages from one never get a reply.

An MO message is a deliver_sm to the account: source_addr is the handset's number,
destination_addr the number or short code it answers (or was given on the command line), the
text in the GSM 03.38 default alphabet (data_coding 0) when every character is in it, else
UCS2 (data_coding 8); a text longer than one part is split with a UDH (IE 0x00, 8-bit
reference) and esm_class 0x40.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from smsc.pdu.constants import EsmClass, MessageState, Npi, Ton
from smsc.pdu.errors import PduError
from smsc.pdu.pdus import DeliverSm
from smsc.pdu.text import MAX_PARTS, decode_text, split_text
from smsc.pdu.udh import parse_udh
from smsc.store.records import StoredMessage

_UDHI: Final = int(EsmClass.UDHI)
_DELIVERED: Final = int(MessageState.DELIVERED)
MAX_REPLY_LENGTH: Final = 1600  # characters; a reply rule's text is at most ten or so parts
_SHORT_CODE_DIGITS: Final = 6


class MoMode(IntEnum):
    ECHO = 1
    KEYWORD = 2
    FIXED = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class MoRule:
    """How handsets reply. ``keywords`` maps case-folded first words to reply texts."""

    account: str = ""
    number: str = ""
    mode: MoMode
    text: str = ""
    keywords: Mapping[str, str] | None = None
    delay: float = 0.0

    def __post_init__(self) -> None:
        if self.delay < 0:
            raise ValueError(f"MO reply delay {self.delay} is negative")
        if self.mode == MoMode.FIXED and not self.text:
            raise ValueError("a fixed MO reply needs a text")
        if self.mode == MoMode.KEYWORD and not self.keywords:
            raise ValueError("a keyword MO rule needs at least one keyword")

    @property
    def scope(self) -> tuple[str, str]:
        return (self.account, self.number)

    def reply_text(self, text: str) -> str | None:
        """The reply to a received ``text``, or None for no reply."""
        if self.mode == MoMode.ECHO:
            return text or None
        if self.mode == MoMode.FIXED:
            return self.text
        words = text.split(maxsplit=1)
        keywords = self.keywords or {}
        reply = keywords.get(words[0].casefold()) if words else None
        if reply is not None:
            return reply
        return self.text or None


@dataclass(frozen=True, slots=True, kw_only=True)
class MoReply:
    """An MO message to send at ``at``: from ``handset`` to ``service`` on ``account``."""

    account: str
    handset: str
    service: str
    text: str
    at: float


class MoRules:
    """The reply rules, indexed by scope. Immutable once built."""

    __slots__ = ("_by_scope", "_rules")

    def __init__(self, rules: Iterable[MoRule] = ()) -> None:
        self._rules = tuple(rules)
        self._by_scope: dict[tuple[str, str], MoRule] = {}
        for rule in self._rules:
            if rule.scope in self._by_scope:
                raise ValueError(f"two MO rules for the same scope {rule.scope}")
            self._by_scope[rule.scope] = rule

    def __len__(self) -> int:
        return len(self._rules)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MoRules):
            return self._rules == other._rules
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"MoRules({list(self._rules)!r})"

    def __iter__(self) -> Iterator[MoRule]:
        return iter(self._rules)

    def find(self, account: str, number: str) -> MoRule | None:
        """The most specific rule for a handset ``number`` on ``account``, or None."""
        by_scope = self._by_scope
        if not by_scope:
            return None
        return (
            by_scope.get((account, number))
            or by_scope.get(("", number))
            or by_scope.get((account, ""))
            or by_scope.get(("", ""))
        )

    def reply(
        self, *, account: str, handset: str, service: str, text: str, now: float
    ) -> MoReply | None:
        """The handset's reply to ``text`` received from ``service`` at ``now``, if any."""
        if not is_numeric_address(service):
            return None
        rule = self.find(account, handset)
        if rule is None:
            return None
        reply = rule.reply_text(text)
        if not reply:
            return None
        return MoReply(
            account=account,
            handset=handset,
            service=service,
            text=reply[:MAX_REPLY_LENGTH],
            at=now + rule.delay,
        )

    def reply_to_delivered(self, parts: Sequence[StoredMessage], now: float) -> MoReply | None:
        """The reply to a message whose parts (one destination, after the current batch) are
        all DELIVERED; None while any is not, or when no rule answers. Call once per message
        and destination per batch in which a part became DELIVERED."""
        if not parts or not self._rules or any(p.state != _DELIVERED for p in parts):
            return None
        first = parts[0]
        return self.reply(
            account=first.account,
            handset=first.destination_addr,
            service=first.source_addr,
            text=text_of_parts(parts),
            now=now,
        )


NO_MO_RULES: Final = MoRules()


def is_numeric_address(address: str) -> bool:
    return bool(address) and address.isascii() and address.isdigit()


def text_of_parts(parts: Sequence[StoredMessage]) -> str:
    """The text of a message from its stored parts (UDH removed, parts in order); octets that
    do not decode in their data_coding are read as Latin-1."""
    chunks: list[bytes] = []
    for part in sorted(parts, key=lambda p: p.part_index):
        octets = part.short_message
        if part.esm_class & _UDHI and octets:
            with contextlib.suppress(PduError):
                octets = parse_udh(octets)[1]
        chunks.append(octets)
    data = b"".join(chunks)
    data_coding = parts[0].data_coding if parts else 0
    try:
        return decode_text(data, data_coding)
    except (PduError, ValueError):
        return data.decode("latin-1")


def address_type(address: str) -> tuple[int, int]:
    """(TON, NPI) for an address: international/ISDN for a full number, unknown/ISDN for a
    short code of up to six digits, alphanumeric otherwise."""
    if is_numeric_address(address):
        if len(address) <= _SHORT_CODE_DIGITS:
            return int(Ton.UNKNOWN), int(Npi.ISDN)
        return int(Ton.INTERNATIONAL), int(Npi.ISDN)
    return int(Ton.ALPHANUMERIC), int(Npi.UNKNOWN)


def mo_deliver_sms(
    *,
    source_addr: str,
    destination_addr: str,
    text: str,
    reference: int,
    data_coding: int | None = None,
    max_parts: int = MAX_PARTS,
    service_type: str = "",
) -> list[DeliverSm]:
    """The deliver_sm PDUs (sequence_number 0) of an MO text from a handset to a number or
    short code: one, or several parts with a UDH sharing ``reference`` (taken modulo 256).

    Raises PduError (SMSC_RTOOMANYPARTS) when the text needs more than ``max_parts`` parts and
    a TextError when it does not fit a given ``data_coding``.
    """
    source_ton, source_npi = address_type(source_addr)
    dest_ton, dest_npi = address_type(destination_addr)
    segments = split_text(
        text,
        data_coding=data_coding,
        reference=reference & 0xFF,
        reference_bits=8,
        scheme="udh",
        max_parts=max_parts,
    )
    return [
        DeliverSm(
            service_type=service_type,
            source_addr_ton=source_ton,
            source_addr_npi=source_npi,
            source_addr=source_addr,
            dest_addr_ton=dest_ton,
            dest_addr_npi=dest_npi,
            destination_addr=destination_addr,
            esm_class=segment.esm_class,
            data_coding=segment.data_coding,
            short_message=segment.short_message,
        )
        for segment in segments
    ]
