"""The API keys verified lately (smsc.core.apikeys.VerifiedKeys): kept for their time to live
per (key, address), successes only, bounded, and forgotten on demand."""

from __future__ import annotations

from smsc.core.apikeys import KeyVerdict, VerifiedKeys
from smsc.store.records import Account

NOW = 1_000_000.0
ACCOUNT = Account(system_id="acme", password_hash="x")
GOOD = KeyVerdict(account=ACCOUNT, key_id="k1")


def test_a_verified_key_is_kept_for_its_time_to_live_from_its_address_only() -> None:
    keys = VerifiedKeys(ttl=5.0)
    keys.put("smsc_k1.secret", "10.0.0.1", GOOD, NOW)
    assert keys.get("smsc_k1.secret", "10.0.0.1", NOW + 4.9) == GOOD
    assert keys.get("smsc_k1.secret", "10.0.0.2", NOW) is None  # another address asks the store
    assert keys.get("smsc_k1.other", "10.0.0.1", NOW) is None
    assert keys.get("smsc_k1.secret", "10.0.0.1", NOW + 5.0) is None  # expired, and dropped
    assert len(keys) == 0


def test_a_clock_gone_back_does_not_stretch_the_time_to_live() -> None:
    keys = VerifiedKeys(ttl=5.0)
    keys.put("t", "a", GOOD, NOW)
    assert keys.get("t", "a", NOW - 1.0) is None


def test_refusals_are_never_kept() -> None:
    keys = VerifiedKeys()
    keys.put("t", "a", KeyVerdict(account=None, reason="wrong API key secret"), NOW)
    assert keys.get("t", "a", NOW) is None and len(keys) == 0


def test_bounded_the_oldest_go_first_and_clear_forgets_all() -> None:
    keys = VerifiedKeys(ttl=5.0, limit=3)
    for i in range(5):
        keys.put(f"t{i}", "a", GOOD, NOW)
    assert len(keys) == 3
    assert keys.get("t0", "a", NOW) is None and keys.get("t4", "a", NOW) == GOOD
    keys.clear()
    assert keys.get("t4", "a", NOW) is None


def test_a_time_to_live_of_zero_keeps_nothing() -> None:
    keys = VerifiedKeys(ttl=0.0)
    keys.put("t", "a", GOOD, NOW)
    assert keys.get("t", "a", NOW) is None
