"""A process that runs one campaign through the core's runner on a SQLite file until it is done
(or killed): ``python -m tests.campaigns.campaign_worker DB CAMPAIGN_ID``. Used by the kill -9
test; prints "done" at the end."""

from __future__ import annotations

import sys

from smsc.core.campaign_runner import CampaignRunner
from smsc.store.campaign_records import CampaignState
from smsc.store.sqlite import SqliteStore
from tests.campaigns.test_campaign_runner import MORNING_UTC, _core


def main(path: str, campaign_id: int) -> None:
    store = SqliteStore(path)
    core, runner = _core(store), CampaignRunner(store)
    for _ in range(10_000):
        if runner.step(campaign_id, core.intake, MORNING_UTC, 5).state == CampaignState.DONE:
            print("done", flush=True)
            break
    store.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
