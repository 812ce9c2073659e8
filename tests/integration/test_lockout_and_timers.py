"""Lockout after failed binds, and the server's timers, on a server with short times.

A subprocess cannot be given a fake clock, so the config is the test clock: ``server.lock_for``
is 2 s (a lock runs out while the test waits for it), ``server.bind_timeout`` 1 s and
``server.enquire_link_interval`` 1 s. Every wait is bounded well beyond those times.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Iterator

import pytest
import smpplib.exceptions
from aiosmpplib import BindMode, SmppError, SmppMessage

from smsc.pdu import CommandStatus, pdus
from tests.integration.conftest import (
    IO_TIMEOUT,
    CodecEsme,
    Login,
    RawConnection,
    Recorder,
    SmscServer,
    aio_esme,
    bound_esme,
    new_source,
    smpplib_client,
    start_server,
    write_config,
)

S = CommandStatus
LOCK_FOR = 2.0
EXPIRY_TIMEOUT = LOCK_FOR + 8.0


@pytest.fixture(scope="module")
def smsc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmscServer]:
    directory = tmp_path_factory.mktemp("smsc-timers")
    config = write_config(
        directory,
        server={"lock_for": f"{LOCK_FOR:g}s", "bind_timeout": "1s", "enquire_link_interval": "1s"},
    )
    server = start_server(directory / "smsc.sqlite", config)
    yield server
    server.stop()


def codec_bind_status(port: int, login: Login, source: str) -> int:
    """One bind_transceiver on a connection of its own; its status."""
    with CodecEsme(port, source=source) as esme:
        return esme.bind("trx", login).command_status


def aiosmpplib_bind_status(
    port: int, login: Login, source: str, monkeypatch: pytest.MonkeyPatch
) -> int:
    """aiosmpplib's bind from ``source``: the status its own header parser reads."""
    with monkeypatch.context() as patch:
        patch.setattr(
            asyncio,
            "open_connection",
            functools.partial(asyncio.open_connection, local_addr=(source, 0)),
        )

        async def scenario() -> bytes:
            recorder = Recorder()
            esme = aio_esme(port, login, BindMode.TRANSCEIVER, recorder)
            try:
                # A refused bind's response has no body (SMPP 3.4, 4.1.2), which aiosmpplib
                # 0.7.4 cannot parse (ValueError); its hook gets the raw response first.
                with pytest.raises((SmppError, ValueError)):
                    await esme.connect()
            finally:
                writer = esme._writer
                if writer is not None:
                    writer.close()
                    await writer.wait_closed()
            return recorder.pdus[-1][1]

        raw = asyncio.run(scenario())
    return int(SmppMessage.parse_header(raw).command_status)


def test_three_failed_binds_lock_the_account_and_the_address_until_the_lock_runs_out(
    smsc: SmscServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    login = smsc.add_account()
    other = smsc.add_account()
    attacker, elsewhere = new_source(), new_source()

    # smpplib: three wrong passwords in a row, each refused as such.
    with smpplib_client(smsc.port, source=attacker) as client:
        for _ in range(3):
            with pytest.raises(smpplib.exceptions.PDUError) as refused:
                client.bind_transmitter(system_id=login.system_id, password="wrong")
            assert refused.value.args[1] == S.ESME_RINVPASWD
        # The right password on the same connection: locked, and it does not say why.
        with pytest.raises(smpplib.exceptions.PDUError) as locked:
            client.bind_transmitter(system_id=login.system_id, password=login.password)
        assert locked.value.args[1] == S.ESME_RBINDFAIL
    assert smsc.account(login.system_id)["locked"] is True

    # aiosmpplib, right password, same address: locked.
    assert aiosmpplib_bind_status(smsc.port, login, attacker, monkeypatch) == S.ESME_RBINDFAIL
    # Our codec: the account is locked from any address ...
    assert codec_bind_status(smsc.port, login, elsewhere) == S.ESME_RBINDFAIL
    # ... and the address is locked for any account.
    assert codec_bind_status(smsc.port, other, attacker) == S.ESME_RBINDFAIL
    # Other accounts from other addresses are not affected.
    assert codec_bind_status(smsc.port, other, elsewhere) == S.ESME_ROK

    # The lock runs out after lock_for: the right password binds again (polled, bounded).
    deadline = time.monotonic() + EXPIRY_TIMEOUT
    while (status := codec_bind_status(smsc.port, login, attacker)) != S.ESME_ROK:
        assert status == S.ESME_RBINDFAIL
        assert time.monotonic() < deadline, f"still locked after {EXPIRY_TIMEOUT} s"
        time.sleep(0.2)
    assert smsc.account(login.system_id)["locked"] is False
    assert codec_bind_status(smsc.port, other, attacker) == S.ESME_ROK


def test_a_successful_bind_resets_the_count_of_failures(smsc: SmscServer) -> None:
    login = smsc.add_account()
    source = new_source()
    wrong = Login(system_id=login.system_id, password="wrong")
    for _ in range(2):
        assert codec_bind_status(smsc.port, wrong, source) == S.ESME_RINVPASWD
    assert codec_bind_status(smsc.port, login, source) == S.ESME_ROK
    for _ in range(2):
        assert codec_bind_status(smsc.port, wrong, source) == S.ESME_RINVPASWD
    # Four failures in all, never three in a row: not locked.
    assert codec_bind_status(smsc.port, login, source) == S.ESME_ROK
    # A third one in a row locks.
    for _ in range(3):
        assert codec_bind_status(smsc.port, wrong, source) == S.ESME_RINVPASWD
    assert codec_bind_status(smsc.port, login, source) == S.ESME_RBINDFAIL


def test_unknown_system_ids_lock_the_address(smsc: SmscServer) -> None:
    login = smsc.add_account()
    source = new_source()
    for n in range(3):
        ghost = Login(system_id=f"ghost{n}", password="x")
        assert codec_bind_status(smsc.port, ghost, source) == S.ESME_RINVSYSID
    assert codec_bind_status(smsc.port, login, source) == S.ESME_RBINDFAIL
    assert codec_bind_status(smsc.port, login, new_source()) == S.ESME_ROK


def test_a_connection_that_never_binds_is_closed(smsc: SmscServer) -> None:
    quiet = RawConnection(smsc.port)
    half = RawConnection(smsc.port)
    try:
        half.send(b"\x00\x00\x00")  # not even a whole command_length
        assert quiet.closed_within(IO_TIMEOUT)
        assert half.closed_within(IO_TIMEOUT)
    finally:
        quiet.close()
        half.close()


def test_an_idle_bound_customer_gets_enquire_link(smsc: SmscServer) -> None:
    login = smsc.add_account()
    with bound_esme(smsc.port, "trx", login) as esme:
        esme.wait_for(
            lambda: any(isinstance(r, pdus.EnquireLink) for r in esme.requests),
            IO_TIMEOUT,
            "an enquire_link from the server",
        )
        # Answered (by CodecEsme), the bind stays up and works.
        assert esme.request(pdus.EnquireLink()).command_status == 0
        assert not esme.closed
