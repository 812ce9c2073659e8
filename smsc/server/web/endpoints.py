"""What the resource modules of the HTTP API beside :class:`smsc.server.web.api.HttpApi` share:
the :class:`Endpoints` protocol :class:`smsc.server.web.site.ApiResource` routes to, store
calls that let the core's refusals through, the request's body, query and Accept header, and
answers streamed a page at a time (a list's contacts, a report's rows as CSV) under the
client's back-pressure, so nothing proportional to a list is held in memory."""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import IO, Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError
from twisted.internet import defer
from twisted.internet.interfaces import IPushProducer
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from smsc.http import models as m
from smsc.http import problems as p
from smsc.http.replies import ProblemReply, Reply, field_errors, problem
from smsc.server.web.answering import header_of
from smsc.server.web.api import Caller, HttpApi, parse_body
from smsc.server.web.web_request import WebRequest

T = TypeVar("T", bound=BaseModel)
_log = Logger()
CSV = "text/csv; charset=utf-8"
MAX_LINE = 1_000_000  # characters in one line of a CSV body
_ID = re.compile(r"[1-9][0-9]{0,18}")


@dataclass(frozen=True, slots=True)
class StreamReply:
    """A 200 whose body is written as ``chunks`` come (each awaited only once the client
    took the previous ones)."""

    content_type: str
    chunks: AsyncIterator[bytes]
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()


AnyReply = Reply | StreamReply


class Endpoints(Protocol):
    """A group of the API's paths: which methods a path takes (None: not one of its paths),
    and the answer to an authenticated request."""

    def methods(self, path: str) -> tuple[str, ...] | None: ...

    async def answer(self, caller: Caller, method: str, path: str,
                     request: WebRequest) -> AnyReply: ...


async def on_store(api: HttpApi, what: str, fn: Callable[..., Any], *args: Any,
                   passing: tuple[type[BaseException], ...] = ()) -> Any:
    """``fn(*args)`` on the store thread. An exception of ``passing`` (a core refusal) is
    raised as it is; any other is a 503 (logged by the store's health)."""
    try:
        return await api.worker.call(fn, *args)
    except passing:
        raise
    except ProblemReply:
        raise
    except Exception:
        api.health.failed(what, Failure())  # type: ignore[no-untyped-call]
        raise ProblemReply(problem(p.STORE_UNAVAILABLE, retry_after=1)) from None


def media_type(request: WebRequest) -> str:
    return (header_of(request, b"content-type") or "").split(";")[0].strip().lower()


def query(request: WebRequest) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, values in (request.args or {}).items():
        name = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
        value = values[-1]
        out[name] = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return out


def parse_query(model: type[T], request: WebRequest) -> T:
    try:
        return model.model_validate(query(request))
    except ValidationError as e:
        raise ProblemReply(problem(p.INVALID_REQUEST, "the query is not valid",
                                   errors=field_errors(e))) from None


def content(request: WebRequest) -> IO[bytes]:
    """The request's body as a file at its start (twisted.web keeps a large one on disk). A
    body closed because the client went away is a problem answer nobody reads."""
    body = request.content
    if body is None:
        return io.BytesIO()
    if body.closed:
        raise ProblemReply(problem(p.INVALID_REQUEST, "the client went away"))
    body.seek(0)
    return body


def take_content(request: WebRequest) -> IO[bytes]:
    """The body, taken from the request: twisted.web closes a request's body when its client
    goes away, so one read on the store thread is taken first (the caller closes it)."""
    body = content(request)
    request.content = None
    return body


def json_body(model: type[T], request: WebRequest, *, optional: bool = False) -> T:
    """The body as ``model`` (415 for a media type other than JSON; 422 naming the fields);
    ``optional``: an empty body is ``{}``."""
    kind = media_type(request)
    if kind and kind != "application/json" and not kind.endswith("+json"):
        raise ProblemReply(problem(p.UNSUPPORTED_MEDIA, f"not {kind}"))
    body = content(request).read()
    if optional and not body.strip():
        body = b"{}"
    return parse_body(model, body)


def accepts_csv(request: WebRequest) -> bool:
    """Whether the client asked for CSV rather than JSON (``Accept: text/csv``)."""
    accept = (header_of(request, b"accept") or "").lower()
    return "text/csv" in accept and "application/json" not in accept


def path_id(text: str, what: str) -> int:
    """A resource id from a path (a 404 for anything but a positive integer)."""
    if not _ID.fullmatch(text) or int(text) >= 2**63:
        raise ProblemReply(problem(p.NOT_FOUND, f"no {what} {text[:40]}"))
    return int(text)


def field_problem(refusal: p.Refusal, detail: str, field: str) -> ProblemReply:
    return ProblemReply(problem(refusal, detail, errors=[m.FieldError(field=field or "body",
                                                                      message=detail)]))


def check_utf8(body: IO[bytes]) -> str | None:
    """Why the body is not UTF-8 text in lines of at most MAX_LINE characters (None: it is);
    read in blocks, from its start, left at its start."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, run = 1, 0  # the line being read, its characters so far
    body.seek(0)
    try:
        while block := body.read(1 << 16):
            try:
                text = decoder.decode(block)
            except UnicodeDecodeError as e:
                line += block[:e.start].count(b"\n")
                return f"not UTF-8 text on line {line} (save it as CSV UTF-8)"
            pieces = text.split("\n")
            for piece in pieces[:-1]:
                if run + len(piece) > MAX_LINE:
                    return f"line {line} is longer than {MAX_LINE:,} characters"
                run = 0
                line += 1
            run += len(pieces[-1])
            if run > MAX_LINE:
                return f"line {line} is longer than {MAX_LINE:,} characters"
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return f"not UTF-8 text on line {line} (save it as CSV UTF-8)"
    finally:
        body.seek(0)
    return None


@implementer(IPushProducer)
class _Pacer:
    """The client's back-pressure: the transport pauses and resumes the stream."""

    def __init__(self) -> None:
        self.paused: defer.Deferred[None] | None = None
        self.stopped = False

    def pauseProducing(self) -> None:
        if self.paused is None:
            self.paused = defer.Deferred()

    def resumeProducing(self) -> None:
        paused, self.paused = self.paused, None
        if paused is not None:
            paused.callback(None)

    def stopProducing(self) -> None:
        self.stopped = True
        self.resumeProducing()


async def write_stream(reply: StreamReply, request: WebRequest) -> None:
    """Write a streamed answer's chunks (headers already set), then finish; a failure half
    way drops the connection, so the client sees a cut answer, never a short complete one."""
    pacer = _Pacer()
    request.registerProducer(pacer, True)
    try:
        async for chunk in reply.chunks:
            if pacer.stopped:
                break
            request.write(chunk)
            if pacer.paused is not None:
                await pacer.paused
    except Exception:
        _log.failure("HTTP API answer failed half way", Failure())  # type: ignore[no-untyped-call]
        request.unregisterProducer()
        request.loseConnection()
        return
    request.unregisterProducer()
    if not pacer.stopped:
        request.finish()


__all__ = ["CSV", "AnyReply", "Endpoints", "StreamReply", "accepts_csv", "check_utf8",
           "content", "field_problem", "json_body", "media_type", "on_store",
           "parse_query", "path_id", "query", "take_content", "write_stream"]
