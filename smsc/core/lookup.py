"""A customer's messages as the HTTP API shows them: one message with its parts, and pages of
an account's messages (store thread). The state of a message is its parts' summary, decided as
for query_sm (:func:`smsc.core.parts.summary_state`); only the caller's own messages are
found."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from smsc.core.ids import MessageIdFormat
from smsc.core.parts import summary_state
from smsc.pdu.constants import MessageState
from smsc.store.base import Store
from smsc.store.records import Account, StoredMessage

PAGE_SCAN = 20_000  # parts a page reads at most (of any account), so a page is bounded work


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageView:
    """One message for one destination: ``state`` sums up its parts (ENROUTE while one is
    not final), ``final_at`` when the last became final, ``error`` the error code of a part in
    that state; ``charged`` what was debited, ``refunded`` what was given back."""

    message_id: str
    state: int
    final_at: float | None
    error: int
    charged: int
    refunded: int
    parts: tuple[StoredMessage, ...]

    @property
    def first(self) -> StoredMessage:
        return self.parts[0]

    @property
    def receipt_requested(self) -> bool:
        return bool(self.first.registered_delivery & 0x03)


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageList:
    messages: tuple[MessageView, ...]
    next_before: int | None  # the message id to continue below; None: the end


def view(id_format: MessageIdFormat, parts: Sequence[StoredMessage]) -> MessageView:
    """The view of one message's parts for one destination (in part order)."""
    state = summary_state(p.state for p in parts)
    final_at = None
    if MessageState(state).is_final:
        final_at = max((p.done_at or p.submitted_at) for p in parts)
    error = next((p.error_code for p in parts if p.state == state and p.error_code), 0)
    return MessageView(message_id=id_format.format(parts[0].message_id), state=state,
                       final_at=final_at, error=error,
                       charged=sum(p.charged_subscription + p.charged_bought for p in parts),
                       refunded=sum(p.refunded for p in parts), parts=tuple(parts))


class Lookups:
    """An account's messages (store thread)."""

    def __init__(self, store: Store, id_format: MessageIdFormat) -> None:
        self.store = store
        self.id_format = id_format

    def message(self, account: Account, message_id: str) -> list[MessageView]:
        """The message of that id sent by ``account``: one view per destination (one, but for
        a submit_multi); empty when there is none (or it is another account's)."""
        number = self.id_format.parse(message_id)
        if number is None:
            return []
        per_destination: dict[str, list[StoredMessage]] = {}
        for p in self.store.get_messages(number):
            if p.account == account.system_id:
                per_destination.setdefault(p.destination_addr, []).append(p)
        return [view(self.id_format, parts) for _, parts in sorted(per_destination.items())]

    def page(self, account: Account, *, before: int | None, limit: int,
             state: int | None = None, destination: str | None = None,
             since: float | None = None, until: float | None = None,
             reference: str | None = None) -> MessageList:
        """A page of ``account``'s messages, newest first (see ``Store.message_page``: a page
        may be short while more follow), those in ``state`` only when it is given."""
        page = self.store.message_page(account.system_id, before=before, limit=limit,
                                       scan=PAGE_SCAN, destination=destination, since=since,
                                       until=until, reference=reference)
        views = [view(self.id_format, parts) for parts in page.messages]
        if state is not None:
            views = [v for v in views if v.state == state]
        return MessageList(messages=tuple(views), next_before=page.next_before)


__all__ = ["PAGE_SCAN", "Lookups", "MessageList", "MessageView", "view"]
