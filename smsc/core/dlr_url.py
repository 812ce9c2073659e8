"""Kannel's dlr-url: the URL template a Kannel application gives with its message, fetched
(HTTP GET) for each delivery report it asked for (its ``dlr-mask``) after its %-escapes are
replaced, as Kannel's user guide lists them (table "Parameters (Escape Codes)") and Kannel
1.4's smsbox fills them in (``gw/urltrans.c``).

Every value is URL-encoded as a form value (space as ``+``; everything but letters, digits and
``-_.~`` as ``%XX`` of its UTF-8 octets), except ``%S`` (left as it is, with ``*`` made ``~``),
``%t`` (Kannel writes ``YYYY-MM-DD+HH:MM:SS``) and ``%e`` (hexadecimal). ``%%`` is a ``%``;
``%#group#name#`` (Kannel's meta-data) is empty; a ``%`` followed by anything else is left as
written.

For a delivery report ``%d`` is Kannel's dlr-mask bit of the report's state
(:func:`dlr_value`): the SMPP receipt's stat read as Kannel's SMPP module reads it. Two more
kinds of report are Kannel's own, made when the submit is answered (:func:`smsc_answer`):
``8`` the SMSC accepted it (``%A`` is ``ACK/``), ``16`` the SMSC refused it (``%A`` is
``NACK/0x<status>/<reason>``).

The message's hook carries its dlr-mask with the template (:func:`kannel_hook`): a report is
called only when the mask asks for its value (:func:`wanted`), as Kannel does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import quote_plus

from smsc.pdu import pdus
from smsc.pdu.constants import ESM_TYPE_MASK, CommandStatus, EsmClass, Tag
from smsc.pdu.receipt_text import ReceiptError, ReceiptText
from smsc.pdu.tlv import Tlvs
from smsc.store.records import HookStyle, MessageHook, OutboxItem

SMSC_ID = "smsc"  # %i: the smsc-id Kannel would name the connection by
# Kannel's dlr-mask bits
DLR_DELIVERED, DLR_FAILED, DLR_BUFFERED, DLR_SMSC_ACCEPTED, DLR_SMSC_REJECTED = 1, 2, 4, 8, 16
EVERY_REPORT = 31
# Kannel's SMPP module: these stats are "buffered", DELIVRD delivered, anything else failed.
_BUFFERED_STATS = frozenset({"ACCEPTD", "ACKED", "BUFFRED", "BUFFERD", "ENROUTE"})
ACK, NACK = "ACK/", "NACK/"
# Escapes with a value of their own (the word escapes k s S r a come from the text).
ESCAPES = frozenset("bdtTpPqQiIAFnoOcCmMuDBefRvV")
WORD_ESCAPES = frozenset("ksSra")
_RAW = frozenset("te")  # written as Kannel writes them, not encoded again
_RECEIPT_TYPES = (int(EsmClass.TYPE_DELIVERY_RECEIPT),
                  int(EsmClass.TYPE_INTERMEDIATE_NOTIFICATION))


def dlr_value(stat: str, *, final: bool = True) -> int:
    """Kannel's ``%d`` for a receipt's stat: 1 delivered (DELIVRD), 4 buffered (ACCEPTD,
    ENROUTE, an intermediate notification), 2 failed (every other stat: UNDELIV, EXPIRED,
    DELETED, UNKNOWN, REJECTD)."""
    if not final or stat in _BUFFERED_STATS:
        return DLR_BUFFERED
    return DLR_DELIVERED if stat == "DELIVRD" else DLR_FAILED


def registered_delivery_for(dlr_mask: int) -> int:
    """The SMPP registered_delivery that makes the receipts a Kannel ``dlr-mask`` may want: 1
    (delivered) alone a receipt of success only (3), 2 (failed) alone of failures only (2),
    both, or 4 (buffered: a final ACCEPTD is one), every final receipt (1); 4 also the
    intermediate notifications (0x10). :func:`wanted` then leaves out what the mask does not
    ask for. Bits 8 and 16 need no receipt: they are called when the submit is answered."""
    wants = dlr_mask & (DLR_DELIVERED | DLR_FAILED | DLR_BUFFERED)
    if not wants:
        return 0
    if wants == DLR_DELIVERED:
        final = 3
    elif wants == DLR_FAILED:
        final = 2
    else:
        final = 1
    return final | (0x10 if dlr_mask & DLR_BUFFERED else 0)


def wanted(dlr_mask: int, value: int) -> bool:
    """Whether a report of ``value`` is called for a message of ``dlr_mask``. As Kannel's
    bearerbox, an SMSC refusal (16) is reported to a mask asking for failures (2) too."""
    if value == DLR_SMSC_REJECTED:
        return bool(dlr_mask & (DLR_SMSC_REJECTED | DLR_FAILED))
    return bool(dlr_mask & value)


def kannel_hook(template: str, dlr_mask: int) -> MessageHook:
    """A message's hook for a dlr-url and its mask: stored as ``"<mask> <template>"`` (a URL
    has no spaces; :func:`split_hook` reads it back)."""
    return MessageHook(url=f"{dlr_mask} {template}", style=HookStyle.KANNEL)


def split_hook(hook_url: str) -> tuple[int, str]:
    """(dlr-mask, template) of a KANNEL hook's url; one without a mask asks for every kind."""
    mask, space, template = hook_url.partition(" ")
    if space and mask.isdigit() and mask.isascii():
        return int(mask), template
    return EVERY_REPORT, hook_url


