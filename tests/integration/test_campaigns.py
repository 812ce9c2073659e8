"""Campaigns in a running ``smsc serve``: made and started with the CLI on the server's database,
noticed by the server's poll, sent through the submit path, reported.

- A list imported from CSV, a campaign started: every contact gets exactly one message, the
  customer's receiver bind gets a receipt for each, and the report counts them delivered.
- kill -9 of the server in the middle of a campaign, then a restart on the same database: the
  campaign finishes, each contact with exactly one message, none skipped (read from the store).
- Credit running out pauses the campaign with that reason; ``smsc credit topup`` resumes it.
- ``smsc campaign pause`` stops the sending on the running server; ``resume`` finishes it.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from smsc.store.records import MessageFilter
from smsc.store.sqlite import SqliteStore
from tests.integration.conftest import (
    RECEIPT_TIMEOUT,
    SmscServer,
    bound_esme,
    run_cli,
    write_config,
)

CAMPAIGN_TIMEOUT = 30.0  # seconds for a campaign of a few hundred contacts to end


def _numbers(count: int, base: int = 380671000000) -> list[str]:
    return [str(base + i) for i in range(count)]


def _csv(path: Path, numbers: list[str]) -> Path:
    path.write_text("name;phone\n" + "".join(f"N{i};+{n}\n" for i, n in enumerate(numbers)))
    return path


def _campaign(db: Path, account: str, csv: Path, *options: str) -> None:
    run_cli(db, "list", "create", "spring", "--account", account, "--country", "UA")
    run_cli(db, "list", "import", "spring", str(csv), "--account", account)
    run_cli(db, "campaign", "create", "spring", "--account", account, "--list", "spring",
            "--text", "Hello {name}", "--from", "Shop", *options)
    run_cli(db, "campaign", "start", "spring", "--account", account)


def _show(db: Path, account: str) -> dict[str, object]:
    shown: dict[str, object] = json.loads(run_cli(db, "campaign", "show", "spring",
                                                  "--account", account, "--json"))
    return shown


def _wait(what: str, condition: Callable[[], bool], timeout: float = CAMPAIGN_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _sent_to(db: Path, account: str) -> Counter[str]:
    store = SqliteStore(db)
    try:
        return Counter(m.destination_addr for m in store.messages(MessageFilter(account=account)))
    finally:
        store.close()


def test_a_campaign_from_csv_is_sent_once_per_contact_with_receipts_and_a_report(
        smsc: SmscServer, tmp_path: Path) -> None:
    login = smsc.add_account(credit="100")
    numbers = _numbers(120, 380671100000)
    with bound_esme(smsc.port, "rx", login) as receiver:
        _campaign(smsc.db, login.system_id, _csv(tmp_path / "c.csv", numbers))
        receiver.wait_receipts(len(numbers), timeout=CAMPAIGN_TIMEOUT + RECEIPT_TIMEOUT)
        receiver.listen(0.3)  # nothing more: one receipt per contact
        assert len(receiver.receipts()) == len(numbers)
    _wait("the campaign to be done", lambda: _show(smsc.db, login.system_id)["state"] == "done")
    assert _sent_to(smsc.db, login.system_id) == Counter(numbers)
    report = json.loads(run_cli(smsc.db, "campaign", "report", "spring", "--account",
                                login.system_id, "--json"))
    assert report["marks"] == {"sent": len(numbers)}
    assert report["outcomes"] == {"DELIVRD": len(numbers)}
    assert report["delivery_rate"] == 1.0
    assert report["charged"] == "3.60"  # 120 x 0.03


@pytest.mark.slow
def test_kill_9_mid_campaign_then_restart_sends_each_contact_exactly_once(
        servers: Callable[..., SmscServer], tmp_path: Path) -> None:
    config = write_config(tmp_path)
    db = tmp_path / "smsc.sqlite"
    first = servers(db, config)
    login = first.add_account(credit="1000")
    numbers = _numbers(1500, 380672000000)
    # 300 a second: five seconds of sending, killed after the first hundred or so.
    _campaign(db, login.system_id, _csv(tmp_path / "c.csv", numbers), "--throughput", "300")

    def marked() -> int:
        counts = _show(db, login.system_id)["counts"]
        assert isinstance(counts, dict)
        return sum(counts.values())

    _wait("the first contacts to be sent", lambda: marked() >= 100)
    first.kill9()
    at_kill = marked()
    assert at_kill < len(numbers), "the campaign ended before the kill"
    assert _show(db, login.system_id)["state"] == "running"
    servers(db, config)
    _wait("the campaign to be done after the restart",
          lambda: _show(db, login.system_id)["state"] == "done")
    assert _sent_to(db, login.system_id) == Counter(numbers)  # each once, none skipped
    assert _show(db, login.system_id)["counts"] == {"sent": len(numbers)}


def test_credit_running_out_pauses_the_campaign_and_a_top_up_resumes_it(
        smsc: SmscServer, tmp_path: Path) -> None:
    login = smsc.add_account(credit="0.30")  # ten messages at 0.03
    numbers = _numbers(25, 380673000000)
    _campaign(smsc.db, login.system_id, _csv(tmp_path / "c.csv", numbers))
    _wait("the pause for credit", lambda: _show(smsc.db, login.system_id)["state"] == "paused")
    shown = _show(smsc.db, login.system_id)
    assert shown["pause_reason"] == "no credit"
    assert shown["counts"] == {"sent": 10}
    time.sleep(1.0)  # polls go by: still paused, nothing more sent
    assert sum(_sent_to(smsc.db, login.system_id).values()) == 10
    smsc.cli("credit", "topup", login.system_id, "1")
    _wait("the campaign to resume and finish",
          lambda: _show(smsc.db, login.system_id)["state"] == "done")
    assert _sent_to(smsc.db, login.system_id) == Counter(numbers)


def test_pause_and_resume_from_the_cli_act_on_the_running_server(
        smsc: SmscServer, tmp_path: Path) -> None:
    login = smsc.add_account(credit="100")
    numbers = _numbers(150, 380674000000)
    _campaign(smsc.db, login.system_id, _csv(tmp_path / "c.csv", numbers), "--throughput", "50")

    def sent() -> int:
        return sum(_sent_to(smsc.db, login.system_id).values())

    _wait("the first messages", lambda: sent() >= 20)
    smsc.cli("campaign", "pause", "spring", "--account", login.system_id)
    time.sleep(1.0)  # a step under way may still commit
    paused = sent()
    time.sleep(1.5)  # polls and steps go by: nothing more
    assert sent() == paused < len(numbers)
    assert _show(smsc.db, login.system_id)["pause_reason"] == "by hand"
    smsc.cli("campaign", "resume", "spring", "--account", login.system_id)
    _wait("the campaign to finish", lambda: _show(smsc.db, login.system_id)["state"] == "done")
    assert _sent_to(smsc.db, login.system_id) == Counter(numbers)
