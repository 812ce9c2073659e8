"""SQL text and row conversions of the PostgreSQL store.

Rows convert to records exactly as SQLite's do (:mod:`smsc.store.sqlite_rows`, which imports no
driver): the tables have the same columns, in the same order, plus the claims' leases."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from smsc.store.columns import MESSAGE_COLUMNS, OUTBOX_COLUMNS
from smsc.store.records import Account, OutboxItem
from smsc.store.sqlite_rows import (
    MESSAGE_FIELDS,
    account_from_row,
    account_to_row,
    id_runs,
    make_outbox,
    message_from_row,
    new_message_row,
    outbox_from_row,
)

SELECT_MESSAGE = f"SELECT {', '.join(MESSAGE_FIELDS)} FROM messages"
# The columns rows are inserted into, with their Python types (postgres_batch.insert_rows).
MESSAGE_INSERTED: dict[str, type] = {**MESSAGE_COLUMNS}  # (id, *new_message_row(...))
assert tuple(MESSAGE_INSERTED) == (*MESSAGE_FIELDS, "hot")
SELECT_OUTBOX = f"SELECT {', '.join(OUTBOX_COLUMNS)} FROM outbox"
OUTBOX_INSERTED: dict[str, type] = {**OUTBOX_COLUMNS}  # outbox_row's
LEDGER_INSERTED: dict[str, type] = {
    "owner": str, "at": float, "kind": int, "bucket": int, "amount": int, "balance_after": int,
    "account": str, "message_id": int, "note": str}  # a LedgerRow's
ACCOUNT_COLUMNS = ("system_id", "password_hash", "parent", "created_at", "settings")
SELECT_ACCOUNT = f"SELECT {', '.join(ACCOUNT_COLUMNS)} FROM accounts"


def outbox_row(item_id: int, i: OutboxItem) -> tuple[Any, ...]:
    """The row of an outbox item under ``item_id`` (OUTBOX_COLUMNS' order)."""
    return (item_id, i.account, int(i.kind), i.pdu, i.created_at, i.expires_at, i.message_id,
            i.attempts, i.not_before, i.hook_url, i.hook_style)


def stored_outbox(ids: Sequence[int], items: Sequence[OutboxItem]) -> list[OutboxItem]:
    """The items as stored under ``ids``."""
    return [make_outbox(item_id, i.account, i.kind, i.pdu, i.created_at, i.expires_at,
                        i.message_id, i.attempts, i.not_before, i.hook_url, i.hook_style)
            for item_id, i in zip(ids, items, strict=True)]


def account_of(row: Sequence[Any]) -> Account:
    """An Account from a row of SELECT_ACCOUNT."""
    return account_from_row(dict(zip(ACCOUNT_COLUMNS, row, strict=True)))


__all__ = ["LEDGER_INSERTED", "MESSAGE_INSERTED", "OUTBOX_INSERTED", "SELECT_ACCOUNT",
           "SELECT_MESSAGE", "SELECT_OUTBOX", "account_of", "account_to_row", "id_runs",
           "message_from_row", "new_message_row", "outbox_from_row", "outbox_row",
           "stored_outbox"]
