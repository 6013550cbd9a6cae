"""Writing 100 tables x 50 columns to a Databricks SQL warehouse (the emulator in tests/warehouse).

Reported per write: the statements the sink executed (INSERTs among them), the HTTP round trips, the
wall time, and how much of it the emulator spent (decoding, transpiling with sqlglot, running DuckDB);
a real warehouse's time would take the emulator's place.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from nuvyn_executor.engine.catalog import Catalog
from nuvyn_executor.engine.settings import SinkSettings, databricks_from_env

TABLES, COLUMNS = 100, 50


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    pytest.importorskip("databricks.sql")
    from tests.warehouse import Warehouse

    server = Warehouse(tmp_path_factory.mktemp("warehouse"))
    yield server
    server.close()


def catalog(rng: random.Random) -> Catalog:
    """A run's rows: realistic sizes (five sample values, min and max, a few hundred bytes a column)."""
    sid = str(uuid.uuid4())
    now = dt.datetime.now(dt.timezone.utc)
    words = ["B07JW9H4J1", "Wayona Nylon Braided", "it's 4.2", "C:\\data\\x", "$5 -- off", "2024-01-02", "😀"]
    tables, columns = [], []
    for t in range(TABLES):
        name = f"sales_{t:03d}.csv"
        tables.append({"source_id": sid, "table_name": name, "file_path": f"region={t % 7}/{name}", "file_type": "csv",
                       "row_count": rng.randrange(10**6), "column_count": COLUMNS, "size_bytes": rng.randrange(10**9),
                       "compression": None, "file_count": 1, "partition_columns": "[]", "error": None,
                       "encoding": "utf-8", "warnings": None})  # fmt: skip
        for c in range(COLUMNS):
            samples = rng.sample(words, 5)
            columns.append({"source_id": sid, "table_name": name, "column_name": f"column_{c}", "data_type": "string",
                            "position": c, "is_nullable": c % 3 == 0, "sample_values": repr(samples),
                            "null_count": rng.randrange(1000), "distinct_count": rng.randrange(10**5),
                            "min_value": min(samples), "max_value": max(samples), "date_format": None})  # fmt: skip
    source = {"source_id": sid, "source_path": "/dbfs/mnt/raw", "source_type": "dbfs", "extraction_timestamp": now,
              "files_found": TABLES, "total_size_bytes": 1, "tenant_id": "bench", "status": "complete",
              "files_failed": 0, "duration_ms": 1, "executor_version": "bench"}  # fmt: skip
    return Catalog(sources=[source], tables=tables, columns=columns)


@pytest.mark.benchmark(group="sink-databricks")
def test_write_100_tables_x_50_columns(benchmark: Any, warehouse: Any) -> None:
    from nuvyn_executor.engine.sinks.databricks import DatabricksSink

    rng = random.Random(0)
    connection = databricks_from_env(warehouse.env())
    settings = SinkSettings(write_to_db=True)
    figures: dict[str, Any] = {}

    def setup() -> tuple[tuple[Catalog], dict[str, Any]]:
        warehouse.reset_log()
        return (catalog(rng),), {}

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
