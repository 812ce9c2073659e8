"""Checking the config files whole, with the file and line of every mistake.

The parsers (:mod:`smsc.config.server`, :mod:`smsc.operators.config`,
:mod:`smsc.routing.config`) raise :class:`~smsc.config_error.ConfigError` with a dotted key
path such as ``operators.kyivstar.delay.median`` or ``routes[3].prefixes[2]`` (array entries
count from 1). This module finds that path in the TOML text: :func:`scan_layout` walks the text
once, as a small TOML lexer, and records where every table header, key, array element and
inline-table key starts and ends. A path that is not written out (a missing key, say) is
located at its nearest written ancestor: ``routes[3]`` "needs a price" points at the third
``[[routes]]`` header.

:func:`check_config` reads smsc.toml and its includes, reports every TOML syntax error (one per
file), then every section's first mistake (server, operators, routing), each located.
:func:`load_located` is :func:`~smsc.config.loader.load_config` with located errors, for
a server that re-reads its config and must say exactly what is wrong with a new one.
"""

from __future__ import annotations

import bisect
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any, Final

from smsc.config.http import http_settings_from_mapping
from smsc.config.loader import DEFAULT_PATH, Config, config_from_tables, packaged_defaults
from smsc.config.opt_out import SECTION as OPT_OUT_SECTION
from smsc.config.opt_out import opt_out_from_mapping
from smsc.config.server import server_settings_from_mapping
from smsc.config_error import ConfigError
from smsc.operators.config import OperatorsConfig
from smsc.routing.config import SECTIONS as ROUTING_SECTIONS
from smsc.routing.config import RoutingConfig

__all__ = [
    "CheckResult",
    "Span",
    "SpanKind",
    "TomlLayout",
    "check_config",
    "display_path",
    "load_located",
    "scan_layout",
]

SERVER_SECTIONS: Final = ("server", "test_account", "http")
_SYNTAX_WHERE: Final = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_SYNTAX_END: Final = re.compile(r"\s*\(at end of document\)\s*$")
_BARE_KEY: Final = re.compile(r"[A-Za-z0-9_-]+")
_LAST_PART: Final = re.compile(r"(\[\d+\]|\.[^.\[\]]*)$")
_STATEMENT_SPACE: Final = " \t\r\n"
_INLINE_SPACE: Final = " \t"
_SCALAR_END: Final = ",]}\n#"


# --- where things are in a TOML text --------------------------------------------------------


class SpanKind(IntEnum):
    TABLE = 1  # [a.b]
    ARRAY_TABLE = 2  # [[a]] (one element of an array of tables)
    KEY = 3  # key = value, in a table body or an inline table
    ELEMENT = 4  # an element of an inline array


@dataclass(frozen=True, slots=True, kw_only=True)
class Span:
    """Where one thing of the document is. ``start`` is the offset of the header's ``[``, the
    key or the element; ``value_start``/``value_end`` delimit its value (a header: itself)."""

    path: str
    kind: SpanKind
    line: int
    start: int
    value_start: int
    value_end: int
    table: str = ""  # for a statement: the path of the table whose body holds it
    statement: bool = False  # a line of a table body (not inside an inline value)


@dataclass(slots=True)
class TomlLayout:
    """Every span of one TOML text, by path, and the statements of each table in order."""

    text: str
    spans: dict[str, Span] = field(default_factory=dict)
    tables: list[Span] = field(default_factory=list)  # headers in file order
    statements: dict[str, list[Span]] = field(default_factory=dict)  # table path -> its lines
    line_starts: list[int] = field(default_factory=list)

    def line_of_offset(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset)

    def find(self, path: str) -> Span | None:
        """The span of ``path`` or of its nearest written ancestor."""
        while True:
            span = self.spans.get(path)
            if span is not None:
                return span
            parent = parent_path(path)
            if parent is None:
                return None
            path = parent

    def line(self, path: str) -> int | None:
        span = self.find(path)
        return span.line if span is not None else None

    def line_end(self, offset: int) -> int:
        """The offset just past the newline of the line holding ``offset`` (or the text's end)."""
        end = self.text.find("\n", offset)
        return len(self.text) if end < 0 else end + 1


