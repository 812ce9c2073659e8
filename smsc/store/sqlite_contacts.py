"""Contact lists and opt-outs in the SQLite store: their tables and the Store methods on them.

:class:`SqliteContacts` is a mixin of :class:`smsc.store.sqlite.SqliteStore`; it uses the
store's ``_write`` (one IMMEDIATE transaction) and ``_read``. A contact's fields are one JSON
object; a list's columns one JSON array. Every read is a page (at most MAX_PAGE rows).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import sqlite_utils

from smsc.store.base import ContactListExists
from smsc.store.contact_records import MAX_PAGE, Contact, ContactList
from smsc.store.sql_parts import SqlStoreParts


def create_contact_tables(db: sqlite_utils.Database) -> None:
    """The tables of contact lists, contacts and opt-outs, if missing (an older database gets
    them when opened)."""
    db.execute("CREATE TABLE IF NOT EXISTS contact_lists (id INTEGER PRIMARY KEY AUTOINCREMENT, "
               "account TEXT NOT NULL, name TEXT NOT NULL, country TEXT NOT NULL DEFAULT '', "
               "columns TEXT NOT NULL DEFAULT '[]', created_at FLOAT NOT NULL, "
               "UNIQUE (account, name))")
    # AUTOINCREMENT: contact ids are cursors and grow in the order contacts were added.
    db.execute("CREATE TABLE IF NOT EXISTS contacts (id INTEGER PRIMARY KEY AUTOINCREMENT, "
               "list_id INTEGER NOT NULL, number TEXT NOT NULL, fields TEXT NOT NULL, "
               "UNIQUE (list_id, number))")
    db.execute("CREATE INDEX IF NOT EXISTS contacts_page ON contacts (list_id, id)")
    db.execute("CREATE TABLE IF NOT EXISTS opt_outs (account TEXT NOT NULL, number TEXT NOT NULL, "
               "at FLOAT NOT NULL, note TEXT NOT NULL DEFAULT '', PRIMARY KEY (account, number))")


def _chunks(items: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class SqliteContacts(SqlStoreParts[sqlite3.Connection]):
    """The contact-list and opt-out methods of the Store protocol, on SQLite."""

    if TYPE_CHECKING:  # PortableLists'
        def _add_columns(self, conn: Any, list_id: int, columns: Sequence[str]) -> None: ...

    def create_contact_list(self, account: str, name: str, *, country: str = "",
                            now: float) -> ContactList:
        with self._write() as conn:
            self._require_account(conn, account)
            try:
                cursor = conn.execute("INSERT INTO contact_lists (account, name, country, "
                                      "columns, created_at) VALUES (?, ?, ?, '[]', ?)",
                                      (account, name, country, now))
            except sqlite3.IntegrityError:
                raise ContactListExists(f"account {account!r} has a list {name!r}") from None
            list_id = int(cursor.lastrowid or 0)
        return ContactList(id=list_id, account=account, name=name, country=country,
                           created_at=now)

    def add_contacts(self, list_id: int, contacts: Sequence[Contact],
                     columns: Sequence[str] = ()) -> list[bool]:
        added: list[bool] = []
        with self._write() as conn:
            self._add_columns(conn, list_id, columns)
            insert = ("INSERT OR IGNORE INTO contacts (list_id, number, fields) "
                      "VALUES (?, ?, ?)")
            for contact in contacts:
                cursor = conn.execute(insert, (list_id, contact.number,
                                               json.dumps(dict(contact.fields),
                                                          ensure_ascii=False)))
                added.append(cursor.rowcount > 0)
        return added

    def contacts_present(self, list_ids: Sequence[int], numbers: Sequence[str]) -> set[str]:
        found: set[str] = set()
        ids = list(dict.fromkeys(list_ids))
        if not ids or not numbers:
            return found
        marks = ", ".join("?" * len(ids))
        for chunk in _chunks(list(numbers[:MAX_PAGE])):
            rows = self._read(f"SELECT DISTINCT number FROM contacts WHERE list_id IN ({marks}) "
                              f"AND number IN ({', '.join('?' * len(chunk))})",
                              [*ids, *chunk])
            found.update(r[0] for r in rows)
        return found

    def remove_contacts(self, list_id: int, numbers: Sequence[str]) -> int:
        removed = 0
        with self._write() as conn:
            for chunk in _chunks(list(numbers)):
                removed += conn.execute(
                    f"DELETE FROM contacts WHERE list_id = ? AND number IN "
                    f"({', '.join('?' * len(chunk))})", [list_id, *chunk]).rowcount
        return removed

    def opt_out(self, account: str, number: str, now: float, note: str = "") -> bool:
        with self._write() as conn:
            added = conn.execute("INSERT OR IGNORE INTO opt_outs (account, number, at, note) "
                                 "VALUES (?, ?, ?, ?)", (account, number, now, note)).rowcount > 0
            if added:  # a running server's sends read the account's list again
                self._bump_changes(conn)
            return added

    def opted_out(self, account: str, numbers: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(list(numbers[:MAX_PAGE])):
            rows = self._read(f"SELECT number FROM opt_outs WHERE account = ? AND number IN "
                              f"({', '.join('?' * len(chunk))})", [account, *chunk])
            found.update(r[0] for r in rows)
        return found
