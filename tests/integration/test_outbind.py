"""Outbind over real sockets: the test listens like an ESME that asked for outbind; the server
connects to it when receipts wait and nobody receives them, sends outbind, and the ESME binds as
a receiver on that connection and gets the receipts."""

from __future__ import annotations

import socket

from smsc.pdu import Tag, pdus
from tests.integration.conftest import (
    HOST,
    UA_NUMBERS,
    CodecEsme,
    Login,
    SmscServer,
    accepted,
    bound_esme,
    submit,
)

OUTBIND_TIMEOUT = 20.0  # the account change is seen within 1 s, waiting items every 5 s


def test_the_server_outbinds_and_the_receipts_follow_the_bind(
    smsc: SmscServer, login: Login
) -> None:
    with socket.create_server((HOST, 0)) as listener:
        listener.settimeout(OUTBIND_TIMEOUT)
        port = listener.getsockname()[1]
        smsc.cli("account", "set", login.system_id, "--outbind", f"tcp:host={HOST}:port={port}",
                 "--outbind-password", "knock")
        with bound_esme(smsc.port, "tx", login) as sender:
            ids = [accepted(sender.request(submit(UA_NUMBERS[n], f"out {n}".encode())))
                   for n in range(3)]
        connection, _ = listener.accept()
    with CodecEsme(0, sock=connection) as esme:
        esme.wait_for(lambda: esme.requests, what="the outbind")
        (outbind,) = esme.requests
        assert isinstance(outbind, pdus.Outbind)
        assert (outbind.system_id, outbind.password) == ("smsc", "knock")
        assert esme.bind("rx", login).command_status == 0
        receipts = esme.wait_receipts(3)
        esme.listen(0.3)
    assert sorted(r.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) or "" for r in receipts) == sorted(ids)
