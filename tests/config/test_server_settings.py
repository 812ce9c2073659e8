"""The [server] section: each setting checked with its path in the error."""

from datetime import UTC

import pytest

from smsc.config.errors import ConfigError
from smsc.config.server import server_settings_from_mapping
from smsc.pdu.constants import CommandStatus


def test_defaults_and_given_values() -> None:
    default = server_settings_from_mapping({})
    assert default.metrics == "" and default.listen == ("tcp:2775:interface=127.0.0.1",)
    given = server_settings_from_mapping({"server": {
        "metrics": "tcp:9465:interface=127.0.0.1", "window": 10, "commit_delay": "2ms",
        "window_full_status": "queue_full", "message_id_format": "decimal"}})
    assert given.metrics == "tcp:9465:interface=127.0.0.1"
    assert (given.window, given.commit_delay, given.hex_ids) == (10, 0.002, False)
    assert given.window_full_status == CommandStatus.ESME_RMSGQFUL
    assert default.receipt_zone is UTC
    kyiv = server_settings_from_mapping({"server": {"receipt_time_zone": "Europe/Kyiv"}})
    assert str(kyiv.receipt_zone) == "Europe/Kyiv"


@pytest.mark.parametrize(("key", "value", "says"), [
    ("metrics", 9465, "endpoint string"),
    ("window", 0, "between 1"),
    ("system_id", "x" * 16, "15 characters"),
    ("listen", [], "endpoint strings"),
    ("bogus", 1, "is not a setting"),
    ("receipt_time_zone", "Mars/Olympus", "not a time zone"),
    ("receipt_time_zone", 2, "time zone name"),
])
def test_mistakes_name_their_setting(key: str, value: object, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        server_settings_from_mapping({"server": {key: value}})
    assert f"server.{key}" in str(caught.value) and says in str(caught.value)


def test_lockout_and_bind_settings() -> None:
    default = server_settings_from_mapping({})
    assert (default.lock_after, default.unknown_id_lock_after, default.lock_for) == (3, 10, 10800)
    assert (default.pending_binds, default.pending_binds_per_address) == (4, 8)
    assert (default.queued_binds, default.bind_refusal_delay) == (256, 1.0)
    assert default.hash_threads == 2
    assert default.test_account.lock_after == 0
    given = server_settings_from_mapping({
        "server": {"lock_after": 0, "unknown_id_lock_after": 0, "pending_binds": 4,
                   "pending_binds_per_address": 4, "hash_threads": 1},
        "test_account": {"lock_after": 5}})
    assert (given.lock_after, given.unknown_id_lock_after) == (0, 0)
    assert (given.pending_binds, given.pending_binds_per_address, given.hash_threads) == (4, 4, 1)
    assert given.test_account.lock_after == 5


@pytest.mark.parametrize(("tables", "path", "says"), [
    ({"server": {"lock_after": -1}}, "server.lock_after", "between 0"),
    ({"server": {"unknown_id_lock_after": "ten"}}, "server.unknown_id_lock_after", "whole number"),
    ({"server": {"pending_binds": 0}}, "server.pending_binds", "between 1"),
    ({"server": {"hash_threads": 65}}, "server.hash_threads", "between 1 and 64"),
    ({"server": {"queued_binds": 0}}, "server.queued_binds", "between 1"),
    ({"server": {"bind_refusal_delay": "2m"}}, "server.bind_refusal_delay", "at most 60 s"),
    ({"test_account": {"lock_after": -2}}, "test_account.lock_after", "between 0"),
    ({"test_account": {"lock_after": True}}, "test_account.lock_after", "whole number"),
])
def test_lockout_mistakes_name_their_setting(tables: dict[str, dict[str, object]], path: str,
                                             says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        server_settings_from_mapping(tables)
    assert path in str(caught.value) and says in str(caught.value)
