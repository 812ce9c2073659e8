"""The GSM 03.38 (3GPP TS 23.038) default alphabet: tables, septet codec and 7-bit packing.

SMPP carries data_coding 0 unpacked: one septet per octet of short_message. ``gsm_encode`` and
``gsm_decode`` work on that form; ``pack_septets`` / ``unpack_septets`` convert to and from the
7-bit packed form used on the air interface (with fill bits after a user data header).
"""

from __future__ import annotations

import re
from typing import Final

from smsc.pdu.constants import CommandStatus
from smsc.pdu.errors import PduError

ESCAPE: Final = 0x1B


class TextError(PduError, ValueError):
    """Text or octets that do not fit the asked data_coding; carries the status to answer with.

    Built like PduError: ``TextError(command_status, message)``. It is also a ValueError, so code
    that only cares about "not encodable" can catch that.
    """


# The basic table, 16 code points per line (0x00-0x0F, 0x10-0x1F, ...). 0x1B is the escape to
# the extension table, not a character; it is held here by a placeholder that is never mapped.
_BASIC_ROWS: Final = (
    "@£$¥èéùìòÇ\nØø\rÅå",
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ",
    " !\"#¤%&'()*+,-./",
    "0123456789:;<=>?",
    "¡ABCDEFGHIJKLMNO",
    "PQRSTUVWXYZÄÖÑÜ§",
    "¿abcdefghijklmno",
    "pqrstuvwxyzäöñüà",
)
BASIC_TABLE: Final[str] = "".join(_BASIC_ROWS)

# The extension table: code after the escape -> character. Codes not listed here (including the
# reserved 0x0D page break and 0x1B second escape) fall back to the basic table when decoding.
EXTENSION_TABLE: Final[dict[int, str]] = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}

BASIC_CHARS: Final[frozenset[str]] = frozenset(c for i, c in enumerate(BASIC_TABLE) if i != ESCAPE)
EXTENSION_CHARS: Final[frozenset[str]] = frozenset(EXTENSION_TABLE.values())
GSM_CHARS: Final[frozenset[str]] = BASIC_CHARS | EXTENSION_CHARS

# str.translate tables: character -> its septet(s) as a str of code points below 0x80, which
# then encode to octets with the latin-1 codec in one C call.
_ENCODE: Final[dict[int, str]] = {
    **{ord(c): chr(i) for i, c in enumerate(BASIC_TABLE) if i != ESCAPE},
    **{ord(c): chr(ESCAPE) + chr(code) for code, c in EXTENSION_TABLE.items()},
}
_DECODE_BASIC: Final[dict[int, str]] = {i: c for i, c in enumerate(BASIC_TABLE) if i != ESCAPE}
_EXTENSION_RE: Final = re.compile("[" + re.escape("".join(sorted(EXTENSION_CHARS))) + "]")


def is_gsm(text: str) -> bool:
    """True when every character of ``text`` is in the default alphabet (basic or extension)."""
    return GSM_CHARS.issuperset(text)


def extension_count(text: str) -> int:
    """How many characters of ``text`` need the escape (two septets each)."""
    return len(_EXTENSION_RE.findall(text))


def gsm_septet_count(text: str) -> int | None:
    """Septets ``text`` takes in the default alphabet (an escaped character counts 2), or None."""
    if not GSM_CHARS.issuperset(text):
        return None
    return len(text) + extension_count(text)


def _first_outside(text: str) -> str:
    return next(c for c in text if c not in GSM_CHARS)


def gsm_encode(text: str) -> bytes:
    """Unpacked septets (one per octet, as data_coding 0 carries them) for ``text``.

    Raises TextError (a ValueError) for a character outside the default alphabet.
    """
    if not GSM_CHARS.issuperset(text):
        c = _first_outside(text)
        raise TextError(
            CommandStatus.ESME_RSUBMITFAIL,
            f"character U+{ord(c):04X} is not in the GSM 03.38 default alphabet",
        )
    return text.translate(_ENCODE).encode("latin-1")


