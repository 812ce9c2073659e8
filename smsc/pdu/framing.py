"""Split a byte stream into whole PDUs, refusing bad command_length before buffering a body."""

from __future__ import annotations

import struct

from smsc.pdu.constants import HEADER_LENGTH, CommandStatus
from smsc.pdu.errors import FramingError

DEFAULT_MAX_PDU_LENGTH = 70_000  # a submit_sm with a 64 KB message_payload fits
_LENGTH = struct.Struct(">I")
_COMPACT_AT = 1 << 16


class FrameBuffer:
    """Feed arbitrary chunks with :meth:`feed`; take whole PDUs with :meth:`next_frame`.

    At most one PDU's worth of bytes (``max_length``) plus one chunk is ever held. A
    ``command_length`` below 16 or above ``max_length`` raises :class:`FramingError` as soon as the
    four length octets are seen; the stream is then unusable (answer generic_nack and close).
    """

    __slots__ = ("_buf", "_pos", "max_length")

    def __init__(self, max_length: int = DEFAULT_MAX_PDU_LENGTH) -> None:
        if max_length < HEADER_LENGTH:
            raise ValueError("max_length must be at least 16")
        self.max_length = max_length
        self._buf = bytearray()
        self._pos = 0

    def __len__(self) -> int:
        """Octets buffered and not yet returned as frames."""
        return len(self._buf) - self._pos

    def feed(self, data: bytes) -> None:
        self._buf += data

    def next_frame(self) -> bytes | None:
        """The next whole PDU, or None when more data is needed."""
        buf = self._buf
        pos = self._pos
        available = len(buf) - pos
        if available < 4:
            self._compact()
            return None
        (length,) = _LENGTH.unpack_from(buf, pos)
        if length < HEADER_LENGTH or length > self.max_length:
            sequence = 0
            command_id = None
            if available >= HEADER_LENGTH:
                command_id, _, sequence = struct.unpack_from(">III", buf, pos + 4)
            raise FramingError(
                CommandStatus.ESME_RINVCMDLEN,
                f"command_length {length} is outside 16..{self.max_length}",
                command_id=command_id,
                sequence_number=sequence,
            )
        if available < length:
            self._compact()
            return None
        frame = bytes(buf[pos : pos + length])
        self._pos = pos + length
        return frame

    def frames(self) -> list[bytes]:
        """Every whole PDU buffered now."""
        out = []
        while (frame := self.next_frame()) is not None:
            out.append(frame)
        return out

    def _compact(self) -> None:
        if self._pos and (self._pos >= _COMPACT_AT or self._pos == len(self._buf)):
            del self._buf[: self._pos]
            self._pos = 0
