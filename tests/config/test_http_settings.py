"""The ``[http]`` section: off when absent, on at 127.0.0.1:8080 in the packaged config, and
every mistake refused with its key."""

from __future__ import annotations

import pytest

from smsc.config.http import PACKAGED_LISTEN, HttpSettings, http_settings_from_mapping
from smsc.config.loader import config_from_tables, load_config, packaged_defaults
from smsc.config_error import ConfigError


def test_absent_is_off_and_the_packaged_config_listens_on_loopback() -> None:
    assert config_from_tables({}).http == HttpSettings()
    assert HttpSettings().listen == ()
    assert load_config(packaged_defaults()).http.listen == PACKAGED_LISTEN


def test_settings_are_read() -> None:
    settings = http_settings_from_mapping({"listen": [8081, "ssl:8443:privateKey=k.pem"],
                                           "max_body": 65536, "idempotency_ttl": "1h",
                                           "idempotency_max": 5000})
    assert settings.listen == ("tcp:8081:interface=127.0.0.1", "ssl:8443:privateKey=k.pem")
    assert (settings.max_body, settings.idempotency_ttl, settings.idempotency_max) == (
        65536, 3600.0, 5000)
    assert http_settings_from_mapping({"listen": []}).listen == ()


@pytest.mark.parametrize(("table", "key"), [
    ({"listen": "tpc:80"}, "http.listen"), ({"listen": [True]}, "http.listen"),
    ({"max_body": 10}, "http.max_body"), ({"idempotency_ttl": "soon"}, "http.idempotency_ttl"),
    ({"colour": 1}, "http.colour"),
])
def test_mistakes_name_their_key(table: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as e:
        http_settings_from_mapping(table)
    assert key in str(e.value)
