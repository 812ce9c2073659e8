"""smsc.http.kannel without a server: sendsms parameters read as smsbox reads them (a GET's,
a form's, X-Kannel-* headers with a body), smsbox's refusals, the submit_sm of each receiver
(coding, charset, UDH, class, times, the receipts a dlr-mask asks for) and the answers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsc.core import dlr_url
from smsc.core.batch import Batch, BatchAnswer, BatchItem
from smsc.core.submit import Answer
from smsc.http import kannel
from smsc.http.kannel import KannelRefusal, SendsmsRequest, read_request
from smsc.pdu.constants import CommandStatus, Tag
from smsc.pdu.pdus import SubmitSm
from smsc.store.records import HookStyle

S = CommandStatus
URL = "http://app.example/dlr?type=%d"


def _get(**params: str | bytes) -> SendsmsRequest:
    args = {k: [v if isinstance(v, bytes) else v.encode()] for k, v in params.items()}
    return read_request(args, body=None, content_type="", headers={})


def _refused(**params: str | bytes) -> str:
    with pytest.raises(KannelRefusal) as e:
        request = _get(**params)
        kannel.submits(request.form, kannel.receivers_or_refusal(request))
        kannel.hook_of(request.form)
    return e.value.reply.body.decode()


def _one(**params: str | bytes) -> SubmitSm:
    request = _get(**{"to": "380671234567", **params})
    ((_, pdu),) = kannel.submits(request.form, kannel.receivers_or_refusal(request))
    return pdu


def test_a_get_is_read_as_smsbox_reads_it() -> None:
    args = {"user": [b"acme"], "pass": [b"pw"], "to": [b"380671 380672", b"ignored"],
            "dlrmask": [b"31abc"], "pid": [b"abc"], "text": [b"hi"]}
    form = read_request(args, body=None, content_type="", headers={}).form
    assert (form.username, form.password, form.to) == ("acme", "pw", "380671 380672")
    assert form.dlr_mask == 31 and form.pid is None  # sscanf("%d"): the leading number
    assert form.text == b"hi"


def test_a_form_post_is_read_from_its_parsed_form() -> None:
    for kind in ("application/x-www-form-urlencoded", "multipart/form-data; boundary=b"):
        form = read_request({"to": [b"380671"], "text": [b"hi"]}, body=b"...",
                            content_type=kind, headers={"x-kannel-to": "no"}).form
        assert (form.to, form.text) == ("380671", b"hi")


@given(st.integers(-1, 66))
def test_every_dlr_mask_in_smsbox_range_is_read(mask: int) -> None:
    assert _get(**{"dlr-mask": f" {mask}xyz"}).form.dlr_mask == mask


@pytest.mark.parametrize(("params", "text"), [
    ({"coding": "3"}, "Coding field misformed, rejected"),
    ({"dlr-mask": "67"}, "DLR-Mask field misformed, rejected"),
    ({"mclass": "4"}, "MClass field misformed, rejected"),
    ({"pid": "256"}, "PID field misformed, rejected"),
    ({"validity": "-2"}, "Validity field misformed, rejected"),
    ({"deferred": "-2"}, "Deferred field misformed, rejected"),
    ({"priority": "4"}, "Priority field misformed, rejected"),
    ({"dlr-url": "ftp://x/", "dlr-mask": "3"}, "DLR-URL field misformed, rejected"),
    ({"udh": b"\x05\x00\x03"}, "UDH field misformed, rejected"),
    ({"coding": "2", "text": b"\x00"}, "Charset or body misformed, rejected"),
    ({"charset": "no-such-charset"}, "Charset or body misformed, rejected"),
    ({"charset": "base64", "text": b"aGk="}, "Charset or body misformed, rejected"),
])
def test_values_out_of_smsbox_range_get_its_words(params: dict[str, str], text: str) -> None:
    assert _refused(to="380671234567", **params) == text


def test_missing_and_empty_receivers() -> None:
    assert _refused() == "Missing receiver number, rejected"
    assert _refused(to="  ") == "Empty receiver number not allowed, rejected"
    posted = read_request({}, body=b"hi", content_type="text/plain", headers={})
    with pytest.raises(KannelRefusal) as e:
        kannel.receivers_or_refusal(posted)
    assert e.value.reply.body == b"Missing receiver(s) number(s), rejected"
    # '+' separates receivers as a space does; each is sent once
    assert kannel.receivers_or_refusal(_get(to="1+2 1  3")) == ["1", "2", "3"]


def test_a_post_with_a_body_reads_x_kannel_headers() -> None:
    headers = {"x-kannel-username": "acme", "x-kannel-to": " 380671 ", "x-kannel-udh":
               "050003010201", "x-kannel-dlr-mask": "3", "x-kannel-dlr-url": URL,
               "x-other": "no"}
    form = read_request({"to": [b"ignored"]}, body=b"\x01\x02",
                        content_type="application/octet-stream", headers=headers).form
    assert (form.username, form.to, form.dlr_mask, form.dlr_url) == ("acme", "380671", 3, URL)
    assert form.udh == bytes.fromhex("050003010201") and form.text == b"\x01\x02"
    assert form.coding == 1  # octet-stream: 8-bit
    plain = read_request({}, body="Привіт".encode("koi8-u"),
                         content_type='text/plain; charset="koi8-u"', headers={}).form
    assert (plain.coding, plain.charset) == (0, "koi8-u")
    for kind, status in (("text/html", 415), ("image/png", 400)):
        with pytest.raises(KannelRefusal) as e:
            read_request({}, body=b"x", content_type=kind, headers={})
        assert e.value.reply.status == status


def test_the_text_is_coded_as_smsbox_codes_it() -> None:
    gsm = _one(text="Hi Привіт".encode(), coding="0")
    assert (gsm.data_coding, gsm.short_message) == (0, b"Hi ??????")  # not GSM: '?'
    assert _one(text="Привіт".encode()).data_coding == 8  # not given: UCS2 when needed
    assert _one(text=b"Hello").data_coding == 0
    ucs2 = _one(text="Привіт".encode("cp1251"), coding="2", charset="cp1251")
    assert ucs2.short_message == "Привіт".encode("utf-16-be")
    raw = _one(text="Ж".encode("utf-16-be"), coding="2")
    assert (raw.data_coding, raw.short_message) == (8, "Ж".encode("utf-16-be"))
    binary = _one(text=b"\xff\x00", coding="1", mclass="1")
    assert (binary.data_coding, binary.short_message) == (0xF5, b"\xff\x00")
    assert _one(text=b"x", mclass="0").data_coding == 0xF0
    udh = bytes.fromhex("050003010201")
    with_udh = _one(text=b"part", udh=udh)
    assert with_udh.esm_class == 0x40 and with_udh.short_message == udh + b"part"
    assert with_udh.data_coding == 4  # a UDH without a coding: 8-bit, as smsbox
    long = _one(text=b"x" * 300)
    assert long.short_message == b"" and long.tlvs.raw(Tag.MESSAGE_PAYLOAD) == b"x" * 300


def test_sender_times_and_flags() -> None:
    pdu = _one(**{"from": "+380501"}, validity="90", deferred="5", pid="65", priority="2",
               rpi="1")
    assert (pdu.source_addr, pdu.source_addr_ton, pdu.source_addr_npi) == ("380501", 1, 1)
    assert pdu.validity_period == "000000013000000R"  # 90 minutes, relative
    assert pdu.schedule_delivery_time == "000000000500000R"
    assert (pdu.protocol_id, pdu.priority_flag, pdu.esm_class) == (65, 2, 0x80)
    assert (_one(**{"from": "Shop"}).source_addr_ton, _one(**{"from": "123"}).source_addr_ton
            ) == (5, 0)


@pytest.mark.parametrize(("mask", "url", "registered"), [
    ("3", URL, 1), ("1", URL, 3), ("2", URL, 2), ("31", URL, 0x11), ("8", URL, 0),
    ("3", "", 0), ("", URL, 0), ("-1", URL, 0)])
def test_the_receipts_asked_for_are_the_masks(mask: str, url: str, registered: int) -> None:
    params = {"dlr-mask": mask, "dlr-url": url}
    request = _get(to="380671", **{k: v for k, v in params.items() if v})
    ((_, pdu),) = kannel.submits(request.form, ["380671"])
    assert pdu.registered_delivery == registered
    hook = kannel.hook_of(request.form)
    if url:
        assert hook is not None and hook.style == HookStyle.KANNEL
        assert dlr_url.split_hook(hook.url) == (kannel.dlr_mask(request.form), URL)
    else:
        assert hook is None


def _answered(*statuses: int) -> list[BatchAnswer]:
    return [BatchAnswer(item=BatchItem(to=f"38067{n}", status=s, detail="why"),
                        answer=Answer(status=s, cause=s, message_id="" if s else f"{n:08x}"))
            for n, s in enumerate(statuses)]


def test_the_answers_are_smsbox_words() -> None:
    batch = Batch(items=(), duplicates=0, parts=(), groups=0, retry_after=2.5)
    ok = kannel.answer(batch, _answered(0, 0))
    assert (ok.status, ok.body, ok.content_type) == (202, b"0: Accepted for delivery",
                                                     "text/html")
    some = kannel.answer(batch, _answered(0, S.SMSC_RBLACKLISTED))
    assert (some.status, some.body) == (202, b"0: Accepted for delivery")
    assert dict(some.headers) == {"X-Smsc-Denied-Receivers": "380671 (blacklisted)"}
    one = kannel.answer(batch, _answered(S.SMSC_RNOCREDIT))
    assert (one.status, one.body) == (402, b"Sending failed. no_credit: why")
    many = kannel.answer(batch, _answered(S.ESME_RTHROTTLED, S.ESME_RTHROTTLED))
    assert many.status == 429 and dict(many.headers) == {"Retry-After": "3"}
    assert many.body == (b"Sending failed. Failed receivers are: 380670 (throttled) "
                         b"380671 (throttled)")
    no_sender = kannel.answer(batch, _answered(S.ESME_RINVSRCADR), sender_given=False)
    assert (no_sender.status, no_sender.body) == (
        400, b"Sender missing and no global set, rejected")
