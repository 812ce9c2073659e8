"""Campaigns in the SQLite store: their tables and the Store methods on them whose SQL is
SQLite's own.

:class:`SqliteCampaigns` is a mixin of :class:`smsc.store.sqlite.SqliteStore`; the methods
both SQL stores share (reads, ``accept_campaign``) are in
:class:`smsc.store.portable_lists.PortableLists`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlite_utils

from smsc.store.base import (
    CampaignExists,
    UnknownCampaign,
)
from smsc.store.campaign_records import Campaign, CampaignState, MarkState
from smsc.store.contact_records import MAX_PAGE
from smsc.store.row_records import new_campaign_row
from smsc.store.sql_parts import SqlStoreParts

_DONE = (MarkState.SENT.value, MarkState.SKIPPED.value)


def create_campaign_tables(db: sqlite_utils.Database) -> None:
    """The tables of campaigns and their contacts' marks, if missing."""
    db.execute("CREATE TABLE IF NOT EXISTS campaigns (id INTEGER PRIMARY KEY AUTOINCREMENT, "
               "account TEXT NOT NULL, name TEXT NOT NULL, lists TEXT NOT NULL, "
               "template TEXT NOT NULL, source TEXT NOT NULL, start_at FLOAT NOT NULL, "
               "window_start INTEGER NOT NULL, window_end INTEGER NOT NULL, "
               "throughput FLOAT NOT NULL, validity FLOAT NOT NULL, "
               "registered_delivery INTEGER NOT NULL, state TEXT NOT NULL, "
               "pause_reason TEXT NOT NULL, cursor_list INTEGER NOT NULL, "
               "cursor_contact INTEGER NOT NULL, created_at FLOAT NOT NULL, "
               "updated_at FLOAT NOT NULL, UNIQUE (account, name))")
    db.execute("CREATE TABLE IF NOT EXISTS campaign_marks (campaign_id INTEGER NOT NULL, "
               "number TEXT NOT NULL, state TEXT NOT NULL, list_id INTEGER NOT NULL, "
               "contact_id INTEGER NOT NULL, message_id INTEGER, note TEXT NOT NULL, "
               "due_at FLOAT, at FLOAT NOT NULL, PRIMARY KEY (campaign_id, number))")
    db.execute("CREATE INDEX IF NOT EXISTS campaign_marks_waiting ON campaign_marks "
               "(campaign_id, due_at) WHERE state = 'waiting'")


class SqliteCampaigns(SqlStoreParts[sqlite3.Connection]):
    """The campaign methods of the Store protocol, on SQLite."""

    if TYPE_CHECKING:  # PortableLists'
        def campaign(self, campaign_id: int) -> Campaign | None: ...

    if TYPE_CHECKING:  # PortableLists'
        def _check_lists(self, conn: Any, campaign: Campaign) -> None: ...

    def create_campaign(self, campaign: Campaign, now: float) -> Campaign:
        with self._write() as conn:
            self._require_account(conn, campaign.account)
            self._check_lists(conn, campaign)
            values = new_campaign_row(campaign, now)
            try:
                cursor = conn.execute(
                    f"INSERT INTO campaigns ({', '.join(values)}) VALUES "
                    f"({', '.join('?' * len(values))})", list(values.values()))
            except sqlite3.IntegrityError:
                raise CampaignExists(f"account {campaign.account!r} has a campaign "
                                     f"{campaign.name!r}") from None
            new_id = int(cursor.lastrowid or 0)
        found = self.campaign(new_id)
        assert found is not None
        return found

    def set_campaign_state(self, campaign_id: int, state: CampaignState, now: float,
                           reason: str = "") -> Campaign:
        with self._write() as conn:
            changed = conn.execute("UPDATE campaigns SET state = ?, pause_reason = ?, "
                                   "updated_at = ? WHERE id = ?",
                                   (CampaignState(state).value, reason, now,
                                    campaign_id)).rowcount
            if not changed:
                raise UnknownCampaign(f"no campaign with id {campaign_id}")
        found = self.campaign(campaign_id)
        assert found is not None
        return found

    def _handled_mark(self, conn: sqlite3.Connection, campaign_id: int,
                      numbers: Sequence[str]) -> str | None:
        """One of ``numbers`` the campaign sent or skipped already, if any."""
        for start in range(0, len(numbers), 500):
            chunk = numbers[start:start + 500]
            done = conn.execute(
                f"SELECT number FROM campaign_marks WHERE campaign_id = ? AND state IN "
                f"(?, ?) AND number IN ({', '.join('?' * len(chunk))})",
                [campaign_id, *_DONE, *chunk]).fetchone()
            if done:
                return str(done[0])
        return None

    @staticmethod
    def _put_marks(conn: sqlite3.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
        conn.executemany("INSERT OR REPLACE INTO campaign_marks (campaign_id, number, "
                         "state, list_id, contact_id, message_id, note, due_at, at) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def campaign_marked(self, campaign_id: int, numbers: Sequence[str]) -> dict[str, MarkState]:
        found: dict[str, MarkState] = {}
        wanted = list(numbers[:MAX_PAGE])
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            for number, state in self._read(
                    f"SELECT number, state FROM campaign_marks WHERE campaign_id = ? AND number "
                    f"IN ({', '.join('?' * len(chunk))})", [campaign_id, *chunk]):
                found[number] = MarkState(state)
        return found
