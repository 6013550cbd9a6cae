"""Databricks SQL run on DuckDB: statements transpiled by sqlglot, executed with the time zone in UTC."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp


class SqlError(Exception):
    """A statement the warehouse refuses, with a Databricks-style error class and SQLSTATE."""

    def __init__(self, error_class: str, sql_state: str, message: str) -> None:
        self.error_class, self.sql_state = error_class, sql_state
        super().__init__(f"[{error_class}] {message} SQLSTATE: {sql_state}")


@dataclass(frozen=True)
class Result:
    table: pa.Table
    modified_rows: int | None  # rows an INSERT or DELETE touched


# DuckDB's error types, as the error classes Databricks reports.
_ERRORS: dict[type[Exception], tuple[str, str]] = {
    duckdb.CatalogException: ("TABLE_OR_VIEW_NOT_FOUND", "42P01"),
    duckdb.ParserException: ("PARSE_SYNTAX_ERROR", "42601"),
    duckdb.BinderException: ("UNRESOLVED_COLUMN", "42703"),
    duckdb.ConversionException: ("CAST_INVALID_INPUT", "22018"),
    duckdb.ConstraintException: ("CONSTRAINT_VIOLATION", "23000"),
}


def _bind(tree: exp.Expression, parameters: Sequence[Any]) -> exp.Expression:
    """Replace ``?`` and ``:name`` markers with the connector's native parameters."""
    positional = iter([p for p in parameters if not p.name])
    named = {p.name: p for p in parameters if p.name}

    def literal(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Placeholder):
            return node
        param = named[node.name] if node.name and node.name != "?" else next(positional)
        value = param.value.stringValue if param.value is not None else None
        if value is None:
            return exp.Null()
        return exp.cast(exp.Literal.string(value), param.type or "STRING", dialect="databricks")

    return tree.transform(literal)


def transpile(statement: str, parameters: Sequence[Any] = ()) -> list[tuple[str, bool]]:
    """The DuckDB statements that do what ``statement`` does in Databricks SQL, each with whether it
    is a query (returns rows)."""
    try:
        trees = [t for t in sqlglot.parse(statement, read="databricks") if t is not None]
    except sqlglot.errors.ParseError as err:
        raise SqlError("PARSE_SYNTAX_ERROR", "42601", str(err).splitlines()[0]) from None
    if len(trees) != 1:  # as a warehouse: one statement per call (so an injected `; ...` fails loudly)
        raise SqlError("PARSE_SYNTAX_ERROR", "42601", f"expected one statement, got {len(trees)}")
    out = []
    for tree in trees:
        if parameters:
            tree = _bind(tree, parameters)
        added = tree.find(exp.Schema) if isinstance(tree, exp.Alter) else None
        if added is not None:
            # ALTER TABLE t ADD COLUMNS (a T, b T): DuckDB adds one column at a time.
            table = tree.this.sql(dialect="duckdb")
            out.extend(
                (f"ALTER TABLE {table} ADD COLUMN {c.sql(dialect='duckdb')}", False)
                for c in added.expressions
            )
        else:
            out.append(
                (
                    tree.sql(dialect="duckdb", copy=False),
                    isinstance(tree, (exp.Query, exp.Describe, exp.Show)),
                )
            )
    return out


class SqlEngine:
    """One DuckDB database standing in for the warehouse; catalogs are attached databases."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._db = duckdb.connect()
        self._db.execute("SET TimeZone = 'UTC'")

    def create_catalog(self, name: str) -> None:
        with self._lock:
            self._db.execute(f"ATTACH ':memory:' AS \"{name}\"")

    def execute(self, statement: str, parameters: Sequence[Any] = ()) -> Result:
        """Run a Databricks SQL statement (several DuckDB statements run in one transaction)."""
        duck = transpile(statement, parameters)
        with self._lock:
            try:
                self._db.execute("BEGIN TRANSACTION")
                for sql, is_query in duck:
                    if is_query:
                        table = self._db.sql(sql).to_arrow_table()
                    else:  # DDL answers nothing; DML its row count, reshaped below
                        rows = self._db.execute(sql).fetchall()
                        table = pa.table({"Count": [r[0] for r in rows]}, pa.schema([("Count", pa.int64())]))
                self._db.execute("COMMIT")
            except duckdb.Error as err:
                self._db.execute("ROLLBACK")
                error_class, state = next(
                    (v for k, v in _ERRORS.items() if isinstance(err, k)), ("INTERNAL_ERROR", "XX000")
                )
                raise SqlError(error_class, state, " ".join(str(err).split())) from None
        return self._shape(statement, table)

    @staticmethod
    def _shape(statement: str, table: pa.Table) -> Result:
        """Databricks' answer to DML: ``num_affected_rows`` (and ``num_inserted_rows``) instead of
        DuckDB's ``Count``."""
        verb = re.match(r"\s*(\w+)", statement)
        kind = verb.group(1).upper() if verb else ""
        if kind in ("INSERT", "DELETE", "UPDATE", "MERGE") and table.column_names == ["Count"]:
            n = int(table.column(0)[0].as_py()) if table.num_rows else 0
            cols = {"num_affected_rows": pa.array([n], pa.int64())}
            if kind == "INSERT":
                cols["num_inserted_rows"] = pa.array([n], pa.int64())
            return Result(pa.table(cols), n)
        if table.column_names == ["Count"]:
            return Result(pa.table({}), None)
        return Result(table, None)

    def query(self, sql: str, parameters: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run DuckDB SQL directly (for assertions)."""
        with self._lock:
            return self._db.execute(sql, parameters).fetchall()

    def close(self) -> None:
        self._db.close()
