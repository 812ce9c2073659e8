"""A campaign's report and the cleaning of its lists, read from its marks and their messages.

Each contact's outcome is its mark (sent, skipped, waiting) and, for a sent one, its message's
as a whole, the way its one receipt says it (``smsc.operators.receipts.message_receipt``):
ENROUTE while any part waits, else the worst final state of its parts (REJECTD before UNDELIV
before EXPIRED ... before DELIVRD) with that part's error code. The delivery rate is the
delivered messages over the messages sent whose outcome is final.

Cleaning (:func:`clean_lists`) takes out of its list every contact whose message ended
REJECTD (any error), or UNDELIV with err 1 (unknown subscriber): numbers that will not work
again. They are removed, or moved to another list of the account (number and fields).

Both read page by page (marks by number, then each sent mark's parts by message id): memory is
one page whatever the campaign's size.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Final

from smsc.operators.receipts import is_finished, state_severity
from smsc.pdu.constants import MessageState
from smsc.pdu.receipt_text import STAT_BY_STATE
from smsc.routing.forced_outcomes import ERR_UNKNOWN_SUBSCRIBER
from smsc.store.base import Store
from smsc.store.campaign_records import CampaignMark, MarkState
from smsc.store.contact_records import Contact, ContactList

PAGE: Final = 1000
PENDING: Final = "ENROUTE"
_REJECTED, _UNDELIVERABLE = int(MessageState.REJECTED), int(MessageState.UNDELIVERABLE)


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactOutcome:
    number: str
    mark: MarkState
    note: str = ""
    message_id: int | None = None
    stat: str = ""  # DELIVRD, UNDELIV ... or ENROUTE; "" when not sent
    state: int = 0  # the message's state as a whole (0: not sent)
    error_code: int = 0
    parts: int = 0
    charged: int = 0  # minor units, after refunds
    list_id: int = 0
    contact_id: int = 0

    @property
    def unreachable(self) -> bool:
        """Ended REJECTD, or UNDELIV for an unknown subscriber: cleaning takes it out."""
        return self.state == _REJECTED or (self.state == _UNDELIVERABLE
                                           and self.error_code == ERR_UNKNOWN_SUBSCRIBER)


@dataclass(slots=True)
class CampaignReport:
    marks: Counter[str] = field(default_factory=Counter)  # sent / skipped / waiting
    outcomes: Counter[str] = field(default_factory=Counter)  # stat of the sent messages
    errors: Counter[tuple[str, int]] = field(default_factory=Counter)  # (stat, err) failures
    skipped: Counter[str] = field(default_factory=Counter)  # skipped, by why
    parts: int = 0
    charged: int = 0

    def add(self, o: ContactOutcome) -> None:
        """Count one contact's outcome."""
        self.marks[o.mark.value] += 1
        if o.mark == MarkState.SKIPPED:
            self.skipped[o.note.split(" (", 1)[0] or "skipped"] += 1
        if o.stat:
            self.outcomes[o.stat] += 1
            self.parts += o.parts
            self.charged += o.charged
            if o.stat not in (PENDING, "DELIVRD", "ACCEPTD"):
                self.errors[(o.stat, o.error_code)] += 1

    @property
    def finished(self) -> int:
        return sum(v for k, v in self.outcomes.items() if k != PENDING)

    @property
    def delivery_rate(self) -> float | None:
        """Delivered over sent-and-final (None before any is final)."""
        done = self.finished
        return self.outcomes.get("DELIVRD", 0) / done if done else None


def _outcome(store: Store, mark: CampaignMark) -> ContactOutcome:
    base = ContactOutcome(number=mark.number, mark=mark.state, note=mark.note,
                          message_id=mark.message_id, list_id=mark.list_id,
                          contact_id=mark.contact_id)
    if mark.state != MarkState.SENT or mark.message_id is None:
        return base
    parts = [p for p in store.get_messages(mark.message_id)
             if p.destination_addr == mark.number]
    if not parts:
        return base
    charged = sum(p.charged_subscription + p.charged_bought - (p.refunded or 0) for p in parts)
    if not all(is_finished(p) for p in parts):
        return replace(base, stat=PENDING, state=int(MessageState.ENROUTE), parts=len(parts),
                       charged=charged)
    worst = min(parts, key=lambda p: (state_severity(p.state), p.part_index))
    return replace(base, stat=STAT_BY_STATE[MessageState(worst.state)], state=worst.state,
                   error_code=worst.error_code, parts=len(parts), charged=charged)


def outcome_pages(store: Store, campaign_id: int) -> Iterator[list[ContactOutcome]]:
    """Every number of the campaign with its outcome, by number, a page per ``next`` (a
    server runs each ``next`` as one call on its store thread)."""
    after = ""
    while True:
        page = store.campaign_marks(campaign_id, after=after, limit=PAGE)
        if not page:
            return
        after = page[-1].number
        yield [_outcome(store, mark) for mark in page]


def outcomes(store: Store, campaign_id: int,
             each: Callable[[ContactOutcome], None]) -> None:
    """Every number of the campaign with its outcome, by number, page by page."""
    for page in outcome_pages(store, campaign_id):
        for o in page:
            each(o)


def campaign_report(store: Store, campaign_id: int,
                    each: Callable[[ContactOutcome], None] | None = None) -> CampaignReport:
    """The campaign's counts (``each`` also hears every contact's outcome)."""
    report = CampaignReport()

    def count(o: ContactOutcome) -> None:
        report.add(o)
        if each is not None:
            each(o)

    outcomes(store, campaign_id, count)
    return report


@dataclass(frozen=True, slots=True)
class Cleaned:
    removed: int
    moved: int


def clean_lists(store: Store, campaign_id: int, *, move_to: ContactList | None = None,
                dry_run: bool = False) -> Cleaned:
    """Take the campaign's unreachable contacts out of their lists (see the module), or move
    them to ``move_to``; with ``dry_run`` only count them."""
    found: list[ContactOutcome] = []
    removed = moved = 0

    def flush() -> None:
        nonlocal removed, moved
        by_list: dict[int, list[ContactOutcome]] = {}
        for o in found:
            by_list.setdefault(o.list_id, []).append(o)
        for list_id, items in by_list.items():
            if move_to is not None:
                contacts = []
                for o in items:
                    page = store.contacts(list_id, after=o.contact_id - 1, limit=1)
                    fields = page[0].fields if page and page[0].id == o.contact_id else {}
                    contacts.append(Contact(number=o.number, fields=fields))
                columns = store.contact_list_by_id(list_id)
                added = store.add_contacts(move_to.id, contacts,
                                           columns.columns if columns is not None else ())
                moved += sum(added)
            removed += store.remove_contacts(list_id, [o.number for o in items])
        found.clear()

    def take(o: ContactOutcome) -> None:
        nonlocal removed
        if not o.unreachable:
            return
        if dry_run:
            removed += 1
            return
        found.append(o)
        if len(found) >= PAGE:
            flush()

    outcomes(store, campaign_id, take)
    if found:
        flush()
    return Cleaned(removed, moved)
