"""The endpoints of the customer HTTP API. Each parses its input with the models of
:mod:`smsc.http`, makes one core call (on the event loop, or on the store thread through the
worker) and encodes the answer; the decisions are the core's (see docs/design.md, "The path of
an HTTP send")."""

from __future__ import annotations

import contextlib
import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from twisted.internet import defer, task
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsc.config.http import HttpSettings
from smsc.core.apikeys import ApiKeyDesk, VerifiedKeys
from smsc.core.batch import Batch, BatchAnswer, BatchBuilder, answer_batch
from smsc.core.binds import Throttles
from smsc.core.centre import SmscCore
from smsc.core.ids import IdBlock
from smsc.core.lookup import Lookups
from smsc.core.quote import quote
from smsc.http import models as m
from smsc.http import problems as p
from smsc.http.answers import (
    STATE_BY_NAME,
    ListQuery,
    decode_cursor,
    encode_cursor,
    iso,
    message,
    quote_answer,
    send_answer,
)
from smsc.http.replies import ProblemReply, Reply, field_errors, ok, problem
from smsc.http.translate import InputError, Submits, submits
from smsc.pdu import pdus
from smsc.pdu.constants import CommandStatus
from smsc.server.committer import GroupCommitter
from smsc.server.delivery import OutboxCourier
from smsc.server.lograte import LogLimiter, suppressed_note
from smsc.server.storehealth import StoreHealth
from smsc.server.web.opt_out_reads import OptOutReads
from smsc.server.worker import StoreWorker
from smsc.slotted import slot_constructor
from smsc.store.base import Store
from smsc.store.records import (
    AcceptOutcome,
    Account,
    HookStyle,
    MessageHook,
)

S = CommandStatus
T = TypeVar("T", bound=BaseModel)
_log = Logger()
SLICE = 500  # destinations prepared per turn of the event loop
LEASE = 300.0  # an Idempotency-Key claimed by a request that never finished is free after this


_hook = slot_constructor(MessageHook)  # url, style, reference


@dataclass(frozen=True, slots=True)
class Caller:
    account: Account
    address: str


_caller = slot_constructor(Caller)  # account, address


def _hook_of(request: m.SendRequest) -> MessageHook | None:
    """Where a send's receipts go: its ``webhook_url``, else the account's destination with
    its reference (None: neither given)."""
    if request.webhook_url is not None:
        return _hook(str(request.webhook_url), HookStyle.JSON, request.reference)
    if request.reference is not None:
        return _hook("", HookStyle.NONE, request.reference)
    return None


def parse_body(model: type[T], body: bytes) -> T:
    try:  # the model's own validator, as model_validate_json calls it (without its wrapper)
        return model.__pydantic_validator__.validate_json(body)  # type: ignore[no-any-return]
    except ValidationError as e:
        raise ProblemReply(problem(p.INVALID_REQUEST, "the body does not match the schema",
                                   errors=field_errors(e))) from None


def _refused() -> ProblemReply:
    return ProblemReply(problem(p.UNAUTHORIZED, "give a valid API key as "
                                                "'Authorization: Bearer <key>'",
                                headers=(("WWW-Authenticate", 'Bearer realm="smsc"'),)))


