"""Opt-out confirmations from the queue rounds: a handset's STOP or START changed the account's
opt-out list on the store thread (smsc.core.rounds); the confirmation it asks for is a submit,
prepared by intake here on the event loop and committed at price 0 by the group commit, like
any submit (smsc.core.optout decides all of it; this only carries it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from smsc.core.centre import SmscCore
from smsc.core.optout import OptOutChange, free_of_charge
from smsc.core.submit import BindContext, Prepared
from smsc.pdu.errors import PduError
from smsc.pdu.text import MAX_PARTS
from smsc.server.committer import GroupCommitter
from smsc.store.records import AcceptOutcome, Account

_log = Logger()


class OptOutConfirmations:
    """Submits the confirmations of the opt-out changes a round made; counts them."""

    def __init__(self, clock: IReactorTime, core: SmscCore, committer: GroupCommitter) -> None:
        self.clock = clock
        self.core = core
        self.committer = committer
        self.sent = 0  # confirmations committed
        self.failed = 0  # refused at intake or by the store

    def submit(self, changes: Sequence[tuple[Account | None, OptOutChange]]) -> None:
        intake = self.core.intake
        now = self.clock.seconds()
        for account, change in changes:
            if account is None or change.confirmation is None:
                continue
            sender = replace(account, max_parts=MAX_PARTS)  # smsc's text, not the account's
            try:
                prepared = intake.submit_sm(BindContext(account=sender, throttle=None),
                                            change.confirmation, now)
            except PduError as e:
                self.failed += 1
                _log.warn("no opt-out confirmation to {handset}: {error}",
                          handset=change.handset, error=str(e))
                continue

            def done(outcomes: list[AcceptOutcome] | None, prepared: Prepared = prepared,
                     sender: Account = sender) -> None:
                answer = intake.answer(prepared, outcomes, sender)
                if answer.status:
                    self.failed += 1
                else:
                    self.sent += 1

            self.committer.add(free_of_charge(prepared.parts), prepared.groups, done)
