"""A campaign's preview before it is sent: every contact of its lists personalised, split and
priced as its SMPP submit would be (:mod:`smsc.core.text_quote`), counted by outcome, with the
total against the credit owner's balance. Nothing is stored or billed.

Each contact is counted once, in the first of these that applies, in this order:

1. ``duplicates``: its number is in an earlier list of the campaign (one message per number);
2. ``opted_out``: the number is on the account's opt-out list;
3. ``missing``: the template needs a value the contact lacks (the campaign refuses to start
   while any contact is missing a value: give the field a default or fix the list);
4. ``blacklisted``: the global or the account's blacklist has it (with blacklist_mode RECEIPT
   the submit would be accepted, never sent and never charged; with REFUSE, refused);
5. ``invalid``: its submit would be refused (no route, coverage, too many parts, a test
   number ...), counted per reason;
6. otherwise ``sendable``: its parts and price add to the totals, per route and encoding.

Memory: one page of contacts (``page``) and the first ``first_rows`` rows and ``max_listed``
problems, whatever the length of the lists.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from smsc.core.routebook import RouteFn
from smsc.core.templates import BoundTemplate, MissingValue, Template, TemplateError
from smsc.core.text_quote import BLACKLIST_REFUSAL, campaign_submit, quote_submit
from smsc.pdu.errors import PduError
from smsc.pdu.gsm import TextError
from smsc.store.base import Store
from smsc.store.contact_records import Contact, ContactList
from smsc.store.records import Account

PAGE: Final = 1000
FIRST_ROWS: Final = 10
MAX_LISTED: Final = 20
OK: Final = "ok"


@dataclass(frozen=True, slots=True, kw_only=True)
class PreviewRow:
    """One contact: ``outcome`` is "ok", "duplicate", "opted out", "missing", "blacklisted"
    or "invalid"; ``why`` says more for the last three."""

    list_name: str
    number: str
    outcome: str
    text: str = ""
    data_coding: int = -1  # -1: not split (not personalised)
    parts: int = 0
    route: str = ""
    operator: str = ""
    price: int = 0  # minor units, every part
    why: str = ""


@dataclass(frozen=True, slots=True)
class RouteCost:
    route: str
    operator: str
    price_per_part: int
    contacts: int
    parts: int
    amount: int


@dataclass(slots=True)
class Preview:
    contacts: int = 0
    sendable: int = 0
    parts: int = 0
    total: int = 0  # minor units: what sending every sendable contact would debit
    duplicates: int = 0
    opted_out: int = 0
    missing: int = 0
    blacklisted: int = 0
    invalid: int = 0
    invalid_reasons: dict[str, int] = field(default_factory=dict)  # status name -> contacts
    by_encoding: dict[int, int] = field(default_factory=dict)  # data_coding -> contacts
    by_parts: dict[int, int] = field(default_factory=dict)  # parts -> contacts
    routes: dict[str, RouteCost] = field(default_factory=dict)
    rows: list[PreviewRow] = field(default_factory=list)  # the first contacts
    problems: list[PreviewRow] = field(default_factory=list)  # the first missing/invalid
    balance: int = 0  # the credit owner's available credit at the preview
    credit_owner: str = ""

    @property
    def enough_credit(self) -> bool:
        return self.total <= self.balance

    @property
    def shortfall(self) -> int:
        return max(0, self.total - self.balance)


class CampaignPreview:
    """Previews one account's campaign text over its lists (store thread, or the CLI)."""

    def __init__(self, store: Store, account: Account, route: RouteFn, *,
                 test_status: Callable[[str], int] | None = None, page: int = PAGE,
                 first_rows: int = FIRST_ROWS, max_listed: int = MAX_LISTED) -> None:
        self.store = store
        self.account = account
        self.route = route
        self.test_status = test_status
        self.page = page
        self.first_rows = first_rows
        self.max_listed = max_listed

    def run(self, lists: Sequence[ContactList], template: Template, *, source: str,
            now: float, each: Callable[[PreviewRow], None] | None = None) -> Preview:
        """The preview of ``template`` from ``source`` to every contact of ``lists`` (in order);
        TemplateError first when a list lacks a field's column. ``each`` hears every row."""
        steps = self.start(lists, template, source=source, each=each)
        while (page := steps.read(now)) is not None:
            steps.price(page, now)
        return steps.preview

    def start(self, lists: Sequence[ContactList], template: Template, *, source: str,
              each: Callable[[PreviewRow], None] | None = None) -> PreviewSteps:
        """The same preview a page at a time, for a server: :meth:`PreviewSteps.read` on its
        store thread, :meth:`PreviewSteps.price` on its event loop (where routing runs),
        until ``read`` gives None; then ``preview`` is :meth:`run`'s answer."""
        bound = [(lst, template.bind(lst.columns)) for lst in lists]
        for lst in lists:
            if lst.account != self.account.system_id:
                raise TemplateError(f"the list {lst.name!r} is not {self.account.system_id}'s")
        return PreviewSteps(self, bound, source, each)

    def _page(self, preview: Preview, page: PreviewPage, source: str, now: float,
              each: Callable[[PreviewRow], None] | None) -> None:
        seen, opted = page.seen, page.opted
        for contact in page.contacts:
            row = self._row(page.contact_list, page.fitted, contact, contact.number in seen,
                            contact.number in opted, source, now)
            self._count(preview, row)
            if len(preview.rows) < self.first_rows:
                preview.rows.append(row)
            if row.outcome in ("missing", "invalid") and len(preview.problems) < self.max_listed:
                preview.problems.append(row)
            if each is not None:
                each(row)

    def _row(self, lst: ContactList, fitted: BoundTemplate, contact: Contact, seen: bool,
             opted: bool, source: str, now: float) -> PreviewRow:
        number = contact.number
        if seen:
            return PreviewRow(list_name=lst.name, number=number, outcome="duplicate",
                              why="in an earlier list")
        if opted:
            return PreviewRow(list_name=lst.name, number=number, outcome="opted out")
        try:
            text = fitted.render(number, contact.fields)
        except MissingValue as e:
            return PreviewRow(list_name=lst.name, number=number, outcome="missing", why=str(e))
        try:
            quote = quote_submit(self.account, campaign_submit(text, source=source,
                                                               destination=number),
                                 self.route, now, test_status=self.test_status)
        except TextError as e:
            return PreviewRow(list_name=lst.name, number=number, outcome="invalid", text=text,
                              why=str(e))
        except PduError as e:
            outcome = "blacklisted" if e.command_status == BLACKLIST_REFUSAL else "invalid"
            return PreviewRow(list_name=lst.name, number=number, outcome=outcome, text=text,
                              why=str(e))
        outcome = "blacklisted" if quote.blacklisted else OK
        return PreviewRow(list_name=lst.name, number=number, outcome=outcome, text=text,
                          data_coding=quote.data_coding, parts=quote.parts, route=quote.route,
                          operator=quote.operator, price=quote.total)

    @staticmethod
    def _count(preview: Preview, row: PreviewRow) -> None:
        preview.contacts += 1
        outcome = row.outcome
        if outcome == OK:
            preview.sendable += 1
            preview.parts += row.parts
            preview.total += row.price
            preview.by_encoding[row.data_coding] = preview.by_encoding.get(row.data_coding, 0) + 1
            preview.by_parts[row.parts] = preview.by_parts.get(row.parts, 0) + 1
            cost = preview.routes.get(row.route)
            per_part = row.price // row.parts if row.parts else 0
            if cost is None:
                cost = RouteCost(row.route, row.operator, per_part, 0, 0, 0)
            preview.routes[row.route] = RouteCost(cost.route, cost.operator,
                                                  cost.price_per_part, cost.contacts + 1,
                                                  cost.parts + row.parts,
                                                  cost.amount + row.price)
        elif outcome == "duplicate":
            preview.duplicates += 1
        elif outcome == "opted out":
            preview.opted_out += 1
        elif outcome == "missing":
            preview.missing += 1
        elif outcome == "blacklisted":
            preview.blacklisted += 1
        else:
            preview.invalid += 1
            reason = row.why.split(":", 1)[0] if row.why else "invalid"
            preview.invalid_reasons[reason] = preview.invalid_reasons.get(reason, 0) + 1


