"""The Databricks SQL sink end to end: the real CLI, the real connector, the warehouse emulator.

Each test runs the console script as a user would (``DATABRICKS_*`` set, or ``--db databricks://...``)
on a folder of CSV files, then reads the warehouse back: through the seed's example queries via the
connector, and straight from its DuckDB data.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from nuvyn_executor.engine.catalog import SCHEMAS
from tests.seed import SEED, SEED_COLUMNS_DDL, SEED_QUERIES

from .dbx import INSERT_INTO, assert_exactly_once, printed_rows


def _query(warehouse: Any, sql: str, parameters: Any = None) -> list[tuple[Any, ...]]:
    """A query through the real connector, as the seed's backend service runs it."""
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute(sql, parameters)
        return [tuple(r) for r in cur.fetchall()]


def test_the_seed_queries_are_the_seeds() -> None:
    """Guard against drift: the queries in tests/seed.py appear in the seed guide as written."""
    if not SEED.exists():
        pytest.skip("the seed guide is not beside the project")
    text = re.sub(r"\s+", " ", "".join(p.read_text() for p in SEED.iterdir()))
    for sql in [*SEED_QUERIES.values(), SEED_COLUMNS_DDL]:
        assert re.sub(r"\s+", " ", sql.strip()) in text


def test_the_seed_queries_return_the_runs_rows_exactly_once(executor, warehouse, amazon: Path) -> None:
    r = executor(amazon)
    assert r.exit_code == 0, r.stderr
    doc = r.json
    assert_exactly_once(warehouse, doc)
    source_id = doc["sources"][0]["source_id"]

    sources = _query(warehouse, SEED_QUERIES["sources_by_time"])
    assert [s[0] for s in sources] == [source_id]
    assert sources[0][1:3] == (str(amazon), "csv")

    tables = _query(warehouse, SEED_QUERIES["tables_for_source"])
    assert tables == sorted(
        (t["table_name"], t["file_type"], t["row_count"], t["column_count"], t["size_bytes"])
        for t in doc["tables"]
    )
    assert [t[:3] for t in tables] == [("amazon.csv", "csv", 2), ("returns.csv", "csv", 2)]

    columns = _query(warehouse, SEED_QUERIES["columns_for_table"])
    assert columns == [
        (c["column_name"], c["data_type"], c["position"], c["is_nullable"], c["sample_values"])
        for c in sorted(doc["columns"], key=lambda c: c["position"])
        if c["table_name"] == "amazon.csv"
    ]
    assert [c[:2] for c in columns] == [("product_id", "string"), ("product_name", "string"),
                                        ("rating", "double"), ("added", "timestamp")]  # fmt: skip
    assert "Ambrane 'fast' \\ charger $5 -- ; \U0001f600" in json.loads(columns[1][4])

    full = _query(warehouse, SEED_QUERIES["complete_metadata"].replace("your-source-id", source_id))
    assert len(full) == len(doc["columns"]) == 6

    (latest,) = _query(warehouse, SEED_QUERIES["latest_metadata"])
    # The guide's query joins columns on source_id alone: tables x columns rows, each counted once.
    assert latest[0] == source_id
    assert latest[4:] == (2, len(doc["tables"]) * len(doc["columns"]))

    by_source = _query(warehouse, SEED_QUERIES["source_columns"], (source_id,))
    keys = ("table_name", "column_name", "data_type", "position", "is_nullable", "sample_values")
    ordered = sorted(doc["columns"], key=lambda c: (c["table_name"], c["position"]))
    assert by_source == [tuple(c[k] for k in keys) for c in ordered]


def test_one_round_trip_per_statement(executor, warehouse, amazon: Path) -> None:
    r = executor(amazon)
    assert r.exit_code == 0, r.stderr
    methods = [q.method for q in warehouse.requests]
    # Direct results: no polling, no separate fetch or close per statement; one session.
    assert methods == ["OpenSession"] + ["ExecuteStatement"] * len(warehouse.statements) + ["CloseSession"]
    assert warehouse.connections == 1  # HTTP/1.1 keep-alive: one TLS connection for the whole write
    assert [len(warehouse.executed(INSERT_INTO[t])) for t in ("columns", "tables", "sources")] == [1, 1, 1]
    assert re.search(r"wrote 9 rows in \d+ statement", r.stderr)


