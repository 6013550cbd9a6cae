"""Spark SQL string literals: whatever the text, the literal reads back as exactly that text.

Checked three ways: against a reader that follows Spark's documented rules for string literals (its
lexer's STRING_LITERAL token, then ``unescapeSQLString``: ``\\uXXXX``, ``\\UXXXXXXXX``, octal
``\\[01][0-7][0-7]``, the one-letter escapes, any other escaped character as itself), against sqlglot's
Databricks parser (what the warehouse emulator runs), and through the sink itself: written to the
emulator by the real connector and read back from its tables.
"""

from __future__ import annotations

import re
from typing import Any

import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st

from nuvyn_executor.engine.sinks.batching import string_literal

# Text that stresses a SQL literal: quotes, backslashes, escapes as text, comments, statement ends,
# variables, control characters, NUL, astral characters.
PIECES = ["'", "''", '"', "\\", "\\'", "\\\\", "\\n", "\\u0041", "\\0", "\\012", "\n", "\r", "\t", "\x00", "\x1a",
          "12", "$", "${env:HOME}", "${x}", "--", "/*", "*/", ";", "?", ":name", "%", "_", "`", "😀", "é", "\u2028", "a"]  # fmt: skip
texts = st.one_of(
    st.text(),  # any Unicode scalar value (no lone surrogates: UTF-8 cannot carry them)
    st.lists(st.sampled_from(PIECES), max_size=12).map("".join),
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=3)), max_size=8).map("".join),
)

_SPARK_TOKEN = re.compile(r"'(?:[^'\\]|\\.)*'", re.S)  # SqlBaseLexer STRING_LITERAL (quoted form)
_SPARK_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[01][0-7]{2}|.)", re.S)
_ONE_LETTER = {"0": "\x00", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a", "%": "\\%", "_": "\\_"}


def spark_reads(literal: str) -> str:
    """What Spark's parser makes of a quoted string literal (raising if it is not one token)."""
    assert _SPARK_TOKEN.fullmatch(literal), f"not a single Spark string token: {literal!r}"

    def unescape(m: re.Match[str]) -> str:
        e = m.group(1)
        if e[0] in "uU" and len(e) > 1:
            return chr(int(e[1:], 16))
        if len(e) == 3:
            return chr(int(e, 8))
        return _ONE_LETTER.get(e, e)

    return _SPARK_ESCAPE.sub(unescape, literal[1:-1])


@given(texts)
def test_spark_reads_the_text_back(text: str) -> None:
    literal = string_literal(text)
    assert spark_reads(literal) == text
    assert "${" not in literal  # Spark substitutes variables in the statement text before parsing it
    assert not re.search(r"[\x00-\x1f\x7f]", literal)  # one line, nothing a terminal or log would mangle


@given(texts)
def test_the_emulators_parser_reads_the_text_back(text: str) -> None:
    tree = sqlglot.parse_one(f"SELECT {string_literal(text)} AS v", read="databricks")
    assert tree.expressions[0].this.this == text


@settings(max_examples=25)
@given(st.lists(texts, min_size=1, max_size=8))
def test_text_survives_the_sink(warehouse_server: Any, values: list[str]) -> None:
    """Arbitrary text in every string field of every row, through the real connector and back."""
    from nuvyn_executor.engine.settings import SinkSettings, databricks_from_env
    from nuvyn_executor.engine.sinks.databricks import DatabricksSink
    from tests.sinks.dbx import assert_exactly_once, make_catalog

    catalog = make_catalog(n_tables=2, n_columns=3, strings=values)
    settings = SinkSettings(write_to_db=True, backoff=0.01, backoff_max=0.01)
    sink = DatabricksSink(databricks_from_env(warehouse_server.env()), settings)
    try:
        sink.write(catalog)
    finally:
        sink.close()
    assert_exactly_once(warehouse_server, catalog.to_dict())
