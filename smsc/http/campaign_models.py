"""The JSON of campaigns (``/v1/campaigns``): create, the campaign with its counts, its
preview (the figures of ``smsc campaign preview``), its report and cleaning, as pydantic
models beside :mod:`smsc.http.models`. Amounts are integers of minor units of ``currency``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from smsc.http.models import MAX_TEXT, MAX_VALIDITY, _In, _Out

CampaignState = Literal["draft", "running", "paused", "cancelled", "done"]
Encoding = Literal["GSM", "UCS2", "-"]
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


class NewCampaign(_In):
    """``POST /v1/campaigns``: a draft; ``POST /v1/campaigns/{id}/start`` starts it."""

    name: str = Field(min_length=1, max_length=100,
                      description="Unique among the account's campaigns.")
    lists: list[Id] = Field(min_length=1, max_length=50,
                             description="Ids of the account's contact lists; a number in two "
                                         "lists gets one message.")
    text: str = Field(min_length=1, max_length=MAX_TEXT,
                      description="The template: {name} a field of the lists, {name|there} "
                                  "with a default, {number} the contact's number.")
    sender: str = Field(default="", alias="from", max_length=16,
                        description="The sender ('': the account's default sender).")
    start_at: AwareDatetime | None = Field(
        default=None, description="Not before this time (absent: as soon as it is started).")
    window: str = Field(default="", max_length=11,
                        description="HH:MM-HH:MM in each recipient's local time (e.g. "
                                    "09:00-20:00; '' any time).")
    throughput: float = Field(default=0.0, ge=0, le=100_000,
                              description="Messages per second (0: the account's own limit).")
    validity: int | None = Field(default=None, ge=1, le=MAX_VALIDITY,
                                 description="Seconds each message may wait for its handset "
                                             "(absent: the operator's default).")
    receipts: bool = Field(default=True, description="Ask for delivery receipts.")


class Campaign(_Out):
    id: int
    name: str
    state: CampaignState
    pause_reason: str = Field(description="Why it is paused: 'by hand' or 'no credit'.")
    lists: list[int]
    text: str
    sender: str = Field(alias="from")
    start_at: datetime | None = None
    window: str = Field(description="HH:MM-HH:MM in each recipient's local time; '' any "
                                    "time.")
    throughput: float
    validity: int | None = None
    receipts: bool
    counts: dict[str, int] | None = Field(
        default=None, description="Contacts handled so far by mark: sent, skipped, waiting "
                                  "(in the answer for one campaign).")
    created_at: datetime
    updated_at: datetime


class Campaigns(_Out):
    campaigns: list[Campaign]


class PreviewRoute(_Out):
    route: str
    operator: str
    price_per_part: int
    contacts: int
    parts: int
    amount: int


class PreviewRow(_Out):
    list: str
    number: str
    outcome: Literal["ok", "duplicate", "opted out", "missing", "blacklisted", "invalid"]
    text: str
    encoding: str
    parts: int
    route: str
    price: int
    why: str


class Preview(_Out):
    """What the campaign would send and cost now; nothing is sent or billed. Each contact is
    counted once: duplicates, opted_out, missing_values, blacklisted, invalid or sendable."""

    contacts: int
    sendable: int
    parts: int
    total: int
    currency: str
    decimals: int
    balance: int
    enough_credit: bool
    duplicates: int
    opted_out: int
    missing_values: int
    blacklisted: int
    invalid: int
    invalid_reasons: dict[str, int]
    by_encoding: dict[str, int]
    by_parts: dict[str, int]
    routes: list[PreviewRoute]
    rows: list[PreviewRow] = Field(description="The first contacts.")
    problems: list[PreviewRow] = Field(description="The first contacts missing a value or "
                                                   "invalid.")


class ReportError(_Out):
    stat: str
    err: int
    count: int


class Report(_Out):
    id: int
    name: str
    state: CampaignState
    marks: dict[str, int] = Field(description="Contacts by mark: sent, skipped, waiting.")
    skipped: dict[str, int] = Field(description="Skipped contacts by why.")
    outcomes: dict[str, int] = Field(description="Sent messages by receipt stat (ENROUTE "
                                                 "while pending).")
    errors: list[ReportError]
    parts: int
    charged: int
    currency: str
    decimals: int
    delivery_rate: float | None = Field(description="Delivered over sent and final; null "
                                                    "before any is final.")


class CleanIn(_In):
    """``POST /v1/campaigns/{id}/clean``."""

    move_to: Id | None = Field(default=None, description="A list id of the account to move "
                                                          "them to (absent: remove them).")
    dry_run: bool = Field(default=False, description="Only count them.")


class Cleaned(_Out):
    removed: int = Field(description="Contacts taken out of their lists (or that would be).")
    moved: int
    dry_run: bool


__all__ = ["Campaign", "Campaigns", "CleanIn", "Cleaned", "NewCampaign", "Preview",
           "PreviewRoute", "PreviewRow", "Report", "ReportError"]
