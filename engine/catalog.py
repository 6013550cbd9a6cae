"""Turning profiles into the contract's ``sources``, ``tables`` and ``columns`` rows.

This module owns the output schema (names, order, types) and the rules for table names.  It knows
nothing about how rows are printed or written.
"""

from __future__ import annotations

import datetime as dt
import json
import posixpath
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .profile.column import ColumnSummary
from .redact import redact_text
from .scheduler.tasks import FileResult, finalized

# (name, Databricks SQL type).  The seed's columns come first, in the seed's order.
SOURCES_SCHEMA: tuple[tuple[str, str], ...] = (
    ("source_id", "STRING"),
    ("source_path", "STRING"),
    ("source_type", "STRING"),
    ("extraction_timestamp", "TIMESTAMP"),
    ("files_found", "INT"),
    ("total_size_bytes", "BIGINT"),
    ("tenant_id", "STRING"),
    ("status", "STRING"),
    ("files_failed", "INT"),
    ("duration_ms", "BIGINT"),
    ("executor_version", "STRING"),
)
TABLES_SCHEMA: tuple[tuple[str, str], ...] = (
    ("source_id", "STRING"),
    ("table_name", "STRING"),
    ("file_path", "STRING"),
    ("file_type", "STRING"),
    ("row_count", "BIGINT"),
    ("column_count", "INT"),
    ("size_bytes", "BIGINT"),
    ("compression", "STRING"),
    ("file_count", "INT"),
    ("partition_columns", "STRING"),
    ("error", "STRING"),
    ("encoding", "STRING"),
    ("warnings", "STRING"),
)
COLUMNS_SCHEMA: tuple[tuple[str, str], ...] = (
    ("source_id", "STRING"),
    ("table_name", "STRING"),
    ("column_name", "STRING"),
    ("data_type", "STRING"),
    ("position", "INT"),
    ("is_nullable", "BOOLEAN"),
    ("sample_values", "STRING"),
    ("null_count", "BIGINT"),
    ("distinct_count", "BIGINT"),
    ("min_value", "STRING"),
    ("max_value", "STRING"),
    ("date_format", "STRING"),
)
SCHEMAS: dict[str, tuple[tuple[str, str], ...]] = {
    "sources": SOURCES_SCHEMA,
    "tables": TABLES_SCHEMA,
    "columns": COLUMNS_SCHEMA,
}

STATUS_COMPLETE = "complete"
STATUS_PARTIAL = "partial"
STATUS_FAILED = "failed"

Row = dict[str, Any]


def executor_version() -> str:
    from . import __version__  # not importlib.metadata: ~4 ms of every run's start-up

    return __version__


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def new_source_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Catalog:
    """The rows of one run.  ``sources`` holds exactly one row."""

    sources: list[Row]
    tables: list[Row] = field(default_factory=list)
    columns: list[Row] = field(default_factory=list)

    @property
    def source(self) -> Row:
        return self.sources[0]

    @property
    def source_id(self) -> str:
        return str(self.source["source_id"])

    @property
    def failed_tables(self) -> list[Row]:
        return [t for t in self.tables if t["error"] is not None]

    def rows(self, table: str) -> list[Row]:
        return {"sources": self.sources, "tables": self.tables, "columns": self.columns}[table]

    def to_dict(self) -> dict[str, list[Row]]:
        return {name: [_jsonable(r) for r in self.rows(name)] for name in SCHEMAS}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


def _jsonable(row: Row) -> Row:
    out = {}
    for k, v in row.items():
        if isinstance(v, dt.datetime):
            v = v.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        out[k] = v
    return out


def table_names(paths: Sequence[str]) -> dict[str, str]:
    """A table's own name (a file's, a folder's) when that is unique within the source, else its path."""
    counts = Counter(posixpath.basename(p) for p in paths)
    return {p: (posixpath.basename(p) if counts[posixpath.basename(p)] == 1 else p) for p in paths}


