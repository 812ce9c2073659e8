"""The open connections: accepted under the caps per address and in total (kept under the fd
limit), the oldest never-bound one evicted to make room, and the bind timeout."""

from __future__ import annotations

import resource
from collections import Counter
from collections.abc import Iterator

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from smsc.config.server import ServerSettings
from smsc.server.lograte import LogLimiter, suppressed_note
from smsc.server.protocol import SmppServerProtocol

_log = Logger()
FD_RESERVE = 64  # file descriptors kept for the store, listeners and logs, not connections


class Connections:
    """The connections open now (a collection of them), with the counts the caps read."""

    def __init__(self, clock: IReactorTime, settings: ServerSettings, logs: LogLimiter) -> None:
        self.clock = clock
        self.settings = settings  # swapped by a config reload
        self.logs = logs
        self.open: set[SmppServerProtocol] = set()
        self.per_address: Counter[str] = Counter()  # open connections by peer address
        # Connections the server closed or aborted, by why (drain_timeout, close_timeout,
        # unbound_errors, address_limit, connection_limit, evicted): for the metrics.
        self.closed_for: Counter[str] = Counter()
        self.fd_limit = _fd_soft_limit()
        self.stopping = False  # set when the service stops: new connections are closed

    def __contains__(self, conn: object) -> bool:
        return conn in self.open

    def __iter__(self) -> Iterator[SmppServerProtocol]:
        return iter(self.open)

    def __len__(self) -> int:
        return len(self.open)

    @property
    def limit(self) -> int:
        """Connections open at once at most: max_connections, kept under the fd limit."""
        return max(1, min(self.settings.max_connections, self.fd_limit - FD_RESERVE))

    def connected(self, conn: SmppServerProtocol) -> None:
        if self.stopping:
            conn.close()
            return
        host = conn.peer_host
        if self.per_address[host] >= self.settings.max_connections_per_address:
            self._refuse(conn, "address_limit",
                         f"{self.per_address[host]} connections from it already")
            return
        if len(self.open) >= self.limit and not self._make_room():
            self._refuse(conn, "connection_limit",
                         f"{len(self.open)} connections open, all bound")
            return
        self.open.add(conn)
        self.per_address[host] += 1

    def _make_room(self) -> bool:
        """At the connection limit: abort the oldest connection that never bound (and is not
        binding); whether there was one."""
        unbound = [c for c in self.open
                   if c.bind is None and not c.session.unanswered_requests]
        if not unbound:
            return False
        oldest = min(unbound, key=lambda c: c.connected_at)
        self._closing_log("evicted", f"{oldest.peer_host}: never bound, aborted to make room "
                                     f"for a new connection ({len(self.open)} open)")
        oldest.abort("evicted")
        self.forget(oldest)
        return True

    def _refuse(self, conn: SmppServerProtocol, why: str, detail: str) -> None:
        self._closing_log(why, f"{conn.peer_host}: connection refused, {detail}")
        self.closed_for[why] += 1
        conn.abort(why)

    def _closing_log(self, cause: str, line: str) -> None:
        left_out = self.logs.allow(cause, self.clock.seconds())
        if left_out is not None:
            _log.info("{line}{suppressed}", line=line, suppressed=suppressed_note(left_out))

    def forget(self, conn: SmppServerProtocol) -> None:
        """``conn`` closed: it no longer counts against the caps."""
        if conn in self.open:
            self.open.discard(conn)
            host = conn.peer_host
            self.per_address[host] -= 1
            if self.per_address[host] <= 0:
                del self.per_address[host]
            if conn.closed_for not in ("", "closed"):
                self.closed_for[conn.closed_for] += 1

    def housekeeping(self) -> None:
        """Every half second: each connection's timers, and the bind timeout."""
        now = self.clock.seconds()
        bind_timeout = self.settings.bind_timeout
        for conn in list(self.open):
            conn.tick(now)
            if conn.bind is None and now - conn.connected_at > bind_timeout and not conn.closing:
                conn.log_info("bind_timeout", "{peer}: no bind within {t:.0f} s, closing",
                              t=bind_timeout)
                conn.closing = True
                conn.close()


def _fd_soft_limit() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


__all__ = ["FD_RESERVE", "Connections"]