def gsm_decode(octets: bytes) -> str:
    """Text for unpacked septets.

    An escape followed by a code the extension table does not define gives that code's basic
    character (as TS 23.038 asks of a receiver); an escape at the very end, or followed by a second
    escape, gives a space. An octet above 0x7F is not a septet: TextError.
    """
    if not octets:
        return ""
    if max(octets) > 0x7F:
        raise TextError(
            CommandStatus.ESME_RSUBMITFAIL,
            "data_coding 0 carries septets, but an octet is above 0x7F",
        )
    if ESCAPE not in octets:
        return octets.decode("latin-1").translate(_DECODE_BASIC)
    out: list[str] = []
    pos = 0
    end = len(octets)
    while pos < end:
        esc = octets.find(ESCAPE, pos)
        if esc < 0:
            out.append(octets[pos:].decode("latin-1").translate(_DECODE_BASIC))
            break
        if esc > pos:
            out.append(octets[pos:esc].decode("latin-1").translate(_DECODE_BASIC))
        if esc + 1 >= end:
            out.append(" ")
            break
        code = octets[esc + 1]
        ext = EXTENSION_TABLE.get(code)
        if ext is not None:
            out.append(ext)
        elif code == ESCAPE:
            out.append(" ")
        else:
            out.append(BASIC_TABLE[code])
        pos = esc + 2
    return "".join(out)


def _check_fill(fill_bits: int) -> None:
    if not 0 <= fill_bits <= 6:
        raise ValueError(f"fill_bits must be 0..6, not {fill_bits}")


def pack_septets(septets: bytes, fill_bits: int = 0) -> bytes:
    """Pack septets 7 bits each, least significant bit first, after ``fill_bits`` zero bits.

    ``fill_bits`` is what aligns the first septet to a septet boundary after a user data header
    (1 after a 6-octet header, 0 after a 7-octet one). The last octet is padded with zero bits.
    """
    _check_fill(fill_bits)
    if septets and max(septets) > 0x7F:
        raise TextError(CommandStatus.ESME_RSUBMITFAIL, "a septet is above 0x7F")
    n = len(septets)
    padded = bytes(septets) + bytes(-n % 8)
    out = bytearray()
    # Eight septets fill exactly seven octets: pack each group of eight as one 56-bit number.
    for k in range(0, len(padded), 8):
        g = padded[k : k + 8]
        value = (
            g[0]
            | g[1] << 7
            | g[2] << 14
            | g[3] << 21
            | g[4] << 28
            | g[5] << 35
            | g[6] << 42
            | g[7] << 49
        )
        out += value.to_bytes(7, "little")
    size = (7 * n + fill_bits + 7) // 8
    if fill_bits:
        shifted = int.from_bytes(out, "little") << fill_bits
        return shifted.to_bytes(len(out) + 1, "little")[:size]
    return bytes(out[:size])


def unpack_septets(octets: bytes, count: int, fill_bits: int = 0) -> bytes:
    """The first ``count`` septets packed in ``octets`` after ``fill_bits`` bits."""
    _check_fill(fill_bits)
    if count < 0 or 7 * count + fill_bits > 8 * len(octets):
        raise TextError(
            CommandStatus.ESME_RINVMSGLEN,
            f"{len(octets)} packed octets cannot hold {count} septets",
        )
    data = bytes(octets)
    if fill_bits:
        data = (int.from_bytes(data, "little") >> fill_bits).to_bytes(len(data), "little")
    data += bytes(-len(data) % 7)
    out = bytearray()
    for k in range(0, 7 * ((count + 7) // 8), 7):
        value = int.from_bytes(data[k : k + 7], "little")
        out += bytes((value >> shift) & 0x7F for shift in range(0, 56, 7))
    return bytes(out[:count])
