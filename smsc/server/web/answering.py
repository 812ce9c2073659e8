"""What the site's resources share: a request answered by a coroutine off ``render``, written
once it is done unless the client has gone, and the request's header and address read alike."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from twisted.internet import defer
from twisted.python.failure import Failure
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from smsc.server.web.lean_request import LeanRequest
from smsc.server.web.web_request import WebRequest

R = TypeVar("R")


class AnsweringResource(Resource, Generic[R]):
    """``render`` runs :meth:`_answer` and hands its reply to :meth:`_write` (or the failure to
    :meth:`_failed`), telling both whether the client went away meanwhile.

    One coroutine per request, no callbacks chained on it: the answer is written at its end.
    Whether the client went away is the request's own flag on the lean server's requests
    (no ``notifyFinish`` Deferred made for each); another request (twisted.web's, a test's
    ``DummyRequest``) is watched through ``notifyFinish``."""

    def render(self, request: WebRequest) -> Any:
        watched: list[bool] | None = None
        if not isinstance(request, LeanRequest):
            watched = []
            request.notifyFinish().addErrback(_mark, watched)
        defer.ensureDeferred(self._answer_and_write(request, watched))
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