def ragged_warning(long: int, short: int) -> str | None:
    if not long and not short:
        return None
    parts = []
    if long:
        parts.append(f"{long} with extra fields (dropped)")
    if short:
        parts.append(f"{short} with missing fields (null)")
    return f"{long + short} ragged records: {', '.join(parts)}"


def _table_path(r: FileResult, root_name: str) -> str:
    """The relative path of a table's file or folder; a table that is the whole source is its root's name."""
    return r.rel_path or root_name


def _json_list(values: Sequence[str]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def column_row(source_id: str, table_name: str, c: ColumnSummary) -> Row:
    return {
        "source_id": source_id,
        "table_name": table_name,
        "column_name": c.name,
        "data_type": c.data_type,
        "position": c.position,
        "is_nullable": c.is_nullable,
        "sample_values": _json_list(c.sample_values),
        "null_count": c.null_count if c.null_count_known else None,
        "distinct_count": c.distinct_count if c.distinct_known else None,
        "min_value": c.min_value,
        "max_value": c.max_value,
        "date_format": c.date_format,
    }


def build_catalog(
    *,
    source_id: str,
    source_path: str,
    source_type: str,
    tenant_id: str | None,
    started: dt.datetime,
    finished: dt.datetime,
    results: Sequence[FileResult],
    prefer_decimal: bool = False,
    root_name: str = "",
) -> Catalog:
    """Rows for one run from the per-table results (in any order; rows come out sorted by path).

    A result is one table: a file, a sheet of a workbook (``sub``, named ``file.xlsx#Sheet``), or a folder
    of many files (``file_count`` of them, some perhaps failed: ``failed_files``).
    """
    ordered = sorted(results, key=lambda r: (_table_path(r, root_name), r.sub or ""))
    names = table_names(sorted({_table_path(r, root_name) for r in ordered}))
    tables: list[Row] = []
    columns: list[Row] = []
    files_found = files_failed = total_size = 0
    counted: set[str] = set()
    for r in ordered:
        path = _table_path(r, root_name)
        name = names[path] if r.sub is None else f"{names[path]}#{r.sub}"
        if r.sub is None or path not in counted:  # the sheets of a workbook are one file
            counted.add(path)
            files_found += r.file_count
            total_size += r.size
            files_failed += r.file_count if r.error else len(r.failed_files)
        summaries: tuple[ColumnSummary, ...] = ()
        warnings = list(r.warnings)
        r = finalized(r, prefer_decimal)
        if r.summary is not None and r.error is None:
            summaries = r.summary.columns
            ragged = ragged_warning(r.summary.ragged_long, r.summary.ragged_short)
            if ragged:
                warnings.append(ragged)
        tables.append(
            {
                "source_id": source_id,
                "table_name": name,
                "file_path": path,
                "file_type": r.file_type,
                "row_count": None if r.error else (r.summary.row_count if r.summary else 0),
                "column_count": None if r.error else len(summaries),
                "size_bytes": r.size,
                "compression": r.compression,
                "file_count": r.file_count,
                "partition_columns": _json_list(r.partition_columns),
                "error": redact_text(r.error) if r.error else None,
                "encoding": r.encoding,
                "warnings": _json_list([redact_text(w) for w in warnings]) if warnings else None,
            }
        )
        columns.extend(column_row(source_id, name, c) for c in summaries)
    failed = sum(1 for t in tables if t["error"] is not None)
    if not tables or (failed == 0 and files_failed == 0):
        status = STATUS_COMPLETE
    elif failed == len(tables):
        status = STATUS_FAILED
    else:
        status = STATUS_PARTIAL
    source = {
        "source_id": source_id,
        "source_path": source_path,
        "source_type": source_type,
        "extraction_timestamp": started,
        "files_found": files_found,
        "total_size_bytes": total_size,
        "tenant_id": tenant_id,
        "status": status,
        "files_failed": files_failed,
        "duration_ms": round((finished - started).total_seconds() * 1000),
        "executor_version": executor_version(),
    }
    return Catalog(sources=[source], tables=tables, columns=columns)
