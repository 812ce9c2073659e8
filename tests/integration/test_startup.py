"""Startup mistakes: one clear line, no traceback, and nothing created before the config is
valid."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from click.testing import CliRunner

from smsc.cli import main
from tests.integration.conftest import HOST, SMSC_COMMAND, start_server, write_config

EXIT_TIMEOUT = 30.0


def test_a_port_in_use_is_one_line_without_a_traceback(tmp_path: Path) -> None:
    config = write_config(tmp_path / "conf")
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*SMSC_COMMAND, "--db", str(tmp_path / "smsc.sqlite"), "--config", str(config),
             "serve", "--listen", f"tcp:{port}:interface={HOST}"],
            capture_output=True, text=True, timeout=EXIT_TIMEOUT, cwd=tmp_path,
            stdin=subprocess.DEVNULL, check=False,
        )
    assert done.returncode == 1
    assert (f"smsc could not start: cannot listen on {HOST}:{port}: the address is in use"
            in done.stdout)
    assert "Traceback" not in done.stdout + done.stderr
    assert "CannotListenError" not in done.stdout + done.stderr
    assert "Main loop terminated" not in done.stderr  # Twisted's chatter is not the server's


def test_a_bare_port_listens_on_the_loopback_address(tmp_path: Path) -> None:
    server = start_server(tmp_path / "smsc.sqlite", write_config(tmp_path / "conf"),
                          extra_listen=["0"])
    try:
        # the bare port "0" is opened first: its announcement is the port start_server read
        first = next(line for line in server.lines if line.startswith("listening on "))
        assert first == f"listening on tcp:{HOST}:{server.port}"
        with socket.create_connection((HOST, server.port), timeout=5):
            pass
    finally:
        server.stop()


def test_a_bad_endpoint_or_config_creates_no_database(tmp_path: Path) -> None:
    config = write_config(tmp_path / "conf")
    db = tmp_path / "smsc.sqlite"
    runner = CliRunner()
    result = runner.invoke(main, ["--db", str(db), "--config", str(config), "serve", "--listen",
                                  "2775:interface=127.0.0.1"])
    assert result.exit_code == 2 and "is not an endpoint" in result.output
    assert not db.exists()
    result = runner.invoke(main, ["--db", str(db), "--config", str(config), "serve", "--listen",
                                  f"ssl:0:privateKey={tmp_path / 'missing.pem'}"])
    assert result.exit_code == 1 and "no such file" in result.output
    assert not db.exists()
    bad = write_config(tmp_path / "bad", server={"listen": "tpc:2775"})
    result = runner.invoke(main, ["--db", str(db), "--config", str(bad), "serve"])
    assert result.exit_code == 1 and "server.listen" in result.output
    assert "Traceback" not in result.output
    assert not db.exists()


def test_the_log_drops_twisted_chatter_and_keeps_the_server_s_lines() -> None:
    import io

    from twisted.logger import Logger

    from smsc.server.run import log_observer

    out = io.StringIO()
    log = Logger(namespace="test", observer=log_observer(out))
    log.info("SmppServerFactory starting on 2775")
    log.info("Main loop terminated.")
    log.info("(SmppServerFactory Port 2775 Closed)")
    log.info("bind of 'acme' from 127.0.0.2 refused")
    log.warn("Main loop terminated.")  # only info-level chatter is dropped
    lines = out.getvalue().splitlines()
    assert [line.split("] ", 1)[1] for line in lines] == [
        "bind of 'acme' from 127.0.0.2 refused", "Main loop terminated."]
