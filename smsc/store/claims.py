"""Claims with a lease kept in a store object, for the stores one process owns (memory,
SQLite): :meth:`smsc.store.base.Store.take_due` and ``outbox_for`` with a ``lease``. PostgreSQL
keeps its claims in the rows (``claimed_until``), shared by every node."""

from __future__ import annotations

from collections.abc import Iterable


class LeasedClaims:
    """Row ids claimed until a time; a claim whose lease ran out is forgotten when next
    looked at, so the map holds only the claims in force (what is in flight)."""

    __slots__ = ("_until",)

    def __init__(self) -> None:
        self._until: dict[int, float] = {}

    def held(self, now: float) -> set[int]:
        """The ids under a claim whose lease runs past ``now``."""
        until = self._until
        if not until:
            return set()
        gone = [i for i, t in until.items() if t <= now]
        for i in gone:
            del until[i]
        return set(until)

    def claim(self, ids: Iterable[int], until: float) -> None:
        for i in ids:
            self._until[i] = until

    def end(self, ids: Iterable[int]) -> None:
        until = self._until
        if until:
            for i in ids:
                until.pop(i, None)
