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


def test_a_caller_is_made_once_per_account_record_and_its_bucket_keeps_its_tokens() -> None:
    throttles = Throttles()
    first = throttles.caller(ACCOUNT)
    assert throttles.caller(ACCOUNT) is first  # nothing built per request
    assert first.throttle is not None
    assert all(first.throttle.take(0.0) for _ in range(10))
    assert not throttles.caller(ACCOUNT).throttle.take(0.0)  # type: ignore[union-attr]
    renamed = dataclasses.replace(ACCOUNT, standard_statuses=True)  # another record
    context = throttles.caller(renamed)
    assert context is not first and context.account is renamed
    assert context.throttle is first.throttle  # same throughput: the same bucket, spent
    assert throttles.caller(renamed) is context


def test_a_burst_change_alone_gives_a_new_bucket_and_caller() -> None:
    throttles = Throttles()
    first = throttles.caller(ACCOUNT)
    burstier_account = dataclasses.replace(ACCOUNT, burst=50)
    burstier = throttles.caller(burstier_account)
    assert burstier.throttle is not first.throttle
    bucket = throttles.throttle(burstier_account)
    assert bucket is burstier.throttle and bucket is not None and bucket.burst == 50.0
    assert throttles.caller(ACCOUNT).throttle is not burstier.throttle  # and back again
