"""Config checking: every key path is found at its line, and every mistake in every file is
reported with its file and line."""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from hypothesis import given, settings
from hypothesis import strategies as st

from smsc.config.check import check_config, check_texts, load_located, parent_path, scan_layout
from smsc.config_error import ConfigError
from tests.examples import conf_text

CONF = Path(__file__).resolve().parents[2] / "conf"


def paths_of(value: Any, base: str = "") -> Iterator[str]:
    """Every key path of parsed TOML data, as the parsers write them."""
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{base}.{key}" if base else str(key)
            yield path
            yield from paths_of(item, path)
    elif isinstance(value, list):
        for index, item in enumerate(value, 1):
            path = f"{base}[{index}]"
            yield path
            yield from paths_of(item, path)


def last_key(path: str) -> str | None:
    tail = path.rsplit(".", 1)[-1]
    return None if tail.endswith("]") else tail


@pytest.mark.parametrize("name", ["smsc.toml", "operators.toml", "routes.toml"])
def test_every_key_of_the_shipped_files_is_found_on_its_line(name: str) -> None:
    text = (CONF / name).read_text()
    layout = scan_layout(text)
    lines = text.splitlines()
    paths = list(paths_of(tomllib.loads(text)))
    assert len(paths) > 20
    for path in paths:
        span = layout.spans.get(path)
        assert span is not None, path
        key = last_key(path)
        if key is not None:
            assert key in lines[span.line - 1], (path, span.line)


def test_array_elements_and_inline_keys_point_at_their_own_line() -> None:
    layout = scan_layout(conf_text("operators.toml"))
    lines = conf_text("operators.toml").splitlines()
    third = layout.spans["operators.kyivstar.outcomes[3]"]
    assert "err = 11" in lines[third.line - 1]
    assert "median" in lines[layout.line("operators.kyivstar.delay.median") - 1]  # type: ignore[operator]
    assert layout.line("outcome_rules[2]") == layout.line("outcome_rules[2]")
    header = layout.spans["outcome_rules[2]"]
    assert lines[header.line - 1] == "[[outcome_rules]]"


def test_a_path_not_written_is_located_at_its_nearest_ancestor() -> None:
    layout = scan_layout(conf_text("routes.toml"))
    lines = conf_text("routes.toml").splitlines()
    line = layout.line("routes[3].currency")
    assert line == layout.spans["routes[3]"].line
    assert lines[line - 1] == "[[routes]]"
    assert layout.line("account_prices.bob.routes") == layout.spans["account_prices"].line
    assert layout.line("nothing.here") is None


def test_parent_paths() -> None:
    assert parent_path("a.b[2].c") == "a.b[2]"
    assert parent_path("a.b[2]") == "a.b"
    assert parent_path("a") == ""
    assert parent_path("") is None


TRICKY = '''# a comment with [brackets] and key = value
title = "a # not a comment"
text = """
[not.a.table]
fake = 1
"""
literal = 'C:\\path [x]'
"quoted.key" = 1
dotted . inner = 2
array = [ 1, # one
  2,
  [3, 4],
]
inline = { a = 1, b = { c = "x}" } }

[[items]]
name = "first"

[[items]]
name = "second"
sub = { deep = [ { k = 1 }, { k = 2 } ] }

[items.more]
x = 1

[[items.list]]
y = 2
'''


def test_a_tricky_document_is_read_as_tomllib_reads_it() -> None:
    layout = scan_layout(TRICKY)
    lines = TRICKY.splitlines()
    for path in paths_of(tomllib.loads(TRICKY)):
        assert path in layout.spans, path
    assert "fake" not in " ".join(layout.spans)
    assert lines[layout.line("quoted.key") - 1].startswith('"quoted.key"')  # type: ignore[operator]
    assert lines[layout.line("dotted.inner") - 1].startswith("dotted")  # type: ignore[operator]
    assert lines[layout.line("array[2]") - 1].strip() == "2,"  # type: ignore[operator]
    assert layout.line("items[2].sub.deep[2].k") == layout.line("items[2].sub")
    assert layout.line("items[2].more.x") == layout.line("items[2].more") + 1  # type: ignore[operator]
    assert "[[items.list]]" in lines[layout.line("items[2].list[1]") - 1]  # type: ignore[operator]


def test_the_scan_never_raises_on_text_that_is_not_toml() -> None:
    for text in ("[unclosed", 'a = "x', "a = [1, 2", "= 1", "a = {", "[[a]\n", "a = 1 b = 2"):
        scan_layout(text)


