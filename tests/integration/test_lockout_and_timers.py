"""Lockout after failed binds, and the server's timers, on a server with short times.

Binds come from 127.0.0.1 (the customer), 127.0.0.2 (a stranger with wrong passwords), 127.0.0.3
(typos in a system_id) and addresses of their own (new_source()).

A subprocess cannot be given a fake clock, so the config is the test clock: ``server.lock_for``
is 2 s (a lock runs out while the test waits for it), ``server.bind_timeout`` 1 s and
``server.enquire_link_interval`` 1 s. Every wait is bounded well beyond those times.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Iterator
from typing import Any

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
CUSTOMER, STRANGER, TYPIST = "127.0.0.1", "127.0.0.2", "127.0.0.3"  # new_source() starts at .4
UNKNOWN_LOCK_AFTER = 10  # the default of server.unknown_id_lock_after
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


def locks(smsc: SmscServer) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(smsc.cli("account", "locks", "--json"))
    return rows


def logged(smsc: SmscServer, *fragments: str) -> bool:
    """Whether one line of the server's log has every fragment (polled: the log is written by
    the server process)."""
    deadline = time.monotonic() + IO_TIMEOUT
    while time.monotonic() < deadline:
        text = smsc.log.read_text(errors="replace")
        if any(all(f in line for f in fragments) for line in text.splitlines()):
            return True
        time.sleep(0.05)
    return False


def test_a_stranger_cannot_lock_a_customer_out(
    smsc: SmscServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wrong passwords from 127.0.0.2 lock the account from 127.0.0.2 only: the customer on
    127.0.0.1 binds, and so do other accounts from 127.0.0.2."""
    login = smsc.add_account()
    other = smsc.add_account()

    # smpplib: three wrong passwords in a row, each refused as such.
    with smpplib_client(smsc.port, source=STRANGER) as client:
        for _ in range(3):
            with pytest.raises(smpplib.exceptions.PDUError) as refused:
                client.bind_transmitter(system_id=login.system_id, password="wrong")
            assert refused.value.args[1] == S.ESME_RINVPASWD
        # The right password on the same connection: locked, and it does not say why.
        with pytest.raises(smpplib.exceptions.PDUError) as locked:
            client.bind_transmitter(system_id=login.system_id, password=login.password)
        assert locked.value.args[1] == S.ESME_RBINDFAIL
    # aiosmpplib, right password, same address: locked.
    assert aiosmpplib_bind_status(smsc.port, login, STRANGER, monkeypatch) == S.ESME_RBINDFAIL
    # The customer from its own address binds; another account from the stranger's binds.
    assert codec_bind_status(smsc.port, login, CUSTOMER) == S.ESME_ROK
    assert codec_bind_status(smsc.port, other, STRANGER) == S.ESME_ROK
    assert smsc.account(login.system_id)["locked"] is False

    # The lock is listed with its expiry; the log says which lock and how to lift it.
    (row,) = [r for r in locks(smsc) if r["system_id"] == login.system_id]
    assert (row["kind"], row["address"], row["failures"]) == ("pair", STRANGER, 3)
    assert row["locked_until"]
    command = f"smsc account unlock {login.system_id} --address {STRANGER}"
    assert row["unlock"] == command
    assert logged(smsc, f"account {login.system_id!r} from {STRANGER} is locked", f"`{command}`")
    # Lifted by that command: the right password binds from there again.
    smsc.cli(*command.split()[1:])
    assert codec_bind_status(smsc.port, login, STRANGER) == S.ESME_ROK
    assert not [r for r in locks(smsc) if r["system_id"] == login.system_id]


def test_a_lock_runs_out_after_lock_for(smsc: SmscServer) -> None:
    login = smsc.add_account()
    source = new_source()
    wrong = Login(system_id=login.system_id, password="wrong")
    for _ in range(3):
        assert codec_bind_status(smsc.port, wrong, source) == S.ESME_RINVPASWD
    assert codec_bind_status(smsc.port, login, source) == S.ESME_RBINDFAIL
    # The lock runs out after lock_for: the right password binds again (polled, bounded).
    deadline = time.monotonic() + EXPIRY_TIMEOUT
    while (status := codec_bind_status(smsc.port, login, source)) != S.ESME_ROK:
        assert status == S.ESME_RBINDFAIL
        assert time.monotonic() < deadline, f"still locked after {EXPIRY_TIMEOUT} s"
        time.sleep(0.2)


def test_the_test_account_never_locks(smsc: SmscServer) -> None:
    """Integrators test wrong passwords as often as they like (test_account.lock_after = 0)."""
    assert smsc.test_login is not None
    # Its password was printed once, with how to get a new one (it is kept only as a hash).
    (line,) = [line for line in smsc.lines if line.startswith("test account:")]
    assert "stored only as a hash; `smsc account passwd smsctest` prints a new one" in line
    assert smsc.test_login.password not in smsc.cli("account", "show", "smsctest", "--json")
    source = new_source()
    wrong = Login(system_id=smsc.test_login.system_id, password="wrong")
    with CodecEsme(smsc.port, source=source) as esme:
        for _ in range(12):
            assert esme.bind("trx", wrong).command_status == S.ESME_RINVPASWD
        assert esme.bind("trx", smsc.test_login).command_status == S.ESME_ROK
    assert not [r for r in locks(smsc) if r["locked_until"]
                and r["system_id"] == smsc.test_login.system_id]


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


def test_unknown_system_ids_lock_only_their_address(smsc: SmscServer) -> None:
    """Typos in a system_id from 127.0.0.3: after 10 in a row (not 3) every bind from there is
    refused; the same accounts bind from 127.0.0.1; the CLI lists and lifts the lock."""
    login = smsc.add_account()
    with CodecEsme(smsc.port, source=TYPIST) as esme:
        for n in range(UNKNOWN_LOCK_AFTER):
            ghost = Login(system_id=f"ghost{n}", password="x")
            assert esme.bind("trx", ghost).command_status == S.ESME_RINVSYSID
        assert esme.bind("trx", login).command_status == S.ESME_RBINDFAIL
    assert codec_bind_status(smsc.port, login, CUSTOMER) == S.ESME_ROK
    (row,) = [r for r in locks(smsc) if r["address"] == TYPIST]
    assert (row["kind"], row["system_id"], row["failures"]) == ("address", "", UNKNOWN_LOCK_AFTER)
    assert row["locked_until"]
    assert logged(smsc, f"address {TYPIST} is locked", f"`smsc account unlock --address {TYPIST}`")
    assert "unlocked address 127.0.0.3" in smsc.cli("account", "unlock", "--address",
                                                      "127.0.0.0/29")
    assert codec_bind_status(smsc.port, login, TYPIST) == S.ESME_ROK


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
