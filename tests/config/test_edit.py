"""Editing the config files: values change where they stand, new tables go where a person would
put them, every comment stays, and nothing invalid is written."""

from __future__ import annotations

import difflib
import shutil
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from smsc.config.check import check_config
from smsc.config.edit import ConfigEditor, EditError, render_value
from smsc.config_error import ConfigError

CONF = Path(__file__).resolve().parents[2] / "conf"


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    for name in ("smsc.toml", "operators.toml", "routes.toml"):
        shutil.copyfile(CONF / name, tmp_path / name)
    return tmp_path / "smsc.toml"


def comments(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("#")]


def test_values_change_in_place_and_comments_stay(conf: Path) -> None:
    editor = ConfigEditor.open(conf)
    ops = conf.parent / "operators.toml"
    before = ops.read_text()
    editor.set_values(
        ("operators", "kyivstar"),
        {
            "throughput": 50,
            "outcomes": [
                {"stat": "DELIVRD", "weight": 9},
                {"stat": "UNDELIV", "weight": 1, "err": 1},
            ],
        },
    )
    assert editor.save() == [ops]
    after = ops.read_text()
    assert comments(after) == comments(before)
    data = tomllib.loads(after)["operators"]["kyivstar"]
    assert data["throughput"] == 50
    assert data["outcomes"][1] == {"stat": "UNDELIV", "weight": 1, "err": 1}
    # Only the edited lines differ.
    diff = [
        line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:1] in "+-"
    ]
    assert sorted(line for line in diff if line[0] == "+") == [
        '+   { stat = "DELIVRD", weight = 9 },',
        '+   { stat = "UNDELIV", weight = 1, err = 1 },',
        "+ throughput = 50",
    ]
    assert len([line for line in diff if line[0] == "-"]) == 8  # throughput and 7 outcomes


def test_a_new_key_goes_after_the_last_line_of_its_table(conf: Path) -> None:
    editor = ConfigEditor.open(conf)
    editor.set_values(("operators", "default"), {"burst": 7})
    text = editor.texts[conf.parent / "operators.toml"]
    lines = text.splitlines()
    at = lines.index("burst = 7")
    assert lines[at - 1] == 'max_validity = "72h"'
    assert lines[at - 4] == 'title = "Default operator"'
    # The comments about outcome rules that followed [operators.default] still follow it.
    assert lines[at + 1] == ""
    assert lines[at + 2].startswith("# Outcome rules replace")


def test_a_new_table_goes_after_its_siblings_and_removal_leaves_the_rest(conf: Path) -> None:
    editor = ConfigEditor.open(conf)
    ops = conf.parent / "operators.toml"
    before = ops.read_text()
    editor.add_table(
        ("operators", "testnet"), {"title": "Test", "delay": {"kind": "fixed", "value": "1s"}}
    )
    text = editor.texts[ops]
    assert '[operators.testnet]\ntitle = "Test"\ndelay = { kind = "fixed", value = "1s" }\n' in text
    assert text.index("[operators.testnet]") < text.index("# Outcome rules replace")
    assert text.index("[operators.default]") < text.index("[operators.testnet]")
    editor.remove_table(("operators", "testnet"))
    assert editor.texts[ops] == before
    editor.remove_table(("operators", "utel"))
    assert "[operators.utel]" not in editor.texts[ops]
    assert comments(editor.texts[ops]) == comments(before)
    editor.save()
    assert "utel" not in tomllib.loads(ops.read_text())["operators"]


def test_array_tables_append_and_remove(conf: Path) -> None:
    editor = ConfigEditor.open(conf)
    routes = conf.parent / "routes.toml"
    index = editor.append_array_table(
        "routes", {"name": "extra", "prefix": "4420", "operators": ["default"], "price": "0.07"}
    )
    assert index == 9
    text = editor.texts[routes]
    assert text.index('name = "extra"') < text.index("# Coverage rules force")
    editor.remove_table(("routes", 4))  # utel, with the comment inside its body
    editor.save()
    data = tomllib.loads(routes.read_text())
    assert [r["name"] for r in data["routes"]][3:] == [
        "peoplenet",
        "intertelecom",
        "ukraine-other",
        "international",
        "extra",
    ]
    assert "Utel, now 3Mob" not in routes.read_text()


