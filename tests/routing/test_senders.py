"""Sender rules: each kind, each refusal status, default and registered senders."""

from __future__ import annotations

import pytest

from smsc.pdu.constants import CommandStatus
from smsc.pdu.errors import PduError
from smsc.routing.numbers import NumberPlan
from smsc.routing.senders import SenderKind, SenderRules, Source, check_sender
from smsc.store.records import Account

OPEN = Account(system_id="open", password_hash="")
STRICT = Account(
    system_id="strict",
    password_hash="",
    sender_ids=("MyShop", "Bank 24"),
    require_registered_sender=True,
)


def status_of(account: Account, addr: str, ton: int, npi: int) -> int:
    with pytest.raises(PduError) as caught:
        check_sender(account, addr, ton, npi)
    return caught.value.command_status


@pytest.mark.parametrize(
    "addr", ["A", "MyShop", "Bank 24", "HELLO-WORLD", "a.b,c_d&e+f", "'!?@#:/()x", "12345"]
)
def test_alphanumeric_senders(addr: str) -> None:
    source = check_sender(OPEN, addr, 5, 0)
    assert source == Source(addr=addr, ton=5, npi=0, kind=SenderKind.ALPHANUMERIC)


@pytest.mark.parametrize(
    ("addr", "why"),
    [
        ("ABCDEFGHIJKL", "at most 11"),
        (" Shop", "start or end with a space"),
        ("Shop ", "start or end with a space"),
        ("Shop*", "letters, digits"),
        ("Магазин", "letters, digits"),
        ("Shop\x00", "letters, digits"),
        ("...", "at least one letter or digit"),
    ],
)
def test_bad_alphanumeric_senders(addr: str, why: str) -> None:
    with pytest.raises(PduError) as caught:
        check_sender(OPEN, addr, 5, 0)
    assert caught.value.command_status == CommandStatus.ESME_RINVSRCADR
    assert why in str(caught.value)


@pytest.mark.parametrize(
    ("ton", "addr"),
    [(1, "380671234567"), (2, "0671234567"), (3, "12"), (4, "1234567"), (6, "7575"), (1, "1" * 15)],
)
def test_numeric_senders(ton: int, addr: str) -> None:
    source = check_sender(OPEN, addr, ton, 1)
    assert source.kind == SenderKind.NUMERIC
    assert (source.addr, source.ton, source.npi) == (addr, ton, 1)


@pytest.mark.parametrize(
    ("ton", "addr", "why"),
    [
        (1, "+380671234567", "digits only"),
        (1, "0671234567", "not 0"),
        (1, "1" * 16, "at most 15"),
        (2, "067-123", "digits only"),
        (6, "Shop", "digits only"),
        (0, "1" * 16, "at most 15"),
    ],
)
def test_bad_numeric_senders(ton: int, addr: str, why: str) -> None:
    with pytest.raises(PduError) as caught:
        check_sender(OPEN, addr, ton, 1)
    assert caught.value.command_status == CommandStatus.ESME_RINVSRCADR
    assert why in str(caught.value)


def test_unknown_ton_decides_by_content() -> None:
    assert check_sender(OPEN, "380671234567", 0, 0).kind == SenderKind.NUMERIC
    assert check_sender(OPEN, "Shop", 0, 0).kind == SenderKind.ALPHANUMERIC
    assert status_of(OPEN, "Shop*", 0, 0) == CommandStatus.ESME_RINVSRCADR


@pytest.mark.parametrize("ton", [7, 8, 100, 255, -1])
def test_bad_source_ton(ton: int) -> None:
    assert status_of(OPEN, "Shop", ton, 0) == CommandStatus.ESME_RINVSRCTON


@pytest.mark.parametrize("npi", [2, 5, 7, 11, 15, 19, 255])
def test_bad_source_npi(npi: int) -> None:
    assert status_of(OPEN, "Shop", 5, npi) == CommandStatus.ESME_RINVSRCNPI


def test_registered_senders_only_for_accounts_that_require_them() -> None:
    assert check_sender(STRICT, "MyShop", 5, 0).addr == "MyShop"
    assert check_sender(STRICT, "Bank 24", 0, 0).addr == "Bank 24"
    assert status_of(STRICT, "Other", 5, 0) == CommandStatus.SMSC_RSENDERNOTREG
    assert status_of(STRICT, "myshop", 5, 0) == CommandStatus.SMSC_RSENDERNOTREG  # exact case
    assert status_of(STRICT, "Other", 0, 0) == CommandStatus.SMSC_RSENDERNOTREG
    assert check_sender(OPEN, "Other", 5, 0).addr == "Other"


