"""Checks shared by the Databricks SQL sink tests: what the warehouse holds against what the CLI printed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from nuvyn_executor.engine.catalog import SCHEMAS
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