def test_removing_a_key_and_setting_inside_an_element(conf: Path) -> None:
    editor = ConfigEditor.open(conf)
    editor.set_values(("routes", 1), {"price": "0.031", "currency": "EUR"})
    editor.remove_keys(("routes", 1), ["prefixes", "absent"])
    editor.set_values(("routes", 1), {"prefix": "38063"})
    route = tomllib.loads(editor.texts[conf.parent / "routes.toml"])["routes"][0]
    assert route == {
        "name": "lifecell",
        "operators": ["lifecell"],
        "price": "0.031",
        "currency": "EUR",
        "prefix": "38063",
    }


def test_an_invalid_result_is_refused_and_nothing_is_written(conf: Path) -> None:
    editor = ConfigEditor.open(conf)
    ops = conf.parent / "operators.toml"
    before = ops.read_text()
    editor.set_values(("operators", "kyivstar"), {"default_validity": "100h"})
    with pytest.raises(ConfigError) as caught:
        editor.save()
    assert caught.value.path == "operators.kyivstar.default_validity"
    assert caught.value.line is not None
    lines = editor.texts[ops].splitlines()
    assert 'default_validity = "100h"' in lines[caught.value.line - 1]
    assert ops.read_text() == before
    assert check_config(conf).ok


def test_a_table_written_inline_or_dotted_is_not_edited(tmp_path: Path) -> None:
    main = tmp_path / "smsc.toml"
    main.write_text("operators = { kyivstar = { throughput = 5 } }\n[simulation]\nseed = 1\n")
    editor = ConfigEditor.open(main)
    with pytest.raises(EditError):
        editor.set_values(("operators", "kyivstar"), {"throughput": 6})
    main.write_text("[operators]\nkyivstar.throughput = 5\n")
    editor = ConfigEditor.open(main)
    with pytest.raises(EditError):
        editor.set_values(("operators", "kyivstar"), {"throughput": 6})
    assert main.read_text() == "[operators]\nkyivstar.throughput = 5\n"


def test_a_section_new_to_every_file_goes_to_the_file_of_its_siblings(tmp_path: Path) -> None:
    main = tmp_path / "smsc.toml"
    main.write_text('include = ["ops.toml"]\n\n[server]\nwindow = 10\n')
    (tmp_path / "ops.toml").write_text("# operators\n[simulation]\nseed = 3\n")
    editor = ConfigEditor.open(main)
    editor.add_table(("operators", "x"), {"throughput": 1}, siblings=("simulation",))
    assert editor.save() == [tmp_path / "ops.toml"]
    assert (tmp_path / "ops.toml").read_text() == (
        "# operators\n[simulation]\nseed = 3\n\n[operators.x]\nthroughput = 1\n"
    )


def test_a_file_that_is_not_toml_cannot_be_opened(conf: Path) -> None:
    (conf.parent / "routes.toml").write_text("[money\n")
    with pytest.raises(ConfigError) as caught:
        ConfigEditor.open(conf)
    assert caught.value.line == 1


def test_render_value() -> None:
    assert render_value({"a": 1, "b c": "x"}) == '{ a = 1, "b c" = "x" }'
    assert render_value([1, "two"]) == '[1, "two"]'
    assert render_value(datetime(2030, 1, 1, 2, tzinfo=UTC)) == "2030-01-01T02:00:00Z"
    assert render_value('say "hi"') == '"say \\"hi\\""'
    with pytest.raises(EditError):
        render_value(object())


def test_the_save_is_atomic_and_keeps_permissions(conf: Path) -> None:
    routes = conf.parent / "routes.toml"
    routes.chmod(0o640)
    editor = ConfigEditor.open(conf)
    editor.set_values(("money",), {"decimals": 3})
    inode = routes.stat().st_ino
    editor.save()
    assert routes.stat().st_ino != inode  # replaced by a rename, never rewritten in place
    assert routes.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in conf.parent.iterdir()) == [
        "operators.toml",
        "routes.toml",
        "smsc.toml",
    ]
