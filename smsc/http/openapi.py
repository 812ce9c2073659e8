"""The OpenAPI 3.1 document of the API (served at ``/v1/openapi.json``): the operations
declared here, their schemas generated from :mod:`smsc.http.models`. It is the contract:
the tests run schemathesis against a live server with it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from smsc.http import models as m
from smsc.http.openapi_campaigns import CAMPAIGN_INPUTS, CAMPAIGN_OUTPUTS, campaign_paths
from smsc.http.openapi_parts import PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX
from smsc.http.openapi_parts import REF as _REF
from smsc.http.openapi_parts import ok_response as _ok
from smsc.http.openapi_parts import operation as _operation

_INPUTS: tuple[type[BaseModel], ...] = (m.SendRequest, m.ReplayRequest, *CAMPAIGN_INPUTS)
_OUTPUTS: tuple[type[BaseModel], ...] = (m.SendAnswer, m.Balance, m.Quote, m.Message,
                                         m.MessagePage, m.Cancelled, m.FailedWebhookPage,
                                         m.ReplayAnswer, m.Problem, *CAMPAIGN_OUTPUTS)


_ID = {"name": "id", "in": "path", "required": True,
       "schema": {"type": "string", "minLength": 1, "maxLength": 20},
       "description": "The message id a send answered with (as SMPP's)."}
_IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 255,
                           "pattern": "^[\\x21-\\x7e]+$"},
                "description": "A retry with the same key within 24 h gets the first answer, "
                               "byte for byte, and is billed once."}
_LIST = [
    {"name": "state", "in": "query", "required": False,
     "schema": {"type": "string", "enum": list(m.State.__args__)}},  # type: ignore[attr-defined]
    {"name": "to", "in": "query", "required": False,
     "schema": {"type": "string", "minLength": 1, "maxLength": 24},
     "description": "A destination, read as in a send."},
    {"name": "since", "in": "query", "required": False,
     "schema": {"type": "string", "format": "date-time"}},
    {"name": "until", "in": "query", "required": False,
     "schema": {"type": "string", "format": "date-time"}},
    {"name": "reference", "in": "query", "required": False,
     "schema": {"type": "string", "maxLength": 64},
     "description": "Only the messages sent with this reference (exactly)."},
    {"name": "cursor", "in": "query", "required": False,
     "schema": {"type": "string", "maxLength": 200},
     "description": "The ``next`` of the previous page (give the same filters again)."},
    {"name": "limit", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": PAGE_LIMIT_MAX,
                "default": PAGE_LIMIT_DEFAULT}},
]

_PAGE = [
    {"name": "cursor", "in": "query", "required": False,
     "schema": {"type": "string", "maxLength": 200},
     "description": "The ``next`` of the previous page."},
    {"name": "limit", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": PAGE_LIMIT_MAX,
                "default": PAGE_LIMIT_DEFAULT}},
]


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document."""
    _, schemas = models_json_schema(
        [(model, "validation") for model in _INPUTS]
        + [(model, "serialization") for model in _OUTPUTS], ref_template=_REF)
    paths = {
        "/v1/messages": {
            "post": _operation("send", "Send a message to one or more destinations",
                               _ok("SendAnswer", "Each destination's message id or refusal"),
                               (401, 402, 409, 413, 415, 422, 429, 503), body="SendRequest",
                               parameters=[_IDEMPOTENCY]),
            "get": _operation("list_messages", "The account's messages, newest first",
                              _ok("MessagePage", "A page of messages"), (401, 422, 503),
                              parameters=_LIST),
        },
        "/v1/messages/{id}": {
            "get": _operation("get_message", "One message with its parts",
                              _ok("Message", "The message"), (401, 404, 503),
                              parameters=[_ID]),
            "delete": _operation("cancel_message", "Cancel a message still pending",
                                 _ok("Cancelled", "Cancelled"), (401, 404, 409, 503),
                                 parameters=[_ID]),
        },
        "/v1/balance": {
            "get": _operation("balance", "The account's credit", _ok("Balance", "The balance"),
                              (401, 503)),
        },
        "/v1/webhooks/failed": {
            "get": _operation("failed_webhooks",
                              "The account's receipts and MO whose webhook finally failed",
                              _ok("FailedWebhookPage", "A page of failed webhooks"),
                              (401, 422, 503), parameters=_PAGE),
        },
        "/v1/webhooks/failed/replay": {
            "post": _operation("replay_webhooks",
                               "Send failed webhooks again (every one, or by ids or event "
                               "ids): fresh time to live, same event id",
                               _ok("ReplayAnswer", "What went back into the outbox"),
                               (401, 413, 415, 422, 503), body="ReplayRequest"),
        },
        "/v1/quote": {
            "post": _operation("quote", "What a send would cost; nothing is sent or billed",
                               _ok("Quote", "The quote"), (401, 413, 415, 422, 503),
                               body="SendRequest"),
        },
    }
    paths.update(campaign_paths())
    return {
        "openapi": "3.1.0",
        "info": {"title": "smsc HTTP API", "version": "1",
                 "description": "Send SMS through smsc's routing core (docs/http.md). Errors "
                                "are RFC 9457 problem documents with a machine code."},
        "paths": paths,
        "components": {
            "schemas": schemas["$defs"],
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer",
                                           "description": "An API key from `smsc apikey "
                                                          "create ACCOUNT`."}},
        },
        "security": [{"apiKey": []}],
    }


__all__ = ["PAGE_LIMIT_DEFAULT", "PAGE_LIMIT_MAX", "document"]