keys = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True) | st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=6
)
scalars = (
    st.integers(-(2**40), 2**40)
    | st.booleans()
    | st.text(
        st.characters(codec="utf-8", exclude_categories=("Cs",)),  # type: ignore[arg-type]
        max_size=12,
    )
    | st.floats(allow_nan=False, allow_infinity=False)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=8,
)
documents = st.dictionaries(
    keys,
    values
    | st.dictionaries(keys, values, max_size=3)
    | st.lists(st.dictionaries(keys, values, min_size=1, max_size=3), min_size=1, max_size=3),
    max_size=5,
)


@settings(max_examples=60, deadline=None)
@given(documents)
def test_every_path_of_a_generated_document_is_found(data: dict[str, Any]) -> None:
    text = tomlkit.dumps(data)
    parsed = tomllib.loads(text)
    layout = scan_layout(text)
    lines = text.split("\n")  # TOML lines (str.splitlines also splits at U+0085 and more)
    for path in paths_of(parsed):
        assert path in layout.spans, (path, text)
        span = layout.spans[path]
        key = last_key(path)
        if key is not None and key.isidentifier() and "." not in key:
            assert key in lines[span.line - 1], (path, text)


# --- checking files -------------------------------------------------------------------------


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    for name in ("smsc.toml", "operators.toml", "routes.toml"):
        shutil.copyfile(CONF / name, tmp_path / name)
    return tmp_path


def replace(path: Path, old: str, new: str) -> int:
    """Replace the first ``old`` in the file; the line it is on."""
    text = path.read_text()
    at = text.index(old)
    path.write_text(text[:at] + new + text[at + len(old) :])
    return text.count("\n", 0, at) + 1


def test_the_shipped_config_checks() -> None:
    result = check_config(CONF / "smsc.toml")
    assert result.ok and result.config is not None
    assert [p.name for p in result.files] == ["smsc.toml", "operators.toml", "routes.toml"]


def test_a_mistake_in_each_file_is_reported_with_file_and_line(conf: Path) -> None:
    server_line = replace(conf / "smsc.toml", "window = 64", "window = 0")
    ops_line = replace(
        conf / "operators.toml",
        'median = "2s", sigma = 0.5, cap',
        'median = "2x", sigma = 0.5, cap',
    )
    routes_line = replace(conf / "routes.toml", '"38068"', '"38o68"')
    result = check_config(conf / "smsc.toml")
    assert result.config is None
    found = {(Path(e.file or "").name, e.line, e.path) for e in result.errors}
    assert found == {
        ("smsc.toml", server_line, "server.window"),
        ("operators.toml", ops_line, "operators.kyivstar.delay.median"),
        ("routes.toml", routes_line, "routes[2].prefixes[2]"),
    }
    text = str(next(e for e in result.errors if e.path == "server.window"))
    assert text.endswith(
        f"smsc.toml:{server_line}: server.window: must be between 1 and 2147483647"
    )


def test_a_bad_listening_endpoint_is_caught_by_the_check(conf: Path) -> None:
    line = replace(conf / "smsc.toml", "listen = [\"tcp:2775:interface=127.0.0.1\"]",
                   "listen = [\"tpc:2775\"]")
    (error,) = check_config(conf / "smsc.toml").errors
    assert (error.path, error.line) == ("server.listen", line)
    assert "'tpc:2775' is not an endpoint" in error.message


def test_an_array_element_and_a_missing_key_are_located(conf: Path) -> None:
    line = replace(conf / "operators.toml", "weight = 0.5, err = 11", "weight = 0.5, err = 300")
    result = check_config(conf / "smsc.toml")
    (error,) = result.errors
    assert (error.path, error.line) == ("operators.kyivstar.outcomes[3].err", line)
    shutil.copyfile(CONF / "operators.toml", conf / "operators.toml")
    replace(
        conf / "routes.toml",
        'price = "0.04"\n\n[[routes]]\nname = "peoplenet"',
        ('\n[[routes]]\nname = "peoplenet"'),
    )
    (error,) = check_config(conf / "smsc.toml").errors
    lines = (conf / "routes.toml").read_text().splitlines()
    assert error.path == "routes[4]" and lines[error.line - 1] == "[[routes]]"  # type: ignore[operator]
    assert 'name = "utel"' in lines[error.line]  # type: ignore[index]


