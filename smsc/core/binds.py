"""Binds: who may bind, which failed binds count toward which lock, and what the log says.

The lockout rules (what smsc promises):

- A wrong password counts against the (account, address) pair. After ``lock_after`` in a row
  (``server.lock_after``, default 3; an account's own ``lock_after`` overrides it; the test
  account's is ``test_account.lock_after``, default 0: never) that pair is locked for
  ``lock_for`` (default 3 h): the account from that address only. A stranger elsewhere cannot
  lock a customer out, and a developer's typos lock only their own address out of that account.
- An account whose ``lock_scope`` is ``account`` (it asked for it) also counts wrong passwords
  from every address against the whole account, locked after the same number.
- An unknown system_id counts against the address it came from; after
  ``server.unknown_id_lock_after`` in a row (default 10; 0: never) every bind from that
  address is refused for ``lock_for``.
- A successful bind resets the pair's, the account's and the address's counts. A count whose
  last failure is older than ``lock_for`` is forgotten, and so is a lock that has run out
  (:meth:`BindDesk.purge`, once a minute); counts not locking anything are kept to at most
  ``max_counters`` rows, the oldest forgotten first.
- While locked, binds get ESME_RBINDFAIL and the password is not checked (so it neither counts
  nor extends the lock, and reveals nothing); the verdict's reason, which the server logs, names
  the lock, when it ends and the command that lifts it.

An account has at most ``max_binds`` binds open at once: a bind past them is refused with
ESME_RBINDFAIL (it counts toward no lock). The binds are counted where they are kept, on the
event loop, so :func:`admit` decides this last rule there, as the bind would be registered.

A bind is decided in four steps so the password hash (scrypt, milliseconds of CPU) runs in a
pool of its own, neither on the event loop nor on the store thread: :meth:`BindDesk.check`
(store thread: the account and its locks; locked binds end here) ->
:func:`smsc.routing.accounts.password_matches` (hash pool) -> :meth:`BindDesk.finish` (store
thread: count the failure or reset the counts) -> :func:`admit` (the binds open).
:meth:`BindDesk.authenticate` does all four on one thread.
"""

from __future__ import annotations

import ipaddress
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from smsc.core.shares import DEFAULT_SHARE_POLICY, SharedBucket, SharePolicy, account_key
from smsc.core.submit import BindContext
from smsc.pdu.constants import CommandStatus, standard_status
from smsc.routing.accounts import (
    address_allowed,
    lock_in_force,
    password_matches,
    status_after_password,
)
from smsc.routing.throttle import TokenBucket
from smsc.store.base import Store
from smsc.store.records import Account, BindLocks, BindType, LockKind, LockScope, LockState

S = CommandStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class LockPolicy:
    lock_after: int = 3  # wrong passwords in a row per (account, address); 0: never
    lock_for: float = 3 * 3600.0
    unknown_id_lock_after: int = 10  # unknown system_ids in a row per address; 0: never
    test_account_lock_after: int = 0  # the test account's lock_after (integrators test with it)
    max_counters: int = 100_000  # counts that lock nothing (yet) kept at most

    def lock_after_for(self, account: Account) -> int:
        """Wrong passwords in a row that lock ``account`` (0: never)."""
        if account.lock_after is not None:
            return account.lock_after
        return self.test_account_lock_after if account.test_account else self.lock_after


DEFAULT_LOCK_POLICY = LockPolicy()


@dataclass(frozen=True, slots=True, kw_only=True)
class BindVerdict:
    status: int
    account: Account | None = None
    reason: str = ""
    logged: bool = False  # the refusal has been logged already (the server need not)
    delay: float = 0.0  # seconds to hold the answer back (a refusal for the server's limits)
    new_lock: bool = False  # this refusal set a lock (its log line must not be left out)

    @property
    def answered(self) -> int:
        """The status sent: standard SMPP only if the account asks for it."""
        account = self.account
        if account is not None and account.standard_statuses:
            return standard_status(self.status)
        return self.status


@dataclass(frozen=True, slots=True, kw_only=True)
class BindCheck:
    """What the store says about a bind before its password is checked. ``refused`` is set
    when the bind is refused whatever the password (a lock, an address not allowed)."""

    system_id: str
    address: str
    account: Account | None
    locks: BindLocks
    refused: BindVerdict | None = None


