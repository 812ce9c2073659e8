"""Store methods of campaigns, contact lists and API keys whose SQL is the same on SQLite and
PostgreSQL, written once: :class:`PortableLists` is a mixin of both SQL stores, written with
``?`` placeholders and run through the store's ``_sql`` like
:class:`smsc.store.portable_queries.PortableQueries`. Creating rows, locking reads and
batches against lists of numbers differ between the two and stay in each store's modules."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from smsc.store.base import MarkedTwice, UnknownCampaign, UnknownContactList
from smsc.store.campaign_records import Campaign, CampaignMark, MarkState
from smsc.store.contact_records import Contact, ContactList, OptOut
from smsc.store.http_records import ApiKey
from smsc.store.records import AcceptOutcome, FinalAtAcceptance, NewMessage
from smsc.store.row_records import (
    KEY_COLUMNS,
    LIST_COLUMNS,
    LIST_SIZE,
    MARK_COLUMNS,
    SELECT_CAMPAIGN,
    api_key_of,
    campaign_mark_of,
    campaign_of,
    contact_list_of,
    page_size,
)
from smsc.store.sql_parts import SqlStoreParts


class PortableLists(SqlStoreParts[Any]):
    """Campaign, contact-list, opt-out and API-key reads and simple updates."""

    if TYPE_CHECKING:  # the store's own
        def accept(self, batch: Sequence[NewMessage], now: float, *,
                   hot_until: float | None = None, generation: int = 0,
                   decided: Sequence[FinalAtAcceptance | None] | None = None
                   ) -> list[AcceptOutcome]: ...

        def _handled_mark(self, conn: Any, campaign_id: int,
                          numbers: Sequence[str]) -> str | None: ...

        def _put_marks(self, conn: Any, rows: Sequence[tuple[Any, ...]]) -> None: ...

    # --- campaigns ------------------------------------------------------------------------
    def accept_campaign(self, campaign_id: int, batch: Sequence[NewMessage],
                        marks: Sequence[CampaignMark], now: float, *,
                        cursor: tuple[int, int] | None = None,
                        hot_until: float | None = None, generation: int = 0,
                        decided: Sequence[FinalAtAcceptance | None] | None = None
                        ) -> list[AcceptOutcome]:
        """``accept`` runs inside this method's transaction (the store's ``_write`` nests)."""
        numbers = [m.number for m in marks]
        with self._write() as conn:
            # The campaign's row locked (PostgreSQL): two nodes running one campaign take turns.
            if conn.execute(self._sql("SELECT 1 FROM campaigns WHERE id = ?" + self._FOR_UPDATE),
                            (campaign_id,)).fetchone() is None:
                raise UnknownCampaign(f"no campaign with id {campaign_id}")
            if len(set(numbers)) != len(numbers):
                raise MarkedTwice("a number appears twice among the marks")
            done = self._handled_mark(conn, campaign_id, numbers)
            if done is not None:
                raise MarkedTwice(f"campaign {campaign_id} handled {done} already")
            outcomes = self.accept(batch, now, hot_until=hot_until, generation=generation,
                                   decided=decided)
            accepted = {(o.message_id, o.destination_addr) for o in outcomes if not o.status}
            rows = [(campaign_id, m.number, m.state.value, m.list_id, m.contact_id,
                     m.message_id, m.note, m.due_at, now) for m in marks
                    if m.state != MarkState.SENT or (m.message_id, m.number) in accepted]
            if rows:
                self._put_marks(conn, rows)
            if cursor is not None and all(not o.status for o in outcomes):
                conn.execute(self._sql("UPDATE campaigns SET cursor_list = ?, "
                                       "cursor_contact = ?, updated_at = ? WHERE id = ?"),
                             (*cursor, now, campaign_id))
        return outcomes

    def campaign(self, campaign_id: int) -> Campaign | None:
        rows = self._read(self._sql(SELECT_CAMPAIGN + " WHERE id = ?"), (campaign_id,))
        return campaign_of(rows[0]) if rows else None

    def campaigns(self, account: str | None = None) -> list[Campaign]:
        if account is None:
            return [campaign_of(r) for r in self._read(SELECT_CAMPAIGN + " ORDER BY account, id")]
        return [campaign_of(r) for r in self._read(
            self._sql(SELECT_CAMPAIGN + " WHERE account = ? ORDER BY id"), (account,))]

    def campaign_waiting(self, campaign_id: int, due_by: float,
                         limit: int = 1000) -> list[CampaignMark]:
        rows = self._read(self._sql(
            f"SELECT {MARK_COLUMNS} FROM campaign_marks WHERE campaign_id = ? "
            "AND state = 'waiting' AND due_at <= ? ORDER BY due_at, number LIMIT ?"),
            (campaign_id, due_by, page_size(limit)))
        return [campaign_mark_of(r) for r in rows]

    def campaign_counts(self, campaign_id: int) -> dict[MarkState, int]:
        return {MarkState(state): int(count) for state, count in self._read(self._sql(
            "SELECT state, count(*) FROM campaign_marks WHERE campaign_id = ? GROUP BY state"),
            (campaign_id,))}

    def campaign_marks(self, campaign_id: int, *, after: str = "",
                       limit: int = 1000) -> list[CampaignMark]:
        rows = self._read(self._sql(
            f"SELECT {MARK_COLUMNS} FROM campaign_marks WHERE campaign_id = ? "
            "AND number > ? ORDER BY number LIMIT ?"), (campaign_id, after, page_size(limit)))
        return [campaign_mark_of(r) for r in rows]

    def _check_lists(self, conn: Any, campaign: Campaign) -> None:
        """UnknownContactList unless each of the campaign's lists is its account's."""
        for list_id in campaign.lists:
            row = conn.execute(self._sql("SELECT account FROM contact_lists WHERE id = ?"),
                               (list_id,)).fetchone()
            if row is None or row[0] != campaign.account:
                raise UnknownContactList(f"account {campaign.account!r} has no contact "
                                         f"list with id {list_id}")

    # --- contact lists and opt-outs -------------------------------------------------------
    def _add_columns(self, conn: Any, list_id: int, columns: Sequence[str]) -> None:
        """The list's columns extended by those of ``columns`` it lacks (its row locked until
        the transaction ends); UnknownContactList if there is no such list."""
        row = conn.execute(self._sql("SELECT columns FROM contact_lists WHERE id = ?"
                                     + self._FOR_UPDATE), (list_id,)).fetchone()
        if row is None:
            raise UnknownContactList(f"no contact list with id {list_id}")
        have = list(json.loads(row[0] or "[]"))
        more = [c for c in dict.fromkeys(columns) if c not in have]
        if more:
            conn.execute(self._sql("UPDATE contact_lists SET columns = ? WHERE id = ?"),
                         (json.dumps(have + more), list_id))

    def contact_list(self, account: str, name: str) -> ContactList | None:
        rows = self._read(self._sql(f"SELECT {LIST_COLUMNS}, {LIST_SIZE} FROM contact_lists l "
                                    "WHERE l.account = ? AND l.name = ?"), (account, name))
        return contact_list_of(rows[0]) if rows else None

    def contact_list_by_id(self, list_id: int) -> ContactList | None:
        rows = self._read(self._sql(f"SELECT {LIST_COLUMNS}, {LIST_SIZE} FROM contact_lists l "
                                    "WHERE l.id = ?"), (list_id,))
        return contact_list_of(rows[0]) if rows else None

    def contact_lists(self, account: str | None = None) -> list[ContactList]:
        sql = f"SELECT {LIST_COLUMNS}, {LIST_SIZE} FROM contact_lists l"
        params: tuple[Any, ...] = ()
        if account is not None:
            sql += " WHERE l.account = ?"
            params = (account,)
        return [contact_list_of(r)
                for r in self._read(self._sql(sql + " ORDER BY l.account, l.name"), params)]

    def contacts(self, list_id: int, *, after: int = 0, limit: int = 1000) -> list[Contact]:
        rows = self._read(self._sql("SELECT id, number, fields FROM contacts WHERE list_id = ? "
                                    "AND id > ? ORDER BY id LIMIT ?"),
                          (list_id, after, page_size(limit)))
        return [Contact(id=r[0], number=r[1], fields=json.loads(r[2])) for r in rows]

    def delete_contact_list(self, list_id: int) -> bool:
        with self._write() as conn:
            conn.execute(self._sql("DELETE FROM contacts WHERE list_id = ?"), (list_id,))
            return bool(conn.execute(self._sql("DELETE FROM contact_lists WHERE id = ?"),
                                     (list_id,)).rowcount > 0)

    def opt_in(self, account: str, number: str) -> bool:
        with self._write() as conn:
            return bool(conn.execute(self._sql("DELETE FROM opt_outs WHERE account = ? "
                                               "AND number = ?"), (account, number)).rowcount > 0)

    def opt_outs(self, account: str, *, after: str = "", limit: int = 1000) -> list[OptOut]:
        rows = self._read(self._sql("SELECT account, number, at, note FROM opt_outs "
                                    "WHERE account = ? AND number > ? ORDER BY number LIMIT ?"),
                          (account, after, page_size(limit)))
        return [OptOut(account=r[0], number=r[1], at=r[2], note=r[3] or "") for r in rows]

    # --- API keys and Idempotency-Key answers ---------------------------------------------
    def api_key(self, key_id: str) -> ApiKey | None:
        rows = self._read(self._sql(f"SELECT {KEY_COLUMNS} FROM api_keys WHERE key_id = ?"),
                          (key_id,))
        return api_key_of(rows[0]) if rows else None

    def api_keys(self, account: str) -> list[ApiKey]:
        return [api_key_of(r) for r in self._read(self._sql(
            f"SELECT {KEY_COLUMNS} FROM api_keys WHERE account = ? ORDER BY created_at, key_id"),
            (account,))]

    def revoke_api_key(self, key_id: str, now: float) -> bool:
        with self._write() as conn:
            revoked = bool(conn.execute(self._sql(
                "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL"),
                (now, key_id)).rowcount > 0)
            if revoked:
                self._bump_changes(conn)
            return revoked

    def touch_api_key(self, key_id: str, now: float) -> None:
        with self._write() as conn:
            conn.execute(self._sql("UPDATE api_keys SET last_used_at = ? WHERE key_id = ?"),
                         (now, key_id))

    def finish_idempotency(self, account: str, key: str, status: int, content_type: str,
                           body: bytes) -> None:
        if not status:
            raise ValueError("a finished answer has an HTTP status")
        with self._write() as conn:
            conn.execute(self._sql("UPDATE idempotency SET status = ?, content_type = ?, "
                                   "body = ? WHERE account = ? AND key = ?"),
                         (status, content_type, body, account, key))

    def release_idempotency(self, account: str, key: str) -> None:
        with self._write() as conn:
            conn.execute(self._sql("DELETE FROM idempotency WHERE account = ? AND key = ? "
                                   "AND status = 0"), (account, key))
