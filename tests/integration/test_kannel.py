"""Kannel, the most common open-source SMS gateway, as a customer of smsc.

bearerbox and smsbox (the Debian package ``kannel``) are started by the tests with an SMPP smsc
group at Kannel's defaults (no TON/NPI settings, no msg-id-type), once as a transceiver and
once as a transmitter plus a receiver. A message goes in through smsbox's sendsms interface
with ``dlr-mask=31`` and a dlr-url pointing at a receiver in the test: Kannel must report the
SMSC ack (DLR type 8, smsc's submit_sm_resp) and then the final DLR (type 1, smsc's receipt)
for the same message, which only happens when Kannel correlates smsc's receipt with the id of
the submit_sm_resp. Destinations are written the way Kannel users write them: no ``+``.

Skipped where Kannel is not installed, except on CI (CI=true), where ``.ci/run`` installs it.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration import kannel as kannel_module
from tests.integration.conftest import SmscServer
from tests.integration.kannel import (
    DLR_DELIVERED,
    DLR_SMSC_ACK,
    DLR_SMSC_REJECT,
    Dlr,
    DlrReceiver,
    Kannel,
    KannelConfig,
    running_kannel,
)

pytestmark = pytest.mark.slow

# DELIVRD after 2 s on every account (docs/operators.md#test-numbers), written without "+".
TEST_NUMBER = "61491570006"
UA_NUMBER = "380671234567"  # the test config's operator delivers after 50 ms
LONG_TEXT = ("Kannel splits a text this long into concatenated parts with a UDH. " * 7)[:400]
CYRILLIC_TEXT = "Привіт! Повідомлення українською, щоб перевірити UCS2."

_ids = itertools.count(1)


@pytest.fixture(scope="module")
def dlr_receiver() -> Iterator[DlrReceiver]:
    with DlrReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module", params=["transceiver", "tx+rx"])
def kannel(
    request: pytest.FixtureRequest, smsc: SmscServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Kannel]:
    """Kannel bound to the module's smsc with an account of its own, at Kannel's defaults."""
    login = smsc.add_account()
    config = KannelConfig(
        smsc_port=smsc.port,
        system_id=login.system_id,
        password=login.password,
        transceiver=request.param == "transceiver",
    )
    with running_kannel(config, tmp_path_factory.mktemp("kannel")) as kannel:
        yield kannel


def send(kannel: Kannel, receiver: DlrReceiver, to: str, text: str, **params: str) -> str:
    """sendsms with dlr-mask 31 and a dlr-url of the test's own id; that id."""
    message = f"m{next(_ids)}"
    status, answer = kannel.sendsms(
        to=to,
        text=text,
        **{"from": "Tester", "dlr-mask": "31", "dlr-url": receiver.url(message)},
        **params,
    )
    assert status == 202, f"sendsms: {status} {answer}\n{kannel.logs()}"
    return message


def ack_then_final(kannel: Kannel, receiver: DlrReceiver, message: str) -> tuple[Dlr, Dlr]:
    """Waits for the SMSC's answer (type 8, or 16 at once when smsc refused the submit) and
    then for the final DLR; both about the same smsc message id."""
    receiver.wait_for(
        lambda _: any(d.type in (DLR_SMSC_ACK, DLR_SMSC_REJECT) for d in receiver.of(message)),
        f"the SMSC ack of {message}",
    )
    acks = [d for d in receiver.of(message) if d.type == DLR_SMSC_ACK]
    assert acks, f"smsc refused the submit: {receiver.of(message)}\n{kannel.logs(20)}"
    receiver.wait_for(
        lambda _: any(d.type not in (DLR_SMSC_ACK,) for d in receiver.of(message)),
        f"the final DLR of {message}",
    )
    dlrs = receiver.of(message)
    finals = [d for d in dlrs if d.type != DLR_SMSC_ACK]
    assert [d.type for d in finals] == [DLR_DELIVERED], dlrs
    # No order between the two: smsbox makes each DLR's HTTP call on its own, so with an
    # operator that delivers at once the final one may reach the receiver first.
    final = finals[0]
    assert final.smsc_id in {ack.smsc_id for ack in acks}, dlrs
    assert final.smsc_id and f"id:{final.smsc_id} " in final.reply, final
    assert "stat:DELIVRD" in final.reply, final
    return acks[0], final


def parts_of(smsc: SmscServer, kannel: Kannel) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = json.loads(
        smsc.cli("report", "messages", "--account", kannel.config.system_id, "--json")
    )
    return rows


