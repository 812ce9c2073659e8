"""MO simulation: reply rules and the deliver_sm PDUs of MO messages, long ones with a UDH."""

from __future__ import annotations

import pytest

from smsc.operators.mo import (
    MoMode,
    MoRule,
    MoRules,
    address_type,
    mo_deliver_sms,
    text_of_parts,
)
from smsc.pdu.codec import decode, encode
from smsc.pdu.constants import MessageState
from smsc.pdu.errors import PduError
from smsc.pdu.text import encode_text, split_text
from smsc.pdu.udh import parse_udh
from smsc.store.records import StoredMessage
from tests.operators.factories import T0, message

S = MessageState
HANDSET = "380671234567"
SERVICE = "380509998877"


def keyword_rule(**changes: object) -> MoRule:
    fields: dict[str, object] = {
        "mode": MoMode.KEYWORD,
        "keywords": {"stop": "Unsubscribed.", "help": "Reply STOP to stop."},
        "text": "Unknown command.",
        "delay": 5.0,
    }
    fields.update(changes)
    return MoRule(**fields)  # type: ignore[arg-type]


def reply_text(rules: MoRules, text: str, **changes: str) -> str | None:
    args = {"account": "acme", "handset": HANDSET, "service": SERVICE}
    args.update(changes)
    reply = rules.reply(text=text, now=T0, **args)
    return None if reply is None else reply.text


def test_echo_rule() -> None:
    rules = MoRules([MoRule(mode=MoMode.ECHO, delay=2.0)])
    reply = rules.reply(account="acme", handset=HANDSET, service=SERVICE, text="ping 1", now=T0)
    assert reply is not None
    assert (reply.text, reply.at, reply.handset, reply.service, reply.account) == (
        "ping 1",
        T0 + 2.0,
        HANDSET,
        SERVICE,
        "acme",
    )
    assert reply_text(rules, "") is None


def test_keyword_rule_reads_the_first_word_in_any_case() -> None:
    rules = MoRules([keyword_rule()])
    assert reply_text(rules, "STOP") == "Unsubscribed."
    assert reply_text(rules, "  Stop please") == "Unsubscribed."
    assert reply_text(rules, "help me") == "Reply STOP to stop."
    assert reply_text(rules, "stopping") == "Unknown command."
    assert reply_text(rules, "") == "Unknown command."
    silent = MoRules([keyword_rule(text="")])
    assert reply_text(silent, "what?") is None
    assert reply_text(silent, "STOP") == "Unsubscribed."


def test_fixed_rule() -> None:
    rules = MoRules([MoRule(mode=MoMode.FIXED, text="Thanks!")])
    assert reply_text(rules, "anything at all") == "Thanks!"


def test_most_specific_rule_wins() -> None:
    rules = MoRules(
        [
            MoRule(mode=MoMode.FIXED, text="everyone"),
            MoRule(account="acme", mode=MoMode.FIXED, text="account"),
            MoRule(number=HANDSET, mode=MoMode.FIXED, text="number"),
            MoRule(account="acme", number=HANDSET, mode=MoMode.FIXED, text="account+number"),
        ]
    )
    assert reply_text(rules, "x") == "account+number"
    assert reply_text(rules, "x", account="beta") == "number"
    assert reply_text(rules, "x", handset="380501111111") == "account"
    assert reply_text(rules, "x", account="beta", handset="380501111111") == "everyone"
    assert reply_text(MoRules([]), "x") is None


def test_no_reply_to_an_alphanumeric_sender() -> None:
    rules = MoRules([MoRule(mode=MoMode.ECHO)])
    assert reply_text(rules, "hello", service="ShopName") is None
    assert reply_text(rules, "hello", service="7788") == "hello"


def test_bad_rules_are_refused() -> None:
    with pytest.raises(ValueError):
        MoRule(mode=MoMode.FIXED)
    with pytest.raises(ValueError):
        MoRule(mode=MoMode.KEYWORD)
    with pytest.raises(ValueError):
        MoRule(mode=MoMode.ECHO, delay=-1)
    with pytest.raises(ValueError, match="same scope"):
        MoRules([MoRule(mode=MoMode.ECHO), MoRule(mode=MoMode.ECHO)])


