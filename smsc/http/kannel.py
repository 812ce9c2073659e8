"""Kannel's sendsms interface (smsbox's ``/cgi-bin/sendsms``), the pure part: its parameters
read and checked (a pydantic model), made into the core's ``submit_sm``s, and the core's
answers written in Kannel's words, so an application written for Kannel sends through smsc by
changing a URL (docs/http.md, "Kannel's sendsms").

The answers are smsbox's (Kannel 1.4, ``gw/smsbox.c``), as ``text/html``:

- 202 ``0: Accepted for delivery``: every receiver accepted (what smsbox answers once the
  bearerbox took the message), or some: then the others are listed, with why, in the
  ``X-Smsc-Denied-Receivers`` header (``12 (no_route) 34 (blacklisted)``), the body staying
  what smsbox says, which reports a refusal only by a dlr-url's type 16;
- 400 ``Sender missing and no global set, rejected``: no ``from``, and the account has no
  default sender;
- 403 ``Authorization failed for sendsms``: a wrong username or password (it counts toward the
  lockout as a failed bind does), or a locked account or address;
- 400 ``Missing receiver number, rejected`` (``Missing receiver(s) number(s), rejected`` in a
  POST with a body, an XML one (:mod:`smsc.http.kannel_xml`) included),
  ``Empty receiver number not allowed, rejected``, and ``<Field> field
  misformed, rejected`` for a value out of Kannel's range;
- 400 ``Sending failed. A DTD (<!DOCTYPE) is not accepted``: an XML POST with a document type
  declaration (smsbox would expand its entities; smsc's own words);
- every receiver refused: ``Sending failed.`` and why, with the HTTP status the JSON API gives
  that refusal (:mod:`smsc.http.problems`: 402 no credit, 422 a bad number, 429 with
  Retry-After when the throughput is spent, 503 ...).
"""

from __future__ import annotations

import codecs
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from smsc.core import dlr_url
from smsc.core.batch import Batch, BatchAnswer
from smsc.core.hooks import webhook_url_problem
from smsc.http import kannel_xml
from smsc.http import problems as p
from smsc.http.replies import Reply
from smsc.pdu import pdus
from smsc.pdu.constants import CommandStatus, Tag
from smsc.pdu.gsm import is_gsm
from smsc.pdu.smpptime import format_relative
from smsc.pdu.text import choose_data_coding, encode_text
from smsc.pdu.tlv import EMPTY_TLVS, Tlvs
from smsc.store.records import MessageHook

S = CommandStatus
CONTENT_TYPE = "text/html"  # what smsbox answers with
ACCEPTED = "0: Accepted for delivery"
SENDER_MISSING = "Sender missing and no global set, rejected"
DENIED_HEADER = "X-Smsc-Denied-Receivers"  # receivers refused in a send answered 202
AUTHORIZATION_FAILED = "Authorization failed for sendsms"
MISSING_RECEIVER = "Missing receiver number, rejected"
MISSING_RECEIVERS = "Missing receiver(s) number(s), rejected"
EMPTY_RECEIVER = "Empty receiver number not allowed, rejected"
INVALID_CONTENT_TYPE = "Invalid content-type"
UNSUPPORTED_CONTENT_TYPE = "Unsupported content-type, rejected"
SENDING_FAILED = "Sending failed."
XML_DTD_REFUSED = f"{SENDING_FAILED} A DTD (<!DOCTYPE) is not accepted"  # smsc's, not smsbox's
MAX_RECEIVERS = 10_000  # as the JSON API's send
SHORT_MESSAGE_MAX = 254
PAYLOAD_MAX = 65_535
MAX_UDH = 140
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")  # parsed into args
_POST_TYPES = {"text/plain": 0, "application/octet-stream": 1}  # -> the coding by default
_INT = re.compile(r"\s*([+-]?\d+)")
_NO_HEADERS: tuple[tuple[str, str], ...] = ()


