"""The warehouse emulator answers the real connector as a warehouse would, beyond what the sink uses."""

from __future__ import annotations

import datetime as dt
import decimal
import time

import pytest

dbsql = pytest.importorskip("databricks.sql")


def test_types_come_back_typed(warehouse) -> None:
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT CAST(12.345 AS DECIMAL(10, 3)) AS d, TIMESTAMP '2025-10-12 10:30:00+02:00' AS ts, "
            "TRUE AS b, CAST(7 AS BIGINT) AS n, 'x' AS s, CAST(NULL AS STRING) AS z"
        )
        assert cur.fetchall() == [
            (
                decimal.Decimal("12.345"),
                dt.datetime(2025, 10, 12, 8, 30, tzinfo=dt.timezone.utc),
                True,
                7,
                "x",
                None,
            )
        ]
        assert [(d[0], d[1], d[4], d[5]) for d in cur.description] == [
            ("d", "decimal", 10, 3), ("ts", "timestamp", None, None), ("b", "boolean", None, None),
            ("n", "bigint", None, None), ("s", "string", None, None), ("z", "string", None, None)]  # fmt: skip


def test_a_large_result_is_fetched_in_pages(warehouse) -> None:
    with warehouse.connect() as conn, conn.cursor(arraysize=1000) as cur:
        cur.execute("SELECT * FROM range(2500) AS t(i)")
        assert [r[0] for r in cur.fetchall()] == list(range(2500))
    methods = [q.method for q in warehouse.requests]
    assert methods.count("FetchResults") == 2  # rows 1000-1999 and 2000-2499; the first 1000 came direct
    assert "CloseOperation" in methods


def test_an_asynchronous_statement_is_polled(warehouse) -> None:
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute_async("SELECT 41 + 1 AS answer")
        while cur.is_query_pending():
            time.sleep(0.01)
        assert cur.get_async_execution_result().fetchall() == [(42,)]
    methods = [q.method for q in warehouse.requests]
    assert "GetOperationStatus" in methods
    assert "FetchResults" in methods


def test_a_refused_statement_raises_with_its_error_class(warehouse) -> None:
    with warehouse.connect() as conn, conn.cursor() as cur:
        with pytest.raises(dbsql.exc.ServerOperationError, match=r"\[TABLE_OR_VIEW_NOT_FOUND\]"):
            cur.execute("SELECT * FROM nowhere.nothing")
        with pytest.raises(dbsql.exc.ServerOperationError, match="one statement"):
            cur.execute("SELECT 1; SELECT 2")


def test_requests_beyond_thrifts_default_size_limit(warehouse) -> None:
    """Thrift caps strings at about 16 MB unless told otherwise; the emulator is told otherwise."""
    big = "x" * (17 << 20)
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT length('{big}') AS n")
        assert cur.fetchall() == [(len(big),)]
