"""Sender (source address) rules.

A sender is either **alphanumeric** (a name shown on the handset) or **numeric** (a phone number
or short code):

* ``source_addr_ton`` 5 (alphanumeric): 1 to 11 characters from ASCII letters, digits, space and
  ``. , - _ & + ' ! ? @ # : / ( )``, with at least one letter or digit and no space at either end.
* ``source_addr_ton`` 1 (international): 1 to 15 digits, not starting with 0 (country code first,
  no ``+``); checked against the number plan (when the rules have one, as the router's do), the
  digits must form a possible international number (a known country code and a length the
  country uses), as a destination must.
* ``source_addr_ton`` 3 and 6 (network specific, abbreviated): a short code of
  2 to 8 digits.
* ``source_addr_ton`` 2 and 4 (national, subscriber): 1 to 15 digits.
* ``source_addr_ton`` 0 (unknown): digits only (up to 15) is numeric; anything else is checked
  as alphanumeric.
* any other ton is refused with ESME_RINVSRCTON; ``source_addr_npi`` must be one of SMPP's
  values (0, 1, 3, 4, 6, 8, 9, 10, 14, 18), else ESME_RINVSRCNPI. A sender breaking the rules of
  its ton is refused with ESME_RINVSRCADR.

An empty ``source_addr`` takes the account's default sender (ton 5 npi 0 when alphanumeric,
ton 1 npi 1 when digits), or is refused with ESME_RINVSRCADR when the account has none. For
accounts with ``require_registered_sender``, an alphanumeric sender that is not exactly (case
included) one of the account's ``sender_ids`` is refused with SMSC_RSENDERNOTREG (0x401);
numeric senders and the default sender are not subject to registration.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from smsc.pdu.constants import CommandStatus, Npi, Ton
from smsc.pdu.errors import PduError
from smsc.routing.numbers import NumberPlan
from smsc.slotted import slot_constructor
from smsc.store.records import Account

__all__ = [
    "ALPHANUMERIC_CHARACTERS",
    "MAX_ALPHANUMERIC",
    "MAX_NUMERIC",
    "SenderKind",
    "SenderRules",
    "Source",
    "check_sender",
    "sender_problem",
]

MAX_ALPHANUMERIC: Final = 11
MAX_NUMERIC: Final = 15
MIN_SHORT_CODE: Final = 2
MAX_SHORT_CODE: Final = 8
_SHORT_CODE_TONS: Final = frozenset({int(Ton.NETWORK_SPECIFIC), int(Ton.ABBREVIATED)})
ALPHANUMERIC_CHARACTERS: Final = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,-_&+'!?@#:/()"
)
_LETTERS_AND_DIGITS: Final = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)
_NPIS: Final = frozenset(int(npi) for npi in Npi)
CACHE_SIZE: Final = 65_536


class SenderKind(IntEnum):
    ALPHANUMERIC = 1
    NUMERIC = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """A sender that passed the rules; ``defaulted`` when it is the account's default sender."""

    addr: str
    ton: int
    npi: int
    kind: SenderKind
    defaulted: bool = False


_make_source = slot_constructor(Source)


def _alphanumeric_problem(addr: str) -> str | None:
    if len(addr) > MAX_ALPHANUMERIC:
        return f"an alphanumeric sender has at most {MAX_ALPHANUMERIC} characters"
    if not ALPHANUMERIC_CHARACTERS.issuperset(addr):
        return "an alphanumeric sender has letters, digits, spaces and .,-_&+'!?@#:/() only"
    if addr[0] == " " or addr[-1] == " ":
        return "an alphanumeric sender does not start or end with a space"
    if _LETTERS_AND_DIGITS.isdisjoint(addr):
        return "an alphanumeric sender has at least one letter or digit"
    return None


def _numeric_problem(addr: str, ton: int) -> str | None:
    if not (addr.isdigit() and addr.isascii()):
        return f"a sender with ton {ton} is digits only"
    if len(addr) > MAX_NUMERIC:
        return f"a numeric sender has at most {MAX_NUMERIC} digits"
    if ton == Ton.INTERNATIONAL and addr[0] == "0":
        return "an international sender starts with the country code, not 0"
    if ton in _SHORT_CODE_TONS and not MIN_SHORT_CODE <= len(addr) <= MAX_SHORT_CODE:
        return (f"a short code (ton {ton}) has {MIN_SHORT_CODE} to {MAX_SHORT_CODE} digits, "
                f"not {len(addr)}")
    return None


