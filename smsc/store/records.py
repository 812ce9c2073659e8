"""The records the store keeps: accounts, balances and ledger rows, messages, the outbox, lists.

Plain frozen dataclasses with no behaviour beyond small derived properties; times are POSIX
seconds (float, UTC); money is an integer of minor units (cents, kopiyky ...), never a float.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

DAY = 86_400.0
HOUR = 3_600.0


class BindType(IntEnum):
    TRANSMITTER = 1
    RECEIVER = 2
    TRANSCEIVER = 3

    @property
    def short(self) -> str:
        return {1: "tx", 2: "rx", 3: "trx"}[self.value]

    @classmethod
    def from_short(cls, name: str) -> BindType:
        return {"tx": cls.TRANSMITTER, "rx": cls.RECEIVER, "trx": cls.TRANSCEIVER}[name]

    @property
    def can_submit(self) -> bool:
        return self in (BindType.TRANSMITTER, BindType.TRANSCEIVER)

    @property
    def can_receive(self) -> bool:
        return self in (BindType.RECEIVER, BindType.TRANSCEIVER)


ALL_BIND_TYPES = frozenset(BindType)


class BlacklistMode(IntEnum):
    """What happens to a message for a blacklisted destination."""

    RECEIPT = 1  # accepted, not sent, not charged, UNDELIV receipt with a documented err code
    REFUSE = 2  # refused at submit with SMSC_RBLACKLISTED


class LockScope(IntEnum):
    """What an account's wrong passwords lock (see smsc.core.binds)."""

    PAIR = 1  # the account from that address only: a stranger elsewhere cannot lock it out
    ACCOUNT = 2  # also the whole account, counted from every address (the account asks for it)


class HookStyle(IntEnum):
    """Where a part's receipts (and an account's MO) go: to the account's SMPP receivers, or
    over HTTP (see docs/webhooks.md)."""

    NONE = 0  # to the SMPP receiver binds, as always
    JSON = 1  # a signed JSON webhook POST to the url
    KANNEL = 2  # a Kannel dlr-url: HTTP GET of the url template with Kannel's %-escapes


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageHook:
    """A message's own destination for its receipts, overriding its account's ``webhook_url``
    (the HTTP API's ``webhook_url``, Kannel's ``dlr-url``), and the customer's own reference
    for the message (the HTTP API's ``reference``). Style NONE with a reference keeps the
    account's default destination and only carries the reference."""

    url: str
    style: HookStyle
    reference: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    """A customer login. Sub-accounts name a ``parent`` and draw on its credit."""

    system_id: str
    password_hash: str
    parent: str | None = None
    currency: str = "EUR"
    enabled: bool = True
    max_binds: int = 10
    allowed_ips: tuple[str, ...] = ()  # CIDR blocks; empty means any address
    bind_types: frozenset[BindType] = ALL_BIND_TYPES
    throughput: float = 0.0  # messages per second; 0 means unlimited
    burst: int = 0  # token bucket depth; 0 means max(1, throughput)
    sender_ids: tuple[str, ...] = ()  # registered alphanumeric sender IDs
    require_registered_sender: bool = False
    default_sender: str = ""
    max_parts: int = 4
    receipt_ttl: float = 72 * HOUR  # how long undelivered receipts/MO wait for a bind
    # Read and kept for old stores and scripts; changes nothing: a message smsc splits always
    # gets one receipt, parts the customer submits one by one one each.
    receipt_per_message: bool = False
    recipient_local_time: bool = False
    blacklist_mode: BlacklistMode = BlacklistMode.RECEIPT
    refund_failed: bool = False  # refund parts that end REJECTD or UNDELIV
    test_account: bool = False
    created_at: float = 0.0
    # Outbind: where the server connects to ask this customer to bind as a receiver when it has
    # receipts or MO waiting and no receiver bound (a Twisted client endpoint string such as
    # "tcp:host=192.0.2.10:port=2776"; empty: never), and the password it presents there.
    outbind_to: str = ""
    outbind_password: str = ""
    # Refuse destinations that are possible but in no assigned range with ESME_RINVDSTADR at
    # submit, instead of accepting them to end UNDELIV err 1 (unknown subscriber).
    strict_numbers: bool = False
    # Parts of a long message the customer submits one by one (UDH or SAR): 0 sends each part
    # as it comes; more holds them (accepted, not sent) until the set is complete, at most this
    # many seconds from each part's acceptance, after which the parts held go as they are.
    hold_incomplete_sets: float = 0.0
    # Answer with SMPP 3.4 statuses only: each vendor-specific code (0x400-0x4FF) becomes the
    # standard status of smsc.pdu.constants.standard_status.
    standard_statuses: bool = False
    # Lockout: wrong passwords in a row that lock (None: the server's lock_after, or the test
    # account's; 0: never), and whether they lock the whole account besides the pair.
    lock_after: int | None = None
    lock_scope: LockScope = LockScope.PAIR
    # Receipts and MO by signed JSON webhook POSTs to this URL instead of the SMPP receivers
    # (empty: SMPP), signed with HMAC-SHA256 under ``webhook_secret`` (see docs/webhooks.md).
    webhook_url: str = ""
    webhook_secret: str = ""

    @property
    def credit_owner(self) -> str:
        return self.parent or self.system_id


