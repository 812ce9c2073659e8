"""What the site's resources share: a request answered by a coroutine off ``render``, written
once it is done unless the client has gone, and the request's header and address read alike."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from twisted.internet import defer
from twisted.python.failure import Failure
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from smsc.server.web.web_request import WebRequest

R = TypeVar("R")


class AnsweringResource(Resource, Generic[R]):
    """``render`` runs :meth:`_answer` and hands its reply to :meth:`_write` (or the failure to
    :meth:`_failed`), telling both whether the client went away meanwhile."""

    def render(self, request: WebRequest) -> Any:
        d = defer.ensureDeferred(self._answer(request))
        gone: list[bool] = []
        request.notifyFinish().addErrback(lambda _: gone.append(True))
        d.addCallback(self._write, request, gone)
        d.addErrback(self._failed, request, gone)
        return NOT_DONE_YET

    async def _answer(self, request: WebRequest) -> R:
        raise NotImplementedError

    def _write(self, reply: R, request: WebRequest, gone: list[bool]) -> None:
        raise NotImplementedError

    def _failed(self, failure: Failure, request: WebRequest, gone: list[bool]) -> None:
        raise NotImplementedError


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
