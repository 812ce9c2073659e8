"""The portable mixins' SQL on PostgreSQL: ``?`` placeholders become psycopg's ``%s``, and text
psycopg would misread is refused rather than run."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsc.store.portable_queries import postgres_text


def test_each_placeholder_becomes_percent_s() -> None:
    assert postgres_text("SELECT 1 FROM accounts WHERE system_id = ?") == (
        "SELECT 1 FROM accounts WHERE system_id = %s")
    assert postgres_text("UPDATE t SET a = ?, b = ? WHERE id = ?") == (
        "UPDATE t SET a = %s, b = %s WHERE id = %s")
    assert postgres_text("SELECT number, operator FROM ported") == (
        "SELECT number, operator FROM ported")


def test_text_with_a_percent_of_its_own_is_refused() -> None:
    with pytest.raises(ValueError, match="no '%'"):
        postgres_text("SELECT * FROM contacts WHERE number LIKE '44%' AND list_id = ?")


@given(st.lists(st.sampled_from(["SELECT a FROM t", " WHERE x = ?", " AND y > ?", " LIMIT ?",
                                 " ORDER BY id"]), max_size=8))
def test_one_percent_s_per_question_mark_and_nothing_else_changed(pieces: list[str]) -> None:
    sql = "".join(pieces)
    translated = postgres_text(sql)
    assert translated.count("%s") == sql.count("?")
    assert "?" not in translated
    assert translated.replace("%s", "?") == sql
