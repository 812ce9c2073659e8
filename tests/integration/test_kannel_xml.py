"""Kannel's XML sendsms side by side: the same text/xml documents POSTed to a real smsbox
(Kannel 1.4.5, bound by SMPP to the smsc under test) and to smsc's own ``/cgi-bin/sendsms``.
smsbox's sendsms-user and an smsc account share the name and password, so each document is
read by both; the answers (status and text) must be the same, and the messages both send end
up in smsc's store, where their destinations, senders, codings and octets must match.

Where smsc answers differently on purpose (docs/http.md, "Kannel's sendsms"): a document
with a DTD (refused), a blank number (refused at once), a number with letters (smsc's
invalid_destination) are not sent here. Skipped where Kannel is not installed, except on CI.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from tests.http.conftest import HTTP_TIMEOUT, ApiServer, start_api_server
from tests.integration.kannel import (
    HOST,
    SENDSMS_PASSWORD,
    SENDSMS_USER,
    Kannel,
    KannelConfig,
    running_kannel,
)

pytestmark = pytest.mark.slow

AUTH = (f"<from><username>{SENDSMS_USER}</username><password>{SENDSMS_PASSWORD}</password>"
        "</from>")
TO = "<da><number>380671234567</number><number>380671234568</number></da>"
SENT = {  # documents both accept: (XML declaration, what follows <submit>)
    "gsm": ("", f"{TO}<oa><number>Shop</number></oa><ud>Hello%20there+%21</ud>"),
    "utf8": ('<?xml version="1.0" encoding="UTF-8"?>',
             "<da><number>380671234569</number></da><oa><number>Shop</number></oa>"
             "<ud>caf%C3%A9 caf\u00e9</ud>"),
    "latin1": ('<?xml version="1.0" encoding="ISO-8859-1"?>',
               "<da><number>380671234570</number></da><oa><number>Shop</number></oa>"
               "<ud>caf%E9</ud>"),
    "ucs2": ("", "<da><number>380671234571</number></da><oa><number>Shop</number></oa>"
                 "<dcs><coding>2</coding></dcs><ud>\u041f\u0440\u0438\u0432\u0456\u0442</ud>"),
    "latin1 literal": ('<?xml version="1.0" encoding="ISO-8859-1"?>',
                       "<da><number>380671234574</number></da><oa><number>Shop</number></oa>"
                       "<ud>caf\u00e9</ud>"),
    "binary": ("", "<da><number>380671234572</number></da><oa><number>12345</number></oa>"
                   '<dcs><coding>1</coding></dcs><ud type="binary">00ff10</ud>'),
    "class": ("", "<da><number>380671234573</number></da><oa><number>Shop</number></oa>"
                  "<dcs><mclass>1</mclass></dcs><pid>0</pid><ud>flash</ud>"),
}
REFUSED = {  # documents both refuse: what follows <submit>
    "no receiver": f"{AUTH}<oa><number>Shop</number></oa><ud>x</ud>",
    "empty number": f"{AUTH}<da><number></number></da><ud>x</ud>",
    "no sender": f"{AUTH}<da><number>380671234567</number></da><ud>x</ud>",
    "no login": "<da><number>380671234567</number></da><ud>x</ud>",
    "wrong password": "<from><username>tester</username><password>no</password></from>"
                      "<da><number>380671234567</number></da><ud>x</ud>",
    "coding not a number": f"{AUTH}{TO}<oa><number>S</number></oa>"
                           "<dcs><coding>abc</coding></dcs><ud>x</ud>",
    "coding out of range": f"{AUTH}{TO}<oa><number>S</number></oa>"
                           "<dcs><coding>3</coding></dcs><ud>x</ud>",
    "empty pid": f"{AUTH}{TO}<oa><number>S</number></oa><pid></pid><ud>x</ud>",
    "dlr-mask": f"{AUTH}{TO}<oa><number>S</number></oa><statusrequest><dlr-mask>99"
                "</dlr-mask><dlr-url>http://127.0.0.1:9/</dlr-url></statusrequest><ud>x</ud>",
    "validity": f"{AUTH}{TO}<oa><number>S</number></oa><vp><delay>-5</delay></vp><ud>x</ud>",
    "priority": f"{AUTH}{TO}<oa><number>S</number></oa><priority>9</priority><ud>x</ud>",
    "udh": f"{AUTH}{TO}<oa><number>S</number></oa><udh>0500</udh><ud>x</ud>",
}
UNREADABLE = {"broken": "<message><submit><from>", "not xml": "hello", "empty": "",
              "another root": f"<msg><submit>{AUTH}{TO}</submit></msg>"}


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApiServer, Kannel]]:
    """smsc (HTTP and SMPP) and Kannel bound to it; the sendsms login exists on both."""
    api = start_api_server(tmp_path_factory.mktemp("smsc"))
    try:
        bind, _ = api.account(credit="1000")
        api.cli("account", "add", SENDSMS_USER, "--password", SENDSMS_PASSWORD, "--credit",
                "1000")
        config = KannelConfig(smsc_port=api.smpp_port, system_id=bind, password="secret12",
                              transceiver=True)
        with running_kannel(config, tmp_path_factory.mktemp("kannel")) as kannel:
            yield api, kannel
    finally:
        api.stop()


def post(url: str, body: str) -> tuple[int, str]:
    latin1 = 'encoding="ISO-8859-1"' in body  # written in the encoding it declares
    request = urllib.request.Request(url, data=body.encode("latin-1" if latin1 else "utf-8"),
                                     method="POST",
                                     headers={"Content-Type": "text/xml"})
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.read().decode()


def both(pair: tuple[ApiServer, Kannel], body: str) -> tuple[tuple[int, str], tuple[int, str]]:
    api, kannel = pair
    smsbox = f"http://{HOST}:{kannel.config.sendsms_port}/cgi-bin/sendsms"
    return post(smsbox, body), post(f"{api.url}/cgi-bin/sendsms", body)


Part = tuple[str, str, int, bytes]


def stored(api: ApiServer, account: str) -> list[Part]:
    """(destination, sender, data_coding, octets) of the account's parts (not esm_class:
    Kannel's SMPP client sets its store-and-forward mode bits)."""
    with contextlib.closing(sqlite3.connect(f"file:{api.db}?mode=ro", uri=True)) as db:
        rows = db.execute("SELECT destination_addr, source_addr, data_coding, short_message "
                          "FROM messages WHERE account = ?", (account,))
        return sorted((str(d), str(s), int(c), bytes(m)) for d, s, c, m in rows)


