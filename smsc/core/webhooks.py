"""Receipts and MO by webhook: the pure decisions (no I/O).

An outbox item with a hook (see :mod:`smsc.core.hooks`) becomes a :class:`WebhookEvent` when it
is claimed: for the JSON style its event (:func:`event_of`), for the KANNEL style a GET of the
part's dlr-url template with Kannel's escapes substituted (:mod:`smsc.core.dlr_url`), a call of
its own. JSON events waiting for the same URL with the same secret go out together: one
:class:`WebhookCall` (:func:`call_of`) POSTs ``{"events": [...]}`` with 1 to ``batch`` events,
signed once with HMAC-SHA256 under the account's secret (:func:`signature`). After the call,
:func:`judge` says what happens to each item it carried: any 2xx removes it (an
acknowledgement, as a deliver_sm_resp is); anything else is tried again after :func:`backoff`
unless that falls past its time to live, when it moves to the failed-webhook list.
docs/webhooks.md describes the call, the events and the headers for customers.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import random
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from pydantic_core import to_json

from smsc.core import dlr_url
from smsc.core.hooks import TAG_REFERENCE
from smsc.pdu import pdus
from smsc.pdu.codec import decode
from smsc.pdu.constants import ESM_TYPE_MASK, EsmClass, Tag
from smsc.pdu.errors import PduError
from smsc.pdu.receipt_text import ReceiptError, ReceiptText, stat_for_state
from smsc.pdu.smpptime import parse_receipt_date
from smsc.pdu.text import TextError, decode_text
from smsc.pdu.udh import read_part
from smsc.store.records import FailedWebhook, HookStyle, OutboxItem, OutboxKind

EVENT_ID_HEADER = "X-Smsc-Event-Id"  # a Kannel call's event (a JSON call's are in its body)
EVENT_COUNT_HEADER = "X-Smsc-Event-Count"  # the events a JSON call carries
TIMESTAMP_HEADER = "X-Smsc-Timestamp"
SIGNATURE_HEADER = "X-Smsc-Signature"
USER_AGENT = "smsc-webhooks/1"
_DELIVERY_RECEIPT = int(EsmClass.TYPE_DELIVERY_RECEIPT)
_RECEIPT_TYPES = (_DELIVERY_RECEIPT, int(EsmClass.TYPE_INTERMEDIATE_NOTIFICATION))


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookPolicy:
    """How webhooks are carried: time limits, retries, and how much runs at once."""

    timeout: float = 10.0  # seconds for one call, connecting to the end of the answer
    connect_timeout: float = 5.0
    retry_min: float = 5.0  # first retry after this many seconds, doubling per attempt
    retry_max: float = 3600.0  # the longest wait between two attempts
    jitter: float = 0.2  # each wait drawn within +-20 % of its value
    max_in_flight: int = 64  # calls running at once, every host together
    per_host: int = 8  # calls running at once to one host (and its connections kept)
    # Items read from the store per claim. The claims run on the store thread between group
    # commits, one per commit while customers send; a commit of 1,000-2,000 parts makes as many
    # receipts, and claims of 1,024 fell behind (0.82-0.86 of the message rate over 100,000
    # batch-sent messages; 2,048: 0.99-1.00).
    claim_batch: int = 2048
    gather: float = 0.01  # seconds a claim or a write of verdicts waits for more to join it
    max_held: int = 8192  # items claimed and not settled yet, at most
    keep_failed: int = 10_000  # rows the failed-webhook list keeps
    max_body: int = 64 * 1024  # octets of an answer read (the rest is dropped)
    batch: int = 100  # events one JSON call carries at most (of those waiting; never waited for)

    @property
    def lease(self) -> float:
        """How long a claim keeps an item from other claims: longer than one call, so no
        other node sends it while it is in flight. An item still waiting for a slot of its host
        when its lease ends is claimed again by the rescan (and its lease renewed), which the
        queue knows and skips; after a crash, what was claimed goes out again after this."""
        return 2.0 * self.timeout + 5.0


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookCall:
    """One HTTP call carrying one or more outbox items (their events in the body, in order)."""

    items: tuple[OutboxItem, ...]
    method: str  # POST (JSON) or GET (KANNEL)
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes  # b"" for a GET

    @property
    def host(self) -> str:
        """The scheme, host and port the call goes to (the unit of per-host limits)."""
        return host_of(self.url)

    @property
    def key(self) -> int:
        """The call's identity among those in flight: its first item's id (an item is in
        one call at a time)."""
        return self.items[0].id


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookEvent:
    """A claimed hooked item, ready to go: a JSON ``event`` (sent with the others waiting for
    the same URL and secret) or, for the KANNEL style, a ``call`` of its own."""

    item: OutboxItem
    url: str
    secret: str = ""
    event: dict[str, Any] | None = None  # the JSON event, its keys in order
    call: WebhookCall | None = None  # a Kannel GET

    @property
    def host(self) -> str:
        return host_of(self.url)

    @property
    def group(self) -> Hashable:
        """Events of the same group may share a call: JSON events of one URL and secret; a
        Kannel call shares with none (its item id)."""
        return (self.url, self.secret) if self.call is None else self.item.id


@dataclass(frozen=True, slots=True)
class Verdict:
    """What happens to an item after a call: ``ack`` (remove it), ``retry`` (at ``at``) or
    ``fail`` (to the failed list); ``attempts`` counts this call."""

    action: str
    attempts: int
    error: str
    at: float = 0.0


ACK, RETRY, FAIL = "ack", "retry", "fail"
DEFAULT_POLICY = WebhookPolicy()


@functools.lru_cache(maxsize=4096)
def host_of(url: str) -> str:
    """The scheme, host and port of ``url`` (kept: a call's host is asked for several times,
    and the calls of a busy receiver share their URL)."""
    scheme, _, rest = url.partition("://")
    authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return f"{scheme.lower()}://{authority.rsplit('@', 1)[-1].lower()}"


def event_id(item: OutboxItem) -> str:
    """The id of the event an item carries: stable across retries, restarts and replays (the
    outbox item id the store assigned)."""
    return event_id_for(item.id)


def event_id_for(item_id: int) -> str:
    """The event id of the outbox item ``item_id``."""
    return f"evt-{item_id}"


def item_id_of(event: str) -> int | None:
    """The outbox item id of an event id (:func:`event_id`); None for anything else."""
    prefix, _, number = event.partition("-")
    if prefix != "evt" or not number.isdigit() or not number.isascii() or len(number) > 18:
        return None
    return int(number)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The value of the signature header: ``sha256=`` and the hex HMAC-SHA256 under
    ``secret`` of ``timestamp``, ``.`` and the body."""
    mac = _keyed(secret).copy()
    mac.update(timestamp.encode() + b"." + body)
    return "sha256=" + mac.hexdigest()


