"""The metrics page of a running server, read over HTTP on loopback."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from smsc.pdu import pdus
from tests.integration.conftest import (
    HOST,
    IO_TIMEOUT,
    UA_NUMBERS,
    SmscServer,
    accepted,
    bound_esme,
    submit,
    write_config,
)


def scrape(url: str) -> dict[str, float]:
    deadline = time.monotonic() + IO_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(url, timeout=IO_TIMEOUT) as answer:
                assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
                body: str = answer.read().decode()
                break
        except ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    samples = {}
    for line in body.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            samples[key] = float(value)
    return samples


def test_metrics_over_http(tmp_path: Path, servers: Callable[..., SmscServer]) -> None:
    server = servers(tmp_path / "smsc.sqlite", write_config(tmp_path),
                     "--metrics", f"tcp:0:interface={HOST}")
    url = server.metrics_url()
    assert url.startswith(f"http://{HOST}:") and url.endswith("/metrics")
    login = server.add_account()
    with bound_esme(server.port, "trx", login) as esme:
        for n in range(3):
            accepted(esme.request(submit(UA_NUMBERS[n], b"metered")))
        refused = esme.request(submit("0501234567", b"not international"))
        assert refused.command_status != 0
        esme.wait_receipts(3)
        samples = scrape(url)
        assert samples["smsc_submits_total"] == 3
        assert sum(v for k, v in samples.items()
                   if k.startswith("smsc_submits_refused_total")) == 1
        assert samples[f'smsc_binds{{account="{login.system_id}",type="trx"}}'] == 1
        assert samples["smsc_committed_parts_total"] == 3
        assert samples["smsc_outbox_sent_total"] >= 3
        esme.send(pdus.Unbind())