@dataclass(frozen=True, slots=True)
class PreviewPage:
    """One page of a list's contacts as read from the store, with those of its numbers in an
    earlier list of the campaign (``seen``) and on the account's opt-out list (``opted``)."""

    contact_list: ContactList
    fitted: BoundTemplate
    contacts: list[Contact]
    seen: set[str]
    opted: set[str]


class PreviewSteps:
    """A preview under way (:meth:`CampaignPreview.start`): where it is in its lists and the
    figures so far."""

    def __init__(self, previewer: CampaignPreview,
                 bound: list[tuple[ContactList, BoundTemplate]], source: str,
                 each: Callable[[PreviewRow], None] | None) -> None:
        self.previewer = previewer
        self.bound = bound
        self.source = source
        self.each = each
        self.preview = Preview(credit_owner=previewer.account.credit_owner)
        self._list = 0  # index into ``bound``
        self._after = 0  # the last contact id read of that list

    def read(self, now: float) -> PreviewPage | None:
        """The next page (store thread); None at the end, when the balance is read too."""
        p = self.previewer
        store = p.store
        while self._list < len(self.bound):
            lst, fitted = self.bound[self._list]
            contacts = store.contacts(lst.id, after=self._after, limit=p.page)
            if not contacts:
                self._list += 1
                self._after = 0
                continue
            self._after = contacts[-1].id
            numbers = [c.number for c in contacts]
            earlier = [x.id for x, _ in self.bound[:self._list]]
            seen = store.contacts_present(earlier, numbers) if earlier else set()
            opted = store.opted_out(p.account.system_id, numbers)
            return PreviewPage(lst, fitted, contacts, seen, opted)
        owner = p.account.credit_owner
        self.preview.balance = store.balance(owner, now).available(now)
        return None

    def price(self, page: PreviewPage, now: float) -> None:
        """Personalise, split and price a page read (no store call)."""
        self.previewer._page(self.preview, page, self.source, now, self.each)


__all__ = ["CampaignPreview", "Preview", "PreviewPage", "PreviewRow", "PreviewSteps",
           "RouteCost"]
