"""Faults between the executor and the warehouse never leave a duplicate or a missing row.

Each kind the emulator injects, on the statements where it hurts: throttling (429, 503 with
Retry-After), server errors (500), a connection dropped before or after the statement ran, a reply
slower than the client's timeout.  The ones that strike after the statement ran make the connector
repeat it behind a single success, or report a failure for a statement that did run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nuvyn_executor.engine.catalog import SCHEMAS, Catalog
from nuvyn_executor.engine.errors import TransientSinkError
from nuvyn_executor.engine.settings import SinkSettings, databricks_from_env
from nuvyn_executor.engine.sinks.databricks import DatabricksSink
from tests.seed import SEED_COLUMNS_DDL

from .dbx import INSERT_INTO, assert_exactly_once, make_catalog

# Faults that strike before the statement runs: retried, and nothing to repair.
BEFORE = {
    "503 with Retry-After, twice": dict(kind="status", status=503, retry_after=1, times=2, match=INSERT_INTO["columns"]),
    "429 with Retry-After": dict(kind="status", status=429, retry_after=0, match=INSERT_INTO["tables"]),
    "500": dict(kind="status", status=500, match=INSERT_INTO["columns"]),
    "dropped connection": dict(kind="drop", match=INSERT_INTO["columns"]),
    "slow reply": dict(kind="delay", seconds=0.3, match=INSERT_INTO["tables"]),
    "503 on OpenSession, twice": dict(kind="status", status=503, times=2, method="OpenSession"),
    "dropped after OpenSession": dict(kind="drop", when="after", method="OpenSession"),
}  # fmt: skip


@pytest.mark.parametrize("fault", BEFORE.values(), ids=BEFORE.keys())
def test_a_fault_before_the_statement_runs(fault: dict[str, Any], executor, warehouse, amazon: Path) -> None:
    injected = warehouse.inject(**fault)
    r = executor(amazon)
    assert r.exit_code == 0, r.stderr
    assert injected not in warehouse.faults  # it struck, as many times as asked
    assert len([q for q in warehouse.requests if q.fault == str(injected)]) == fault.get("times", 1)
    assert not warehouse.executed(r"^DELETE")
    assert_exactly_once(warehouse, r.json)


# Faults that strike once the INSERT ran: the connector repeats it behind one success (a dropped
# connection, a socket timeout) or reports a failure the sink retries (503, 500).  Either way the
# statement runs twice; the count after the inserts shows it and the table is written again.
AFTER = {
    "dropped connection": dict(kind="drop", when="after"),
    "socket timeout": dict(kind="delay", seconds=2.5, when="after"),
    "503": dict(kind="status", status=503, when="after"),
    "500": dict(kind="status", status=500, when="after"),
}


@pytest.mark.parametrize("fault", AFTER.values(), ids=AFTER.keys())
def test_a_fault_after_the_insert_ran(fault: dict[str, Any], executor, warehouse, amazon: Path) -> None:
    injected = warehouse.inject(match=INSERT_INTO["columns"], **fault)
    r = executor(amazon, env={"EXECUTOR_DB_TIMEOUT": "1"})
    assert r.exit_code == 0, r.stderr
    assert injected not in warehouse.faults
    inserts = warehouse.executed(INSERT_INTO["columns"])
    assert len(inserts) == 3  # the first, its repeat, the rewrite
    assert inserts[0] == inserts[1] == inserts[2]
    assert len(warehouse.executed(r"^DELETE FROM .*`columns`")) == 1
    assert "writing them again" in r.stderr
    assert_exactly_once(warehouse, r.json)


# --- every statement of a write, struck in turn (through the library: a write takes a few ms) -------------
def _write(warehouse: Any, catalog: Catalog, **settings: Any) -> DatabricksSink:
    options = {"retries": 4, "backoff": 0.0, "backoff_max": 0.0, "max_rows_per_insert": 2, **settings}
    sink = DatabricksSink(databricks_from_env(warehouse.env()), SinkSettings(write_to_db=True, **options))
    try:
        sink.write(catalog)
    finally:
        sink.close()
    return sink


EVERY_STATEMENT = {
    "dropped after": dict(kind="drop", when="after"),
    "503 after": dict(kind="status", status=503, when="after"),
    "500 before": dict(kind="status", status=500),
}


@pytest.mark.parametrize("fault", EVERY_STATEMENT.values(), ids=EVERY_STATEMENT.keys())
def test_a_fault_on_any_statement_of_a_write(fault: dict[str, Any], warehouse) -> None:
    _write(warehouse, make_catalog())  # a first run: the schema and tables exist, as they usually do
    warehouse.reset_log()
    _write(warehouse, make_catalog())
    n = len(warehouse.statements)
    assert n == 14  # schema, 3 tables, 3 probes; 3 + 1 inserts, a count; the sources insert, a count
    for i in range(n):
        warehouse.reset_log()
        catalog = make_catalog()
        injected = warehouse.inject(method="ExecuteStatement", skip=i, **fault)
        _write(warehouse, catalog)
        assert injected not in warehouse.faults, i
        assert_exactly_once(warehouse, catalog.to_dict())


def test_faults_on_every_request_in_a_row_are_outlasted(warehouse) -> None:
    """A warehouse that fails every other request, one way after another."""
    kinds = list(EVERY_STATEMENT.values())
    for i in range(30):
        warehouse.inject(method="ExecuteStatement", skip=2 * i, **kinds[i % len(kinds)])
    catalog = make_catalog(1, 9)
    _write(warehouse, catalog, retries=6)
    assert not warehouse.faults
    assert_exactly_once(warehouse, catalog.to_dict())


def test_a_write_that_cannot_be_made_exact_fails_without_a_sources_row(warehouse) -> None:
    for i in range(100):  # every INSERT into columns runs twice behind one success
        warehouse.inject("drop", when="after", match=INSERT_INTO["columns"], skip=2 * i)
    catalog = make_catalog()
    with pytest.raises(TransientSinkError, match="exactly once"):
        _write(warehouse, catalog, retries=2)
    assert warehouse.query("SELECT count(*) FROM _executor_metadata.sources") == [(0,)]


def test_writing_the_same_catalog_again_replaces_it(warehouse) -> None:
    catalog = make_catalog()
    _write(warehouse, catalog)
    warehouse.reset_log()
    _write(warehouse, catalog)
    assert_exactly_once(warehouse, catalog.to_dict())
    deletes = warehouse.executed(r"^DELETE FROM")
    assert [d.split("`")[3] for d in deletes] == ["sources", "tables", "columns"]  # the commit marker first


def test_leftovers_of_a_failed_attempt_are_replaced(warehouse) -> None:
    catalog = make_catalog()
    warehouse.inject("status", status=503, match=INSERT_INTO["sources"], times=1000)
    with pytest.raises(TransientSinkError):
        _write(warehouse, catalog, retries=1)
    assert warehouse.query("SELECT count(*) FROM _executor_metadata.columns WHERE source_id = ?",
                           [catalog.source_id]) == [(5,)]  # fmt: skip
    warehouse.faults.clear()
    _write(warehouse, catalog)
    assert_exactly_once(warehouse, catalog.to_dict())


def test_an_alter_repeated_by_the_connector_is_not_a_failure(warehouse) -> None:
    """ADD COLUMNS is not idempotent: the connector's silent repeat fails on the columns the first run
    added.  The sink looks at the table again before counting that as a failure."""
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute("CREATE SCHEMA _executor_metadata")
        cur.execute(SEED_COLUMNS_DDL)
    warehouse.reset_log()
    warehouse.inject("drop", when="after", match=r"^ALTER TABLE")
    catalog = make_catalog()
    _write(warehouse, catalog)
    assert len(warehouse.executed(r"^ALTER TABLE")) == 2
    assert [r[0] for r in warehouse.query("DESCRIBE _executor_metadata.columns")] == [
        n for n, _ in SCHEMAS["columns"]
    ]
    assert_exactly_once(warehouse, catalog.to_dict())