def parent_path(path: str) -> str | None:
    """``a.b[2].c`` -> ``a.b[2]`` -> ``a.b`` -> ``a`` -> ``""`` -> None."""
    if not path:
        return None
    match = _LAST_PART.search(path)
    if match is None or (match.start() == 0 and match.group(0).startswith("[")):
        return ""
    return path[: match.start()]


def join_path(base: str, key: str) -> str:
    return f"{base}.{key}" if base else key


class _Lexer:
    """One pass over a TOML text that tomllib accepts; on anything unexpected it stops
    quietly (the layout then holds what came before), it never raises."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.layout = TomlLayout(text=text)
        starts = [0]
        starts.extend(m.end() for m in re.finditer("\n", text))
        self.layout.line_starts = starts
        self.array_tables: dict[str, int] = {}

    # --- helpers -------------------------------------------------------------------------
    def _skip(self, pos: int, space: str, comments: bool = True) -> int:
        text = self.text
        size = len(text)
        while pos < size:
            char = text[pos]
            if char in space:
                pos += 1
            elif comments and char == "#":
                end = text.find("\n", pos)
                pos = size if end < 0 else end
                if "\n" not in space:
                    return pos
            else:
                break
        return pos

    def _string_end(self, pos: int) -> int:
        text = self.text
        quote = text[pos]
        if text.startswith(quote * 3, pos):
            end = text.find(quote * 3, pos + 3)
            if quote == '"':
                while end > 0 and _escaped(text, end):
                    end = text.find(quote * 3, end + 1)
            if end < 0:
                raise _Stop
            end += 3
            while end < len(text) and text[end] == quote:  # up to two quotes end the content
                end += 1
            return end
        index = pos + 1
        while index < len(text):
            char = text[index]
            if char == "\\" and quote == '"':
                index += 2
                continue
            if char == quote:
                return index + 1
            if char == "\n":
                break
            index += 1
        raise _Stop

    def _key(self, pos: int) -> tuple[list[str], int]:
        """A dotted key: its parts (decoded) and the offset after it."""
        text = self.text
        parts: list[str] = []
        while True:
            pos = self._skip(pos, _INLINE_SPACE, comments=False)
            if pos >= len(text):
                raise _Stop
            char = text[pos]
            if char in "\"'":
                end = self._string_end(pos)
                parts.append(_decode_quoted(text[pos:end]))
                pos = end
            else:
                match = _BARE_KEY.match(text, pos)
                if match is None:
                    raise _Stop
                parts.append(match.group(0))
                pos = match.end()
            pos = self._skip(pos, _INLINE_SPACE, comments=False)
            if pos < len(text) and text[pos] == ".":
                pos += 1
                continue
            return parts, pos

    def _record(self, span: Span) -> None:
        self.layout.spans.setdefault(span.path, span)

    def _line(self, offset: int) -> int:
        return self.layout.line_of_offset(offset)

    # --- values ----------------------------------------------------------------------------
    def _value(self, pos: int, path: str) -> int:
        text = self.text
        if pos >= len(text):
            raise _Stop
        char = text[pos]
        if char in "\"'":
            return self._string_end(pos)
        if char == "[":
            return self._array(pos + 1, path)
        if char == "{":
            return self._inline_table(pos + 1, path)
        end = pos
        while end < len(text) and text[end] not in _SCALAR_END:
            end += 1
        while end > pos and text[end - 1] in " \t\r":
            end -= 1
        if end == pos:
            raise _Stop
        return end

    def _array(self, pos: int, path: str) -> int:
        text = self.text
        index = 0
        while True:
            pos = self._skip(pos, _STATEMENT_SPACE)
            if pos >= len(text):
                raise _Stop
            if text[pos] == "]":
                return pos + 1
            index += 1
            item_path = f"{path}[{index}]"
            end = self._value(pos, item_path)
            self._record(
                Span(
                    path=item_path,
                    kind=SpanKind.ELEMENT,
                    line=self._line(pos),
                    start=pos,
                    value_start=pos,
                    value_end=end,
                )
            )
            pos = self._skip(end, _STATEMENT_SPACE)
            if pos < len(text) and text[pos] == ",":
                pos += 1
            elif pos < len(text) and text[pos] == "]":
                return pos + 1
            else:
                raise _Stop

    def _inline_table(self, pos: int, path: str) -> int:
        text = self.text
        pos = self._skip(pos, _INLINE_SPACE)
        if pos < len(text) and text[pos] == "}":
            return pos + 1
        while True:
            start = self._skip(pos, _STATEMENT_SPACE)
            pos = self._key_value(start, path, table=path, statement=False)
            pos = self._skip(pos, _STATEMENT_SPACE)
            if pos < len(text) and text[pos] == ",":
                pos += 1
            elif pos < len(text) and text[pos] == "}":
                return pos + 1
            else:
                raise _Stop

    def _key_value(self, pos: int, base: str, *, table: str, statement: bool) -> int:
        text = self.text
        parts, after = self._key(pos)
        after = self._skip(after, _INLINE_SPACE, comments=False)
        if after >= len(text) or text[after] != "=":
            raise _Stop
        value_start = self._skip(after + 1, _INLINE_SPACE, comments=False)
        path = base
        for part in parts[:-1]:
            path = join_path(path, part)
            self._record(
                Span(
                    path=path,
                    kind=SpanKind.KEY,
                    line=self._line(pos),
                    start=pos,
                    value_start=value_start,
                    value_end=value_start,
                )
            )
        path = join_path(path, parts[-1])
        end = self._value(value_start, path)
        span = Span(
            path=path,
            kind=SpanKind.KEY,
            line=self._line(pos),
            start=pos,
            value_start=value_start,
            value_end=end,
            table=table,
            statement=statement,
        )
        self._record(span)
        if statement:
            self.layout.statements.setdefault(table, []).append(span)
        return end

    # --- the document ----------------------------------------------------------------------
    def _header(self, pos: int) -> tuple[str, int]:
        text = self.text
        array = text.startswith("[[", pos)
        parts, after = self._key(pos + (2 if array else 1))
        closing = "]]" if array else "]"
        if not text.startswith(closing, after):
            raise _Stop
        end = after + len(closing)
        path = ""
        line = self._line(pos)
        for number, part in enumerate(parts, 1):
            path = join_path(path, part)
            last = number == len(parts)
            # An implicit table (``operators`` of ``[operators.x]``) is where it is first named.
            self._record(
                Span(
                    path=path,
                    kind=SpanKind.TABLE,
                    line=line,
                    start=pos,
                    value_start=pos,
                    value_end=end,
                )
            )
            if last and array:
                count = self.array_tables.get(path, 0) + 1
                self.array_tables[path] = count
                path = f"{path}[{count}]"
            elif path in self.array_tables:
                path = f"{path}[{self.array_tables[path]}]"
        span = Span(
            path=path,
            kind=SpanKind.ARRAY_TABLE if array else SpanKind.TABLE,
            line=line,
            start=pos,
            value_start=pos,
            value_end=end,
            table=path,
            statement=True,
        )
        self.layout.spans[path] = span
        self.layout.tables.append(span)
        self.layout.statements.setdefault(path, [])
        return path, end

    def run(self) -> TomlLayout:
        text = self.text
        table = ""
        pos = 0
        try:
            while True:
                pos = self._skip(pos, _STATEMENT_SPACE)
                if pos >= len(text):
                    break
                if text[pos] == "[":
                    table, pos = self._header(pos)
                else:
                    pos = self._key_value(pos, table, table=table, statement=True)
                pos = self._skip(pos, _INLINE_SPACE)
                if pos < len(text) and text[pos] not in "\r\n":
                    break  # two statements on one line: not TOML
        except _Stop:
            pass
        return self.layout


class _Stop(Exception):
    """The text is not as expected: stop scanning."""


def _escaped(text: str, index: int) -> bool:
    backslashes = 0
    while index - backslashes - 1 >= 0 and text[index - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def _decode_quoted(literal: str) -> str:
    try:
        return str(tomllib.loads(f"k = {literal}")["k"])
    except tomllib.TOMLDecodeError:
        return literal.strip("\"'")


def scan_layout(text: str) -> TomlLayout:
    """Where every header, key and array element of a TOML text is (see :class:`TomlLayout`)."""
    return _Lexer(text).run()


# --- checking files -------------------------------------------------------------------------


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it is below it, else as it is."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


@dataclass(slots=True)
class _File:
    path: Path
    text: str
    data: dict[str, Any] | None
    layout: TomlLayout | None = None

    def line(self, key_path: str) -> int | None:
        if self.layout is None:
            self.layout = scan_layout(self.text)
        return self.layout.line(key_path)


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """The files read (smsc.toml first), the located errors, and the config when there were
    none."""

    files: tuple[Path, ...]
    errors: tuple[ConfigError, ...]
    config: Config | None

    @property
    def ok(self) -> bool:
        return not self.errors


def syntax_error(path: Path, error: tomllib.TOMLDecodeError, text: str) -> ConfigError:
    """A TOML syntax error with its file and line."""
    message = str(error)
    line: int | None = None
    match = _SYNTAX_WHERE.search(message)
    if match is not None:
        line = int(match.group(1))
        message = message[: match.start()]
    elif _SYNTAX_END.search(message):
        line = text.count("\n") + 1
        message = _SYNTAX_END.sub("", message) + " (at the end of the file)"
    return ConfigError("", f"TOML syntax: {message}", file=display_path(path), line=line)


def _read(path: Path) -> tuple[_File | None, ConfigError | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, ConfigError("", "no such file", file=display_path(path))
    except (OSError, UnicodeDecodeError) as exc:
        return None, ConfigError("", f"cannot read it: {exc}", file=display_path(path))
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return _File(path=path, text=text, data=None), syntax_error(path, exc, text)
    return _File(path=path, text=text, data=data), None


def _includes(main: _File) -> tuple[list[Path], ConfigError | None]:
    assert main.data is not None
    includes = main.data.get("include", [])
    if isinstance(includes, str):
        includes = [includes]
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        error = ConfigError("include", "must be a list of file names")
        return [], error.located(display_path(main.path), main.line("include"))
    return [(main.path.parent / name).resolve() for name in includes], None


def locate(error: ConfigError, owners: Mapping[str, _File], main: _File) -> ConfigError:
    """``error`` with the file and line of its key path (the file holding its top-level
    section; the main file for a path without one)."""
    if error.file is not None and error.line is not None:
        return error
    section = re.split(r"[.\[]", error.path, maxsplit=1)[0] if error.path else ""
    owner = owners.get(section, main)
    if error.file is not None and Path(error.file).resolve() != owner.path.resolve():
        return error
    line = owner.line(error.path) if error.path else None
    return error.located(display_path(owner.path), line)


def _validate(
    data: dict[str, Any], owners: Mapping[str, _File], main: _File, files: tuple[Path, ...]
) -> tuple[list[ConfigError], Config | None]:
    errors: list[ConfigError] = []
    try:
        server_settings_from_mapping({k: data[k] for k in SERVER_SECTIONS[:2] if k in data})
    except ConfigError as exc:
        errors.append(exc)
    try:
        http_settings_from_mapping(data.get("http", {}))
    except ConfigError as exc:
        errors.append(exc)
    try:
        opt_out_from_mapping(data.get(OPT_OUT_SECTION, {}))
    except ConfigError as exc:
        errors.append(exc)
    rest = {k: v for k, v in data.items() if k not in SERVER_SECTIONS and k != OPT_OUT_SECTION}
    operators: set[str] | None = None
    try:
        operators = set(OperatorsConfig.from_mapping(rest).profiles)
    except ConfigError as exc:
        errors.append(exc)
    try:
        RoutingConfig.from_mapping(rest, operators=operators)
    except ConfigError as exc:
        errors.append(exc)
    known = (set(SERVER_SECTIONS) | set(OperatorsConfig.SECTIONS) | set(ROUTING_SECTIONS)
             | {OPT_OUT_SECTION})
    errors.extend(
        ConfigError(key, "is not a section smsc knows") for key in sorted(set(data) - known)
    )
    config: Config | None = None
    if not errors:
        try:
            config = config_from_tables(data, files)
        except ConfigError as exc:
            errors.append(exc)
    return [locate(e, owners, main) for e in errors], config


def check_texts(main_path: Path, texts: Mapping[Path, str] | None = None) -> CheckResult:
    """Check smsc.toml at ``main_path`` and its includes. ``texts`` gives the contents of some
    files instead of reading them (a change not yet written: see :mod:`smsc.config.edit`)."""
    texts = texts or {}
    main_path = Path(main_path)

    def read(path: Path) -> tuple[_File | None, ConfigError | None]:
        for candidate, text in texts.items():
            if Path(candidate).resolve() == path.resolve():
                try:
                    return _File(path=path, text=text, data=tomllib.loads(text)), None
                except tomllib.TOMLDecodeError as exc:
                    return _File(path=path, text=text, data=None), syntax_error(path, exc, text)
        return _read(path)

    main, error = read(main_path)
    if main is None or main.data is None:
        return CheckResult(files=(main_path,), errors=(error,) if error else (), config=None)
    include_paths, error = _includes(main)
    files = [main]
    errors: list[ConfigError] = [error] if error else []
    for path in include_paths:
        part, error = read(path)
        if error is not None:
            errors.append(error)
        if part is not None:
            files.append(part)
    paths = (main_path, *include_paths)
    if errors:
        return CheckResult(files=paths, errors=tuple(errors), config=None)
    data: dict[str, Any] = {}
    owners: dict[str, _File] = {}
    for file in files:
        assert file.data is not None
        for key, value in file.data.items():
            if file is main and key == "include":
                continue
            if key in owners:
                first = owners[key]
                errors.append(
                    ConfigError(
                        key,
                        f"is set in {display_path(first.path)} (line {first.line(key)}) "
                        "and again here; a table may be set in one file only",
                        file=display_path(file.path),
                        line=file.line(key),
                    )
                )
                continue
            owners[key] = file
            data[key] = value
    if errors:
        return CheckResult(files=paths, errors=tuple(errors), config=None)
    found, config = _validate(data, owners, main, paths)
    return CheckResult(files=paths, errors=tuple(found), config=config)


def default_config_path(path: Path | None) -> Path:
    """The file :func:`~smsc.config.loader.load_config` would read for ``path``."""
    if path is not None:
        return path
    return DEFAULT_PATH if DEFAULT_PATH.exists() else packaged_defaults()


def check_config(path: Path | None = None) -> CheckResult:
    """Check the config at ``path`` (None: conf/smsc.toml, else the built-in defaults)."""
    return check_texts(default_config_path(path))


def load_located(path: Path | None = None) -> Config:
    """The config at ``path`` (as :func:`~smsc.config.loader.load_config` finds it); raises
    the first ConfigError, located in its file and line. A server re-reading its config calls
    this and keeps its running config when it raises."""
    result = check_config(path)
    if result.errors:
        raise result.errors[0]
    assert result.config is not None
    return result.config
