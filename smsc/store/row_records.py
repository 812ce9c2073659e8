"""Rows to records for the SQL stores (SQLite, PostgreSQL), and the SQL text both write alike.

Both stores' tables have the same columns in the same order, so a row converts to a record the
same way on either; what differs between them is the placeholder (``?`` or ``%s``), which the
query builders here take. No driver is imported here (:mod:`smsc.store.sqlite_rows` holds the
messages' and outbox's conversions)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from smsc.store.base import StoreError
from smsc.store.campaign_records import Campaign, CampaignMark, CampaignState, MarkState
from smsc.store.contact_records import MAX_PAGE, ContactList
from smsc.store.http_records import ApiKey, IdempotentAnswer
from smsc.store.records import (
    Bucket,
    LedgerEntry,
    LedgerKind,
    Lock,
    LockKind,
    MessageFilter,
    SummaryRow,
)

LEDGER_COLUMNS = ("id, owner, at, kind, bucket, amount, balance_after, account, message_id, "
                  "note")
LOCK_COLUMNS = "kind, system_id, address, failures, locked_until, last_failed_at"
CAMPAIGN_COLUMNS = ("id", "account", "name", "lists", "template", "source", "start_at",
                    "window_start", "window_end", "throughput", "validity",
                    "registered_delivery", "state", "pause_reason", "cursor_list",
                    "cursor_contact", "created_at", "updated_at")
SELECT_CAMPAIGN = f"SELECT {', '.join(CAMPAIGN_COLUMNS)} FROM campaigns"
MARK_COLUMNS = "number, state, list_id, contact_id, message_id, note, due_at, at"
LIST_COLUMNS = "l.id, l.account, l.name, l.country, l.columns, l.created_at"
LIST_SIZE = "(SELECT count(*) FROM contacts c WHERE c.list_id = l.id)"
KEY_COLUMNS = "key_id, account, secret_hash, created_at, last_used_at, revoked_at, note"
ANSWER_COLUMNS = ("account, key, fingerprint, created_at, expires_at, lease_until, status, "
                  "content_type, body")
_SUMMARY_GROUPS = {"account": "account", "operator": "operator", "state": "state",
                   "route": "route"}


def ledger_entry_of(r: Sequence[Any]) -> LedgerEntry:
    """A LedgerEntry from a row of LEDGER_COLUMNS."""
    return LedgerEntry(id=r[0], owner=r[1], at=r[2], kind=LedgerKind(r[3]), bucket=Bucket(r[4]),
                       amount=r[5], balance_after=r[6], account=r[7] or "", message_id=r[8],
                       note=r[9] or "")


def lock_of(r: Sequence[Any]) -> Lock:
    """A Lock from a row of LOCK_COLUMNS."""
    return Lock(kind=LockKind(r[0]), system_id=r[1], address=r[2], failures=r[3],
                locked_until=r[4], last_failed_at=r[5])


def campaign_of(row: Sequence[Any]) -> Campaign:
    """A Campaign from a row of CAMPAIGN_COLUMNS (its lists are a JSON array)."""
    values = dict(zip(CAMPAIGN_COLUMNS, row, strict=True))
    values["lists"] = tuple(json.loads(values["lists"]))
    values["state"] = CampaignState(values["state"])
    return Campaign(**values)


def new_campaign_row(campaign: Campaign, now: float) -> dict[str, Any]:
    """The column values of a new campaign (a draft at its start), by name, without its id."""
    values = {name: getattr(campaign, name) for name in CAMPAIGN_COLUMNS[1:]}
    values.update(lists=json.dumps(list(campaign.lists)), state=CampaignState.DRAFT.value,
                  pause_reason="", cursor_list=0, cursor_contact=0, created_at=now,
                  updated_at=now)
    return values


def campaign_mark_of(row: Sequence[Any]) -> CampaignMark:
    """A CampaignMark from a row of MARK_COLUMNS."""
    return CampaignMark(number=row[0], state=MarkState(row[1]), list_id=row[2],
                        contact_id=row[3], message_id=row[4], note=row[5], due_at=row[6],
                        at=row[7])


def contact_list_of(row: Sequence[Any]) -> ContactList:
    """A ContactList from a row of LIST_COLUMNS (and LIST_SIZE, where read)."""
    return ContactList(id=row[0], account=row[1], name=row[2], country=row[3] or "",
                       columns=tuple(json.loads(row[4] or "[]")), created_at=row[5],
                       size=int(row[6]) if len(row) > 6 else 0)


def page_size(limit: int) -> int:
    """A page's row count: ``limit`` held to 0..MAX_PAGE."""
    return max(0, min(limit, MAX_PAGE))


def api_key_of(row: Sequence[Any]) -> ApiKey:
    """An ApiKey from a row of KEY_COLUMNS."""
    return ApiKey(key_id=row[0], account=row[1], secret_hash=row[2], created_at=row[3],
                  last_used_at=row[4], revoked_at=row[5], note=row[6] or "")


def answer_of(row: Sequence[Any]) -> IdempotentAnswer:
    """An IdempotentAnswer from a row of ANSWER_COLUMNS."""
    return IdempotentAnswer(account=row[0], key=row[1], fingerprint=row[2], created_at=row[3],
                            expires_at=row[4], lease_until=row[5], status=row[6],
                            content_type=row[7], body=bytes(row[8]))


def filter_where(query: MessageFilter, mark: str) -> tuple[str, list[Any]]:
    """The WHERE clause (or "") of a message filter and its parameters; ``mark`` is the
    driver's placeholder. Only column names from this function enter the text."""
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in (("account", query.account), ("state", query.state),
                          ("operator", query.operator), ("message_id", query.message_id)):
        if value is not None:
            clauses.append(f"{column} = {mark}")
            params.append(value)
    if query.since is not None:
        clauses.append(f"submitted_at >= {mark}")
        params.append(query.since)
    if query.until is not None:
        clauses.append(f"submitted_at < {mark}")
        params.append(query.until)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def summary_columns(group_by: Sequence[str]) -> list[str]:
    """The columns a summary groups by, for the names asked for (StoreError for others)."""
    columns = []
    for g in group_by:
        if g not in _SUMMARY_GROUPS:
            raise StoreError(f"cannot group by {g!r}; use account, operator, state or route")
        columns.append(_SUMMARY_GROUPS[g])
    return columns


def summary_rows(width: int, grouped: bool, head: Sequence[Sequence[Any]],
                 states: Sequence[Sequence[Any]]) -> list[SummaryRow]:
    """A summary from its two queries' rows: ``head`` (the key columns, parts, messages,
    charged, refunded) and ``states`` (the key columns, state, parts); ``width`` key columns
    (one, an empty string, where not ``grouped``)."""
    per_key: dict[tuple[str, ...], dict[int, int]] = {}
    for r in states:
        key = tuple(str(v) for v in r[:width]) if grouped else ()
        per_key.setdefault(key, {})[r[width]] = r[width + 1]
    out = []
    for r in head:
        key = tuple(str(v) for v in r[:width]) if grouped else ()
        parts, messages, charged, refunded = r[width:]
        out.append(SummaryRow(key=key, parts=parts, messages=messages, charged=charged or 0,
                              refunded=refunded or 0, states=per_key.get(key, {})))
    return sorted(out, key=lambda row: row.key)
