"""Opt-out by MO: a handset that texts STOP to an account goes on the account's opt-out list,
one that texts START comes off it, and each gets a confirmation back.

The decision (:meth:`OptOutWords.action`): the MO's whole text, without spaces around it and
trailing punctuation (``.``, ``!`` ...), compared case aside with the configured stop and start
words (``[opt_out]``, :mod:`smsc.config.opt_out`). "STOP" and "stop!" opt out; "please stop"
and "STOP 2" do not (a keyword buried in a sentence is not a request, as carriers read it).

What happens (:meth:`OptOuts.received`), whatever produced the MO:

* the MO itself still goes to the customer like any MO (its software hears the STOP too);
* the handset's number goes on (or off) the opt-out list of the account the MO was for;
  campaigns skip numbers on it;
* a confirmation goes to the handset, from the number or short code it wrote to: a message of
  the account like any other (routed, stored, sent by the operator, in reports), but
  registered_delivery 0 (no receipt for the customer) and not charged (price 0: it is smsc's
  answer, not the customer's message). Only a change is confirmed: a STOP from a number
  already opted out gets nothing (it asked for no more messages; and a simulated handset
  whose rule answers every message with STOP cannot start a loop). No confirmation either
  when the reply is configured as "", or the MO went to an alphanumeric address.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final

from smsc.config.opt_out import DEFAULT_OPT_OUT, OptOutSettings
from smsc.core.text_quote import campaign_submit
from smsc.operators.mo import is_numeric_address
from smsc.pdu import pdus
from smsc.pdu.gsm import TextError
from smsc.store.base import Store
from smsc.store.records import NewMessage

_TRIM: Final = " \t\r\n.!?,;:\"'()"


class OptOutAction(StrEnum):
    STOP = "stop"
    START = "start"


class OptOutWords:
    """The stop and start words, ready to compare."""

    __slots__ = ("_start", "_stop", "settings")

    def __init__(self, settings: OptOutSettings = DEFAULT_OPT_OUT) -> None:
        self.settings = settings
        self._stop = frozenset(w.casefold() for w in settings.stop_words)
        self._start = frozenset(w.casefold() for w in settings.start_words)

    def action(self, text: str) -> OptOutAction | None:
        """What an MO's ``text`` asks for (the module's rule), or None."""
        word = text.strip(_TRIM).casefold()
        if not word or len(word) > 40:
            return None
        if word in self._stop:
            return OptOutAction.STOP
        if word in self._start:
            return OptOutAction.START
        return None

    def reply(self, action: OptOutAction) -> str:
        s = self.settings
        return s.stop_reply if action == OptOutAction.STOP else s.start_reply


@dataclass(frozen=True, slots=True, kw_only=True)
class OptOutChange:
    """What an opt-out MO did: ``changed`` is False when the number already was where the MO
    asked it to be; ``confirmation`` is the submit to send the handset (None: none)."""

    account: str
    handset: str
    service: str
    action: OptOutAction
    changed: bool
    confirmation: pdus.SubmitSm | None


class OptOuts:
    """Applies opt-out MO to the store (store thread, or the CLI)."""

    def __init__(self, store: Store, settings: OptOutSettings = DEFAULT_OPT_OUT) -> None:
        self.store = store
        self.words = OptOutWords(settings)

    def use(self, settings: OptOutSettings) -> None:
        """Take reloaded ``[opt_out]`` settings (on the thread that calls :meth:`received`)."""
        self.words = OptOutWords(settings)

    def received(self, *, account: str, handset: str, service: str, text: str,
                 now: float) -> OptOutChange | None:
        """An MO ``text`` from ``handset`` to ``service`` for ``account``: None when it is no
        opt-out word; else the list changed and the confirmation to send."""
        action = self.words.action(text)
        if action is None:
            return None
        if action == OptOutAction.STOP:
            changed = self.store.opt_out(account, handset, now, note=f"MO to {service}")
        else:
            changed = self.store.opt_in(account, handset)
        reply = self.words.reply(action)
        confirmation = None
        if changed and reply and is_numeric_address(service):
            try:
                confirmation = campaign_submit(reply, source=service, destination=handset,
                                               registered_delivery=0)
            except TextError:
                confirmation = None
        return OptOutChange(account=account, handset=handset, service=service, action=action,
                            changed=changed, confirmation=confirmation)


def free_of_charge(parts: Sequence[NewMessage]) -> list[NewMessage]:
    """A confirmation's parts as committed: the same parts at price 0."""
    return [replace(p, price=0) for p in parts]
