"""Kannel's ``/cgi-bin/sendsms`` on the HTTP API's site: the request read as smsbox reads it
(:mod:`smsc.http.kannel`), the username and password checked as an SMPP bind's (the same
dispatcher, hash pool and lockout counts; a login that matched in the last minutes needs no
new hash: :class:`smsc.core.verified_logins.VerifiedLogins`), the send through the API's
shared send path (:meth:`smsc.server.web.api.HttpApi.submit`), the SMSC's answer reports its
dlr-mask asks for stored in the outbox (:func:`smsc.core.smsc_reports.answer_reports`) before
the answer is written in smsbox's words. No decision is made here."""

from __future__ import annotations

from typing import Any

from twisted.internet import task
from twisted.logger import Logger
from twisted.python.failure import Failure

from smsc.core.smsc_reports import answer_reports
from smsc.core.verified_logins import VerifiedLogins
from smsc.http import kannel
from smsc.http.replies import ProblemReply, Reply
from smsc.server.binding import BindDispatcher
from smsc.server.lograte import suppressed_note
from smsc.server.web.answering import AnsweringResource, address_of, header_of
from smsc.server.web.api import HttpApi
from smsc.server.web.web_request import WebRequest
from smsc.store.records import BindType

_log = Logger()
PATH = b"/cgi-bin/sendsms"
_METHODS = (b"GET", b"POST")


class SendsmsResource(AnsweringResource[Reply]):
    """``/cgi-bin/...``: ``sendsms`` by GET or POST; anything else as smsbox answers it."""

    isLeaf = True  # noqa: N815 - the name Twisted looks for

    def __init__(self, api: HttpApi, binder: BindDispatcher) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.api = api
        self.binder = binder
        self.verified = VerifiedLogins()  # a Kannel client logs in with every message

    async def _answer(self, request: WebRequest) -> Reply:
        try:
            return await self._sendsms(request)
        except kannel.KannelRefusal as e:
            return e.reply
        except ProblemReply:  # the store did not answer (logged by the store's health)
            return kannel.store_failure()

    async def _sendsms(self, request: WebRequest) -> Reply:
        if request.path != PATH:
            return kannel.kannel_reply(404, "Unknown request.")
        if request.method not in _METHODS:
            return kannel.kannel_reply(405, "Unknown request.", (("Allow", "GET, POST"),))
        if getattr(request, "too_large", False):
            return kannel.kannel_reply(413, f"{kannel.SENDING_FAILED} At most "
                                            f"{self.api.settings.max_body} octets")
        body = None
        if request.method == b"POST" and request.content is not None:
            request.content.seek(0)
            body = request.content.read()
        read = kannel.read_request(_args(request), body=body,
                                   content_type=header_of(request, b"content-type") or "",
                                   headers=_kannel_headers(request))
        form = read.form
        account = await self._login(form.username or "", form.password or "",
                                    address_of(request))
        receivers = kannel.receivers_or_refusal(read)
        hook = kannel.hook_of(form)
        requests = kannel.submits(form, receivers)
        batch, answered = await self.api.submit(account, requests, hook)
        reports = answer_reports(answered, hook, account, form.sender or "",
                                 self.api.clock.seconds())
        if reports:
            try:
                items = await self.api.worker.call(self.api.store.add_outbox, reports)
            except Exception:  # the messages are committed: answer, and say what was lost
                self.api.health.failed("storing sendsms SMSC reports", Failure())  # type: ignore[no-untyped-call]
            else:
                self.api.courier.offer(list(items))
        return kannel.answer(batch, answered, sender_given=bool(form.sender))

    async def _login(self, username: str, password: str, address: str) -> Any:
        """The account, checked as an SMPP bind (a failure counts toward the same locks); a
        refusal is smsbox's 403, whatever the reason."""
        verdict = await self.binder.authenticate(username, password, BindType.TRANSMITTER,
                                                 address, opens_bind=False,
                                                 verified=self.verified)
        if verdict.status == 0 and verdict.account is not None:
            return verdict.account
        clock = self.api.clock
        if verdict.delay:
            await task.deferLater(clock, verdict.delay, lambda: None)
        if not verdict.logged:
            held = self.api.logs.allow(("sendsms", address), clock.seconds())
            if verdict.new_lock:  # the line that says a lock was set is never left out
                held = held or 0
            if held is not None:
                _log.info("sendsms login {username!r} refused from {address}: {reason}{note}",
                          username=username[:64], address=address, reason=verdict.reason,
                          note=suppressed_note(held))
        raise kannel.KannelRefusal(403, kannel.AUTHORIZATION_FAILED)

    def _write(self, reply: Reply, request: WebRequest, gone: list[bool]) -> None:
        self.api.answers[reply.status] += 1
        if gone:
            return
        request.setResponseCode(reply.status)
        request.setHeader(b"content-type", reply.content_type.encode("ascii"))
        request.setHeader(b"pragma", b"no-cache")
        request.setHeader(b"cache-control", b"no-cache")
        for name, value in reply.headers:
            request.setHeader(name.encode("ascii"), value.encode("ascii"))
        request.write(reply.body)
        request.finish()

    def _failed(self, failure: Failure, request: WebRequest, gone: list[bool]) -> None:
        _log.failure("sendsms request failed", failure)
        self._write(kannel.kannel_reply(500, kannel.SENDING_FAILED), request, gone)


def _args(request: WebRequest) -> dict[str, list[bytes]]:
    """The query's parameters (and a form-encoded body's: twisted.web parses it into args)."""
    out: dict[str, list[bytes]] = {}
    for key, values in (request.args or {}).items():
        name = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
        out[name] = [v if isinstance(v, bytes) else str(v).encode("utf-8") for v in values]
    return out


def _kannel_headers(request: WebRequest) -> dict[str, str]:
    """The ``X-Kannel-*`` headers (names lower-cased, the first value of each)."""
    out: dict[str, str] = {}
    for name, values in request.requestHeaders.getAllRawHeaders():
        key = name.decode("latin-1").lower()
        if key.startswith("x-kannel-") and values:
            out[key] = values[0].decode("latin-1")
    return out


__all__ = ["SendsmsResource"]