@pytest.fixture
def wide(write, data_dir: Path) -> Path:
    """Ten CSV files of 1,000 columns each: 10,000 column rows."""
    for f in range(10):
        header = ",".join(f"c{f}_{i}" for i in range(1000))
        write(f"wide/part{f}.csv", header + "\n" + ",".join(str(i) for i in range(1000)) + "\n")
    return data_dir / "wide"


def test_ten_thousand_column_rows_take_ten_inserts(executor, warehouse, wide: Path) -> None:
    r = executor(wide)
    assert r.exit_code == 0, r.stderr
    assert len(r.json["columns"]) == 10_000
    assert len(warehouse.executed(INSERT_INTO["columns"])) == 10
    # Everything else is a fixed cost: the DDL, three probes, two inserts and two counts.
    assert len(warehouse.statements) <= 10 + 12
    assert_exactly_once(warehouse, r.json)


def test_a_smaller_statement_limit_makes_more_smaller_statements(executor, warehouse, amazon: Path) -> None:
    limit = 1024  # the smallest EXECUTOR_MAX_STATEMENT_BYTES allowed
    r = executor(amazon, env={"EXECUTOR_MAX_STATEMENT_BYTES": str(limit)})
    assert r.exit_code == 0, r.stderr
    inserts = warehouse.executed(INSERT_INTO["columns"])
    assert len(inserts) > 1
    assert max(len(s.encode()) for s in inserts) <= limit
    assert_exactly_once(warehouse, r.json)


def test_db_url_catalog_and_schema(executor, warehouse, amazon: Path) -> None:
    warehouse.create_catalog("analytics")
    r = executor(
        amazon, "--db", warehouse.url(), "--catalog", "analytics", "--schema", "meta", databricks_env=False
    )
    assert r.exit_code == 0, r.stderr
    assert_exactly_once(warehouse, r.json, catalog="analytics", schema="meta")
    assert all(s.startswith(("CREATE SCHEMA IF NOT EXISTS `analytics`.`meta`", "CREATE TABLE IF NOT EXISTS `analytics`.`meta`."))
               for s in warehouse.statements[:4])  # fmt: skip
    assert warehouse.query(
        "SELECT count(*) FROM information_schema.schemata WHERE schema_name = '_executor_metadata'"
    ) == [(0,)]


def test_db_url_catalog_parameter(executor, warehouse, amazon: Path) -> None:
    warehouse.create_catalog("lake")
    r = executor(amazon, "--db", warehouse.url(catalog="lake"), databricks_env=False)
    assert r.exit_code == 0, r.stderr
    assert_exactly_once(warehouse, r.json, catalog="lake")


def test_an_unknown_catalog_fails_the_write_not_the_run(executor, warehouse, amazon: Path) -> None:
    r = executor(amazon, "--catalog", "nope")
    assert r.exit_code == 3
    assert len(r.json["columns"]) == 6
    assert "writing the metadata tables failed" in r.stderr
    assert len(warehouse.statements) == 1  # a refused statement is not retried


def test_the_seeds_seven_column_table_gets_the_missing_columns(executor, warehouse, amazon: Path) -> None:
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute("CREATE SCHEMA _executor_metadata")
        cur.execute(SEED_COLUMNS_DDL)
        cur.execute(
            "INSERT INTO _executor_metadata.columns VALUES ('old', 't', 'c', 'string', 0, true, '[]')"
        )
    statements_before = len(warehouse.statements)
    r = executor(amazon)
    assert r.exit_code == 0, r.stderr
    names = [row[0] for row in warehouse.query("DESCRIBE _executor_metadata.columns")]
    assert names == [n for n, _ in SCHEMAS["columns"]]  # the seed's seven first, the rest added after
    (alter,) = warehouse.executed(r"^ALTER TABLE")
    assert alter == (
        "ALTER TABLE `_executor_metadata`.`columns` ADD COLUMNS (`null_count` BIGINT, `distinct_count` BIGINT, "
        "`min_value` STRING, `max_value` STRING, `date_format` STRING)"
    )
    assert warehouse.query("SELECT * FROM _executor_metadata.columns WHERE source_id = 'old'") == [
        ("old", "t", "c", "string", 0, True, "[]", None, None, None, None, None)
    ]
    assert_exactly_once(warehouse, r.json)
    assert statements_before == 3


