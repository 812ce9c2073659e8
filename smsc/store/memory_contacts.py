"""Contact lists and opt-outs in the memory store (tests): the same behaviour as
:mod:`smsc.store.sqlite_contacts` in dicts, under the store's one lock."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Sequence

from smsc.store.base import ContactListExists, UnknownAccount, UnknownContactList
from smsc.store.contact_records import MAX_PAGE, Contact, ContactList, OptOut
from smsc.store.records import Account


class _Held:
    __slots__ = ("by_number", "ids", "record")

    def __init__(self, record: ContactList) -> None:
        self.record = record
        self.by_number: dict[str, Contact] = {}
        self.ids: list[int] = []  # ids in order (contacts are only appended)


class MemoryContacts:
    """The contact-list and opt-out methods of the Store protocol, in memory."""

    _lock: threading.RLock
    _accounts: dict[str, Account]
    _changes: int

    def _init_contacts(self) -> None:
        self._lists: dict[int, _Held] = {}
        self._list_ids = 0
        self._contact_ids = 0
        self._contact_by_id: dict[int, Contact] = {}
        self._opt_outs: dict[tuple[str, str], OptOut] = {}

    def _sized(self, held: _Held) -> ContactList:
        r = held.record
        return ContactList(id=r.id, account=r.account, name=r.name, country=r.country,
                           columns=r.columns, created_at=r.created_at, size=len(held.ids))

    def create_contact_list(self, account: str, name: str, *, country: str = "",
                            now: float) -> ContactList:
        with self._lock:
            if account not in self._accounts:
                raise UnknownAccount(account)
            if any(h.record.account == account and h.record.name == name
                   for h in self._lists.values()):
                raise ContactListExists(f"account {account!r} has a list {name!r}")
            self._list_ids += 1
            record = ContactList(id=self._list_ids, account=account, name=name, country=country,
                                 created_at=now)
            self._lists[record.id] = _Held(record)
            return record

    def contact_list(self, account: str, name: str) -> ContactList | None:
        with self._lock:
            for held in self._lists.values():
                if held.record.account == account and held.record.name == name:
                    return self._sized(held)
        return None

    def contact_list_by_id(self, list_id: int) -> ContactList | None:
        with self._lock:
            held = self._lists.get(list_id)
            return self._sized(held) if held is not None else None

    def contact_lists(self, account: str | None = None) -> list[ContactList]:
        with self._lock:
            found = [self._sized(h) for h in self._lists.values()
                     if account is None or h.record.account == account]
        return sorted(found, key=lambda r: (r.account, r.name))

    def add_contacts(self, list_id: int, contacts: Sequence[Contact],
                     columns: Sequence[str] = ()) -> list[bool]:
        with self._lock:
            held = self._lists.get(list_id)
            if held is None:
                raise UnknownContactList(f"no contact list with id {list_id}")
            more = tuple(c for c in dict.fromkeys(columns) if c not in held.record.columns)
            if more:
                r = held.record
                held.record = ContactList(id=r.id, account=r.account, name=r.name,
                                          country=r.country, columns=r.columns + more,
                                          created_at=r.created_at)
            added: list[bool] = []
            for contact in contacts:
                if contact.number in held.by_number:
                    added.append(False)
                    continue
                self._contact_ids += 1
                stored = Contact(number=contact.number, fields=dict(contact.fields),
                                 id=self._contact_ids)
                held.by_number[stored.number] = stored
                held.ids.append(stored.id)
                self._contact_by_id[stored.id] = stored
                added.append(True)
            return added

    def contacts(self, list_id: int, *, after: int = 0, limit: int = 1000) -> list[Contact]:
        with self._lock:
            held = self._lists.get(list_id)
            if held is None:
                return []
            start = bisect.bisect_right(held.ids, after)
            ids = held.ids[start:start + max(0, min(limit, MAX_PAGE))]
            return [self._contact_by_id[i] for i in ids]

    def contacts_present(self, list_ids: Sequence[int], numbers: Sequence[str]) -> set[str]:
        with self._lock:
            helds = [self._lists[i] for i in dict.fromkeys(list_ids) if i in self._lists]
            return {n for n in numbers[:MAX_PAGE] if any(n in h.by_number for h in helds)}

    def remove_contacts(self, list_id: int, numbers: Sequence[str]) -> int:
        with self._lock:
            held = self._lists.get(list_id)
            if held is None:
                return 0
            gone = {held.by_number.pop(n).id for n in set(numbers) if n in held.by_number}
            if gone:
                held.ids = [i for i in held.ids if i not in gone]
                for i in gone:
                    del self._contact_by_id[i]
            return len(gone)

    def delete_contact_list(self, list_id: int) -> bool:
        with self._lock:
            held = self._lists.pop(list_id, None)
            if held is None:
                return False
            for i in held.ids:
                del self._contact_by_id[i]
            return True

    def opt_out(self, account: str, number: str, now: float, note: str = "") -> bool:
        with self._lock:
            if (account, number) in self._opt_outs:
                return False
            self._opt_outs[(account, number)] = OptOut(account=account, number=number, at=now,
                                                       note=note)
            self._changes += 1  # a running server's sends read the account's list again
            return True

    def opt_in(self, account: str, number: str) -> bool:
        with self._lock:
            return self._opt_outs.pop((account, number), None) is not None

    def opted_out(self, account: str, numbers: Sequence[str]) -> set[str]:
        with self._lock:
            return {n for n in numbers[:MAX_PAGE] if (account, n) in self._opt_outs}

    def opt_outs(self, account: str, *, after: str = "", limit: int = 1000) -> list[OptOut]:
        with self._lock:
            found = [o for (a, n), o in self._opt_outs.items() if a == account and n > after]
        found.sort(key=lambda o: o.number)
        return found[:max(0, min(limit, MAX_PAGE))]