def test_numeric_senders_need_no_registration() -> None:
    assert check_sender(STRICT, "380671234567", 1, 1).kind == SenderKind.NUMERIC
    assert check_sender(STRICT, "12345", 0, 0).kind == SenderKind.NUMERIC


def test_alphanumeric_digits_with_ton_5_need_registration() -> None:
    assert status_of(STRICT, "12345", 5, 0) == CommandStatus.SMSC_RSENDERNOTREG


def test_bad_sender_is_refused_before_registration() -> None:
    assert status_of(STRICT, "Shop*", 5, 0) == CommandStatus.ESME_RINVSRCADR


def test_empty_sender_takes_the_default() -> None:
    alpha = Account(
        system_id="a", password_hash="", default_sender="Acme", require_registered_sender=True
    )
    source = check_sender(alpha, "", 1, 1)  # ton and npi of an empty address do not matter
    assert source == Source(addr="Acme", ton=5, npi=0, kind=SenderKind.ALPHANUMERIC, defaulted=True)
    numeric = Account(system_id="n", password_hash="", default_sender="380501234567")
    source = check_sender(numeric, "", 5, 0)
    assert (source.addr, source.ton, source.npi, source.kind) == (
        "380501234567",
        1,
        1,
        SenderKind.NUMERIC,
    )


def test_empty_sender_without_default() -> None:
    assert status_of(OPEN, "", 5, 0) == CommandStatus.ESME_RINVSRCADR


def test_bad_default_sender() -> None:
    account = Account(system_id="x", password_hash="", default_sender="Far too long name")
    assert status_of(account, "", 5, 0) == CommandStatus.ESME_RINVSRCADR


def test_memo_reuses_sources_and_notices_account_changes() -> None:
    rules = SenderRules(cache_size=2)
    first = rules.check(STRICT, "MyShop", 5, 0)
    assert rules.check(STRICT, "MyShop", 5, 0) is first
    changed = Account(
        system_id="strict", password_hash="", sender_ids=("Other",), require_registered_sender=True
    )
    with pytest.raises(PduError) as caught:
        rules.check(changed, "MyShop", 5, 0)
    assert caught.value.command_status == CommandStatus.SMSC_RSENDERNOTREG
    for name in ("A1", "A2", "A3"):  # past the bound: the memo starts again, still correct
        assert rules.check(OPEN, name, 5, 0).addr == name
    assert rules.check(STRICT, "MyShop", 5, 0) == first


# --- kinds of sender: short codes, possible international numbers ------------------------------

PLAN = NumberPlan()


@pytest.mark.parametrize(
    ("ton", "addr", "ok"),
    [
        (3, "12", True),
        (3, "7575", True),
        (6, "12345678", True),
        (6, "123456789", False),  # 9 digits is no short code
        (3, "380671234567", False),
        (6, "1", False),
        (2, "0671234567", True),  # national: digits up to 15
        (4, "1234567", True),
    ],
)
def test_short_codes_have_2_to_8_digits(ton: int, addr: str, ok: bool) -> None:
    if ok:
        assert check_sender(OPEN, addr, ton, 0).kind == SenderKind.NUMERIC
    else:
        with pytest.raises(PduError) as caught:
            check_sender(OPEN, addr, ton, 0)
        assert caught.value.command_status == CommandStatus.ESME_RINVSRCADR
        assert "short code" in str(caught.value)


@pytest.mark.parametrize(
    ("addr", "ok"),
    [
        ("380671234567", True),
        ("447700900123", True),  # possible, in no assigned range: a sender may show it
        ("111111111111111", False),  # +1 numbers have 10 digits after the code
        ("999123456", False),  # no country code 999
        ("3806712345", False),  # too short for Ukraine
    ],
)
def test_international_senders_are_possible_numbers(addr: str, ok: bool) -> None:
    rules = SenderRules(numbers=PLAN)
    if ok:
        assert rules.check(OPEN, addr, 1, 1).addr == addr
    else:
        with pytest.raises(PduError) as caught:
            rules.check(OPEN, addr, 1, 1)
        assert caught.value.command_status == CommandStatus.ESME_RINVSRCADR
    assert rules.check(OPEN, addr, 0, 0).kind == SenderKind.NUMERIC  # ton 0: any digits
