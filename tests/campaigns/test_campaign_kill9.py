"""kill -9 in the middle of a campaign, then a restart: each contact gets exactly one message.
A real process runs the core's runner on a SQLite file (tests/campaigns/campaign_worker.py) and
is killed with SIGKILL once some contacts are marked; a second process finishes the campaign."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from smsc.store.campaign_records import CampaignState
from smsc.store.sqlite import SqliteStore
from tests.campaigns.test_campaign_runner import _sent_to, _setup

ROOT = Path(__file__).resolve().parents[2]
NUMBERS = [f"38067{i:07d}" for i in range(3000)]  # seconds of work: killed mid-way


def _worker(db: Path, campaign_id: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.campaigns.campaign_worker", str(db),
                             str(campaign_id)], cwd=ROOT, stdout=subprocess.PIPE, text=True)


def test_kill_9_then_restart_sends_each_contact_once(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    store = SqliteStore(db)
    campaign_id = _setup(store, NUMBERS, window="")
    store.close()
    first = _worker(db, campaign_id)
    watcher = SqliteStore(db)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and sum(watcher.campaign_counts(campaign_id)
                                                  .values()) < 40:
            time.sleep(0.01)
        marked = sum(watcher.campaign_counts(campaign_id).values())
        os.kill(first.pid, signal.SIGKILL)
    finally:
        first.wait(timeout=30)
        if first.stdout is not None:
            first.stdout.close()
        watcher.close()
    assert first.returncode == -signal.SIGKILL
    assert 40 <= marked < len(NUMBERS), "the worker finished before it could be killed"
    second = _worker(db, campaign_id)
    out, _ = second.communicate(timeout=120)
    assert second.returncode == 0 and "done" in out
    store = SqliteStore(db)
    try:
        found = store.campaign(campaign_id)
        assert found is not None and found.state == CampaignState.DONE
        assert _sent_to(store) == Counter(NUMBERS)
    finally:
        store.close()
