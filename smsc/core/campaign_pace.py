"""How fast a running campaign goes: how many contacts its next step may take, and when the
step after it comes. A server keeps one :class:`CampaignPace` per campaign it runs (its
timer asks; smsc.server.campaigns); everything here is arithmetic on the times it is given.

- **Throughput** (``Campaign.throughput``, messages a second; 0: no limit of its own): an
  allowance that grows at that rate, at most a second's worth (a campaign idle for a while
  does not burst), and shrinks by the messages each step sent.
- **The account's throughput** (its bucket, shared with its SMPP binds and HTTP sends): a step
  takes no more contacts than the bucket has room for; a contact the bucket refuses anyway is
  tried again at a later step.
- **At most** :data:`STEP` contacts a step: a step's submits are prepared on the event loop and
  committed in one transaction, so it bounds both a commit's size and the memory a step holds;
  at most :data:`SHARED_STEP` while other submits (SMPP, HTTP) were committed since the
  campaign's last step: their commits take turns with the campaign's, so a smaller step is a
  shorter wait for them.
- **When next**: at once after a full step of a campaign without a limit; after
  :data:`RETRY` when contacts were held back (throttled, a full queue); after the allowance
  has room again for a limited one; after :data:`IDLE` when nothing was due (every contact
  sent, or waiting for its window: looked at again then); never when the campaign stopped
  running (paused, cancelled, done: the server's poll of the store finds it again if it is
  resumed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from smsc.core.campaign_runner import StepResult
from smsc.store.campaign_records import CampaignState

STEP: Final = 500  # contacts a step takes at most
SHARED_STEP: Final = 100  # ... while other submits are being committed
IDLE: Final = 1.0  # seconds until a campaign with nothing due is looked at again
RETRY: Final = 0.1  # seconds until contacts held back for now are tried again
SHORTEST: Final = 0.05  # seconds between the steps of a campaign with a throughput


@dataclass(slots=True)
class CampaignPace:
    most: int = STEP
    idle: float = IDLE
    _allowance: float | None = None  # messages the campaign's throughput allows now
    _at: float = 0.0
    _asked: int = 0  # the last step's budget

    def budget(self, throughput: float, now: float, room: float = math.inf, *,
               shared: bool = False) -> int:
        """Contacts the next step may take at ``now``: at most ``most`` (:data:`SHARED_STEP`
        when ``shared``: other submits were committed since the last step), what the
        campaign's ``throughput`` allows, and ``room`` (the account's throughput bucket)."""
        most = min(self.most, SHARED_STEP) if shared else self.most
        if throughput > 0:
            cap = max(1.0, throughput)
            if self._allowance is None:
                self._allowance = cap
            elif now > self._at:
                self._allowance = min(cap, self._allowance + (now - self._at) * throughput)
            self._at = now
            most = min(most, int(self._allowance + 1e-9))
        if room < most:
            most = max(0, int(room + 1e-9))
        self._asked = most
        return most

    def after(self, result: StepResult, throughput: float) -> float | None:
        """Seconds until the next step after ``result`` (None: the campaign stopped running)."""
        if result.state != CampaignState.RUNNING:
            return None
        if throughput > 0 and self._allowance is not None:
            self._allowance = max(0.0, self._allowance - result.sent)
        if result.held:
            return RETRY
        if result.taken < self._asked or not result.taken:
            return self.idle  # the lists are read to their end; the rest waits for its window
        if throughput <= 0:
            return 0.0
        missing = 1.0 - (self._allowance or 0.0)
        return max(SHORTEST, missing / throughput) if missing > 0 else SHORTEST

    def wait_for_room(self, room_in: float) -> float:
        """Seconds until a step when the account's bucket has no room: its own wait, at least
        :data:`SHORTEST`, at most :data:`IDLE`."""
        return min(self.idle, max(SHORTEST, room_in))


__all__ = ["IDLE", "RETRY", "SHARED_STEP", "SHORTEST", "STEP", "CampaignPace"]
