"""Per-PDU cost of the session state machine against the bare codec.

Run: ``.venv/bin/python -m bench.session_bench [--count N] [--repeat R]``. Prints the best of R
round-robin runs, in microseconds per PDU, for each path, then what the session adds to the codec.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable

from smsc.pdu import codec, pdus
from smsc.pdu.events import RequestReceived, ResponseReceived
from smsc.pdu.framing import FrameBuffer
from smsc.pdu.session import Session
from smsc.pdu.transitions import Role

SUBMIT = pdus.SubmitSm(
    source_addr="Shop",
    source_addr_ton=5,
    dest_addr_ton=1,
    dest_addr_npi=1,
    destination_addr="380501234567",
    registered_delivery=1,
    short_message=b"Your code is 123456. It expires in 10 minutes.",
)

# A case prepares its state untimed and returns the loop to time.
Case = Callable[[], Callable[[], None]]


def bound_pair(window: int) -> tuple[Session, Session]:
    """An ESME and an SMSC session bound as a transceiver, through bytes only."""
    esme = Session(Role.ESME, now=0.0, window=window)
    smsc = Session(Role.SMSC, now=0.0, window=window)
    smsc.receive_data(esme.send(pdus.BindTransceiver(system_id="bench", password="x")), 0.0)
    bind = smsc.next_event()
    assert isinstance(bind, RequestReceived)
    esme.receive_data(smsc.send(bind.pdu.response(system_id="smsc")), 0.0)
    assert isinstance(esme.next_event(), ResponseReceived)
    return esme, smsc


def measure(count: int, case: Case) -> float:
    """One run of ``case``, in microseconds per PDU (garbage collection off, as timeit)."""
    loop = case()
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        loop()
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    return elapsed / count * 1e6


def cases(count: int) -> dict[str, Case]:
    submits = [codec.encode(SUBMIT.replace(sequence_number=i + 2)) for i in range(count)]
    chunk = b"".join(submits)
    responses = [
        pdus.SubmitSmResp(sequence_number=i + 2, message_id=f"{i:016x}") for i in range(count)
    ]
    response_frames = [codec.encode(r) for r in responses]

    def decode_submit() -> Callable[[], None]:
        def loop() -> None:
            for frame in submits:
                codec.decode(frame)

        return loop

    def frames_each() -> Callable[[], None]:
        buffer = FrameBuffer()

        def loop() -> None:
            for frame in submits:
                buffer.feed(frame)
                buffer.next_frame()
                buffer.next_frame()

        return loop

    def frames_chunk() -> Callable[[], None]:
        buffer = FrameBuffer()

        def loop() -> None:
            buffer.feed(chunk)
            while buffer.next_frame() is not None:
                pass

        return loop

    def smsc_receive_each() -> Callable[[], None]:
        _, smsc = bound_pair(window=count)
        receive, next_event = smsc.receive_data, smsc.next_event

        def loop() -> None:
            for frame in submits:
                receive(frame, 1.0)
                next_event()
                next_event()  # the None that says "need more data"

        return loop

    def smsc_receive_chunk() -> Callable[[], None]:
        _, smsc = bound_pair(window=count)

        def loop() -> None:
            smsc.receive_data(chunk, 1.0)
            next_event = smsc.next_event
            while next_event() is not None:
                pass

        return loop

    def encode_response() -> Callable[[], None]:
        def loop() -> None:
            for response in responses:
                codec.encode(response)

        return loop

    def smsc_send_response() -> Callable[[], None]:
        _, smsc = bound_pair(window=count)
        smsc.receive_data(chunk, 1.0)
        while smsc.next_event() is not None:
            pass
        send = smsc.send

        def loop() -> None:
            for response in responses:
                send(response)

        return loop

    def build_encode_submit() -> Callable[[], None]:
        def loop() -> None:
            for i in range(count):
                codec.encode(pdus.SubmitSm(sequence_number=i + 1, destination_addr="380501234567"))

        return loop

    def esme_send_numbered() -> Callable[[], None]:
        esme, _ = bound_pair(window=count)
        send, number = esme.send, esme.next_sequence_number

        def loop() -> None:
            for _ in range(count):
                send(pdus.SubmitSm(sequence_number=number(), destination_addr="380501234567"))

        return loop

    def esme_send_unnumbered() -> Callable[[], None]:
        esme, _ = bound_pair(window=count)
        send = esme.send

        def loop() -> None:
            for _ in range(count):
                send(pdus.SubmitSm(destination_addr="380501234567"))

        return loop

    def decode_response() -> Callable[[], None]:
        def loop() -> None:
            for frame in response_frames:
                codec.decode(frame)

        return loop

    def esme_receive_response() -> Callable[[], None]:
        esme, _ = bound_pair(window=count)
        for i in range(count):
            esme.send(SUBMIT.replace(sequence_number=i + 2))
        receive, next_event = esme.receive_data, esme.next_event

        def loop() -> None:
            for frame in response_frames:
                receive(frame, 1.0)
                next_event()
                next_event()

        return loop

    return {
        "codec.decode(submit_sm)": decode_submit,
        "FrameBuffer feed+next_frame, a read per PDU": frames_each,
        "FrameBuffer feed+next_frame, one read for all": frames_chunk,
        "SMSC receive_data+next_event(submit_sm), a read per PDU": smsc_receive_each,
        "SMSC receive_data+next_event(submit_sm), one read for all": smsc_receive_chunk,
        "codec.encode(submit_sm_resp)": encode_response,
        "SMSC send(submit_sm_resp)": smsc_send_response,
        "codec.decode(submit_sm_resp)": decode_response,
        "ESME receive_data+next_event(submit_sm_resp)": esme_receive_response,
        "build + codec.encode(submit_sm)": build_encode_submit,
        "ESME build + send(submit_sm), numbered by the caller": esme_send_numbered,
        "ESME build + send(submit_sm), numbered by send": esme_send_unnumbered,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=25)
    args = parser.parse_args()
    # Runs go round-robin over the cases, keeping each case's best, so that a busy moment on
    # the machine does not fall on one case only.
    named = cases(args.count)
    results = dict.fromkeys(named, float("inf"))
    for _ in range(args.repeat):
        for name, case in named.items():
            results[name] = min(results[name], measure(args.count, case))
    width = max(map(len, results))
    for name, micros in results.items():
        print(f"{name:<{width}}  {micros:6.2f} us/PDU")
    print()
    framing_and_decode = {
        "a read per PDU": results["FrameBuffer feed+next_frame, a read per PDU"],
        "one read for all": results["FrameBuffer feed+next_frame, one read for all"],
    }
    for reads, framing in framing_and_decode.items():
        name = f"SMSC receive_data+next_event(submit_sm), {reads}"
        extra = results[name] - framing - results["codec.decode(submit_sm)"]
        print(f"{name:<{width}}  {extra:+6.2f} us over FrameBuffer + codec.decode")
    comparisons = (
        ("SMSC receive_data+next_event(submit_sm), a read per PDU", "codec.decode(submit_sm)"),
        ("SMSC receive_data+next_event(submit_sm), one read for all", "codec.decode(submit_sm)"),
        ("SMSC send(submit_sm_resp)", "codec.encode(submit_sm_resp)"),
        ("ESME receive_data+next_event(submit_sm_resp)", "codec.decode(submit_sm_resp)"),
        ("ESME build + send(submit_sm), numbered by the caller", "build + codec.encode(submit_sm)"),
        ("ESME build + send(submit_sm), numbered by send", "build + codec.encode(submit_sm)"),
    )
    for session_path, codec_path in comparisons:
        extra = results[session_path] - results[codec_path]
        print(f"{session_path:<{width}}  {extra:+6.2f} us over {codec_path}")


if __name__ == "__main__":
    main()
