"""Submits: submit_sm, data_sm and submit_multi from a bound connection through the core's
intake to the group commit and back as the response PDU, and the id block refilled on time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsc.config.server import ServerSettings
from smsc.core.centre import Committed, SmscCore
from smsc.core.ids import IdBlock
from smsc.core.submit import Answer, Prepared
from smsc.pdu import pdus
from smsc.pdu.errors import PduError
from smsc.server.committer import GroupCommitter
from smsc.server.delivery import OutboxCourier
from smsc.server.protocol import SmppServerProtocol
from smsc.server.sessions import BindRecord
from smsc.server.storehealth import StoreHealth
from smsc.server.worker import StoreWorker
from smsc.slotted import slot_constructor
from smsc.store.records import AcceptOutcome, OutboxItem

_log = Logger()
# A failed id block reservation is asked again after these pauses (doubling), whether or not
# submits come: service is back within about REFILL_RETRY_MAX once the store is.
REFILL_RETRY_MIN = 0.1
REFILL_RETRY_MAX = 2.0

_submit_sm_resp = slot_constructor(pdus.SubmitSmResp)  # sequence_number, status, message_id


class Submits:
    """Takes each submit to its answer; owns the group commit, the id block's refill and the
    submit counts for the metrics. ``left_queues`` is told of parts settled on acceptance."""

    def __init__(self, reactor: Any, settings: ServerSettings, core: SmscCore, ids: IdBlock,
                 worker: StoreWorker, courier: OutboxCourier, health: StoreHealth,
                 left_queues: Callable[[dict[str, int]], None]) -> None:
        self.clock: IReactorTime = reactor
        self.core = core
        self.ids = ids
        self.worker = worker
        self.courier = courier
        self.health = health
        self.left_queues = left_queues
        self.committer = GroupCommitter(reactor, worker, core.commit,
                                        delay=settings.commit_delay,
                                        max_batch=settings.commit_batch,
                                        after=self._finals_committed, health=health)
        self.accepted = 0  # submits answered with a message id
        self.refused = 0
        self.refusals: Counter[int] = Counter()  # refused submits by status
        self._refill_delay = REFILL_RETRY_MIN
        self._refill_call: Any = None
        self.stopping = False  # set when the service stops: no more timers

    def use_settings(self, settings: ServerSettings) -> None:
        self.committer.delay = settings.commit_delay
        self.committer.max_batch = settings.commit_batch

    def stop(self) -> None:
        """No more refill retries."""
        self.stopping = True
        if self._refill_call is not None and self._refill_call.active():
            self._refill_call.cancel()

    def submit(self, conn: SmppServerProtocol, pdu: pdus.Pdu) -> None:
        record = conn.bind
        assert isinstance(record, BindRecord)
        now = self.clock.seconds()
        intake = self.core.intake
        if self.ids.wants_refill:  # before intake: a spent block must not stop the refill
            self._refill_ids()
        try:
            prepared = intake.prepare(record.context, pdu, now)
        except PduError as e:
            self._answer(conn, pdu, intake.refusal(record.account, e.command_status))
            return
        if not prepared.parts:  # a submit_multi whose every destination was refused
            self._answer(conn, pdu, intake.answer(prepared, [], record.account))
            return
        if type(pdu) is pdus.SubmitSm and pdu.replace_if_present_flag == 1:
            # The pending messages it replaces leave their queues first (on the store thread,
            # ahead of this commit); then it is committed like any other.
            d = self.worker.urgent(self.core.replace_pending, record.account, prepared.parts[0],
                                   now)
            d.addCallbacks(self._replaced, self._replace_failed,
                           callbackArgs=(conn, pdu, prepared), errbackArgs=(conn, pdu, prepared))
            return
        self._commit(conn, pdu, prepared)

    def refill_if_low(self) -> None:
        """Ask for the next id block if the current one runs low (another transport's submits
        take ids from the same block)."""
        if self.ids.wants_refill:
            self._refill_ids()

    def _commit(self, conn: SmppServerProtocol, pdu: pdus.Pdu, prepared: Prepared) -> None:
        self.committer.add(prepared.parts, prepared.groups,
                           lambda outcomes: self._committed(conn, pdu, prepared, outcomes))

    def _replaced(self, items: list[OutboxItem], conn: SmppServerProtocol, pdu: pdus.Pdu,
                  prepared: Prepared) -> None:
        if items:
            self.courier.offer(items)
        self._commit(conn, pdu, prepared)

    def _replace_failed(self, failure: Failure, conn: SmppServerProtocol, pdu: pdus.Pdu,
                        prepared: Prepared) -> None:
        _log.failure("replacing pending messages failed", failure)
        self._committed(conn, pdu, prepared, None)

    def _committed(self, conn: SmppServerProtocol, pdu: pdus.Pdu, prepared: Prepared,
                   outcomes: list[AcceptOutcome] | None) -> None:
        account = conn.bind.account if isinstance(conn.bind, BindRecord) else None
        self._answer(conn, pdu, self.core.intake.answer(prepared, outcomes, account))

    def _answer(self, conn: SmppServerProtocol, pdu: pdus.Pdu, answer: Answer) -> None:
        """Send the core's answer to a submit, and count it for the metrics."""
        if not answer.status:
            self.accepted += 1
        else:
            self.refused += 1
            self.refusals[answer.cause] += 1
        conn.respond(submit_response(pdu, answer))

    def _finals_committed(self, committed: Committed) -> None:
        """Parts settled on acceptance: they left their queues, and their receipts go out
        after the submit_sm_resp that gave their ids."""
        self.left_queues(committed.finals)
        if committed.items:
            self.courier.offer(committed.items)

    def _refill_ids(self) -> None:
        """Reserve the next id block; a failure is retried with backoff until it works, with
        or without submits (a spent block refuses every submit before it reaches here)."""
        self._refill_call = None
        self.ids.refill_pending = True
        d = self.worker.urgent(self.core.reserve_ids, self.ids.block_size)
        d.addCallbacks(self._refilled, self._refill_failed)

    def _refilled(self, block: tuple[int, int]) -> None:
        self._refill_delay = REFILL_RETRY_MIN
        self.ids.add_block(*block)
        self.health.ok()

    def _refill_failed(self, failure: Failure) -> None:
        self.health.failed("reserving message ids", failure)
        if self.stopping:
            self.ids.refill_pending = False
            return
        delay = self._refill_delay
        self._refill_delay = min(REFILL_RETRY_MAX, delay * 2)
        self._refill_call = self.clock.callLater(delay, self._refill_ids)  # still pending


def submit_response(request: pdus.Pdu, answer: Answer) -> pdus.Pdu:
    """The core's answer to a submit as the response PDU to ``request``: a submit_multi_resp
    with its refused destinations, a submit_sm_resp or data_sm_resp with the message id, or
    for a submit refused whole, its response without a body."""
    seq = request.sequence_number
    if not answer.message_id:
        return pdus.error_response(request.command_id, seq, answer.status)
    if answer.multi:
        return pdus.SubmitMultiResp(sequence_number=seq, command_status=answer.status,
                                    message_id=answer.message_id,
                                    unsuccess_smes=tuple(
                                        pdus.UnsuccessSme(dest_addr_ton=u.ton,
                                                          dest_addr_npi=u.npi,
                                                          destination_addr=u.address,
                                                          error_status_code=u.status)
                                        for u in answer.unsuccess))
    if type(request) is pdus.SubmitSm:
        return _submit_sm_resp(seq, 0, answer.message_id)
    return pdus.DataSmResp(sequence_number=seq, message_id=answer.message_id)


__all__ = ["REFILL_RETRY_MAX", "REFILL_RETRY_MIN", "Submits", "submit_response"]
