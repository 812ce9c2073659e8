"""A page of an account's messages from parts in descending message id order: the walk
behind ``Store.message_page`` (see :class:`smsc.store.api_base.ApiStore`), shared by the
stores."""

from __future__ import annotations

from collections.abc import Iterator

from smsc.store.http_records import MessagePage
from smsc.store.records import StoredMessage


def page_of(account: str, parts: Iterator[StoredMessage], limit: int, scan: int,
            destination: str | None, since: float | None, until: float | None,
            reference: str | None = None) -> MessagePage:
    """A :class:`MessagePage` from ``parts`` in descending message id order."""
    entries: list[tuple[StoredMessage, ...]] = []
    current: int | None = None
    group: list[StoredMessage] = []

    def close_group() -> None:
        by_destination: dict[str, list[StoredMessage]] = {}
        for p in group:
            by_destination.setdefault(p.destination_addr, []).append(p)
        for dest in sorted(by_destination):
            found = sorted(by_destination[dest], key=lambda m: (m.part_index, m.id))
            first = found[0]
            if first.account != account:
                continue
            if destination is not None and dest != destination:
                continue
            if since is not None and first.submitted_at < since:
                continue
            if until is not None and first.submitted_at >= until:
                continue
            if reference is not None and first.reference != reference:
                continue
            entries.append(tuple(found))

    for read, part in enumerate(parts):
        if part.message_id != current:
            if current is not None:
                close_group()
                if len(entries) >= limit or read >= scan:
                    return MessagePage(messages=tuple(entries), next_before=current)
            current = part.message_id
            group = []
        group.append(part)
    if current is not None:
        close_group()
    return MessagePage(messages=tuple(entries), next_before=None)
