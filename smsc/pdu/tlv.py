"""Optional parameters (TLVs): an immutable, ordered collection that keeps unknown tags.

Values are held as the raw octets seen on the wire, so a PDU re-encodes byte for byte; typed
access decodes the known tags by their SMPP 3.4 type.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Mapping
from typing import Final, NamedTuple

from smsc.pdu.constants import CommandStatus, Tag
from smsc.pdu.errors import PduError

_U8: Final = "u8"
_U16: Final = "u16"
_U32: Final = "u32"
_CSTR: Final = "cstr"
_OCTETS: Final = "octets"
_NEC: Final = "network_error_code"
_EMPTY: Final = "empty"


class TlvType(NamedTuple):
    kind: str
    min_length: int
    max_length: int


class NetworkErrorCode(NamedTuple):
    """network_error_code: a network type (1 ANSI-136, 2 IS-95, 3 GSM, ...) and an error code."""

    network_type: int
    error_code: int


_TYPES: dict[int, TlvType] = {
    Tag.DEST_ADDR_SUBUNIT: TlvType(_U8, 1, 1),
    Tag.DEST_NETWORK_TYPE: TlvType(_U8, 1, 1),
    Tag.DEST_BEARER_TYPE: TlvType(_U8, 1, 1),
    Tag.DEST_TELEMATICS_ID: TlvType(_U16, 2, 2),
    Tag.SOURCE_ADDR_SUBUNIT: TlvType(_U8, 1, 1),
    Tag.SOURCE_NETWORK_TYPE: TlvType(_U8, 1, 1),
    Tag.SOURCE_BEARER_TYPE: TlvType(_U8, 1, 1),
    Tag.SOURCE_TELEMATICS_ID: TlvType(_U8, 1, 1),
    Tag.QOS_TIME_TO_LIVE: TlvType(_U32, 4, 4),
    Tag.PAYLOAD_TYPE: TlvType(_U8, 1, 1),
    Tag.ADDITIONAL_STATUS_INFO_TEXT: TlvType(_CSTR, 1, 256),
    Tag.RECEIPTED_MESSAGE_ID: TlvType(_CSTR, 1, 65),
    Tag.MS_MSG_WAIT_FACILITIES: TlvType(_U8, 1, 1),
    Tag.PRIVACY_INDICATOR: TlvType(_U8, 1, 1),
    Tag.SOURCE_SUBADDRESS: TlvType(_OCTETS, 2, 23),
    Tag.DEST_SUBADDRESS: TlvType(_OCTETS, 2, 23),
    Tag.USER_MESSAGE_REFERENCE: TlvType(_U16, 2, 2),
    Tag.USER_RESPONSE_CODE: TlvType(_U8, 1, 1),
    Tag.SOURCE_PORT: TlvType(_U16, 2, 2),
    Tag.DESTINATION_PORT: TlvType(_U16, 2, 2),
    Tag.SAR_MSG_REF_NUM: TlvType(_U16, 2, 2),
    Tag.LANGUAGE_INDICATOR: TlvType(_U8, 1, 1),
    Tag.SAR_TOTAL_SEGMENTS: TlvType(_U8, 1, 1),
    Tag.SAR_SEGMENT_SEQNUM: TlvType(_U8, 1, 1),
    Tag.SC_INTERFACE_VERSION: TlvType(_U8, 1, 1),
    Tag.CALLBACK_NUM_PRES_IND: TlvType(_U8, 1, 1),
    Tag.CALLBACK_NUM_ATAG: TlvType(_OCTETS, 0, 65),
    Tag.NUMBER_OF_MESSAGES: TlvType(_U8, 1, 1),
    Tag.CALLBACK_NUM: TlvType(_OCTETS, 4, 19),
    Tag.DPF_RESULT: TlvType(_U8, 1, 1),
    Tag.SET_DPF: TlvType(_U8, 1, 1),
    Tag.MS_AVAILABILITY_STATUS: TlvType(_U8, 1, 1),
    Tag.NETWORK_ERROR_CODE: TlvType(_NEC, 3, 3),
    Tag.MESSAGE_PAYLOAD: TlvType(_OCTETS, 0, 65535),
    Tag.DELIVERY_FAILURE_REASON: TlvType(_U8, 1, 1),
    Tag.MORE_MESSAGES_TO_SEND: TlvType(_U8, 1, 1),
    Tag.MESSAGE_STATE: TlvType(_U8, 1, 1),
    Tag.USSD_SERVICE_OP: TlvType(_U8, 1, 1),
    Tag.DISPLAY_TIME: TlvType(_U8, 1, 1),
    Tag.SMS_SIGNAL: TlvType(_U16, 2, 2),
    Tag.MS_VALIDITY: TlvType(_U8, 1, 1),
    Tag.ALERT_ON_MESSAGE_DELIVERY: TlvType(_EMPTY, 0, 0),
    Tag.ITS_REPLY_TYPE: TlvType(_U8, 1, 1),
    Tag.ITS_SESSION_INFO: TlvType(_OCTETS, 2, 2),
}

# Per tag: (min, max) length accepted on decode; used by the codec's hot loop.
LENGTH_LIMITS: Final[dict[int, tuple[int, int]]] = {
    tag: (t.min_length, t.max_length) for tag, t in _TYPES.items()
}

TlvValue = int | str | bytes | NetworkErrorCode | None

TlvSource = Mapping[Tag, TlvValue] | Mapping[int, TlvValue] | Iterable[tuple[int, TlvValue]]

_HEAD = struct.Struct(">HH")


def tlv_type(tag: int) -> TlvType | None:
    """The SMPP 3.4 type of a known tag, or None for a tag smsc does not know."""
    return _TYPES.get(tag)


def encode_value(tag: int, value: TlvValue) -> bytes:
    """Octets for a typed value of a tag (raw bytes pass through for any tag)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    t = _TYPES.get(tag)
    if t is None:
        raise TypeError(f"tag 0x{tag:04X} is not known; give its value as bytes")
    if t.kind == _U8 and isinstance(value, int):
        return struct.pack(">B", value)
    if t.kind == _U16 and isinstance(value, int):
        return struct.pack(">H", value)
    if t.kind == _U32 and isinstance(value, int):
        return struct.pack(">I", value)
    if t.kind == _CSTR and isinstance(value, str):
        return value.encode("latin-1") + b"\x00"
    if t.kind == _NEC and isinstance(value, tuple):
        return struct.pack(">BH", value[0], value[1])
    if t.kind == _EMPTY and value is None:
        return b""
    raise TypeError(f"value {value!r} does not fit tag {Tag(tag).name} ({t.kind})")


