"""A scripted SMSC in a thread, for testing ``smsc send`` without a server: it answers binds and
submits as told and sends a receipt for every accepted submit. Every wait is bounded."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from smsc.pdu import pdus
from smsc.pdu.constants import Tag
from smsc.pdu.events import RequestReceived
from smsc.pdu.receipt_text import ReceiptText, state_for_stat
from smsc.pdu.session import Session
from smsc.pdu.tlv import Tlvs
from smsc.pdu.transitions import Role

LIFETIME = 10.0  # the thread ends after this, whatever happens


@dataclass
class FakeSmsc:
    bind_status: int = 0
    submit_status: int = 0
    receipt_stat: str | None = "DELIVRD"  # None: no receipt
    mo_text: str | None = None  # an MO deliver_sm sent after the bind
    submits: list[pdus.SubmitSm] = field(default_factory=list)
    binds: list[pdus.Pdu] = field(default_factory=list)
    unbound: bool = False
    port: int = 0
    _listener: socket.socket | None = None
    _thread: threading.Thread | None = None

    def __enter__(self) -> FakeSmsc:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(LIFETIME)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        assert self._listener is not None and self._thread is not None
        self._listener.close()
        self._thread.join(LIFETIME)

    def _serve(self) -> None:
        assert self._listener is not None
        try:
            conn, _ = self._listener.accept()
        except OSError:
            return
        with conn:
            self._talk(conn)

    def _talk(self, conn: socket.socket) -> None:
        session = Session(Role.SMSC, now=time.monotonic())
        conn.settimeout(0.2)
        deadline = time.monotonic() + LIFETIME
        next_id = 0x2A
        while time.monotonic() < deadline:
            try:
                data = conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            session.receive_data(data, time.monotonic())
            while (event := session.next_event()) is not None:
                if not isinstance(event, RequestReceived):
                    continue
                pdu = event.pdu
                out: list[pdus.Pdu] = []
                if isinstance(pdu, pdus.BindTransceiver):
                    self.binds.append(pdu)
                    if self.bind_status:
                        out.append(pdu.response(command_status=self.bind_status))
                    else:
                        out.append(pdu.response(system_id="fake"))
                        if self.mo_text is not None:
                            out.append(
                                pdus.DeliverSm(
                                    source_addr="380671112233",
                                    destination_addr="4242",
                                    short_message=self.mo_text.encode(),
                                )
                            )
                elif isinstance(pdu, pdus.SubmitSm):
                    self.submits.append(pdu)
                    if self.submit_status:
                        out.append(
                            pdus.SubmitSmResp(
                                sequence_number=pdu.sequence_number,
                                command_status=self.submit_status,
                            )
                        )
                    else:
                        message_id = f"{next_id:08x}"
                        next_id += 1
                        out.append(
                            pdus.SubmitSmResp(
                                sequence_number=pdu.sequence_number, message_id=message_id
                            )
                        )
                        if self.receipt_stat is not None:
                            out.append(receipt(pdu, message_id, self.receipt_stat))
                elif isinstance(pdu, pdus.Unbind):
                    self.unbound = True
                    out.append(pdu.response())
                else:
                    out.append(pdu.response())
                for item in out:
                    conn.sendall(session.send(item, time.monotonic()))


def receipt(submit: pdus.SubmitSm, message_id: str, stat: str) -> pdus.DeliverSm:
    now = datetime.now(UTC)
    state = state_for_stat(stat)
    text = ReceiptText.build(
        message_id=message_id,
        submitted=1,
        delivered=int(stat == "DELIVRD"),
        submit_time=now,
        done_time=now,
        state=state,
        err=0 if stat == "DELIVRD" else 1,
        text="hello",
    )
    return pdus.DeliverSm(
        source_addr=submit.destination_addr,
        destination_addr=submit.source_addr,
        esm_class=0x04,
        short_message=text.format().encode("ascii"),
        tlvs=Tlvs.from_raw(
            (
                (int(Tag.RECEIPTED_MESSAGE_ID), message_id.encode() + b"\0"),
                (int(Tag.MESSAGE_STATE), bytes((int(state),))),
                (int(Tag.NETWORK_ERROR_CODE), b"\x03\x00\x00"),
            )
        ),
    )
