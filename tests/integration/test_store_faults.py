"""Faulty storage over real sockets: a write lock held by another process stops nothing but the
commits waiting for it, and a kill -9 while receipts flow sends again at most one receipt window
per receiver bind."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from smsc.pdu import Tag, pdus
from tests.integration.conftest import (
    UA_NUMBERS,
    CodecEsme,
    accepted,
    bound_esme,
    submit,
    write_config,
)
from tests.integration.test_restart import Submitter, collect_receipts

pytestmark = pytest.mark.slow

ANSWER_WAIT = 5.0  # seconds an enquire_link may take here; the server's busy timeout is 30 s


def test_an_external_write_lock_stalls_only_the_commit_waiting_for_it(
        tmp_path: Path, servers) -> None:
    db = tmp_path / "smsc.sqlite"
    server = servers(db, write_config(tmp_path))
    login = server.add_account()
    with bound_esme(server.port, "tx", login) as submitter, \
            bound_esme(server.port, "tx", login, source="127.0.0.2") as other:
        assert accepted(submitter.request(submit(UA_NUMBERS[0], b"before"))) != ""
        holder = sqlite3.connect(db, isolation_level=None, timeout=10.0)
        try:
            holder.execute("BEGIN IMMEDIATE")  # another process's write lock
            waiting = submitter.send(submit(UA_NUMBERS[1], b"waits for the lock"))
            submitter.listen(0.3)  # the server reads it and starts its commit
            # Another bind is served while the commit waits: its enquire_link is answered
            # with the lock still held (the submit is still unanswered).
            answer = other.request(pdus.EnquireLink(), timeout=ANSWER_WAIT)
            assert isinstance(answer, pdus.EnquireLinkResp)
            submitter.listen(0.1)
            assert waiting not in submitter.responses
            assert holder.in_transaction
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        # The lock gone, the waiting submit is committed and acknowledged.
        assert accepted(submitter.response(waiting, timeout=ANSWER_WAIT)) != ""


def test_kill_9_while_receipts_flow_repeats_at_most_one_receipt_window(
        tmp_path: Path, servers) -> None:
    window = 8
    db = tmp_path / "smsc.sqlite"
    config = write_config(tmp_path, server={"receipt_window": window})
    first = servers(db, config)
    login = first.add_account()
    with CodecEsme(first.port, window=32) as esme:
        assert esme.bind("trx", login).command_status == 0
        submitter = Submitter(esme, window=32)
        # Receipts come 50 ms after each acceptance and are answered as they come; the kill
        # lands while both submits and receipts flow.
        # The kill waits for a receipt window's worth to have arrived (on a fast machine the
        # submits can all be answered before the first receipt is due).
        enough = lambda: len(esme.receipts()) >= 2 * window  # noqa: E731
        submitter.run(1500, kill_after=900, server=first, kill_when=enough)
        if first.running:  # every submit answered first: kill while the receipts still flow
            esme.wait_for(enough, 30.0, f"{2 * window} receipts")
            first.kill9()
        before = Counter(r.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) or "" for r in esme.receipts())
    assert not first.running
    assert len(before) >= window and max(before.values()) == 1
    acked = set(submitter.acked)

    second = servers(db, config)
    with bound_esme(second.port, "rx", login) as receiver:
        after = collect_receipts(receiver, acked - set(before))
    # Every acknowledged message has its receipt; the ones delivered twice are those sent and
    # not yet removed from the store at the kill: at most the receipt window of the one bind.
    assert acked <= set(before) | set(after)
    again = set(before) & set(after)
    assert len(again) <= window, f"{len(again)} receipts delivered twice"