def decode_value(tag: int, raw: bytes) -> TlvValue:
    """The typed value of octets for a tag; unknown tags give the raw octets."""
    t = _TYPES.get(tag)
    if t is None or t.kind == _OCTETS:
        return raw
    kind = t.kind
    if kind == _U8:
        return raw[0]
    if kind == _U16:
        return int.from_bytes(raw, "big")
    if kind == _U32:
        return int.from_bytes(raw, "big")
    if kind == _CSTR:
        end = raw.find(b"\x00")
        return (raw if end < 0 else raw[:end]).decode("latin-1")
    if kind == _NEC:
        return NetworkErrorCode(raw[0], int.from_bytes(raw[1:3], "big"))
    return None


class Tlvs:
    """Ordered, immutable optional parameters as (tag, raw octets) pairs; duplicates are kept."""

    __slots__ = ("_items",)

    _items: tuple[tuple[int, bytes], ...]

    def __init__(self, items: Iterable[tuple[int, bytes]] = ()) -> None:
        object.__setattr__(self, "_items", tuple((int(t), bytes(v)) for t, v in items))

    @classmethod
    def from_raw(cls, items: tuple[tuple[int, bytes], ...]) -> Tlvs:
        """Wrap already validated pairs without copying (the codec's path)."""
        self = object.__new__(cls)
        object.__setattr__(self, "_items", items)
        return self

    @classmethod
    def of(cls, values: TlvSource = (), /) -> Tlvs:
        """Build from typed values: ``Tlvs.of({Tag.SAR_MSG_REF_NUM: 7})``."""
        pairs = values.items() if isinstance(values, Mapping) else values
        return cls.from_raw(tuple((int(tag), encode_value(tag, v)) for tag, v in pairs))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Tlvs is immutable")

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __contains__(self, tag: object) -> bool:
        return any(t == tag for t, _ in self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Tlvs):
            return self._items == other._items
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._items)

    def __repr__(self) -> str:
        parts = []
        for tag, raw in self._items:
            try:
                name = Tag(tag).name.lower()
            except ValueError:
                name = f"0x{tag:04X}"
            parts.append(f"{name}={decode_value(tag, raw)!r}")
        return f"Tlvs({', '.join(parts)})"

    @property
    def items(self) -> tuple[tuple[int, bytes], ...]:
        return self._items

    def raw(self, tag: int) -> bytes | None:
        """The octets of the first occurrence of ``tag``, or None."""
        for t, v in self._items:
            if t == tag:
                return v
        return None

    def get(self, tag: int, default: TlvValue = None) -> TlvValue:
        """The typed value of the first occurrence of ``tag`` (int, str, bytes ...), or default."""
        for t, v in self._items:
            if t == tag:
                return decode_value(t, v)
        return default

    def get_int(self, tag: int) -> int | None:
        value = self.get(tag)
        return value if isinstance(value, int) else None

    def get_str(self, tag: int) -> str | None:
        value = self.get(tag)
        return value if isinstance(value, str) else None

    def with_value(self, tag: int, value: TlvValue) -> Tlvs:
        """A copy where ``tag`` has ``value`` (replacing it in place, or appended)."""
        raw = encode_value(tag, value)
        items = list(self._items)
        for i, (t, _) in enumerate(items):
            if t == tag:
                items[i] = (tag, raw)
                return Tlvs.from_raw(tuple(items))
        items.append((int(tag), raw))
        return Tlvs.from_raw(tuple(items))

    def without(self, *tags: int) -> Tlvs:
        return Tlvs.from_raw(tuple((t, v) for t, v in self._items if t not in tags))

    def encoded(self) -> bytes:
        return b"".join(_HEAD.pack(t, len(v)) + v for t, v in self._items)


