"""Campaigns in the PostgreSQL store, the methods whose SQL is PostgreSQL's own: a mixin of
:class:`smsc.store.postgres.PostgresStore` (tables in :mod:`smsc.store.postgres_schema`; the
methods both SQL stores share, ``accept_campaign`` among them, in
:class:`smsc.store.portable_lists.PortableLists`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import psycopg

from smsc.store.base import (
    CampaignExists,
    UnknownCampaign,
)
from smsc.store.campaign_records import Campaign, CampaignState, MarkState
from smsc.store.contact_records import MAX_PAGE
from smsc.store.row_records import CAMPAIGN_COLUMNS, campaign_of, new_campaign_row
from smsc.store.sql_parts import SqlStoreParts

_RETURNING = f"RETURNING {', '.join(CAMPAIGN_COLUMNS)}"
_DONE = [MarkState.SENT.value, MarkState.SKIPPED.value]


class PostgresCampaigns(SqlStoreParts[psycopg.Connection[Any]]):
    """The campaign methods of the Store protocol, on PostgreSQL."""

    if TYPE_CHECKING:  # PortableLists'
        def _check_lists(self, conn: Any, campaign: Campaign) -> None: ...

    def create_campaign(self, campaign: Campaign, now: float) -> Campaign:
        with self._write() as conn:
            self._require_account(conn, campaign.account)
            self._check_lists(conn, campaign)
            values = new_campaign_row(campaign, now)
            found = conn.execute(
                f"INSERT INTO campaigns ({', '.join(values)}) VALUES "
                f"({', '.join(['%s'] * len(values))}) ON CONFLICT DO NOTHING "
                + _RETURNING, list(values.values())).fetchone()
            if found is None:
                raise CampaignExists(f"account {campaign.account!r} has a campaign "
                                     f"{campaign.name!r}")
        return campaign_of(found)

    def set_campaign_state(self, campaign_id: int, state: CampaignState, now: float,
                           reason: str = "") -> Campaign:
        with self._write() as conn:
            found = conn.execute("UPDATE campaigns SET state = %s, pause_reason = %s, "
                                 "updated_at = %s WHERE id = %s " + _RETURNING,
                                 (CampaignState(state).value, reason, now,
                                  campaign_id)).fetchone()
            if found is None:
                raise UnknownCampaign(f"no campaign with id {campaign_id}")
        return campaign_of(found)

    @staticmethod
    def _handled_mark(conn: psycopg.Connection[Any], campaign_id: int,
                      numbers: Sequence[str]) -> str | None:
        """One of ``numbers`` the campaign sent or skipped already, if any."""
        if not numbers:
            return None
        done = conn.execute("SELECT number FROM campaign_marks WHERE campaign_id = %s "
                            "AND state = ANY(%s) AND number = ANY(%s) LIMIT 1",
                            (campaign_id, _DONE, list(numbers))).fetchone()
        return None if done is None else str(done[0])

    @staticmethod
    def _put_marks(conn: psycopg.Connection[Any], rows: Sequence[tuple[Any, ...]]) -> None:
        conn.cursor().executemany(
            "INSERT INTO campaign_marks (campaign_id, number, state, list_id, "
            "contact_id, message_id, note, due_at, at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (campaign_id, number) DO UPDATE SET state = excluded.state, "
            "list_id = excluded.list_id, contact_id = excluded.contact_id, "
            "message_id = excluded.message_id, note = excluded.note, "
            "due_at = excluded.due_at, at = excluded.at", rows)

    def campaign_marked(self, campaign_id: int, numbers: Sequence[str]) -> dict[str, MarkState]:
        if not numbers:
            return {}
        return {number: MarkState(state) for number, state in self._read(
            "SELECT number, state FROM campaign_marks WHERE campaign_id = %s "
            "AND number = ANY(%s)", (campaign_id, list(numbers[:MAX_PAGE])))}
