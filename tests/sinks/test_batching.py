"""The INSERT planner and the SQL it renders: every row once, in order, within the declared limits."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
import sqlglot
from sqlglot import exp

from nuvyn_executor.engine.catalog import SCHEMAS
from nuvyn_executor.engine.errors import TerminalSinkError
from nuvyn_executor.engine.settings import DEFAULT_MAX_ROWS_PER_INSERT, DEFAULT_MAX_STATEMENT_BYTES
from nuvyn_executor.engine.sinks import batching as sql
from nuvyn_executor.engine.sinks.base import SinkCapabilities

TARGET = sql.Target("_executor_metadata")
DEFAULTS = SinkCapabilities(
    max_parameters=256,
    max_statement_bytes=DEFAULT_MAX_STATEMENT_BYTES,
    max_rows_per_insert=DEFAULT_MAX_ROWS_PER_INSERT,
)


def column_rows(n: int, filler: str = "") -> list[dict]:
    return [
        {"source_id": "s-1", "table_name": f"t{i // 40}.csv", "column_name": f"col {i}{filler}", "data_type": "string",
         "position": i % 40, "is_nullable": i % 2 == 0, "sample_values": '["a\'b", "c\\\\d"]', "null_count": i,
         "distinct_count": 3 * i, "min_value": None, "max_value": "zz", "date_format": None}
        for i in range(n)
    ]  # fmt: skip


def values_of(statement: str) -> list[list[object]]:
    """The rows an INSERT carries, read back by a SQL parser (sqlglot's Databricks dialect)."""
    tree = sqlglot.parse_one(statement, read="databricks")
    assert isinstance(tree, exp.Insert)
    rows = []
    for tup in tree.expression.expressions:
        row = []
        for v in tup.expressions:
            if isinstance(v, exp.Null):
                row.append(None)
            elif isinstance(v, exp.Boolean):
                row.append(v.this)
            elif isinstance(v, exp.Literal):
                row.append(v.this if v.is_string else int(v.this))
            else:
                row.append(v.sql("databricks"))
        rows.append(row)
    return rows


def test_every_row_once_in_order() -> None:
    rows = column_rows(2_345)
    plan = sql.plan_inserts(TARGET, "columns", SCHEMAS["columns"], rows, DEFAULTS)
    assert [s.rows for s in plan] == [1000, 1000, 345]
    got = [r for s in plan for r in values_of(s.sql)]
    assert got == [[row[n] for n, _ in SCHEMAS["columns"]] for row in rows]
    assert plan[0].sql.startswith(
        "INSERT INTO `_executor_metadata`.`columns` (`source_id`, `table_name`, `column_name`, `data_type`, "
    )


def test_ten_thousand_rows_take_ten_statements_by_default() -> None:
    plan = sql.plan_inserts(TARGET, "columns", SCHEMAS["columns"], column_rows(10_000), DEFAULTS)
    assert len(plan) == 10
    assert sum(s.rows for s in plan) == 10_000


@pytest.mark.parametrize(("max_bytes", "max_rows"), [(1024, None), (3000, 7), (50_000, 5), (2 << 20, 1)])
def test_shrunk_limits_split_the_rows(max_bytes: int, max_rows: int | None) -> None:
    """As dlt's test_query_split: shrink the limits, and every statement keeps to them, holds every row
    once, and is as full as the limits allow."""
    rows = column_rows(120, filler=" é😀" * 3)
    caps = SinkCapabilities(max_statement_bytes=max_bytes, max_rows_per_insert=max_rows)
    plan = sql.plan_inserts(TARGET, "columns", SCHEMAS["columns"], rows, caps)
    assert len(plan) > 1
    assert all(len(s.sql.encode("utf-8")) <= max_bytes for s in plan)
    assert all(s.rows <= (max_rows or len(rows)) for s in plan)
    assert [r for s in plan for r in values_of(s.sql)] == [
        [row[n] for n, _ in SCHEMAS["columns"]] for row in rows
    ]
    for a, b in itertools.pairwise(plan):  # greedy: the next statement's first row did not fit
        first_of_b = b.sql[b.sql.index(" VALUES ") + len(" VALUES ") :].split("), (")[0] + ")"
        full_rows = max_rows is not None and a.rows == max_rows
        assert full_rows or len(a.sql.encode()) + 2 + len(first_of_b.encode()) > max_bytes


def test_a_row_larger_than_a_statement_is_refused() -> None:
    rows = column_rows(3)
    rows[1]["sample_values"] = "x" * 5000
    with pytest.raises(TerminalSinkError, match="EXECUTOR_MAX_STATEMENT_BYTES"):
        sql.plan_inserts(
            TARGET, "columns", SCHEMAS["columns"], rows, SinkCapabilities(max_statement_bytes=4096)
        )


def test_no_rows_no_statement() -> None:
    assert sql.plan_inserts(TARGET, "tables", SCHEMAS["tables"], [], DEFAULTS) == []


def test_identifiers_are_backquoted() -> None:
    assert sql.quote_ident("a`b c") == "`a``b c`"
    target = sql.Target("my schema", catalog="cat`x")
    assert target.table_ref("columns") == "`cat``x`.`my schema`.`columns`"
    assert sql.create_schema(target) == "CREATE SCHEMA IF NOT EXISTS `cat``x`.`my schema`"
    assert sql.delete_rows(target, "tables", "it's") == (
        "DELETE FROM `cat``x`.`my schema`.`tables` WHERE `source_id` = 'it\\'s'"
    )
    assert sql.add_columns(TARGET, "columns", [("a", "STRING"), ("b", "BIGINT")]) == (
        "ALTER TABLE `_executor_metadata`.`columns` ADD COLUMNS (`a` STRING, `b` BIGINT)"
    )


@pytest.mark.parametrize(
    ("value", "typ", "literal"),
    [
        (None, "STRING", "NULL"),
        (None, "TIMESTAMP", "NULL"),
        ("it's", "STRING", "'it\\'s'"),
        ("a\\b", "STRING", "'a\\\\b'"),
        ("a''b", "STRING", "'a\\'\\'b'"),
        ("line\nnext\r\ttab", "STRING", "'line\\nnext\\r\\ttab'"),
        ("${env:HOME}", "STRING", "'\\u0024{env:HOME}'"),
        ("\x00" + "12", "STRING", "'\\u000012'"),  # not \0: followed by digits, Spark reads an octal escape
        ("\x1a\x7f\u2028", "STRING", "'\\u001a\\u007f\\u2028'"),
        ("-- ; /* */ 😀 é", "STRING", "'-- ; /* */ 😀 é'"),
        ("\ud800", "STRING", "'\ufffd'"),
        (True, "BOOLEAN", "TRUE"),
        (False, "BOOLEAN", "FALSE"),
        (0, "INT", "0"),
        (-(2**63), "BIGINT", "-9223372036854775808"),
        (dt.datetime(2025, 10, 12, 10, 30, tzinfo=dt.timezone.utc), "TIMESTAMP",
         "TIMESTAMP '2025-10-12 10:30:00.000000+00:00'"),
        (dt.datetime(2025, 10, 12, 12, 30, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=2))), "TIMESTAMP",
         "TIMESTAMP '2025-10-12 10:30:00.000005+00:00'"),
        (dt.datetime(2025, 1, 2, 3, 4, 5), "TIMESTAMP", "TIMESTAMP '2025-01-02 03:04:05.000000+00:00'"),
    ],
)  # fmt: skip
def test_literals(value: object, typ: str, literal: str) -> None:
    assert sql.sql_literal(value, typ) == literal


@pytest.mark.parametrize(("value", "typ"), [(True, "INT"), ("1", "BIGINT"), (1, "BOOLEAN"), (1.5, "STRING"),
                                            ("2025-01-01", "TIMESTAMP"), (1, "DOUBLE")])  # fmt: skip
def test_a_value_of_the_wrong_type_is_a_bug(value: object, typ: str) -> None:
    with pytest.raises(TypeError):
        sql.sql_literal(value, typ)


def test_count_and_probe_queries() -> None:
    assert sql.count_rows(TARGET, ["columns", "tables"], "s'1") == (
        "SELECT 'columns' AS `table`, count(*) AS `n` FROM `_executor_metadata`.`columns` WHERE `source_id` = 's\\'1'"
        " UNION ALL "
        "SELECT 'tables' AS `table`, count(*) AS `n` FROM `_executor_metadata`.`tables` WHERE `source_id` = 's\\'1'"
    )
    assert sql.probe_columns(TARGET, "sources", "s") == (
        "SELECT * FROM `_executor_metadata`.`sources` WHERE `source_id` = 's' LIMIT 1"
    )