def admit(verdict: BindVerdict, open_binds: int) -> BindVerdict:
    """The verdict once the account's binds open now are counted: a bind the credentials let
    in is refused with ESME_RBINDFAIL when the account has ``max_binds`` open already."""
    account = verdict.account
    if verdict.status != S.ESME_ROK or account is None or open_binds < account.max_binds:
        return verdict
    return BindVerdict(status=S.ESME_RBINDFAIL, account=account,
                       reason=f"{open_binds} binds open already (the account's max_binds is "
                              f"{account.max_binds})")


def canonical_address(address: str) -> str:
    """The address as locks are kept: IPv4-mapped IPv6 as IPv4, IPv6 in its short form."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def unlock_command(kind: LockKind, system_id: str, address: str) -> str:
    """The CLI command that lifts a lock."""
    if kind == LockKind.ACCOUNT:
        return f"smsc account unlock {shlex.quote(system_id)}"
    if kind == LockKind.ADDRESS:
        return f"smsc account unlock --address {address}"
    return f"smsc account unlock {shlex.quote(system_id)} --address {address}"


def describe_lock(kind: LockKind, system_id: str, address: str, state: LockState) -> str:
    """One line for the log: which lock, until when, and how to lift it."""
    until = datetime.fromtimestamp(state.locked_until, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    if kind == LockKind.ACCOUNT:
        what = f"account {system_id!r} is locked (from every address)"
    elif kind == LockKind.ADDRESS:
        what = f"address {address} is locked (for every system_id, after unknown system_ids)"
    else:
        what = f"account {system_id!r} from {address} is locked (after wrong passwords)"
    return f"{what} until {until}; lift it with `{unlock_command(kind, system_id, address)}`"


class BindDesk:
    """The bind use case on a store; its methods run on the store thread."""

    def __init__(self, store: Store, policy: LockPolicy = DEFAULT_LOCK_POLICY) -> None:
        self.store = store
        self.policy = policy

    def check(self, system_id: str, address: str, now: float) -> BindCheck:
        """The account and its locks; a refusal when the bind fails whatever the password."""
        address = canonical_address(address)
        store = self.store
        locks = store.bind_locks(system_id, address)
        account = store.get_account(system_id)
        check = BindCheck(system_id=system_id, address=address, account=account, locks=locks)
        kind = lock_in_force(account, locks, now)
        if kind is not None:
            state = {LockKind.ACCOUNT: locks.account, LockKind.PAIR: locks.pair,
                     LockKind.ADDRESS: locks.address}[kind]
            reason = "locked: " + describe_lock(kind, system_id, address, state)
            refused = BindVerdict(status=S.ESME_RBINDFAIL, reason=reason)
        elif account is not None and not address_allowed(account, address):
            refused = BindVerdict(status=S.ESME_RBINDFAIL,
                                  reason=f"{address} is not among the account's allowed addresses")
        else:
            return check
        return BindCheck(system_id=system_id, address=address, account=account, locks=locks,
                         refused=refused)

    def finish(self, check: BindCheck, password_ok: bool, bind_type: BindType,
               now: float) -> BindVerdict:
        """The verdict once the password has been checked: failures counted (and locks set),
        or, on success, the counts reset."""
        if check.refused is not None:
            return check.refused
        account = check.account
        status = status_after_password(account, password_ok=password_ok, bind_type=bind_type)
        name = CommandStatus.name_of(status)
        if status == S.ESME_RINVSYSID:
            said, locked = self._unknown_failed(check, now)
            return BindVerdict(status=status, reason=name + said, new_lock=locked)
        if status == S.ESME_RINVPASWD:
            assert account is not None
            said, locked = self._password_failed(check, account, now)
            return BindVerdict(status=status, reason=name + said, new_lock=locked)
        if status != S.ESME_ROK:
            return BindVerdict(status=status, reason=name)
        if check.locks.failures:
            self.store.bind_succeeded(check.system_id, check.address, now)
        return BindVerdict(status=status, account=account)

    def authenticate(self, system_id: str, password: str, bind_type: BindType, address: str,
                     now: float, open_binds: int = 0) -> BindVerdict:
        """:meth:`check`, the password, :meth:`finish` and :func:`admit` with ``open_binds``
        (the account's binds open now) in one call, on one thread."""
        check = self.check(system_id, address, now)
        if check.refused is not None:
            return check.refused
        verdict = self.finish(check, password_matches(check.account, password), bind_type, now)
        return admit(verdict, open_binds)

    def purge(self, now: float) -> int:
        """Forget locks that have run out and counts too old to matter; how many rows went."""
        policy = self.policy
        return self.store.purge_locks(now, now - policy.lock_for, policy.max_counters)

    # --- counting failures ------------------------------------------------------------------
    def _unknown_failed(self, check: BindCheck, now: float) -> tuple[str, bool]:
        lock_after = self.policy.unknown_id_lock_after
        state = self.store.bind_failed(LockKind.ADDRESS, "", check.address, now, lock_after,
                                       self.policy.lock_for)
        return self._counted(LockKind.ADDRESS, check, state, lock_after, now,
                             "unknown system_id")

    def _password_failed(self, check: BindCheck, account: Account,
                         now: float) -> tuple[str, bool]:
        policy = self.policy
        lock_after = policy.lock_after_for(account)
        store = self.store
        state = store.bind_failed(LockKind.PAIR, account.system_id, check.address, now,
                                  lock_after, policy.lock_for)
        said, locked = self._counted(LockKind.PAIR, check, state, lock_after, now,
                                     "wrong password")
        if account.lock_scope == LockScope.ACCOUNT:
            state = store.bind_failed(LockKind.ACCOUNT, account.system_id, "", now, lock_after,
                                      policy.lock_for)
            more, account_locked = self._counted(LockKind.ACCOUNT, check, state, lock_after,
                                                 now, "wrong password from any address")
            said, locked = said + more, locked or account_locked
        return said, locked

    @staticmethod
    def _counted(kind: LockKind, check: BindCheck, state: LockState, lock_after: int,
                 now: float, what: str) -> tuple[str, bool]:
        """The count to log, and whether this failure set the lock."""
        if lock_after <= 0:
            return "", False
        count = f" ({what} {min(state.failures, lock_after)} of {lock_after} in a row)"
        if state.locked(now) and state.failures == lock_after:
            lock = describe_lock(kind, check.system_id, check.address, state)
            return f"{count}; now {lock}", True
        return count, False

class Throttles:
    """Each account's throughput bucket, shared by all its binds (and any other caller acting
    for it): the context a submit is prepared in. A new bucket when the account's throughput or
    burst changed (the bucket's own rules say what they make of the account's settings).

    On one node the buckets are :class:`TokenBucket` in memory. With ``ask`` (a node of a
    cluster) they are :class:`smsc.core.shares.SharedBucket`: shares of a bucket kept in the
    store, ``ask`` called with a bucket whose share runs low (the server fetches more on the
    store thread). Event loop only."""

    def __init__(self, ask: Callable[[SharedBucket], None] | None = None,
                 policy: SharePolicy = DEFAULT_SHARE_POLICY) -> None:
        # account -> (throughput, burst) as the account had them, its bucket
        self._buckets: dict[str, tuple[tuple[float, int], TokenBucket | SharedBucket]] = {}
        # account -> the record last asked for, its context (the same record: the same context)
        self._callers: dict[str, tuple[Account, BindContext]] = {}
        self._ask = ask
        self._policy = policy

    @property
    def shared(self) -> bool:
        return self._ask is not None

    def throttle(self, account: Account) -> TokenBucket | SharedBucket | None:
        if account.throughput <= 0:
            return None
        settings = (account.throughput, account.burst)
        kept = self._buckets.get(account.system_id)
        if kept is not None and kept[0] == settings:  # nothing built for an unchanged account
            return kept[1]
        bucket: TokenBucket | SharedBucket
        if self._ask is None:
            bucket = TokenBucket.for_account(account)
        else:
            bucket = SharedBucket(account_key(account.system_id), account.throughput,
                                  account.burst, self._ask, self._policy)
        if kept is not None and (kept[1].rate, kept[1].burst) == (bucket.rate, bucket.burst):
            bucket = kept[1]  # the same bucket by its own rules: its tokens kept
        self._buckets[account.system_id] = (settings, bucket)
        return bucket

    def caller(self, account: Account) -> BindContext:
        """Who submits: ``account`` with its throttle (one context per account record and
        bucket, not one per call)."""
        throttle = self.throttle(account)
        kept = self._callers.get(account.system_id)
        if kept is not None and kept[0] is account and kept[1].throttle is throttle:
            return kept[1]
        context = BindContext(account=account, throttle=throttle)
        if len(self._callers) >= _MAX_CALLERS and account.system_id not in self._callers:
            self._callers.clear()  # bounded: rebuilt as accounts submit again
        self._callers[account.system_id] = (account, context)
        return context


_MAX_CALLERS = 100_000


__all__ = ["DEFAULT_LOCK_POLICY", "BindCheck", "BindDesk", "BindVerdict", "LockPolicy", "Throttles",
           "admit", "canonical_address", "describe_lock", "unlock_command"]
