"""The HTTP API's site: one leaf resource that routes ``/v1/...`` by path and method to
:class:`smsc.server.web.api.HttpApi`, the answer written back (unless the client went away),
and the root beside it; served by :mod:`smsc.server.web.lean_server` (bodies bounded there by
``max_body``: a request past it carries ``too_large`` and is answered 413 here)."""

from __future__ import annotations

import json
import re
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.resource import Resource

from smsc.http import problems as p
from smsc.http.openapi import document
from smsc.http.replies import JSON, ProblemReply, Reply, problem
from smsc.pdu.constants import CommandStatus
from smsc.server.metrics import Metric
from smsc.server.web.answering import AnsweringResource, address_of, header_of
from smsc.server.web.api import Caller, HttpApi
from smsc.server.web.campaigns_api import CampaignsApi
from smsc.server.web.endpoints import AnyReply, Endpoints, StreamReply, query, write_stream
from smsc.server.web.lean_request import LeanRequest
from smsc.server.web.lean_server import HttpLimits, LeanHttpFactory
from smsc.server.web.lists_api import ListsApi
from smsc.server.web.optouts_api import OptOutsApi
from smsc.server.web.web_request import WebRequest
from smsc.server.web.webhook_endpoints import WebhookEndpoints

_log = Logger()
_MESSAGE = re.compile(r"/v1/messages/([^/]{1,64})")
_ROUTES: dict[str, tuple[str, ...]] = {  # path -> methods (a message's path is matched apart)
    "/v1/messages": ("GET", "POST"),
    "/v1/balance": ("GET",),
    "/v1/quote": ("POST",),
    "/v1/openapi.json": ("GET",),
    "/v1/webhooks/failed": ("GET",),
    "/v1/webhooks/failed/replay": ("POST",),
}


class ApiResource(AnsweringResource[AnyReply]):
    """``extras``: more groups of paths (contact lists, campaigns, opt-outs), each in its own
    module (:class:`smsc.server.web.endpoints.Endpoints`)."""

    isLeaf = True  # noqa: N815 - the name Twisted looks for

    def __init__(self, api: HttpApi, webhooks: WebhookEndpoints | None = None,
                 extras: tuple[Endpoints, ...] = ()) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.api = api
        self.webhooks = webhooks
        self.extras = extras
        self._document = json.dumps(document()).encode("utf-8")

    async def _answer(self, request: WebRequest) -> AnyReply:
        try:
            return await self._route(request)
        except ProblemReply as e:
            return e.reply

    async def _route(self, request: WebRequest) -> AnyReply:
        if request.path == b"/v1/messages" and request.method == b"POST":
            return await self._send(request)  # the busiest path, without the lookups below
        path = (request.path or b"/").decode("utf-8", "replace")
        method = (request.method or b"GET").decode("ascii", "replace").upper()
        if path == "/v1/openapi.json" and method in ("GET", "HEAD"):
            return Reply(200, JSON, self._document)
        match = _MESSAGE.fullmatch(path)
        methods = ("GET", "DELETE") if match else _ROUTES.get(path)
        extra = None
        if methods is None:
            extra, methods = self._extra(path)
        if methods is None:
            raise ProblemReply(problem(p.NOT_FOUND, f"no such resource {path[:100]}"))
        if method not in methods:
            raise ProblemReply(problem(p.METHOD_NOT_ALLOWED, f"{path} takes "
                                       f"{', '.join(methods)}",
                                       headers=(("Allow", ", ".join(methods)),)))
        caller = await self._caller(request)
        api = self.api
        if extra is not None:
            return await extra.answer(caller, method, path, request)
        if match:
            message_id = match.group(1)
            if method == "GET":
                return await api.get_message(caller, message_id)
            return await api.cancel(caller, message_id)
        if path == "/v1/balance":
            return await api.balance(caller)
        if path.startswith("/v1/webhooks/"):
            if self.webhooks is None:
                raise ProblemReply(problem(p.NOT_FOUND, f"no such resource {path}"))
            if method == "GET":
                return await self.webhooks.failed(caller, query(request))
            return await self.webhooks.replay(caller, self._body(request))
        if method == "GET":
            return await api.list_messages(caller, query(request))
        body = self._body(request)
        if path == "/v1/quote":
            return await api.quote(caller, body)
        return await api.send(caller, body, _idempotency_key(request))

    async def _send(self, request: WebRequest) -> AnyReply:
        """``POST /v1/messages`` (as :meth:`_route` answers it, in the same order of checks)."""
        caller = await self._caller(request)
        return await self.api.send(caller, self._body(request), _idempotency_key(request))

    async def _caller(self, request: WebRequest) -> Caller:
        """The request's caller by its key, after a 413 for a body past ``max_body``."""
        if getattr(request, "too_large", False):
            raise ProblemReply(problem(p.TOO_LARGE, f"at most {self.api.settings.max_body} "
                                                    "octets"))
        return await self.api.authenticate(header_of(request, b"authorization"),
                                           address_of(request))

    def _extra(self, path: str) -> tuple[Endpoints | None, tuple[str, ...] | None]:
        for extra in self.extras:
            methods = extra.methods(path)
            if methods is not None:
                return extra, methods
        return None, None

    @staticmethod
    def _body(request: WebRequest) -> bytes:
        """The JSON body (415 for another content type)."""
        if type(request) is LeanRequest and request.getHeader(b"content-type") in _JSON_TYPES:
            return request.body()  # JSON, said plainly: the body without a file made of it
        kind = (header_of(request, b"content-type") or "").split(";")[0].strip().lower()
        if kind and kind != "application/json" and not kind.endswith("+json"):
            raise ProblemReply(problem(p.UNSUPPORTED_MEDIA, f"not {kind}"))
        content = request.content
        if content is None:
            return b""
        content.seek(0)
        return content.read()

    def _write(self, reply: AnyReply, request: WebRequest, gone: list[bool]) -> None:
        self.api.answers[reply.status] += 1
        if gone:
            return
        if not reply.headers and type(request) is LeanRequest and type(reply) is Reply:
            # the usual answer: its header lines made once per content type, sent whole
            request.answer(reply.status, _fields(reply.content_type), reply.body)
            return
        request.setResponseCode(reply.status)
        request.setHeader(b"content-type", reply.content_type.encode("ascii"))
        request.setHeader(b"cache-control", b"no-store")
        for name, value in reply.headers:
            request.setHeader(name.encode("ascii"), value.encode("ascii"))
        if isinstance(reply, StreamReply):
            defer.ensureDeferred(write_stream(reply, request))
            return
        # the length known: the answer goes whole, not chunked
        request.setHeader(b"content-length", b"%d" % len(reply.body))
        if request.method != b"HEAD":
            request.write(reply.body)
        request.finish()

    def _failed(self, failure: Failure, request: WebRequest, gone: list[bool]) -> None:
        _log.failure("HTTP API request failed", failure)
        self._write(problem(p.Refusal("internal_error", 500, "Internal error")), request, gone)




