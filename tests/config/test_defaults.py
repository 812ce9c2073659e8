"""The packaged defaults are the repository's conf/ files, and they load."""

from __future__ import annotations

from pathlib import Path

from smsc.config.loader import load_config, packaged_defaults

ROOT = Path(__file__).resolve().parents[2]


def test_packaged_defaults_are_the_conf_files() -> None:
    packaged = packaged_defaults().parent
    for name in ("smsc.toml", "operators.toml", "routes.toml"):
        assert (packaged / name).read_text() == (ROOT / "conf" / name).read_text(), name


def test_defaults_load_with_a_route_for_every_country_code() -> None:
    config = load_config(packaged_defaults())
    table = config.routing.route_table()
    for number in ("380671234567", "441234567890", "61491570006", "12025550100"):
        assert table.longest(number) is not None, number
    assert config.server.listen == ("tcp:2775:interface=127.0.0.1",)
