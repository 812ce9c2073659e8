"""Contact lists and opt-outs in the PostgreSQL store: a mixin of
:class:`smsc.store.postgres.PostgresStore` (tables in :mod:`smsc.store.postgres_schema`). A
contact's fields are one JSON object; a list's columns one JSON array. Every read is a page (at
most MAX_PAGE rows)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import psycopg

from smsc.store.base import ContactListExists
from smsc.store.contact_records import MAX_PAGE, Contact, ContactList
from smsc.store.sql_parts import SqlStoreParts


class PostgresContacts(SqlStoreParts[psycopg.Connection[Any]]):
    """The contact-list and opt-out methods of the Store protocol, on PostgreSQL."""

    if TYPE_CHECKING:  # PortableLists'
        def _add_columns(self, conn: Any, list_id: int, columns: Sequence[str]) -> None: ...

    def create_contact_list(self, account: str, name: str, *, country: str = "",
                            now: float) -> ContactList:
        with self._write() as conn:
            self._require_account(conn, account)
            row = conn.execute("INSERT INTO contact_lists (account, name, country, columns, "
                               "created_at) VALUES (%s, %s, %s, '[]', %s) "
                               "ON CONFLICT DO NOTHING RETURNING id",
                               (account, name, country, now)).fetchone()
            if row is None:
                raise ContactListExists(f"account {account!r} has a list {name!r}")
        return ContactList(id=int(row[0]), account=account, name=name, country=country,
                           created_at=now)

    def add_contacts(self, list_id: int, contacts: Sequence[Contact],
                     columns: Sequence[str] = ()) -> list[bool]:
        with self._write() as conn:
            self._add_columns(conn, list_id, columns)
            if not contacts:
                return []
            # One statement for the batch: WITH ORDINALITY keeps the batch order for the ids;
            # a number met before (stored, or earlier in the batch) is left out.
            numbers = [c.number for c in contacts]
            rows = conn.execute(
                "INSERT INTO contacts (list_id, number, fields) SELECT %s, n, f FROM "
                "(SELECT DISTINCT ON (n) n, f, o FROM unnest(%s::text[], %s::text[]) "
                "WITH ORDINALITY AS b(n, f, o) ORDER BY n, o) AS firsts "
                "WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.list_id = %s "
                "AND c.number = firsts.n) ORDER BY o "
                "ON CONFLICT DO NOTHING RETURNING number",
                (list_id, numbers,
                 [json.dumps(dict(c.fields), ensure_ascii=False) for c in contacts],
                 list_id)).fetchall()
        added = {r[0] for r in rows}
        out: list[bool] = []
        for number in numbers:
            out.append(number in added)
            added.discard(number)  # a later duplicate in the batch was not added
        return out

    def contacts_present(self, list_ids: Sequence[int], numbers: Sequence[str]) -> set[str]:
        ids = list(dict.fromkeys(list_ids))
        if not ids or not numbers:
            return set()
        return {r[0] for r in self._read(
            "SELECT DISTINCT number FROM contacts WHERE list_id = ANY(%s) "
            "AND number = ANY(%s)", (ids, list(numbers[:MAX_PAGE])))}

    def remove_contacts(self, list_id: int, numbers: Sequence[str]) -> int:
        with self._write() as conn:
            return conn.execute("DELETE FROM contacts WHERE list_id = %s AND number = ANY(%s)",
                                (list_id, list(numbers))).rowcount

    def opt_out(self, account: str, number: str, now: float, note: str = "") -> bool:
        with self._write() as conn:
            added = conn.execute("INSERT INTO opt_outs (account, number, at, note) "
                                 "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                                 (account, number, now, note)).rowcount > 0
            if added:  # every node's sends read the account's list again
                self._bump_changes(conn)
            return added

    def opted_out(self, account: str, numbers: Sequence[str]) -> set[str]:
        if not numbers:
            return set()
        return {r[0] for r in self._read(
            "SELECT number FROM opt_outs WHERE account = %s AND number = ANY(%s)",
            (account, list(numbers[:MAX_PAGE])))}
