"""A campaign's life (smsc.core.campaign_control): creation checks, the state table, the checks
before it runs (sender, fields, values), and the step budget of its throughput."""

from __future__ import annotations

import pytest

from smsc.core.campaign_control import (
    BY_HAND,
    CampaignControl,
    CampaignRefused,
    IllegalTransition,
    NewCampaign,
)
from smsc.store.campaign_records import CampaignState
from smsc.store.contact_records import Contact
from smsc.store.memory import MemoryStore
from smsc.store.records import Account

NOW = 1_750_000_000.0


def _control(**account: object) -> tuple[CampaignControl, MemoryStore]:
    store = MemoryStore()
    store.create_account(Account(system_id="acme", password_hash="h", **account))  # type: ignore[arg-type]
    lst = store.create_contact_list("acme", "spring", now=NOW)
    store.add_contacts(lst.id, [Contact(number="380671000001", fields={"name": "A"}),
                                Contact(number="380671000002", fields={"name": ""})], ["name"])
    return CampaignControl(store), store


def _spec(**kw: object) -> NewCampaign:
    values: dict[str, object] = {"account": "acme", "name": "c", "lists": ("spring",),
                                 "template": "Hi {name|there}", "source": "Shop",
                                 "window": "09:00-20:00"}
    values.update(kw)
    return NewCampaign(**values)  # type: ignore[arg-type]


def test_create_start_pause_resume_cancel() -> None:
    control, _ = _control()
    made = control.create(_spec(), NOW)
    assert (made.state, made.window_start, made.window_end) == (CampaignState.DRAFT, 540, 1200)
    assert control.change(made.id, "start", NOW).state == CampaignState.RUNNING
    paused = control.change(made.id, "pause", NOW)
    assert (paused.state, paused.pause_reason) == (CampaignState.PAUSED, BY_HAND)
    assert control.change(made.id, "resume", NOW).state == CampaignState.RUNNING
    assert control.change(made.id, "cancel", NOW).state == CampaignState.CANCELLED
    for action in ("start", "pause", "resume", "cancel"):
        with pytest.raises(IllegalTransition, match="cancelled"):
            control.change(made.id, action, NOW)
    draft = control.create(_spec(name="d"), NOW)
    with pytest.raises(IllegalTransition, match="draft"):
        control.change(draft.id, "pause", NOW)


@pytest.mark.parametrize(("kw", "says", "field"), [
    ({"lists": ("nope",)}, "no list 'nope'", "lists"),
    ({"lists": ()}, "at least one list", "lists"),
    ({"template": "Hi {surname}"}, "surname", "text"),
    ({"template": "Hi {name"}, "never closed", "text"),
    ({"window": "9-20"}, "window", "window"),
    ({"throughput": -1.0}, "negative", "throughput"),
    ({"validity": -1.0}, "negative", "validity"),
])
def test_create_refuses_with_the_reason(kw: dict[str, object], says: str, field: str) -> None:
    control, _ = _control()
    with pytest.raises(CampaignRefused, match=says) as refused:
        control.create(_spec(**kw), NOW)
    assert refused.value.field == field and not isinstance(refused.value, IllegalTransition)


def test_a_contact_missing_a_value_stops_the_start() -> None:
    control, _ = _control()
    made = control.create(_spec(template="Hi {name}"), NOW)
    with pytest.raises(CampaignRefused, match=r"380671000002.*no value for \{name\}") as e:
        control.change(made.id, "start", NOW)
    assert e.value.field == "text" and not isinstance(e.value, IllegalTransition)


def test_the_sender_is_checked_at_start() -> None:
    control, _ = _control(require_registered_sender=True, sender_ids=("Shop",))
    made = control.create(_spec(source="Other"), NOW)
    with pytest.raises(CampaignRefused, match="sender 'Other'") as e:
        control.change(made.id, "start", NOW)
    assert e.value.field == "from"
    no_sender = control.create(_spec(name="d", source=""), NOW)
    with pytest.raises(CampaignRefused, match="default sender"):
        control.change(no_sender.id, "start", NOW)