EMPTY_TLVS: Final = Tlvs.from_raw(())


def parse_tlvs(buf: bytes | memoryview, pos: int, end: int) -> Tlvs:
    """Parse TLVs from ``buf[pos:end]``; raises PduError with the SMPP status on bad input."""
    if pos == end:
        return EMPTY_TLVS
    items: list[tuple[int, bytes]] = []
    limits = LENGTH_LIMITS
    unpack = _HEAD.unpack_from
    while pos < end:
        if end - pos < 4:
            raise PduError(
                CommandStatus.ESME_RINVOPTPARSTREAM, "truncated optional parameter header"
            )
        tag, length = unpack(buf, pos)
        pos += 4
        if pos + length > end:
            raise PduError(
                CommandStatus.ESME_RINVOPTPARSTREAM,
                f"optional parameter 0x{tag:04X} runs past the end of the PDU",
            )
        lim = limits.get(tag)
        if lim is not None and not lim[0] <= length <= lim[1]:
            raise PduError(
                CommandStatus.ESME_RINVPARLEN,
                f"optional parameter 0x{tag:04X} has length {length}, expected {lim[0]}..{lim[1]}",
            )
        items.append((tag, bytes(buf[pos : pos + length])))
        pos += length
    if len(items) > 1:
        _check_repeats(items)
    return Tlvs.from_raw(tuple(items))


def _check_repeats(items: list[tuple[int, bytes]]) -> None:
    """SMPP 3.4 defines every one of its optional parameters once per PDU: a known tag given
    twice (two message_payloads, say, where the second would be silently ignored) is an error
    in the optional part. Unknown tags may repeat: they are kept as they came."""
    seen: set[int] = set()
    for tag, _ in items:
        if tag in seen and tag in LENGTH_LIMITS:
            raise PduError(
                CommandStatus.ESME_RINVOPTPARSTREAM,
                f"optional parameter 0x{tag:04X} given more than once",
            )
        seen.add(tag)
