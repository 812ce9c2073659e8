"""Editing the config files the way a person would: change a value in place, add a line to a
table, add or remove a whole table, and leave every comment and blank line alone.

:class:`ConfigEditor` holds the texts of smsc.toml and its includes in memory. Each edit finds
what it changes with :func:`smsc.config.check.scan_layout` (the offsets of every header, key and
value), splices the text, and renders new values with tomlkit (so strings, keys and dates are
written as TOML wants them). Placement follows the file's own order: a new key goes after the
last line of its table, a new ``[operators.x]`` after the last operator table, a new
``[[routes]]`` after the last route; comments that introduce the next section stay with it.

Every edit checks itself: the edited text is parsed again and must equal the old document with
exactly that change (:class:`EditError` otherwise, nothing changed). :meth:`ConfigEditor.save`
validates the whole resulting config (:func:`smsc.config.check.check_texts`) and writes only
if it is valid, each changed file replaced atomically (a running server never reads half a
file); a change that would make the config invalid raises the located
:class:`~smsc.config_error.ConfigError` and writes nothing.
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
import tempfile
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time
from functools import partial
from pathlib import Path
from typing import Any, Final

import tomlkit

from smsc.config.check import CheckResult, Span, SpanKind, TomlLayout, check_texts, scan_layout

__all__ = ["ConfigEditor", "EditError", "TablePath", "render_value"]

# A table: its keys from the top, with 1-based indices for elements of arrays of tables:
# ("operators", "kyivstar") is [operators.kyivstar]; ("routes", 3) the third [[routes]].
TablePath = tuple[str | int, ...]
_BARE: Final = re.compile(r"[A-Za-z0-9_-]+")


class EditError(Exception):
    """An edit that cannot be made as asked (the text is written in a way this editor does not
    change, or the result would not be what was meant)."""


# --- rendering ------------------------------------------------------------------------------


def render_key(key: str) -> str:
    return key if _BARE.fullmatch(key) else tomlkit.key(key).as_string()


def render_value(value: object, *, indent: str = "") -> str:
    """TOML text of a value: tables inline (``{ a = 1 }``), an array of tables one per line."""
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        inner = ", ".join(f"{render_key(str(k))} = {render_value(v)}" for k, v in value.items())
        return "{ " + inner + " }"
    if isinstance(value, list | tuple):
        items = [render_value(v) for v in value]
        if len(items) > 1 and any(isinstance(v, Mapping) for v in value):
            body = "".join(f"{indent}  {item},\n" for item in items)
            return f"[\n{body}{indent}]"
        return "[" + ", ".join(items) + "]"
    if isinstance(value, bool | int | float | str | datetime | date | time):
        return str(tomlkit.item(value).as_string())
    raise EditError(f"cannot write {value!r} in TOML")


def path_text(path: TablePath) -> str:
    """The dotted path of the layout (``routes[3]``, ``operators.kyivstar``)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out = f"{out}.{part}" if out else part
    return out


def _header(path: TablePath, *, array: bool) -> str:
    keys = ".".join(render_key(p) for p in path if isinstance(p, str))
    return f"[[{keys}]]" if array else f"[{keys}]"


def _body(values: Mapping[str, object]) -> str:
    return "".join(f"{render_key(k)} = {render_value(v)}\n" for k, v in values.items())


# --- the data the text must parse to -------------------------------------------------------


def _resolve(data: dict[str, Any], path: TablePath, *, create: bool = False) -> Any:
    node: Any = data
    for part in path:
        if isinstance(part, int):
            if not isinstance(node, list) or not 1 <= part <= len(node):
                raise EditError(f"there is no {path_text(path)}")
            node = node[part - 1]
        else:
            if not isinstance(node, dict):
                raise EditError(f"{path_text(path)} is not a table")
            if part not in node:
                if not create:
                    raise EditError(f"there is no {path_text(path)}")
                node[part] = {}
            node = node[part]
    return node


def _pruned(value: Any) -> Any:
    """Empty tables and arrays left out, recursively (a removed last entry leaves nothing in
    the text, while the data would keep an empty container)."""
    if isinstance(value, dict):
        out = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in ({}, [])}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


# --- the editor -----------------------------------------------------------------------------


