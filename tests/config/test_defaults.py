"""The packaged defaults are the repository's conf/ files, and they load."""

from __future__ import annotations

from pathlib import Path

from smsc.config.loader import load_config, merged_tables, packaged_defaults
from tests.examples import with_examples

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


def test_shipped_config_has_no_rule_or_price_list_for_any_account() -> None:
    """The docs use `acme` in every example: an active rule for it in the shipped files would
    silently change the outcomes and prices of whoever follows them."""
    data, _ = merged_tables(packaged_defaults())
    assert data.get("account_prices", {}) == {}
    for section in ("outcome_rules", "mo_rules"):
        for rule in data.get(section, []):
            assert not rule.get("account"), (section, rule)
    config = load_config(packaged_defaults())
    assert not config.routing.account_prices


def test_commented_examples_in_the_shipped_files_are_valid(tmp_path: Path) -> None:
    packaged = packaged_defaults().parent
    for name in ("smsc.toml", "operators.toml", "routes.toml"):
        text = (packaged / name).read_text()
        (tmp_path / name).write_text(with_examples(text))
    data, _ = merged_tables(tmp_path / "smsc.toml")
    assert "acme" in data["account_prices"]
    assert [r.get("account") for r in data["outcome_rules"]][:2] == ["acme", "acme"]
    load_config(tmp_path / "smsc.toml")
