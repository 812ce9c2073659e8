"""The store side of webhooks (store thread): claim due hooked outbox items and make them
events ready to send, write back what the calls decided, and list and replay the failed ones.

Every method is called on the store thread (``smsc.server.worker.StoreWorker``) or by the CLI;
nothing here does network I/O. The events, calls and verdicts come from
:mod:`smsc.core.webhooks`; the event loop groups the events into calls
(:class:`smsc.core.webhook_queue.WebhookQueue`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, tzinfo

from smsc.core.hooks import new_webhook_secret
from smsc.core.rounds import DEFAULT_RECEIPT_TTL
from smsc.core.webhooks import (
    ACK,
    DEFAULT_POLICY,
    FAIL,
    RETRY,
    Verdict,
    WebhookEvent,
    WebhookPolicy,
    event_for,
    kannel_wanted,
)
from smsc.pdu.errors import PduError
from smsc.store.base import Store
from smsc.store.records import Account, FailedWebhook, HookStyle, OutboxItem

REPLAY_PAGE = 500
MAX_ACCOUNTS = 4096  # accounts the claims keep between changes


class WebhookDesk:
    def __init__(self, store: Store, *, policy: WebhookPolicy = DEFAULT_POLICY,
                 format_id: Callable[[int], str] = str, zone: tzinfo = UTC) -> None:
        self.store = store
        self.policy = policy
        self.format_id = format_id
        self.zone = zone
        # accounts as the claims found them, forgotten when the store's change counter moves
        # (an account edited or removed, a secret given); at most MAX_ACCOUNTS kept
        self._accounts: dict[str, Account | None] = {}
        self._accounts_version = -1

    def claim(self, now: float, limit: int) -> list[WebhookEvent]:
        """Up to ``limit`` due hooked items, claimed for the policy's lease, as events (JSON
        ones with their account's secret, to be signed by the call that carries them). An item
        that cannot become an event (its account is gone, its PDU cannot be read) goes to the
        failed list at once."""
        items = self.store.claim_webhooks(now, limit, self.policy.lease,
                                          keep_failed=self.policy.keep_failed)
        if not items:
            return []
        version = self.store.change_counter()
        accounts = self._accounts
        if version != self._accounts_version or len(accounts) >= MAX_ACCOUNTS:
            accounts.clear()
            self._accounts_version = version
        events: list[WebhookEvent] = []
        unwanted: list[int] = []
        for item in items:
            if item.account in accounts:
                account = accounts[item.account]
            else:
                account = accounts[item.account] = self._account(item.account)
            if account is None:
                self._fail_now(item, "account removed", now)
                continue
            try:
                if item.hook_style == HookStyle.KANNEL and not kannel_wanted(item):
                    unwanted.append(item.id)
                    continue
                events.append(event_for(item, account.webhook_secret,
                                       format_id=self.format_id, zone=self.zone))
            except (PduError, ValueError) as e:
                self._fail_now(item, f"cannot make the call: {e}", now)
        if unwanted:  # reports the message's dlr-mask does not ask for
            self.store.ack_outbox(unwanted)
        return events

    def _account(self, system_id: str) -> Account | None:
        """The account, given a webhook secret on first use if it has none (so no JSON
        webhook goes unsigned)."""
        account = self.store.get_account(system_id)
        if account is not None and not account.webhook_secret:
            account = replace(account, webhook_secret=new_webhook_secret())
            self.store.update_account(account)
        return account

    def _fail_now(self, item: OutboxItem, why: str, now: float) -> None:
        self.store.fail_webhook(item.id, item.attempts, why, now, keep=self.policy.keep_failed)

    def record(self, verdicts: Sequence[tuple[OutboxItem, Verdict]], now: float) -> None:
        """Write what the calls decided: acknowledged items removed (one transaction for every
        call answered meanwhile), the retries kept (one transaction for them all), the items
        past their time to live moved to the failed list (one transaction each)."""
        acks = [item.id for item, verdict in verdicts if verdict.action == ACK]
        if acks:
            self.store.ack_outbox(acks)
        retries = [(item.id, verdict.attempts, verdict.at, verdict.error)
                   for item, verdict in verdicts if verdict.action == RETRY]
        if retries:
            self.store.retry_webhooks(retries)
        keep = self.policy.keep_failed
        for item, verdict in verdicts:
            if verdict.action == FAIL:
                self.store.fail_webhook(item.id, verdict.attempts, verdict.error, now,
                                        keep=keep)

    def release(self, items: Sequence[OutboxItem], now: float) -> None:
        """Items claimed and never sent (the courier stops): due again at once, so the next
        start sends them without waiting for their lease."""
        self.store.release_webhooks([item.id for item in items], now)

    def failed(self, account: str | None = None, *, after_id: int = 0,
               limit: int = 100) -> list[FailedWebhook]:
        """The failed webhooks (of one account), by id after ``after_id``: a page of at most
        ``limit`` (the HTTP API's ``GET /v1/webhooks/failed`` and ``smsc webhook failed``)."""
        return self.store.failed_webhooks(account, after_id=after_id, limit=limit)

    def replay(self, ids: Sequence[int] | None, now: float, *,
               account: str | None = None) -> list[OutboxItem]:
        """Put failed webhooks back into the outbox, due now, with a fresh time to live (their
        account's ``receipt_ttl``): those with the ``ids`` given (of ``account`` only, when
        given), or with None every one (of ``account``). A JSON webhook goes to its account's
        webhook_url as it is now (it may have been fixed since), a Kannel dlr-url to its own.
        Returns the items put back; ids not in the failed list are left out."""
        if ids is not None:
            wanted = set(ids)
            found = [f for f in self._every_failed(account) if f.item.id in wanted]
        else:
            found = list(self._every_failed(account))
        accounts: dict[str, Account | None] = {}
        out: list[OutboxItem] = []
        for failed in found:
            item = failed.item
            if item.account not in accounts:
                accounts[item.account] = self.store.get_account(item.account)
            owner = accounts[item.account]
            ttl = owner.receipt_ttl if owner is not None else DEFAULT_RECEIPT_TTL
            url = (owner.webhook_url if owner is not None and owner.webhook_url
                   and item.hook_style == HookStyle.JSON else None)
            back = self.store.replay_webhook(item.id, now, now + ttl, url)
            if back is not None:
                out.append(back)
        return out

    def _every_failed(self, account: str | None) -> list[FailedWebhook]:
        out: list[FailedWebhook] = []
        after = 0
        while True:
            page = self.store.failed_webhooks(account, after_id=after, limit=REPLAY_PAGE)
            out.extend(page)
            if len(page) < REPLAY_PAGE:
                return out
            after = page[-1].item.id
