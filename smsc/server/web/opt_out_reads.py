"""The opt-out reads of HTTP sends, gathered: every send looks its numbers up in the account's
opt-out list before its group commit; the sends that arrive in one turn of the event loop
share one store call (per account, ``MAX_PAGE`` numbers per read), so sixteen single-message
POSTs cost one trip to the store thread, not sixteen, and reach the group commit together.

Nothing is decided here: the store says which numbers are opted out, and
:meth:`smsc.core.batch.BatchBuilder.batch` refuses them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsc.server.worker import StoreWorker
from smsc.store.base import Store
from smsc.store.contact_records import MAX_PAGE

Found = Callable[[set[str]], object]
Failed = Callable[[Failure], object]
Asked = list[tuple[Sequence[str], Found, Failed]]
_log = Logger()
V = TypeVar("V")


class OptOutReads:
    def __init__(self, clock: IReactorTime, worker: StoreWorker, store: Store) -> None:
        self._clock = clock
        self._worker = worker
        self._store = store
        self._waiting: dict[str, tuple[set[str], Asked]] = {}  # account -> numbers, askers
        self._flush_call: IDelayedCall | None = None
        self.reads = 0  # store calls made

    def read(self, account: str, numbers: Sequence[str], found: Found, failed: Failed) -> None:
        """Which of ``numbers`` are on ``account``'s opt-out list: ``found`` called with them,
        or ``failed`` with the store's failure (one of the two, once, from a later turn).
        Callbacks, not a Deferred: a send pays for no Deferred of its own here."""
        entry = self._waiting.get(account)
        if entry is None:
            entry = self._waiting[account] = (set(), [])
        wanted, asked = entry
        wanted.update(numbers)
        asked.append((numbers, found, failed))
        if self._flush_call is None:
            self._flush_call = self._clock.callLater(0, self._flush)

    def _flush(self) -> None:
        self._flush_call = None
        waiting, self._waiting = self._waiting, {}
        wanted = {account: sorted(numbers) for account, (numbers, _) in waiting.items()}
        self.reads += 1
        d = self._worker.call(self._read_all, wanted)
        d.addCallbacks(self._found, self._failed, callbackArgs=(waiting,),
                       errbackArgs=(waiting,))

    def _read_all(self, wanted: dict[str, list[str]]) -> dict[str, set[str]]:
        """Store thread: the opted-out numbers of each account."""
        found: dict[str, set[str]] = {}
        for account, numbers in wanted.items():
            opted: set[str] = set()
            for start in range(0, len(numbers), MAX_PAGE):
                opted |= self._store.opted_out(account, numbers[start:start + MAX_PAGE])
            found[account] = opted
        return found

    @staticmethod
    def _found(found: dict[str, set[str]], waiting: dict[str, tuple[set[str], Asked]]) -> None:
        for account, (_, asked) in waiting.items():
            opted = found.get(account, set())
            for numbers, told, _failed in asked:
                _tell(told, {n for n in numbers if n in opted} if opted else set())

    @staticmethod
    def _failed(failure: Failure, waiting: dict[str, tuple[set[str], Asked]]) -> None:
        for _, asked in waiting.values():
            for _numbers, _found, told in asked:
                _tell(told, failure)


def _tell(callback: Callable[[V], object], value: V) -> None:
    """One asker told; its own fault is logged and spares the others."""
    try:
        callback(value)
    except Exception:
        _log.failure("an opt-out read's caller failed")


__all__ = ["OptOutReads"]
