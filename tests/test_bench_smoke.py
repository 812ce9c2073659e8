"""The benchmark tools work together: ceiling responder and load client over loopback, port 0."""

from __future__ import annotations

import sys

from bench.ceiling import RECEIPT_SOURCE, ReceiptFrames
from bench.load import ReceiptLedger, percentile, read_receipt
from bench.run import (
    LISTENING,
    REPO_ROOT,
    BenchOptions,
    ChildProcess,
    Scenario,
    Target,
    receipts_ok,
    run_load,
    start_ceiling,
)
from smsc.pdu import Tag, Tlvs, decode, encode
from smsc.pdu.pdus import DeliverSm
from smsc.pdu.receipt_text import ReceiptText

OPTIONS = BenchOptions(count=200, max_seconds=20.0, receipt_timeout=10.0, startup_timeout=20.0)


def test_every_message_is_acked_and_every_receipt_arrives_once():
    scenario = Scenario(binds=1, window=10, receipts=True)
    with start_ceiling(scenario.receipts, OPTIONS) as ceiling:
        result = run_load(ceiling, scenario, OPTIONS)
    assert result["fatal"] == ""
    assert result["sent"] == result["acked_ok"] == 200
    assert result["errors"] == {}
    assert result["receipts_expected"] == result["receipts_received"] == 200
    assert result["receipts_duplicates"] == result["receipts_missing"] == 0
    assert result["receipts_unknown"] == result["receipts_mismatched"] == 0
    assert result["receipt_stats"] == {"DELIVRD": 200}
    assert not result["timed_out"] and not result["receipts_timed_out"]
    assert receipts_ok(result)


def test_several_binds_without_receipts_and_the_ceiling_stops_cleanly_on_sigterm():
    scenario = Scenario(binds=4, window=1, receipts=False)
    options = BenchOptions(count=40, max_seconds=20.0, receipt_timeout=5.0, startup_timeout=20.0)
    child = ChildProcess(
        [sys.executable, "-m", "bench.ceiling", "--port", "0"], cwd=REPO_ROOT, name="ceiling"
    )
    try:
        found = child.wait_for([LISTENING], options.startup_timeout)
        assert found is not None
        target = Target(
            name="ceiling",
            host=found[0]["host"],
            port=int(found[0]["port"]),
            system_id="bench",
            password="bench",
            child=child,
        )
        result = run_load(target, scenario, options)
    finally:
        code = child.stop(10.0)
        child.close()
    assert code == 0
    assert result["fatal"] == ""
    assert result["sent"] == result["acked_ok"] == 40
    assert result["receipts_expected"] == result["receipts_received"] == 0
    assert result["receipts_unknown"] == result["other_deliver_sm"] == 0


def test_the_ceiling_receipt_is_a_standard_receipt():
    frame = ReceiptFrames().frame(b"4711", 9)
    pdu = decode(frame)
    assert isinstance(pdu, DeliverSm)
    assert pdu.sequence_number == 9
    assert pdu.esm_class == 0x04
    assert pdu.source_addr == RECEIPT_SOURCE
    assert pdu.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) == "4711"
    receipt = ReceiptText.parse(pdu.short_message)
    assert receipt.message_id == "4711"
    assert receipt.stat == "DELIVRD"
    assert read_receipt(frame) == (b"4711", b"4711", b"DELIVRD")


def test_read_receipt_reads_what_the_codec_writes():
    text = (
        b"id:ab12 sub:001 dlvrd:000 submit date:2401020304 done date:2401020305"
        b" stat:UNDELIV err:001"
    )
    receipt = DeliverSm(
        sequence_number=3,
        service_type="CMT",
        source_addr="380501234567",
        destination_addr="Sender",
        esm_class=0x04,
        schedule_delivery_time="",
        validity_period="",
        short_message=text,
        tlvs=Tlvs.of([(Tag.MESSAGE_STATE, 5), (Tag.RECEIPTED_MESSAGE_ID, "ab12")]),
    )
    assert read_receipt(encode(receipt)) == (b"ab12", b"ab12", b"UNDELIV")
    in_payload = receipt.replace(short_message=b"", tlvs=Tlvs.of([(Tag.MESSAGE_PAYLOAD, text)]))
    assert read_receipt(encode(in_payload)) == (b"", b"ab12", b"UNDELIV")
    assert read_receipt(encode(receipt.replace(esm_class=0))) is None


def test_ledger_matches_receipts_in_any_order():
    ledger = ReceiptLedger(limit=2)
    ledger.receipt(b"2", b"DELIVRD")  # before its submit_sm_resp
    assert ledger.message_acked(b"1")
    assert ledger.message_acked(b"2")
    assert not ledger.message_acked(b"2")
    ledger.receipt(b"1", b"DELIVRD")
    ledger.receipt(b"1", b"DELIVRD")
    for unknown in (b"x", b"y", b"z"):
        ledger.receipt(unknown, b"EXPIRED")
    assert ledger.received == 2
    assert ledger.duplicates == 1
    assert ledger.unknown == 3
    assert ledger.stats == {b"DELIVRD": 3, b"EXPIRED": 3}
    assert len(ledger.seen) == 4  # two matched ids and two held unknown ones (limit 2)


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([], 0.5) == 0.0
