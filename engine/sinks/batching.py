r"""Databricks SQL text: the one place that turns names and values into statements.

A pure planner: rows and a sink's capabilities in, SQL statements out; it opens no connection.

Values are rendered as Spark SQL literals rather than bound: a Databricks SQL warehouse accepts at most
256 native parameters per statement, which would cap an INSERT of the 12-column ``columns`` table at 21
rows.  Rendering goes through :func:`sql_literal` alone, and strings through :func:`string_literal`,
which follows Spark's own reader (``SparkParserUtils.unescapeSQLString``):

- a backslash is an escape character in a Spark string literal, so ``\`` and ``'`` become ``\\`` and
  ``\'``.  A doubled quote (``''``) is never used: parsers disagree on it.
- newline, carriage return and tab become ``\n``, ``\r``, ``\t``; every other control character
  becomes ``\uXXXX`` (``\0`` is avoided: followed by two octal digits Spark reads it as an octal
  escape).
- ``$`` becomes ``\u0024``: Spark substitutes ``${name}`` variables (``${env:...}`` among them) in the
  statement text before it parses it, string literals included.
- lone surrogates, which no UTF-8 text can carry, become U+FFFD.

Identifiers are quoted with backticks (a backtick inside is doubled), whatever their spelling.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import TerminalSinkError
from .base import SinkCapabilities

_STRING_ESCAPES: dict[int, str] = {ord("\\"): "\\\\", ord("'"): "\\'", ord("\n"): "\\n", ord("\r"): "\\r",
                                   ord("\t"): "\\t", ord("$"): "\\u0024"}  # fmt: skip
for _cp in (*range(0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029):
    _STRING_ESCAPES.setdefault(_cp, f"\\u{_cp:04x}")
for _cp in range(0xD800, 0xE000):
    _STRING_ESCAPES[_cp] = "\ufffd"
del _cp


def string_literal(value: str) -> str:
    """A Spark SQL string literal that reads back as exactly ``value``."""
    return "'" + value.translate(_STRING_ESCAPES) + "'"


def quote_ident(name: str) -> str:
    """A backtick-quoted identifier (catalog, schema, table or column)."""
    return "`" + name.replace("`", "``") + "`"


def _timestamp_literal(value: dt.datetime) -> str:
    # An explicit offset: a bare TIMESTAMP literal is read in the session's time zone.
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return f"TIMESTAMP '{value.isoformat(sep=' ', timespec='microseconds')}+00:00'"


def sql_literal(value: Any, sql_type: str) -> str:
    """``value`` as a literal of the column type ``sql_type`` (``STRING``, ``INT``, ``BIGINT``,
    ``BOOLEAN``, ``TIMESTAMP``); ``None`` is ``NULL``.  A value of the wrong type is a bug: TypeError."""
    if value is None:
        return "NULL"
    typ = sql_type.upper()
    if typ == "STRING" and isinstance(value, str):
        return string_literal(value)
    if typ in ("INT", "BIGINT") and isinstance(value, int) and not isinstance(value, bool):
        return str(int(value))
    if typ == "BOOLEAN" and isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if typ == "TIMESTAMP" and isinstance(value, dt.datetime):
        return _timestamp_literal(value)
    raise TypeError(f"cannot render {type(value).__name__} {value!r} as a {sql_type} literal")


@dataclass(frozen=True)
class Target:
    """Where the metadata tables live: ``[catalog.]schema``."""

    schema: str
    catalog: str | None = None

    @property
    def schema_ref(self) -> str:
        parts = [self.catalog, self.schema] if self.catalog else [self.schema]
        return ".".join(quote_ident(p) for p in parts)

    def table_ref(self, table: str) -> str:
        return f"{self.schema_ref}.{quote_ident(table)}"

    def display(self, table: str | None = None) -> str:
        parts = [p for p in (self.catalog, self.schema, table) if p]
        return ".".join(parts)


Columns = Sequence[tuple[str, str]]  # (name, Databricks SQL type), as in catalog.SCHEMAS


# --- DDL and the statements around the INSERTs ---------------------------------------------------------
def create_schema(target: Target) -> str:
    return f"CREATE SCHEMA IF NOT EXISTS {target.schema_ref}"


def create_table(target: Target, table: str, columns: Columns) -> str:
    cols = ", ".join(f"{quote_ident(name)} {typ}" for name, typ in columns)
    return f"CREATE TABLE IF NOT EXISTS {target.table_ref(table)} ({cols})"


def probe_columns(target: Target, table: str, source_id: str) -> str:
    """A query whose result description lists the table's columns, and that returns a row when the
    table already holds rows of ``source_id``."""
    return (
        f"SELECT * FROM {target.table_ref(table)} "
        f"WHERE {quote_ident('source_id')} = {string_literal(source_id)} LIMIT 1"
    )


def add_columns(target: Target, table: str, columns: Columns) -> str:
    cols = ", ".join(f"{quote_ident(name)} {typ}" for name, typ in columns)
    return f"ALTER TABLE {target.table_ref(table)} ADD COLUMNS ({cols})"


def count_rows(target: Target, tables: Sequence[str], source_id: str) -> str:
    """One query: a row ``(table, n)`` per table, counting the rows of ``source_id``."""
    key = string_literal(source_id)
    return " UNION ALL ".join(
        f"SELECT {string_literal(t)} AS {quote_ident('table')}, count(*) AS {quote_ident('n')} "
        f"FROM {target.table_ref(t)} WHERE {quote_ident('source_id')} = {key}"
        for t in tables
    )


def delete_rows(target: Target, table: str, source_id: str) -> str:
    return f"DELETE FROM {target.table_ref(table)} WHERE {quote_ident('source_id')} = {string_literal(source_id)}"


# --- INSERT batching -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Statement:
    sql: str
    rows: int  # data rows the statement carries


def plan_inserts(
    target: Target,
    table: str,
    columns: Columns,
    rows: Sequence[Mapping[str, Any]],
    capabilities: SinkCapabilities,
) -> list[Statement]:
    """Multi-row ``INSERT INTO ... VALUES (...), (...)`` statements holding every row once, in order.

    A statement takes rows while it stays within ``capabilities.max_rows_per_insert`` rows and
    ``capabilities.max_statement_bytes`` bytes of UTF-8 text.  A row too large for a statement on its
    own raises ``TerminalSinkError``.
    """
    if not rows:
        return []
    max_rows = capabilities.max_rows_per_insert or len(rows)
    max_bytes = capabilities.max_statement_bytes
    names = ", ".join(quote_ident(name) for name, _ in columns)
    head = f"INSERT INTO {target.table_ref(table)} ({names}) VALUES "
    head_bytes = len(head.encode("utf-8"))
    statements: list[Statement] = []
    batch: list[str] = []
    size = head_bytes

    def flush() -> None:
        statements.append(Statement(head + ", ".join(batch), len(batch)))

    for row in rows:
        values = "(" + ", ".join(sql_literal(row.get(name), typ) for name, typ in columns) + ")"
        n = len(values.encode("utf-8"))
        if max_bytes is not None and head_bytes + n > max_bytes:
            raise TerminalSinkError(
                f"a row of `{target.display(table)}` takes {head_bytes + n} bytes of SQL, more than the "
                f"{max_bytes}-byte statement limit (EXECUTOR_MAX_STATEMENT_BYTES)"
            )
        sep = 2 if batch else 0
        if batch and (len(batch) >= max_rows or (max_bytes is not None and size + sep + n > max_bytes)):
            flush()
            batch, size, sep = [], head_bytes, 0
        batch.append(values)
        size += sep + n
    flush()
    return statements
