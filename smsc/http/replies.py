"""What an endpoint answers: a status, a content type, the body octets and extra headers; and
the problem documents (RFC 9457) every refusal is sent as."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from smsc.http.models import FieldError, Problem
from smsc.http.problems import CONTENT_TYPE, PROBLEM_TYPE_BASE, Refusal
from smsc.slotted import slot_constructor

JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = field(default=())


class ProblemReply(Exception):
    """Raised by an endpoint to answer with a problem document."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


_reply = slot_constructor(Reply)  # status, content_type, body, headers


def ok(model: BaseModel) -> Reply:
    return _reply(200, JSON, model.__pydantic_serializer__.to_json(model, by_alias=True), ())


def ok_data(model: type[BaseModel], data: dict[str, Any]) -> Reply:
    """``data`` validated as ``model`` (a ValidationError if it is not one: a bug) and encoded
    as ``ok`` encodes it, without building the model through its ``__init__``."""
    checked = model.__pydantic_validator__.validate_python(data)
    return _reply(200, JSON, model.__pydantic_serializer__.to_json(checked, by_alias=True), ())


def problem(refusal: Refusal, detail: str | None = None, *, smpp_status: int | None = None,
            errors: Sequence[FieldError] | None = None, retry_after: int | None = None,
            headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    body = Problem(type=PROBLEM_TYPE_BASE + refusal.code, title=refusal.title,
                   status=refusal.http, code=refusal.code, detail=detail,
                   smpp_status=smpp_status, errors=list(errors) if errors else None,
                   retry_after=retry_after)
    extra = headers
    if retry_after is not None:
        extra = (*extra, ("Retry-After", str(retry_after)))
    return Reply(refusal.http, CONTENT_TYPE,
                 body.model_dump_json(by_alias=True, exclude_none=True).encode("utf-8"), extra)


def field_errors(error: ValidationError, prefix: str = "") -> list[FieldError]:
    """The fields pydantic refused, as dotted paths (``to.3``), with its messages."""
    out = []
    for e in error.errors(include_url=False)[:50]:
        where = ".".join(str(p) for p in e["loc"]) or "body"
        out.append(FieldError(field=prefix + where, message=e["msg"]))
    return out


def json_error(e: json.JSONDecodeError | UnicodeDecodeError) -> list[FieldError]:
    return [FieldError(field="body", message=f"not JSON: {e}")]