class KannelRefusal(Exception):
    """A request answered before anything is sent (the reply in Kannel's words)."""

    def __init__(self, status: int, text: str, headers: tuple[tuple[str, str], ...] = ()
                 ) -> None:
        super().__init__(text)
        self.reply = kannel_reply(status, text, headers)


def kannel_reply(status: int, text: str, headers: tuple[tuple[str, str], ...] = _NO_HEADERS
                 ) -> Reply:
    return Reply(status, CONTENT_TYPE, text.encode("utf-8"), headers)


def _scanned(value: object) -> int | None:
    """An integer parameter as smsbox reads it (``sscanf("%d")``): the leading whole number,
    nothing (undefined) when there is none."""
    if value is None or isinstance(value, int):
        return value
    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    match = _INT.match(text)
    return int(match.group(1)) if match else None


def _text_value(value: object) -> object:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


KInt = Annotated[int | None, BeforeValidator(_scanned)]
KStr = Annotated[str | None, BeforeValidator(_text_value)]


class SendsmsForm(BaseModel):
    """smsbox's sendsms parameters (those of a GET; a POST's ``X-Kannel-*`` headers give the
    same). Integers are read as smsbox reads them; each range is smsbox's, and a value out of
    it is refused with smsbox's words (:data:`MISFORMED`). ``text`` and ``udh`` are octets."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    username: KStr = None
    password: KStr = None
    sender: KStr = Field(default=None, alias="from", max_length=64)
    to: KStr = None
    text: bytes = b""
    charset: KStr = Field(default=None, max_length=40)
    udh: bytes | None = Field(default=None, max_length=MAX_UDH)
    dlr_url: KStr = Field(default=None, alias="dlr-url")
    dlr_mask: KInt = Field(default=None, alias="dlr-mask", ge=-1, le=66)
    mclass: KInt = Field(default=None, ge=-1, le=3)
    pid: KInt = Field(default=None, ge=-1, le=255)
    rpi: KInt = Field(default=None, ge=-1, le=2)
    alt_dcs: KInt = Field(default=None, alias="alt-dcs", ge=-1, le=1)
    mwi: KInt = Field(default=None, ge=-1, le=7)
    coding: KInt = Field(default=None, ge=-1, le=2)
    compress: KInt = Field(default=None, ge=-1, le=1)
    validity: KInt = Field(default=None, ge=-1, le=99 * 1440)
    deferred: KInt = Field(default=None, ge=-1, le=99 * 1440)
    priority: KInt = Field(default=None, ge=0, le=3)
    account: KStr = Field(default=None, max_length=64)


# smsbox's words for a field it refuses, in the order it checks them.
MISFORMED: dict[str, str] = {
    "udh": "UDH field misformed, rejected",
    "account": "Account field misformed or too long, rejected",
    "dlr-url": "DLR-URL field misformed, rejected",
    "dlr-mask": "DLR-Mask field misformed, rejected",
    "mclass": "MClass field misformed, rejected",
    "pid": "PID field misformed, rejected",
    "rpi": "RPI field misformed, rejected",
    "alt-dcs": "Alt-DCS field misformed, rejected",
    "mwi": "MWI field misformed, rejected",
    "coding": "Coding field misformed, rejected",
    "compress": "Compress field misformed, rejected",
    "validity": "Validity field misformed, rejected",
    "deferred": "Deferred field misformed, rejected",
    "priority": "Priority field misformed, rejected",
    "charset": "Charset or body misformed, rejected",
}
_ALIASES = {"user": "username", "pass": "password", "dlrurl": "dlr-url", "dlrmask": "dlr-mask"}
# X-Kannel-* headers of a POST with a body, lower-cased -> the parameter
_HEADERS = {f"x-kannel-{name}": name for name in (
    "from", "to", "username", "password", "udh", "dlr-url", "account", "coding", "pid", "mwi",
    "mclass", "alt-dcs", "compress", "validity", "deferred", "dlr-mask", "rpi", "priority",
    "smsc", "binfo", "meta-data")}


@dataclass(frozen=True, slots=True, kw_only=True)
class SendsmsRequest:
    """A sendsms request read: its form, whether it came as a POST with a body (Kannel's
    words for a missing receiver differ), and an XML POST's receivers (None: ``to``'s)."""

    form: SendsmsForm
    posted: bool = False
    receivers: tuple[str, ...] | None = None  # an XML POST's da/number texts, as written


def read_request(args: Mapping[str, Sequence[bytes]], *, body: bytes | None,
                 content_type: str, headers: Mapping[str, str]) -> SendsmsRequest:
    """The parameters of a GET (``args``: the query's), of a form POST (urlencoded or
    multipart; ``args``: the query's and the form's, as the web server parsed them) or of a
    POST with the text as its
    body and the rest in ``X-Kannel-*`` headers (``headers``, names lower-cased), as smsbox
    reads each. Refused (KannelRefusal) when a field is out of smsbox's range."""
    kind, _, options = content_type.partition(";")
    kind = kind.strip().lower()
    raw: dict[str, object] = {}
    if body is None or kind in _FORMS or not kind:
        for name, values in args.items():
            key = _ALIASES.get(name, name)
            if values and key not in raw:  # smsbox takes a parameter's first value
                raw[key] = values[0]
        posted = False
    elif kind in _POST_TYPES:
        for name, value in headers.items():
            param = _HEADERS.get(name)
            if param is not None:
                raw[param] = value.strip().encode("utf-8")
        if "udh" in raw:
            raw["udh"] = _hex_or_raw(raw["udh"])  # type: ignore[arg-type]
        raw["text"] = body
        charset = _charset_of(options)
        if charset:
            raw["charset"] = charset.encode("ascii", "replace")
        if _scanned(raw.get("coding")) in (None, -1):
            raw["coding"] = _POST_TYPES[kind]
        posted = True
    elif kind == "text/xml":
        return _read_xml(body)
    elif kind in ("text/html", "text/vnd.wap.wml"):
        raise KannelRefusal(415, UNSUPPORTED_CONTENT_TYPE)
    else:
        raise KannelRefusal(400, INVALID_CONTENT_TYPE)
    try:
        form = SendsmsForm.model_validate(raw)
    except ValidationError as e:
        raise KannelRefusal(400, _misformed(e)) from None
    return SendsmsRequest(form=form, posted=posted)


