"""A campaign's life: create, start, pause, resume, cancel; each change checked here.

| From | start | pause | resume | cancel |
|---|---|---|---|---|
| DRAFT | RUNNING (after the checks) | - | - | CANCELLED |
| RUNNING | - | PAUSED ("by hand") | - | CANCELLED |
| PAUSED | - | - | RUNNING (after the checks) | CANCELLED |
| DONE, CANCELLED | - | - | - | - |

The checks before a campaign runs (:meth:`CampaignControl.check`): the account exists and is
enabled, every list still exists and has the template's fields, the sender is one the account
may use, and no contact lacks a value for a field without a default (read page by page). A
campaign PAUSED for credit also resumes by itself (:mod:`smsc.core.campaign_runner`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from smsc.core.sending_window import SendingWindow, WindowError
from smsc.core.templates import MissingValue, Template, TemplateError
from smsc.operators.mo import address_type
from smsc.pdu.errors import PduError
from smsc.routing.senders import check_sender
from smsc.store.base import Store
from smsc.store.campaign_records import Campaign, CampaignState
from smsc.store.contact_records import ContactList

BY_HAND: Final = "by hand"
PAGE: Final = 1000
RUNNING, PAUSED = CampaignState.RUNNING, CampaignState.PAUSED
_FROM: Final = {
    "start": (CampaignState.DRAFT,),
    "pause": (CampaignState.RUNNING,),
    "resume": (CampaignState.PAUSED,),
    "cancel": (CampaignState.DRAFT, CampaignState.RUNNING, CampaignState.PAUSED),
}


class CampaignRefused(ValueError):
    """A change the campaign's state or content does not allow, with the reason; ``field``
    names what is wrong: "lists", "text", "window", "throughput", "validity", "from",
    "account" or "" (an HTTP answer names it)."""

    def __init__(self, reason: str, field: str = "") -> None:
        super().__init__(reason)
        self.field = field


class IllegalTransition(CampaignRefused):
    """A change the campaign's state does not allow (the module's table): resuming a cancelled
    campaign, pausing a draft ... (the HTTP API answers 409)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NewCampaign:
    account: str
    name: str
    lists: tuple[str, ...]  # list names of the account
    template: str
    source: str = ""
    start_at: float = 0.0
    window: str = ""  # "09:00-20:00"; "" any time
    throughput: float = 0.0
    validity: float = 0.0
    registered_delivery: int = 1


class CampaignControl:
    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, spec: NewCampaign, now: float) -> Campaign:
        """A DRAFT campaign; CampaignRefused for a list the account lacks, a bad template or
        window, a negative throughput or validity (the store refuses a name in use)."""
        found: list[ContactList] = []
        for name in spec.lists:
            lst = self.store.contact_list(spec.account, name)
            if lst is None:
                raise CampaignRefused(f"account {spec.account} has no list {name!r}", "lists")
            found.append(lst)
        if not found:
            raise CampaignRefused("a campaign needs at least one list", "lists")
        try:
            template = Template.parse(spec.template)
            for lst in found:
                template.bind(lst.columns)
        except TemplateError as e:
            raise CampaignRefused(str(e), "text") from None
        try:
            window = SendingWindow.parse(spec.window)
        except WindowError as e:
            raise CampaignRefused(f"window {spec.window!r}: {e}", "window") from None
        if spec.throughput < 0 or spec.validity < 0:
            raise CampaignRefused("throughput and validity cannot be negative",
                                  "throughput" if spec.throughput < 0 else "validity")
        return self.store.create_campaign(Campaign(
            account=spec.account, name=spec.name, lists=tuple(x.id for x in found),
            template=spec.template, source=spec.source, start_at=spec.start_at,
            window_start=window.start, window_end=window.end, throughput=spec.throughput,
            validity=spec.validity, registered_delivery=spec.registered_delivery), now)

    def check(self, campaign: Campaign) -> None:
        """The checks before a campaign runs (the module's list); CampaignRefused with the
        first problem."""
        account = self.store.get_account(campaign.account)
        if account is None or not account.enabled:
            raise CampaignRefused(f"account {campaign.account} does not exist or is disabled",
                                  "account")
        if campaign.source:
            ton, npi = address_type(campaign.source)
            try:
                check_sender(account, campaign.source, ton, npi)
            except PduError as e:
                raise CampaignRefused(f"sender {campaign.source!r}: {e}", "from") from None
        elif not account.default_sender:
            raise CampaignRefused("no sender, and the account has no default sender", "from")
        template = Template.parse(campaign.template)
        for list_id in campaign.lists:
            lst = self.store.contact_list_by_id(list_id)
            if lst is None:
                raise CampaignRefused(f"list {list_id} no longer exists", "lists")
            try:
                bound = template.bind(lst.columns)
            except TemplateError as e:
                raise CampaignRefused(f"list {lst.name!r}: {e}", "text") from None
            after = 0
            while True:
                page = self.store.contacts(list_id, after=after, limit=PAGE)
                if not page:
                    break
                after = page[-1].id
                for contact in page:
                    try:
                        bound.render(contact.number, contact.fields)
                    except MissingValue as e:
                        raise CampaignRefused(f"list {lst.name!r}, {contact.number}: {e} "
                                              "(give the field a default: {name|...})",
                                              "text") from None

    def change(self, campaign_id: int, action: str, now: float) -> Campaign:
        """``start``, ``pause``, ``resume`` or ``cancel`` (the module's table)."""
        campaign = self.store.campaign(campaign_id)
        if campaign is None:
            raise CampaignRefused(f"no campaign {campaign_id}")
        allowed = _FROM.get(action)
        if allowed is None:
            raise CampaignRefused(f"{action!r} is not start, pause, resume or cancel")
        if campaign.state not in allowed:
            raise IllegalTransition(f"campaign {campaign.name!r} is {campaign.state.value}: it "
                                  f"cannot {action}")
        if action in ("start", "resume"):
            self.check(campaign)
            return self.store.set_campaign_state(campaign_id, RUNNING, now)
        if action == "pause":
            return self.store.set_campaign_state(campaign_id, PAUSED, now, BY_HAND)
        return self.store.set_campaign_state(campaign_id, CampaignState.CANCELLED, now)