def smsc_answer(*, accepted: bool, status: int, handset: str, sender: str,
                message_id: str) -> pdus.DeliverSm:
    """The report of the SMSC's answer to a submit (Kannel's 8 or 16), kept in the outbox as a
    deliver_sm of the default type from the handset whose text is Kannel's ``%A``: ``ACK/``, or
    ``NACK/0x<status, 8 hex digits>/<status name>``. ``message_id`` (``%F``, ``%I``) is the id
    the submit was answered with (none for a refusal)."""
    text = ACK if accepted else f"{NACK}0x{status:08x}/{CommandStatus.name_of(status)}"
    tlvs = Tlvs.of({Tag.RECEIPTED_MESSAGE_ID: message_id}) if message_id else Tlvs()
    return pdus.DeliverSm(source_addr=handset, destination_addr=sender, esm_class=0,
                          short_message=text.encode("utf-8"), tlvs=tlvs)


def _plus(number: str) -> str:
    return "+" + number[2:] if number.startswith("00") else number


def values_of(pdu: pdus.DeliverSm, item: OutboxItem, *,
              format_id: Callable[[int], str] = str) -> dict[str, str]:
    """The escapes' values for the delivery report (or SMSC answer) ``pdu`` carried by
    ``item``: the keys of :data:`ESCAPES`, unencoded; ``b`` is the text the word escapes read."""
    raw = bytes(pdu.short_message).rstrip(b"\x00")
    text = raw.decode("utf-8" if pdu.esm_class & ESM_TYPE_MASK not in _RECEIPT_TYPES
                      else "latin-1", "replace")
    receipt: ReceiptText | None = None
    if pdu.esm_class & ESM_TYPE_MASK in _RECEIPT_TYPES:
        final = pdu.esm_class & ESM_TYPE_MASK == int(EsmClass.TYPE_DELIVERY_RECEIPT)
        try:
            receipt = ReceiptText.parse(text)
        except ReceiptError:
            receipt = None
        value = dlr_value(receipt.stat, final=final) if receipt is not None else DLR_FAILED
    else:  # the SMSC's answer to the submit
        value = DLR_SMSC_ACCEPTED if text.startswith(ACK) else DLR_SMSC_REJECTED
    message_id = (pdu.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID)
                  or (receipt.message_id if receipt is not None else "")
                  or (format_id(item.message_id) if item.message_id is not None else ""))
    moment = datetime.fromtimestamp(item.created_at, UTC)
    return {
        "b": text, "A": text, "e": raw.hex().upper(),
        "d": str(value),
        "F": message_id, "I": message_id,
        "p": pdu.source_addr, "P": pdu.destination_addr,
        "q": _plus(pdu.source_addr), "Q": _plus(pdu.destination_addr),
        "i": SMSC_ID,
        "t": moment.strftime("%Y-%m-%d+%H:%M:%S"), "T": str(int(item.created_at)),
        "n": item.account, "o": item.account,
        # A report has no coding, class or MWI of its own: Kannel writes them undefined.
        "c": "-1", "C": "UTF-8", "O": f"{pdu.data_coding:02d}", "m": "-1", "M": "-1",
        "u": "", "D": "", "B": "", "f": "", "v": "", "V": "",
    }


def _encode(value: str) -> str:
    return quote_plus(value, safe="")


def expand(template: str, values: Mapping[str, str]) -> str:
    """``template`` with every escape replaced by its value (URL-encoded but ``%S``, ``%t``
    and ``%e``; ``%R`` is the template itself).

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
        elif code == "#":  # %#group#name#: meta-data, which smsc has none of
            group_end = template.find("#", i)
            name_end = template.find("#", group_end + 1) if group_end >= 0 else -1
            if name_end >= 0:
                i = name_end + 1
            elif group_end >= 0:
                i = group_end + 1
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
        elif code == "R":
            out.append(_encode(template))
        elif code in ESCAPES and code in values:
            out.append(values[code] if code in _RAW else _encode(values[code]))
        else:
            out.append("%" + code)
    return "".join(out)
