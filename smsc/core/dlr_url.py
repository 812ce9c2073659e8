"""Kannel's dlr-url: the URL template a Kannel application gives with its message, fetched
(HTTP GET) for each delivery report after its %-escapes are replaced, as Kannel's user guide
lists them (table "Parameters (Escape Codes)").

Every value is URL-encoded as a form value (space as ``+``; everything but letters, digits and
``-_.~`` as ``%XX`` of its UTF-8 octets), except ``%S`` (Kannel leaves it as it is, with ``*``
made ``~``). ``%%`` is a ``%``; a ``%`` followed by anything else is left as written.

For a delivery report ``%d`` is Kannel's dlr-mask bit of the report's state (:func:`dlr_value`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import quote_plus

from smsc.pdu import pdus
from smsc.pdu.constants import ESM_TYPE_MASK, EsmClass, Tag
from smsc.pdu.receipt_text import ReceiptError, ReceiptText
from smsc.store.records import OutboxItem

SMSC_ID = "smsc"  # %i: the smsc-id Kannel would name the connection by
# Kannel's dlr-mask bits
DLR_DELIVERED, DLR_FAILED, DLR_BUFFERED, DLR_SMSC_ACCEPTED, DLR_SMSC_REJECTED = 1, 2, 4, 8, 16
_BY_STAT = {"DELIVRD": DLR_DELIVERED, "ENROUTE": DLR_BUFFERED, "ACCEPTD": DLR_SMSC_ACCEPTED,
            "REJECTD": DLR_SMSC_REJECTED}
# Escapes with a value of their own (the word escapes k s S r a come from the text).
ESCAPES = frozenset("bdtTpPqQiIAFnoOcCmMuDB")
WORD_ESCAPES = frozenset("ksSra")


def dlr_value(stat: str, *, final: bool = True) -> int:
    """Kannel's ``%d`` for a receipt's stat: 1 delivered, 2 failed (undeliverable, expired,
    deleted, unknown), 4 buffered (an intermediate notification, ENROUTE), 8 accepted by the
    SMSC (ACCEPTD), 16 rejected (REJECTD)."""
    if not final:
        return DLR_BUFFERED
    return _BY_STAT.get(stat, DLR_FAILED)


def registered_delivery_for(dlr_mask: int) -> int:
    """The SMPP registered_delivery that asks for the receipts a Kannel ``dlr-mask`` wants: a
    final receipt for 1 or 2 (only failures when 2 comes without 1), an intermediate
    notification for 4. Bits 8 and 16 (the SMSC accepted or rejected the submit) have no
    receipt: the sendsms answer says it. Note that a final receipt is one request for both
    outcomes: with a mask of 1 alone, failures are reported too (Kannel would not call)."""
    final = 1 if dlr_mask & DLR_DELIVERED else 2 if dlr_mask & DLR_FAILED else 0
    return final | (0x10 if dlr_mask & DLR_BUFFERED else 0)


def _plus(number: str) -> str:
    return "+" + number[2:] if number.startswith("00") else number


def _coding(data_coding: int) -> tuple[str, str]:
    """Kannel's %c (0 default, 1 7-bit, 2 8-bit, 3 UCS2) and %C (charset)."""
    if data_coding == 8:
        return "3", "UTF-16BE"
    if data_coding in (2, 4):
        return "2", "binary"
    return ("0" if data_coding == 0 else "1"), "GSM"


def values_of(pdu: pdus.DeliverSm, item: OutboxItem, *,
              format_id: Callable[[int], str] = str) -> dict[str, str]:
    """The escapes' values for the delivery report (or MO) ``pdu`` carried by ``item``: the
    keys of :data:`ESCAPES`, unencoded; ``b`` is the text the word escapes read."""
    text = bytes(pdu.short_message).rstrip(b"\x00").decode("latin-1")
    final = pdu.esm_class & ESM_TYPE_MASK != int(EsmClass.TYPE_INTERMEDIATE_NOTIFICATION)
    try:
        receipt: ReceiptText | None = ReceiptText.parse(text)
    except ReceiptError:
        receipt = None
    message_id = (pdu.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID)
                  or (receipt.message_id if receipt is not None else "")
                  or (format_id(item.message_id) if item.message_id is not None else ""))
    moment = datetime.fromtimestamp(item.created_at, UTC)
    coding, charset = _coding(pdu.data_coding)
    return {
        "b": text,
        "d": str(dlr_value(receipt.stat, final=final) if receipt is not None else DLR_FAILED),
        "A": text,
        "F": str(receipt.err) if receipt is not None else "",
        "p": pdu.source_addr, "P": pdu.destination_addr,
        "q": _plus(pdu.source_addr), "Q": _plus(pdu.destination_addr),
        "i": SMSC_ID, "I": message_id,
        "t": moment.strftime("%Y-%m-%d %H:%M"), "T": str(int(item.created_at)),
        "n": item.account, "o": item.account,
        "c": coding, "C": charset, "O": str(pdu.data_coding),
        "m": "", "M": "", "u": "", "D": "", "B": "",
    }


def _encode(value: str) -> str:
    return quote_plus(value, safe="")


def expand(template: str, values: Mapping[str, str]) -> str:
    """``template`` with every escape replaced by its value (URL-encoded but ``%S``).

    The word escapes read the words of ``values["b"]`` (split on whitespace): ``%k`` the first,
    each ``%s`` (and ``%S``) the next one from the second on, ``%r`` the words no ``%s`` took
    yet, ``%a`` all of them joined by one space."""
    words = values.get("b", "").split()
    next_word = 1
    out: list[str] = []
    i, end = 0, len(template)
    while i < end:
        char = template[i]
        if char != "%" or i + 1 >= end:
            out.append(char)
            i += 1
            continue
        code = template[i + 1]
        i += 2
        if code == "%":
            out.append("%")
        elif code in WORD_ESCAPES:
            if code == "k":
                out.append(_encode(words[0] if words else ""))
            elif code in "sS":
                word = words[next_word] if next_word < len(words) else ""
                next_word += 1
                out.append(_encode(word) if code == "s" else word.replace("*", "~"))
            elif code == "r":
                out.append(_encode(" ".join(words[next_word:])))
            else:
                out.append(_encode(" ".join(words)))
        elif code in ESCAPES and code in values:
            out.append(_encode(values[code]))
        else:
            out.append("%" + code)
    return "".join(out)
