"""Binding in a loop is no lever: while strangers keep many unauthenticated binds going (on the
test account, which never locks, so every one of them would cost a password hash), a customer's
bind and submit are answered, and the storm's excess binds are refused with
ESME_RBINDFAIL (server.pending_binds_per_address), answered after server.bind_refusal_delay.
Behaviour is asserted, not times."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from smsc.pdu import CommandStatus, pdus
from smsc.pdu.codec import encode
from tests.integration.conftest import (
    CodecEsme,
    Login,
    RawConnection,
    SmscServer,
    accepted,
    start_server,
    submit,
    write_config,
)

S = CommandStatus
CUSTOMER = "127.0.0.1"
STRANGERS = ("127.0.0.2", "127.0.0.3")
CONNECTIONS = 40  # per stranger address and round, all binding at once
ROUNDS = 2


@pytest.fixture(scope="module")
def smsc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmscServer]:
    directory = tmp_path_factory.mktemp("smsc-storm")
    server = start_server(directory / "smsc.sqlite", write_config(directory))
    yield server
    server.stop()


def storm_round(port: int, login: Login) -> list[RawConnection]:
    """CONNECTIONS connections from each stranger address, each sending a bind with a wrong
    password before any answer is read."""
    bind = encode(pdus.BindTransceiver(sequence_number=1, system_id=login.system_id,
                                       password="wrong"))
    conns = [RawConnection(port, source=source) for source in STRANGERS
             for _ in range(CONNECTIONS)]
    for conn in conns:
        conn.send(bind)
    return conns


def unanswered(conns: list[RawConnection]) -> int:
    """How many of the connections have no answer yet (looked at without waiting)."""
    waiting = 0
    for conn in conns:
        conn.sock.setblocking(False)
        try:
            data = conn.sock.recv(65536)
        except BlockingIOError:
            waiting += 1
            continue
        finally:
            conn.sock.setblocking(True)
        conn.frames.feed(data)
    return waiting


@pytest.mark.slow
def test_a_customer_binds_and_submits_during_a_bind_storm(smsc: SmscServer) -> None:
    assert smsc.test_login is not None
    customer = smsc.add_account()
    statuses: Counter[int] = Counter()
    for _ in range(ROUNDS):
        storm = storm_round(smsc.port, smsc.test_login)
        try:
            # The customer binds and submits while the storm's binds are in progress.
            with CodecEsme(smsc.port, source=CUSTOMER) as esme:
                assert esme.bind("trx", customer).command_status == S.ESME_ROK
                accepted(esme.request(submit()))
            # ... answered while binds of the storm still wait for theirs.
            assert unanswered(storm) > 0
            for conn in storm:
                answer = conn.read()
                assert answer is not None and isinstance(answer, pdus.BindTransceiverResp)
                statuses[answer.command_status] += 1
        finally:
            for conn in storm:
                conn.close()
    assert sum(statuses.values()) == ROUNDS * CONNECTIONS * len(STRANGERS)
    assert set(statuses) <= {S.ESME_RINVPASWD, S.ESME_RBINDFAIL}
    # Some were checked (wrong password), the excess refused without a check.
    assert statuses[S.ESME_RINVPASWD] > 0
    assert statuses[S.ESME_RBINDFAIL] > 0
    # The test account is not locked by any of it.
    with CodecEsme(smsc.port, source=STRANGERS[0]) as esme:
        assert esme.bind("trx", smsc.test_login).command_status == S.ESME_ROK