def test_kannel_binds_at_its_defaults(kannel: Kannel) -> None:
    """The smsc group binds (one transceiver, or a transmitter and a receiver) and stays
    online."""
    lines = [line for line in kannel.status().splitlines() if "SMPP:" in line]
    assert len(lines) == (1 if kannel.config.transceiver else 2), lines
    assert all("(online" in line for line in lines), lines


def test_gsm_text_gets_smsc_ack_then_delivered(
    kannel: Kannel, dlr_receiver: DlrReceiver
) -> None:
    message = send(kannel, dlr_receiver, TEST_NUMBER, "Hello from Kannel")
    ack, final = ack_then_final(kannel, dlr_receiver, message)
    assert ack.reply.startswith("ACK"), ack
    assert final.to == TEST_NUMBER


def test_400_characters_are_split_by_kannel_and_every_part_accepted(
    smsc: SmscServer, kannel: Kannel, dlr_receiver: DlrReceiver
) -> None:
    """Kannel splits 400 GSM characters into three parts with a concatenation UDH; smsc
    accepts and delivers all three as one message, and Kannel reports the ack and the final
    DLR (Kannel 1.4.5 reports one of each for the whole message, under the first part's id)."""
    before = {row["message_id"] for row in parts_of(smsc, kannel)}
    message = send(kannel, dlr_receiver, UA_NUMBER, LONG_TEXT)
    ack_then_final(kannel, dlr_receiver, message)
    # Kannel's final DLR follows the first part's receipt; the other parts' may still be on
    # their way, so their states are read until all three are final (bounded).
    deadline = time.monotonic() + 20
    while True:
        parts = [row for row in parts_of(smsc, kannel) if row["message_id"] not in before]
        waiting = len(parts) < 3 or any(row["status"] == "ENROUTE" for row in parts)
        if not waiting or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert sorted(str(row["part"]) for row in parts) == ["1/3", "2/3", "3/3"], parts
    assert {row["status"] for row in parts} == {"DELIVRD"}, parts


def test_ucs2_text_is_accepted_and_delivered(
    smsc: SmscServer, kannel: Kannel, dlr_receiver: DlrReceiver
) -> None:
    """A Cyrillic text sent with charset UTF-8 and coding 2: Kannel submits it as UCS2 and smsc
    decodes it back to the same text."""
    before = {row["message_id"] for row in parts_of(smsc, kannel)}
    message = send(kannel, dlr_receiver, UA_NUMBER, CYRILLIC_TEXT, charset="UTF-8", coding="2")
    ack_then_final(kannel, dlr_receiver, message)
    parts = [row for row in parts_of(smsc, kannel) if row["message_id"] not in before]
    assert len(parts) == 1, parts
    assert str(parts[0]["text"]) and CYRILLIC_TEXT.startswith(str(parts[0]["text"])), parts


def test_with_international_ton_the_whole_flow_passes(
    smsc: SmscServer, dlr_receiver: DlrReceiver, tmp_path: Path
) -> None:
    """The same flow with ``dest-addr-ton = 1`` and ``dest-addr-npi = 1`` in the smsc group
    (a common Kannel setting): proves the harness and Kannel's DLR correlation with smsc's
    default message ids today, whatever becomes of Kannel's default TON."""
    login = smsc.add_account()
    config = KannelConfig(
        smsc_port=smsc.port,
        system_id=login.system_id,
        password=login.password,
        transceiver=True,
        extra_smsc={"dest-addr-ton": "1", "dest-addr-npi": "1"},
    )
    with running_kannel(config, tmp_path / "kannel") as kannel:
        messages = [
            send(kannel, dlr_receiver, TEST_NUMBER, "Hello from Kannel"),
            send(kannel, dlr_receiver, UA_NUMBER, LONG_TEXT),
            send(kannel, dlr_receiver, UA_NUMBER, CYRILLIC_TEXT, charset="UTF-8", coding="2"),
        ]
        for message in messages:
            ack_then_final(kannel, dlr_receiver, message)
        parts = parts_of(smsc, kannel)
        assert len(parts) == 5, parts
        assert {row["status"] for row in parts} == {"DELIVRD"}, parts
        assert CYRILLIC_TEXT.startswith(str(parts[-1]["text"])), parts


def test_without_kannel_the_module_skips_but_fails_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kannel_module, "kannel_binaries", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install kannel"):
        kannel_module.require_kannel()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        kannel_module.require_kannel()
