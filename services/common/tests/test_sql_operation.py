"""The span name of a statement: its first word, whatever surrounds it."""

import pytest

from services.common.sql_tracing import operation


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("SELECT 1", "SELECT"),
        ("  insert into cases VALUES ($1)", "INSERT"),
        ("\n  WITH created AS (INSERT ...) SELECT 1", "WITH"),
        ("COMMIT;", "COMMIT"),
        ("/* a comment */ UPDATE cases SET x = 1", "UPDATE"),
        ("/* one */ /* two */delete FROM t", "DELETE"),
        ("/* never closed", ""),
        ("", ""),
        ("   ", ""),
    ],
)
def test_a_statement_is_named_by_its_first_word(query: str, name: str) -> None:
    assert operation(query) == name
