"""Checks shared by the Databricks SQL sink tests: what the warehouse holds against what the CLI printed."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Sequence
from typing import Any

from nuvyn_executor.engine.catalog import SCHEMAS, Catalog
from nuvyn_executor.engine.settings import DEFAULT_SCHEMA

# Retries fast enough for tests (the defaults wait 1 s, doubling up to 30 s).
FAST_RETRIES = {"EXECUTOR_DB_RETRIES": "4", "EXECUTOR_DB_BACKOFF": "0.02", "EXECUTOR_DB_BACKOFF_MAX": "0.1"}
# The INSERT statements of each table, as regular expressions for `Warehouse.inject(match=...)`.
INSERT_INTO = {table: rf"^INSERT INTO .*`{table}`" for table in SCHEMAS}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def stored_rows(
    warehouse: Any, table: str, source_id: str, *, schema: str = DEFAULT_SCHEMA, catalog: str | None = None
) -> list[tuple[Any, ...]]:
    """The rows of ``source_id`` in the warehouse, in the contract's column order, as the JSON shows them."""
    names = ", ".join(f'"{n}"' for n, _ in SCHEMAS[table])
    where = f'"{catalog}"."{schema}"' if catalog else f'"{schema}"'
    rows = warehouse.query(f'SELECT {names} FROM {where}."{table}" WHERE source_id = ?', [source_id])
    return [tuple(_jsonable(v) for v in row) for row in rows]


def printed_rows(document: dict[str, Any], table: str) -> list[tuple[Any, ...]]:
    return [tuple(row[n] for n, _ in SCHEMAS[table]) for row in document[table]]


def assert_exactly_once(
    warehouse: Any, document: dict[str, Any], *, schema: str = DEFAULT_SCHEMA, catalog: str | None = None
) -> None:
    """Every row the run printed is in the warehouse once: no duplicate, no missing or extra row."""
    source_id = document["sources"][0]["source_id"]
    for table in SCHEMAS:
        got = sorted(stored_rows(warehouse, table, source_id, schema=schema, catalog=catalog), key=repr)
        want = sorted(printed_rows(document, table), key=repr)
        assert len(got) == len(want), f"{table}: {len(got)} rows stored, {len(want)} printed"
        assert got == want, table


def make_catalog(n_tables: int = 1, n_columns: int = 5, strings: Sequence[str] = ()) -> Catalog:
    """A run's rows, made up: ``n_tables`` tables of ``n_columns`` columns.  With ``strings``, every
    string field (``source_id`` aside) takes them in turn; numbers count, booleans alternate."""
    source_id = str(uuid.uuid4())
    texts = itertools.cycle(strings) if strings else None
    when = dt.datetime(2025, 10, 12, 10, 30, 0, 123456, tzinfo=dt.timezone.utc)

    def row(table: str, i: int) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, typ in SCHEMAS[table]:
            if name == "source_id":
                values[name] = source_id
            elif typ == "STRING":
                values[name] = next(texts) if texts else f"{name} {i}"
            elif typ == "BOOLEAN":
                values[name] = i % 2 == 0
            elif typ == "TIMESTAMP":
                values[name] = when
            else:
                values[name] = i
        return values

    return Catalog(
        sources=[row("sources", 0)],
        tables=[row("tables", t) for t in range(n_tables)],
        columns=[row("columns", c) for c in range(n_tables * n_columns)],
    )
