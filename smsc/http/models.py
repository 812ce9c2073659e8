"""The JSON the API reads and writes, as pydantic v2 models: they validate every request and
generate the OpenAPI document's schemas (:mod:`smsc.http.openapi`), so the document is the
contract the server keeps. Amounts are integers of minor units (cents) of ``currency``, with
``decimals`` saying how many digits a minor unit has; times are ISO 8601 in UTC."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    UrlConstraints,
    WithJsonSchema,
)
from pydantic_core import Url

from smsc.http.problems import all_codes

MAX_DESTINATIONS = 10_000
MAX_TEXT = 40_000  # characters; the account's max_parts decides what is sent
MAX_VALIDITY = 99 * 86_400 + 86_399  # the longest SMPP relative time

Destination = Annotated[str, StringConstraints(min_length=1, max_length=24)]
# pydantic's AnyHttpUrl, checked by pydantic-core alone: the same rules, schema and messages,
# without AnyHttpUrl's wrapping of every value in a Python object (half a send's parse).
HttpUrl = Annotated[Url, UrlConstraints(allowed_schemes=["http", "https"])]
Encoding = Literal["auto", "gsm", "ucs2", "latin1", "ascii"]
State = Literal["enroute", "delivered", "expired", "deleted", "undeliverable", "accepted",
                "unknown", "rejected"]
# A machine code of smsc.http.problems (every one listed in the document).
Code = Annotated[str, WithJsonSchema({"type": "string", "enum": all_codes()})]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, strict=True)


class _Out(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class SendRequest(_In):
    """A message to one or more destinations (``POST /v1/messages``, ``POST /v1/quote``)."""

    to: list[Destination] = Field(
        min_length=1, max_length=MAX_DESTINATIONS,
        description="Destinations, read as SMPP reads a destination of TON 0: international "
                    "digits, with or without '+' or '00', or a national number of the "
                    "configured home country. Repeats (as written or as read) are sent once.")
    text: str = Field(max_length=MAX_TEXT, description="The message; split as SMPP's are.")
    sender: str | None = Field(
        default=None, alias="from", max_length=16,
        description="An alphanumeric sender (up to 11 characters), or a number ('+' and "
                    "digits for an international one); absent: the account's default sender.")
    encoding: Encoding = Field(
        default="auto", description="auto: GSM 03.38 when every character is in it, else "
                                    "UCS2.")
    schedule: datetime | None = Field(
        default=None,
        description="When to deliver. With a UTC offset: that instant (on an account with "
                    "recipient_local_time its wall clock is read in the recipient's zone, as "
                    "for SMPP); without one: that wall-clock time in the recipient's zone.")
    validity: int | None = Field(
        default=None, ge=1, le=MAX_VALIDITY,
        description="Seconds from the delivery time until the message expires (capped by the "
                    "operator's maximum); absent: the operator's default.")
    receipt: bool | None = Field(
        default=None, description="Ask for a delivery receipt; absent: yes when webhook_url "
                                  "is given or the account has a webhook URL, else no (the "
                                  "account's SMPP receivers would get it).")
    webhook_url: HttpUrl | None = Field(
        default=None, description="Where this message's receipt is posted (else the "
                                  "account's webhook URL).")
    reference: str | None = Field(default=None, max_length=64,
                                  description="Yours: kept with each message, given back in "
                                              "the answer, the message, its receipt "
                                              "events, and matched by GET /v1/messages?"
                                              "reference=.")


class FieldError(_Out):
    field: str = Field(description="Where: a dotted path into the body, or a parameter name.")
    message: str


class Problem(_Out):
    """RFC 9457 problem details, with smsc's machine ``code``."""

    type: str
    title: str
    status: int = Field(ge=400, le=599)
    code: Code
    detail: str | None = None
    smpp_status: int | None = Field(
        default=None, description="The SMPP command_status SMPP would answer with.")
    errors: list[FieldError] | None = None
    retry_after: int | None = Field(default=None, description="Seconds, as in Retry-After.")


class Refused(_Out):
    code: Code
    smpp_status: int
    detail: str = ""


class SentMessage(_Out):
    """One destination of a send: its message ``id``, or why it was refused."""

    to: str = Field(description="As written in the request.")
    id: str | None = Field(default=None, description="As SMPP's message ids.")
    parts: int | None = None
    charged: int | None = Field(default=None, description="Minor units debited.")
    error: Refused | None = None


