"""Reassembly of concatenated parts that arrive in any order, interleaved across messages.

Pure and bounded: the caller passes ``now``; at most ``max_sets`` incomplete messages and
``max_octets`` of payload are held. Sets are kept in a dict in the order they were opened, which
is also the order of their deadlines, so expiry pops from the front and ``add`` never scans.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Final

from smsc.pdu.constants import CommandStatus
from smsc.pdu.errors import PduError
from smsc.pdu.udh import ConcatInfo, check_concat

MAX_TOTAL: Final = 255
MAX_SHORT_MESSAGE: Final = 255


@dataclass(frozen=True, slots=True, kw_only=True)
class PartSet:
    """The parts of one concatenated message: complete (from ``add``) or timed out (``expire``).

    ``parts`` holds (index, payload) pairs in index order; payloads are the octets after the UDH,
    still encoded in the message's data_coding: join them before decoding, so a pair cut by the
    sender's split is rejoined.
    """

    key: Hashable
    reference: int
    reference_bits: int
    total: int
    parts: tuple[tuple[int, bytes], ...]
    first_seen: float

    @property
    def complete(self) -> bool:
        return len(self.parts) == self.total

    @property
    def missing(self) -> tuple[int, ...]:
        have = {i for i, _ in self.parts}
        return tuple(i for i in range(1, self.total + 1) if i not in have)

    @property
    def payload(self) -> bytes:
        """The payloads joined in index order (the whole message when complete)."""
        return b"".join(p for _, p in self.parts)


class _Pending:
    __slots__ = ("deadline", "first_seen", "key", "octets", "parts", "reference", "total")

    def __init__(self, key: Hashable, info: ConcatInfo, now: float, deadline: float) -> None:
        self.key = key
        self.reference = info.reference
        self.total = info.total
        self.first_seen = now
        self.deadline = deadline
        self.parts: dict[int, bytes] = {}
        self.octets = 0

    def to_set(self, bits: int) -> PartSet:
        return PartSet(
            key=self.key,
            reference=self.reference,
            reference_bits=bits,
            total=self.total,
            parts=tuple(sorted(self.parts.items())),
            first_seen=self.first_seen,
        )


_SetKey = tuple[Hashable, int, int]


class Reassembler:
    """Collects parts per (key, reference) until every index from 1 to total has arrived.

    ``key`` says whose message it is (for example account and destination); the reference from
    the ConcatInfo is added to it, so parts of two messages to the same number stay apart.
    """

    __slots__ = ("_clock", "_max_octets", "_max_sets", "_octets", "_pending", "_timeout")

    def __init__(self, max_sets: int, timeout: float, *, max_octets: int | None = None) -> None:
        if max_sets < 1:
            raise ValueError(f"max_sets must be at least 1, not {max_sets}")
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, not {timeout}")
        self._max_sets = max_sets
        self._timeout = timeout
        self._max_octets = (
            max_sets * MAX_TOTAL * MAX_SHORT_MESSAGE if max_octets is None else max_octets
        )
        self._pending: dict[_SetKey, _Pending] = {}
        self._octets = 0
        self._clock = float("-inf")

    def __len__(self) -> int:
        """Incomplete sets held."""
        return len(self._pending)

    @property
    def octets(self) -> int:
        """Payload octets held in incomplete sets."""
        return self._octets

    def add(self, key: Hashable, info: ConcatInfo, payload: bytes, now: float) -> PartSet | None:
        """Add one part; the complete set when this part completes it, else None.

        A repeated part with the same payload is ignored. A part that disagrees with its set
        (another total, or an index already held with other content) or is invalid itself raises
        PduError(SMSC_RINVPARTS) and leaves the set as it was. Opening a set while ``max_sets`` are
        pending, or going over ``max_octets``, raises PduError(ESME_RMSGQFUL).
        """
        check_concat(info)
        if info.total > MAX_TOTAL:
            raise PduError(CommandStatus.SMSC_RINVPARTS, f"a message has at most {MAX_TOTAL} parts")
        data = bytes(payload)
        # Deadlines follow the order sets are opened even if a caller's clock steps back.
        self._clock = max(self._clock, now)
        set_key = (key, info.reference_bits, info.reference)
        pending = self._pending.get(set_key)
        if pending is None:
            if info.total == 1:
                return PartSet(
                    key=key,
                    reference=info.reference,
                    reference_bits=info.reference_bits,
                    total=1,
                    parts=((1, data),),
                    first_seen=now,
                )
            if len(self._pending) >= self._max_sets:
                raise PduError(
                    CommandStatus.ESME_RMSGQFUL,
                    f"{self._max_sets} long messages are already waiting for parts",
                )
            self._reserve(len(data))
            pending = _Pending(key, info, now, self._clock + self._timeout)
            pending.parts[info.index] = data
            pending.octets = len(data)
            self._pending[set_key] = pending
            return None
        if info.total != pending.total:
            raise PduError(
                CommandStatus.SMSC_RINVPARTS,
                f"part says the message has {info.total} parts, an earlier one said "
                f"{pending.total}",
            )
        held = pending.parts.get(info.index)
        if held is not None:
            if held == data:
                return None
            raise PduError(
                CommandStatus.SMSC_RINVPARTS,
                f"part {info.index} arrived twice with different content",
            )
        if len(pending.parts) + 1 < pending.total:
            self._reserve(len(data))
            pending.parts[info.index] = data
            pending.octets += len(data)
            return None
        del self._pending[set_key]
        self._octets -= pending.octets
        pending.parts[info.index] = data
        return pending.to_set(info.reference_bits)

    def _reserve(self, size: int) -> None:
        if self._octets + size > self._max_octets:
            raise PduError(
                CommandStatus.ESME_RMSGQFUL,
                f"parts waiting for reassembly already hold {self._octets} octets",
            )
        self._octets += size

    def expire(self, now: float) -> list[PartSet]:
        """Remove and return the incomplete sets whose first part came ``timeout`` or more ago."""
        out: list[PartSet] = []
        pending = self._pending
        while pending:
            set_key = next(iter(pending))
            oldest = pending[set_key]
            if oldest.deadline > now:
                break
            del pending[set_key]
            self._octets -= oldest.octets
            out.append(oldest.to_set(set_key[1]))
        return out

    def next_deadline(self) -> float | None:
        """When the oldest incomplete set times out, or None when nothing is pending."""
        for pending in self._pending.values():
            return pending.deadline
        return None