def test_refusals_and_unreadable_documents_get_smsbox_s_answers(
        pair: tuple[ApiServer, Kannel]) -> None:
    for name, inner in REFUSED.items():
        kannel, smsc = both(pair, f"<message><submit>{inner}</submit></message>")
        assert smsc == kannel, name
        assert kannel[0] in (400, 403), (name, kannel)
    for name, body in UNREADABLE.items():
        kannel, smsc = both(pair, body)
        assert smsc == kannel == (403, "Authorization failed for sendsms"), name


def test_accepted_documents_send_the_same_messages(pair: tuple[ApiServer, Kannel]) -> None:
    api, kannel = pair
    bind = kannel.config.system_id
    for name, (declaration, inner) in SENT.items():
        body = f"{declaration}<message><submit>{AUTH}{inner}</submit></message>"
        assert both(pair, body) == ((202, "0: Accepted for delivery"),) * 2, name
    direct = stored(api, SENDSMS_USER)
    assert len(direct) == 8
    deadline = time.monotonic() + 30
    while len(stored(api, bind)) < len(direct) and time.monotonic() < deadline:
        time.sleep(0.2)  # bearerbox submits after smsbox answered
    via_kannel = stored(api, bind)
    for theirs, ours in zip(via_kannel, direct, strict=True):
        assert theirs == ours
    assert ("380671234569", "Shop", 0, b"caf\x05 caf\x05") in direct  # GSM 03.38 é
    assert ("380671234572", "12345", 4, b"\x00\xff\x10") in direct
    # smsbox reads the text parsed (UTF-8) in the declared charset: a literal é of an
    # ISO-8859-1 document becomes two characters GSM 03.38 lacks (URL-encode it instead).
    assert ("380671234574", "Shop", 0, b"caf??") in direct
