"""A send request made into the core's requests: one submit_sm per destination, as an SMPP
client would have sent it, so the core decides everything the same way for both.

- The text is encoded by the data_coding SMPP would use (``auto``: GSM 03.38 when every
  character is in it, else UCS2; :func:`smsc.pdu.text.choose_data_coding`), in short_message
  when it fits one submit_sm (254 octets), else as one message_payload, which the core splits
  as it splits SMPP's.
- Destinations go as TON 0, NPI 1: read as SMPP reads them (``+``/``00`` stripped, national
  numbers of the home country, possible international numbers).
- The sender: ``+`` and digits is international (TON 1), digits alone TON 0, anything else
  alphanumeric (TON 5); absent, the account's default sender.
- A schedule with a UTC offset is an absolute SMPP time at that offset (to the quarter hour;
  other offsets are written in UTC); one without an offset is a wall-clock time in the
  recipient's zone (the recipient-local-time flag, TLV 0x1501, set for the message).
- The validity is a relative SMPP time of that many seconds.
- A receipt is asked for when the request says so; when it does not, when the message or the
  account has a webhook URL (its receipt then has somewhere to go).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from smsc.core.content import TAG_RECIPIENT_LOCAL_TIME
from smsc.http.models import SendRequest
from smsc.pdu import pdus
from smsc.pdu.constants import Tag
from smsc.pdu.errors import PduError
from smsc.pdu.smpptime import format_absolute, format_relative
from smsc.pdu.text import choose_data_coding, encode_text
from smsc.pdu.tlv import EMPTY_TLVS, Tlvs
from smsc.slotted import slot_constructor

_submit_sm = slot_constructor(pdus.SubmitSm)
_SUBMIT_FIELDS = tuple(f.name for f in fields(pdus.SubmitSm))
_INDEX = {name: i for i, name in enumerate(_SUBMIT_FIELDS)}
_DEFAULTS = tuple(getattr(pdus.SubmitSm(), name) for name in _SUBMIT_FIELDS)
_DESTINATION = _INDEX["destination_addr"]
# Runs of adjacent fields, set together (the asserts keep them adjacent).
_SOURCE, _DEST_TON, _SCHEDULE, _CODING, _SHORT_MESSAGE = (
    _INDEX["source_addr_ton"], _INDEX["dest_addr_ton"], _INDEX["schedule_delivery_time"],
    _INDEX["data_coding"], _INDEX["short_message"])
assert _SUBMIT_FIELDS[_SOURCE:_SOURCE + 3] == ("source_addr_ton", "source_addr_npi",
                                               "source_addr")
assert _SUBMIT_FIELDS[_DEST_TON:_DEST_TON + 2] == ("dest_addr_ton", "dest_addr_npi")
assert _SUBMIT_FIELDS[_SCHEDULE:_SCHEDULE + 3] == ("schedule_delivery_time", "validity_period",
                                                   "registered_delivery")
assert _SUBMIT_FIELDS[_SHORT_MESSAGE:_SHORT_MESSAGE + 2] == ("short_message", "tlvs")
SHORT_MESSAGE_MAX = 254
PAYLOAD_MAX = 65_535
DATA_CODING = {"gsm": 0, "ascii": 1, "latin1": 3, "ucs2": 8}
ENCODING_NAMES = {0: "gsm", 1: "ascii", 3: "latin1", 8: "ucs2"}


class InputError(ValueError):
    """A request the core cannot be asked (a 422 naming ``field``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True, kw_only=True)
class Submits:
    """The submit_sm of each destination (as written), and the data_coding chosen."""

    requests: tuple[tuple[str, pdus.SubmitSm], ...]
    data_coding: int


_submits = slot_constructor(Submits)  # requests, data_coding


def encoding_name(data_coding: int) -> str:
    return ENCODING_NAMES.get(data_coding, "binary")


def _sender(value: str | None) -> tuple[str, int, int]:
    if not value:
        return "", 0, 0
    if value.startswith("+") and value[1:].isdigit() and value[1:].isascii():
        return value[1:], 1, 1
    if value.isdigit() and value.isascii():
        return value, 0, 0
    return value, 5, 0


def _schedule(value: datetime | None) -> tuple[str, bool]:
    """(schedule_delivery_time, recipient local time)."""
    if value is None:
        return "", False
    try:
        offset = value.utcoffset()
        if offset is None:  # a wall clock in the recipient's zone
            return format_absolute(value.replace(tzinfo=UTC)), True
        quarters, rest = divmod(int(offset.total_seconds()), 900)
        if rest or not -48 <= quarters <= 56:
            return format_absolute(value.astimezone(UTC)), False
        return format_absolute(value, quarters), False
    except (ValueError, OverflowError) as e:
        raise InputError("schedule", str(e)) from None


@lru_cache(maxsize=16)  # a run of one text (a load, a client's template) is encoded once
def _encoded(text: str, encoding: str) -> tuple[int, bytes]:
    """(data_coding, octets) of ``text`` in ``encoding``; PduError if it cannot carry it."""
    data_coding = choose_data_coding(text) if encoding == "auto" else DATA_CODING[encoding]
    return data_coding, encode_text(text, data_coding)


def submits(request: SendRequest, *, account_webhook: bool = False) -> Submits:
    """One submit_sm per destination; InputError for text the encoding cannot carry.
    ``account_webhook``: the account has a webhook URL (a receipt is then asked for unless the
    request says no)."""
    try:
        data_coding, octets = _encoded(request.text, request.encoding)
    except PduError as e:
        raise InputError("text", f"the text cannot be sent as {request.encoding}: {e}"
                         ) from None
    if len(octets) > PAYLOAD_MAX:
        raise InputError("text", f"the text takes {len(octets)} octets; at most {PAYLOAD_MAX}")
    schedule, local = _schedule(request.schedule)
    tlvs: list[tuple[int, bytes]] = []
    short_message = octets
    if len(octets) > SHORT_MESSAGE_MAX:
        tlvs.append((int(Tag.MESSAGE_PAYLOAD), octets))
        short_message = b""
    if local:
        tlvs.append((TAG_RECIPIENT_LOCAL_TIME, b"\x01"))
    validity = ""
    if request.validity is not None:
        validity = format_relative(timedelta(seconds=request.validity))
    source, source_ton, source_npi = _sender(request.sender)
    receipt = (request.receipt if request.receipt is not None
               else request.webhook_url is not None or account_webhook)
    # Each destination's submit_sm made through the slots from the same field values (a
    # frozen dataclass's __init__ or dataclasses.replace costs several times as much).
    values = list(_DEFAULTS)
    values[_SOURCE:_SOURCE + 3] = source_ton, source_npi, source
    values[_DEST_TON:_DEST_TON + 2] = 0, 1
    values[_SCHEDULE:_SCHEDULE + 3] = schedule, validity, 1 if receipt else 0
    values[_CODING] = data_coding
    values[_SHORT_MESSAGE:_SHORT_MESSAGE + 2] = short_message, Tlvs(tlvs) if tlvs else EMPTY_TLVS
    make = _submit_sm
    requests = []
    for to in request.to:
        values[_DESTINATION] = to.strip()
        requests.append((to, make(*values)))
    return _submits(tuple(requests), data_coding)


__all__ = ["InputError", "Submits", "encoding_name", "submits"]
