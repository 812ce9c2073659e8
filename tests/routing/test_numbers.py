"""Destination numbers: statuses of every refusal, metadata, and agreement with phonenumbers."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import timezone as pn_timezone

from smsc.pdu.constants import CommandStatus
from smsc.pdu.errors import PduError
from smsc.routing.numbers import NumberPlan

PLAN = NumberPlan()
CODES = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


def as_written(number: str) -> phonenumbers.PhoneNumber | None:
    """The digits parsed as an E.164 number taken as written (None: no country code, too short,
    not digits)."""
    if not number.isdigit() or number[0] == "0" or len(number) > 15:
        return None
    for size in (1, 2, 3):
        if int(number[:size]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    national = number[size:]
    if len(national) < 2:
        return None
    zeros = len(national) - len(national.lstrip("0"))
    if zeros == len(national):
        zeros -= 1
    return phonenumbers.PhoneNumber(
        country_code=int(number[:size]),
        national_number=int(national),
        italian_leading_zero=True if zeros else None,
        number_of_leading_zeros=zeros if zeros > 1 else None,
    )


def reference(number: str) -> tuple[str, tuple[str, ...]] | None:
    """phonenumbers' verdict on the digits as an E.164 number taken as written: (region, time
    zones) when valid, else None."""
    parsed = as_written(number)
    if parsed is None:
        return None
    assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)[1:] == number
    if not phonenumbers.is_valid_number(parsed):
        return None
    region = phonenumbers.region_code_for_number(parsed)
    assert region is not None
    return region, tuple(pn_timezone.time_zones_for_number(parsed))


def mine(number: str) -> tuple[str, tuple[str, ...]] | None:
    found = PLAN.destination(number)
    return None if found is None else (found.region, found.time_zones)


def example_numbers() -> list[str]:
    out: list[str] = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in range(12):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                out.append(phonenumbers.format_number(example, 0)[1:])
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        example = phonenumbers.example_number_for_non_geo_entity(code)
        if example is not None:
            out.append(phonenumbers.format_number(example, 0)[1:])
    return sorted(set(out))


def test_a_ukrainian_mobile_number() -> None:
    found = PLAN.check("380671234567", 1, 1)
    assert found.number == "380671234567"
    assert found.country_code == 380
    assert found.region == "UA"
    assert found.line_type == "mobile"
    assert found.time_zones == ("Europe/Kyiv",)
    assert found.prefix == "380"


def test_unknown_ton_and_npi_are_accepted_for_international_digits() -> None:
    assert PLAN.check("380671234567", 0, 0).region == "UA"


def test_shared_country_code_regions_and_area_time_zones() -> None:
    us = PLAN.check("12025550123")
    assert (us.region, us.time_zones, us.prefix) == ("US", ("America/New_York",), "1202")
    assert PLAN.check("14165550123").region == "CA"
    assert PLAN.check("79161234567").region == "RU"


def test_non_geographic_country_code() -> None:
    example = phonenumbers.example_number_for_non_geo_entity(882)
    assert example is not None
    number = phonenumbers.format_number(example, 0)[1:]
    assert PLAN.check(number).region == "001"


@pytest.mark.parametrize("ton", [3, 4, 5, 6, 7, 255])
def test_destination_ton_other_than_international_national_or_unknown(ton: int) -> None:
    with pytest.raises(PduError) as caught:
        PLAN.check("380671234567", ton, 1)
    assert caught.value.command_status == CommandStatus.ESME_RINVDSTTON


@pytest.mark.parametrize("npi", [3, 4, 6, 8, 9, 10, 14, 18, 255])
def test_destination_npi_other_than_isdn_or_unknown(npi: int) -> None:
    with pytest.raises(PduError) as caught:
        PLAN.check("380671234567", 1, npi)
    assert caught.value.command_status == CommandStatus.ESME_RINVDSTNPI


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("", "empty"),
        ("+380671234567", "'+'"),
        ("00380671234567", "leading 0"),
        ("0671234567", "leading 0"),
        ("380 67 123 4567", "digits only"),
        ("38067123456a", "digits only"),
        ("３８０６７１２３４５６７", "digits only"),  # full-width digits are not ASCII
        ("3806712345678901", "more than the 15"),
        ("38067123456", "not a possible number"),  # one digit short (UA numbers have 9 or 10)
        ("38067123456789", "not a possible number"),  # 11 digits after the code
        ("4477009001", "not a possible number"),  # UK numbers have 7, 9 or 10 digits, not 8
        ("999123456789", "known country code"),
        ("38", "too short"),
        ("3801", "too short"),
    ],
)
def test_invalid_destinations(number: str, why: str) -> None:
    with pytest.raises(PduError) as caught:
        PLAN.check(number)
    assert caught.value.command_status == CommandStatus.ESME_RINVDSTADR
    assert why in str(caught.value)
    assert PLAN.destination(number) is None


def test_ton_is_checked_before_the_number() -> None:
    with pytest.raises(PduError) as caught:
        PLAN.check("+1", 3, 1)
    assert caught.value.command_status == CommandStatus.ESME_RINVDSTTON


def test_example_numbers_of_every_region_and_type_agree_with_phonenumbers() -> None:
    examples = example_numbers()
    assert len(examples) > 900
    for number in examples:
        assert mine(number) == reference(number), number
        assert mine(number) is not None, number


def test_mutated_examples_agree_with_phonenumbers() -> None:
    """Examples with a digit changed, dropped or added: valid and invalid ones alike."""
    valid = 0
    for number in example_numbers():
        for position in range(3, len(number)):
            digit = str((int(number[position]) + 3) % 10)
            for variant in (
                number[:position] + digit + number[position + 1 :],
                number[:position] + number[position + 1 :],
                number[:position] + digit + number[position:],
            ):
                if len(variant) <= 15:
                    expected = reference(variant)
                    assert mine(variant) == expected, variant
                    valid += expected is not None
    assert valid > 5000  # the comparison covers many valid numbers, not only refusals


@settings(max_examples=1000, deadline=None)
@given(
    code=st.sampled_from(CODES),
    rest=st.text(alphabet="0123456789", min_size=0, max_size=13),
)
def test_random_numbers_agree_with_phonenumbers(code: int, rest: str) -> None:
    number = (str(code) + rest)[:15]
    assert mine(number) == reference(number)


def test_warm_compiles_every_country_code() -> None:
    plan = NumberPlan()
    plan.warm([380, 1])
    assert plan.check("380671234567").region == "UA"


# --- reading under the ton, possible numbers ----------------------------------------------------


@pytest.mark.parametrize(
    ("number", "ton", "home", "expected"),
    [
        ("380671234567", 1, None, "380671234567"),  # international digits
        ("380671234567", 1, "GB", "380671234567"),  # ton 1 ignores the home country
        ("380671234567", 2, None, "380671234567"),  # Kannel's default: national ton, no +
        ("380671234567", 2, "UA", "380671234567"),  # not a UA national number: international
        ("+380671234567", 2, None, "380671234567"),
        ("+380671234567", 0, "GB", "380671234567"),
        ("00380671234567", 2, None, "380671234567"),
        ("00380671234567", 0, "UA", "380671234567"),
        ("0671234567", 2, "UA", "380671234567"),  # trunk prefix 0 dropped, 380 added
        ("0671234567", 0, "UA", "380671234567"),
        ("671234567", 2, "UA", "380671234567"),  # without the trunk prefix
        ("07911123456", 2, "GB", "447911123456"),
        ("2025550123", 2, "US", "12025550123"),  # valid in the US, also possible in Egypt
        ("12025550123", 2, "US", "12025550123"),  # US trunk prefix 1
        ("89161234567", 2, "RU", "79161234567"),  # Russian trunk prefix 8
        ("0612345678", 2, "IT", "390612345678"),  # Italy keeps the 0 (no trunk prefix)
    ],
)
def test_destinations_are_read_under_their_ton(
    number: str, ton: int, home: str | None, expected: str
) -> None:
    found = PLAN.check(number, ton, 1, home)
    assert found.number == expected
    assert found.valid


@pytest.mark.parametrize(
    ("number", "ton", "home", "why"),
    [
        ("0671234567", 2, None, "leading 0"),  # national, but no home country configured
        ("0671234567", 1, "UA", "leading 0"),  # ton 1 is international whatever the home
        ("+380671234567", 1, None, "'+'"),  # ton 1 is digits only
        ("067123", 2, "UA", "neither a national number of UA nor international"),
        ("+38067123456", 2, None, "not a possible number"),
        ("++380671234567", 2, None, "two '+'"),
        ("0038067123456789", 0, None, "not a possible number"),
        ("Shop", 2, "UA", "digits only"),
    ],
)
def test_unreadable_destinations(number: str, ton: int, home: str | None, why: str) -> None:
    with pytest.raises(PduError) as caught:
        PLAN.check(number, ton, 1, home)
    assert caught.value.command_status == CommandStatus.ESME_RINVDSTADR
    assert why in str(caught.value)


def test_an_alphanumeric_destination_is_refused_with_rinvdstton() -> None:
    with pytest.raises(PduError) as caught:
        PLAN.check("Shop", 5, 0, "UA")
    assert caught.value.command_status == CommandStatus.ESME_RINVDSTTON
    assert "alphanumeric" in str(caught.value)


@pytest.mark.parametrize(
    ("number", "ton", "home", "expected"),
    [
        ("447700900123", 1, None, "447700900123"),  # the UK's range for drama (fictional)
        ("07700900123", 2, "GB", "447700900123"),
        ("+447700900123", 0, None, "447700900123"),
        ("380001234567", 1, None, "380001234567"),  # no such Ukrainian range
        ("3800671234567", 1, None, "3800671234567"),  # trunk 0 after the code: 10 digits
    ],
)
def test_possible_numbers_in_no_assigned_range(
    number: str, ton: int, home: str | None, expected: str
) -> None:
    found = PLAN.check(number, ton, 1, home)
    assert found.number == expected
    assert not found.valid and found.line_type == "unknown"
    assert found.country_code == int(expected[:2]) or found.country_code == int(expected[:3])
    assert PLAN.destination(expected) is None  # lookup stays phonenumbers' is_valid_number


def test_a_valid_national_reading_wins_over_a_possible_one() -> None:
    # 0 + 9 digits: national 447911123456 is valid, 4407911... would not be
    assert PLAN.check("07911123456", 2, 1, "GB").valid


def possible_reference(number: str) -> bool:
    """phonenumbers: the digits taken as written are valid, or possible (not only locally)."""
    if reference(number) is not None:
        return True
    parsed = as_written(number)
    if parsed is None:
        return False
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    return bool(reason == phonenumbers.ValidationResult.IS_POSSIBLE)


@settings(max_examples=400, deadline=None)
@given(
    code=st.sampled_from(CODES),
    rest=st.text(alphabet="0123456789", min_size=0, max_size=13),
)
def test_accepted_numbers_are_those_phonenumbers_calls_valid_or_possible(
    code: int, rest: str
) -> None:
    number = (str(code) + rest)[:15]
    try:
        found = PLAN.check(number)
    except PduError as e:
        assert e.command_status == CommandStatus.ESME_RINVDSTADR
        assert not possible_reference(number), number
    else:
        assert possible_reference(number), number
        assert found.valid == (reference(number) is not None), number


def test_home_country_problems() -> None:
    from smsc.routing.numbers import home_country_problem

    assert home_country_problem("UA") is None
    assert "capitals" in (home_country_problem("ua") or "")
    assert "ISO 3166" in (home_country_problem("XX") or "")
    assert "ISO 3166" in (home_country_problem("001") or "")
    assert "string" in (home_country_problem(380) or "")
