"""Store faults, logged at a bounded rate.

A full disk or a database locked by another process makes every store call fail, many times a
second; logging each would flood the log. So the first failure is logged with its traceback,
then one summary line per ``summary_every`` seconds while failures go on, and one "store
recovered" line when a write succeeds again. Only writes (a commit, an id block) count as
recovery: reads often still work on a full disk.
"""

from __future__ import annotations

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

_log = Logger()


class StoreHealth:
    __slots__ = ("_clock", "_last_error", "_last_summary", "_since_summary", "failing_since",
                 "failures", "recoveries", "summary_every")

    def __init__(self, clock: IReactorTime, *, summary_every: float = 10.0) -> None:
        self._clock = clock
        self.summary_every = summary_every
        self.failing_since: float | None = None  # when the current fault began
        self.failures = 0  # failed store calls since start (for the metrics and tests)
        self.recoveries = 0
        self._since_summary = 0
        self._last_summary = 0.0
        self._last_error = ""

    @property
    def failing(self) -> bool:
        return self.failing_since is not None

    def failed(self, what: str, failure: Failure) -> None:
        """A store call for ``what`` failed."""
        now = self._clock.seconds()
        self.failures += 1
        self._last_error = f"{what}: {failure.getErrorMessage()}"
        if self.failing_since is None:
            self.failing_since = self._last_summary = now
            self._since_summary = 0
            _log.failure("store fault ({what}); logged again every {every:.0f} s while it lasts",
                         failure, what=what, every=self.summary_every)
            return
        self._since_summary += 1
        if now - self._last_summary >= self.summary_every:
            _log.error("store still failing after {lasted:.0f} s: {n} failed calls in the last "
                       "{span:.0f} s; the last: {error}", lasted=now - self.failing_since,
                       n=self._since_summary, span=now - self._last_summary,
                       error=self._last_error)
            self._last_summary = now
            self._since_summary = 0

    def ok(self) -> None:
        """A store write succeeded."""
        if self.failing_since is None:
            return
        lasted = self._clock.seconds() - self.failing_since
        self.failing_since = None
        self.recoveries += 1
        _log.info("store recovered after {lasted:.1f} s", lasted=lasted)


__all__ = ["StoreHealth"]
