"""smsc.core.binds.Throttles without Twisted: one bucket per account, shared by its binds."""

from __future__ import annotations

import dataclasses

from smsc.core.binds import Throttles
from smsc.store.records import Account

ACCOUNT = Account(system_id="acme", password_hash="x", throughput=10.0)


def test_the_binds_of_an_account_share_its_bucket_until_its_throughput_changes() -> None:
    throttles = Throttles()
    first = throttles.caller(ACCOUNT)
    second = throttles.caller(ACCOUNT)
    assert first.account is ACCOUNT and first.throttle is not None
    assert second.throttle is first.throttle
    faster = throttles.throttle(dataclasses.replace(ACCOUNT, throughput=20.0))
    assert faster is not first.throttle
    assert faster is not None and faster.rate == 20.0


def test_an_account_without_a_throughput_limit_has_no_throttle() -> None:
    assert Throttles().caller(dataclasses.replace(ACCOUNT, throughput=0)).throttle is None
