"""Running campaigns in the server: the campaigns the store says are running are sent, a step at
a time, through the submit path every transport shares.

The CLI (and the HTTP API) only write a campaign's state to the store; this notices it by
polling the store every :data:`POLL` seconds (routine lane) for the campaigns to run
(:func:`smsc.core.campaign_runner.campaigns_to_run`). Each one then goes step after step, never
two steps of one campaign at once; a step is the core runner's four parts
(:class:`smsc.core.campaign_runner.CampaignRunner`), each where it belongs:

1. **store thread** (routine lane): ``read`` takes the next contacts (a page of at most the
   step's budget, never the whole list), the campaign's state and the account;
2. **event loop**: ``prepare`` runs intake for each contact as the account, with the account's
   throughput bucket (shared with its SMPP binds), :data:`SLICE` contacts at a time with the
   loop given back between slices;
3. **store thread** (urgent lane, through the group committer's ``add_alone``): ``commit``
   accepts the parts through the core's acceptance plan and writes the contacts' marks and
   the cursor in the same transaction (``Store.accept_campaign``); the committer's ``after``
   sends the receipts of parts final at acceptance to the courier, as for any submit;
4. **event loop**: ``answered`` gives intake the outcomes, and
   :class:`smsc.core.campaign_pace.CampaignPace` says when the next step comes.

A campaign that stops running (paused, cancelled, done, out of credit) is dropped at its next
step and found again by the poll if it runs again; one PAUSED for credit is stepped at each
poll, which resumes it once its credit owner's balance is above zero. Nothing here decides
what a contact gets: the runner, intake and acceptance do.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.task import LoopingCall
from twisted.python.failure import Failure

from smsc.core.accept import Committed
from smsc.core.binds import Throttles
from smsc.core.campaign_pace import IDLE, CampaignPace
from smsc.core.campaign_runner import CampaignBatch, CampaignRunner, campaigns_to_run
from smsc.core.centre import SmscCore
from smsc.server.committer import GroupCommitter
from smsc.server.storehealth import StoreHealth
from smsc.server.worker import StoreWorker
from smsc.store.campaign_records import Campaign, CampaignState
from smsc.store.records import AcceptOutcome, Account, NewMessage

POLL: Final = 0.5  # seconds between looks at the store for campaigns to run
SLICE: Final = 100  # contacts prepared on the event loop before it is given back
MOST_AT_ONCE: Final = 64  # campaigns run at once; more wait for a place
FAILED_RETRY: Final = 1.0  # seconds before a campaign whose step failed goes on


@dataclass(slots=True)
class _Run:
    """One campaign being run: what its last step saw, its pace, its next step's timer."""

    campaign: Campaign
    account: Account | None = None
    pace: CampaignPace = field(default_factory=CampaignPace)
    call: IDelayedCall | None = None
    busy: bool = False  # a step is between its read and its answer
    batches_seen: int = -1  # the committer's batch commits at the last step


