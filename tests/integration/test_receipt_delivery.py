"""How receipts reach customers: kept until a receiver binds, round robin over receivers, kept
until a deliver_sm_resp with ESME_ROK (retried after a temporary refusal or a lost connection),
dropped after a permanent refusal; and the per-bind window.

Receipts are told apart by their receipted_message_id TLV. The module's operator delivers after
50 ms; the server retries a receipt 1 s after its first failure (receipt_retry_min's default).
"""

from __future__ import annotations

import json
import time
from collections import Counter

from smsc.pdu import CommandStatus, Tag, encode, pdus
from tests.integration.conftest import (
    HOST,
    UA_NUMBERS,
    CodecEsme,
    Login,
    RawConnection,
    SmscServer,
    accepted,
    bound_esme,
    check_receipt,
    submit,
)

S = CommandStatus
RETRY_TIMEOUT = 10.0


def receipted(esme: CodecEsme) -> Counter[str]:
    return Counter(r.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) or "" for r in esme.receipts())


def submit_some(port: int, login: Login, count: int) -> list[str]:
    with bound_esme(port, "tx", login) as esme:
        return [
            accepted(esme.request(submit(UA_NUMBERS[n % 5], f"number {n}".encode())))
            for n in range(count)
        ]


def test_receipts_wait_for_a_receiver_that_binds_later(smsc: SmscServer, login: Login) -> None:
    ids = submit_some(smsc.port, login, 5)
    time.sleep(0.5)  # delivered meanwhile: the receipts wait in the store
    with bound_esme(smsc.port, "rx", login) as receiver:
        receiver.wait_receipts(5)
        receiver.listen(0.3)
    assert receipted(receiver) == Counter(ids)
    for receipt in receiver.receipts():
        check_receipt(receipt, receipt.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) or "")


def test_receipts_are_shared_round_robin_by_the_receivers(smsc: SmscServer, login: Login) -> None:
    with (
        bound_esme(smsc.port, "rx", login) as first,
        bound_esme(smsc.port, "trx", login) as second,
    ):
        ids = submit_some(smsc.port, login, 20)

        def total() -> int:
            return len(first.receipts()) + len(second.receipts())

        deadline = time.monotonic() + 10.0
        for _ in range(10_000):
            if total() >= 20 or time.monotonic() > deadline:
                break
            first.pump(0.05)
            second.pump(0.05)
        first.listen(0.3)
        second.listen(0.3)
    assert receipted(first) + receipted(second) == Counter(ids)
    assert first.receipts() and second.receipts()


def test_a_temporarily_refused_receipt_comes_again(smsc: SmscServer, login: Login) -> None:
    with bound_esme(smsc.port, "rx", login) as receiver:
        refused: list[str] = []

        def answer(pdu: pdus.DeliverSm) -> int:
            message_id = pdu.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) or ""
            if message_id in refused:
                return 0
            refused.append(message_id)
            return S.ESME_RX_T_APPN

        receiver.deliver_status = answer
        (message_id,) = submit_some(smsc.port, login, 1)
        receiver.wait_receipts(2, RETRY_TIMEOUT)  # refused, then again after the backoff
        receiver.listen(1.5)  # answered with ESME_ROK: it does not come a third time
    assert refused == [message_id]
    assert receipted(receiver) == Counter({message_id: 2})


def test_a_permanently_refused_receipt_is_dropped(smsc: SmscServer, login: Login) -> None:
    with bound_esme(smsc.port, "rx", login) as receiver:
        receiver.deliver_status = lambda _: S.ESME_RX_P_APPN
        (message_id,) = submit_some(smsc.port, login, 1)
        receiver.wait_receipts(1)
        receiver.listen(2.5)  # past the first retry time: not tried again
    assert receipted(receiver) == Counter({message_id: 1})
    with bound_esme(smsc.port, "rx", login) as later:
        later.listen(1.5)  # nor kept for the next bind
    assert later.receipts() == []


def test_a_receipt_left_unanswered_goes_to_the_next_receiver(
    smsc: SmscServer, login: Login
) -> None:
    with bound_esme(smsc.port, "rx", login) as silent:
        silent.deliver_status = lambda _: None  # reads it, never answers, then goes away
        (message_id,) = submit_some(smsc.port, login, 1)
        silent.wait_receipts(1)
    with bound_esme(smsc.port, "rx", login) as receiver:
        receiver.wait_receipts(1, RETRY_TIMEOUT)
        receiver.listen(1.5)
    assert receipted(receiver) == Counter({message_id: 1})
    check_receipt(receiver.receipts()[0], message_id)


def test_requests_past_the_window_are_throttled_and_every_one_is_answered(
    smsc: SmscServer, login: Login
) -> None:
    raw = RawConnection(smsc.port)
    try:
        raw.send(
            encode(
                pdus.BindTransmitter(
                    sequence_number=1, system_id=login.system_id, password=login.password
                )
            )
        )
        assert raw.read() is not None
        # 200 submits in one write: the server reads them before any commit can answer one.
        raw.send(
            b"".join(
                encode(submit(text=b"burst", registered_delivery=0).replace(sequence_number=n))
                for n in range(2, 202)
            )
        )
        answers = [raw.read() for _ in range(200)]
    finally:
        raw.close()
    assert all(type(a) is pdus.SubmitSmResp for a in answers)
    assert sorted(a.sequence_number for a in answers if a is not None) == list(range(2, 202))
    statuses = Counter(a.command_status for a in answers if a is not None)
    assert set(statuses) == {S.ESME_ROK, S.ESME_RTHROTTLED}
    assert statuses[S.ESME_ROK] >= 64  # the window (server.window's default)


def test_smsc_send_leaves_other_receipts_for_the_account_s_own_client(
    smsc: SmscServer, login: Login
) -> None:
    """`smsc send` binds as a receiver too: a receipt waiting for the integrator's own client
    is answered with ESME_RX_T_APPN and comes to that client later; its own message goes out
    from the account's default sender."""
    smsc.cli("account", "set", login.system_id, "--default-sender", "AcmeShop")
    (theirs,) = submit_some(smsc.port, login, 1)
    time.sleep(0.5)  # delivered meanwhile: the receipt waits in the store for a receiver
    out = smsc.cli("send", UA_NUMBERS[1], "from the CLI", "--host", HOST, "--port",
                   str(smsc.port), "--system-id", login.system_id, "--password", login.password,
                   "--timeout", "5", "--json")
    life = json.loads(out)
    ours = life["submits"][0]["message_id"]
    assert [d["id"] for d in life["deliveries"]] == [ours]
    assert life["deliveries"][0]["to"] == "AcmeShop"  # the receipt goes back to the sender
    with bound_esme(smsc.port, "rx", login) as receiver:
        receiver.wait_receipts(1, RETRY_TIMEOUT)
        receiver.listen(0.3)
    assert receipted(receiver) == Counter({theirs: 1})