def test_a_write_that_finally_fails_exits_3_with_the_json_and_one_line(
    executor, warehouse, amazon: Path
) -> None:
    warehouse.inject("status", status=503, retry_after=1, match=INSERT_INTO["sources"], times=100)
    r = executor(amazon)
    assert r.exit_code == 3
    doc = r.json  # the whole document is still printed
    assert len(doc["tables"]) == 2
    assert len(doc["columns"]) == 6
    errors = [line for line in r.stderr.splitlines() if ": ERROR: " in line]
    assert len(errors) == 1, r.stderr
    assert errors[0].startswith(
        "nuvyn-executor: ERROR: writing the metadata tables failed: inserting into `sources`"
    )
    assert "Traceback" not in r.stderr
    assert len(warehouse.executed(INSERT_INTO["sources"])) == 0
    assert len([q for q in warehouse.requests if q.fault]) == 5  # the first try and four retries
    # Without its sources row, nothing of the run is to be trusted; its other rows are all there once.
    assert warehouse.query("SELECT count(*) FROM _executor_metadata.sources") == [(0,)]
    source_id = doc["sources"][0]["source_id"]
    assert warehouse.query(
        "SELECT count(*) FROM _executor_metadata.columns WHERE source_id = ?", [source_id]
    ) == [(6,)]


def test_a_wrong_token_fails_at_once(executor, warehouse, amazon: Path) -> None:
    r = executor(amazon, env={"DATABRICKS_ACCESS_TOKEN": "not-the-token"})
    assert r.exit_code == 3
    assert len(r.json["columns"]) == 6
    assert "HTTP 401" in r.stderr
    assert warehouse.round_trips == 1  # terminal: no retry


def test_the_warehouse_ca_must_be_trusted(executor, warehouse, amazon: Path) -> None:
    """Without REQUESTS_CA_BUNDLE naming the warehouse's CA the TLS handshake fails, and is not retried."""
    system = {"REQUESTS_CA_BUNDLE": "", "SSL_CERT_FILE": ""}
    r = executor(amazon, env=system)
    assert r.exit_code == 3
    assert "CERTIFICATE_VERIFY_FAILED" in r.stderr
    assert "REQUESTS_CA_BUNDLE" in r.stderr
    assert warehouse.round_trips == 0
    r = executor(amazon, env={"REQUESTS_CA_BUNDLE": "", "SSL_CERT_FILE": str(warehouse.ca_file)})
    assert r.exit_code == 0, r.stderr
    assert_exactly_once(warehouse, r.json)


def test_runs_accumulate_and_each_is_written_once(executor, warehouse, amazon: Path) -> None:
    first, second = executor(amazon), executor(amazon)
    assert first.exit_code == second.exit_code == 0
    for r in (first, second):
        assert_exactly_once(warehouse, r.json)
    assert warehouse.query("SELECT count(*) FROM _executor_metadata.sources") == [(2,)]
    assert len(printed_rows(first.json, "columns")) == 6


def test_nothing_in_a_data_file_changes_a_statement(executor, warehouse, write, data_dir: Path) -> None:
    hostile = [
        "x'); DROP TABLE _executor_metadata.sources; --",
        "a\\', 1); DELETE FROM _executor_metadata.columns; --",
        "${env:DATABRICKS_ACCESS_TOKEN}",
        "it''s \\\\ \\n */ /*",
    ]
    header = ",".join('"' + h.replace('"', '""') + '"' for h in hostile)
    write("hostile/evil's.csv", header + "\n" + ",".join(f'"{h}"'.replace("\n", " ") for h in hostile) + "\n")
    r = executor(data_dir / "hostile")
    assert r.exit_code == 0, r.stderr
    assert_exactly_once(warehouse, r.json)
    stored = warehouse.query("SELECT column_name FROM _executor_metadata.columns ORDER BY position")
    assert [s[0] for s in stored] == hostile
    assert warehouse.query("SELECT table_name FROM _executor_metadata.tables") == [("evil's.csv",)]