@dataclass(frozen=True, slots=True, kw_only=True)
class LockState:
    """Failed-bind bookkeeping for an account or an address."""

    failures: int = 0
    locked_until: float = 0.0

    def locked(self, now: float) -> bool:
        return self.locked_until > now


class LockKind(StrEnum):
    """What a lock holds back: every bind of an account, one account from one address, or every
    bind from one address."""

    ACCOUNT = "account"  # by hand, or wrong passwords where the account's lock_scope asks
    PAIR = "pair"  # wrong passwords for one account from one address
    ADDRESS = "address"  # unknown system_ids from one address


@dataclass(frozen=True, slots=True, kw_only=True)
class BindLocks:
    """The three locks that can refuse one bind (account, the account from this address, this
    address)."""

    account: LockState = LockState()
    pair: LockState = LockState()
    address: LockState = LockState()

    @property
    def failures(self) -> bool:
        return bool(self.account.failures or self.pair.failures or self.address.failures)


@dataclass(frozen=True, slots=True, kw_only=True)
class Lock:
    """A row of failed-bind bookkeeping: a counter, a lock, or both. ``system_id`` is empty
    for an address, ``address`` for an account."""

    kind: LockKind
    system_id: str = ""
    address: str = ""
    failures: int = 0
    locked_until: float = 0.0
    last_failed_at: float = 0.0

    @property
    def state(self) -> LockState:
        return LockState(failures=self.failures, locked_until=self.locked_until)

    def locked(self, now: float) -> bool:
        return self.locked_until > now


class Bucket(IntEnum):
    SUBSCRIPTION = 1  # lapses at the end of its period; spent first
    BOUGHT = 2  # never lapses


class LedgerKind(IntEnum):
    TOPUP = 1
    DEBIT = 2
    REFUND = 3
    LAPSE = 4
    ADJUST = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class Balance:
    owner: str
    bought: int = 0
    subscription: int = 0
    subscription_expires_at: float | None = None

    def available(self, now: float) -> int:
        return self.bought + self.subscription_now(now)

    def subscription_now(self, now: float) -> int:
        if self.subscription_expires_at is not None and self.subscription_expires_at <= now:
            return 0
        return self.subscription


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerEntry:
    id: int
    owner: str
    at: float
    kind: LedgerKind
    bucket: Bucket
    amount: int  # signed: + credit, - debit
    balance_after: int  # bought + subscription after this row
    account: str = ""  # the (sub-)account that caused it
    message_id: int | None = None
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class NewMessage:
    """One part for one destination, prepared by the core and committed by ``Store.accept``."""

    message_id: int
    account: str
    credit_owner: str
    source_addr_ton: int
    source_addr_npi: int
    source_addr: str
    dest_addr_ton: int
    dest_addr_npi: int
    destination_addr: str
    esm_class: int
    protocol_id: int = 0
    priority_flag: int = 0
    data_coding: int
    registered_delivery: int
    short_message: bytes
    tlvs: bytes = b""  # encoded optional parameters to forward (message_payload already split)
    service_type: str = ""
    part_ref: int = 0
    part_total: int = 1
    part_index: int = 1
    operator: str
    route: str
    price: int  # charge for this part, in minor units
    submitted_at: float
    scheduled_at: float | None = None
    expires_at: float
    next_at: float  # when the operator queue first looks at it
    text_snippet: str = ""  # first 20 characters, for the receipt text
    blacklisted: bool = False  # accepted but not to be sent (UNDELIV, not charged)
    forced_state: int = 0  # a MessageState decided at submit (coverage, test numbers); 0: none
    forced_error: int = 0  # the err code that goes with forced_state
    # The part's own receipt destination (a MessageHook): url and HookStyle; style 0 (NONE)
    # leaves it to the account (its webhook_url, else its SMPP receivers).
    hook_url: str = ""
    hook_style: int = 0
    reference: str | None = None  # the customer's reference (HTTP API), shown back; no effect


