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

_EXTENSION_RE: Final = re.compile("[" + re.escape("".join(sorted(EXTENSION_CHARS))) + "]")

# Everything runs on octets with bytes.translate (in C). Eleven characters of the alphabet are not
# in Latin-1 (ten Greek capitals and the euro sign); they stand in as the C1 control octets
# 0x80-0x8A, which are no character of the alphabet, while text is encoded or decoded.
_WIDE: Final = tuple(sorted(c for c in GSM_CHARS if ord(c) > 0xFF))
_STAND_IN: Final[dict[str, str]] = {c: chr(0x80 + k) for k, c in enumerate(_WIDE)}
_CHAR_OF_OCTET: Final = [
    _WIDE[b - 0x80] if 0x80 <= b < 0x80 + len(_WIDE) else chr(b) for b in range(256)
]
# Any character that cannot become an octet: beyond Latin-1 and not one of the eleven, or a C1
# control of the stand-in range itself (text holding one is not GSM anyway).
_NOT_OCTET: Final = re.compile(f"[^\x00-\x7f{chr(0x80 + len(_WIDE))}-\xff{''.join(_WIDE)}]")


def _septet_or_marker(c: str) -> int:
    """The septet of a basic character, or 0x80 | extension code for an escaped one."""
    if c in BASIC_CHARS:
        return BASIC_TABLE.index(c)
    if c in EXTENSION_CHARS:
        return 0x80 | next(k for k, e in EXTENSION_TABLE.items() if e == c)
    return 0xFF


# - _GSM_OCTETS: octets (Latin-1 or stand-in) whose character is in the alphabet (deleting them
#   from a text's octets leaves those that are not);
# - _NOT_EXTENSION: every octet but the escaped characters (deleting leaves those);
# - _TO_SEPTET: octet -> septet, or 0x80 | extension code, a marker that _expand_markers turns
#   into the escape pair;
# - _SEPTET_TO_OCTET: the way back, to Latin-1 octets and stand-ins.
_GSM_OCTETS: Final = bytes(b for b in range(256) if _CHAR_OF_OCTET[b] in GSM_CHARS)
_NOT_EXTENSION: Final = bytes(b for b in range(256) if _CHAR_OF_OCTET[b] not in EXTENSION_CHARS)
_TO_SEPTET: Final = bytes(_septet_or_marker(_CHAR_OF_OCTET[b]) for b in range(256))
_SEPTETS: Final = bytes(range(0x80))
_SEPTET_TO_OCTET: Final = bytes(ord(_STAND_IN.get(c, c)) for c in BASIC_TABLE) + bytes([0xFF] * 128)
_NOT_STAND_IN: Final = bytes(range(0x80)) + bytes(range(0x80 + len(_WIDE), 0x100))


def _octets(text: str) -> bytes | None:
    """``text`` as one octet per character (Latin-1, the eleven as stand-ins), or None when a
    character has no octet (and so is not in the alphabet)."""
    if text.isascii():
        return text.encode("ascii")
    if _NOT_OCTET.search(text) is not None:
        return None
    for c in _WIDE:
        if c in text:
            text = text.replace(c, _STAND_IN[c])
    return text.encode("latin-1")


def is_gsm(text: str) -> bool:
    """True when every character of ``text`` is in the default alphabet (basic or extension)."""
    data = _octets(text)
    return data is not None and not data.translate(None, _GSM_OCTETS)


def extension_count(text: str) -> int:
    """How many characters of ``text`` need the escape (two septets each)."""
    return len(_EXTENSION_RE.findall(text))


def _outside_error(text: str) -> TextError:
    c = next(c for c in text if c not in GSM_CHARS)
    return TextError(
        CommandStatus.ESME_RSUBMITFAIL,
        f"character U+{ord(c):04X} is not in the GSM 03.38 default alphabet",
    )


def gsm_septet_count(text: str) -> int | None:
    """Septets ``text`` takes in the default alphabet (an escaped character counts 2), or None."""
    data = _octets(text)
    if data is None or data.translate(None, _GSM_OCTETS):
        return None
    return len(data) + len(data.translate(None, _NOT_EXTENSION))


def gsm_septets(text: str) -> int:
    """Septets ``text`` takes; TextError naming the first character outside the alphabet."""
    septets = gsm_septet_count(text)
    if septets is None:
        raise _outside_error(text)
    return septets


_MARKER_TO_PAIR: Final[dict[int, tuple[bytes, bytes]]] = {
    0x80 | code: (bytes((0x80 | code,)), bytes((ESCAPE, code))) for code in EXTENSION_TABLE
}


def _expand_markers(septets: bytes) -> bytes:
    for marker in set(septets.translate(None, _SEPTETS)):
        needle, pair = _MARKER_TO_PAIR[marker]
        septets = septets.replace(needle, pair)
    return septets


def gsm_encode(text: str) -> bytes:
    """Unpacked septets (one per octet, as data_coding 0 carries them) for ``text``.

    Raises TextError (a ValueError) for a character outside the default alphabet.
    """
    data = _octets(text)
    if data is None or data.translate(None, _GSM_OCTETS):
        raise _outside_error(text)
    septets = data.translate(_TO_SEPTET)
    return septets if septets.isascii() else _expand_markers(septets)


def _decode_run(septets: bytes) -> str:
    """Text of septets below 0x80 holding no escape."""
    octets = septets.translate(_SEPTET_TO_OCTET)
    text = octets.decode("latin-1")
    if octets.isascii():
        return text
    for b in set(octets.translate(None, _NOT_STAND_IN)):
        text = text.replace(chr(b), _CHAR_OF_OCTET[b])
    return text


def gsm_decode(octets: bytes) -> str:
    """Text for unpacked septets.

    An escape followed by a code the extension table does not define gives that code's basic
    character (as TS 23.038 asks of a receiver); an escape at the very end, or followed by a second
    escape, gives a space. An octet above 0x7F is not a septet: TextError.
    """
    data = bytes(octets)
    if not data.isascii():
        raise TextError(
            CommandStatus.ESME_RSUBMITFAIL,
            "data_coding 0 carries septets, but an octet is above 0x7F",
        )
    if ESCAPE not in data:
        return _decode_run(data)
    out: list[str] = []
    pos = 0
    end = len(data)
    while pos < end:
        esc = data.find(ESCAPE, pos)
        if esc < 0:
            out.append(_decode_run(data[pos:]))
            break
        if esc > pos:
            out.append(_decode_run(data[pos:esc]))
        if esc + 1 >= end:
            out.append(" ")
            break
        code = data[esc + 1]
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
