"""The operator queues' depths as the event loop counts them: the one owner of that count.

Submits add their parts (:mod:`smsc.core.submit`), a refused submit takes them back, parts that
leave their queues (final) are taken off, and the store's own count replaces it now and then
(at start and every minute). Queue room (``max_queue`` of an operator) is judged on it.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterable, Mapping


class QueueDepths:
    __slots__ = ("_depths",)

    def __init__(self, depths: Mapping[str, int] | None = None) -> None:
        self._depths: dict[str, int] = dict(depths or {})

    def get(self, operator: str, default: int = 0) -> int:
        return self._depths.get(operator, default)

    def items(self) -> ItemsView[str, int]:
        return self._depths.items()

    def add(self, operator: str, count: int) -> None:
        """``count`` parts of a submit joined ``operator``'s queue."""
        depths = self._depths
        depths[operator] = depths.get(operator, 0) + count

    def refused(self, operators: Iterable[tuple[str, int]]) -> None:
        """A submit was refused after its parts were counted: (operator, parts) back out."""
        depths = self._depths
        for operator, count in operators:
            depths[operator] = max(0, depths.get(operator, 0) - count)

    def left(self, finals: Mapping[str, int]) -> None:
        """Parts left their queues (final): ``finals`` is operator -> parts."""
        depths = self._depths
        for operator, count in finals.items():
            depths[operator] = max(0, depths.get(operator, 0) - count)

    def reload(self, depths: Mapping[str, int]) -> None:
        """The store's count replaces this one (an operator it does not name is at 0)."""
        current = self._depths
        for operator in list(current):
            current[operator] = depths.get(operator, 0)
        current.update(depths)
