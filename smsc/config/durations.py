"""Durations in config files: ``"90s"``, ``"15m"``, ``"72h"``, ``"3d"``, ``"250ms"`` or seconds."""

from __future__ import annotations

import re

from smsc.config.errors import ConfigError

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")


def parse_duration(value: object, path: str) -> float:
    """Seconds from a number or a string with a unit; a ConfigError naming ``path`` otherwise."""
    if isinstance(value, bool):
        raise ConfigError(path, "must be a duration like 30s, 15m, 72h or 3d")
    if isinstance(value, int | float):
        if value < 0:
            raise ConfigError(path, "must not be negative")
        return float(value)
    if isinstance(value, str):
        match = _PATTERN.match(value)
        if match:
            return float(match.group(1)) * _UNITS[match.group(2) or "s"]
    raise ConfigError(path, f"{value!r} is not a duration like 30s, 15m, 72h or 3d")


def format_duration(seconds: float) -> str:
    """The shortest exact form: 72h, 90s, 1.5s."""
    for unit in ("w", "d", "h", "m", "s"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
