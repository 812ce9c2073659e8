"""The PostgreSQL store's blacklist, number portability and reports: a mixin of
:class:`smsc.store.postgres.PostgresStore` (see the methods' contract in
:mod:`smsc.store.base`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import psycopg

from smsc.store.postgres_rows import SELECT_MESSAGE, message_from_row
from smsc.store.records import (
    BlacklistEntry,
    MessageFilter,
    PortedNumber,
    StoredMessage,
    SummaryRow,
)
from smsc.store.row_records import filter_where, summary_columns, summary_rows
from smsc.store.sql_parts import SqlStoreParts

_PAGE = 2000  # rows a report reads per round trip


class PostgresReports(SqlStoreParts[psycopg.Connection[Any]]):
    """Mixed into :class:`smsc.store.postgres.PostgresStore`."""

    # --- blacklist and portability --------------------------------------------------------
    def add_blacklist(self, entries: Sequence[BlacklistEntry]) -> int:
        if not entries:
            return 0
        with self._write() as conn:
            added = conn.execute(
                "INSERT INTO blacklist (account, number, prefix, note) SELECT * FROM "
                "unnest(%s::text[], %s::text[], %s::integer[], %s::text[]) "
                "ON CONFLICT DO NOTHING",
                ([e.account for e in entries], [e.number for e in entries],
                 [int(e.prefix) for e in entries], [e.note for e in entries])).rowcount
            if added:
                self._bump_changes(conn)
            return added

    def add_ported(self, entries: Sequence[PortedNumber]) -> int:
        with self._write() as conn:
            if entries:
                conn.cursor().executemany(
                    "INSERT INTO ported (number, operator) VALUES (%s, %s) ON CONFLICT "
                    "(number) DO UPDATE SET operator = excluded.operator",
                    [(e.number, e.operator) for e in entries])
            self._bump_changes(conn)
        return len(entries)

    # --- reports --------------------------------------------------------------------------
    def messages(self, query: MessageFilter) -> Iterator[StoredMessage]:
        """Read page by page (by id), so a report over millions of parts holds one page."""
        where, params = filter_where(query, "%s")
        left = query.limit
        after = 0
        while left is None or left > 0:
            page = _PAGE if left is None else min(_PAGE, left)
            clause = (where + " AND" if where else " WHERE") + " id > %s"
            rows = self._read(SELECT_MESSAGE + clause + " ORDER BY id LIMIT %s",
                              [*params, after, page])
            for r in rows:
                yield message_from_row(r)
            if len(rows) < page:
                return
            after = rows[-1][0]
            if left is not None:
                left -= len(rows)

    def summary(self, group_by: Sequence[str], query: MessageFilter) -> list[SummaryRow]:
        columns = summary_columns(group_by)
        where, params = filter_where(query, "%s")
        keys = ", ".join(columns) if columns else "''::text"
        width = max(1, len(columns))
        by = ", ".join(str(n) for n in range(1, width + 1))  # the key columns, by position
        head = self._read(f"SELECT {keys}, count(*), count(DISTINCT message_id), "
                          f"sum(charged_subscription + charged_bought)::bigint, "
                          f"sum(refunded)::bigint FROM messages{where} GROUP BY {by}", params)
        states = self._read(f"SELECT {keys}, state, count(*) FROM messages{where} "
                            f"GROUP BY {by}, state", params)
        return summary_rows(width, bool(columns), head, states)
