"""Destination numbers: read the way SMSCs read them, kept as international digits.

:meth:`NumberPlan.check` reads a destination under its ``dest_addr_ton`` (see docs/routing.md
for the rule and a table of examples):

* ton 1 (international): the digits are the international number, country code first;
* ton 0 (unknown) or 2 (national): a leading ``+`` or ``00`` is stripped and the rest read as
  international; otherwise, when a home country is configured, a national number of that
  country is converted (its trunk prefix such as ``0`` dropped, its country code added);
  otherwise the digits are read as international;
* ton 5 (alphanumeric) and every other ton: ESME_RINVDSTTON.

A number phonenumbers calls *valid* is routed normally. A number that is only *possible* (a known
country code and a national part of a length the country uses, but in no assigned range: the
fictional UK range 447700900xxx, ranges newer than the metadata) is returned with ``line_type``
"unknown" (``valid`` False): the router accepts it and its message ends UNDELIV err 1 (unknown
subscriber), or refuses it for strict accounts. Anything else is ESME_RINVDSTADR.

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

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, SUPPORTED_REGIONS, PhoneMetadata
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
    "home_country_problem",
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
_DESTINATION_TONS: Final = frozenset({int(Ton.UNKNOWN), int(Ton.INTERNATIONAL), int(Ton.NATIONAL)})
_INTERNATIONAL: Final = int(Ton.INTERNATIONAL)
UNKNOWN_LINE: Final = "unknown"  # phonenumbers' type of a number that is possible, not valid
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

    @property
    def valid(self) -> bool:
        """In a range phonenumbers knows as assigned; False for a merely possible number."""
        return self.line_type != UNKNOWN_LINE


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
        "possible",
        "regions",
        "single",
        "tz_max",
    )

    def __init__(self, code: int) -> None:
        self.code = code
        self.code_text = str(code)
        regions: list[_Region] = []
        for region_code in COUNTRY_CODE_TO_REGION_CODE[code]:
            metadata = _metadata(region_code, code)
            if metadata is not None:
                regions.append(_Region(region_code, code, metadata))
        self.regions = tuple(regions)
        # National-number lengths phonenumbers calls possible for the code (its main region's,
        # as is_possible_number; lengths only dialled locally, without an area code, are not).
        self.possible = frozenset(_possible_lengths(code))
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


def _metadata(region_code: str, country_code: int) -> PhoneMetadata | None:
    if region_code == NON_GEOGRAPHIC_REGION:
        return PhoneMetadata.metadata_for_nongeo_region(country_code, None)
    return PhoneMetadata.metadata_for_region(region_code, None)


def _possible_lengths(code: int) -> tuple[int, ...]:
    regions = COUNTRY_CODE_TO_REGION_CODE.get(code, ())
    metadata = _metadata(regions[0], code) if regions else None
    general = metadata.general_desc if metadata is not None else None
    if general is None:
        return ()
    return tuple(n for n in general.possible_length or () if n >= MIN_NATIONAL_DIGITS)


class _Home:
    """A home country's national numbers: how its trunk prefix is dropped."""

    __slots__ = ("code_text", "transform", "trunk")

    def __init__(self, region: str) -> None:
        metadata = PhoneMetadata.metadata_for_region(region, None)
        if metadata is None or metadata.country_code is None:
            raise ValueError(f"{region!r} is not a region phonenumbers knows")
        self.code_text = str(metadata.country_code)
        prefix = metadata.national_prefix_for_parsing or metadata.national_prefix
        self.trunk = re.compile(prefix) if prefix else None
        self.transform = metadata.national_prefix_transform_rule

    def candidates(self, digits: str) -> tuple[str, ...]:
        """The international numbers ``digits`` may be as a national number: without its trunk
        prefix first (as phonenumbers strips it), then as written."""
        if self.trunk is not None:
            found = self.trunk.match(digits)
            if found is not None and found.end():
                if self.transform:
                    national = found.expand(self.transform) + digits[found.end() :]
                else:
                    national = digits[found.end() :]
                if national and national != digits:
                    return self.code_text + national, self.code_text + digits
        return (self.code_text + digits,)


def home_country_problem(region: object) -> str | None:
    """What is wrong with ``region`` as a home country (None: it is an ISO 3166 code known to
    phonenumbers, in capitals)."""
    if not isinstance(region, str):
        return "must be a string, an ISO 3166 country code such as \"UA\""
    if region not in SUPPORTED_REGIONS:
        if region.upper() in SUPPORTED_REGIONS:
            return f"write the country code in capitals: \"{region.upper()}\""
        return f"{region!r} is not an ISO 3166 country code phonenumbers knows (such as \"UA\")"
    return None


