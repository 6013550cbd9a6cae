"""Writing 100 tables x 50 columns to a Databricks SQL warehouse (the emulator in tests/warehouse).

Reported per write: the statements the sink executed (INSERTs among them), the HTTP round trips, the
wall time, and how much of it the emulator spent (decoding, transpiling with sqlglot, running DuckDB);
a real warehouse's time would take the emulator's place.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from nuvyn_executor.engine.catalog import Catalog
from nuvyn_executor.engine.settings import SinkSettings, databricks_from_env
from tests.sinks.dbx import make_catalog

TABLES, COLUMNS = 100, 50


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    pytest.importorskip("databricks.sql")
    from tests.warehouse import Warehouse

    server = Warehouse(tmp_path_factory.mktemp("warehouse"))
    yield server
    server.close()


# Strings of the sizes a run writes: JSON arrays of five samples, names, paths, a few with quotes,
# backslashes and non-ASCII text to escape.
STRINGS = [
    '["B07JW9H4J1", "B098NS6PVG", "B096MSW6CT", "B08HDJ86NZ", "B08CF3B7N1"]',
    "product_name",
    "region=3/sales_042.csv",
    '["Wayona Nylon Braided USB to Lightning Fast Charging", "it\'s 4.2", "C:\\data", "$5 -- off", "😀"]',
    "Computers&Accessories|Accessories&Peripherals|Cables&Accessories|Cables|USBCables",
]


@pytest.mark.benchmark(group="sink-databricks")
def test_write_100_tables_x_50_columns(benchmark: Any, warehouse: Any) -> None:
    from nuvyn_executor.engine.sinks.databricks import DatabricksSink

    connection = databricks_from_env(warehouse.env())
    settings = SinkSettings(write_to_db=True)
    figures: dict[str, Any] = {}

    def setup() -> tuple[tuple[Catalog], dict[str, Any]]:
        warehouse.reset_log()
        return (make_catalog(TABLES, COLUMNS, STRINGS),), {}

    def write(run: Catalog) -> None:
        started = time.perf_counter()
        sink = DatabricksSink(connection, settings)
        try:
            report = sink.write(run)
        finally:
            sink.close()
        wall = time.perf_counter() - started
        figures.update(
            column_rows=len(run.columns),
            statements=report.statements,
            insert_statements=len(warehouse.executed(r"^INSERT")),
            round_trips=warehouse.round_trips,
            wall_seconds=round(wall, 3),
            emulator_seconds=round(warehouse.busy_seconds, 3),
            client_seconds=round(wall - warehouse.busy_seconds, 3),
        )

    benchmark.pedantic(write, setup=setup, rounds=3, iterations=1, warmup_rounds=1)
    benchmark.extra_info.update(figures)
