"""``/v1/campaigns``: an account's campaigns over HTTP: create, read, preview, start, pause,
resume, cancel, report (JSON, or every contact's outcome as CSV) and clean. Every decision is
the CLI's core call (:class:`smsc.core.campaign_control.CampaignControl`,
:class:`smsc.core.preview.CampaignPreview`, :mod:`smsc.core.campaign_report`): store reads on
the store thread a page per call, routing and pricing on the event loop. An API key sees only
its own account's campaigns (another's is a 404)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Final

from smsc.core.campaign_control import (
    CampaignControl,
    CampaignRefused,
    IllegalTransition,
    NewCampaign,
)
from smsc.core.campaign_report import CampaignReport, ContactOutcome, clean_lists, outcome_pages
from smsc.core.preview import CampaignPreview
from smsc.core.templates import Template, TemplateError
from smsc.http import campaign_answers as ca
from smsc.http import campaign_models as c
from smsc.http import problems as p
from smsc.http.list_answers import csv_rows
from smsc.http.openapi_campaigns import ACTIONS
from smsc.http.replies import ProblemReply, Reply, ok, problem
from smsc.server.web.api import Caller, HttpApi
from smsc.server.web.endpoints import (
    CSV,
    AnyReply,
    StreamReply,
    accepts_csv,
    field_problem,
    json_body,
    on_store,
    path_id,
)
from smsc.server.web.web_request import WebRequest
from smsc.store.base import CampaignExists, UnknownContactList
from smsc.store.campaign_records import Campaign
from smsc.store.contact_records import ContactList

_CAMPAIGN: Final = re.compile(r"/v1/campaigns/([^/]{1,40})(?:/([a-z]{1,10}))?")
_POSTS: Final = frozenset({*ACTIONS, "preview", "clean"})
PREVIEW_PAGE: Final = 500  # contacts priced per turn of the event loop


class CampaignsApi:
    def __init__(self, api: HttpApi) -> None:
        self.api = api

    def methods(self, path: str) -> tuple[str, ...] | None:
        if path == "/v1/campaigns":
            return ("GET", "POST")
        found = _CAMPAIGN.fullmatch(path)
        if found is None:
            return None
        what = found.group(2)
        if what is None:
            return ("GET",)
        if what == "report":
            return ("GET",)
        return ("POST",) if what in _POSTS else None

    async def answer(self, caller: Caller, method: str, path: str,
                     request: WebRequest) -> AnyReply:
        if path == "/v1/campaigns":
            if method == "POST":
                return await self.create(caller, json_body(c.NewCampaign, request))
            return await self.all(caller)
        found = _CAMPAIGN.fullmatch(path)
        assert found is not None
        campaign_id = path_id(found.group(1), "campaign")
        what = found.group(2)
        if what == "clean":  # the body is read (and refused) before anything else
            return await self.clean(caller, campaign_id,
                                    json_body(c.CleanIn, request, optional=True))
        campaign = await self.own(caller, campaign_id)
        if what is None:
            counts = await on_store(self.api, "reading a campaign",
                                    self.api.store.campaign_counts, campaign.id)
            return ok(ca.campaign(campaign, counts))
        if what == "preview":
            return await self.preview(caller, campaign)
        if what == "report":
            if accepts_csv(request):
                return StreamReply(CSV, self._outcomes_csv(campaign))
            return await self.report(caller, campaign)
        return await self.change(campaign, what)

    async def own(self, caller: Caller, campaign_id: int) -> Campaign:
        found = await on_store(self.api, "reading a campaign", self.api.store.campaign,
                               campaign_id)
        if found is None or found.account != caller.account.system_id:
            raise ProblemReply(problem(p.NOT_FOUND, f"no campaign {campaign_id} of yours"))
        return found  # type: ignore[no-any-return]

    async def _lists(self, caller: Caller, ids: list[int], field: str) -> list[ContactList]:
        """The caller's lists of these ids (a 422 naming the first that is not)."""
        store = self.api.store
        found = await on_store(self.api, "reading contact lists",
                               lambda: [store.contact_list_by_id(i) for i in ids])
        for at, (list_id, lst) in enumerate(zip(ids, found, strict=True)):
            if lst is None or lst.account != caller.account.system_id:
                raise field_problem(p.CAMPAIGN_INVALID if field == "lists" else
                                    p.INVALID_REQUEST, f"no list {list_id} of yours",
                                    f"{field}.{at}" if field == "lists" else field)
        return found  # type: ignore[no-any-return]

    # --- POST /v1/campaigns, GET /v1/campaigns ------------------------------------------------
    async def create(self, caller: Caller, new: c.NewCampaign) -> Reply:
        lists = await self._lists(caller, new.lists, "lists")
        spec = NewCampaign(
            account=caller.account.system_id, name=new.name,
            lists=tuple(dict.fromkeys(x.name for x in lists)), template=new.text,
            source=new.sender, start_at=new.start_at.timestamp() if new.start_at else 0.0,
            window=new.window, throughput=new.throughput, validity=float(new.validity or 0),
            registered_delivery=1 if new.receipts else 0)
        control = CampaignControl(self.api.store)
        try:
            made = await on_store(self.api, "creating a campaign", control.create, spec,
                                  self.api.clock.seconds(),
                                  passing=(CampaignRefused, CampaignExists, UnknownContactList))
        except CampaignExists:
            raise field_problem(p.CAMPAIGN_EXISTS, f"you have a campaign {new.name!r}",
                                "name") from None
        except UnknownContactList as e:
            raise field_problem(p.CAMPAIGN_INVALID, str(e), "lists") from None
        except CampaignRefused as e:
            raise field_problem(p.CAMPAIGN_INVALID, str(e), e.field) from None
        return ok(ca.campaign(made))

    async def all(self, caller: Caller) -> Reply:
        found = await on_store(self.api, "reading campaigns", self.api.store.campaigns,
                               caller.account.system_id)
        return ok(c.Campaigns(campaigns=[ca.campaign(x) for x in found]))

    # --- POST /v1/campaigns/{id}/start|pause|resume|cancel -------------------------------------
    async def change(self, campaign: Campaign, action: str) -> Reply:
        control = CampaignControl(self.api.store)
        try:
            changed = await on_store(self.api, f"campaign {action}", control.change,
                                     campaign.id, action, self.api.clock.seconds(),
                                     passing=(CampaignRefused,))
        except IllegalTransition as e:
            raise ProblemReply(problem(p.ILLEGAL_TRANSITION, str(e))) from None
        except CampaignRefused as e:
            raise field_problem(p.CAMPAIGN_NOT_READY, str(e), e.field) from None
        return ok(ca.campaign(changed))

    # --- POST /v1/campaigns/{id}/preview --------------------------------------------------------
    async def preview(self, caller: Caller, campaign: Campaign) -> Reply:
        account = caller.account
        store = self.api.store
        found = await on_store(self.api, "reading contact lists",
                               lambda: [store.contact_list_by_id(i) for i in campaign.lists])
        lists: list[ContactList] = []
        for list_id, lst in zip(campaign.lists, found, strict=True):
            if lst is None:
                raise field_problem(p.CAMPAIGN_NOT_READY, f"list {list_id} no longer exists",
                                    "lists")
            lists.append(lst)
        intake = self.api.core.intake
        previewer = CampaignPreview(store, account, intake.route,
                                    test_status=intake.operators.test_submit_status,
                                    page=PREVIEW_PAGE)
        try:
            steps = previewer.start(lists, Template.parse(campaign.template),
                                    source=campaign.source)
        except TemplateError as e:
            raise field_problem(p.CAMPAIGN_NOT_READY, str(e), "text") from None
        while True:  # a page read on the store thread, priced here
            now = self.api.clock.seconds()
            page = await on_store(self.api, "previewing a campaign", steps.read, now)
            if page is None:
                break
            steps.price(page, now)
        return ok(ca.preview(steps.preview, account.currency,
                             self.api.decimals(account.currency)))

    # --- GET /v1/campaigns/{id}/report ----------------------------------------------------------
    async def _pages(self, campaign: Campaign) -> AsyncIterator[list[ContactOutcome]]:
        pages: Iterator[list[ContactOutcome]] = outcome_pages(self.api.store, campaign.id)
        while True:
            page = await on_store(self.api, "reading a campaign report", next, pages, None)
            if page is None:
                return
            yield page

    async def report(self, caller: Caller, campaign: Campaign) -> Reply:
        result = CampaignReport()
        async for page in self._pages(campaign):
            for o in page:
                result.add(o)
        currency = caller.account.currency
        return ok(ca.report(campaign, result, currency, self.api.decimals(currency)))

    async def _outcomes_csv(self, campaign: Campaign) -> AsyncIterator[bytes]:
        ids = self.api.core.id_format
        yield csv_rows([ca.REPORT_COLUMNS])
        async for page in self._pages(campaign):
            yield csv_rows([ca.outcome_row(o, ids.format(o.message_id) if o.message_id
                                           else "") for o in page])

    # --- POST /v1/campaigns/{id}/clean ----------------------------------------------------------
    async def clean(self, caller: Caller, campaign_id: int, given: c.CleanIn) -> Reply:
        campaign = await self.own(caller, campaign_id)
        target = None
        if given.move_to is not None:
            [target] = await self._lists(caller, [given.move_to], "move_to")
        store = self.api.store
        done = await on_store(self.api, "cleaning a campaign's lists",
                              lambda: clean_lists(store, campaign.id, move_to=target,
                                                  dry_run=given.dry_run))
        return ok(c.Cleaned(removed=done.removed, moved=done.moved, dry_run=given.dry_run))


__all__ = ["CampaignsApi"]
