"""smsc.http.kannel_xml and the text/xml POST of smsc.http.kannel without a server: smsbox's
XML document read as smsbox 1.4.5 reads it (element names, several receivers, URL-decoded or
hexadecimal text and UDH, XPath numbers, the declared charset), its refusals in smsbox's
words, and the parser's safety (no DTD, no entities, bounded nesting)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsc.http import kannel
from smsc.http.kannel import KannelRefusal, SendsmsRequest, read_request
from smsc.http.kannel_xml import INT_MIN, MAX_DEPTH, read_xml, url_decode, xpath_int

AUTH = "<from><username>acme</username><password>pw</password></from>"


def _xml(inner: str, *, declaration: str = "") -> bytes:
    return f"{declaration}<message><submit>{AUTH}{inner}</submit></message>".encode()


def _posted(body: bytes) -> SendsmsRequest:
    return read_request({"to": [b"ignored"]}, body=body, content_type="text/xml; charset=x",
                        headers={"x-kannel-to": "ignored too"})


def _refusal(body: bytes) -> tuple[int, str]:
    with pytest.raises(KannelRefusal) as e:
        request = _posted(body)
        kannel.submits(request.form, kannel.receivers_or_refusal(request))
    return e.value.reply.status, e.value.reply.body.decode()


def test_every_field_smsbox_reads_is_read() -> None:
    body = _xml(
        "<da><number> 380671 </number><number>380672</number></da><da><number>380673"
        "</number></da><oa><number> Shop </number></oa><ud>Hello%20there+you%21</ud>"
        "<udh>050003010201</udh><pid>64</pid><rpi>1</rpi><priority>2</priority>"
        "<dcs><coding>1</coding><mclass>1</mclass><mwi>2</mwi><compress>0</compress>"
        "<alt-dcs>1</alt-dcs></dcs><statusrequest><dlr-mask>31</dlr-mask>"
        "<dlr-url>http://app.example/dlr?a=1&amp;t=%d</dlr-url></statusrequest>"
        "<vp><delay>60</delay></vp><timing><delay>5</delay></timing>"
        "<to>smsc-id</to><meta-data>?smpp?x=1</meta-data>",
        declaration='<?xml version="1.0" encoding="ISO-8859-1"?>')
    request = _posted(body)
    form = request.form
    assert kannel.receivers_or_refusal(request) == ["380671", "380672", "380673"]
    assert (form.username, form.password, form.sender) == ("acme", "pw", "Shop")
    assert form.to is None  # neither the query's nor X-Kannel-To: smsbox reads only the XML
    assert form.text == b"Hello there you!" and form.udh == bytes.fromhex("050003010201")
    assert (form.pid, form.rpi, form.priority, form.coding, form.mclass, form.mwi) == (
        64, 1, 2, 1, 1, 2)
    assert (form.dlr_mask, form.dlr_url) == (31, "http://app.example/dlr?a=1&t=%d")
    assert (form.validity, form.deferred, form.charset) == (60, 5, "ISO-8859-1")
    assert request.posted


def test_the_short_login_names_and_their_precedence() -> None:
    short = read_xml(b"<message><submit><from><user>u</user><pass>p</pass></from>"
                     b"</submit></message>").fields
    assert (short["username"], short["password"]) == ("u", "p")
    both = read_xml(b"<message><submit><from><username>long</username><user>u</user>"
                    b"<password>pw</password><pass>p</pass></from></submit></message>").fields
    assert (both["username"], both["password"]) == ("long", "pw")
    outside = read_xml(b"<message><submit><username>u</username></submit></message>").fields
    assert "username" not in outside


def test_the_text_is_url_decoded_or_hexadecimal_and_coded_as_a_plain_post() -> None:
    form = _posted(_xml("<ud>caf%C3%A9</ud>")).form
    assert form.text == "café".encode() and form.coding == 0 and form.charset == "UTF-8"
    binary = _posted(_xml('<ud type="Binary">00410</ud><dcs><coding>1</coding></dcs>')).form
    assert binary.text == b"\x00A" and binary.coding == 1  # an odd last digit is dropped
    assert _posted(_xml('<ud type="binary">zz</ud>')).form.text == b"zz"  # not hex: as is
    assert _posted(_xml("<udh>%05%00%03%01%02%01</udh>")).form.udh == bytes.fromhex("050003010201")
    assert _posted(_xml("<ud>  </ud>")).form.text == b""
    assert _posted(_xml("")).form.text == b""


def test_numbers_are_read_as_xpath_then_c_reads_them() -> None:
    assert [xpath_int(v) for v in ("7", " 7 ", "1.9", "-1.9", "-0", ".5", "2.")] == [
        7, 7, 1, -1, 0, 0, 2]
    assert {xpath_int(v) for v in ("", "abc", "+5", "1e3", "5x", "9" * 12)} == {INT_MIN}
    for inner, words in (("<dcs><coding>abc</coding></dcs>", "Coding field misformed"),
                         ("<dcs><coding>3</coding></dcs>", "Coding field misformed"),
                         ("<pid></pid>", "PID field misformed"),
                         ("<priority>9</priority>", "Priority field misformed"),
                         ("<vp><delay>-5</delay></vp>", "Validity field misformed"),
                         ("<udh>0500</udh>", "UDH field misformed")):
        status, text = _refusal(_xml(f"<da><number>1</number></da>{inner}<ud>x</ud>"))
        assert (status, text) == (400, f"{words}, rejected")


def test_receivers_missing_or_blank() -> None:
    assert _refusal(_xml("<ud>x</ud>")) == (400, "Missing receiver(s) number(s), rejected")
    assert _refusal(_xml("<da><number/></da>")) == (
        400, "Missing receiver(s) number(s), rejected")
    assert _refusal(_xml("<da><number> </number></da>")) == (
        400, "Empty receiver number not allowed, rejected")
    twice = _posted(_xml("<da><number>1</number><number> </number><number>1</number>"
                         "<number>+2</number></da>"))
    assert kannel.receivers_or_refusal(twice) == ["1", "+2"]


def test_text_nodes_as_libxml_gives_them() -> None:
    """``da/number/text()``: a comment splits a number's text in two receivers, CDATA is not
    a text node; a string value (``ud``) takes every text, CDATA included."""
    read = read_xml(_xml("<da><number>1<!-- -->2</number><number><![CDATA[3]]>4</number></da>"
                         "<ud>a<![CDATA[b]]><b>c</b></ud>"))
    assert read.receivers == ("1", "2", "4")
    assert read.fields["text"] == b"abc"


def test_unreadable_documents_give_no_login() -> None:
    """What smsbox cannot parse gives no username: its answer is a failed authorization."""
    for body in (b"", b"hello", b"<message><submit>", b"<message/><extra/>",
                 b"<msg><submit>" + AUTH.encode() + b"</submit></msg>",
                 b'<message xmlns="urn:x"><submit>' + AUTH.encode() + b"</submit></message>",
                 b"<a>" * (MAX_DEPTH + 1) + b"</a>" * (MAX_DEPTH + 1)):
        form = _posted(body).form
        assert form.username is None and form.password is None


@pytest.mark.parametrize("prolog", [
    '<!DOCTYPE message [<!ENTITY a "acme">]>',
    '<!DOCTYPE message SYSTEM "http://127.0.0.1:9/evil.dtd">',
    '<!DOCTYPE message [<!ENTITY a SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE message [<!ENTITY a "x"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
])
def test_a_dtd_is_refused_before_anything_is_expanded_or_fetched(prolog: str) -> None:
    body = (prolog + "<message><submit><from><username>&a;</username></from></submit>"
            "</message>").encode()
    assert _refusal(body) == (400, "Sending failed. A DTD (<!DOCTYPE) is not accepted")


def test_the_declared_encoding_is_the_charset() -> None:
    """As smsbox: the text as parsed, in the charset the declaration names (so a URL-encoded
    Latin-1 octet reads as that character)."""
    form = _posted(_xml("<ud>caf%E9</ud>", declaration=(
        '<?xml version="1.0" encoding="ISO-8859-1"?>'))).form
    assert form.charset == "ISO-8859-1" and form.text == b"caf\xe9"
    ((_, pdu),) = kannel.submits(form, ["1"])
    assert pdu.short_message == "café".encode("latin-1").replace(b"\xe9", b"\x05")  # GSM é


@given(st.binary(max_size=40))
def test_url_decoding_never_grows_and_round_trips_percent_escapes(octets: bytes) -> None:
    escaped = "".join(f"%{b:02X}" for b in octets).encode()
    assert url_decode(escaped) == octets
    assert len(url_decode(octets)) <= len(octets)


@given(st.binary(max_size=300))
def test_any_body_is_read_or_refused_never_raises_otherwise(body: bytes) -> None:
    try:
        _posted(body)
    except KannelRefusal as e:
        assert e.reply.status == 400
