"""``smsc report``: every part with its route, price, states and receipt; summaries; CSV."""

from __future__ import annotations

import csv
import dataclasses
import io
import time
from pathlib import Path

import pytest

from smsc.pdu.constants import MessageState
from smsc.store.records import MessageChange, NewMessage, OutboxItem, OutboxKind
from tests.cli.conftest import Cli

HOUR = 3600.0


def part(
    message_id: int,
    *,
    account: str,
    operator: str,
    route: str,
    at: float,
    index: int = 1,
    total: int = 1,
    rd: int = 1,
    price: int = 3,
) -> NewMessage:
    return NewMessage(
        message_id=message_id,
        account=account,
        credit_owner=account,
        source_addr_ton=5,
        source_addr_npi=0,
        source_addr="ACME",
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr="380671234567",
        esm_class=0,
        data_coding=0,
        registered_delivery=rd,
        short_message=b"hello",
        part_total=total,
        part_index=index,
        operator=operator,
        route=route,
        price=price,
        submitted_at=at,
        expires_at=at + 24 * HOUR,
        next_at=at + 1,
        text_snippet="hello",
    )


@pytest.fixture
def traffic(cli: Cli) -> Cli:
    """acme: message 1 (two parts, delivered), 2 (undeliverable, receipt waiting), 3 (enroute,
    a day ago); bob: message 4 (delivered, no receipt asked)."""
    cli("account", "add", "acme", "--password", "p", "--credit", "10")
    cli("account", "add", "bob", "--password", "p", "--credit", "10")
    store = cli.store()
    now = time.time()
    store.accept(
        [
            part(1, account="acme", operator="kyivstar", route="kyivstar", at=now - 60, total=2),
            part(
                1,
                account="acme",
                operator="kyivstar",
                route="kyivstar",
                at=now - 60,
                index=2,
                total=2,
            ),
            part(2, account="acme", operator="lifecell", route="lifecell", at=now - 50),
            part(3, account="acme", operator="lifecell", route="lifecell", at=now - 24 * HOUR),
            part(4, account="bob", operator="kyivstar", route="kyivstar", at=now - 40, rd=0),
        ],
        now - 60,
    )
    ids = {(m.message_id, m.part_index): m.id for n in (1, 2, 3, 4) for m in store.get_messages(n)}
    done = now - 30
    changes = [
        MessageChange(
            id=ids[1, 1], state=MessageState.DELIVERED, next_at=None, attempts=1, done_at=done
        ),
        MessageChange(
            id=ids[1, 2], state=MessageState.DELIVERED, next_at=None, attempts=1, done_at=done
        ),
        MessageChange(
            id=ids[2, 1],
            state=MessageState.UNDELIVERABLE,
            next_at=None,
            attempts=1,
            done_at=done,
            error_code=1,
        ),
        MessageChange(
            id=ids[4, 1], state=MessageState.DELIVERED, next_at=None, attempts=1, done_at=done
        ),
    ]
    store.apply(
        changes,
        [
            OutboxItem(
                account="acme",
                kind=OutboxKind.RECEIPT,
                pdu=b"x",
                created_at=done,
                expires_at=done + HOUR,
                message_id=2,
            )
        ],
        done,
    )
    return cli


def test_messages_show_each_part(traffic: Cli) -> None:
    rows = traffic.json("report", "messages")
    assert [(r["message_id"], r["part"]) for r in rows] == [
        ("00000001", "1/2"),
        ("00000001", "2/2"),
        ("00000002", "1/1"),
        ("00000003", "1/1"),
        ("00000004", "1/1"),
    ]
    first = rows[0]
    assert (first["route"], first["operator"], first["price"], first["charged"]) == (
        "kyivstar",
        "kyivstar",
        "0.03",
        "0.03",
    )
    assert first["status"] == "DELIVRD" and first["done_at"].endswith("Z")
    assert first["receipt"] == "sent"
    assert rows[2]["status"] == "UNDELIV" and rows[2]["err"] == 1
    assert rows[2]["receipt"] == "waiting"
    assert rows[3]["status"] == "ENROUTE" and rows[3]["receipt"] == "pending"
    assert rows[4]["receipt"] == "not requested"
    text = traffic("report", "messages")
    assert "MESSAGE" in text and "kyivstar" in text and "waiting" in text


def test_message_filters(traffic: Cli) -> None:
    def ids(*args: str) -> list[str]:
        return [r["message_id"] for r in traffic.json("report", "messages", *args)]

    assert ids("--account", "bob") == ["00000004"]
    assert ids("--status", "UNDELIV") == ["00000002"]
    assert ids("--status", "enroute") == ["00000003"]
    assert ids("--operator", "lifecell") == ["00000002", "00000003"]
    assert ids("--since", "2h") == ["00000001", "00000001", "00000002", "00000004"]
    assert ids("--until", "2h") == ["00000003"]
    assert ids("--message-id", "00000002") == ["00000002"]
    assert ids("--limit", "1") == ["00000001"]
    assert ids("--account", "nobody") == []
    assert "no messages match" in traffic("report", "messages", "--account", "nobody")


