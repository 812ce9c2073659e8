"""Running a campaign: contacts taken in order from its cursor, each sent once, skipped or put
off to its sending window, and every decision committed with the message it stands for.

One step has four parts, so that a server can run each where it belongs (the reads and the
commit on the store thread, intake on the event loop); :meth:`CampaignRunner.step` runs them one
after the other for a caller with a single thread (the CLI, tests):

1. :meth:`CampaignRunner.read` (store): the campaign, its due WAITING contacts and the next
   contacts after its cursor, up to ``limit``; each contact already handled (a number in an
   earlier list, or a repeat after a crash) is passed over, an opted-out one is SKIPPED, one
   outside its sending window WAITING until it opens (:mod:`smsc.core.sending_window`); the
   template is bound to the lists' columns here (that reads the store);
2. :meth:`CampaignRunner.prepare` (event loop, a slice of the batch at a time if the caller
   wants the loop back between slices): each contact's text personalised and
   submitted to intake as the account (``campaign_submit``: the same arithmetic the preview
   shows); a refusal (blacklisted with REFUSE, no route ...) makes the contact SKIPPED with
   the status's name, but a refusal for now (a full operator queue, throttled, no message id:
   :data:`TRANSIENT`) leaves it unmarked and the cursor just before it, to be tried again;
3. :meth:`CampaignRunner.commit` (store): ``Store.accept_campaign`` stores the parts, the marks
   and the new cursor in one transaction (through :class:`smsc.core.accept.Acceptance` when
   the runner has one, as in a server: the same plan as any group commit, parts final at
   acceptance and parts held in memory alike). A contact refused for credit stays unmarked,
   the cursor stays, and the campaign is PAUSED with the reason ``no credit``;
4. :meth:`CampaignRunner.answered` (event loop): intake is told of refused submits (their
   queue room comes back).

A campaign PAUSED for credit resumes by itself at the next step once its credit owner's balance
is above zero (a top-up); one paused by hand, or because its account was removed or disabled
(:data:`NO_ACCOUNT`: every submit would be refused, and its contacts would be skipped), waits
for ``resume``. When every list is read and
no contact waits, the campaign is DONE.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final

from smsc.core.accept import Acceptance, Committed
from smsc.core.sending_window import SendingWindow
from smsc.core.submit import BindContext, Intake, Prepared, Throttle
from smsc.core.templates import BoundTemplate, MissingValue, Template, TemplateError
from smsc.core.text_quote import campaign_submit
from smsc.pdu import pdus
from smsc.pdu.constants import CommandStatus
from smsc.pdu.errors import PduError
from smsc.pdu.gsm import TextError
from smsc.pdu.smpptime import format_relative
from smsc.routing.numbers import NumberPlan
from smsc.store.base import Store
from smsc.store.campaign_records import (
    Campaign,
    CampaignMark,
    CampaignState,
    CampaignWrite,
    MarkState,
)
from smsc.store.contact_records import MAX_PAGE, Contact
from smsc.store.records import AcceptOutcome, Account, NewMessage

NO_CREDIT: Final = "no credit"
NO_ACCOUNT: Final = "account removed or disabled"
# Refusals that say "not now" rather than "never": the contact stays unmarked, the cursor stays.
TRANSIENT: Final = frozenset({int(CommandStatus.ESME_RMSGQFUL), int(CommandStatus.ESME_RTHROTTLED),
                              int(CommandStatus.ESME_RSYSERR)})
_LONGEST_VALIDITY: Final = 99 * 86_400 + 86_399
_TEMPLATES_KEPT: Final = 256  # bound templates remembered (campaign, list); then forgotten


@dataclass(slots=True)
class _Due:
    contact: Contact
    list_id: int
    position: tuple[int, int] | None = None  # (list index, contact id) when read by the cursor


@dataclass(slots=True)
class CampaignBatch:
    """One step's work, carried from part to part."""

    campaign: Campaign
    account: Account | None
    due: list[_Due] = field(default_factory=list)  # contacts to submit now
    marks: list[CampaignMark] = field(default_factory=list)  # skipped, waiting (read), sent
    prepared: list[Prepared] = field(default_factory=list)
    cursor: tuple[int, int] | None = None
    finished: bool = False  # the cursor reached the end of the last list
    outcomes: list[AcceptOutcome] = field(default_factory=list)
    state: CampaignState | None = None  # the campaign's state after the step
    templates: dict[int, BoundTemplate | str] = field(default_factory=dict)  # by list; str: why not
    taken: int = 0  # contacts this step took (to send, skip or put off)
    next_due: int = 0  # how many of ``due`` were prepared
    held: int = 0  # contacts refused for now (throttled, queue full): tried again later
    committed: Committed | None = None  # the commit's receipts and finals (with an Acceptance)

    @property
    def prepared_all(self) -> bool:
        return self.next_due >= len(self.due)

    @property
    def parts(self) -> list[NewMessage]:
        return [p for prepared in self.prepared for p in prepared.parts]

    @property
    def writes(self) -> bool:
        """Whether the commit writes anything (parts, marks or a cursor)."""
        return bool(self.prepared or self.marks or self.cursor is not None)