@dataclass(frozen=True, slots=True, kw_only=True)
class AcceptOutcome:
    """Result of one message in ``Store.accept``: accepted (status 0) or refused (a status)."""

    message_id: int
    destination_addr: str = ""
    status: int
    charged: int = 0
    part_ids: tuple[int, ...] = ()  # the stored parts' ids, in the order they were given
    # receipts of its parts final at acceptance, stored, with their ids
    items: tuple[OutboxItem, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredMessage:
    """A message part as the store holds it (the operator queue and the report)."""

    id: int
    message_id: int
    account: str
    credit_owner: str
    source_addr_ton: int
    source_addr_npi: int
    source_addr: str
    dest_addr_ton: int
    dest_addr_npi: int
    destination_addr: str
    esm_class: int
    protocol_id: int
    priority_flag: int
    data_coding: int
    registered_delivery: int
    short_message: bytes
    tlvs: bytes
    service_type: str
    part_ref: int
    part_total: int
    part_index: int
    operator: str
    route: str
    price: int
    charged_subscription: int
    charged_bought: int
    submitted_at: float
    scheduled_at: float | None
    expires_at: float
    next_at: float | None
    state: int  # smsc.pdu.constants.MessageState
    attempts: int
    done_at: float | None
    error_code: int
    text_snippet: str
    blacklisted: bool
    refunded: int
    forced_state: int = 0
    forced_error: int = 0
    hook_url: str = ""  # as NewMessage.hook_url
    hook_style: int = 0  # a HookStyle
    reference: str | None = None  # as NewMessage.reference


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageChange:
    """What the operator simulation decided for one stored part."""

    id: int
    state: int
    next_at: float | None  # None once final
    attempts: int
    done_at: float | None = None
    error_code: int = 0
    refund: bool = False  # give the charge back (account policy on REJECTD/UNDELIV, blacklist)
    # For cancel/replace: new content (None keeps the stored value).
    short_message: bytes | None = None
    registered_delivery: int | None = None
    scheduled_at: float | None = None
    expires_at: float | None = None
    text_snippet: str | None = None


class OutboxKind(IntEnum):
    RECEIPT = 1
    MO = 2
    ALERT = 3  # an alert_notification (a request without a response)


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxItem:
    """A request waiting for a customer's receiver: a receipt or an MO message (deliver_sm),
    or an alert_notification.

    ``pdu`` is the encoded PDU with sequence_number 0; the sender stamps its own.
    """

    id: int = 0  # assigned by the store
    account: str
    kind: OutboxKind
    pdu: bytes
    created_at: float
    expires_at: float
    message_id: int | None = None
    attempts: int = 0
    not_before: float = 0.0  # not sent before this time (a handset's reply after a delay)
    # Where it goes, decided when it is made (smsc.core.hooks.item_hook): HookStyle NONE to
    # the account's SMPP receivers, JSON or KANNEL over HTTP to ``hook_url``.
    hook_url: str = ""
    hook_style: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class FailedWebhook:
    """An outbox item with a hook whose time to live ended undelivered: kept (bounded) in the
    failed list for ``smsc webhook failed`` and ``replay``. ``item`` is the outbox item as it
    last was (its id, the event id, is kept through a replay)."""

    item: OutboxItem
    attempts: int  # HTTP attempts made
    last_error: str  # the last answer or error ("HTTP 500", "timeout" ...); "" if never tried
    failed_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class FinalAtAcceptance:
    """A part whose operator decided its fate the moment it was accepted (an operator that
    delivers at once, with room in its throughput): ``Store.accept`` stores the part in this
    final state and its receipt, if any, in the same transaction."""

    state: int  # a final MessageState
    attempts: int
    done_at: float
    error_code: int = 0
    receipt: OutboxItem | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BlacklistEntry:
    number: str  # digits; a prefix when ``prefix`` is set
    account: str = ""  # "" means every account
    prefix: bool = False
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PortedNumber:
    number: str
    operator: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageFilter:
    account: str | None = None
    state: int | None = None
    operator: str | None = None
    since: float | None = None
    until: float | None = None
    message_id: int | None = None
    limit: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SummaryRow:
    key: tuple[str, ...]
    parts: int
    messages: int
    charged: int
    refunded: int
    states: dict[int, int] = field(default_factory=dict, hash=False)