def test_messages_csv(traffic: Cli, tmp_path: Path) -> None:
    target = tmp_path / "parts.csv"
    assert "5 parts written" in traffic("report", "messages", "--csv", str(target))
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert len(rows) == 5 and rows[2]["receipt"] == "waiting"
    assert rows[0]["submitted_at"] and rows[0]["expires_at"]
    piped = traffic("report", "messages", "--account", "bob", "--csv", "-")
    assert len(list(csv.reader(io.StringIO(piped)))) == 2


def test_summaries(traffic: Cli, tmp_path: Path) -> None:
    by_account = traffic.json("report", "summary")
    assert by_account[0] == {
        "account": "acme",
        "currency": "EUR",
        "messages": 3,
        "parts": 4,
        "charged": "0.12",
        "refunded": "0.00",
        "states": {"ENROUTE": 1, "DELIVRD": 2, "UNDELIV": 1},
    }
    rows = traffic.json("report", "summary", "--by", "operator,status")
    assert {(r["operator"], r["status"], r["parts"]) for r in rows} == {
        ("kyivstar", "DELIVRD", 3),
        ("lifecell", "UNDELIV", 1),
        ("lifecell", "ENROUTE", 1),
    }
    rows = traffic.json("report", "summary", "--by", "route", "--since", "2h")
    assert {(r["route"], r["parts"]) for r in rows} == {("kyivstar", 3), ("lifecell", 1)}
    text = traffic("report", "summary", "--by", "status")
    assert "DELIVRD" in text and "MESSAGES" in text
    target = tmp_path / "sum.csv"
    traffic("report", "summary", "--by", "account", "--csv", str(target))
    head, *body = list(csv.reader(io.StringIO(target.read_text())))
    assert head[:5] == ["account", "messages", "parts", "charged", "refunded"]
    assert [r[0] for r in body] == ["acme", "bob"]


def test_money_is_never_added_across_currencies(traffic: Cli) -> None:
    """A UAH account's parts next to EUR ones: every money column names its currency, groups
    and totals are per currency."""
    traffic("account", "add", "hryvnia", "--password", "p", "--currency", "UAH", "--credit", "50")
    now = time.time()
    traffic.store().accept(
        [part(5, account="hryvnia", operator="kyivstar", route="kyivstar", at=now, price=120)],
        now,
    )
    rows = traffic.json("report", "summary", "--by", "operator")
    kyivstar = {r["currency"]: r for r in rows if r["operator"] == "kyivstar"}
    assert kyivstar["EUR"]["charged"] == "0.09" and kyivstar["UAH"]["charged"] == "1.20"
    assert (kyivstar["EUR"]["parts"], kyivstar["UAH"]["parts"]) == (3, 1)
    text = traffic("report", "summary", "--by", "operator")
    assert "0.09 EUR" in text and "1.20 UAH" in text
    assert "total EUR: 4 messages, 5 parts, charged 0.15 EUR" in text
    assert "total UAH: 1 messages, 1 parts, charged 1.20 UAH" in text
    assert "1.29" not in text and "1.35" not in text
    head, *body = list(csv.reader(io.StringIO(traffic("report", "summary", "--csv", "-"))))
    assert head[5] == "currency" and body[2][:6] == ["hryvnia", "1", "1", "1.20", "0.00", "UAH"]
    listed = traffic("report", "messages", "--account", "hryvnia")
    assert "1.20 UAH" in listed


def test_bad_report_options(traffic: Cli) -> None:
    traffic.fails("report", "messages", "--status", "GREAT", code=2, says="is not a status")
    traffic.fails("report", "messages", "--since", "last week", code=2, says="duration ago")
    traffic.fails(
        "report", "messages", "--since", "1h", "--until", "2h", code=2, says="after --since"
    )
    traffic.fails("report", "messages", "--message-id", "xyz", code=2, says="not a message id")
    traffic.fails("report", "summary", "--by", "colour", code=2, says="group by")
    traffic.fails("report", "messages", "--limit", "0", code=2)


def test_a_receipt_waiting_for_its_webhook_is_waiting(traffic: Cli) -> None:
    store = traffic.store()
    (item,) = store.outbox_for("acme", 0, 10, time.time())
    store.ack_outbox([item.id])
    assert traffic.json("report", "messages")[2]["receipt"] == "sent"
    store.add_outbox([dataclasses.replace(item, id=0, hook_url="https://shop.example/h",
                                          hook_style=1)])
    assert traffic.json("report", "messages")[2]["receipt"] == "waiting"