@dataclass(frozen=True, slots=True)
class StepResult:
    sent: int
    skipped: int
    waiting: int
    state: CampaignState
    reason: str = ""
    taken: int = 0  # contacts the step took
    held: int = 0  # contacts refused for now (throttled, a full queue), to be tried again


class CampaignRunner:
    def __init__(self, store: Store, numbers: NumberPlan | None = None,
                 acceptance: Acceptance | None = None) -> None:
        """``acceptance``: commit through the group commit's plan (a server); without it,
        ``Store.accept_campaign`` is called as it is (a single process: tests, tools)."""
        self.store = store
        self.numbers = numbers or NumberPlan()
        self.acceptance = acceptance
        self._templates: dict[tuple[int, int], BoundTemplate | str] = {}  # store thread's

    # --- 1. read (store thread) ----------------------------------------------------------
    def read(self, campaign_id: int, now: float, limit: int) -> CampaignBatch | None:
        """The campaign's next contacts (at most ``limit``, at most MAX_PAGE); None when there
        is no such campaign."""
        store = self.store
        limit = min(limit, MAX_PAGE)
        campaign = store.campaign(campaign_id)
        if campaign is None:
            return None
        account = store.get_account(campaign.account)
        if campaign.state == CampaignState.PAUSED and campaign.pause_reason == NO_CREDIT \
                and account is not None \
                and store.balance(account.credit_owner, now).available(now) > 0:
            campaign = store.set_campaign_state(campaign_id, CampaignState.RUNNING, now)
        if campaign.state == CampaignState.RUNNING and (account is None or not account.enabled):
            # Its submits would all be refused: it waits for the account (resume checks it).
            campaign = store.set_campaign_state(campaign_id, CampaignState.PAUSED, now,
                                                NO_ACCOUNT)
        batch = CampaignBatch(campaign, account)
        if campaign.state != CampaignState.RUNNING or now < campaign.start_at or limit <= 0:
            return batch
        window = SendingWindow(campaign.window_start, campaign.window_end)
        candidates: list[_Due] = []
        for mark in store.campaign_waiting(campaign_id, now, limit):
            found = store.contacts(mark.list_id, after=mark.contact_id - 1, limit=1)
            if found and found[0].id == mark.contact_id:
                candidates.append(_Due(found[0], mark.list_id))
            else:  # the contact left its list meanwhile
                batch.marks.append(CampaignMark(number=mark.number, state=MarkState.SKIPPED,
                                                list_id=mark.list_id, contact_id=mark.contact_id,
                                                note="removed from its list"))
        removed = len(batch.marks)
        room = limit - len(candidates) - removed
        seen: set[str] = {d.contact.number for d in candidates} | {m.number for m in batch.marks}
        list_index, after = campaign.cursor_list, campaign.cursor_contact
        while room > 0 and list_index < len(campaign.lists):
            list_id = campaign.lists[list_index]
            page = store.contacts(list_id, after=after, limit=room)
            if not page:
                list_index, after = list_index + 1, 0
                batch.cursor = (list_index, 0)
                continue
            handled = store.campaign_marked(campaign_id, [c.number for c in page])
            for contact in page:
                after = contact.id
                if contact.number in handled or contact.number in seen:
                    continue  # once per campaign, whichever list holds it
                seen.add(contact.number)
                candidates.append(_Due(contact, list_id, (list_index, contact.id)))
                room -= 1
            batch.cursor = (list_index, after)
        batch.finished = list_index >= len(campaign.lists)
        batch.taken = len(candidates) + removed
        opted = store.opted_out(campaign.account, [d.contact.number for d in candidates])
        for due in candidates:
            contact = due.contact
            if contact.number in opted:
                batch.marks.append(CampaignMark(number=contact.number, state=MarkState.SKIPPED,
                                                list_id=due.list_id, contact_id=contact.id,
                                                note="opted out"))
                continue
            if window.always:
                batch.due.append(due)
                continue
            opens = window.next_open(self._zones(contact.number), now)
            if opens > now:
                batch.marks.append(CampaignMark(number=contact.number, state=MarkState.WAITING,
                                                list_id=due.list_id, contact_id=contact.id,
                                                due_at=opens, note="outside its window"))
                continue
            batch.due.append(due)
        for due in batch.due:
            if due.list_id not in batch.templates:
                batch.templates[due.list_id] = self._template(campaign, due.list_id)
        return batch

    def _zones(self, number: str) -> tuple[str, ...]:
        found = self.numbers.destination(number)
        if found is None:
            try:
                return self.numbers.check(number).time_zones
            except PduError:
                return ()
        return found.time_zones

    # --- 2. prepare (event loop) -----------------------------------------------------------
    def prepare(self, batch: CampaignBatch, intake: Intake, now: float,
                throttle: Throttle | None = None, most: int | None = None) -> CampaignBatch:
        """``throttle``: the account's throughput bucket (shared with its SMPP binds, from
        ``smsc.core.binds.Throttles``); a contact it refuses is tried again later. ``most``:
        prepare at most that many more contacts (``batch.prepared_all`` says when all are)."""
        campaign, account = batch.campaign, batch.account
        if account is None:
            batch.next_due = len(batch.due)
            return batch
        caller = BindContext(account=account, throttle=throttle)
        start = batch.next_due
        stop = len(batch.due) if most is None else min(len(batch.due), start + most)
        batch.next_due = stop
        for due in batch.due[start:stop]:
            contact = due.contact
            try:
                template = batch.templates.get(due.list_id)
                if not isinstance(template, BoundTemplate):
                    batch.marks.append(self._skipped(contact, due.list_id,
                                                     template or "no template"))
                    continue
                text = template.render(contact.number, contact.fields)
                submit = self._submit(campaign, text, contact.number)
                prepared = intake.submit_sm(caller, submit, now)
            except MissingValue as e:
                batch.marks.append(self._skipped(contact, due.list_id, str(e)))
                continue
            except (PduError, TextError) as e:
                if e.command_status in TRANSIENT:  # tried again at a later step
                    self._hold_back(batch, due)
                    continue
                batch.marks.append(self._skipped(contact, due.list_id,
                                                 CommandStatus.name_of(e.command_status)))
                continue
            batch.prepared.append(prepared)
            batch.marks.append(CampaignMark(number=contact.number, state=MarkState.SENT,
                                            list_id=due.list_id, contact_id=contact.id,
                                            message_id=prepared.message_id))
        return batch

    @staticmethod
    def _hold_back(batch: CampaignBatch, due: _Due) -> None:
        """A contact refused for now: unmarked, and the cursor goes no further than just
        before the first such contact read by the cursor (the ones after it that are marked
        in this step are passed over when read again)."""
        batch.held += 1
        batch.finished = False
        if due.position is None or batch.cursor is None:
            return  # a waiting contact: it stays waiting, due
        list_index, contact_id = due.position
        batch.cursor = min(batch.cursor, (list_index, contact_id - 1))

    @staticmethod
    def _skipped(contact: Contact, list_id: int, note: str) -> CampaignMark:
        return CampaignMark(number=contact.number, state=MarkState.SKIPPED, list_id=list_id,
                            contact_id=contact.id, note=note)

    def _template(self, campaign: Campaign, list_id: int) -> BoundTemplate | str:
        """The campaign's template bound to a list's columns, or why it cannot be (store
        thread: it reads the list)."""
        key = (campaign.id, list_id)
        bound = self._templates.get(key)
        if bound is None:
            found = self.store.contact_list_by_id(list_id)
            columns = found.columns if found is not None else ()
            try:
                bound = Template.parse(campaign.template).bind(columns)
            except TemplateError as e:
                bound = str(e)
            if len(self._templates) >= _TEMPLATES_KEPT:
                self._templates.clear()
            self._templates[key] = bound
        return bound

    @staticmethod
    def _submit(campaign: Campaign, text: str, number: str) -> pdus.SubmitSm:
        submit = campaign_submit(text, source=campaign.source, destination=number,
                                 registered_delivery=campaign.registered_delivery)
        if campaign.validity > 0:
            seconds = min(int(campaign.validity), _LONGEST_VALIDITY)
            submit = dataclasses.replace(
                submit, validity_period=format_relative(timedelta(seconds=seconds)))
        return submit

    # --- 3. commit (store thread) ----------------------------------------------------------
    def commit(self, batch: CampaignBatch, now: float) -> CampaignBatch:
        campaign = batch.campaign
        if batch.writes:
            parts = batch.parts
            if self.acceptance is not None:
                batch.committed = self.acceptance.commit(
                    parts, now, CampaignWrite(campaign_id=campaign.id, marks=tuple(batch.marks),
                                              cursor=batch.cursor))
                batch.outcomes = batch.committed.outcomes
            else:
                batch.outcomes = self.store.accept_campaign(campaign.id, parts, batch.marks, now,
                                                            cursor=batch.cursor)
        current = self.store.campaign(campaign.id)  # paused or cancelled meanwhile: it stays
        if current is None or current.state != CampaignState.RUNNING:
            return batch
        if any(o.status == CommandStatus.SMSC_RNOCREDIT for o in batch.outcomes):
            batch.state = self.store.set_campaign_state(campaign.id, CampaignState.PAUSED, now,
                                                        NO_CREDIT).state
        elif batch.finished and not self.store.campaign_waiting(campaign.id, float("inf"), 1):
            batch.state = self.store.set_campaign_state(campaign.id, CampaignState.DONE,
                                                        now).state
        return batch

    # --- 4. answered (event loop) ----------------------------------------------------------
    def answered(self, batch: CampaignBatch, intake: Intake) -> StepResult:
        by_group = {(o.message_id, o.destination_addr): o for o in batch.outcomes}
        sent = 0
        for prepared in batch.prepared:
            first = prepared.parts[0]
            outcome = by_group.get((prepared.message_id, first.destination_addr))
            answer = intake.answer(prepared, [outcome] if outcome is not None else None,
                                   batch.account)
            sent += answer.status == 0
        state = batch.state or batch.campaign.state
        marks = batch.marks
        return StepResult(sent=sent,
                          skipped=sum(m.state == MarkState.SKIPPED for m in marks),
                          waiting=sum(m.state == MarkState.WAITING for m in marks),
                          state=state,
                          reason=NO_CREDIT if state == CampaignState.PAUSED
                          and batch.state is not None else "",
                          taken=batch.taken, held=batch.held)

    # --- all four, on one thread -----------------------------------------------------------
    def step(self, campaign_id: int, intake: Intake, now: float, limit: int,
             throttle: Throttle | None = None) -> StepResult:
        batch = self.read(campaign_id, now, limit)
        if batch is None:
            raise LookupError(f"no campaign with id {campaign_id}")
        if batch.campaign.state != CampaignState.RUNNING:
            return StepResult(0, 0, 0, batch.campaign.state, batch.campaign.pause_reason)
        prepared = self.prepare(batch, intake, now, throttle)
        return self.answered(self.commit(prepared, now), intake)


def campaigns_to_run(store: Store) -> list[Campaign]:
    """The campaigns a server runs: RUNNING ones, and those PAUSED for credit (a step resumes
    them after a top-up), by account then id."""
    return [c for c in store.campaigns()
            if c.state == CampaignState.RUNNING
            or (c.state == CampaignState.PAUSED and c.pause_reason == NO_CREDIT)]
