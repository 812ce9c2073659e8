"""The pieces every operation of the OpenAPI document is made of (responses, problems,
operations), shared by :mod:`smsc.http.openapi` and the modules that declare more of its
paths (:mod:`smsc.http.openapi_campaigns`)."""

from __future__ import annotations

from typing import Any

from smsc.http.problems import CONTENT_TYPE

REF = "#/components/schemas/{model}"
PAGE_LIMIT_MAX = 1000
PAGE_LIMIT_DEFAULT = 100
DESCRIPTIONS = {
    400: "Bad request", 401: "Not authenticated (a missing, unknown or revoked API key, or an "
    "address locked after failed attempts)", 402: "Not enough credit",
    404: "Not found", 409: "Conflict", 413: "Body too large",
    415: "Not a media type the operation takes", 422: "Invalid input (errors name the fields)",
    429: "The account's throughput is spent (Retry-After says when to retry)",
    503: "The store is not answering, or the queue is full",
}


def problem_response(code: int) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": DESCRIPTIONS.get(code, "Problem"),
        "content": {CONTENT_TYPE: {"schema": {"$ref": REF.format(model="Problem")}}},
    }
    if code in (429, 503):
        answer["headers"] = {"Retry-After": {"description": "Seconds to wait",
                                             "schema": {"type": "string",
                                                        "pattern": "^[0-9]+$"}}}
    return answer


def ok_response(model: str, description: str, *, csv: str | None = None) -> dict[str, Any]:
    """A 200 with a JSON body of ``model`` (and, given ``csv``, a text/csv one: the columns)."""
    content: dict[str, Any] = {
        "application/json": {"schema": {"$ref": REF.format(model=model)}}}
    if csv is not None:
        content["text/csv"] = {"schema": {"type": "string", "description": csv}}
    return {"description": description, "content": content}


def operation(op_id: str, summary: str, ok: dict[str, Any], problems: tuple[int, ...], *,
              body: str | None = None, parameters: list[dict[str, Any]] | None = None,
              csv_body: str | None = None, body_required: bool = True) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": op_id, "summary": summary,
                          "responses": {"200": ok, **{str(c): problem_response(c)
                                                      for c in problems}}}
    if body is not None:
        content: dict[str, Any] = {
            "application/json": {"schema": {"$ref": REF.format(model=body)}}}
        if csv_body is not None:
            content["text/csv"] = {"schema": {"type": "string", "description": csv_body}}
        op["requestBody"] = {"required": body_required, "content": content}
    if parameters:
        op["parameters"] = parameters
    return op


__all__ = ["DESCRIPTIONS", "PAGE_LIMIT_DEFAULT", "PAGE_LIMIT_MAX", "REF", "ok_response",
           "operation", "problem_response"]
