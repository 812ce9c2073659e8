"""The ``[opt_out]`` table of smsc.toml: the words a handset's MO opts out (or back in) with,
and the confirmations smsc sends back (see docs/campaigns.md#opt-out).

    [opt_out]
    stop_words = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"]
    start_words = ["START", "UNSTOP"]
    stop_reply = "You will get no more messages from this number. Reply START to get them again."
    start_reply = "You will get messages from this number again. Reply STOP to stop them."

A reply that is "" sends no confirmation. Words are compared case aside; a word may not be in
both lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from smsc.config_error import ConfigError

SECTION: Final = "opt_out"
MAX_REPLY: Final = 1600  # characters


@dataclass(frozen=True, slots=True, kw_only=True)
class OptOutSettings:
    stop_words: tuple[str, ...] = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT")
    start_words: tuple[str, ...] = ("START", "UNSTOP")
    stop_reply: str = ("You will get no more messages from this number. "
                       "Reply START to get them again.")
    start_reply: str = ("You will get messages from this number again. "
                        "Reply STOP to stop them.")


DEFAULT_OPT_OUT: Final = OptOutSettings()


def _words(table: Mapping[str, Any], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = table.get(key, list(default))
    if not isinstance(value, list) or not all(isinstance(w, str) for w in value):
        raise ConfigError(f"{SECTION}.{key}", "must be a list of words")
    words = tuple(w.strip() for w in value)
    for w in words:
        if not w or len(w.split()) != 1:
            raise ConfigError(f"{SECTION}.{key}", f"{w!r} is not one word")
    return words


def _reply(table: Mapping[str, Any], key: str, default: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        raise ConfigError(f"{SECTION}.{key}", "must be a text (\"\" for no confirmation)")
    if len(value) > MAX_REPLY:
        raise ConfigError(f"{SECTION}.{key}", f"is longer than {MAX_REPLY} characters")
    return value


def opt_out_from_mapping(data: Mapping[str, Any]) -> OptOutSettings:
    """The settings of an ``[opt_out]`` table (absent keys keep their defaults)."""
    if not isinstance(data, Mapping):
        raise ConfigError(SECTION, "must be a table")
    unknown = set(data) - {"stop_words", "start_words", "stop_reply", "start_reply"}
    if unknown:
        raise ConfigError(f"{SECTION}.{sorted(unknown)[0]}", "is not a setting smsc knows")
    d = DEFAULT_OPT_OUT
    stop = _words(data, "stop_words", d.stop_words)
    start = _words(data, "start_words", d.start_words)
    both = {w.casefold() for w in stop} & {w.casefold() for w in start}
    if both:
        raise ConfigError(f"{SECTION}.start_words",
                          f"{sorted(both)[0]!r} is also a stop word")
    return OptOutSettings(stop_words=stop, start_words=start,
                          stop_reply=_reply(data, "stop_reply", d.stop_reply),
                          start_reply=_reply(data, "start_reply", d.start_reply))