class SendAnswer(_Out):
    messages: list[SentMessage]
    accepted: int
    refused: int
    duplicates: int
    parts: int
    charged: int
    currency: str
    decimals: int
    reference: str | None = None


class Money(_Out):
    currency: str
    decimals: int


class Balance(Money):
    available: int
    bought: int
    subscription: int
    subscription_expires_at: datetime | None = None


class QuotedMessage(_Out):
    to: str
    destination: str | None = Field(default=None, description="As read: international digits.")
    route: str | None = None
    operator: str | None = None
    parts: int = 0
    price_per_part: int = 0
    price: int = 0
    blacklisted: bool = False
    error: Refused | None = None


class RouteTotal(_Out):
    route: str
    destinations: int
    parts: int
    total: int


class Quote(Money):
    encoding: Literal["gsm", "ascii", "latin1", "ucs2", "binary"]
    messages: list[QuotedMessage]
    routes: list[RouteTotal] = Field(description="The destinations accepted, by route.")
    destinations: int
    valid: int
    invalid: int
    duplicates: int
    blacklisted: int
    opted_out: int = Field(default=0, description="Destinations on the account's opt-out "
                                                  "list (refused, code opted_out).")
    parts: int
    total: int
    balance: int
    enough_credit: bool


class Part(_Out):
    index: int
    state: State
    error: int
    price: int
    charged: int
    refunded: int
    attempts: int
    next_attempt_at: datetime | None = None
    done_at: datetime | None = None


class Receipt(_Out):
    requested: bool
    stat: str | None = Field(default=None, description="The receipt's stat once final.")


class Message(_Out):
    id: str
    to: str
    sender: str = Field(alias="from")
    state: State
    error: int
    submitted_at: datetime
    scheduled_at: datetime | None = None
    expires_at: datetime
    final_at: datetime | None = None
    route: str
    operator: str
    price: int
    charged: int
    refunded: int
    currency: str
    decimals: int
    receipt: Receipt
    parts: list[Part]
    reference: str | None = Field(default=None, description="The send's reference, if any.")


class MessagePage(_Out):
    messages: list[Message]
    next: str | None = Field(description="The cursor of the next page; null at the end. A "
                                         "page may be short while more follow.")


class Cancelled(_Out):
    id: str
    state: State


class FailedWebhook(_Out):
    """A receipt or MO whose webhook did not succeed within its time to live."""

    id: int = Field(description="Its id (give it to a replay).")
    event_id: str = Field(description="The id of its event, the same in every attempt: the "
                                      "event's id in a JSON webhook call, the X-Smsc-Event-Id "
                                      "header of a Kannel one.")
    type: Literal["receipt", "mo"]
    message_id: str | None = Field(default=None, description="The message a receipt is of.")
    style: Literal["json", "kannel"] = Field(
        description="json: a signed POST; kannel: a GET of a sendsms dlr-url.")
    url: str = Field(description="Where it was sent (a Kannel dlr-url as given, unexpanded).")
    attempts: int
    last_error: str
    created_at: datetime
    failed_at: datetime


class FailedWebhookPage(_Out):
    webhooks: list[FailedWebhook] = Field(description="Oldest first.")
    next: str | None = Field(description="The cursor of the next page; null at the end.")


MAX_REPLAY = 10_000


class ReplayRequest(_In):
    """Which failed webhooks to send again: every one (``all``), or those with these ``ids`` or
    ``event_ids`` (one of the three)."""

    all: bool = Field(default=False, description="Every failed webhook of the account.")
    ids: list[Annotated[int, Field(ge=1)]] | None = Field(default=None, max_length=MAX_REPLAY)
    event_ids: list[Annotated[str, StringConstraints(min_length=1, max_length=32)]] | None = (
        Field(default=None, max_length=MAX_REPLAY))


class ReplayAnswer(_Out):
    replayed: list[str] = Field(description="The event ids back in the outbox (fresh time to "
                                            "live, same event id).")
    not_found: list[str] = Field(description="Ids or event ids given that are not among the "
                                             "account's failed webhooks.")


__all__ = [
    "MAX_DESTINATIONS",
    "Balance",
    "Cancelled",
    "FailedWebhook",
    "FailedWebhookPage",
    "FieldError",
    "Message",
    "MessagePage",
    "Part",
    "Problem",
    "Quote",
    "QuotedMessage",
    "Receipt",
    "Refused",
    "ReplayAnswer",
    "ReplayRequest",
    "RouteTotal",
    "SendAnswer",
    "SendRequest",
    "SentMessage",
]
