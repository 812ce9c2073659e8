"""Campaigns in the memory store (tests): the behaviour of :mod:`smsc.store.sqlite_campaigns`
in dicts, under the store's one lock (``accept_campaign`` checks everything before it
changes anything, then runs ``accept``, so it is atomic like a transaction)."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from collections.abc import Sequence

from smsc.store.base import (
    CampaignExists,
    MarkedTwice,
    UnknownAccount,
    UnknownCampaign,
    UnknownContactList,
)
from smsc.store.campaign_records import Campaign, CampaignMark, CampaignState, MarkState
from smsc.store.contact_records import MAX_PAGE, ContactList
from smsc.store.records import AcceptOutcome, Account, FinalAtAcceptance, NewMessage

_DONE = (MarkState.SENT, MarkState.SKIPPED)


class MemoryCampaigns:
    """The campaign methods of the Store protocol, in memory."""

    _lock: threading.RLock
    _accounts: dict[str, Account]

    def contact_list_by_id(self, list_id: int) -> ContactList | None:
        raise NotImplementedError  # MemoryContacts'

    def accept(self, batch: Sequence[NewMessage], now: float, *, hot_until: float | None = None,
               generation: int = 0,
               decided: Sequence[FinalAtAcceptance | None] | None = None
               ) -> list[AcceptOutcome]:
        raise NotImplementedError  # MemoryStore's

    def _init_campaigns(self) -> None:
        self._campaigns: dict[int, Campaign] = {}
        self._campaign_ids = 0
        self._marks: dict[int, dict[str, CampaignMark]] = {}

    def create_campaign(self, campaign: Campaign, now: float) -> Campaign:
        with self._lock:
            if campaign.account not in self._accounts:
                raise UnknownAccount(campaign.account)
            for list_id in campaign.lists:
                found = self.contact_list_by_id(list_id)
                if found is None or found.account != campaign.account:
                    raise UnknownContactList(f"account {campaign.account!r} has no contact "
                                             f"list with id {list_id}")
            if any(c.account == campaign.account and c.name == campaign.name
                   for c in self._campaigns.values()):
                raise CampaignExists(f"account {campaign.account!r} has a campaign "
                                     f"{campaign.name!r}")
            self._campaign_ids += 1
            made = dataclasses.replace(campaign, id=self._campaign_ids,
                                       state=CampaignState.DRAFT, pause_reason="",
                                       cursor_list=0, cursor_contact=0, created_at=now,
                                       updated_at=now)
            self._campaigns[made.id] = made
            self._marks[made.id] = {}
            return made

    def campaign(self, campaign_id: int) -> Campaign | None:
        with self._lock:
            return self._campaigns.get(campaign_id)

    def campaigns(self, account: str | None = None) -> list[Campaign]:
        with self._lock:
            found = [c for c in self._campaigns.values() if account is None or c.account == account]
        return sorted(found, key=lambda c: (c.account, c.id))

    def set_campaign_state(self, campaign_id: int, state: CampaignState, now: float,
                           reason: str = "") -> Campaign:
        with self._lock:
            found = self._campaigns.get(campaign_id)
            if found is None:
                raise UnknownCampaign(f"no campaign with id {campaign_id}")
            changed = dataclasses.replace(found, state=CampaignState(state), pause_reason=reason,
                                          updated_at=now)
            self._campaigns[campaign_id] = changed
            return changed

    def accept_campaign(self, campaign_id: int, batch: Sequence[NewMessage],
                        marks: Sequence[CampaignMark], now: float, *,
                        cursor: tuple[int, int] | None = None,
                        hot_until: float | None = None, generation: int = 0,
                        decided: Sequence[FinalAtAcceptance | None] | None = None
                        ) -> list[AcceptOutcome]:
        with self._lock:
            held = self._marks.get(campaign_id)
            if held is None:
                raise UnknownCampaign(f"no campaign with id {campaign_id}")
            numbers = [m.number for m in marks]
            if len(set(numbers)) != len(numbers):
                raise MarkedTwice("a number appears twice among the marks")
            for n in numbers:
                old = held.get(n)
                if old is not None and old.state in _DONE:
                    raise MarkedTwice(f"campaign {campaign_id} handled {n} already")
            outcomes = self.accept(batch, now, hot_until=hot_until, generation=generation,
                                   decided=decided)
            accepted = {(o.message_id, o.destination_addr) for o in outcomes if not o.status}
            for m in marks:
                if m.state != MarkState.SENT or (m.message_id, m.number) in accepted:
                    held[m.number] = dataclasses.replace(m, at=now)
            if cursor is not None and all(not o.status for o in outcomes):
                self._campaigns[campaign_id] = dataclasses.replace(
                    self._campaigns[campaign_id], cursor_list=cursor[0],
                    cursor_contact=cursor[1], updated_at=now)
            return outcomes

    def campaign_marked(self, campaign_id: int, numbers: Sequence[str]) -> dict[str, MarkState]:
        with self._lock:
            held = self._marks.get(campaign_id, {})
            return {n: held[n].state for n in numbers[:MAX_PAGE] if n in held}

    def campaign_waiting(self, campaign_id: int, due_by: float,
                         limit: int = 1000) -> list[CampaignMark]:
        with self._lock:
            found = [m for m in self._marks.get(campaign_id, {}).values()
                     if m.state == MarkState.WAITING and m.due_at is not None
                     and m.due_at <= due_by]
        found.sort(key=lambda m: (m.due_at or 0.0, m.number))
        return found[:max(0, min(limit, MAX_PAGE))]

    def campaign_counts(self, campaign_id: int) -> dict[MarkState, int]:
        with self._lock:
            return dict(Counter(m.state for m in self._marks.get(campaign_id, {}).values()))

    def campaign_marks(self, campaign_id: int, *, after: str = "",
                       limit: int = 1000) -> list[CampaignMark]:
        with self._lock:
            found = sorted((m for n, m in self._marks.get(campaign_id, {}).items() if n > after),
                           key=lambda m: m.number)
        return found[:max(0, min(limit, MAX_PAGE))]
