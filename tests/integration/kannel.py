"""Kannel (bearerbox + smsbox) as a client of a running smsc, for the integration tests.

A test writes a kannel.conf into its own directory, starts bearerbox and smsbox as
subprocesses (stopped by their PIDs, always), waits for the SMPP bind to be online on
bearerbox's status page, sends through smsbox's ``/cgi-bin/sendsms`` and collects the DLR
callbacks Kannel makes to a loopback HTTP receiver of the test's own.

Everything is bounded: every wait has a deadline, the receiver keeps at most MAX_CALLBACKS.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

HOST = "127.0.0.1"
WAIT = 30.0  # every wait on Kannel: the bind, a sendsms answer, a DLR
STOP_TIMEOUT = 10.0
MAX_CALLBACKS = 1000
ADMIN_PASSWORD = "adminpw"
SENDSMS_USER = "tester"
SENDSMS_PASSWORD = "testerpw"

# Kannel's DLR types (the ``%d`` of a dlr-url), bits of ``dlr-mask``.
DLR_DELIVERED = 1
DLR_FAILED = 2
DLR_BUFFERED = 4
DLR_SMSC_ACK = 8
DLR_SMSC_REJECT = 16


def kannel_binaries() -> tuple[str, str] | None:
    """Paths of bearerbox and smsbox (the Debian package puts them in /usr/sbin), or None."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
    bearerbox = shutil.which("bearerbox", path=path)
    smsbox = shutil.which("smsbox", path=path)
    return (bearerbox, smsbox) if bearerbox and smsbox else None


def require_kannel() -> tuple[str, str]:
    """The binaries; the test is skipped without them, except on CI (CI=true), where
    ``.ci/run`` installs Kannel and its absence is a failure."""
    binaries = kannel_binaries()
    if binaries is None:
        reason = "Kannel (bearerbox, smsbox) is not installed: apt-get install kannel"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: .ci/run installs it)")
        pytest.skip(reason)
    return binaries


def free_port() -> int:
    """A port free on HOST now (Kannel takes its ports from its config file, not port 0)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


# --- the DLR receiver ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Dlr:
    """One callback: the query of the dlr-url Kannel called."""

    type: int
    id: str  # the test's own id of the sendsms request
    smsc_id: str  # %F: the message id smsc gave in submit_sm_resp
    reply: str  # %A: the SMSC's answer ("ACK/" or the receipt text)
    to: str  # %p


class DlrReceiver:
    """A loopback HTTP server in a thread that keeps every DLR callback."""

    def __init__(self) -> None:
        self.dlrs: list[Dlr] = []
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)

                def one(key: str) -> str:
                    return query.get(key, [""])[0]

                receiver._keep(
                    Dlr(
                        type=int(one("type") or -1),
                        id=one("id"),
                        smsc_id=one("smsc_id"),
                        reply=one("reply"),
                        to=one("to"),
                    )
                )
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"OK")

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.port: int = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _keep(self, dlr: Dlr) -> None:
        with self.changed:
            if len(self.dlrs) < MAX_CALLBACKS:
                self.dlrs.append(dlr)
            self.changed.notify_all()

    def url(self, message: str) -> str:
        """The dlr-url for the test's message id ``message`` (Kannel fills in the escapes)."""
        return (
            f"http://{HOST}:{self.port}/dlr?type=%d&id={message}&smsc_id=%F&reply=%A&to=%p"
        )

    def of(self, message: str) -> list[Dlr]:
        with self.changed:
            return [dlr for dlr in self.dlrs if dlr.id == message]

    def wait_for(
        self, condition: Callable[[list[Dlr]], bool], what: str, timeout: float = WAIT
    ) -> list[Dlr]:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not condition(self.dlrs):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"timed out waiting for {what}; DLRs so far: {self.dlrs}")
                self.changed.wait(remaining)
            return list(self.dlrs)

    def __enter__(self) -> DlrReceiver:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=STOP_TIMEOUT)


# --- the config and the processes ----------------------------------------------------------


