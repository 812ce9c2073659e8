"""Outbind: the server connects out to a customer that has receipts or MO waiting and no
receiver bound, and asks it to bind.

SMPP 3.4 (section 4.1.7): the SMSC opens a connection to the ESME and sends ``outbind`` with
its own system_id and a password the ESME may check; the ESME answers on that connection with
``bind_receiver`` (or ``bind_transceiver``), and from there the session is like any other: the
bind is checked like an incoming one and the waiting items go out. An account opts in with
``outbind_to``, a Twisted client endpoint string (``tcp:host=192.0.2.10:port=2776``).

A connection that fails, or that closes without a bind, is tried again after a pause that
doubles from ``retry_min`` up to ``retry_max``; a bind resets it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import endpoints
from twisted.internet.interfaces import IProtocolFactory, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsc.pdu import pdus
from smsc.server.protocol import SmppServerProtocol
from smsc.server.worker import StoreWorker
from smsc.store.base import Store
from smsc.store.records import Account

_log = Logger()


class Outbinder:
    def __init__(self, reactor: Any, worker: StoreWorker, store: Store, *,
                 factory: Callable[[], IProtocolFactory], system_id: str,
                 receiving: Callable[[str], bool],
                 is_open: Callable[[SmppServerProtocol], bool], retry_min: float = 10.0,
                 retry_max: float = 300.0) -> None:
        self._reactor = reactor
        self._clock: IReactorTime = reactor
        self._worker = worker
        self._store = store
        self._factory = factory
        self._system_id = system_id
        self._receiving = receiving  # account -> has a receiver bound
        self._is_open = is_open  # connection -> still connected
        self.retry_min = retry_min
        self.retry_max = retry_max
        self._targets: dict[str, Account] = {}  # accounts with outbind_to
        self._open: dict[str, SmppServerProtocol | None] = {}  # connecting (None) or open
        self._next_try: dict[str, float] = {}
        self._failures: dict[str, int] = {}
        self.attempts = 0

    # --- which accounts (store thread) ----------------------------------------------------
    def load_targets(self) -> dict[str, Account]:
        return {a.system_id: a for a in self._store.list_accounts()
                if a.outbind_to and a.enabled}

    def _waiting(self, accounts: list[str], now: float) -> list[str]:
        """Accounts with items waiting (store thread). On a node of a cluster an account whose
        outbox another node leases has a receiver bound there: no outbind for it."""
        store = self._store
        leased = store.outbox_leases(now) if store.shared_by_nodes else {}
        return [a for a in accounts if a not in leased and store.outbox_for(a, 0, 1, now)]

    # --- on the event loop --------------------------------------------------------------------
    def use_targets(self, targets: dict[str, Account]) -> None:
        self._targets = targets

    def check(self) -> None:
        """Connect to every opted-in account with items waiting, no receiver and no outbind
        connection under way, whose pause after a failure is over."""
        self._forget_closed()
        now = self._clock.seconds()
        candidates = [a for a in self._targets
                      if not self._receiving(a) and a not in self._open
                      and self._next_try.get(a, 0.0) <= now]
        if not candidates:
            return
        d = self._worker.call(self._waiting, candidates, now)
        d.addCallback(self._connect_all)
        d.addErrback(lambda f: _log.failure("looking for waiting items failed", f))

    def _forget_closed(self) -> None:
        """Outbind connections that closed without a bind (a bind would have forgotten them
        already): the account pauses before the next try."""
        for account, conn in list(self._open.items()):
            if conn is not None and not self._is_open(conn):
                del self._open[account]
                self._back_off(account)

    def _connect_all(self, accounts: list[str]) -> None:
        for account in accounts:
            target = self._targets.get(account)
            if target is None or self._receiving(account) or account in self._open:
                continue
            self._connect(target)

    def _connect(self, account: Account) -> None:
        self.attempts += 1
        self._open[account.system_id] = None
        try:
            endpoint = endpoints.clientFromString(  # type: ignore[no-untyped-call]
                self._reactor, account.outbind_to)
        except (ValueError, TypeError, KeyError) as e:
            _log.error("{account}: outbind_to {to!r} is not a client endpoint: {error}",
                       account=account.system_id, to=account.outbind_to, error=str(e))
            del self._open[account.system_id]
            self._back_off(account.system_id)
            return
        d = endpoint.connect(self._factory())
        d.addCallbacks(self._connected, self._failed, callbackArgs=(account,),
                       errbackArgs=(account,))

    def _connected(self, conn: SmppServerProtocol, account: Account) -> None:
        self._open[account.system_id] = conn
        _log.info("{account}: outbind to {to}", account=account.system_id, to=account.outbind_to)
        conn.send_request(pdus.Outbind(system_id=self._system_id,
                                       password=account.outbind_password))

    def _failed(self, failure: Failure, account: Account) -> None:
        self._open.pop(account.system_id, None)
        self._back_off(account.system_id)
        _log.info("{account}: outbind to {to} failed ({error}); next try in {pause:.0f} s",
                  account=account.system_id, to=account.outbind_to,
                  error=failure.getErrorMessage(),
                  pause=self._next_try[account.system_id] - self._clock.seconds())

    def _back_off(self, account: str) -> None:
        failures = self._failures.get(account, 0) + 1
        self._failures[account] = failures
        pause = min(self.retry_max, self.retry_min * 2.0 ** min(failures - 1, 30))
        self._next_try[account] = self._clock.seconds() + pause

    def receiver_bound(self, account: str) -> None:
        """A receiver of ``account`` bound (on an outbind connection or any other)."""
        self._open.pop(account, None)
        self._failures.pop(account, None)
        self._next_try.pop(account, None)
