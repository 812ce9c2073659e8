"""The campaign preview (smsc.core.preview) against what SMPP submits of the same texts to the
same destinations are billed: the real core (Intake.submit_sm, Acceptance.commit) on a real
Store.accept, with the packaged routes and prices. Also the preview's counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from smsc.config.loader import load_config, packaged_defaults
from smsc.core.centre import SmscCore, operator_desk
from smsc.core.ids import MessageIdFormat
from smsc.core.preview import CampaignPreview, PreviewRow
from smsc.core.routebook import RouteBook
from smsc.core.submit import BindContext
from smsc.core.templates import Template, TemplateError
from smsc.core.text_quote import campaign_submit
from smsc.pdu.constants import CommandStatus
from smsc.store.base import Store
from smsc.store.contact_records import Contact
from smsc.store.memory import MemoryStore
from smsc.store.records import Account, BlacklistEntry, BlacklistMode, Bucket, LedgerKind
from smsc.store.sqlite import SqliteStore

NOW = 1_750_000_000.0
CONFIG = load_config(packaged_defaults())
NAMES = ["Olena", "Олена", "Bob €", "A" * 150, "Ю" * 100, "", "Zoë", "x" * 300]
NUMBERS = ["380671000001", "380501000002", "380631000003", "380931000004", "447911123456",
           "4915112345678", "380441234567", "12025550123", "380672222222", "380503333333"]


def _store(kind: str, tmp_path: Path) -> Store:
    return MemoryStore() if kind == "memory" else SqliteStore(tmp_path / "s.db")


class _Core:
    def __init__(self, store: Store, account: Account) -> None:
        self.store = store
        self.account = account
        self.routing = RouteBook(CONFIG.routing)
        self.routing.install(self.routing.load(store))
        simulator = CONFIG.operators.simulator()
        self.desk = operator_desk(simulator)
        ids = iter(range(store.reserve_ids(10_000), 10**9))
        self.core = SmscCore(store, simulator=simulator, route=self.routing.route,
                             id_format=MessageIdFormat(hex_ids=True), take_id=lambda: next(ids))

    def preview(self, lists: list, text: str, **kw: object) -> tuple:  # type: ignore[type-arg]
        rows: list[PreviewRow] = []
        previewer = CampaignPreview(self.store, self.account, self.routing.route,
                                    test_status=self.desk.test_submit_status, page=3)
        result = previewer.run(lists, Template.parse(text), source="Shop", now=NOW,
                               each=rows.append, **kw)
        return result, rows

    def billed(self, text: str, number: str) -> tuple[int, int]:
        """(status, amount debited) of an SMPP submit of ``text`` to ``number``."""
        before = self.store.balance(self.account.credit_owner, NOW).available(NOW)
        submit = campaign_submit(text, source="Shop", destination=number)
        prepared = self.core.intake.submit_sm(BindContext(account=self.account, throttle=None),
                                              submit, NOW)
        committed = self.core.commit(prepared.parts, NOW)
        after = self.store.balance(self.account.credit_owner, NOW).available(NOW)
        return committed.outcomes[0].status, before - after


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_the_preview_total_is_what_the_submits_are_billed(kind: str, tmp_path: Path) -> None:
    store = _store(kind, tmp_path)
    account = Account(system_id="acme", password_hash="h", max_parts=8)
    store.create_account(account)
    store.credit("acme", 1_000_000, Bucket.BOUGHT, NOW)
    store.add_blacklist([BlacklistEntry(number="380672222222")])
    lst = store.create_contact_list("acme", "spring", now=NOW)
    store.add_contacts(lst.id, [Contact(number=n, fields={"name": NAMES[i % len(NAMES)]})
                                for i, n in enumerate(NUMBERS)], ["name"])
    found = store.contact_list_by_id(lst.id)
    assert found is not None
    core = _Core(store, account)
    text = "Hello {name|customer}, spring sale: -20% on everything until Sunday!"
    preview, rows = core.preview([found], text)
    assert preview.contacts == len(NUMBERS) and preview.blacklisted == 1
    assert preview.balance == 1_000_000
    assert {r.parts for r in rows if r.outcome == "ok"} >= {1, 2, 3}  # short, long, UCS2
    billed_total = 0
    for row in rows:
        status, amount = core.billed(row.text, row.number)
        assert status == 0
        assert amount == row.price, row
        billed_total += amount
    assert billed_total == preview.total > 0
    debits = [e for e in store.ledger("acme") if e.kind == LedgerKind.DEBIT]
    assert -sum(e.amount for e in debits) == preview.total
    assert sum(r.amount for r in preview.routes.values()) == preview.total
    assert sum(r.parts for r in preview.routes.values()) == preview.parts
    store.close()


def test_counts_duplicates_opt_outs_missing_values_and_refusals() -> None:
    store = MemoryStore()
    account = Account(system_id="acme", password_hash="h", blacklist_mode=BlacklistMode.REFUSE,
                      max_parts=1)
    store.create_account(account)
    store.credit("acme", 100, Bucket.BOUGHT, NOW)
    store.add_blacklist([BlacklistEntry(number="38050", prefix=True, account="acme")])
    store.opt_out("acme", "380671000003", NOW)
    a = store.create_contact_list("acme", "a", now=NOW)
    b = store.create_contact_list("acme", "b", now=NOW)
    store.add_contacts(a.id, [Contact(number="380671000001", fields={"name": "A"}),
                              Contact(number="380671000002", fields={"name": ""})], ["name"])
    store.add_contacts(b.id, [Contact(number="380671000001", fields={"name": "dup"}),
                              Contact(number="380671000003", fields={"name": "C"}),
                              Contact(number="380501000004", fields={"name": "D"}),
                              Contact(number="380931000005", fields={"name": "E" * 200})],
                       ["name"])
    lists = [store.contact_list_by_id(a.id), store.contact_list_by_id(b.id)]
    core = _Core(store, account)
    preview, rows = core.preview(lists, "Hi {name}")
    assert [r.outcome for r in rows] == ["ok", "missing", "duplicate", "opted out",
                                         "blacklisted", "invalid"]
    assert (preview.sendable, preview.missing, preview.duplicates, preview.opted_out,
            preview.blacklisted, preview.invalid) == (1, 1, 1, 1, 1, 1)
    assert preview.invalid_reasons == {CommandStatus.name_of(CommandStatus.SMSC_RTOOMANYPARTS): 1}
    assert preview.total == rows[0].price and preview.enough_credit


def test_not_enough_credit_is_said_with_the_shortfall() -> None:
    store = MemoryStore()
    account = Account(system_id="acme", password_hash="h")
    store.create_account(account)
    lst = store.create_contact_list("acme", "a", now=NOW)
    store.add_contacts(lst.id, [Contact(number=f"38067100000{i}") for i in range(5)])
    preview, _ = _Core(store, account).preview([store.contact_list_by_id(lst.id)], "Hi")
    assert preview.balance == 0 and not preview.enough_credit
    assert preview.shortfall == preview.total > 0


def test_a_field_the_list_lacks_is_an_error_before_anything() -> None:
    store = MemoryStore()
    account = Account(system_id="acme", password_hash="h")
    store.create_account(account)
    lst = store.create_contact_list("acme", "a", now=NOW)
    with pytest.raises(TemplateError, match="surname"):
        _Core(store, account).preview([lst], "Hi {surname}")


def test_a_preview_in_steps_is_the_preview_in_one_go() -> None:
    """CampaignPreview.start (a server: reads on its store thread, pricing on its event loop)
    gives what run gives, a page per read."""
    store = MemoryStore()
    account = Account(system_id="acme", password_hash="h")
    store.create_account(account)
    store.credit("acme", 100, Bucket.BOUGHT, NOW)
    store.opt_out("acme", NUMBERS[3], NOW)
    a = store.create_contact_list("acme", "a", now=NOW)
    b = store.create_contact_list("acme", "b", now=NOW)
    store.add_contacts(a.id, [Contact(number=n) for n in NUMBERS[:7]])
    store.add_contacts(b.id, [Contact(number=n) for n in NUMBERS[5:]])
    lists = [store.contact_list_by_id(a.id), store.contact_list_by_id(b.id)]
    core = _Core(store, account)
    whole, _ = core.preview(lists, "Hi")
    previewer = CampaignPreview(store, account, core.routing.route,
                                test_status=core.desk.test_submit_status, page=3)
    steps = previewer.start(lists, Template.parse("Hi"), source="Shop")  # type: ignore[arg-type]
    reads = 0
    while (page := steps.read(NOW)) is not None:
        assert len(page.contacts) <= 3
        reads += 1
        steps.price(page, NOW)
    assert reads == 3 + 2  # 7 contacts in pages of 3, then 5
    assert steps.preview == whole
    assert (whole.contacts, whole.duplicates, whole.opted_out) == (12, 2, 1)
