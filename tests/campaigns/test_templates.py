"""Templates (smsc.core.templates): fields, defaults, escapes, and the errors before sending."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsc.core.templates import MissingValue, Template, TemplateError


def test_fields_defaults_and_the_number() -> None:
    t = Template.parse("Hello {name|customer}, {City} {{sale}} for {number}")
    assert t.fields == ("name", "City", "number")
    bound = t.bind(["name", "city"])
    assert bound.render("380671234567", {"name": "Olena", "city": "Kyiv"}) == \
        "Hello Olena, Kyiv {sale} for 380671234567"
    assert bound.render("1", {"name": "", "city": "Lviv"}) == "Hello customer, Lviv {sale} for 1"


def test_a_column_named_number_wins_over_the_contacts_number() -> None:
    bound = Template.parse("{number}").bind(["Number"])
    assert bound.render("380", {"Number": "client 7"}) == "client 7"


def test_names_compare_case_and_spaces_aside() -> None:
    bound = Template.parse("{ First  name }").bind(["first name"])
    assert bound.render("1", {"first name": "Ann"}) == "Ann"


def test_an_empty_default_is_allowed() -> None:
    assert Template.parse("a{x|}b").bind(["x"]).render("1", {}) == "ab"


def test_a_field_missing_from_the_list_is_named_with_the_columns() -> None:
    with pytest.raises(TemplateError) as e:
        Template.parse("Hi {name}, {surname|}").bind(["Name ", "phone2"])
    assert "{surname}" in str(e.value) and "{name}" not in str(e.value)
    assert "'phone2'" in str(e.value)


def test_a_row_without_a_value_and_no_default() -> None:
    bound = Template.parse("Hi {name}").bind(["name"])
    with pytest.raises(MissingValue) as e:
        bound.render("1", {"name": ""})
    assert e.value.field == "name"


@pytest.mark.parametrize(("text", "says"), [
    ("Hi {name", "never closed"),
    ("Hi name}", "closes no field"),
    ("Hi {}", "no name"),
    ("Hi {|x}", "no name"),
    ("Hi {a{b}}", "inside the field"),
])
def test_syntax_errors_say_where(text: str, says: str) -> None:
    with pytest.raises(TemplateError, match=says):
        Template.parse(text)


_TEXT = st.text(max_size=40)


@given(_TEXT)
def test_any_text_with_its_braces_doubled_renders_as_itself(text: str) -> None:
    escaped = text.replace("{", "{{").replace("}", "}}")
    t = Template.parse(escaped)
    assert t.fields == ()
    assert t.bind([]).render("1", {}) == text


@given(st.lists(st.tuples(st.text(st.characters(blacklist_characters="{}"), max_size=8),
                          st.text(max_size=8)), max_size=5))
def test_values_are_put_in_as_given(pairs: list[tuple[str, str]]) -> None:
    template = "".join(f"{lit.replace('|', '')}{{f{i}|-}}" for i, (lit, _) in enumerate(pairs))
    columns = [f"f{i}" for i in range(len(pairs))]
    values = {f"f{i}": v for i, (_, v) in enumerate(pairs)}
    rendered = Template.parse(template).bind(columns).render("1", values)
    assert rendered == "".join(lit.replace("|", "") + (v or "-") for lit, v in pairs)
