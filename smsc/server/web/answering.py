"""What the site's resources share: a request answered by a coroutine off ``render``, written
once it is done unless the client has gone, and the request's header and address read alike."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, Generic, TypeVar

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from smsc.server.web.lean_request import LeanRequest
from smsc.server.web.web_request import WebRequest

R = TypeVar("R")
_log = Logger()


class AnsweringResource(Resource, Generic[R]):
    """``render`` runs :meth:`_answer` and hands its reply to :meth:`_write` (or the failure to
    :meth:`_failed`), telling both whether the client went away meanwhile.

    One coroutine per request, no callbacks chained on it: the answer is written at its end.
    It is run by :func:`_drive` (as ``ensureDeferred`` would run it, without a Deferred of its
    own, a cancellation status and a context copied for each step: nothing cancels it, and the
    resources set no context variables).
    Whether the client went away is the request's own flag on the lean server's requests
    (no ``notifyFinish`` Deferred made for each); another request (twisted.web's, a test's
    ``DummyRequest``) is watched through ``notifyFinish``."""

    def render(self, request: WebRequest) -> Any:
        watched: list[bool] | None = None
        if not isinstance(request, LeanRequest):
            watched = []
            request.notifyFinish().addErrback(_mark, watched)
        _drive(self._answer_and_write(request, watched), None)
        return NOT_DONE_YET

    async def _answer_and_write(self, request: WebRequest, watched: list[bool] | None
                                ) -> None:
        try:
            reply = await self._answer(request)
            self._write(reply, request, _gone(request, watched))
        except Exception:
            self._failed(Failure(), request, _gone(request, watched))  # type: ignore[no-untyped-call]

    async def _answer(self, request: WebRequest) -> R:
        raise NotImplementedError

    def _write(self, reply: R, request: WebRequest, gone: list[bool]) -> None:
        raise NotImplementedError

    def _failed(self, failure: Failure, request: WebRequest, gone: list[bool]) -> None:
        raise NotImplementedError


def _drive(coroutine: Coroutine[Any, Any, None], result: object) -> None:
    """Runs ``coroutine`` with ``result`` (a Failure is raised in it) on until it waits on a
    Deferred that has not fired, which resumes it with its result; something else it awaits
    is sent back to it (as ``inlineCallbacks`` does). Never recursing deeper than one
    Deferred's callback: a Deferred that has fired is not waited on."""
    while True:
        try:
            if isinstance(result, Failure):
                awaited = result.throwExceptionIntoGenerator(coroutine)  # type: ignore[no-untyped-call]
            else:
                awaited = coroutine.send(result)
        except StopIteration:
            return
        if isinstance(awaited, defer.Deferred):
            awaited.addBoth(_resume, coroutine)
            return
        result = awaited


def _resume(result: object, coroutine: Coroutine[Any, Any, None]) -> None:
    """A Deferred the coroutine waited on fired: on with it. Its failure to go on is logged
    here, never passed down the Deferred's chain (another's callbacks may follow)."""
    try:
        _drive(coroutine, result)
    except Exception:
        _log.failure("HTTP answer failed")


def _mark(_failure: Failure, watched: list[bool]) -> None:
    watched.append(True)


def _gone(request: WebRequest, watched: list[bool] | None) -> list[bool]:
    """``[True]`` when the client went away before the answer (``[]`` when not)."""
    if watched is None:
        return [True] if request.gone else []  # type: ignore[attr-defined]
    return watched


def header_of(request: WebRequest, name: bytes) -> str | None:
    """A request header's first value as text (latin-1, as HTTP/1.1 carries it), or None."""
    value = request.getHeader(name)
    if value is None:
        return None
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def address_of(request: WebRequest) -> str:
    """The client's address (``unix`` for a UNIX socket)."""
    address = request.getClientAddress()
    return str(getattr(address, "host", "") or "unix")