_JSON_TYPES = frozenset((None, b"application/json", b"application/json; charset=utf-8"))
_FIELDS: dict[str, bytes] = {}


def _fields(content_type: str) -> bytes:
    """The header lines :meth:`ApiResource._write` sets for a reply of ``content_type`` and
    no headers of its own (made once per content type, at most 64 kept)."""
    fields = _FIELDS.get(content_type)
    if fields is None:
        fields = b"Content-Type: %s\r\nCache-Control: no-store\r\n" % (
            content_type.encode("ascii"))
        if len(_FIELDS) < 64:
            _FIELDS[content_type] = fields
    return fields


def _idempotency_key(request: WebRequest) -> str | None:
    key = header_of(request, b"idempotency-key")
    if key is None:
        return None
    if not 1 <= len(key) <= 255 or not all(0x21 <= ord(c) <= 0x7E for c in key):
        raise ProblemReply(problem(p.INVALID_REQUEST, "Idempotency-Key must be 1 to 255 "
                                                      "visible ASCII characters"))
    return key


def web_metrics(api: HttpApi) -> list[Metric]:
    """The HTTP API's counters for the metrics page."""
    return [
        Metric("smsc_http_answers_total", "counter", "HTTP API answers by HTTP status.",
               [((("code", str(code)),), n) for code, n in sorted(api.answers.items())]),
        Metric("smsc_http_messages_total", "counter",
               "Destinations of HTTP sends accepted (a message id each).",
               [((), api.accepted)]),
        Metric("smsc_http_messages_refused_total", "counter",
               "Destinations of HTTP sends refused, by status.",
               [((("status", CommandStatus.name_of(s)),), n)
                for s, n in sorted(api.refusals.items())]),
    ]


class ApiRoot(Resource):
    """The site's root: ``/v1/...`` goes to the API's resource, another transport may add a
    child of its own (``putChild``: a Kannel-style ``/cgi-bin``), anything else is a 404
    problem document."""

    def __init__(self, api: ApiResource, children: dict[bytes, Resource] | None = None
                 ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.api = api
        self.putChild(b"v1", api)
        for name, child in (children or {}).items():
            self.putChild(name, child)

    def getChild(self, path: bytes, request: WebRequest) -> Resource:
        return self.api  # it answers unknown paths with a problem document

    def render(self, request: WebRequest) -> Any:
        return self.api.render(request)


def api_site(api: HttpApi, max_body: int, children: dict[bytes, Resource] | None = None,
             webhooks: WebhookEndpoints | None = None) -> LeanHttpFactory:
    """The factory serving the API on a listener (with its failed-webhook endpoints, its
    contact lists, campaigns and opt-outs, and ``children`` beside ``/v1``: ``/cgi-bin``):
    bodies bounded by ``max_body``, idle connections closed after a minute, no access log
    line per request (the metrics count answers; a line each would be the busiest log of a
    busy server, and unbounded)."""
    extras = (ListsApi(api), CampaignsApi(api), OptOutsApi(api))
    root = ApiRoot(ApiResource(api, webhooks, extras), children)
    return LeanHttpFactory(root, api.clock, HttpLimits(max_body=max_body, timeout=60.0))


__all__ = ["ApiResource", "ApiRoot", "api_site", "web_metrics"]
