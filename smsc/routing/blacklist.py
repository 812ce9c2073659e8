"""Blacklisted destinations: global and per account, exact numbers and prefixes.

An entry with ``account == ""`` applies to every account; one naming an account applies to that
account and to its sub-accounts. An exact entry matches one number; a prefix entry matches every
number it begins. A lookup costs one dict probe for exact entries plus one per distinct prefix
length among the prefix entries (at most 15), whatever the number of entries.

What a match means is the account's ``blacklist_mode``: RECEIPT (accepted, not sent, not
charged, UNDELIV err:250) or REFUSE (refused at submit with SMSC_RBLACKLISTED, 0x402).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from smsc.routing.routes import check_prefix
from smsc.store.records import Account, BlacklistEntry

__all__ = ["MAX_ENTRIES", "Blacklist"]

MAX_ENTRIES: Final = 10_000_000


def _applies(
    entries: tuple[BlacklistEntry, ...], system_id: str, parent: str
) -> BlacklistEntry | None:
    for entry in entries:
        owner = entry.account
        if not owner or owner == system_id or (parent and owner == parent):
            return entry
    return None


class Blacklist:
    """The loaded blacklist. Build a new one when the store's entries change."""

    __slots__ = ("_count", "_exact", "_lengths", "_prefixes")

    def __init__(self, entries: Iterable[BlacklistEntry] = ()) -> None:
        exact: dict[str, tuple[BlacklistEntry, ...]] = {}
        prefixes: dict[str, tuple[BlacklistEntry, ...]] = {}
        count = 0
        for entry in entries:
            check_prefix(entry.number)
            table = prefixes if entry.prefix else exact
            found = table.get(entry.number)
            if found is None:
                table[entry.number] = (entry,)
            elif all(e.account != entry.account for e in found):
                # Global entries first, so a lookup stops at the widest one.
                table[entry.number] = (entry, *found) if not entry.account else (*found, entry)
            else:
                continue  # the same number and scope again
            count += 1
            if count > MAX_ENTRIES:
                raise ValueError(f"more than {MAX_ENTRIES} blacklist entries")
        self._exact = exact
        self._prefixes = prefixes
        self._lengths = tuple(sorted({len(p) for p in prefixes}, reverse=True))
        self._count = count

    def __len__(self) -> int:
        return self._count

    def match(self, number: str, system_id: str = "", parent: str = "") -> BlacklistEntry | None:
        """The entry that blacklists ``number`` for the account ``system_id`` (whose parent is
        ``parent``), or None. Exact entries before prefixes, longer prefixes before shorter."""
        found = self._exact.get(number)
        if found is not None:
            entry = _applies(found, system_id, parent)
            if entry is not None:
                return entry
        prefixes = self._prefixes
        size = len(number)
        for length in self._lengths:
            if length <= size:
                found = prefixes.get(number[:length])
                if found is not None:
                    entry = _applies(found, system_id, parent)
                    if entry is not None:
                        return entry
        return None

    def blocks(self, number: str, account: Account | None = None) -> BlacklistEntry | None:
        """:meth:`match` for an account (None: global entries only)."""
        if account is None:
            return self.match(number)
        return self.match(number, account.system_id, account.parent or "")
