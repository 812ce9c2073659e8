"""Cost of each step of the full path, in-process and without sockets, per message.

Run: ``python -m bench.pipeline_bench [--messages 20000]``. It builds the same objects the server
builds (config from bench/conf/smsc.toml, a SQLite store in a temporary directory, the core and
its intake) and times, per message, every step a submitted message goes through until its
receipt is acknowledged, for an operator that delivers at once (each part settled in the commit
that accepts it; parts that wait take the queue rounds, see bench.queue_bench). The sum is the
server's floor; the server benchmark shows how close the real server comes to it. Not a test:
timings go to stdout.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from smsc.config.loader import load_config
from smsc.core.accounts import ensure_test_account
from smsc.core.centre import SmscCore
from smsc.core.ids import IdBlock, MessageIdFormat
from smsc.core.routebook import RouteBook
from smsc.core.submit import BindContext
from smsc.pdu import frames, pdus
from smsc.pdu.codec import encode
from smsc.pdu.session import Role, Session
from smsc.store.records import NewMessage
from smsc.store.sqlite import SqliteStore

CONFIG = Path(__file__).resolve().parent / "conf" / "smsc.toml"
BATCH = 256


def _timed(label: str, count: int, fn: Callable[[], object], rows: list[tuple[str, float]]) -> None:
    start = time.process_time()
    fn()
    rows.append((label, (time.process_time() - start) / count * 1e6))


def run(messages: int) -> list[tuple[str, float]]:
    config = load_config(CONFIG)
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="smsc-pipeline-") as work:
        store = SqliteStore(Path(work) / "p.sqlite")
        account, _ = ensure_test_account(store, system_id="bench", password="pw", credit=10**12,
                                         currency="EUR", throughput=0, now=time.time())
        simulator = config.operators.simulator()
        book = RouteBook(config.routing)
        ids = IdBlock(block_size=messages + 10)
        ids.add_block(store.reserve_ids(messages + 10), messages + 10)
        core = SmscCore(store, simulator=simulator, route=book.route,
                        id_format=MessageIdFormat(hex_ids=True), due_batch=BATCH,
                        take_id=ids.take)
        bind = BindContext(account=account, throttle=None)
        now = time.time()
        submits = [encode(pdus.SubmitSm(sequence_number=i + 1, source_addr_ton=5,
                                        source_addr="Bench", dest_addr_ton=1, dest_addr_npi=1,
                                        destination_addr=str(380671000000 + i),
                                        registered_delivery=1, short_message=b"Hello, world"))
                   for i in range(messages)]
        session = Session(Role.SMSC, now=now, window=messages + 10)
        session._enter(session.state.BOUND_TRX)
        stream = b"".join(submits)
        events: list[object] = []

        def receive() -> None:
            session.receive_data(stream, now)
            while (event := session.next_event()) is not None:
                events.append(event)

        _timed("session: frame + decode submit_sm", messages, receive, rows)
        received = [e.pdu for e in events]  # type: ignore[attr-defined]
        prepared: list[list[NewMessage]] = []

        def intake() -> None:
            for pdu in received:
                prepared.append(list(core.intake.submit_sm(bind, pdu, now).parts))

        _timed("intake: checks, routing, parts", messages, intake, rows)
        flat = [p for parts in prepared for p in parts]
        core.begin()  # a generation, as a starting server takes
        loaded = []

        def commit() -> None:
            # The operator delivers at once: every part is settled in its commit (the
            # operator's attempt, the receipt frame, one row and one outbox row per part).
            for i in range(0, len(flat), BATCH):
                loaded.extend(core.commit(flat[i:i + BATCH], now).items)

        _timed("core.commit (group commit, settled parts)", messages, commit, rows)
        assert len(loaded) == messages, "every part should have been settled with its receipt"

        def respond() -> None:
            for pdu in received:
                session.send(pdus.SubmitSmResp(sequence_number=pdu.sequence_number,
                                               message_id="0000abcd"), now)

        _timed("session: encode submit_sm_resp", messages, respond, rows)
        later = now + 0.001
        esme = Session(Role.SMSC, now=now, window=messages + 10)
        esme._enter(esme.state.BOUND_TRX)
        sent = []

        def send() -> None:
            for item in loaded:
                seq = esme.next_sequence_number()
                esme.send_encoded(frames.stand_in(item.pdu, seq),
                                  frames.with_sequence_number(item.pdu, seq), later)
                sent.append(seq)

        _timed("session: stored deliver_sm out", messages, send, rows)
        answers = b"".join(encode(pdus.DeliverSmResp(sequence_number=s)) for s in sent)

        def answered() -> None:
            esme.receive_data(answers, later)
            while esme.next_event() is not None:
                pass

        _timed("session: deliver_sm_resp in", messages, answered, rows)

        def ack() -> None:
            ids_ = [i.id for i in loaded]
            for i in range(0, len(ids_), BATCH):
                store.ack_outbox(ids_[i:i + BATCH])

        _timed("store.ack_outbox", messages, ack, rows)
        store.close()
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    args = parser.parse_args(argv)
    rows = run(args.messages)
    width = max(len(label) for label, _ in rows)
    total = 0.0
    for label, us in rows:
        total += us
        print(f"{label:<{width}}  {us:7.1f} us")
    print(f"{'total per message':<{width}}  {total:7.1f} us")


if __name__ == "__main__":
    main()