def _read_xml(body: bytes) -> SendsmsRequest:
    """A text/xml POST (:mod:`smsc.http.kannel_xml`): its fields as a form's, its receivers
    each a ``da/number``; the coding 7-bit unless given, as for a text/plain body."""
    try:
        submit = kannel_xml.read_xml(body)
    except kannel_xml.XmlRefused:
        raise KannelRefusal(400, XML_DTD_REFUSED) from None
    raw = dict(submit.fields)
    if raw.get("coding") in (None, -1):
        raw["coding"] = 0
    try:
        form = SendsmsForm.model_validate(raw)
    except ValidationError as e:
        raise KannelRefusal(400, _misformed(e)) from None
    return SendsmsRequest(form=form, posted=True, receivers=submit.receivers)


def _charset_of(options: str) -> str:
    for option in options.split(";"):
        name, _, value = option.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"')
    return ""


def _hex_or_raw(value: bytes) -> bytes:
    """X-Kannel-UDH: hexadecimal, else the octets as sent."""
    try:
        return bytes.fromhex(value.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return value


def _misformed(error: ValidationError) -> str:
    fields = set()
    for e in error.errors(include_url=False):
        if e["loc"]:
            fields.add(str(e["loc"][0]))
    for name, text in MISFORMED.items():
        if name in fields:
            return text
    return f"{SENDING_FAILED} Misformed: {', '.join(sorted(fields))}"  # none of smsbox's


def receivers_or_refusal(request: SendsmsRequest) -> list[str]:
    """The receivers of ``to`` (separated by spaces, or by ``+``, which a query decodes as a
    space), or an XML POST's numbers (each as written, a blank one left out), each once in
    the order given; smsbox's refusal when there are none."""
    to = request.form.to
    if request.receivers is not None:
        receivers = list(dict.fromkeys(r for r in request.receivers if r))
    elif to is None:
        raise KannelRefusal(400, MISSING_RECEIVERS if request.posted else MISSING_RECEIVER)
    else:
        receivers = list(dict.fromkeys(to.replace("+", " ").split()))
    if not receivers:
        raise KannelRefusal(400, EMPTY_RECEIVER)
    if len(receivers) > MAX_RECEIVERS:
        raise KannelRefusal(400, f"{SENDING_FAILED} More than {MAX_RECEIVERS} receivers")
    return receivers


# --- the submit_sm of each receiver ----------------------------------------------------------
def _text(form: SendsmsForm) -> tuple[bytes, int]:
    """(short_message octets without the UDH, data_coding), as smsbox codes the text."""
    coding = form.coding if form.coding not in (None, -1) else (1 if form.udh else None)
    charset = form.charset or ""
    if coding == 1:  # 8-bit: the octets as given
        data_coding = 4
        octets = form.text
    elif coding == 2:  # UCS2: UTF-16BE as given, or converted from the charset
        data_coding = 8
        octets = _decode(form.text, charset).encode("utf-16-be") if charset else form.text
        if len(octets) % 2:
            raise KannelRefusal(400, MISFORMED["charset"])
    else:
        text = _decode(form.text, charset or "utf-8")
        if coding == 0:  # 7-bit: what GSM 03.38 cannot say becomes '?', as smsbox does
            data_coding = 0
            text = "".join(c if is_gsm(c) else "?" for c in text)
        else:  # not given: smsc chooses as for every API (GSM 03.38, else UCS2)
            data_coding = choose_data_coding(text)
        octets = encode_text(text, data_coding)
    if form.mclass is not None and form.mclass >= 0 and data_coding != 8:
        data_coding = (0xF4 if data_coding == 4 else 0xF0) | form.mclass
    return octets, data_coding


def _decode(octets: bytes, charset: str) -> str:
    try:
        codecs.lookup(charset)  # even for no octets
        return octets.decode(charset)  # a text encoding only (LookupError for base64 ...)
    except (LookupError, UnicodeDecodeError):
        raise KannelRefusal(400, MISFORMED["charset"]) from None


def _minutes(value: int | None) -> str:
    if value is None or value < 0:
        return ""
    return format_relative(timedelta(minutes=value))


def _sender(value: str | None) -> tuple[str, int, int]:
    if not value:
        return "", 0, 0
    if value.startswith("+") and value[1:].isdigit() and value[1:].isascii():
        return value[1:], 1, 1
    if value.isdigit() and value.isascii():
        return value, 0, 0
    return value, 5, 0


def dlr_mask(form: SendsmsForm) -> int:
    """The dlr-mask that applies: the one given when a dlr-url is given too, else 0 (smsbox
    has nowhere to report to without a URL)."""
    if not form.dlr_url or form.dlr_mask is None or form.dlr_mask < 0:
        return 0
    return form.dlr_mask & dlr_url.EVERY_REPORT


def hook_of(form: SendsmsForm) -> MessageHook | None:
    """Where the receipts go: the dlr-url with its mask; None without one. A URL smsbox would
    refuse (not http:// or https://), or one that cannot take webhooks, is refused."""
    url = (form.dlr_url or "").strip()
    if not url:
        return None
    if webhook_url_problem(url) is not None:
        raise KannelRefusal(400, MISFORMED["dlr-url"])
    return dlr_url.kannel_hook(url, dlr_mask(form))


def submits(form: SendsmsForm, receivers: Sequence[str]) -> list[tuple[str, pdus.SubmitSm]]:
    """One submit_sm per receiver, as an SMPP client would send the request: destinations of
    TON 0 / NPI 1, the text coded as smsbox codes it, a UDH (esm_class 0x40) ahead of it, the
    validity and the deferral as relative times, the receipts the dlr-mask asks for."""
    octets, data_coding = _text(form)
    udh = form.udh or b""
    if udh and len(udh) != udh[0] + 1:
        raise KannelRefusal(400, MISFORMED["udh"])
    message = udh + octets
    if len(message) > PAYLOAD_MAX:
        raise KannelRefusal(400, f"{SENDING_FAILED} The text takes {len(message)} octets; at "
                                 f"most {PAYLOAD_MAX}")
    tlvs: list[tuple[int, bytes]] = []
    short_message = message
    if len(message) > SHORT_MESSAGE_MAX:
        tlvs.append((int(Tag.MESSAGE_PAYLOAD), message))
        short_message = b""
    source, source_ton, source_npi = _sender(form.sender)
    esm_class = (0x40 if udh else 0) | (0x80 if form.rpi == 1 else 0)
    template = pdus.SubmitSm(
        source_addr=source, source_addr_ton=source_ton, source_addr_npi=source_npi,
        dest_addr_ton=0, dest_addr_npi=1, esm_class=esm_class,
        protocol_id=form.pid if form.pid is not None and form.pid >= 0 else 0,
        priority_flag=form.priority or 0,
        schedule_delivery_time=_minutes(form.deferred), validity_period=_minutes(form.validity),
        registered_delivery=dlr_url.registered_delivery_for(dlr_mask(form)),
        data_coding=data_coding, short_message=short_message,
        tlvs=Tlvs(tlvs) if tlvs else EMPTY_TLVS)
    return [(to, replace(template, destination_addr=to)) for to in receivers]


# --- the answer ------------------------------------------------------------------------------
def answer(batch: Batch, answered: Sequence[BatchAnswer], *, sender_given: bool = True
           ) -> Reply:
    """The core's answers in smsbox's words (see the module's description)."""
    refused = [a for a in answered if a.answer.status or not a.answer.message_id]
    if not refused:
        return kannel_reply(202, ACCEPTED)
    if len(refused) < len(answered):
        return kannel_reply(202, ACCEPTED, ((DENIED_HEADER, " ".join(
            f"{a.item.to} ({p.refusal(a.answer.cause).code})" for a in refused)),))
    first = refused[0].answer.cause
    if not sender_given and all(a.answer.cause == S.ESME_RINVSRCADR for a in refused):
        return kannel_reply(400, SENDER_MISSING)  # no from, and the account has no default
    refusal = p.refusal(first)
    headers: tuple[tuple[str, str], ...] = ()
    if first == S.ESME_RTHROTTLED:
        headers = (("Retry-After", str(max(1, math.ceil(batch.retry_after)))),)
    elif first in (S.ESME_RSYSERR, S.ESME_RMSGQFUL):
        headers = (("Retry-After", "1"),)
    if len(refused) == 1:
        only = refused[0]
        why = only.item.detail or p.refusal(only.answer.cause).title
        return kannel_reply(refusal.http, f"{SENDING_FAILED} {refusal.code}: {why}", headers)
    listed = " ".join(f"{a.item.to} ({p.refusal(a.answer.cause).code})" for a in refused)
    return kannel_reply(refusal.http, f"{SENDING_FAILED} Failed receivers are: {listed}",
                        headers)


def store_failure() -> Reply:
    """The store did not answer: smsbox's words for a send that could not be handed on."""
    return kannel_reply(503, f"{SENDING_FAILED} The store is not answering",
                        (("Retry-After", "1"),))


__all__ = ["ACCEPTED", "AUTHORIZATION_FAILED", "CONTENT_TYPE", "MISFORMED", "KannelRefusal",
           "SendsmsForm", "SendsmsRequest", "answer", "dlr_mask", "hook_of", "kannel_reply",
           "read_request", "receivers_or_refusal", "store_failure", "submits"]
