"""Destination numbers: international, digits only, country code first, valid for the country.

The numbering plans come from the phonenumbers library, but phonenumbers is never asked to parse
a number on the hot path. The first time a country calling code is seen, its plan is compiled
once: for every region of the code and every national-number length, one regular expression
with a named group per number type (premium rate, toll free, ..., fixed line, mobile) in the
order phonenumbers tries them. Checking a number is then a dict lookup for the country code,
one ``fullmatch`` of the national part and a few dict lookups for its time zones. Validity is
exactly phonenumbers' ``is_valid_number`` for the number whose national significant number is
the digits after the country code as written (the tests compare the two on tens of thousands of
numbers). phonenumbers' parser would first drop what looks like a national trunk prefix (the 0
of ``380 0 67...``); here the digits count as written, so such a number is refused unless it
happens to be valid as written.

Memory is bounded by the number of country calling codes (about 250), not by the numbers seen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata
from phonenumbers.phonemetadata import PhoneNumberDesc
from phonenumbers.tzdata import TIMEZONE_DATA

from smsc.pdu.constants import CommandStatus, Npi, Ton
from smsc.pdu.errors import PduError
from smsc.slotted import slot_constructor

__all__ = [
    "MAX_DIGITS",
    "UNKNOWN_TIME_ZONE",
    "Destination",
    "NumberPlan",
]

MAX_DIGITS: Final = 15  # E.164
MIN_NATIONAL_DIGITS: Final = 2  # as phonenumbers
UNKNOWN_TIME_ZONE: Final = "Etc/Unknown"
NON_GEOGRAPHIC_REGION: Final = "001"  # phonenumbers' region for +800, +882, +883 ...

# The number types in the order phonenumbers' number_type tries them; the first that matches wins.
_TYPES: Final = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)
# Country codes whose mobile numbers phonenumbers treats as geographical (they get area time
# zones rather than the whole country's), as in phonenumbers' _GEO_MOBILE_COUNTRIES.
_GEO_MOBILE_COUNTRIES: Final = frozenset({52, 54, 55, 62, 86})
# Plain ints: looking an int up among IntEnum members costs a microsecond.
_DESTINATION_TONS: Final = frozenset({int(Ton.UNKNOWN), int(Ton.INTERNATIONAL)})
_DESTINATION_NPIS: Final = frozenset({int(Npi.UNKNOWN), int(Npi.ISDN)})


@dataclass(frozen=True, slots=True, kw_only=True)
class Destination:
    """A valid destination.

    ``prefix`` is the leading digits the time zones were found under (the country code, or a
    longer area prefix from phonenumbers' time-zone data): numbers with the same prefix have
    the same ``time_zones``, so callers can key per-zone caches on it. Mobile numbers get their
    country's zones, as in phonenumbers, which ties them to an area only in a few countries
    (Mexico, Argentina, Brazil, Indonesia, China) and where fixed and mobile numbers look
    alike (+1).
    ``line_type`` is phonenumbers' number type in lower case; ``fixed_line`` also covers numbers
    that may be fixed or mobile (as in +1).
    """

    number: str
    country_code: int
    region: str  # ISO 3166 code such as 'UA', or '001' for non-geographic codes
    prefix: str
    line_type: str
    time_zones: tuple[str, ...]


_make_destination = slot_constructor(Destination)


class _Region:
    __slots__ = ("code", "geo_types", "leading", "patterns")

    def __init__(self, code: str, country_code: int, metadata: PhoneMetadata) -> None:
        self.code = code
        self.leading = re.compile(metadata.leading_digits) if metadata.leading_digits else None
        self.geo_types = frozenset(
            {"fixed_line", "mobile"} if country_code in _GEO_MOBILE_COUNTRIES else {"fixed_line"}
        )
        self.patterns: dict[int, re.Pattern[str]] = {}
        general = metadata.general_desc
        if general is None or not general.national_number_pattern:
            return
        for length in general.possible_length or range(MIN_NATIONAL_DIGITS, MAX_DIGITS):
            if length < MIN_NATIONAL_DIGITS:
                continue
            pattern = _typed_pattern(metadata, general, length)
            if pattern is not None:
                self.patterns[length] = pattern

    def match(self, national: str) -> re.Match[str] | None:
        pattern = self.patterns.get(len(national))
        return pattern.fullmatch(national) if pattern is not None else None


def _typed_pattern(
    metadata: PhoneMetadata, general: PhoneNumberDesc, length: int
) -> re.Pattern[str] | None:
    """One expression for the national numbers of ``length`` digits that phonenumbers calls
    valid: they match the general description and one of the types, the first type winning."""
    alternatives: list[str] = []
    for name in _TYPES:
        if name == "mobile" and metadata.same_mobile_and_fixed_line_pattern:
            continue  # phonenumbers never reports MOBILE for such regions
        desc: PhoneNumberDesc | None = getattr(metadata, name)
        if desc is None or not desc.national_number_pattern:
            continue
        if desc.possible_length and length not in desc.possible_length:
            continue
        alternatives.append(f"(?P<{name}>{desc.national_number_pattern})")
    if not alternatives:
        return None
    return re.compile(f"(?=(?:{general.national_number_pattern})\\Z)(?:{'|'.join(alternatives)})")


class _Country:
    __slots__ = (
        "code",
        "code_text",
        "country_zones",
        "country_zones_prefix",
        "regions",
        "single",
        "tz_max",
    )

    def __init__(self, code: int) -> None:
        self.code = code
        self.code_text = str(code)
        regions: list[_Region] = []
        for region_code in COUNTRY_CODE_TO_REGION_CODE[code]:
            if region_code == NON_GEOGRAPHIC_REGION:
                metadata = PhoneMetadata.metadata_for_nongeo_region(code, None)
            else:
                metadata = PhoneMetadata.metadata_for_region(region_code, None)
            if metadata is not None:
                regions.append(_Region(region_code, code, metadata))
        self.regions = tuple(regions)
        self.single = regions[0] if len(regions) == 1 else None
        keys = [k for k in TIMEZONE_DATA if k.startswith(self.code_text)]
        self.tz_max = max((len(k) for k in keys), default=len(self.code_text))
        # Country-level zones, as phonenumbers looks them up for non-geographical numbers.
        self.country_zones: tuple[str, ...] = (UNKNOWN_TIME_ZONE,)
        self.country_zones_prefix = self.code_text
        for length in range(len(self.code_text), 0, -1):
            zones = TIMEZONE_DATA.get(self.code_text[:length])
            if zones is not None:
                self.country_zones = tuple(zones)
                self.country_zones_prefix = self.code_text[:length]
                break

    def region_match(self, national: str) -> tuple[_Region, re.Match[str]] | None:
        """The region phonenumbers assigns the number to, with the type match; None if invalid."""
        for region in self.regions:
            if region.leading is not None:
                if region.leading.match(national):
                    found = region.match(national)
                    return (region, found) if found is not None else None
                continue
            found = region.match(national)
            if found is not None:
                return region, found
        return None

    def time_zones(self, number: str) -> tuple[str, tuple[str, ...]]:
        """The zones of a geographical number: the longest prefix in phonenumbers' data."""
        for length in range(min(self.tz_max, len(number)), 0, -1):
            prefix = number[:length]
            zones = TIMEZONE_DATA.get(prefix)
            if zones is not None:
                return prefix, tuple(zones)
        return self.code_text, (UNKNOWN_TIME_ZONE,)


def _invalid(number: str, why: str) -> PduError:
    return PduError(CommandStatus.ESME_RINVDSTADR, f"destination {number[:24]!r}: {why}")


class NumberPlan:
    """Validates destination numbers; country plans are compiled on first use and kept."""

    __slots__ = ("_code_of", "_countries")

    def __init__(self) -> None:
        # Every country calling code as text -> its compiled plan (None until first used).
        self._countries: dict[str, _Country | None] = {
            str(code): None for code in COUNTRY_CODE_TO_REGION_CODE
        }
        # The first three digits of a number -> the country code it begins with (codes are
        # prefix-free, so there is at most one).
        self._code_of: dict[str, str] = {}
        for first in range(100, 1000):
            text = str(first)
            for size in (1, 2, 3):
                if text[:size] in self._countries:
                    self._code_of[text] = text[:size]
                    break

    def warm(self, country_codes: Iterable[int] | None = None) -> None:
        """Compile the plans of ``country_codes`` (every code when None) ahead of traffic."""
        codes = COUNTRY_CODE_TO_REGION_CODE if country_codes is None else country_codes
        for code in codes:
            self._country(str(code))

    def _country(self, code_text: str) -> _Country:
        country = self._countries[code_text]
        if country is None:
            country = self._countries[code_text] = _Country(int(code_text))
        return country

    def check(self, number: str, ton: int = Ton.INTERNATIONAL, npi: int = Npi.ISDN) -> Destination:
        """The destination of a submit, or PduError with ESME_RINVDSTTON (ton other than 1 or
        0), ESME_RINVDSTNPI (npi other than 1 or 0) or ESME_RINVDSTADR (not a valid
        international number: digits only, country code first, a valid length and range)."""
        if ton not in _DESTINATION_TONS:
            raise PduError(
                CommandStatus.ESME_RINVDSTTON,
                f"dest_addr_ton {ton} is not 1 (international) or 0 (unknown)",
            )
        if npi not in _DESTINATION_NPIS:
            raise PduError(
                CommandStatus.ESME_RINVDSTNPI, f"dest_addr_npi {npi} is not 1 (ISDN) or 0 (unknown)"
            )
        found = self.lookup(number)
        if isinstance(found, str):
            raise _invalid(number, found)
        return found

    def destination(self, number: str) -> Destination | None:
        """The destination for a number, or None when it is not valid (no PDU context)."""
        found = self.lookup(number)
        return None if isinstance(found, str) else found

    def lookup(self, number: str) -> Destination | str:
        """The destination, or the reason (words) why the number is not valid."""
        size = len(number)
        if not size or not (number.isdigit() and number.isascii()):
            if number.startswith("+"):
                return "must be digits only, without a leading '+'"
            return "must be digits only" if number else "is empty"
        if size > MAX_DIGITS:
            return f"has {size} digits, more than the {MAX_DIGITS} of an international number"
        code_text = self._code_of.get(number[:3])
        if code_text is None:
            if number.startswith("0"):
                return "must start with the country code, without a leading 0 or 00"
            if size < 3:
                return "is too short"
            return "does not start with a known country code"
        country = self._countries[code_text] or self._country(code_text)
        national = number[len(code_text) :]
        if len(national) < MIN_NATIONAL_DIGITS:
            return "is too short"
        region = country.single
        if region is not None:
            pattern = region.patterns.get(len(national))
            typed = pattern.fullmatch(national) if pattern is not None else None
        else:
            match = country.region_match(national)
            region, typed = match if match is not None else (None, None)
        if region is None or typed is None:
            return f"is not a valid number of country code {code_text} (length or range)"
        line_type = typed.lastgroup or "unknown"
        if line_type in region.geo_types:
            prefix, zones = country.time_zones(number)
        else:
            prefix, zones = country.country_zones_prefix, country.country_zones
        return _make_destination(number, country.code, region.code, prefix, line_type, zones)
