"""Binds over real sockets with three clients: smpplib, aiosmpplib and our own codec.

Every bind type, the bind response (system_id, sc_interface_version), enquire_link, unbind, and
the refusals: wrong password -> ESME_RINVPASWD, unknown system_id -> ESME_RINVSYSID. Refused
binds come from a loopback address of their own, so their failure counts lock nobody else.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import subprocess

import pytest
import smpplib.consts
import smpplib.exceptions
import smpplib.smpp
from aiosmpplib import BindMode, EnquireLinkResp, SmppCommand, SmppError, SmppMessage

from smsc.pdu import CommandStatus, Tag, encode, pdus
from tests.integration.conftest import (
    IO_TIMEOUT,
    PRICE_CENTS,
    SMSC_COMMAND,
    CodecEsme,
    Login,
    RawConnection,
    Recorder,
    SmscServer,
    aio_bound,
    aio_esme,
    aio_stop,
    bound_esme,
    new_source,
    smpplib_client,
    submit,
)

S = CommandStatus
KINDS = ("tx", "rx", "trx")
BIND_RESPONSES: dict[str, type[pdus.Pdu]] = {
    "tx": pdus.BindTransmitterResp,
    "rx": pdus.BindReceiverResp,
    "trx": pdus.BindTransceiverResp,
}
AIO_MODES = {"tx": BindMode.TRANSMITTER, "rx": BindMode.RECEIVER, "trx": BindMode.TRANSCEIVER}
SC_INTERFACE_VERSION_TLV = b"\x02\x10\x00\x01\x34"
UNKNOWN = "unknown"
_unknown_ids = itertools.count(1)


def unknown_or(system_id: str | None, login: Login) -> str:
    """The login's system_id, or (for UNKNOWN) a system_id no account has. Each is new: failed
    binds of an unknown system_id count towards its lock like any other."""
    if system_id is None:
        return login.system_id
    return f"nobody{next(_unknown_ids)}"


# --- smpplib ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_smpplib_binds_enquires_and_unbinds(smsc: SmscServer, login: Login, kind: str) -> None:
    with smpplib_client(smsc.port) as client:
        bind = {
            "tx": client.bind_transmitter,
            "rx": client.bind_receiver,
            "trx": client.bind_transceiver,
        }[kind]
        response = bind(system_id=login.system_id, password=login.password)
        assert response.status == 0
        assert response.system_id == b"smsc"
        assert response.sc_interface_version == 0x34

        client.send_pdu(smpplib.smpp.make_pdu("enquire_link", client=client))
        answer = client.read_pdu()
        assert answer.command == "enquire_link_resp" and answer.status == 0

        unbound = client.unbind()
        assert unbound.command == "unbind_resp" and unbound.status == 0


@pytest.mark.parametrize(
    ("password", "system_id", "status"),
    [("wrong", None, S.ESME_RINVPASWD), (None, UNKNOWN, S.ESME_RINVSYSID)],
    ids=["wrong-password", "unknown-system-id"],
)
def test_smpplib_refused_binds(
    smsc: SmscServer, login: Login, password: str | None, system_id: str | None, status: int
) -> None:
    with smpplib_client(smsc.port, source=new_source()) as client:
        with pytest.raises(smpplib.exceptions.PDUError) as refused:
            client.bind_transceiver(
                system_id=unknown_or(system_id, login), password=password or login.password
            )
        assert refused.value.args[1] == status
        # A refused bind leaves the connection open and unbound: the right login binds.
        response = client.bind_transceiver(system_id=login.system_id, password=login.password)
        assert response.status == 0


# --- aiosmpplib ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_aiosmpplib_binds_and_keeps_the_link(smsc: SmscServer, login: Login, kind: str) -> None:
    """aiosmpplib binds, reads the bind response, and its own keep-alive (an enquire_link after
    0.2 s of quiet) is answered."""

    async def scenario() -> None:
        recorder = Recorder()
        esme = aio_esme(smsc.port, login, AIO_MODES[kind], recorder, enquire_link_interval=0.2)
        task = await aio_bound(esme)
        try:
            bind_response, raw_bind = recorder.pdus[0]
            assert bind_response is not None
            assert bind_response.command_status == 0
            assert bind_response.system_id == "smsc"
            assert SC_INTERFACE_VERSION_TLV in raw_bind[16:]
            await recorder.wait_until(
                lambda: recorder.of(EnquireLinkResp), IO_TIMEOUT, "enquire_link_resp"
            )
            assert recorder.of(EnquireLinkResp)[0].command_status == 0
        finally:
            await aio_stop(esme, task)

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("password", "system_id", "status"),
    [("wrong", None, S.ESME_RINVPASWD), (None, UNKNOWN, S.ESME_RINVSYSID)],
    ids=["wrong-password", "unknown-system-id"],
)
def test_aiosmpplib_refused_binds(
    smsc: SmscServer,
    login: Login,
    password: str | None,
    system_id: str | None,
    status: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # aiosmpplib has no source address option; its connection comes from one of our own.
    monkeypatch.setattr(
        asyncio,
        "open_connection",
        functools.partial(asyncio.open_connection, local_addr=(new_source(), 0)),
    )

    async def scenario() -> bytes:
        wrong = Login(system_id=unknown_or(system_id, login), password=password or login.password)
        recorder = Recorder()
        esme = aio_esme(smsc.port, wrong, BindMode.TRANSCEIVER, recorder)
        try:
            # SMPP 3.4 (4.1.2) sends a failed bind's response without a body; aiosmpplib
            # 0.7.4 parses the body before it looks at the status and raises ValueError, after
            # handing the raw response to its hook.
            with pytest.raises((SmppError, ValueError)):
                await esme.connect()
        finally:
            writer = esme._writer  # aiosmpplib keeps the stream after a refused bind
            if writer is not None:
                writer.close()
                await writer.wait_closed()
        assert len(recorder.pdus) == 1
        return recorder.pdus[0][1]

    raw = asyncio.run(scenario())
    header = SmppMessage.parse_header(raw)
    assert header.smpp_command == SmppCommand.BIND_TRANSCEIVER_RESP
    assert header.command_status == status
    assert header.pdu_length == len(raw) == 16


# --- our own codec ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_codec_binds_enquires_and_unbinds(smsc: SmscServer, login: Login, kind: str) -> None:
    with CodecEsme(smsc.port) as esme:
        response = esme.bind(kind, login)
        assert isinstance(response, pdus.BindResponse)
        assert response.command_status == 0
        assert response.system_id == "smsc"
        assert response.tlvs.get_int(Tag.SC_INTERFACE_VERSION) == 0x34

        assert type(response) is BIND_RESPONSES[kind]
        link = esme.request(pdus.EnquireLink())
        assert type(link) is pdus.EnquireLinkResp and link.command_status == 0
        assert esme.request(pdus.Unbind()).command_status == 0
        # After unbind_resp the server closes the connection.
        esme.wait_for(lambda: esme.closed, IO_TIMEOUT, "the server to close")


@pytest.mark.parametrize(
    ("password", "system_id", "status"),
    [("wrong", None, S.ESME_RINVPASWD), (None, UNKNOWN, S.ESME_RINVSYSID)],
    ids=["wrong-password", "unknown-system-id"],
)
@pytest.mark.parametrize("kind", KINDS)
def test_codec_refused_binds(
    smsc: SmscServer,
    login: Login,
    kind: str,
    password: str | None,
    system_id: str | None,
    status: int,
) -> None:
    with CodecEsme(smsc.port, source=new_source()) as esme:
        wrong = Login(system_id=unknown_or(system_id, login), password=password or login.password)
        response = esme.bind(kind, wrong)
        assert type(response) is BIND_RESPONSES[kind]
        assert response.command_status == status
        # The connection stays open and unbound: enquire_link works, the right login binds.
        assert esme.request(pdus.EnquireLink()).command_status == 0
        assert esme.bind(kind, login).command_status == 0


def test_second_bind_on_a_bound_connection_is_refused(smsc: SmscServer, login: Login) -> None:
    raw = RawConnection(smsc.port)
    try:
        bind = pdus.BindTransceiver(
            sequence_number=1, system_id=login.system_id, password=login.password
        )
        raw.send(encode(bind))
        first = raw.read()
        assert type(first) is pdus.BindTransceiverResp and first.command_status == 0
        raw.send(encode(bind.replace(sequence_number=2)))
        again = raw.read()
        assert again is not None and again.sequence_number == 2
        assert again.command_status == S.ESME_RALYBND
    finally:
        raw.close()


def test_account_added_by_the_cli_while_the_server_runs_can_bind(smsc: SmscServer) -> None:
    """The real ``smsc`` executable, as a separate process, adds an account; the running server
    lets it bind without a restart."""
    result = subprocess.run(
        [
            *SMSC_COMMAND,
            "--db",
            str(smsc.db),
            "account",
            "add",
            "latecomer",
            "--password",
            "late1",
            "--credit",
            "5",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=smsc.workdir,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    with bound_esme(smsc.port, "trx", Login(system_id="latecomer", password="late1")) as esme:
        assert not esme.closed


def test_test_account_printed_on_first_start_can_bind(smsc: SmscServer) -> None:
    assert smsc.test_login is not None
    assert smsc.test_login.system_id == "smsctest"
    with bound_esme(smsc.port, "trx", smsc.test_login) as esme:
        assert esme.request(pdus.EnquireLink()).command_status == 0


def test_unbind_right_after_submits_answers_the_submits_first(
    smsc: SmscServer, login: Login
) -> None:
    """A customer that unbinds while its submits await the group commit still gets their
    submit_sm_resp before the connection closes; what is billed is what was acknowledged."""
    before = smsc.balance(login.system_id)
    raw = RawConnection(smsc.port)
    try:
        bind = pdus.BindTransceiver(
            sequence_number=1, system_id=login.system_id, password=login.password
        )
        raw.send(encode(bind))
        assert raw.read() is not None
        submits = b"".join(
            encode(submit(text=b"then unbind", registered_delivery=0).replace(sequence_number=n))
            for n in (2, 3, 4)
        )
        raw.send(submits + encode(pdus.Unbind(sequence_number=5)))
        answers: list[pdus.Pdu] = []
        for _ in range(10):
            answer = raw.read()
            if answer is None:
                break
            answers.append(answer)
    finally:
        raw.close()
    by_sequence = {a.sequence_number: a for a in answers}
    assert type(by_sequence.get(5)) is pdus.UnbindResp
    assert sorted(by_sequence) == [2, 3, 4, 5], answers
    assert all(by_sequence[n].command_status == 0 for n in (2, 3, 4))
    assert smsc.balance(login.system_id) == before - 3 * PRICE_CENTS


def test_binds_beyond_the_account_maximum_are_refused(smsc: SmscServer, login: Login) -> None:
    """An account binds at most max_binds times at once (10 by default); a closed bind frees
    its place."""
    assert smsc.account(login.system_id)["max_binds"] == 10
    esmes = [CodecEsme(smsc.port) for _ in range(11)]
    try:
        statuses = [esme.bind("trx", login).command_status for esme in esmes]
        assert statuses == [0] * 10 + [S.ESME_RBINDFAIL]
        esmes[0].request(pdus.Unbind())
        esmes[0].wait_for(lambda: esmes[0].closed, IO_TIMEOUT, "the server to close")
        assert esmes[10].bind("trx", login).command_status == 0
    finally:
        for esme in esmes:
            esme.close()