@dataclass
class KannelConfig:
    smsc_port: int
    system_id: str
    password: str
    transceiver: bool  # transceiver-mode = true; else a transmitter and a receiver
    extra_smsc: dict[str, str] = field(default_factory=dict)  # more keys of the smsc group
    admin_port: int = field(default_factory=free_port)
    smsbox_port: int = field(default_factory=free_port)
    sendsms_port: int = field(default_factory=free_port)

    def text(self, directory: Path) -> str:
        """kannel.conf: Kannel's defaults except for what a test setup needs."""
        smsc = {
            "smsc": "smpp",
            "smsc-id": "smsc",
            "host": HOST,
            "port": str(self.smsc_port),
            "smsc-username": f'"{self.system_id}"',
            "smsc-password": f'"{self.password}"',
            "system-type": "VMA",  # required by Kannel; the user guide's value
            "reconnect-delay": "1",
        }
        smsc.update(self.extra_smsc)
        if self.transceiver:
            smsc_groups = [{"group": "smsc", **smsc, "transceiver-mode": "true"}]
        else:
            # Kannel 1.4.5 refuses ``port`` and ``receive-port`` in one group: a transmitter
            # group and a receiver group (port 0: no transmitter) with the same smsc-id, so
            # the receiver's DLRs find the transmitter's messages.
            receiver = {**smsc, "port": "0", "receive-port": str(self.smsc_port)}
            smsc_groups = [{"group": "smsc", **smsc}, {"group": "smsc", **receiver}]
        groups = [
            {
                "group": "core",
                "admin-port": str(self.admin_port),
                "admin-interface": HOST,
                "admin-password": ADMIN_PASSWORD,
                "status-password": ADMIN_PASSWORD,
                "admin-allow-ip": HOST,
                "smsbox-port": str(self.smsbox_port),
                "smsbox-interface": HOST,
                "box-allow-ip": HOST,
                "dlr-storage": "internal",
                "log-file": f'"{directory / "bearerbox.log"}"',
                "log-level": "0",
            },
            *smsc_groups,
            {
                "group": "smsbox",
                "bearerbox-host": HOST,
                "bearerbox-port": str(self.smsbox_port),
                "sendsms-port": str(self.sendsms_port),
                "sendsms-interface": HOST,
                "log-file": f'"{directory / "smsbox.log"}"',
                "log-level": "0",
            },
            {
                "group": "sendsms-user",
                "username": SENDSMS_USER,
                "password": SENDSMS_PASSWORD,
                "max-messages": "5",
                "concatenation": "true",
            },
        ]
        return "\n".join(
            "\n".join(f"{key} = {value}" for key, value in group.items()) + "\n"
            for group in groups
        )


@dataclass
class Kannel:
    config: KannelConfig
    directory: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, binaries: tuple[str, str]) -> None:
        conf = self.directory / "kannel.conf"
        conf.write_text(self.config.text(self.directory))
        for name, binary in zip(("bearerbox", "smsbox"), binaries, strict=True):
            with (self.directory / f"{name}.out").open("ab") as out:
                self.processes[name] = subprocess.Popen(
                    [binary, str(conf)],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    cwd=self.directory,
                )
            if name == "bearerbox":
                self._wait_http(self.config.admin_port, "bearerbox's admin port")

    def stop(self) -> None:
        """SIGTERM to the processes this object started (smsbox first), SIGKILL after a timeout."""
        for name in ("smsbox", "bearerbox"):
            process = self.processes.get(name)
            if process is None or process.poll() is not None:
                continue
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)

    def logs(self, lines: int = 80) -> str:
        parts = []
        for name in ("bearerbox.log", "smsbox.log", "bearerbox.out", "smsbox.out"):
            path = self.directory / name
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {name} (last {lines} lines)\n" + "\n".join(tail))
        return "\n".join(parts)

    def _check_running(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}")

    def _wait_http(self, port: int, what: str) -> None:
        deadline = time.monotonic() + WAIT
        while True:
            self._check_running()
            try:
                with socket.create_connection((HOST, port), timeout=1.0):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{what} ({port}) did not open") from None
                time.sleep(0.1)

    def status(self) -> str:
        url = (
            f"http://{HOST}:{self.config.admin_port}/status.txt?"
            + urllib.parse.urlencode({"password": ADMIN_PASSWORD})
        )
        with urllib.request.urlopen(url, timeout=5.0) as response:
            text: str = response.read().decode("utf-8", "replace")
            return text

    def wait_online(self) -> None:
        """Until the smsc connection is online on bearerbox's status page and smsbox has
        connected and opened its sendsms port."""
        deadline = time.monotonic() + WAIT
        status = ""
        while True:
            self._check_running()
            with suppress(OSError):  # not answering yet (URLError is an OSError)
                status = self.status()
            smsc_lines = [line for line in status.splitlines() if "SMPP:" in line]
            if smsc_lines and all("(online" in line for line in smsc_lines) and (
                "Box connections:" in status and "smsbox:" in status
            ):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"Kannel's SMPP bind is not online: {status}")
            time.sleep(0.2)
        self._wait_http(self.config.sendsms_port, "smsbox's sendsms port")

    def sendsms(self, **params: str) -> tuple[int, str]:
        """GET /cgi-bin/sendsms with the test's sendsms-user; Kannel's status and answer."""
        query = urllib.parse.urlencode(
            {"username": SENDSMS_USER, "password": SENDSMS_PASSWORD, **params}
        )
        url = f"http://{HOST}:{self.config.sendsms_port}/cgi-bin/sendsms?{query}"
        try:
            with urllib.request.urlopen(url, timeout=WAIT) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")


@contextmanager
def running_kannel(config: KannelConfig, directory: Path) -> Iterator[Kannel]:
    """Kannel started, online, and stopped at the end whatever happens; its logs are printed
    (pytest shows them with the failure) when the block raises."""
    binaries = require_kannel()
    directory.mkdir(parents=True, exist_ok=True)
    kannel = Kannel(config, directory)
    try:
        kannel.start(binaries)
        kannel.wait_online()
        yield kannel
    except BaseException:
        print(kannel.logs())
        raise
    finally:
        kannel.stop()
