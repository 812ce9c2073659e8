"""Message ids: integers from the store, shown to customers as hex or decimal text.

The same text appears in submit_sm_resp, in the receipt's ``id:`` field and in the
receipted_message_id TLV; ``parse`` turns a customer's text back into the integer (query_sm,
cancel_sm, replace_sm), refusing anything this server could not have issued.
"""

from __future__ import annotations

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


class MessageIdFormat:
    __slots__ = ("hex",)

    def __init__(self, *, hex_ids: bool) -> None:
        self.hex = hex_ids

    def format(self, number: int) -> str:
        return f"{number:08x}" if self.hex else str(number)

    def parse(self, text: str) -> int | None:
        if not text or len(text) > 20:
            return None
        if self.hex:
            if not _HEX_DIGITS.issuperset(text):
                return None
            return int(text, 16)
        return int(text) if text.isdigit() and text.isascii() else None


class IdBlock:
    """Hands out ids from blocks reserved in the store; asks for the next block early.

    ``take`` never blocks: when the current block is spent and the next has not arrived, it
    returns None and the caller answers ESME_RSYSERR for that one request (the refill is
    requested at half a block, so this only happens when the store is stuck).
    """

    __slots__ = ("_blocks", "_end", "_next", "block_size", "refill_pending")

    def __init__(self, block_size: int = 10_000) -> None:
        self.block_size = block_size
        self._next = 0
        self._end = 0
        self._blocks: list[tuple[int, int]] = []
        self.refill_pending = False

    def add_block(self, first: int, count: int) -> None:
        self.refill_pending = False
        if self._next >= self._end:
            self._next, self._end = first, first + count
        else:
            self._blocks.append((first, first + count))

    @property
    def remaining(self) -> int:
        return (self._end - self._next) + sum(e - f for f, e in self._blocks)

    def holds(self, count: int) -> bool:
        """Whether ``count`` more ids are there (the current block alone answers it mostly)."""
        return self._end - self._next >= count or self.remaining >= count

    @property
    def wants_refill(self) -> bool:
        if self.refill_pending:
            return False
        half = self.block_size // 2
        if self._end - self._next >= half:  # the current block alone is enough (asked per id)
            return False
        return self.remaining < half

    def take(self) -> int | None:
        if self._next >= self._end:
            if not self._blocks:
                return None
            self._next, self._end = self._blocks.pop(0)
        value = self._next
        self._next += 1
        return value
