"""query_sm, cancel_sm and replace_sm: the core answers them on the store thread; the answer
goes back to the connection, and a cancel's receipts to the courier."""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure

from smsc.core.centre import SmscCore
from smsc.core.messages import Cancelled
from smsc.pdu import pdus
from smsc.pdu.constants import CommandStatus
from smsc.server.delivery import OutboxCourier
from smsc.server.protocol import SmppServerProtocol
from smsc.server.responses import message_response
from smsc.server.sessions import BindRecord
from smsc.server.storehealth import StoreHealth
from smsc.server.worker import StoreWorker

S = CommandStatus


class MessageRequests:
    """Requests about a message submitted before (stateless: the store has the messages)."""

    def __init__(self, clock: IReactorTime, core: SmscCore, worker: StoreWorker,
                 courier: OutboxCourier, health: StoreHealth) -> None:
        self.clock = clock
        self.core = core
        self.worker = worker
        self.courier = courier
        self.health = health

    def message_request(self, conn: SmppServerProtocol, pdu: pdus.Pdu) -> None:
        record = conn.bind
        assert isinstance(record, BindRecord)
        now = self.clock.seconds()
        account = record.account
        if isinstance(pdu, pdus.QuerySm):
            d: defer.Deferred[Any] = self.worker.call(self.core.query, account, pdu)
            d.addCallback(lambda answer: conn.respond(message_response(pdu, answer)))
        elif isinstance(pdu, pdus.CancelSm):
            d = self.worker.call(self.core.cancel, account, pdu, now)
            d.addCallback(self._cancelled, conn, pdu)
        else:
            assert isinstance(pdu, pdus.ReplaceSm)
            d = self.worker.call(self.core.replace, account, pdu, now)
            d.addCallback(lambda answer: conn.respond(message_response(pdu, answer)))
        d.addErrback(self._request_failed, conn, pdu)

    def _cancelled(self, cancelled: Cancelled, conn: SmppServerProtocol, pdu: pdus.Pdu) -> None:
        conn.respond(message_response(pdu, cancelled))
        if cancelled.items:
            self.courier.offer(list(cancelled.items))

    def _request_failed(self, failure: Failure, conn: SmppServerProtocol, pdu: pdus.Pdu
                        ) -> None:
        self.health.failed(f"{pdu.command_name} from {conn.peer_host}", failure)
        conn.respond(pdus.error_response(pdu.command_id, pdu.sequence_number, S.ESME_RSYSERR))


__all__ = ["MessageRequests"]