class ConfigEditor:
    """Pending edits of smsc.toml (``main``) and the files it includes."""

    def __init__(self, main: Path, texts: Mapping[Path, str]) -> None:
        self.main = Path(main)
        self.original: dict[Path, str] = dict(texts)
        self.texts: dict[Path, str] = dict(texts)
        self._layouts: dict[Path, TomlLayout] = {}

    @classmethod
    def open(cls, main: Path) -> ConfigEditor:
        """Read smsc.toml and its includes; ConfigError (located) if one cannot be read or is
        not TOML."""
        main = Path(main)
        result = check_texts(main)
        unreadable = [e for e in result.errors if not e.path]
        if unreadable:
            raise unreadable[0]
        texts = {path: path.read_text(encoding="utf-8") for path in result.files}
        return cls(main, texts)

    # --- reading ---------------------------------------------------------------------------
    @property
    def files(self) -> list[Path]:
        return list(self.texts)

    def data(self, file: Path) -> dict[str, Any]:
        return tomllib.loads(self.texts[file])

    def layout(self, file: Path) -> TomlLayout:
        layout = self._layouts.get(file)
        if layout is None:
            layout = scan_layout(self.texts[file])
            self._layouts[file] = layout
        return layout

    def owner(self, section: str, siblings: Iterable[str] = ()) -> Path:
        """The file that holds the top-level ``section``; else the one holding one of
        ``siblings`` (the sections read by the same part of smsc); else smsc.toml."""
        datas = {file: self.data(file) for file in self.texts}
        for file, data in datas.items():
            if section in data:
                return file
        for sibling in siblings:
            for file, data in datas.items():
                if sibling in data:
                    return file
        return self.main

    def merged(self) -> dict[str, Any]:
        """Every file's tables together (what the loader would see)."""
        out: dict[str, Any] = {}
        for file in self.texts:
            for key, value in self.data(file).items():
                if not (file == self.main and key == "include"):
                    out.setdefault(key, value)
        return out

    def get(self, path: TablePath) -> Any:
        """The value at ``path`` (a table or array element), or None."""
        try:
            return _resolve(self.merged(), path)
        except EditError:
            return None

    def has_header(self, table: TablePath) -> bool:
        """Whether ``table`` is written as a ``[header]`` (not inline, not dotted keys)."""
        name = path_text(table)
        for file in self.texts:
            if any(span.path == name for span in self.layout(file).tables):
                return True
        return False

    # --- edits -----------------------------------------------------------------------------
    def set_values(self, table: TablePath, values: Mapping[str, object]) -> None:
        """Set keys of an existing table (``[operators.x]`` or an element of ``[[routes]]``):
        a key already there gets the new value where it stands (its comment kept), a new key
        goes after the table's last line."""
        file = self._file_of(table)
        for key, value in values.items():
            self._edit(
                file,
                partial(_set, table=table, key=key, value=value),
                partial(self._set_text, table=table, key=key, value=value),
            )

    def remove_keys(self, table: TablePath, keys: Iterable[str]) -> None:
        """Remove keys (and their lines) from a table; absent keys are ignored."""
        file = self._file_of(table)
        for key in keys:
            if key not in (self.get(table) or {}):
                continue
            self._edit(
                file,
                partial(_del, table=table, key=key),
                partial(self._remove_key_text, table=table, key=key),
            )

    def add_table(
        self, table: TablePath, values: Mapping[str, object], *, siblings: Sequence[str] = ()
    ) -> None:
        """Add ``[a.b]`` after the last table of its section (or at the end of the file that
        should hold the section)."""
        section = str(table[0])
        file = self.owner(section, siblings)
        if self.get(table) is not None:
            raise EditError(f"{path_text(table)} exists already")

        def data_change(d: dict[str, Any]) -> None:
            parent = _resolve(d, table[:-1], create=True)
            parent[str(table[-1])] = dict(values)

        self._edit(
            file, data_change, lambda t, lay: self._insert_table(t, lay, table, values, array=False)
        )

    def append_array_table(
        self, array: str, values: Mapping[str, object], *, siblings: Sequence[str] = ()
    ) -> int:
        """Add a ``[[array]]`` element after the last one; returns its index (from 1)."""
        file = self.owner(array, siblings)
        existing = self.get((array,))
        if existing is not None and not isinstance(existing, list):
            raise EditError(f"{array} is not an array of tables")
        index = len(existing or []) + 1

        def data_change(d: dict[str, Any]) -> None:
            d.setdefault(array, []).append(dict(values))

        self._edit(
            file,
            data_change,
            lambda t, lay: self._insert_table(t, lay, (array, index), values, array=True),
        )
        return index

    def remove_table(self, table: TablePath) -> None:
        """Remove a table or an array element, from its header to its last line (comments
        above the header stay: they may introduce more than this table)."""
        file = self._file_of(table)

        def data_change(d: dict[str, Any]) -> None:
            parent = _resolve(d, table[:-1])
            last = table[-1]
            if isinstance(last, int):
                del parent[last - 1]
            else:
                del parent[last]

        self._edit(file, data_change, lambda t, lay: self._remove_table_text(t, lay, table))

    # --- checking and writing ---------------------------------------------------------------
    def changed(self) -> list[Path]:
        return [f for f, text in self.texts.items() if text != self.original[f]]

    def check(self) -> CheckResult:
        return check_texts(self.main, self.texts)

    def save(self) -> list[Path]:
        """Write the changed files if the whole config is valid; returns them. Raises the first
        located ConfigError otherwise (nothing written)."""
        result = self.check()
        if result.errors:
            raise result.errors[0]
        written = []
        for file in self.changed():
            write_atomically(file, self.texts[file])
            self.original[file] = self.texts[file]
            written.append(file)
        return written

    # --- plumbing --------------------------------------------------------------------------
    def _file_of(self, table: TablePath) -> Path:
        section = str(table[0])
        for file in self.texts:
            if section in self.data(file):
                return file
        raise EditError(f"there is no {path_text(table)}")

    def _edit(
        self,
        file: Path,
        data_change: Callable[[dict[str, Any]], None],
        text_change: Callable[[str, TomlLayout], str],
    ) -> None:
        text = self.texts[file]
        before = tomllib.loads(text)
        expected = copy.deepcopy(before)
        data_change(expected)
        new_text = text_change(text, self.layout(file))
        try:
            after = tomllib.loads(new_text)
        except tomllib.TOMLDecodeError as exc:
            raise EditError(f"the edit of {file.name} would not be TOML ({exc})") from None
        if _pruned(after) != _pruned(expected):
            raise EditError(
                f"{file.name} is written in a way this command does not edit (dotted keys or "
                "inline tables?); please make the change by hand"
            )
        self.texts[file] = new_text
        self._layouts.pop(file, None)

    def _table_span(self, layout: TomlLayout, table: TablePath) -> Span:
        span = layout.spans.get(path_text(table))
        if (
            span is None
            or span.kind not in (SpanKind.TABLE, SpanKind.ARRAY_TABLE)
            or (span not in layout.tables)
        ):
            raise EditError(
                f"{path_text(table)} is not written as a [table] header; please edit it by hand"
            )
        return span

    def _last_line_end(self, layout: TomlLayout, table_path: str) -> int:
        """The offset after the last line of a table's own statements (its header if none)."""
        header = layout.spans[table_path]
        statements = layout.statements.get(table_path, [])
        end = max([header.value_end, *(s.value_end for s in statements)])
        return layout.line_end(end)

    def _set_text(
        self, text: str, layout: TomlLayout, table: TablePath, key: str, value: object
    ) -> str:
        self._table_span(layout, table)
        name = path_text(table)
        for statement in layout.statements.get(name, []):
            if statement.path == f"{name}.{key}":
                indent = _indent_of(text, statement.start)
                rendered = render_value(value, indent=indent)
                return text[: statement.value_start] + rendered + text[statement.value_end :]
        at = self._last_line_end(layout, name)
        prefix = "" if at == 0 or text[at - 1] == "\n" else "\n"
        return f"{text[:at]}{prefix}{render_key(key)} = {render_value(value)}\n{text[at:]}"

    def _remove_key_text(self, text: str, layout: TomlLayout, table: TablePath, key: str) -> str:
        self._table_span(layout, table)
        name = path_text(table)
        for statement in layout.statements.get(name, []):
            if statement.path == f"{name}.{key}":
                start = text.rfind("\n", 0, statement.start) + 1
                return text[:start] + text[layout.line_end(statement.value_end) :]
        raise EditError(f"{name}.{key} is not written in {name}")

    def _insert_table(
        self,
        text: str,
        layout: TomlLayout,
        table: TablePath,
        values: Mapping[str, object],
        *,
        array: bool,
    ) -> str:
        section = str(table[0])
        family = [
            s
            for s in layout.tables
            if s.path == section or s.path.startswith((f"{section}.", f"{section}["))
        ]
        block = f"{_header(table, array=array)}\n{_body(values)}"
        if family:
            at = max(self._last_line_end(layout, s.path) for s in family)
            prefix = "" if at == 0 or text[at - 1] == "\n" else "\n"
            return f"{text[:at]}{prefix}\n{block}{text[at:]}"
        body = text.rstrip("\n")
        return f"{body}\n\n{block}" if body else block

    def _remove_table_text(self, text: str, layout: TomlLayout, table: TablePath) -> str:
        span = self._table_span(layout, table)
        name = path_text(table)
        inside = [
            s
            for s in layout.tables
            if s.path == name or s.path.startswith((f"{name}.", f"{name}["))
        ]
        end = max(self._last_line_end(layout, s.path) for s in inside)
        start = text.rfind("\n", 0, span.start) + 1
        head, tail = text[:start], text[end:]
        if head.endswith("\n\n") and (tail.startswith("\n") or not tail):
            head = head[:-1]
        return head + tail


def _indent_of(text: str, offset: int) -> str:
    start = text.rfind("\n", 0, offset) + 1
    line = text[start:offset]
    return line[: len(line) - len(line.lstrip())]


def _set(data: dict[str, Any], table: TablePath, key: str, value: object) -> None:
    node = _resolve(data, table)
    node[key] = copy.deepcopy(_plain(value))


def _del(data: dict[str, Any], table: TablePath, key: str) -> None:
    node = _resolve(data, table)
    node.pop(key, None)


def _plain(value: object) -> object:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step (a temporary file renamed over it), keeping
    its permissions."""
    directory = path.parent
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(OSError):
            os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