def stored_parts(text: str, states: list[MessageState]) -> list[StoredMessage]:
    segments = split_text(text, reference=42)
    assert len(segments) == len(states)
    return [
        message(
            id=i,
            part_index=seg.index,
            part_total=seg.total,
            esm_class=seg.esm_class,
            data_coding=seg.data_coding,
            short_message=seg.short_message,
            source_addr=SERVICE,
            source_addr_ton=1,
            state=int(state),
            next_at=None,
        )
        for i, (seg, state) in enumerate(zip(segments, states, strict=True), 1)
    ]


def test_reply_to_a_delivered_long_message_echoes_its_whole_text() -> None:
    text = "Ваше замовлення прийнято. " * 4  # UCS2, 104 characters: two parts
    parts = stored_parts(text, [S.DELIVERED, S.DELIVERED])
    assert text_of_parts(list(reversed(parts))) == text
    rules = MoRules([MoRule(mode=MoMode.ECHO, delay=3.0)])
    reply = rules.reply_to_delivered(parts, T0)
    assert reply is not None
    assert (reply.text, reply.at, reply.handset, reply.service) == (text, T0 + 3, HANDSET, SERVICE)
    # Not while a part is missing or failed.
    failed = stored_parts(text, [S.DELIVERED, S.UNDELIVERABLE])
    assert rules.reply_to_delivered(failed, T0) is None
    assert rules.reply_to_delivered([], T0) is None


def test_text_of_parts_tolerates_bad_octets() -> None:
    # A UDH longer than the message, then an odd number of UCS2 octets: read as Latin-1.
    part = message(data_coding=8, short_message=b"\x07AB", esm_class=0x40)
    assert text_of_parts([part]) == "\x07AB"


# --- deliver_sm ----------------------------------------------------------------------------


def test_short_gsm_mo() -> None:
    [pdu] = mo_deliver_sms(
        source_addr=HANDSET, destination_addr="7788", text="Hi {you}", reference=1
    )
    assert (pdu.source_addr, pdu.source_addr_ton, pdu.source_addr_npi) == (HANDSET, 1, 1)
    assert (pdu.destination_addr, pdu.dest_addr_ton, pdu.dest_addr_npi) == ("7788", 0, 1)
    assert (pdu.esm_class, pdu.data_coding) == (0, 0)
    assert pdu.short_message == encode_text("Hi {you}", 0)
    assert decode(encode(pdu)) == pdu


def test_long_gsm_mo_is_split_with_an_8bit_udh() -> None:
    text = "x" * 300 + "€"  # 302 septets: two parts of at most 153
    pdus = mo_deliver_sms(source_addr=HANDSET, destination_addr=SERVICE, text=text, reference=0x1FF)
    assert len(pdus) == 2
    payload = b""
    for index, pdu in enumerate(pdus, 1):
        assert pdu.esm_class == 0x40
        assert pdu.data_coding == 0
        assert pdu.short_message[:6] == bytes((5, 0, 3, 0xFF, 2, index))
        udh, body = parse_udh(pdu.short_message)
        assert udh.concat is not None
        payload += body
    assert payload == encode_text(text, 0)
    assert pdus[1].dest_addr_ton == 1


def test_ucs2_mo_and_part_sizes() -> None:
    text = "Привіт! " * 9  # 72 UCS2 units: two parts of at most 67
    pdus = mo_deliver_sms(source_addr=HANDSET, destination_addr="Shop", text=text, reference=7)
    assert [p.data_coding for p in pdus] == [8, 8]
    assert pdus[0].dest_addr_ton == 5
    assert len(pdus[0].short_message) == 6 + 67 * 2
    single = mo_deliver_sms(
        source_addr=HANDSET, destination_addr="Shop", text=text[:70], reference=7
    )
    assert len(single) == 1 and single[0].esm_class == 0


def test_too_many_parts_is_refused() -> None:
    with pytest.raises(PduError) as caught:
        mo_deliver_sms(
            source_addr=HANDSET, destination_addr=SERVICE, text="y" * 1000, reference=1, max_parts=4
        )
    assert caught.value.command_status == 0x405


def test_address_types() -> None:
    assert address_type("380671234567") == (1, 1)
    assert address_type("12345") == (0, 1)
    assert address_type("MyShop") == (5, 0)
