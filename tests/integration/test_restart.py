"""Durability over a real crash: kill -9 the server while receipts are pending, start it again on
the same database, bind a receiver: every acknowledged message's receipt arrives, once.

The operator here delivers each message 0.3 to 3 s after acceptance (uniform), so at the kill
some receipts already wait in the store's outbox and the rest are still in the operator queue.
The submitting customer binds as a transmitter only, so no receipt is delivered before the kill:
any receipt seen twice after the restart is a duplicate.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from smsc.pdu import Tag, pdus
from tests.integration.conftest import (
    UA_NUMBERS,
    CodecEsme,
    Login,
    SmscServer,
    accepted,
    bound_esme,
    check_receipt,
    database_at,
    submit,
    write_config,
)

pytestmark = pytest.mark.slow

SLOW_DELAY = '{ kind = "uniform", low = "300ms", high = "3s" }'
RECEIPTS_AFTER_RESTART = 25.0  # seconds: the longest delay is 3 s; the rest is slack
QUIET = 1.0  # seconds of listening for anything more (duplicates) once all receipts are in


class Submitter:
    """Submits messages over a tx bind with up to ``window`` unanswered, until ``total`` were
    sent or the connection is gone; keeps the ids of the acknowledged ones."""

    def __init__(self, esme: CodecEsme, window: int) -> None:
        self.esme = esme
        self.window = window
        self.acked: list[str] = []
        self.in_flight: set[int] = set()
        self.sent = 0
        self.broken = False

    def run(
        self,
        total: int,
        *,
        timeout: float = 30.0,
        kill_after: int | None = None,
        server: SmscServer | None = None,
        kill_when: Callable[[], bool] | None = None,
    ) -> int:
        """Returns how many requests were unanswered when the server was killed (0 if not)."""
        esme = self.esme
        deadline = time.monotonic() + timeout
        unanswered_at_kill = 0
        for _ in range(100 * total):
            if self.broken or esme.closed or (self.sent >= total and not self.in_flight):
                break
            assert time.monotonic() < deadline, "submitting took too long"
            while self.sent < total and len(self.in_flight) < self.window:
                number = UA_NUMBERS[self.sent % len(UA_NUMBERS)]
                try:
                    seq = esme.send(submit(number, f"message {self.sent}".encode()))
                except OSError:
                    self.broken = True
                    break
                self.in_flight.add(seq)
                self.sent += 1
            if (
                kill_after is not None
                and server is not None
                and server.running
                and len(self.acked) >= kill_after
                and (kill_when is None or kill_when())
            ):
                # Right after a window's worth of submits went out: some are being committed,
                # some answered, some not read yet.
                unanswered_at_kill = len(self.in_flight)
                server.kill9()
            try:
                esme.pump(1.0)
            except OSError:
                self.broken = True
            for seq in [s for s in self.in_flight if s in esme.responses]:
                self.in_flight.discard(seq)
                self.acked.append(accepted(esme.responses.pop(seq)))
        return unanswered_at_kill


def collect_receipts(esme: CodecEsme, wanted: set[str]) -> Counter[str]:
    """Receipts on ``esme`` until every id in ``wanted`` has one (bounded), then QUIET seconds
    more; how many times each receipted id came."""

    def ids() -> set[str]:
        return {r.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) or "" for r in esme.receipts()}

    esme.wait_for(
        lambda: wanted <= ids(),
        RECEIPTS_AFTER_RESTART,
        f"{len(wanted)} receipts (have {len(wanted & ids())})",
    )
    esme.listen(QUIET)
    return Counter(r.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) or "" for r in esme.receipts())


def slow_config(tmp_path: Path) -> Path:
    return write_config(tmp_path, delay=SLOW_DELAY)


def test_kill_9_with_receipts_pending_then_every_receipt_arrives_once(
    tmp_path: Path, servers, store_kind: str
) -> None:
    db, config = database_at(store_kind, tmp_path), slow_config(tmp_path)
    first = servers(db, config)
    login = first.add_account()
    with bound_esme(first.port, "tx", login) as esme:
        submitter = Submitter(esme, window=64)
        submitter.run(200)
        assert len(submitter.acked) == 200 and not submitter.broken
        time.sleep(1.0)  # some receipts are made (outbox), most messages still wait
        first.kill9()
    acked = set(submitter.acked)
    assert len(acked) == 200  # ids are unique

    second = servers(db, config)
    assert second.test_login is None  # the same database: nothing created again
    with bound_esme(second.port, "rx", login) as receiver:
        counts = collect_receipts(receiver, acked)
        for receipt in receiver.receipts():
            check_receipt(receipt, receipt.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) or "")
    assert set(counts) == acked
    assert [i for i, n in counts.items() if n > 1] == []

    # Message ids stay unique across the restart.
    with bound_esme(second.port, "tx", login) as esme:
        later = accepted(esme.request(submit(text=b"after the restart")))
    assert later not in acked


def test_kill_9_in_the_middle_of_submitting(tmp_path: Path, servers) -> None:
    db, config = tmp_path / "smsc.sqlite", slow_config(tmp_path)
    first = servers(db, config)
    login = first.add_account()
    window = 16
    with CodecEsme(first.port, window=window) as esme:
        assert esme.bind("tx", login).command_status == 0
        submitter = Submitter(esme, window=window)
        unanswered = submitter.run(400, kill_after=150, server=first)
    assert not first.running
    assert 150 <= len(submitter.acked) < 400
    acked = set(submitter.acked)
    assert len(acked) == len(submitter.acked)

    second = servers(db, config)
    with bound_esme(second.port, "rx", login) as receiver:
        counts = collect_receipts(receiver, acked)
    # Every acknowledged message has its receipt, none twice; a receipt for a message that was
    # never acknowledged can only be one of those in flight at the kill (committed, unanswered).
    assert acked <= set(counts)
    assert [i for i, n in counts.items() if n > 1] == []
    assert len(set(counts) - acked) <= unanswered <= window


def test_sigterm_unbinds_flushes_exits_0_and_the_rest_arrives_after_restart(
    tmp_path: Path, servers
) -> None:
    db, config = tmp_path / "smsc.sqlite", slow_config(tmp_path)
    first = servers(db, config)
    login = first.add_account()
    with bound_esme(first.port, "trx", login) as esme:
        submitter = Submitter(esme, window=32)
        submitter.run(100)
        assert len(submitter.acked) == 100
        esme.wait_receipts(1)  # receipts are flowing: some delivered and answered before stop
        first.process.terminate()
        esme.wait_for(lambda: esme.closed, 10.0, "the server to unbind and close")
        assert esme.unbound_by_server
        before = Counter(r.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) or "" for r in esme.receipts())
    assert first.stop() == 0
    assert len(before) > 0 and max(before.values()) == 1

    second = servers(db, config)
    acked = set(submitter.acked)
    with bound_esme(second.port, "rx", login) as receiver:
        after = collect_receipts(receiver, acked - set(before))
    # Each receipt was delivered once across the stop: answered ones were removed before exit.
    assert set(before) | set(after) == acked
    assert set(before) & set(after) == set()
    assert max(after.values()) == 1


def test_login_survives_restart(tmp_path: Path, servers) -> None:
    db, config = tmp_path / "smsc.sqlite", slow_config(tmp_path)
    first = servers(db, config)
    assert first.test_login is not None
    test_login: Login = first.test_login
    assert first.stop() == 0
    second = servers(db, config)
    with bound_esme(second.port, "trx", test_login) as esme:
        assert esme.request(pdus.EnquireLink()).command_status == 0
