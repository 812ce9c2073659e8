"""Where an outbox item goes: decided once, when the core makes the item.

A part may carry its own hook (``NewMessage.hook_url``/``hook_style``, from
``Intake.prepare(hook=...)``: the HTTP API's ``webhook_url``, Kannel's ``dlr-url``); else its
account's ``webhook_url`` takes its receipts as signed JSON; else they go to the account's SMPP
receivers as always. MO goes to the account's ``webhook_url`` when set. An alert_notification is
SMPP only. The SMPP courier reads only items without a hook (``Store.outbox_for``); the webhook
courier reads the others (``Store.claim_webhooks``).
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from smsc.store.records import Account, HookStyle, StoredMessage

NO_HOOK: tuple[str, int] = ("", 0)
MAX_URL = 2000
_JSON = int(HookStyle.JSON)
# A receipt going to a JSON webhook carries its message's reference (the HTTP API's) in this
# vendor-specific TLV of its stored deliver_sm; the event's "reference" is read from it. Such a
# PDU is never sent over SMPP.
TAG_REFERENCE = 0x1502


def with_reference(frame: bytes, hook_style: int, reference: str | None) -> bytes:
    """``frame`` (an encoded deliver_sm) with ``reference`` appended as a TLV when the item
    goes to a JSON webhook and there is one; else ``frame`` itself."""
    if reference is None or hook_style != _JSON:
        return frame
    value = reference.encode()
    tlv = TAG_REFERENCE.to_bytes(2, "big") + len(value).to_bytes(2, "big") + value
    return (len(frame) + len(tlv)).to_bytes(4, "big") + frame[4:] + tlv


def item_hook(message: StoredMessage | None, account: Account | None) -> tuple[str, int]:
    """(hook_url, hook_style) for an item of ``message`` (None: an MO) of ``account``: the
    part's own hook, else the account's webhook_url as JSON, else none (SMPP)."""
    if message is not None and message.hook_style:
        return message.hook_url, message.hook_style
    if account is not None and account.webhook_url:
        return account.webhook_url, _JSON
    return NO_HOOK


def webhook_url_problem(url: str) -> str | None:
    """Why ``url`` cannot take webhooks (None: it can): an absolute http or https URL with a
    host, at most 2,000 characters, no spaces or control characters."""
    if len(url) > MAX_URL:
        return f"longer than {MAX_URL} characters"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return "has spaces or control characters"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if not parts.hostname:
        return "has no host"
    try:
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        return "has a bad port"
    return None


def new_webhook_secret() -> str:
    """A fresh HMAC key for an account's webhooks: 32 random bytes, hexadecimal."""
    return secrets.token_hex(32)
