"""The opt-out reads of HTTP sends, gathered: every send looks its numbers up in the account's
opt-out list before its group commit; the sends that arrive in one turn of the event loop
share one store call (per account, ``MAX_PAGE`` numbers per read), so sixteen single-message
POSTs cost one trip to the store thread, not sixteen, and reach the group commit together.

Most accounts have no opt-out list at all, and their sends need no trip to the store: a read
that finds none of its numbers also asks whether the account has any opt-out, and an account
that has none is remembered (at most ``MAX_KNOWN`` accounts) and answered at once until
:meth:`OptOutReads.forget`. That is called whenever an opt-out may have been added: by the
server itself right after it adds one (an MO STOP, ``POST /v1/opt-outs``), and when the store's
change counter moves, which every added opt-out bumps (the CLI, another node: noticed within
the second, as blacklist edits are). A read that was on its way while the list changed is not
remembered.

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
Read = dict[str, tuple[set[str], bool]]  # account -> (numbers opted out, whether it has any)
MAX_KNOWN = 10_000  # accounts remembered as having no opt-out
_log = Logger()
V = TypeVar("V")


class OptOutReads:
    def __init__(self, clock: IReactorTime, worker: StoreWorker, store: Store) -> None:
        self._clock = clock
        self._worker = worker
        self._store = store
        self._waiting: dict[str, tuple[set[str], Asked]] = {}  # account -> numbers, askers
        self._flush_call: IDelayedCall | None = None
        self._none: set[str] = set()  # accounts that had no opt-out at their last read
        self._epoch = 0  # moved by forget(): a read begun before it remembers nothing
        self.reads = 0  # store calls made

    def read(self, account: str, numbers: Sequence[str], found: Found, failed: Failed) -> None:
        """Which of ``numbers`` are on ``account``'s opt-out list: ``found`` called with them,
        or ``failed`` with the store's failure (one of the two, once: at once for an account
        known to have no opt-out, else from a later turn). Callbacks, not a Deferred: a send
        pays for no Deferred of its own here."""
        if account in self._none:
            _tell(found, set())
            return
        entry = self._waiting.get(account)
        if entry is None:
            entry = self._waiting[account] = (set(), [])
        wanted, asked = entry
        wanted.update(numbers)
        asked.append((numbers, found, failed))
        if self._flush_call is None:
            self._flush_call = self._clock.callLater(0, self._flush)

    def forget(self) -> None:
        """An opt-out may have been added: every account's list is read again."""
        self._none.clear()
        self._epoch += 1

    def _flush(self) -> None:
        self._flush_call = None
        waiting, self._waiting = self._waiting, {}
        wanted = {account: sorted(numbers) for account, (numbers, _) in waiting.items()}
        self.reads += 1
        d = self._worker.call(self._read_all, wanted)
        d.addCallbacks(self._found, self._failed, callbackArgs=(waiting, self._epoch),
                       errbackArgs=(waiting,))

    def _read_all(self, wanted: dict[str, list[str]]) -> Read:
        """Store thread: the opted-out numbers of each account, and whether it has any (asked
        only when none of its numbers is)."""
        found: Read = {}
        for account, numbers in wanted.items():
            opted: set[str] = set()
            for start in range(0, len(numbers), MAX_PAGE):
                opted |= self._store.opted_out(account, numbers[start:start + MAX_PAGE])
            found[account] = (opted, bool(opted or self._store.opt_outs(account, limit=1)))
        return found

    def _found(self, found: Read, waiting: dict[str, tuple[set[str], Asked]],
               epoch: int) -> None:
        for account, (_, asked) in waiting.items():
            opted, any_opt_out = found.get(account, (set(), True))
            if not any_opt_out and epoch == self._epoch and len(self._none) < MAX_KNOWN:
                self._none.add(account)
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