@functools.lru_cache(maxsize=1024)
def _keyed(secret: str) -> hmac.HMAC:
    """HMAC-SHA256 keyed with ``secret``, nothing hashed yet (copied per event: the key's
    set-up done once per account)."""
    return hmac.new(secret.encode(), digestmod=hashlib.sha256)


def signature_matches(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """What a receiver checks (in constant time)."""
    return hmac.compare_digest(signature(secret, timestamp, body), header)


def backoff(attempts: int, policy: WebhookPolicy, draw: Callable[[], float] = random.random
            ) -> float:
    """Seconds to wait after the ``attempts``-th failed call: ``retry_min`` doubled per
    attempt, at most ``retry_max``, then spread by +-``jitter`` (``draw`` gives 0..1)."""
    base = min(policy.retry_max, policy.retry_min * 2.0 ** min(max(attempts, 1) - 1, 40))
    return base * (1.0 + policy.jitter * (2.0 * draw() - 1.0))


def acknowledges(status: int | None) -> bool:
    """Whether a call that answered HTTP ``status`` (None: no answer) acknowledges its items."""
    return status is not None and 200 <= status < 300


_KEPT_ACKS = 64
_ACKS = tuple(Verdict(ACK, attempts, "") for attempts in range(_KEPT_ACKS + 1))


def acknowledged(attempts: int) -> Verdict:
    """The verdict of an item acknowledged on its ``attempts``-th call (the usual ones made
    once: every item of a busy receiver's calls gets one)."""
    return _ACKS[attempts] if attempts <= _KEPT_ACKS else Verdict(ACK, attempts, "")


def judge(item: OutboxItem, status: int | None, error: str, now: float, policy: WebhookPolicy,
          draw: Callable[[], float] = random.random) -> Verdict:
    """The fate of ``item`` after a call that answered HTTP ``status`` (None: no answer, with
    ``error`` saying why): any 2xx acknowledges it; otherwise it is tried again after
    :func:`backoff`, or moves to the failed list when that try would fall past its time to
    live."""
    attempts = item.attempts + 1
    if acknowledges(status):
        return acknowledged(attempts)
    why = error or f"HTTP {status}"
    at = now + backoff(attempts, policy, draw)
    if at >= item.expires_at:
        return Verdict(FAIL, attempts, why)
    return Verdict(RETRY, attempts, why, at)


# --- the event ------------------------------------------------------------------------------
def _iso(moment: float | datetime) -> str:
    """ISO 8601 in UTC, as ``datetime.isoformat`` writes it (microseconds when there are
    any) with a ``Z``; the seconds of a POSIX time written once and kept (the events of a
    busy second share them)."""
    if isinstance(moment, datetime):
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    frac, whole = math.modf(moment)
    seconds = int(whole)
    micro = round(frac * 1e6)  # as datetime.fromtimestamp rounds (half to even)
    if micro >= 1_000_000:
        seconds, micro = seconds + 1, micro - 1_000_000
    elif micro < 0:
        seconds, micro = seconds - 1, micro + 1_000_000
    return _second(seconds) + (f".{micro:06d}Z" if micro else "Z")


@functools.lru_cache(maxsize=256)
def _second(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().removesuffix("+00:00")


@functools.lru_cache(maxsize=4096)
def _date(value: str, zone: tzinfo) -> str | None:
    """A receipt date as ISO 8601 in UTC (None: unreadable); kept, as the receipts of a busy
    minute share their dates."""
    try:
        return _iso(parse_receipt_date(value, zone))
    except ValueError:
        return None


def _network_error(tlvs: Any) -> int | None:
    raw = tlvs.raw(Tag.NETWORK_ERROR_CODE)
    return int.from_bytes(raw[1:3], "big") if raw is not None and len(raw) == 3 else None


def _text(pdu: pdus.DeliverSm) -> tuple[str, dict[str, int] | None]:
    """The text of an MO part and its concatenation info (None for a whole message)."""
    short = pdu.short_message or (pdu.tlvs.raw(Tag.MESSAGE_PAYLOAD) or b"")
    try:
        part = read_part(pdu.esm_class, short, pdu.tlvs)
        text = decode_text(part.payload, pdu.data_coding)
    except (PduError, TextError):
        return short.decode("latin-1"), None
    if part.concat is None:
        return text, None
    info = part.concat
    return text, {"index": info.index, "reference": info.reference, "total": info.total}


def deliver_sm_of(item: OutboxItem) -> pdus.DeliverSm:
    pdu = decode(item.pdu)
    if not isinstance(pdu, pdus.DeliverSm):
        raise ValueError(f"outbox item {item.id} is a {pdu.command_name}, not a deliver_sm")
    return pdu


def event_of(item: OutboxItem, *, format_id: Callable[[int], str] = str,
             zone: tzinfo = UTC) -> dict[str, Any]:
    """The JSON event of an outbox item (a receipt or an MO deliver_sm), as docs/webhooks.md
    lists its fields, its keys (and its inner objects' keys) in order. ``format_id`` writes
    message ids as customers know them (the server's ``message_id_format``); ``zone`` is the
    clock receipt dates are written on."""
    pdu = deliver_sm_of(item)
    if item.kind == OutboxKind.MO or pdu.esm_class & ESM_TYPE_MASK not in _RECEIPT_TYPES:
        return _mo_event(item, pdu)
    tlvs = pdu.tlvs
    receipted = tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID)
    try:
        receipt: ReceiptText | None = ReceiptText.parse(pdu.short_message)
    except ReceiptError:
        receipt = None
    network_error = _network_error(tlvs)
    message_id = (receipted or (receipt.message_id if receipt is not None else None)
                  or (format_id(item.message_id) if item.message_id is not None else ""))
    # the keys written in order (what the JSON carries); a test holds them to it
    event: dict[str, Any] = {"account": item.account, "created_at": _iso(item.created_at)}
    if receipt is not None:
        event["done_at"] = _date(receipt.done_date, zone)
        event["error"] = receipt.err
    else:
        event["error"] = network_error or 0
    event["final"] = pdu.esm_class & ESM_TYPE_MASK == _DELIVERY_RECEIPT
    # the receipt goes from the handset back to the sender: "to" is the handset
    event["from"] = pdu.destination_addr
    event["id"] = event_id(item)
    event["message_id"] = message_id
    if network_error is not None:
        event["network_error"] = network_error
    if receipt is not None:
        event["parts"] = {"delivered": receipt.delivered, "submitted": receipt.submitted}
    reference = tlvs.raw(TAG_REFERENCE)
    if reference is not None:
        event["reference"] = reference.decode(errors="replace")
    if receipt is not None:
        event["status"] = receipt.stat
        event["submitted_at"] = _date(receipt.submit_date, zone)
        event["text"] = receipt.text
    else:
        state = tlvs.get_int(Tag.MESSAGE_STATE)
        event["status"] = stat_for_state(state) if state is not None else "UNKNOWN"
    event["to"] = pdu.source_addr
    event["type"] = "receipt"
    return event


def _mo_event(item: OutboxItem, pdu: pdus.DeliverSm) -> dict[str, Any]:
    text, part = _text(pdu)
    event: dict[str, Any] = {"account": item.account, "created_at": _iso(item.created_at),
                             "data_coding": pdu.data_coding, "from": pdu.source_addr,
                             "id": event_id(item)}
    if part is not None:
        event["part"] = part
    event.update(text=text, to=pdu.destination_addr, type="mo")
    return event


def event_body(event: dict[str, Any]) -> bytes:
    """One event as compact UTF-8 JSON, keys in order (what ``json.dumps(event,
    ensure_ascii=False, separators=(",", ":"), sort_keys=True)`` writes, made by pydantic's JSON
    writer in a sixth of the time)."""
    return to_json(_in_order(event))


def events_body(events: Sequence[dict[str, Any]]) -> bytes:
    """The octets a JSON call POSTs and signs: ``{"events": [...]}``, compact UTF-8 JSON, every
    object's keys in order (events made by :func:`event_for` are in order already)."""
    return to_json({"events": events})


def _in_order(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _in_order(value[key]) for key in sorted(value)}
    return value


def event_for(item: OutboxItem, secret: str, *, format_id: Callable[[int], str] = str,
              zone: tzinfo = UTC) -> WebhookEvent:
    """What a claimed item sends: its JSON event (keys in order, to be signed with
    ``secret``), or its Kannel dlr-url GET."""
    if item.hook_style == HookStyle.KANNEL:
        _, template = dlr_url.split_hook(item.hook_url)
        url = dlr_url.expand(template, dlr_url.values_of(
            deliver_sm_of(item), item, format_id=format_id))
        call = WebhookCall(items=(item,), method="GET", url=url, body=b"",
                           headers=(("User-Agent", USER_AGENT),
                                    (EVENT_ID_HEADER, event_id(item))))
        return WebhookEvent(item=item, url=url, call=call)
    return WebhookEvent(item=item, url=item.hook_url, secret=secret,
                        event=event_of(item, format_id=format_id, zone=zone))


def call_of(events: Sequence[WebhookEvent], now: float) -> WebhookCall:
    """The call carrying ``events``: a Kannel event's own GET (alone), or one POST of the JSON
    events given (of one URL and secret, in the order given), signed once at ``now``."""
    first = events[0]
    if first.call is not None:
        if len(events) > 1:
            raise ValueError("a Kannel call carries one event")
        return first.call
    body = events_body([e.event for e in events])  # type: ignore[misc]
    timestamp = str(int(now))
    headers: tuple[tuple[str, str], ...] = (
        ("Content-Type", "application/json"), ("User-Agent", USER_AGENT),
        (EVENT_COUNT_HEADER, str(len(events))), (TIMESTAMP_HEADER, timestamp))
    if first.secret:
        headers += ((SIGNATURE_HEADER, signature(first.secret, timestamp, body)),)
    return WebhookCall(items=tuple(e.item for e in events), method="POST", url=first.url,
                       headers=headers, body=body)


def call_for(item: OutboxItem, secret: str, now: float, *,
             format_id: Callable[[int], str] = str, zone: tzinfo = UTC) -> WebhookCall:
    """The call carrying ``item`` alone: a signed JSON POST of one event, or a Kannel GET."""
    return call_of([event_for(item, secret, format_id=format_id, zone=zone)], now)


def kannel_wanted(item: OutboxItem) -> bool:
    """Whether the dlr-mask of a KANNEL item's message asks for the report it carries (one
    it does not ask for is removed without a call, as Kannel calls only what the mask asks)."""
    mask, _ = dlr_url.split_hook(item.hook_url)
    return dlr_url.wanted(mask, int(dlr_url.values_of(deliver_sm_of(item), item)["d"]))


def failed_view(failed: FailedWebhook, *, format_id: Callable[[int], str] = str
                ) -> dict[str, Any]:
    """A failed webhook as ``smsc webhook failed --json`` and the HTTP API show it."""
    item = failed.item
    return {
        "id": item.id,
        "event_id": event_id(item),
        "account": item.account,
        "type": "mo" if item.kind == OutboxKind.MO else "receipt",
        "message_id": format_id(item.message_id) if item.message_id is not None else None,
        "style": HookStyle(item.hook_style).name.lower(),
        "url": (dlr_url.split_hook(item.hook_url)[1] if item.hook_style == HookStyle.KANNEL
                else item.hook_url),
        "attempts": failed.attempts,
        "last_error": failed.last_error,
        "created_at": _iso(item.created_at),
        "failed_at": _iso(failed.failed_at),
    }
