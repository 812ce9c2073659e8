"""The [server] section: each setting checked with its path in the error."""

from datetime import UTC
from pathlib import Path

import pytest

from smsc.config.server import server_settings_from_mapping
from smsc.config_error import ConfigError
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


def test_limits_of_hostile_peers() -> None:
    default = server_settings_from_mapping({})
    assert (default.output_buffer, default.drain_timeout, default.listen_backlog) == (
        64 * 1024, 20.0, 1024)
    given = server_settings_from_mapping({"server": {
        "output_buffer": 65536, "drain_timeout": "5s", "unbound_error_limit": 3,
        "listen_backlog": 4096, "max_connections": 100, "max_connections_per_address": 7}})
    assert (given.output_buffer, given.drain_timeout, given.unbound_error_limit) == (65536, 5.0, 3)
    assert (given.listen_backlog, given.max_connections,
            given.max_connections_per_address) == (4096, 100, 7)


def test_a_bare_port_listens_on_the_loopback_address() -> None:
    settings = server_settings_from_mapping({"server": {"listen": ["2776", 2777],
                                                        "metrics": "9465"}})
    assert settings.listen == ("tcp:2776:interface=127.0.0.1", "tcp:2777:interface=127.0.0.1")
    assert settings.metrics == "tcp:9465:interface=127.0.0.1"
    kept = ("tcp:0:interface=127.0.0.1", "ssl:3550:privateKey=k.pem:certKey=c.pem",
            "tcp6:2775:interface=\\:\\:1", "unix:/tmp/smsc.sock")
    assert server_settings_from_mapping({"server": {"listen": list(kept)}}).listen == kept


@pytest.mark.parametrize(("key", "value", "says"), [
    ("metrics", 9465, "endpoint string"),
    ("window", 0, "between 1"),
    ("system_id", "x" * 16, "15 characters"),
    ("listen", [], "endpoint strings"),
    ("listen", ["2775:interface=127.0.0.1"], "is not an endpoint"),
    ("listen", ["tcp:27750000"], "0 to 65535"),
    ("listen", ["tcp:2775:interface=localhost:x"], "not an IP address"),
    ("listen", ["tcp:interface=127.0.0.1"], "give the port"),
    ("listen", ["ssl:3550"], "privateKey"),
    ("metrics", "http://127.0.0.1:9465", "is not an endpoint"),
    ("bogus", 1, "is not a setting"),
    ("receipt_time_zone", "Mars/Olympus", "not a time zone"),
    ("receipt_time_zone", 2, "time zone name"),
    ("drain_timeout", "0s", "longer than 0"),
    ("output_buffer", 1024, "between 4096"),
    ("max_connections", 0, "between 1"),
    ("max_connections_per_address", "many", "whole number"),
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
    assert default.hash_threads == 2 and default.pin_cpu == -1
    assert server_settings_from_mapping({"server": {"pin_cpu": 1}}).pin_cpu == 1
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
    ({"server": {"pin_cpu": -2}}, "server.pin_cpu", "between -1 and 4095"),
    ({"server": {"pin_cpu": "0"}}, "server.pin_cpu", "whole number"),
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


def test_a_nodes_id_is_configured_or_generated_once_and_kept(tmp_path: Path) -> None:
    from smsc.config.node import node_id

    named = server_settings_from_mapping({"server": {"node": "smsc-a.1", "node_lease": "3s"}})
    assert (node_id(named), named.node_lease) == ("smsc-a.1", 3.0)
    kept = tmp_path / "state" / "node-id"
    kept.parent.mkdir()
    generated = server_settings_from_mapping({"server": {"node_file": str(kept)}})
    first = node_id(generated)
    assert kept.read_text().strip() == first and node_id(generated) == first  # a restart
    kept.write_text("not an id!\n")
    with pytest.raises(ConfigError, match=r"server\.node_file"):
        node_id(generated)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("node", "a b", "letters, digits"),
    ("node", "x" * 65, "letters, digits"),
    ("node", 7, "must be a string"),
    ("node_file", "", "non-empty"),
    ("node_lease", "0.5s", "between 1 s and 10 min"),
])
def test_node_settings_are_checked(key: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        server_settings_from_mapping({"server": {key: value}})
    assert f"server.{key}" in str(error.value)


def test_webhook_batch_is_bounded_and_reaches_the_policy() -> None:
    from smsc.server.service import webhook_policy

    assert server_settings_from_mapping({}).webhook_batch == 100
    assert webhook_policy(server_settings_from_mapping({})).batch == 100
    one = server_settings_from_mapping({"server": {"webhook_batch": 1}})
    assert webhook_policy(one).batch == 1
    assert server_settings_from_mapping({"server": {"webhook_batch": 1000}}).webhook_batch == 1000
    for wrong in (0, 1001, "10", True):
        with pytest.raises(ConfigError) as caught:
            server_settings_from_mapping({"server": {"webhook_batch": wrong}})
        assert "server.webhook_batch" in str(caught.value)
