"""Reading the config: conf/smsc.toml and the files it includes, validated whole.

``smsc.toml`` holds ``[server]`` and ``[test_account]``; operators, outcome rules and MO rules
(``operators.toml``) and routes, prices and coverage (``routes.toml``) may sit in the same file or
in files named by ``include = ["operators.toml", "routes.toml"]`` (paths relative to smsc.toml).
Without conf/smsc.toml in the working directory the packaged defaults apply (smsc/defaults/, the
same files as the repository's conf/): one listener on 127.0.0.1:2775, the built-in operators and
the Ukrainian and international routes.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from smsc.config.http import HttpSettings, http_settings_from_mapping
from smsc.config.opt_out import DEFAULT_OPT_OUT, OptOutSettings, opt_out_from_mapping
from smsc.config.opt_out import SECTION as OPT_OUT_SECTION
from smsc.config.server import ServerSettings, server_settings_from_mapping
from smsc.config_error import ConfigError
from smsc.operators.config import OperatorsConfig
from smsc.routing.config import SECTIONS as ROUTING_SECTIONS
from smsc.routing.config import RoutingConfig

DEFAULT_PATH = Path("conf/smsc.toml")
_SECTIONS_SERVER = ("server", "test_account", "http")


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    server: ServerSettings
    operators: OperatorsConfig
    routing: RoutingConfig
    files: tuple[Path, ...] = ()
    opt_out: OptOutSettings = DEFAULT_OPT_OUT  # the [opt_out] table (smsc.config.opt_out)
    http: HttpSettings = field(default_factory=HttpSettings)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError("", f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError("", f"{path}: {e}") from None


def merged_tables(path: Path | None) -> tuple[dict[str, Any], tuple[Path, ...]]:
    """The top-level tables of smsc.toml and its includes, merged (a key in two files is an
    error), and the files read."""
    if path is None:
        return {}, ()
    data = read_toml(path)
    files = [path]
    includes = data.pop("include", [])
    if isinstance(includes, str):
        includes = [includes]
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        raise ConfigError("include", "must be a list of file names", file=str(path))
    for name in includes:
        part_path = (path.parent / name).resolve()
        part = read_toml(part_path)
        files.append(part_path)
        for key, value in part.items():
            if key in data:
                raise ConfigError(key, f"is set in {path} and again in {part_path}",
                                  file=str(part_path))
            data[key] = value
    return data, tuple(files)


def config_from_tables(data: dict[str, Any], files: tuple[Path, ...] = ()) -> Config:
    server = server_settings_from_mapping({k: data[k] for k in _SECTIONS_SERVER[:2] if k in data})
    http = http_settings_from_mapping(data.get("http", {}))
    opt_out = opt_out_from_mapping(data.get(OPT_OUT_SECTION, {}))
    rest = {k: v for k, v in data.items()
            if k not in _SECTIONS_SERVER and k != OPT_OUT_SECTION}
    operators = OperatorsConfig.from_mapping(rest)
    routing = RoutingConfig.from_mapping(rest, operators=set(operators.profiles))
    unknown = set(rest) - set(OperatorsConfig.SECTIONS) - set(ROUTING_SECTIONS)
    if unknown:
        key = sorted(unknown)[0]
        raise ConfigError(key, "is not a section smsc knows")
    return Config(server=server, operators=operators, routing=routing, files=files,
                  opt_out=opt_out, http=http)


def packaged_defaults() -> Path:
    """The built-in config files shipped with smsc (the same as the repository's conf/)."""
    return Path(str(resources.files("smsc") / "defaults" / "smsc.toml"))


def load_config(path: Path | None = None) -> Config:
    """The config at ``path``; with None, conf/smsc.toml if it exists in the working
    directory, else the built-in defaults."""
    if path is None:
        path = DEFAULT_PATH if DEFAULT_PATH.exists() else packaged_defaults()
    data, files = merged_tables(path)
    return config_from_tables(data, files)
