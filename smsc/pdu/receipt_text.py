"""The text of an SMPP delivery receipt (the short_message of a deliver_sm with esm_class 0x04).

smsc writes (on one line)::

    id:<id> sub:<nnn> dlvrd:<nnn> submit date:<YYMMDDhhmm> done date:<YYMMDDhhmm>
    stat:<STAT> err:<nnn> text:<first 20 characters>

and reads what other SMS centres write, which differs in small ways: keys in any case, runs of
spaces, ``key: value``, ``submit_date``, dates with seconds (12 digits), ``err`` with more than
three digits, no ``text:`` field, unknown extra fields (ignored), trailing NULs (bytes only), and
long ``stat`` names such as ``DELIVERED`` (read as ``DELIVRD``). ``text:`` is always the last
field: everything after it, spaces included, is the text.

Dates are kept as the strings of the receipt (10 or 12 digits): a receipt does not say which
clock its dates use, so turning them into datetimes is left to
:func:`smsc.pdu.smpptime.parse_receipt_date`; :func:`smsc.pdu.smpptime.format_receipt_date`
makes them from a datetime (:meth:`ReceiptText.build` does both steps).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import lru_cache

from smsc.pdu.constants import MessageState
from smsc.pdu.smpptime import format_receipt_date, parse_receipt_date

__all__ = [
    "MAX_COUNT",
    "MAX_ERR",
    "MAX_MESSAGE_ID_LENGTH",
    "MAX_RECEIPT_LENGTH",
    "ONE_PART_RECEIPT_OCTETS",
    "STATS",
    "STAT_BY_STATE",
    "TEXT_SNIPPET_LENGTH",
    "ReceiptError",
    "ReceiptText",
    "receipt_short_message",
    "stat_for_state",
    "state_for_stat",
]

TEXT_SNIPPET_LENGTH = 20
MAX_MESSAGE_ID_LENGTH = 65
MAX_COUNT = 999
MAX_ERR = 9_999_999_999  # ten digits
MAX_RECEIPT_LENGTH = 1024  # characters read by parse; real receipts are under 200

STAT_BY_STATE: dict[MessageState, str] = {
    MessageState.ENROUTE: "ENROUTE",
    MessageState.DELIVERED: "DELIVRD",
    MessageState.EXPIRED: "EXPIRED",
    MessageState.DELETED: "DELETED",
    MessageState.UNDELIVERABLE: "UNDELIV",
    MessageState.ACCEPTED: "ACCEPTD",
    MessageState.UNKNOWN: "UNKNOWN",
    MessageState.REJECTED: "REJECTD",
}
STATS = frozenset(STAT_BY_STATE.values())
_STATE_BY_STAT: dict[str, MessageState] = {stat: state for state, stat in STAT_BY_STATE.items()}
# What some SMS centres write instead of the seven-letter words (upper case).
_STAT_ALIASES: dict[str, str] = {
    "DELIVERED": "DELIVRD",
    "UNDELIVERABLE": "UNDELIV",
    "UNDELIVERED": "UNDELIV",
    "ACCEPTED": "ACCEPTD",
    "REJECTED": "REJECTD",
}

# %-formatting: on this hot path (once per receipt) it measured faster than f"{x:03d}".
_RECEIPT_LAYOUT = "id:%s sub:%03d dlvrd:%03d submit date:%s done date:%s stat:%s err:%03d text:%s"
ONE_PART_RECEIPT_OCTETS = _RECEIPT_LAYOUT.replace("sub:%03d", "sub:001").encode("ascii")
"""The layout of the text of a one-part receipt (sub 001) on octets, for a caller that formats
it from octets in one step: id, dlvrd, submit date, done date, stat, err and the snippet, as
:func:`receipt_short_message` writes them (the snippet from :func:`receipt_snippet_octets`)."""

# Characters that have the same code in ASCII and in the unpacked GSM 03.38 default alphabet; in
# the text snippet of receipt_short_message every other character becomes '?'.
_SAFE_SNIPPET_CHARS = (
    " !\"#%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)
_SAFE_SNIPPET = frozenset(_SAFE_SNIPPET_CHARS)
_UNSAFE_SNIPPET_CHAR = re.compile("[^" + re.escape(_SAFE_SNIPPET_CHARS) + "]")

# The layout smsc writes (keys in any case, dates with or without seconds): read in one match.
# Anything else goes through the tolerant reader, which also has the last word on every error.
_USUAL_LAYOUT = re.compile(
    r"id:(\S{1,65}) sub:([0-9]{1,10}) dlvrd:([0-9]{1,10})"
    r" submit date:([0-9]{10}(?:[0-9]{2})?) done date:([0-9]{10}(?:[0-9]{2})?)"
    r" stat:([A-Z]{1,13}) err:([0-9]{1,10})(?: text:(.*))?",
    re.IGNORECASE | re.DOTALL | re.ASCII,
)
# "text" at the start or after whitespace, then ':' (spaces allowed before it).
_TEXT_KEY = re.compile(r"(?<!\S)text[ \t]*:", re.IGNORECASE)
_DATE_KEYS = ("submitdate", "donedate")
_KEY_LABELS = {
    "id": "id",
    "sub": "sub",
    "dlvrd": "dlvrd",
    "submitdate": "submit date",
    "donedate": "done date",
    "stat": "stat",
    "err": "err",
}
_MAX_DIGITS = 10


class ReceiptError(ValueError):
    """A receipt text or receipt field that cannot be read or written."""


def stat_for_state(state: MessageState | int) -> str:
    """The receipt ``stat:`` word of a message_state (DELIVERED -> ``DELIVRD``)."""
    try:
        return STAT_BY_STATE[MessageState(state)]
    except ValueError:
        raise ReceiptError(f"{state!r} is not a message_state (1-8)") from None


def state_for_stat(stat: str) -> MessageState:
    """The message_state of a receipt ``stat:`` word, in any case.

    The long names ``DELIVERED``, ``UNDELIVERABLE``, ``UNDELIVERED``, ``ACCEPTED`` and
    ``REJECTED`` are read as the seven-letter words.
    """
    state = _STATE_BY_STAT.get(stat)
    if state is None and stat.isascii():
        word = stat.upper()
        state = _STATE_BY_STAT.get(_STAT_ALIASES.get(word, word))
    if state is None:
        raise ReceiptError(f"stat {stat!r} is not one of {', '.join(STAT_BY_STATE.values())}")
    return state


def _is_date(value: object) -> bool:
    return isinstance(value, str) and len(value) in (10, 12) and value.isascii() and value.isdigit()


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptText:
    """The fields of a delivery receipt text.

    ``message_id``: 1-65 characters without whitespace. ``submitted`` and ``delivered``:
    0-999. ``submit_date`` and ``done_date``: ``YYMMDDhhmm`` strings (``YYMMDDhhmmss`` when read
    from a centre that writes seconds). ``stat``: one of :data:`STATS`. ``err``: 0 up to ten
    digits. ``text``: any string; :meth:`format` writes its first 20 characters.

    Construction checks the shape of every field and raises :class:`ReceiptError`; :meth:`parse`
    also checks that the dates are real calendar dates.
    """

    message_id: str
    submitted: int
    delivered: int
    submit_date: str
    done_date: str
    stat: str
    err: int
    text: str = ""

    def __post_init__(self) -> None:
        message_id = self.message_id
        if not (
            isinstance(message_id, str)
            and 0 < len(message_id) <= MAX_MESSAGE_ID_LENGTH
            and message_id.split() == [message_id]
            and isinstance(self.submitted, int)
            and 0 <= self.submitted <= MAX_COUNT
            and isinstance(self.delivered, int)
            and 0 <= self.delivered <= MAX_COUNT
            and isinstance(self.err, int)
            and 0 <= self.err <= MAX_ERR
            and self.stat in STATS
            and _is_date(self.submit_date)
            and _is_date(self.done_date)
            and isinstance(self.text, str)
        ):
            raise ReceiptError(self._first_problem())

    def _first_problem(self) -> str:
        """What is wrong with the fields (only called when something is)."""
        message_id = self.message_id
        if not (
            isinstance(message_id, str)
            and 0 < len(message_id) <= MAX_MESSAGE_ID_LENGTH
            and message_id.split() == [message_id]
        ):
            return (
                f"message_id {message_id!r} must be 1-{MAX_MESSAGE_ID_LENGTH} characters "
                "without whitespace"
            )
        for name, value, limit in (
            ("sub", self.submitted, MAX_COUNT),
            ("dlvrd", self.delivered, MAX_COUNT),
            ("err", self.err, MAX_ERR),
        ):
            if not (isinstance(value, int) and 0 <= value <= limit):
                return f"{name} {value!r} must be an integer 0-{limit}"
        if self.stat not in STATS:
            return f"stat {self.stat!r} is not one of {', '.join(STAT_BY_STATE.values())}"
        for name, date in (("submit date", self.submit_date), ("done date", self.done_date)):
            if not _is_date(date):
                return f"{name} {date!r} is not 10 or 12 digits (YYMMDDhhmm[ss])"
        return f"text must be a string, not {type(self.text).__name__}"

    @classmethod
    def build(
        cls,
        *,
        message_id: str,
        submitted: int,
        delivered: int,
        submit_time: datetime,
        done_time: datetime,
        state: MessageState,
        err: int,
        text: str = "",
        tz: tzinfo = UTC,
    ) -> ReceiptText:
        """A receipt from aware datetimes and a message_state; dates on the clock of ``tz``."""
        return cls(
            message_id=message_id,
            submitted=submitted,
            delivered=delivered,
            submit_date=format_receipt_date(submit_time, tz),
            done_date=format_receipt_date(done_time, tz),
            stat=stat_for_state(state),
            err=err,
            text=text,
        )

    @property
    def state(self) -> MessageState:
        """The message_state of ``stat``."""
        return _STATE_BY_STAT[self.stat]

    def format(self) -> str:
        """The receipt text: counts and err zero-padded to 3 digits, the text cut to 20."""
        return _RECEIPT_LAYOUT % (
            self.message_id,
            self.submitted,
            self.delivered,
            self.submit_date,
            self.done_date,
            self.stat,
            self.err,
            self.text[:TEXT_SNIPPET_LENGTH],
        )

    @classmethod
    def parse(cls, text: str | bytes) -> ReceiptText:
        """Read a receipt text as SMS centres write it (see the module documentation).

        Bytes are read as Latin-1 (each octet one character; nothing can fail) after trailing
        NULs are removed. At most :data:`MAX_RECEIPT_LENGTH` characters are accepted. Raises
        :class:`ReceiptError` saying what is wrong.
        """
        if isinstance(text, bytes | bytearray):
            text = bytes(text).rstrip(b"\x00").decode("latin-1")
        if len(text) > MAX_RECEIPT_LENGTH:
            raise ReceiptError(
                f"receipt text has {len(text)} characters; at most {MAX_RECEIPT_LENGTH} are read"
            )
        match = _USUAL_LAYOUT.fullmatch(text)
        if match is not None:
            message_id, sub, dlvrd, submit_date, done_date, stat, err, snippet = match.groups()
            try:
                receipt = cls(
                    message_id=message_id,
                    submitted=int(sub),
                    delivered=int(dlvrd),
                    submit_date=submit_date,
                    done_date=done_date,
                    stat=STAT_BY_STATE[state_for_stat(stat)],
                    err=int(err),
                    text=snippet or "",
                )
                _check_date(submit_date)
                _check_date(done_date)
            except ValueError:
                pass  # the tolerant reader below explains the problem
            else:
                return receipt
        return _parse_tolerantly(cls, text)


@lru_cache(maxsize=4096)
def _real_date(value: str) -> bool:
    try:
        parse_receipt_date(value)
    except ValueError:
        return False
    return True


def _check_date(value: str) -> None:
    """Raise ValueError unless ``value`` is a real receipt date (the answer kept: the
    receipts of a busy minute share their dates)."""
    if not _real_date(value):
        raise ValueError(value)


def _parse_tolerantly(cls: type[ReceiptText], text: str) -> ReceiptText:
    """The general reader: fields in any order, extra fields, spaces around ':'."""
    match = _TEXT_KEY.search(text)
    if match is None:
        head, snippet = text, ""
    else:
        head, snippet = text[: match.start()], text[match.end() :]
    fields = _read_fields(head, text)
    missing = [label for key, label in _KEY_LABELS.items() if key not in fields]
    if missing:
        raise ReceiptError(f"receipt {text!r} has no {', '.join(missing)}")
    try:
        for key in _DATE_KEYS:
            parse_receipt_date(fields[key])
        return cls(
            message_id=fields["id"],
            submitted=_number(fields, "sub"),
            delivered=_number(fields, "dlvrd"),
            submit_date=fields["submitdate"],
            done_date=fields["donedate"],
            stat=STAT_BY_STATE[state_for_stat(fields["stat"])],
            err=_number(fields, "err"),
            text=snippet,
        )
    except ValueError as error:
        raise ReceiptError(f"receipt {text!r}: {error}") from None


def _number(fields: dict[str, str], key: str) -> int:
    value = fields[key]
    if not (0 < len(value) <= _MAX_DIGITS and value.isascii() and value.isdigit()):
        raise ReceiptError(f"{key} {value!r} is not a number of 1-{_MAX_DIGITS} digits")
    return int(value)


def _read_fields(head: str, whole: str) -> dict[str, str]:
    """The known ``key:value`` pairs before ``text:``, keyed like :data:`_KEY_LABELS`.

    A word without ':' is the value of a preceding ``key:`` whose value was empty, or the first
    word of a two-word key (``submit date``); other loose words and unknown keys are ignored.
    """
    fields: dict[str, str] = {}
    loose: list[str] = []  # words without ':' since the last key; only the last two are kept
    waiting_key = ""
    for token in head.split():
        key, colon, value = token.partition(":")
        if not colon:
            if waiting_key:
                _store(fields, waiting_key, token, whole)
                waiting_key = ""
            else:
                loose = [loose[-1], token] if loose else [token]
            continue
        if waiting_key:
            _store(fields, waiting_key, "", whole)
            waiting_key = ""
        key = _key_name(key)
        if not key and loose:
            key = _key_name(loose.pop())
        if loose and _key_name(loose[-1]) + key in _DATE_KEYS:
            key = _key_name(loose[-1]) + key
        loose = []
        if value:
            _store(fields, key, value, whole)
        else:
            waiting_key = key
    if waiting_key:
        _store(fields, waiting_key, "", whole)
    return fields


def _key_name(word: str) -> str:
    return word.lower().replace("_", "")


def _store(fields: dict[str, str], key: str, value: str, whole: str) -> None:
    if key not in _KEY_LABELS:
        return
    if key in fields:
        raise ReceiptError(f"receipt {whole!r} gives {_KEY_LABELS[key]} twice")
    fields[key] = value


def receipt_snippet_octets(text: str) -> bytes:
    """The receipt's ``text:`` snippet as octets: the first 20 characters, each one that does
    not read the same in ASCII and in GSM 03.38 replaced by '?'."""
    snippet = text[:TEXT_SNIPPET_LENGTH]
    if not _SAFE_SNIPPET.issuperset(snippet):
        snippet = _UNSAFE_SNIPPET_CHAR.sub("?", snippet)
    return snippet.encode("ascii")


def receipt_short_message(receipt: ReceiptText) -> bytes:
    """The receipt text as the octets of a short_message with data_coding 0.

    Keys, digits and stat words read the same as ASCII and as unpacked GSM 03.38. The message id
    is written as its own octets, equal byte for byte to receipted_message_id (so it must be
    ASCII; smsc's ids are). In the text snippet every character without the same code in ASCII
    and GSM 03.38 ('@', '$', '_', '[', '~', accented letters, emoji, control characters ...)
    becomes '?', so the snippet reads the same whichever way the client decodes data_coding 0.
    """
    snippet = receipt.text[:TEXT_SNIPPET_LENGTH]
    if not _SAFE_SNIPPET.issuperset(snippet):
        snippet = _UNSAFE_SNIPPET_CHAR.sub("?", snippet)
    text = _RECEIPT_LAYOUT % (
        receipt.message_id,
        receipt.submitted,
        receipt.delivered,
        receipt.submit_date,
        receipt.done_date,
        receipt.stat,
        receipt.err,
        snippet,
    )
    try:
        return text.encode("ascii")
    except UnicodeEncodeError:
        raise ReceiptError(f"message_id {receipt.message_id!r} is not ASCII") from None
