"""The records of campaigns: the campaign itself and the state of each of its contacts.

A campaign sends one template to the contacts of its lists (in list order, then contact id
order). Its ``cursor`` (index into ``lists``, last contact id of that list handled) says how
far the runner has read; every contact before it has a :class:`CampaignMark`. A mark is written
in the same transaction as the message it stands for (``Store.accept_campaign``), so after a
crash a contact is either sent with its mark or neither: never twice, never skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class CampaignState(StrEnum):
    DRAFT = "draft"  # created, not started
    RUNNING = "running"
    PAUSED = "paused"  # by hand, or for want of credit (``pause_reason``)
    CANCELLED = "cancelled"
    DONE = "done"  # every contact sent or skipped


class MarkState(StrEnum):
    SENT = "sent"  # its message was accepted (``message_id``)
    SKIPPED = "skipped"  # not sent, for ``note`` (opted out, duplicate, blacklisted ...)
    WAITING = "waiting"  # outside its sending window until ``due_at``


@dataclass(frozen=True, slots=True, kw_only=True)
class Campaign:
    """``window_start``/``window_end``: minutes after midnight in each recipient's local time
    between which it may be sent (start > end: the window spans midnight; equal: any time).
    ``throughput``: messages per second (0: as fast as the account's own limit allows);
    ``validity``: seconds each message lives (0: the operator's default)."""

    id: int = 0
    account: str
    name: str
    lists: tuple[int, ...]
    template: str
    source: str = ""
    start_at: float = 0.0
    window_start: int = 0
    window_end: int = 0
    throughput: float = 0.0
    validity: float = 0.0
    registered_delivery: int = 1
    state: CampaignState = CampaignState.DRAFT
    pause_reason: str = ""
    cursor_list: int = 0  # index into ``lists`` of the list being read
    cursor_contact: int = 0  # the last contact id of that list handled
    created_at: float = 0.0
    updated_at: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignMark:
    """What happened to one number of a campaign (a number is handled once per campaign,
    whichever list holds it)."""

    number: str
    state: MarkState
    list_id: int = 0  # where the contact is (a WAITING one is read again from there)
    contact_id: int = 0
    message_id: int | None = None
    note: str = ""
    due_at: float | None = None  # WAITING: when its window opens
    at: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignWrite:
    """What a campaign's step writes in the transaction of its messages
    (``Store.accept_campaign``): its contacts' marks and, unless None, its new cursor."""

    campaign_id: int
    marks: tuple[CampaignMark, ...] = ()
    cursor: tuple[int, int] | None = None