class CampaignSender:
    """Runs the campaigns the store says are running; owns their timers and paces, and counts
    what they sent."""

    def __init__(self, clock: IReactorTime, core: SmscCore, worker: StoreWorker,
                 committer: GroupCommitter, throttles: Throttles, health: StoreHealth, *,
                 refill_ids: Callable[[], None] = lambda: None, poll: float = POLL,
                 most_at_once: int = MOST_AT_ONCE) -> None:
        self.clock = clock
        self.core = core
        self.worker = worker
        self.committer = committer
        self.throttles = throttles
        self.health = health
        self.refill_ids = refill_ids
        self.poll_interval = poll
        self.most_at_once = most_at_once
        self.runner = CampaignRunner(core.store, acceptance=core.acceptance)
        self.runs: dict[int, _Run] = {}
        self.sent = 0  # messages accepted for campaigns
        self.steps = 0  # steps that reached their answer
        self.stopping = False
        self._loop: LoopingCall | None = None
        self._polling = False

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        loop = self._loop = LoopingCall(self.poll)
        loop.clock = self.clock
        loop.start(self.poll_interval, now=True).addErrback(self._poll_failed)

    def stop(self) -> None:
        """No more steps; a step already committing is answered (the service drains the
        committer), one still being read or prepared is dropped (nothing was written)."""
        self.stopping = True
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        for run in self.runs.values():
            if run.call is not None and run.call.active():
                run.call.cancel()
            run.call = None

    # --- which campaigns run ----------------------------------------------------------------
    def poll(self) -> None:
        """Ask the store for the campaigns to run (one question at a time)."""
        if self._polling or self.stopping:
            return
        self._polling = True
        d = self.worker.call(campaigns_to_run, self.core.store)
        d.addCallbacks(self._found, self._poll_failed)

    def _found(self, campaigns: Sequence[Campaign]) -> None:
        self._polling = False
        if self.stopping:
            return
        for campaign in campaigns:
            run = self.runs.get(campaign.id)
            if run is not None:
                continue  # its own steps carry it
            if len(self.runs) >= self.most_at_once:
                break  # the next poll finds it again
            self.runs[campaign.id] = run = _Run(campaign)
            self._schedule(campaign.id, run, 0.0)

    def _poll_failed(self, failure: Failure) -> None:
        self._polling = False
        self.health.failed("looking for campaigns to run", failure)

    # --- a step -----------------------------------------------------------------------------
    def _schedule(self, campaign_id: int, run: _Run, delay: float) -> None:
        if self.stopping:
            return
        run.call = self.clock.callLater(delay, self._step, campaign_id)

    def _forget(self, campaign_id: int) -> None:
        self.runs.pop(campaign_id, None)

    def _step(self, campaign_id: int) -> None:
        run = self.runs.get(campaign_id)
        if run is None or self.stopping:
            return
        run.call = None
        now = self.clock.seconds()
        bucket = self.throttles.throttle(run.account) if run.account is not None else None
        room = bucket.available(now) if bucket is not None else math.inf
        batches = self.committer.batch_commits
        shared, run.batches_seen = batches != run.batches_seen, batches
        limit = run.pace.budget(run.campaign.throughput, now, room, shared=shared)
        if limit <= 0:
            wait = bucket.wait(now, 1) if bucket is not None else IDLE
            self._schedule(campaign_id, run, run.pace.wait_for_room(wait))
            return
        run.busy = True
        self.refill_ids()  # intake takes this step's message ids from the shared block
        d = self.worker.call(self.runner.read, campaign_id, now, limit)
        d.addCallbacks(self._read, self._step_failed, callbackArgs=(campaign_id, run),
                       errbackArgs=(campaign_id, run))

    def _read(self, batch: CampaignBatch | None, campaign_id: int, run: _Run) -> None:
        if batch is None or self.stopping:
            self._forget(campaign_id)
            return
        run.campaign, run.account = batch.campaign, batch.account
        if batch.campaign.state != CampaignState.RUNNING:
            self._forget(campaign_id)  # the poll finds it again if it runs again
            return
        self._prepare(batch, campaign_id, run)

    def _prepare(self, batch: CampaignBatch, campaign_id: int, run: _Run) -> None:
        if self.stopping:
            self._abandon(batch)
            return
        bucket = self.throttles.throttle(batch.account) if batch.account is not None else None
        self.runner.prepare(batch, self.core.intake, self.clock.seconds(), bucket, most=SLICE)
        if not batch.prepared_all:
            self.clock.callLater(0, self._prepare, batch, campaign_id, run)
            return
        if not batch.writes:  # nothing to write: only whether the campaign is done
            d = self.worker.call(self.runner.commit, batch, self.clock.seconds())
            d.addCallbacks(lambda done: self._answered(done, campaign_id, run, failed=False),
                           self._step_failed, errbackArgs=(campaign_id, run))
            return

        def commit(_parts: Sequence[NewMessage], now: float) -> Committed:  # store thread
            done = self.runner.commit(batch, now)
            return done.committed or Committed(outcomes=done.outcomes)

        def answer(outcomes: list[AcceptOutcome] | None) -> None:
            self._answered(batch, campaign_id, run, failed=outcomes is None)

        self.committer.add_alone(batch.parts, sum(p.groups for p in batch.prepared), answer,
                                 commit)

    def _answered(self, batch: CampaignBatch, campaign_id: int, run: _Run, *,
                  failed: bool) -> None:
        """The step's submits answered (a failed commit: every one refused, nothing
        written); the next step scheduled, or the campaign dropped."""
        run.busy = False
        if failed:
            batch.outcomes = []
        result = self.runner.answered(batch, self.core.intake)
        self.steps += 1
        self.sent += result.sent
        if failed:
            self._schedule(campaign_id, run, FAILED_RETRY)
            return
        delay = run.pace.after(result, batch.campaign.throughput)
        if delay is None:
            self._forget(campaign_id)
        else:
            self._schedule(campaign_id, run, delay)

    def _abandon(self, batch: CampaignBatch) -> None:
        """A step dropped before its commit: intake gets its queue room back."""
        batch.outcomes = []
        self.runner.answered(batch, self.core.intake)

    def _step_failed(self, failure: Failure, campaign_id: int, run: _Run) -> Any:
        run.busy = False
        self.health.failed(f"campaign {campaign_id}'s step", failure)
        self._schedule(campaign_id, run, FAILED_RETRY)
        return None


__all__ = ["MOST_AT_ONCE", "POLL", "SLICE", "CampaignSender"]
