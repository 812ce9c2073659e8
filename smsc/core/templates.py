"""Message templates with fields from a contact list: ``Hello {name}``.

Syntax (see docs/campaigns.md):

* ``{field}`` is the contact's value of the list column ``field``; the name is compared with
  the columns case and spaces aside (``{First Name}`` finds the column ``first name``);
* ``{field|default}`` gives ``default`` when the contact's value is empty (``{name|}``: nothing);
* ``{number}`` is the contact's number (international digits) unless the list has a column
  of that name;
* ``{{`` and ``}}`` are literal braces; a lone ``}``, a ``{`` never closed, a ``{`` inside a
  field and an empty field name are errors with their position.

Two errors come before anything is sent: a field that is not among the list's columns
(:meth:`Template.bind`) and a contact whose value is empty where the field has no default
(:meth:`BoundTemplate.render` raises :class:`MissingValue`; a preview counts them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

NUMBER_FIELD: Final = "number"
MAX_TEMPLATE: Final = 10_000  # characters


class TemplateError(ValueError):
    """A template that cannot be used (bad syntax, or a field the list lacks)."""


class MissingValue(ValueError):
    """A contact has no value for a field without a default."""

    def __init__(self, field: str) -> None:
        super().__init__(f"no value for {{{field}}} and no default")
        self.field = field


@dataclass(frozen=True, slots=True)
class Slot:
    name: str  # as written in the template, stripped
    default: str | None  # None: no default given


def field_key(name: str) -> str:
    """A field or column name compared case and spaces aside."""
    return "_".join(name.casefold().split())


@dataclass(frozen=True, slots=True)
class Template:
    text: str
    pieces: tuple[str | Slot, ...]

    @classmethod
    def parse(cls, text: str) -> Template:
        """The template of ``text``; TemplateError for a syntax mistake (1-based column)."""
        if len(text) > MAX_TEMPLATE:
            raise TemplateError(f"the template is longer than {MAX_TEMPLATE} characters")
        pieces: list[str | Slot] = []
        literal: list[str] = []
        at, size = 0, len(text)
        while at < size:
            ch = text[at]
            if ch == "{" and text[at + 1:at + 2] == "{":
                literal.append("{")
                at += 2
            elif ch == "}" and text[at + 1:at + 2] == "}":
                literal.append("}")
                at += 2
            elif ch == "}":
                raise TemplateError(f"a '}}' at character {at + 1} closes no field "
                                    "(write '}}}}' for a brace)")
            elif ch == "{":
                end = text.find("}", at + 1)
                inner = text[at + 1:end] if end >= 0 else ""
                if end < 0:
                    raise TemplateError(f"the '{{' at character {at + 1} is never closed "
                                        "(write '{{{{' for a brace)")
                if "{" in inner:
                    raise TemplateError(f"a '{{' inside the field at character {at + 1}")
                name, bar, default = inner.partition("|")
                if not name.strip():
                    raise TemplateError(f"the field at character {at + 1} has no name")
                if literal:
                    pieces.append("".join(literal))
                    literal = []
                pieces.append(Slot(name.strip(), default if bar else None))
                at = end + 1
            else:
                literal.append(ch)
                at += 1
        if literal:
            pieces.append("".join(literal))
        return cls(text, tuple(pieces))

    @property
    def fields(self) -> tuple[str, ...]:
        """The field names used, first use first, each once."""
        return tuple(dict.fromkeys(p.name for p in self.pieces if isinstance(p, Slot)))

    def bind(self, columns: Sequence[str]) -> BoundTemplate:
        """The template for a list with these columns; TemplateError naming every field the
        list lacks (and the columns it has)."""
        by_key: dict[str, str] = {}
        for column in columns:
            by_key.setdefault(field_key(column), column)
        missing = [f for f in self.fields
                   if field_key(f) not in by_key and field_key(f) != NUMBER_FIELD]
        if missing:
            have = ", ".join(repr(c) for c in columns) or "none"
            names = ", ".join(f"{{{f}}}" for f in missing)
            raise TemplateError(f"the list has no column for {names} (its columns: {have}; "
                                "{number} is the contact's number)")
        resolved: list[str | tuple[str | None, str, str | None]] = []
        for p in self.pieces:
            if isinstance(p, Slot):
                resolved.append((by_key.get(field_key(p.name)), p.name, p.default))
            else:
                resolved.append(p)
        return BoundTemplate(self, tuple(resolved))


@dataclass(frozen=True, slots=True)
class BoundTemplate:
    """A template checked against a list's columns, ready to personalise its contacts."""

    template: Template
    # literal text, or (column or None for the number, name as written, default)
    pieces: tuple[str | tuple[str | None, str, str | None], ...]

    def render(self, number: str, fields: Mapping[str, str]) -> str:
        """The text for one contact; MissingValue when a field without a default is empty."""
        out: list[str] = []
        for p in self.pieces:
            if isinstance(p, str):
                out.append(p)
                continue
            column, name, default = p
            value = number if column is None else fields.get(column, "")
            if not value:
                if default is None:
                    raise MissingValue(name)
                value = default
            out.append(value)
        return "".join(out)
