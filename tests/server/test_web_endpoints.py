"""The helpers of the HTTP API's resource modules (smsc.server.web.endpoints): a CSV body
checked for UTF-8 and line length in blocks (the line of the first problem named, whatever
block it falls in), ids from paths, and a streamed answer paced by the client."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from twisted.internet import defer
from twisted.web.server import Request
from twisted.web.test.requesthelper import DummyRequest

from smsc.http.replies import ProblemReply
from smsc.server.web.endpoints import MAX_LINE, StreamReply, check_utf8, path_id, write_stream


def test_utf8_bodies_pass_and_are_left_at_their_start() -> None:
    body = io.BytesIO(("number,name\n" + "380671234567,Олена\n" * 10_000).encode())
    body.read(5)
    assert check_utf8(body) is None and body.tell() == 0


@pytest.mark.parametrize("before", [1, 2, 9_000])  # the bad byte in the first or a later block
def test_the_line_of_the_first_bad_byte_is_named(before: int) -> None:
    text = ("number\n" + "380671234567\n" * before).encode() + b"Zo\xeb\n"
    assert check_utf8(io.BytesIO(text)) == (f"not UTF-8 text on line {before + 2} (save it "
                                            "as CSV UTF-8)")
    cut = "number\nЖ".encode()[:-1]  # a character cut at the end
    assert check_utf8(io.BytesIO(cut)) == "not UTF-8 text on line 2 (save it as CSV UTF-8)"


def test_a_line_past_the_limit_is_named() -> None:
    long = b"number\n380671234567\n" + b"x" * (MAX_LINE + 1) + b"\n1\n"
    assert check_utf8(io.BytesIO(long)) == f"line 3 is longer than {MAX_LINE:,} characters"
    fits = b"number\n" + b"x" * MAX_LINE + b"\n"
    assert check_utf8(io.BytesIO(fits)) is None


def test_path_ids_are_positive_integers_or_a_404() -> None:
    assert path_id("42", "list") == 42
    for bad in ("0", "-1", "1x", "01", "9" * 19, ""):
        with pytest.raises(ProblemReply) as e:
            path_id(bad, "list")
        assert e.value.reply.status == 404


class _Request(DummyRequest):
    """A request that keeps its push producer (DummyRequest drives only pull producers)."""

    producer: Any = None

    def registerProducer(self, prod: Any, s: bool) -> None:
        self.producer = prod

    def unregisterProducer(self) -> None:
        self.producer = None


def _stream(request: _Request, pulled: list[int]) -> defer.Deferred[None]:
    async def chunks() -> AsyncIterator[bytes]:
        for i in range(3):
            pulled.append(i)
            yield f"{i}\n".encode()

    return defer.ensureDeferred(write_stream(StreamReply("text/csv", chunks()),
                                             cast(Request, request)))


def _called(d: defer.Deferred[None]) -> bool:
    return bool(d.called)


def test_a_stream_is_written_and_finished() -> None:
    request = _Request([b""])
    d = _stream(request, [])
    assert request.written == [b"0\n", b"1\n", b"2\n"] and request.finished == 1
    assert d.called and request.producer is None


def test_a_stream_waits_while_the_client_is_paused() -> None:
    paced = _Request([b""])
    pulled: list[int] = []
    real_write = paced.write

    def write_and_pause(data: bytes) -> None:  # a client that takes one chunk at a time
        real_write(data)  # type: ignore[no-untyped-call]
        paced.producer.pauseProducing()

    paced.write = write_and_pause  # type: ignore[method-assign]
    d = _stream(paced, pulled)
    assert paced.written == [b"0\n"] and pulled == [0] and not _called(d)
    producer = paced.producer
    producer.resumeProducing()
    assert paced.written == [b"0\n", b"1\n"] and pulled == [0, 1] and not _called(d)
    producer.stopProducing()  # the client went away
    assert _called(d) and paced.finished == 0 and paced.producer is None
