"""The Store interface: everything smsc keeps, behind one protocol.

Implementations: :mod:`smsc.store.sqlite` (the embedded default) and :mod:`smsc.store.memory`
(tests). A server database for several nodes implements the same protocol: every method is one
transaction, atomic on its own, and nothing here assumes a single writer process (credit is debited
with a conditional update, ids come from the store, the outbox is claimed by id).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from smsc.store.api_base import ApiStore
from smsc.store.campaign_records import Campaign, CampaignMark, CampaignState, MarkState
from smsc.store.cluster_base import ClusterStore
from smsc.store.contact_records import Contact, ContactList, OptOut
from smsc.store.records import (
    AcceptOutcome,
    Account,
    Balance,
    BindLocks,
    BlacklistEntry,
    Bucket,
    FailedWebhook,
    FinalAtAcceptance,
    LedgerEntry,
    LedgerKind,
    Lock,
    LockKind,
    LockState,
    MessageChange,
    MessageFilter,
    NewMessage,
    OutboxItem,
    PortedNumber,
    StoredMessage,
    SummaryRow,
)

CLOSED_ACCOUNT_NOTE = "account removed"  # the note of the rows closing a removed account's credit
FAILED_WEBHOOKS_KEPT = 10_000  # rows the failed-webhook list keeps, the newest failures
MAX_WEBHOOK_ERROR = 500  # characters of a webhook's last error kept


class StoreError(Exception):
    """A request the store cannot carry out (unknown account, duplicate key ...)."""


class AccountExists(StoreError):
    pass


class UnknownAccount(StoreError):
    pass


class ContactListExists(StoreError):
    """An account already has a contact list of that name."""


class UnknownContactList(StoreError):
    """No contact list has that id."""


class CampaignExists(StoreError):
    """An account already has a campaign of that name."""


class UnknownCampaign(StoreError):
    """No campaign has that id."""


class MarkedTwice(StoreError):
    """A campaign's contact was to be sent or skipped a second time (nothing was written)."""


LOCK_KINDS = (LockKind.ACCOUNT, LockKind.PAIR, LockKind.ADDRESS)  # BindLocks' field order


def lock_key(kind: LockKind, system_id: str, address: str) -> tuple[str, str, str]:
    """The key of a lock row: an account's ignores the address, an address's the system_id."""
    if kind == LockKind.ACCOUNT:
        return kind.value, system_id, ""
    if kind == LockKind.ADDRESS:
        return kind.value, "", address
    return kind.value, system_id, address


def count_failure(old: Lock | None, key: tuple[str, str, str], now: float, lock_after: int,
                  lock_for: float) -> Lock:
    """A lock row after one more failed bind: a lock that has run out starts a fresh count; the
    count reaching ``lock_after`` (0: never) locks for ``lock_for`` seconds; a failure while
    locked counts but does not extend the lock."""
    failures, until = 0, 0.0
    if old is not None and not (old.locked_until and old.locked_until <= now):
        failures, until = old.failures, old.locked_until
    failures += 1
    if lock_after > 0 and failures >= lock_after and until <= now:
        until = now + lock_for
    return Lock(kind=LockKind(key[0]), system_id=key[1], address=key[2], failures=failures,
                locked_until=until, last_failed_at=now)


def hand_lock(old: Lock | None, system_id: str, locked_until: float) -> Lock:
    """An account locked by hand until ``locked_until``, keeping the count it had."""
    return Lock(kind=LockKind.ACCOUNT, system_id=system_id, locked_until=locked_until,
                failures=old.failures if old is not None else 0,
                last_failed_at=old.last_failed_at if old is not None else 0.0)