def sender_problem(addr: str, ton: int) -> tuple[SenderKind, str | None]:
    """The kind of a non-empty sender under ``ton`` and what is wrong with it (None: nothing).
    ``ton`` must be one the rules know (0-6)."""
    if ton == Ton.ALPHANUMERIC:
        return SenderKind.ALPHANUMERIC, _alphanumeric_problem(addr)
    if ton == Ton.UNKNOWN:
        if addr.isdigit() and addr.isascii():
            return SenderKind.NUMERIC, _numeric_problem(addr, ton)
        return SenderKind.ALPHANUMERIC, _alphanumeric_problem(addr)
    return SenderKind.NUMERIC, _numeric_problem(addr, ton)


def _default_source(account: Account) -> Source:
    addr = account.default_sender
    if addr.isdigit() and addr.isascii():
        kind, problem = sender_problem(addr, Ton.INTERNATIONAL)
        ton, npi = Ton.INTERNATIONAL, Npi.ISDN
    else:
        kind, problem = sender_problem(addr, Ton.ALPHANUMERIC)
        ton, npi = Ton.ALPHANUMERIC, Npi.UNKNOWN
    if problem is not None:
        raise PduError(
            CommandStatus.ESME_RINVSRCADR, f"the account's default sender {addr!r}: {problem}"
        )
    return _make_source(addr, int(ton), int(npi), kind, True)


def check_sender(
    account: Account, addr: str, ton: int, npi: int, numbers: NumberPlan | None = None
) -> Source:
    """The sender of a submit by ``account``, or PduError with ESME_RINVSRCTON, ESME_RINVSRCNPI,
    ESME_RINVSRCADR or SMSC_RSENDERNOTREG (see the module's rules). With ``numbers``, an
    international sender must be a possible international number."""
    if not addr:
        if not account.default_sender:
            raise PduError(
                CommandStatus.ESME_RINVSRCADR,
                "empty source_addr and the account has no default sender",
            )
        return _default_source(account)
    if not 0 <= ton <= Ton.ABBREVIATED:
        raise PduError(CommandStatus.ESME_RINVSRCTON, f"source_addr_ton {ton} is not allowed")
    if npi not in _NPIS:
        raise PduError(CommandStatus.ESME_RINVSRCNPI, f"source_addr_npi {npi} is not allowed")
    kind, problem = sender_problem(addr, ton)
    if problem is not None:
        raise PduError(CommandStatus.ESME_RINVSRCADR, f"sender {addr[:24]!r}: {problem}")
    if numbers is not None and ton == Ton.INTERNATIONAL:
        why = numbers.possible_problem(addr)
        if why is not None:
            raise PduError(CommandStatus.ESME_RINVSRCADR, f"international sender {addr!r} {why}")
    if (
        kind == SenderKind.ALPHANUMERIC
        and account.require_registered_sender
        and addr not in account.sender_ids
    ):
        raise PduError(
            CommandStatus.SMSC_RSENDERNOTREG,
            f"sender {addr!r} is not registered for account {account.system_id!r}",
        )
    return _make_source(addr, ton, npi, kind, False)


class SenderRules:
    """:func:`check_sender` with a bounded memo of accepted senders per account.

    Customers use a handful of senders, so the check and the Source object are reused; an entry
    is trusted only while the account object is the same (a reloaded account starts afresh).
    """

    __slots__ = ("_memo", "_size", "numbers")

    def __init__(self, cache_size: int = CACHE_SIZE, numbers: NumberPlan | None = None) -> None:
        self.numbers = numbers  # international senders must be possible numbers of this plan
        self._size = cache_size
        self._memo: dict[tuple[str, str, int, int], tuple[Account, Source]] = {}

    def check(self, account: Account, addr: str, ton: int, npi: int) -> Source:
        key = (account.system_id, addr, ton, npi)
        hit = self._memo.get(key)
        if hit is not None and hit[0] is account:
            return hit[1]
        source = check_sender(account, addr, ton, npi, self.numbers)
        if len(self._memo) >= self._size:
            self._memo.clear()
        self._memo[key] = (account, source)
        return source