def test_a_syntax_error_gives_its_line(conf: Path) -> None:
    line = replace(conf / "routes.toml", 'currency = "EUR"', 'currency = "EUR')
    (error,) = check_config(conf / "smsc.toml").errors
    assert Path(error.file or "").name == "routes.toml"
    assert error.line == line
    assert error.message.startswith("TOML syntax")


def test_a_table_in_two_files_and_an_unknown_section(conf: Path) -> None:
    with (conf / "smsc.toml").open("a") as f:
        f.write('\n[money]\ncurrency = "EUR"\n\n[extras]\nx = 1\n')
    lines = (conf / "smsc.toml").read_text().splitlines()
    (error,) = check_config(conf / "smsc.toml").errors
    assert error.path == "money" and Path(error.file or "").name == "routes.toml"
    replace(conf / "smsc.toml", "[money]", "[nomoney]")
    errors = check_config(conf / "smsc.toml").errors
    unknown = {e.path: e for e in errors}
    assert set(unknown) == {"extras", "nomoney"}
    assert lines[unknown["extras"].line - 1] == "[extras]"  # type: ignore[operator]


def test_a_missing_include(conf: Path) -> None:
    (conf / "routes.toml").unlink()
    (error,) = check_config(conf / "smsc.toml").errors
    assert Path(error.file or "").name == "routes.toml"
    assert "no such file" in error.message


def test_edited_texts_are_checked_without_writing(conf: Path) -> None:
    text = (conf / "routes.toml").read_text().replace("decimals = 2", "decimals = 99")
    result = check_texts(conf / "smsc.toml", {conf / "routes.toml": text})
    (error,) = result.errors
    assert error.path == "money.decimals"
    assert check_config(conf / "smsc.toml").ok


def test_load_located_raises_the_located_error(conf: Path) -> None:
    assert load_located(conf / "smsc.toml").routing.currency == "EUR"
    line = replace(conf / "operators.toml", "seed = 20240901", 'seed = "x"')
    with pytest.raises(ConfigError) as caught:
        load_located(conf / "smsc.toml")
    assert caught.value.line == line
    assert caught.value.path == "simulation.seed"


def test_load_located_gives_what_the_loader_gives() -> None:
    from smsc.config.loader import load_config

    assert load_located(CONF / "smsc.toml") == load_config(CONF / "smsc.toml")


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ('"XX"', "not an ISO 3166 country code"),
        ('"ua"', 'capitals: "UA"'),
        ("380", "must be a string"),
    ],
)
def test_a_bad_home_country_is_reported_with_file_and_line(
    conf: Path, value: str, why: str
) -> None:
    line = replace(conf / "routes.toml", "#   [routing]\n", "[routing]\n")
    line = replace(conf / "routes.toml", '#   home_country = "UA"', f"home_country = {value}")
    (error,) = check_config(conf / "smsc.toml").errors
    assert (Path(error.file or "").name, error.line, error.path) == (
        "routes.toml", line, "routing.home_country")
    assert why in str(error)


def test_the_home_country_reaches_the_router(conf: Path) -> None:
    replace(conf / "routes.toml", "#   [routing]\n", "[routing]\n")
    replace(conf / "routes.toml", '#   home_country = "UA"', 'home_country = "UA"')
    result = check_config(conf / "smsc.toml")
    assert result.config is not None
    assert result.config.routing.home_country == "UA"
    assert result.config.routing.router().home_country == "UA"
    replace(conf / "routes.toml", 'home_country = "UA"', 'home_country = ""')
    config = check_config(conf / "smsc.toml").config
    assert config is not None and config.routing.home_country is None
    replace(conf / "routes.toml", 'home_country = ""', 'home_cuntry = "UA"')
    (error,) = check_config(conf / "smsc.toml").errors
    assert error.path == "routing.home_cuntry" and "unknown key" in str(error)


@pytest.mark.parametrize(("old", "new", "path"), [
    ("unknown_id_lock_after = 10", "unknown_id_lock_after = -1", "server.unknown_id_lock_after"),
    ("pending_binds_per_address = 8", "pending_binds_per_address = 0",
     "server.pending_binds_per_address"),
    ("lock_after = 0", "lock_after = \"never\"", "test_account.lock_after"),
])
def test_lockout_mistakes_are_located(conf: Path, old: str, new: str, path: str) -> None:
    line = replace(conf / "smsc.toml", old, new)
    (error,) = check_config(conf / "smsc.toml").errors
    assert (error.path, error.line) == (path, line)