def _invalid(number: str, why: str) -> PduError:
    return PduError(CommandStatus.ESME_RINVDSTADR, f"destination {number[:24]!r}: {why}")


class NumberPlan:
    """Validates destination numbers; country plans are compiled on first use and kept."""

    __slots__ = ("_code_of", "_countries", "_homes")

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
        self._homes: dict[str, _Home] = {}  # at most one per region phonenumbers knows

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

    def _home(self, region: str) -> _Home:
        home = self._homes.get(region)
        if home is None:
            home = self._homes[region] = _Home(region)
        return home

    def check(
        self,
        number: str,
        ton: int = Ton.INTERNATIONAL,
        npi: int = Npi.ISDN,
        home: str | None = None,
    ) -> Destination:
        """The destination of a submit read under ``ton`` (see the module's rule), or PduError
        with ESME_RINVDSTTON (ton other than 0, 1 or 2), ESME_RINVDSTNPI (npi other than 1 or 0)
        or ESME_RINVDSTADR (not a possible number). ``home`` is the home country's ISO code,
        whose national numbers ton 0 and 2 may use. The result may be merely possible
        (``valid`` False)."""
        if ton not in _DESTINATION_TONS:
            if ton == Ton.ALPHANUMERIC:
                why = "an alphanumeric destination (ton 5) cannot be delivered to"
            else:
                why = f"dest_addr_ton {ton} is not 1 (international), 2 (national) or 0 (unknown)"
            raise PduError(CommandStatus.ESME_RINVDSTTON, why)
        if npi not in _DESTINATION_NPIS:
            raise PduError(
                CommandStatus.ESME_RINVDSTNPI, f"dest_addr_npi {npi} is not 1 (ISDN) or 0 (unknown)"
            )
        found = self._read(number) if ton == _INTERNATIONAL else self._read_unknown(number, home)
        if isinstance(found, str):
            raise _invalid(number, found)
        return found

    def _read_unknown(self, number: str, home: str | None) -> Destination | str:
        """A destination with ton 0 or 2: ``+`` or ``00`` then international; else a national
        number of ``home`` (a valid reading before an international one, then a possible one);
        else international."""
        if number[:1] == "+":
            return self._read(number[1:]) if number[1:2] != "+" else "has two '+'"
        if number[:2] == "00":
            return self._read(number[2:])
        if home is None or not (number.isdigit() and number.isascii()):
            return self._read(number)
        possible: Destination | None = None
        for candidate in self._home(home).candidates(number):
            found = self._read(candidate)
            if not isinstance(found, str):
                if found.line_type != UNKNOWN_LINE:
                    return found
                possible = possible or found
        international = self._read(number)
        if possible is not None and (
            isinstance(international, str) or international.line_type == UNKNOWN_LINE
        ):
            return possible
        if isinstance(international, str):
            return f"is neither a national number of {home} nor international ({international})"
        return international

    def possible_problem(self, number: str) -> str | None:
        """Why international digits are not a possible number (None: they are one)."""
        found = self._read(number)
        return found if isinstance(found, str) else None

    def destination(self, number: str) -> Destination | None:
        """The destination for a valid international number, or None (no PDU context)."""
        found = self.lookup(number)
        return None if isinstance(found, str) else found

    def lookup(self, number: str) -> Destination | str:
        """The destination of a valid international number, or the reason (words) why the
        number is not valid."""
        found = self._read(number)
        if not isinstance(found, str) and found.line_type == UNKNOWN_LINE:
            return f"is not a valid number of country code {found.country_code} (length or range)"
        return found

    def _read(self, number: str) -> Destination | str:
        """The destination of international digits, valid or merely possible, or the reason
        (words) why they are not a possible number."""
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
            if len(national) not in country.possible or not country.regions:
                return f"is not a possible number of country code {code_text} (length)"
            return _make_destination(
                number,
                country.code,
                country.regions[0].code,
                country.country_zones_prefix,
                UNKNOWN_LINE,
                country.country_zones,
            )
        line_type = typed.lastgroup or "unknown"
        if line_type in region.geo_types:
            prefix, zones = country.time_zones(number)
        else:
            prefix, zones = country.country_zones_prefix, country.country_zones
        return _make_destination(number, country.code, region.code, prefix, line_type, zones)
