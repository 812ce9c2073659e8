"""What the HTTP API's resources use of a request: the subset of twisted.web's ``Request``
that :class:`smsc.server.web.lean_request.LeanRequest` gives them (and twisted.web's own
``DummyRequest`` in unit tests). The resources are typed with it, not with twisted.web's
class, so both serve."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import IO, Any, Protocol

from twisted.internet.defer import Deferred


class RawHeaders(Protocol):
    def getAllRawHeaders(self) -> Iterable[tuple[bytes, Sequence[bytes]]]: ...


class WebRequest(Protocol):
    """A request as the resources see it. ``path`` is the raw path (no query, not
    percent-decoded), ``args`` the query's parameters percent-decoded (and a form POST's
    outside ``/v1``), ``content`` the body at its start (None once taken)."""

    method: bytes
    path: bytes
    uri: bytes
    args: dict[bytes, list[bytes]]
    content: IO[bytes] | None

    @property
    def requestHeaders(self) -> RawHeaders: ...  # twisted.web's name

    def getHeader(self, key: bytes) -> bytes | None: ...
    def getClientAddress(self) -> Any: ...
    def setResponseCode(self, code: int, message: bytes | None = None) -> None: ...
    def setHeader(self, name: bytes, value: bytes) -> None: ...
    def write(self, data: bytes) -> None: ...
    def finish(self) -> None: ...
    def notifyFinish(self) -> Deferred[None]: ...
    def registerProducer(self, producer: Any, streaming: bool) -> None: ...
    def unregisterProducer(self) -> None: ...
    def loseConnection(self) -> None: ...


__all__ = ["RawHeaders", "WebRequest"]
