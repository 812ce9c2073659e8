"""The Store contract for contact lists and opt-outs, run against every implementation (the
``store`` and ``maker`` fixtures of conftest)."""

from __future__ import annotations

import pytest

from smsc.store.base import ContactListExists, Store, UnknownAccount, UnknownContactList
from smsc.store.contact_records import MAX_PAGE, Contact
from tests.store.conftest import StoreMaker
from tests.store.test_store_contract import NOW, account


def _store_with(store: Store, *names: str) -> Store:
    for name in names or ("acme",):
        store.create_account(account(name))
    return store


def _contacts(*numbers: str, **fields: str) -> list[Contact]:
    return [Contact(number=n, fields=dict(fields, n=n[-2:])) for n in numbers]


def test_a_list_is_created_empty_and_found_by_name_and_id(store: Store) -> None:
    _store_with(store)
    made = store.create_contact_list("acme", "vip", country="UA", now=NOW)
    assert made.id > 0 and made.size == 0 and made.columns == () and made.country == "UA"
    assert store.contact_list("acme", "vip") == made
    assert store.contact_list_by_id(made.id) == made
    assert store.contact_list("acme", "VIP") is None
    assert store.contact_list_by_id(made.id + 1) is None


def test_names_are_unique_per_account_and_the_account_must_exist(store: Store) -> None:
    _store_with(store, "acme", "beta")
    a = store.create_contact_list("acme", "vip", now=NOW)
    b = store.create_contact_list("beta", "vip", now=NOW)
    assert a.id != b.id
    with pytest.raises(ContactListExists):
        store.create_contact_list("acme", "vip", now=NOW)
    with pytest.raises(UnknownAccount):
        store.create_contact_list("ghost", "vip", now=NOW)
    assert [(x.account, x.name) for x in store.contact_lists()] == [("acme", "vip"),
                                                                      ("beta", "vip")]
    assert [x.name for x in store.contact_lists("beta")] == ["vip"]


def test_add_leaves_out_numbers_already_there_and_says_which(store: Store) -> None:
    _store_with(store)
    lst = store.create_contact_list("acme", "vip", now=NOW)
    first = store.add_contacts(lst.id, _contacts("380671000001", "380671000002"), ["name"])
    assert first == [True, True]
    again = store.add_contacts(lst.id, [Contact(number="380671000002", fields={"name": "new"}),
                                        Contact(number="380671000003"),
                                        Contact(number="380671000003", fields={"name": "x"})],
                               ["name", "city"])
    assert again == [False, True, False]
    got = store.contacts(lst.id)
    assert [c.number for c in got] == ["380671000001", "380671000002", "380671000003"]
    assert got[1].fields == {"n": "02"}  # the stored one is kept unchanged
    assert got[2].fields == {}
    assert [c.id for c in got] == sorted(c.id for c in got)
    found = store.contact_list_by_id(lst.id)
    assert found is not None and found.size == 3 and found.columns == ("name", "city")


def test_fields_keep_any_text(store: Store) -> None:
    _store_with(store)
    lst = store.create_contact_list("acme", "vip", now=NOW)
    fields = {"name": "Олена \"Ö\" ; ,\t", "emoji": "😀", "": "blank column"}
    store.add_contacts(lst.id, [Contact(number="380671000001", fields=fields)])
    assert store.contacts(lst.id)[0].fields == fields


def test_pages_by_cursor_cover_every_contact_once(store: Store) -> None:
    _store_with(store)
    lst = store.create_contact_list("acme", "big", now=NOW)
    other = store.create_contact_list("acme", "other", now=NOW)
    numbers = [f"3806710{i:05d}" for i in range(250)]
    for start in range(0, 250, 100):
        store.add_contacts(lst.id, _contacts(*numbers[start:start + 100]))
        store.add_contacts(other.id, _contacts(f"44770090{start:04d}"))
    seen: list[str] = []
    after = 0
    for _ in range(10):
        page = store.contacts(lst.id, after=after, limit=40)
        if not page:
            break
        seen.extend(c.number for c in page)
        after = page[-1].id
    assert seen == numbers
    assert len(store.contacts(lst.id, limit=MAX_PAGE + 5)) == 250
    assert store.contacts(lst.id + 100) == []


def test_adding_to_a_missing_list_is_refused(store: Store) -> None:
    with pytest.raises(UnknownContactList):
        store.add_contacts(99, _contacts("380671000001"))


def test_present_looks_in_the_lists_given_only(store: Store) -> None:
    _store_with(store)
    a = store.create_contact_list("acme", "a", now=NOW)
    b = store.create_contact_list("acme", "b", now=NOW)
    store.add_contacts(a.id, _contacts("380671000001", "380671000002"))
    store.add_contacts(b.id, _contacts("380671000003"))
    asked = ["380671000001", "380671000003", "380671000009"]
    assert store.contacts_present([a.id], asked) == {"380671000001"}
    assert store.contacts_present([a.id, b.id], asked) == {"380671000001", "380671000003"}
    assert store.contacts_present([], asked) == set()


def test_remove_contacts_and_delete_a_list(store: Store) -> None:
    _store_with(store)
    a = store.create_contact_list("acme", "a", now=NOW)
    store.add_contacts(a.id, _contacts("380671000001", "380671000002", "380671000003"))
    assert store.remove_contacts(a.id, ["380671000002", "380671000009"]) == 1
    assert [c.number for c in store.contacts(a.id)] == ["380671000001", "380671000003"]
    assert store.delete_contact_list(a.id)
    assert not store.delete_contact_list(a.id)
    assert store.contact_list("acme", "a") is None
    assert store.contacts(a.id) == []
    again = store.create_contact_list("acme", "a", now=NOW)
    assert again.id != a.id and again.size == 0


def test_opt_outs_per_account(store: Store) -> None:
    assert store.opt_out("acme", "380671000001", NOW, "STOP")
    assert not store.opt_out("acme", "380671000001", NOW + 5, "again")
    assert store.opt_out("beta", "380671000002", NOW)
    asked = ["380671000001", "380671000002"]
    assert store.opted_out("acme", asked) == {"380671000001"}
    assert store.opted_out("beta", asked) == {"380671000002"}
    (entry,) = store.opt_outs("acme")
    assert (entry.number, entry.at, entry.note) == ("380671000001", NOW, "STOP")
    assert store.opt_in("acme", "380671000001")
    assert not store.opt_in("acme", "380671000001")
    assert store.opted_out("acme", asked) == set()


def test_opt_outs_page_by_number(store: Store) -> None:
    numbers = [f"38067100{i:04d}" for i in range(30)]
    for n in reversed(numbers):
        store.opt_out("acme", n, NOW)
    seen: list[str] = []
    after = ""
    for _ in range(10):
        page = store.opt_outs("acme", after=after, limit=7)
        if not page:
            break
        seen.extend(o.number for o in page)
        after = page[-1].number
    assert seen == numbers


def test_lists_and_opt_outs_survive_reopening(store: Store, maker: StoreMaker) -> None:
    if not maker.shared:
        pytest.skip("this store keeps nothing outside the object")
    _store_with(store)
    lst = store.create_contact_list("acme", "vip", country="GB", now=NOW)
    store.add_contacts(lst.id, _contacts("447700900001"), ["name"])
    store.opt_out("acme", "447700900002", NOW)
    other = maker.again(store)
    found = other.contact_list("acme", "vip")
    assert found is not None and found.size == 1 and found.columns == ("name",)
    assert other.opted_out("acme", ["447700900002"]) == {"447700900002"}
