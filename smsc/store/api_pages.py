"""A page of an account's messages: the walk behind ``Store.message_page`` (see
:class:`smsc.store.api_base.ApiStore`), shared by the stores, and the SQL stores' queries.

The SQL stores read only the account's parts, by index: ``messages_account`` (account,
message_id), or ``messages_reference`` (account, reference, message_id, only parts that have
a reference) when a reference is given. Those parts all belong on the page, so a page without
other filters reads about ``limit`` parts. The filters no index serves (destination, since,
until) are checked by the database on a bounded stretch of that index: first the *floor*, the
message id of the ``scan``-th part below ``before`` (an index-only read), then only parts at
or above it; a page that runs out of parts before ``limit`` continues below the floor."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from smsc.store.http_records import MessagePage
from smsc.store.records import StoredMessage


@dataclass(frozen=True, slots=True, kw_only=True)
class PageFilter:
    """What a page asks for (see ``Store.message_page``)."""

    account: str
    before: int | None
    destination: str | None = None
    since: float | None = None
    until: float | None = None
    reference: str | None = None

    @property
    def bounded(self) -> bool:
        """Whether a filter no index serves is given: the walk then needs a floor."""
        return self.destination is not None or self.since is not None or self.until is not None

    def indexed(self, mark: str) -> tuple[list[str], list[object]]:
        """The conditions an index serves (account, reference, before) and their parameters;
        ``mark`` is the driver's parameter mark (``?`` or ``%s``)."""
        where = [f"account = {mark}"]
        params: list[object] = [self.account]
        if self.reference is not None:
            where.append(f"reference = {mark}")
            params.append(self.reference)
        if self.before is not None:
            where.append(f"message_id < {mark}")
            params.append(self.before)
        return where, params

    def floor_query(self, mark: str, scan: int) -> tuple[str, list[object]]:
        """The message id of the ``scan``-th part of the walk (no row: fewer remain)."""
        where, params = self.indexed(mark)
        return (f"SELECT message_id FROM messages WHERE {' AND '.join(where)} "
                f"ORDER BY message_id DESC LIMIT 1 OFFSET {mark}", [*params, max(scan - 1, 0)])

    def parts_query(self, select: str, mark: str, floor: int | None) -> tuple[str, list[object]]:
        """``select`` (the message columns from messages) narrowed to the parts the page
        walks, newest message id first: every filter, and message ids from ``floor`` up."""
        where, params = self.indexed(mark)
        for condition, value in (("destination_addr =", self.destination),
                                 ("submitted_at >=", self.since),
                                 ("submitted_at <", self.until),
                                 ("message_id >=", floor)):
            if value is not None:
                where.append(f"{condition} {mark}")
                params.append(value)
        return f"{select} WHERE {' AND '.join(where)} ORDER BY message_id DESC", params

    def matches(self, first: StoredMessage) -> bool:
        """Whether the entry whose first part is ``first`` belongs on the page."""
        return (first.account == self.account
                and (self.destination is None or first.destination_addr == self.destination)
                and (self.since is None or first.submitted_at >= self.since)
                and (self.until is None or first.submitted_at < self.until)
                and (self.reference is None or first.reference == self.reference))


def page_of(wanted: PageFilter, parts: Iterator[StoredMessage], limit: int,
            floor: int | None = None) -> MessagePage:
    """A :class:`MessagePage` from ``parts`` in descending message id order (every part of
    each message id they reach). The page ends after the message id that brings it to
    ``limit`` entries; when ``parts`` run out first, it continues below ``floor`` (None: the
    end)."""
    entries: list[tuple[StoredMessage, ...]] = []
    current: int | None = None
    group: list[StoredMessage] = []

    def close_group() -> None:
        by_destination: dict[str, list[StoredMessage]] = {}
        for p in group:
            by_destination.setdefault(p.destination_addr, []).append(p)
        for dest in sorted(by_destination):
            found = sorted(by_destination[dest], key=lambda m: (m.part_index, m.id))
            if wanted.matches(found[0]):
                entries.append(tuple(found))

    for part in parts:
        if part.message_id != current:
            if current is not None:
                close_group()
                if len(entries) >= limit:
                    return MessagePage(messages=tuple(entries), next_before=current)
            current = part.message_id
            group = []
        group.append(part)
    if current is not None:
        close_group()
    return MessagePage(messages=tuple(entries), next_before=floor)