class Store(ApiStore, ClusterStore, Protocol):
    """Everything smsc keeps; the HTTP API's part (API keys, Idempotency-Key answers, message
    pages) is declared in :class:`smsc.store.api_base.ApiStore`, what lets several nodes share
    one database (heartbeats, bind registrations, throughput shares, outbox leases) in
    :class:`smsc.store.cluster_base.ClusterStore`."""

    # --- lifecycle and meta ---------------------------------------------------------------
    def close(self) -> None: ...

    def reserve_ids(self, count: int) -> int:
        """Reserve ``count`` fresh message ids, never handed out before (across restarts and
        nodes); returns the first of the block ``[first, first + count)``."""
        ...

    def begin_generation(self) -> int:
        """A number never returned before, for a server process that starts (see accept)."""
        ...

    def change_counter(self) -> int:
        """A number that grows whenever accounts, balances' settings, the blacklist or the
        portability table change, or an opt-out is added, so a running server can notice
        edits made from the CLI (and, sharing the store, another node's)."""
        ...

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    # --- accounts ---------------------------------------------------------------------------
    def create_account(self, account: Account) -> None:
        """Raises AccountExists; a sub-account's parent must exist (UnknownAccount). A main
        account starts at zero: credit left under its name by an account removed without
        closing it (before delete_account closed it) is closed first, at ``created_at``."""
        ...

    def get_account(self, system_id: str) -> Account | None: ...

    def update_account(self, account: Account) -> None:
        """Replace the stored account of ``account.system_id`` (UnknownAccount if none)."""
        ...

    def delete_account(self, system_id: str, *, now: float = 0.0) -> None:
        """Remove an account (StoreError while it has sub-accounts, UnknownAccount if none).

        A main account's remaining credit is closed in the same transaction: each bucket that
        holds credit gets an ADJUST ledger row taking it to zero (note "account removed", at
        ``now``), so the ledger still adds up and a new account of that name starts at zero."""
        ...

    def list_accounts(self) -> list[Account]: ...

    # --- lockout: failed binds counted per kind of lock (see smsc.core.binds) ---------------------
    def bind_failed(self, kind: LockKind, system_id: str, address: str, now: float,
                    lock_after: int, lock_for: float) -> LockState:
        """Count a failed bind against one lock (an ACCOUNT lock ignores ``address``, an
        ADDRESS lock ``system_id``), locking it for ``lock_for`` seconds when the count reaches
        ``lock_after`` (0: never). A lock that has run out starts a fresh count; a failure
        while locked counts but does not extend the lock. Returns the new state."""
        ...

    def bind_succeeded(self, system_id: str, address: str, now: float) -> None:
        """Reset the account's, the pair's and the address's counters (locks in force stay)."""
        ...

    def bind_locks(self, system_id: str, address: str) -> BindLocks:
        """The account's, the (account, address) pair's and the address's states."""
        ...

    def set_lock(self, system_id: str, locked_until: float) -> None:
        """Lock (or with 0, unlock) an account by hand; unlocking also clears its counter."""
        ...

    def unlock(self, kind: LockKind, system_id: str, address: str) -> bool:
        """Remove one lock with its counter (keys as in bind_failed); whether there was one."""
        ...

    def locks(self, now: float) -> list[Lock]:
        """Every lock in force and every counter not yet run out, by kind, system_id, address."""
        ...

    def purge_locks(self, now: float, stale_before: float, max_counters: int) -> int:
        """Forget locks that have run out and counters whose last failure is older than
        ``stale_before``; then, while more than ``max_counters`` rows hold no lock, the oldest
        of them. Locks in force are kept. Returns how many rows went."""
        ...

    # --- credit -------------------------------------------------------------------------------
    def balance(self, owner: str, now: float) -> Balance:
        """The balance of a credit owner, after lapsing an expired subscription (with its
        ledger row)."""
        ...

    def credit(
        self,
        owner: str,
        amount: int,
        bucket: Bucket,
        now: float,
        *,
        expires_at: float | None = None,
        note: str = "",
        account: str = "",
        kind: LedgerKind | None = None,
    ) -> Balance:
        """Top up (amount > 0) or adjust (amount < 0, never below zero) a bucket. For the
        subscription bucket ``expires_at`` sets the end of its period. The ledger row's kind
        is TOPUP or ADJUST by the sign of ``amount`` unless ``kind`` says (a correction that
        adds credit is an ADJUST)."""
        ...

    def ledger(
        self, owner: str, *, since: float | None = None, limit: int | None = None
    ) -> list[LedgerEntry]: ...

    # --- acceptance (group commit) --------------------------------------------------------
    def accept(self, batch: Sequence[NewMessage], now: float, *, hot_until: float | None = None,
               generation: int = 0,
               decided: Sequence[FinalAtAcceptance | None] | None = None
               ) -> list[AcceptOutcome]:
        """Commit a batch of parts in one transaction.

        Parts are grouped by (message_id, destination_addr): the parts of one message for one
        destination are all-or-nothing (a submit_multi has one group per destination). A group's
        total price is debited from its credit owner (subscription first, then bought) only if
        it fits; a group that does not fit is refused (SMSC_RNOCREDIT) and nothing of it is
        stored or billed. Groups are debited in batch order. Returns one outcome per group, in
        first-seen order, with the ids of its stored parts.

        ``hot_until`` and ``generation``: parts due by ``hot_until`` are marked as held in the
        memory of the process with that ``generation`` (see :meth:`begin_generation`), which
        takes them itself; :meth:`take_due` with ``exclude_generation`` leaves them out until
        :meth:`apply` changes them. After a restart the new generation takes them all.

        ``decided``, when given, runs along ``batch``: a part with a :class:`FinalAtAcceptance` is
        stored
        in that final state (out of every queue, never held) and its receipt is added to the
        outbox, in the same transaction, if its group is accepted; the group's outcome lists
        its receipts with their ids in ``items``, in its parts' order. A refused group stores
        neither."""
        ...

    # --- operator queues --------------------------------------------------------------------
    def take_due(self, now: float, limit: int, operators: Sequence[str] | None = None, *,
                 exclude_generation: int | None = None,
                 lease: float = 0.0) -> list[StoredMessage]:
        """Up to ``limit`` non-final parts whose ``next_at`` <= now, oldest first (ties by id),
        leaving out parts held by ``exclude_generation`` and parts under a claim whose lease
        runs past ``now``. Taking does not change them; ``apply`` does.

        ``lease`` > 0 claims the parts taken until ``now + lease``: no other take_due (another
        node's) returns them before that, unless :meth:`apply` changes them first, which ends
        the claim. A claimer that dies leaves its parts to be taken again when the lease runs
        out. PostgreSQL shares claims between nodes (``FOR UPDATE SKIP LOCKED``: two claimers
        never get the same part); the memory and SQLite stores keep them in the store object
        (one process)."""
        ...

    def apply(
        self, changes: Sequence[MessageChange], outbox: Sequence[OutboxItem], now: float
    ) -> list[OutboxItem]:
        """In one transaction: apply state changes (refunding where asked, with ledger rows)
        and add outbox items; returns the outbox items with their ids."""
        ...

    def queue_depths(self) -> dict[str, int]:
        """Non-final parts per operator."""
        ...

    def get_messages(self, message_id: int) -> list[StoredMessage]:
        """Every part (and destination) stored under a message id, in part order."""
        ...

    def find_pending(
        self, account: str, source_addr: str, destination_addr: str, service_type: str
    ) -> list[StoredMessage]:
        """Non-final parts of an account matching source/destination (cancel_sm without id)."""
        ...

    # --- outbox (receipts and MO waiting for a customer's receiver) ---------------------
    def add_outbox(self, items: Sequence[OutboxItem]) -> list[OutboxItem]: ...

    def outbox_for(self, account: str, after_id: int, limit: int, now: float, *,
                   hooked: bool = False, lease: float = 0.0) -> list[OutboxItem]:
        """Unexpired items of an account with id > after_id and no hook (``hook_style`` 0: for
        its SMPP receivers), in id order (items whose ``not_before`` lies ahead included: the
        reader holds them until then), leaving out items under a claim whose lease runs past
        ``now``. Items with a hook are the webhook courier's; with ``hooked`` it is those (and
        only those) that are listed, the same way (for reports).

        ``lease`` > 0 claims the items listed until ``now + lease``, as :meth:`take_due` claims
        parts: several nodes with receivers of one account each get different items, and the
        items of a node that dies come back when the lease runs out. :meth:`ack_outbox` removes
        them; :meth:`release_outbox` ends a claim early."""
        ...

    def release_outbox(self, ids: Sequence[int]) -> None:
        """End the claims (see :meth:`outbox_for`) on these items, unsent: they may be listed
        again at once. Ids not in the outbox are left out."""
        ...

    def ack_outbox(self, ids: Sequence[int]) -> None:
        """Remove delivered items (their deliver_sm_resp arrived)."""
        ...

    def expire_outbox(self, now: float, *, keep_failed: int = FAILED_WEBHOOKS_KEPT) -> int:
        """Remove items past their time to live (``expires_at <= now``); returns how many left
        the outbox. Items with a hook (``hook_style`` != 0) are not dropped: each moves to the
        failed-webhook list as :meth:`fail_webhook` would move it (its attempts, its last error
        as :meth:`retry_webhook` recorded it, or "expired" if it has none, ``failed_at`` =
        now), in the same transaction, the list then cut to ``keep_failed`` rows."""
        ...

    def outbox_count(self, account: str | None = None) -> int: ...

    # --- webhooks: outbox items with a hook, carried over HTTP ---------------------------------
    def claim_webhooks(self, now: float, limit: int, lease: float, *,
                       keep_failed: int = FAILED_WEBHOOKS_KEPT) -> list[OutboxItem]:
        """Take up to ``limit`` items with a hook (``hook_style`` != 0) that are due
        (``not_before <= now``) and alive (``expires_at > now``), earliest ``not_before``
        first, ties by id. First, in the same transaction, the due ones past their time to
        live move to the failed list as :meth:`expire_outbox` moves them (so a retry that
        came due too late fails at once, not at the next expiry sweep). Then each item
        taken has its ``not_before`` set to ``now + lease``: no other claim (another
        process or node, a later rescan) returns it before the lease runs out, so a courier
        that dies mid-call leaves it to be claimed again then. The items are returned as
        stored after the claim (``not_before`` = now + lease; ``attempts`` unchanged).
        Nothing due: nothing is written."""
        ...

    def retry_webhook(self, item_id: int, attempts: int, not_before: float, error: str) -> bool:
        """Record a failed HTTP attempt of a hooked item: its ``attempts`` and when it is due
        next (``not_before``) are set, and ``error`` kept as its last error (its first
        MAX_WEBHOOK_ERROR characters). False (nothing written) if the item is gone."""
        ...

    def retry_webhooks(self, retries: Sequence[tuple[int, int, float, str]]) -> int:
        """:meth:`retry_webhook` for each ``(item_id, attempts, not_before, error)`` (the
        events of a call that failed together), in one transaction; how many were written."""
        ...

    def fail_webhook(self, item_id: int, attempts: int, error: str, now: float, *,
                     keep: int = FAILED_WEBHOOKS_KEPT) -> bool:
        """Move a hooked item from the outbox to the failed-webhook list in one transaction
        (``attempts``, ``error`` as its last error, ``failed_at`` = now), then drop the oldest
        failures (by ``failed_at``, then id) while the list holds more than ``keep`` rows.
        False (nothing written) if the item is not in the outbox."""
        ...

    def release_webhooks(self, ids: Sequence[int], now: float) -> None:
        """End the claims on these hooked items (a courier stopping with them unsent): each
        whose ``not_before`` lies after ``now`` becomes due at ``now``; nothing else changes.
        Ids not in the outbox are left out. The caller names only items it claimed (an item
        waiting for a retry would be made due too)."""
        ...

    def failed_webhooks(self, account: str | None = None, *, after_id: int = 0,
                        limit: int = 100) -> list[FailedWebhook]:
        """Failed webhooks (of one account, or all with None) whose item id > ``after_id``, in
        item id order, at most ``limit``: a cursor for paging."""
        ...

    def replay_webhook(self, item_id: int, now: float, expires_at: float,
                       hook_url: str | None = None) -> OutboxItem | None:
        """Move a failed webhook back into the outbox under its own id (its event id), due at
        once (``not_before`` = now), ``attempts`` 0, no last error, alive until
        ``expires_at``, to ``hook_url`` when given (else its own); one transaction. Returns
        the item as stored, or None if no failed webhook has that id."""
        ...

    # --- blacklist and number portability -----------------------------------------------
    def add_blacklist(self, entries: Sequence[BlacklistEntry]) -> int: ...

    def remove_blacklist(self, number: str, account: str = "", prefix: bool = False) -> bool: ...

    def blacklist(self, account: str | None = None) -> list[BlacklistEntry]:
        """Entries of one account ("" = global only), or every entry with None."""
        ...

    def add_ported(self, entries: Sequence[PortedNumber]) -> int: ...

    def remove_ported(self, number: str) -> bool: ...

    def ported(self) -> list[PortedNumber]: ...

    # --- reports ---------------------------------------------------------------------------
    def messages(self, query: MessageFilter) -> Iterator[StoredMessage]: ...

    def summary(self, group_by: Sequence[str], query: MessageFilter) -> list[SummaryRow]:
        """Counts per group; group_by names among 'account', 'operator', 'state', 'route'."""
        ...

    # --- contact lists and opt-outs (campaigns; see smsc.store.contact_records) --------------
    # Nothing here returns more than a page: a list of a million contacts is read page by page
    # (``contacts`` with a cursor) and written batch by batch (``add_contacts``).
    def create_contact_list(self, account: str, name: str, *, country: str = "",
                            now: float) -> ContactList:
        """A new, empty list of ``account`` (UnknownAccount if there is no such account;
        ContactListExists if the account has a list of that ``name``, compared exactly).
        Ids are positive, never reused. Returns it with ``size`` 0 and no columns."""
        ...

    def contact_list(self, account: str, name: str) -> ContactList | None:
        """The list ``name`` of ``account`` with its current ``size``, or None."""
        ...

    def contact_list_by_id(self, list_id: int) -> ContactList | None:
        """The list with id ``list_id`` with its current ``size``, or None."""
        ...

    def contact_lists(self, account: str | None = None) -> list[ContactList]:
        """Every list of ``account`` (None: of every account) with its size, by account then
        name."""
        ...

    def add_contacts(self, list_id: int, contacts: Sequence[Contact],
                     columns: Sequence[str] = ()) -> list[bool]:
        """Add contacts to a list in one transaction (UnknownContactList if there is none).

        A contact whose number the list already holds (stored before, or earlier in this
        batch) is left out and the stored one kept unchanged. Returns, along ``contacts``,
        whether each was added; added contacts get ids greater than every id handed out
        before, in batch order. ``columns`` not yet among the list's columns are appended to
        them, in the order given (also when no contact was added)."""
        ...

    def contacts(self, list_id: int, *, after: int = 0, limit: int = 1000) -> list[Contact]:
        """Up to ``limit`` (at most MAX_PAGE) contacts of a list with ``id`` > ``after``, in id
        order, with their ids: pass the last id as ``after`` for the next page. A list that
        does not exist has no contacts."""
        ...

    def contacts_present(self, list_ids: Sequence[int], numbers: Sequence[str]) -> set[str]:
        """Which of ``numbers`` (at most MAX_PAGE) any of the lists ``list_ids`` holds."""
        ...

    def remove_contacts(self, list_id: int, numbers: Sequence[str]) -> int:
        """Remove these numbers from a list; how many were there."""
        ...

    def delete_contact_list(self, list_id: int) -> bool:
        """Delete a list and its contacts in one transaction; whether it existed."""
        ...

    def opt_out(self, account: str, number: str, now: float, note: str = "") -> bool:
        """Put ``number`` on ``account``'s opt-out list (at ``now``); False if it was there
        already (its time and note are kept). The account need not exist."""
        ...

    def opt_in(self, account: str, number: str) -> bool:
        """Take ``number`` off ``account``'s opt-out list; whether it was on it."""
        ...

    def opted_out(self, account: str, numbers: Sequence[str]) -> set[str]:
        """Which of ``numbers`` (at most MAX_PAGE) are on ``account``'s opt-out list (the
        account's own list only: a sub-account's and its parent's are apart)."""
        ...

    def opt_outs(self, account: str, *, after: str = "", limit: int = 1000) -> list[OptOut]:
        """Up to ``limit`` (at most MAX_PAGE) numbers on ``account``'s opt-out list greater
        than ``after`` (as text), in number order."""
        ...

    # --- campaigns (see smsc.store.campaign_records) -------------------------------------------
    def create_campaign(self, campaign: Campaign, now: float) -> Campaign:
        """Store a new campaign (its ``id``, state, cursor and times are set here: a new id,
        DRAFT, (0, 0), ``now``). UnknownAccount without its account; UnknownContactList when a
        list does not exist or is another account's; CampaignExists when the account has a
        campaign of that name."""
        ...

    def campaign(self, campaign_id: int) -> Campaign | None: ...

    def campaigns(self, account: str | None = None) -> list[Campaign]:
        """Every campaign of ``account`` (None: of all), by account then id."""
        ...

    def set_campaign_state(self, campaign_id: int, state: CampaignState, now: float,
                           reason: str = "") -> Campaign:
        """Set a campaign's state and pause reason (UnknownCampaign); returns it."""
        ...

    def accept_campaign(self, campaign_id: int, batch: Sequence[NewMessage],
                        marks: Sequence[CampaignMark], now: float, *,
                        cursor: tuple[int, int] | None = None,
                        hot_until: float | None = None, generation: int = 0,
                        decided: Sequence[FinalAtAcceptance | None] | None = None
                        ) -> list[AcceptOutcome]:
        """In one transaction: :meth:`accept` the batch, write the marks, move the cursor.

        MarkedTwice (nothing written) if a mark's number already has a SENT or SKIPPED mark in
        this campaign, or appears twice in ``marks``. A SENT mark is written only if its group
        (``message_id``, ``number``) was accepted; a refused group (no credit) leaves its
        number unmarked. SKIPPED and WAITING marks are written as given (each replaces a
        WAITING mark of its number). ``cursor`` (list index, contact id) is stored only when
        every group was accepted. Returns accept's outcomes."""
        ...

    def campaign_marked(self, campaign_id: int, numbers: Sequence[str]) -> dict[str, MarkState]:
        """The marks' states of those of ``numbers`` (at most MAX_PAGE) the campaign has."""
        ...

    def campaign_waiting(self, campaign_id: int, due_by: float,
                         limit: int = 1000) -> list[CampaignMark]:
        """Up to ``limit`` WAITING marks due by ``due_by``, by due time then number."""
        ...

    def campaign_counts(self, campaign_id: int) -> dict[MarkState, int]:
        """How many of the campaign's numbers are in each mark state."""
        ...

    def campaign_marks(self, campaign_id: int, *, after: str = "",
                       limit: int = 1000) -> list[CampaignMark]:
        """Up to ``limit`` (at most MAX_PAGE) marks with number > ``after``, by number."""
        ...
