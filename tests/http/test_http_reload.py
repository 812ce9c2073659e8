"""A changed ``[http]`` table is taken by a running server (its body limit for requests read from
then on), like the rest of the config: a real server, its config file edited, a real client."""

from __future__ import annotations

import time
from pathlib import Path

from tests.http.conftest import start_api_server

RELOAD_WAIT = 15.0  # the config watch polls every second


def test_a_smaller_max_body_applies_without_a_restart(tmp_path: Path) -> None:
    api = start_api_server(tmp_path)
    try:
        _, key = api.account(credit="100000")
        numbers = ", ".join(f'"38067{n:07d}"' for n in range(200))
        body = b'{"to": [%s], "text": "hi", "from": "Shop"}' % numbers.encode()  # ~3,000 octets
        before = api.request("POST", "/v1/messages", key=key, raw=body)
        assert before.status == 200, before.body
        config = tmp_path / "conf" / "smsc.toml"
        config.write_text(config.read_text() + "\n[http]\nmax_body = 2000\n")
        deadline = time.monotonic() + RELOAD_WAIT
        answer = api.request("POST", "/v1/messages", key=key, raw=body)
        while answer.status != 413 and time.monotonic() < deadline:
            time.sleep(0.2)
            answer = api.request("POST", "/v1/messages", key=key, raw=body)
        assert answer.status == 413, (answer.status, api.log.read_text()[-2000:])
        assert answer.json["code"] == "request_too_large"
        assert "at most 2000 octets" in answer.json["detail"]
        small = api.request("POST", "/v1/messages", key=key,
                            body={"to": ["380671234567"], "text": "hi", "from": "Shop"})
        assert small.status == 200 and api.process.poll() is None
    finally:
        api.stop()