class HttpApi:
    """The API's endpoints over the server's collaborators (the composition root passes them)."""

    def __init__(self, reactor: Any, *, settings: HttpSettings, store: Store, core: SmscCore,
                 ids: IdBlock, worker: StoreWorker, committer: GroupCommitter,
                 courier: OutboxCourier, health: StoreHealth, throttles: Throttles,
                 decimals: Callable[[str], int], refill_ids: Callable[[], None]) -> None:
        self.clock: IReactorTime = reactor
        self.settings = settings
        self.store = store
        self.core = core
        self.ids = ids
        self.worker = worker
        self.committer = committer
        self.courier = courier
        self.health = health
        self.throttles = throttles
        self.decimals = decimals
        self.refill_ids = refill_ids
        self.keys = ApiKeyDesk(core.binds)
        self.verified = VerifiedKeys()  # cleared by Upkeep when the store's counter moves
        self.lookups = Lookups(store, core.id_format)
        self.opt_outs = OptOutReads(reactor, worker, store)  # one store call per turn
        self.logs = LogLimiter()  # refused keys, per address
        self._purge: task.LoopingCall | None = None
        # For the metrics (smsc.server.web.site.web_metrics): answers by HTTP status, and the
        # destinations of sends accepted and refused by status.
        self.answers: Counter[int] = Counter()
        self.accepted = 0
        self.refusals: Counter[int] = Counter()

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        self._purge = task.LoopingCall(self._purge_answers)
        self._purge.clock = self.clock
        self._purge.start(60.0, now=False).addErrback(self._purge_stopped)

    def _purge_stopped(self, failure: Failure) -> None:
        _log.failure("the purge of Idempotency-Key answers stopped", failure)

    def stop(self) -> None:
        if self._purge is not None and self._purge.running:
            self._purge.stop()

    def _purge_answers(self) -> None:
        d = self.worker.call(self.store.purge_idempotency, self.clock.seconds(),
                             self.settings.idempotency_max)
        d.addErrback(lambda f: self.health.failed("purging Idempotency-Key answers", f))

    # --- plumbing -----------------------------------------------------------------------------
    async def _store(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        """A call on the store thread; its failure is a 503 (logged by the store's health)."""
        try:
            return await self.worker.call(fn, *args)
        except Exception:
            self.health.failed(what, Failure())  # type: ignore[no-untyped-call]
            raise ProblemReply(problem(p.STORE_UNAVAILABLE, retry_after=1)) from None

    def _checked_and_committed(self, account: str, builder: BatchBuilder
                               ) -> defer.Deferred[tuple[Batch, list[AcceptOutcome] | None]]:
        """The batch of ``builder`` once its numbers' opt-outs are read (with the other sends
        of this turn), and the outcomes of its group commit (None: the commit failed). One
        Deferred for both steps: the commit is queued in the opt-out read's callback, as the
        send would have queued it on resuming, without resuming it in between. A failed read
        is a 503, the prepared destinations' queue room given back."""
        done: defer.Deferred[tuple[Batch, list[AcceptOutcome] | None]] = defer.Deferred()

        def commit(opted: set[str]) -> None:
            try:
                batch = builder.batch(opted)
                if not batch.parts:
                    done.callback((batch, []))
                    return
                self.committer.add(batch.parts, batch.groups,
                                   lambda outcomes: done.callback((batch, outcomes)))
            except Exception:  # a fault of the batch itself: the send's own error
                if not done.called:
                    done.errback()
                else:
                    raise

        def unread(failure: Failure) -> None:
            builder.abandon()
            self.health.failed("reading opt-outs", failure)
            done.errback(ProblemReply(problem(p.STORE_UNAVAILABLE, retry_after=1)))

        numbers = builder.numbers()
        if not numbers:  # refused if on the account's opt-out list (smsc.core.batch)
            commit(set())
            return done
        self.opt_outs.read(account, numbers, commit, unread)
        return done

    async def authenticate(self, authorization: str | None, address: str) -> Caller:
        """The caller of a request with this Authorization header, from ``address``; a 401
        that says nothing more for a missing, unknown, revoked or wrong key and for a lock.
        A key verified in the last few seconds from the same address is taken without the
        store (see :class:`smsc.core.apikeys.VerifiedKeys`)."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _refused()
        now = self.clock.seconds()
        verdict = self.verified.get(token, address, now)
        if verdict is None:
            verdict = await self._store("checking an API key", self.keys.authenticate,
                                        token, address, now)
            if verdict.account is None:
                self.verified.clear()  # a refusal may have set a lock
                held = self.logs.allow(("apikey", address), self.clock.seconds())
                if held is not None:
                    _log.info("HTTP API key refused from {address}: {reason}{note}",
                              address=address, reason=verdict.reason,
                              note=suppressed_note(held))
                raise _refused()
            self.verified.put(token, address, verdict, now)
        assert verdict.account is not None
        return _caller(verdict.account, address)

    # --- POST /v1/messages ----------------------------------------------------------------------
    async def send(self, caller: Caller, body: bytes, idempotency_key: str | None) -> Reply:
        request = parse_body(m.SendRequest, body)
        made = self._submits(request, caller.account)
        account = caller.account
        if idempotency_key is None:  # the common send: no coroutine of _send in between
            batch, answered = await self.submit(account, made.requests, _hook_of(request))
            return send_answer(batch, answered, account, self.decimals(account.currency),
                               request.reference)
        fingerprint = hashlib.sha256(b"POST /v1/messages\n" + body).hexdigest()
        now = self.clock.seconds()
        kept = await self._store("claiming an Idempotency-Key", self.store.claim_idempotency,
                                 account.system_id, idempotency_key, fingerprint, now,
                                 now + LEASE, now + self.settings.idempotency_ttl)
        if kept is not None:
            if kept.fingerprint != fingerprint:
                raise ProblemReply(problem(p.IDEMPOTENCY_REUSED, errors=[m.FieldError(
                    field="Idempotency-Key", message="used before for another request")]))
            if kept.pending:
                raise ProblemReply(problem(p.IDEMPOTENCY_IN_PROGRESS, retry_after=1))
            return Reply(kept.status, kept.content_type, kept.body, (("Idempotent-Replayed",
                                                                      "true"),))
        try:
            reply = await self._send(account, request, made)
        except ProblemReply as e:
            reply = e.reply
        if reply.status == 200:  # something was accepted (and billed): kept before it is sent
            # If it cannot be kept, the messages are sent all the same: say so (a retry then
            # waits for the claim's lease).
            with contextlib.suppress(ProblemReply):
                await self._store("keeping an Idempotency-Key's answer",
                                  self.store.finish_idempotency, account.system_id,
                                  idempotency_key, reply.status, reply.content_type, reply.body)
        else:  # nothing was accepted: a retry runs again
            d = self.worker.call(self.store.release_idempotency, account.system_id,
                                 idempotency_key)
            d.addErrback(lambda f: self.health.failed("releasing an Idempotency-Key", f))
        return reply

    @staticmethod
    def _submits(request: m.SendRequest, account: Account | None = None) -> Submits:
        try:
            return submits(request, account_webhook=bool(account and account.webhook_url))
        except InputError as e:
            raise ProblemReply(problem(p.INVALID_REQUEST, str(e), errors=[
                m.FieldError(field=e.field, message=str(e))])) from None

    def _have_ids(self, count: int) -> bool:
        """Whether the block holds ids for ``count`` more messages (its refill asked for on
        time, as the SMPP path asks for it)."""
        self.refill_ids()
        return self.ids.holds(count)

    async def _ids_for(self, count: int) -> None:
        """Enough message ids in the block for ``count`` more messages."""
        while not self._have_ids(count):
            first, got = await self._store("reserving message ids", self.core.reserve_ids,
                                           max(count, self.ids.block_size))
            self.ids.add_block(first, got)

    async def submit(self, account: Account, requests: Sequence[tuple[str, pdus.SubmitSm]],
                     hook: MessageHook | None = None) -> tuple[Batch, list[BatchAnswer]]:
        """The send path every HTTP transport shares (this API, a Kannel-style sendsms): the
        submit_sm of each destination through the core's intake, the group commit, and each
        destination's answer once committed."""
        if not self._have_ids(len(requests)):
            await self._ids_for(len(requests))  # one reservation for a big batch
        intake = self.core.intake
        builder = BatchBuilder(intake, self.throttles.caller(account), hook=hook)
        for start in range(0, len(requests), SLICE):
            chunk = requests[start:start + SLICE] if start or len(requests) > SLICE else requests
            if start:  # let the other connections' work run between slices
                await task.deferLater(self.clock, 0, lambda: None)
                if not self._have_ids(len(chunk)):  # others may have taken ids meanwhile
                    await self._ids_for(len(chunk))
            builder.add(chunk, self.clock.seconds())
        batch, outcomes = await self._checked_and_committed(account.system_id, builder)
        answered = answer_batch(intake, batch, outcomes, account)
        for a in answered:
            if a.answer.status:
                self.refusals[a.answer.cause] += 1
            else:
                self.accepted += 1
        return batch, answered

    async def _send(self, account: Account, request: m.SendRequest, made: Submits) -> Reply:
        batch, answered = await self.submit(account, made.requests, _hook_of(request))
        return send_answer(batch, answered, account, self.decimals(account.currency),
                           request.reference)

    # --- POST /v1/quote -----------------------------------------------------------------------
    async def quote(self, caller: Caller, body: bytes) -> Reply:
        request = parse_body(m.SendRequest, body)
        made = self._submits(request)
        account = caller.account
        q = quote(self.core.intake, account, made.requests, self.clock.seconds())
        store, numbers, now = self.store, q.numbers(), self.clock.seconds()
        balance, opted = await self._store(
            "reading a balance", lambda: (store.balance(account.credit_owner, now),
                                          store.opted_out(account.system_id, numbers)
                                          if numbers else set()))
        q = q.opting_out(opted)
        return quote_answer(q, account, self.decimals(account.currency),
                            balance.available(self.clock.seconds()), made.data_coding)

    # --- GET /v1/balance ----------------------------------------------------------------------
    async def balance(self, caller: Caller) -> Reply:
        account = caller.account
        now = self.clock.seconds()
        b = await self._store("reading a balance", self.store.balance, account.credit_owner,
                              now)
        return ok(m.Balance(currency=account.currency, decimals=self.decimals(account.currency),
                            available=b.available(now), bought=b.bought,
                            subscription=b.subscription_now(now),
                            subscription_expires_at=iso(b.subscription_expires_at)))

    # --- GET /v1/messages/{id}, DELETE /v1/messages/{id} ----------------------------------------
    async def get_message(self, caller: Caller, message_id: str) -> Reply:
        views = await self._store("reading a message", self.lookups.message, caller.account,
                                  message_id)
        if not views:
            raise ProblemReply(problem(p.NOT_FOUND, f"no message {message_id} of yours"))
        account = caller.account
        return ok(message(views[0], account, self.decimals(account.currency)))

    async def cancel(self, caller: Caller, message_id: str) -> Reply:
        account = caller.account
        views = await self._store("reading a message", self.lookups.message, account,
                                  message_id)
        if not views:
            raise ProblemReply(problem(p.NOT_FOUND, f"no message {message_id} of yours"))
        cancelled = await self._store("cancelling a message", self.core.cancel, account,
                                      pdus.CancelSm(message_id=message_id),
                                      self.clock.seconds())
        if cancelled.status:
            raise ProblemReply(problem(p.refusal(cancelled.status),
                                       f"message {message_id} is no longer pending",
                                       smpp_status=cancelled.status))
        if cancelled.items:
            self.courier.offer(list(cancelled.items))
        return ok(m.Cancelled(id=message_id, state="deleted"))

    # --- GET /v1/messages ---------------------------------------------------------------------
    async def list_messages(self, caller: Caller, query: dict[str, str]) -> Reply:
        try:
            q = ListQuery.model_validate(query)
        except ValidationError as e:
            raise ProblemReply(problem(p.INVALID_REQUEST, "the query is not valid",
                                       errors=field_errors(e))) from None
        before = decode_cursor(q.cursor) if q.cursor is not None else None
        page = await self._store(
            "listing messages", lambda: self.lookups.page(
                caller.account, before=before, limit=q.limit,
                state=STATE_BY_NAME[q.state] if q.state else None, destination=q.destination,
                since=q.since.timestamp() if q.since else None,
                until=q.until.timestamp() if q.until else None, reference=q.reference))
        return ok(m.MessagePage(
            messages=[message(v, caller.account, self.decimals(caller.account.currency))
                      for v in page.messages],
            next=encode_cursor(page.next_before) if page.next_before is not None else None))


__all__ = ["Caller", "HttpApi"]
