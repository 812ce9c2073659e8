"""Conversions between store records and SQL rows (SQLite's, and PostgreSQL's through
:mod:`smsc.store.postgres_rows`); no driver is imported here."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from operator import attrgetter
from typing import Any

from smsc.slotted import slot_constructor
from smsc.store.columns import MESSAGE_COLUMNS, OUTBOX_COLUMNS
from smsc.store.records import (
    Account,
    BindType,
    BlacklistMode,
    FinalAtAcceptance,
    LockScope,
    NewMessage,
    OutboxItem,
    OutboxKind,
    StoredMessage,
)

ENROUTE = 1  # MessageState.ENROUTE: stored and waiting in its operator queue

# Every column but ``hot`` (which process holds a part in memory: the store's business only).
MESSAGE_FIELDS = tuple(c for c in MESSAGE_COLUMNS if c != "hot")
SELECT_MESSAGE = f"SELECT {', '.join(MESSAGE_FIELDS)} FROM messages"
INSERT_MESSAGE = (f"INSERT INTO messages ({', '.join(MESSAGE_FIELDS[1:])}, hot) "
                  f"VALUES ({', '.join('?' * len(MESSAGE_FIELDS))})")
SELECT_OUTBOX = f"SELECT {', '.join(OUTBOX_COLUMNS)} FROM outbox"

# The NewMessage fields in column order, up to the first one the store computes itself.
_NEW_HEAD: Callable[[NewMessage], tuple[Any, ...]] = attrgetter(
    *MESSAGE_FIELDS[1:MESSAGE_FIELDS.index("charged_subscription")])
_NEW_TIMES: Callable[[NewMessage], tuple[Any, ...]] = attrgetter(
    "submitted_at", "scheduled_at", "expires_at", "next_at")

_ACCOUNT_SETTINGS = (
    "currency", "enabled", "max_binds", "throughput", "burst", "require_registered_sender",
    "default_sender", "max_parts", "receipt_ttl", "receipt_per_message",
    "recipient_local_time", "refund_failed", "test_account", "outbind_to", "outbind_password",
    "strict_numbers",
    "hold_incomplete_sets",
    "standard_statuses",
    "lock_after",
    "webhook_url",
    "webhook_secret",
)


def new_message_row(m: NewMessage, from_subscription: int, from_bought: int, hot: int,
                    decided: FinalAtAcceptance | None = None) -> tuple[Any, ...]:
    """The row of an accepted part: waiting in its queue (held by generation ``hot``, or 0), or
    with ``decided`` already final and out of every queue."""
    if decided is None:
        times: tuple[Any, ...] = (*_NEW_TIMES(m), ENROUTE, 0, None, 0)
    else:
        times = (m.submitted_at, m.scheduled_at, m.expires_at, None, decided.state,
                 decided.attempts, decided.done_at, decided.error_code)
        hot = 0
    return (*_NEW_HEAD(m), from_subscription, from_bought, *times, m.text_snippet,
            int(m.blacklisted), None, m.forced_state, m.forced_error, m.hook_url, m.hook_style,
            m.reference, hot)


def id_runs(ids: Sequence[int]) -> list[tuple[int, int]]:
    """The ids as (first, last) runs of consecutive numbers, in increasing order."""
    runs: list[tuple[int, int]] = []
    ordered = sorted(set(ids))
    if not ordered:
        return runs
    first = last = ordered[0]
    for i in ordered[1:]:
        if i != last + 1:
            runs.append((first, last))
            first = i
        last = i
    runs.append((first, last))
    return runs


_make_message = slot_constructor(StoredMessage)
make_outbox = slot_constructor(OutboxItem)  # id, account, kind, pdu, ... (field order)
_FIELD_ORDER = tuple(f.name for f in dataclasses.fields(StoredMessage))
assert set(_FIELD_ORDER) == set(MESSAGE_FIELDS)
# Where each StoredMessage field sits in a row of SELECT_MESSAGE.
_POSITIONS = tuple(MESSAGE_FIELDS.index(name) for name in _FIELD_ORDER)
_BLACKLISTED, _REFUNDED, _FORCED_STATE, _FORCED_ERROR = (
    _FIELD_ORDER.index(n) for n in ("blacklisted", "refunded", "forced_state", "forced_error"))
_OUTBOX_KINDS = {int(k): k for k in OutboxKind}


def message_from_row(r: Sequence[Any]) -> StoredMessage:
    values = [r[i] for i in _POSITIONS]
    values[_BLACKLISTED] = bool(values[_BLACKLISTED])
    values[_REFUNDED] = values[_REFUNDED] or 0  # NULL: no refund decided yet
    values[_FORCED_STATE] = values[_FORCED_STATE] or 0
    values[_FORCED_ERROR] = values[_FORCED_ERROR] or 0
    return _make_message(*values)


def outbox_from_row(r: Sequence[Any]) -> OutboxItem:
    # OUTBOX_COLUMNS: id account kind pdu created_at expires_at message_id attempts not_before
    # hook_url hook_style
    return make_outbox(r[0], r[1], _OUTBOX_KINDS[r[2]], r[3], r[4], r[5], r[6], r[7],
                       r[8] or 0.0, r[9] or "", r[10] or 0)


def account_to_row(a: Account) -> dict[str, Any]:
    settings: dict[str, Any] = {name: getattr(a, name) for name in _ACCOUNT_SETTINGS}
    settings["allowed_ips"] = list(a.allowed_ips)
    settings["sender_ids"] = list(a.sender_ids)
    settings["bind_types"] = sorted(int(b) for b in a.bind_types)
    settings["blacklist_mode"] = int(a.blacklist_mode)
    settings["lock_scope"] = int(a.lock_scope)
    return {"system_id": a.system_id, "password_hash": a.password_hash, "parent": a.parent,
            "created_at": a.created_at, "settings": json.dumps(settings, sort_keys=True)}


def account_from_row(row: Mapping[str, Any]) -> Account:
    s = json.loads(row["settings"])
    known = {name: s[name] for name in _ACCOUNT_SETTINGS if name in s}
    return Account(
        system_id=row["system_id"], password_hash=row["password_hash"], parent=row["parent"],
        created_at=row["created_at"] or 0.0, **known,
        allowed_ips=tuple(s.get("allowed_ips", ())),
        sender_ids=tuple(s.get("sender_ids", ())),
        bind_types=frozenset(BindType(b) for b in s.get("bind_types", (1, 2, 3))),
        blacklist_mode=BlacklistMode(s.get("blacklist_mode", 1)),
        lock_scope=LockScope(s.get("lock_scope", 1)),
    )
