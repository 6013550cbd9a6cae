"""Lazy imports of optional packages, each failing with the pip extra that provides it."""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import MissingDependencyError


def _require(module: str, extra: str, what: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(
            f"{what} needs the `{module}` package: pip install 'nuvyn-executor[{extra}]'"
        ) from None


def import_duckdb() -> ModuleType:
    return _require("duckdb", "duckdb", "the embedded DuckDB store")


def import_databricks_sql() -> ModuleType:
    return _require("databricks.sql", "databricks", "writing to Databricks SQL")


def import_azure_blob() -> ModuleType:
    return _require("azure.storage.blob", "azure", "reading from Azure Blob Storage")


def import_fastavro() -> ModuleType:
    return _require("fastavro", "avro", "reading Avro files")


def import_calamine() -> ModuleType | None:
    """python-calamine, or None when only the fallback (openpyxl) is installed."""
    try:
        return importlib.import_module("python_calamine")
    except ImportError:
        return None


def import_openpyxl() -> ModuleType:
    return _require("openpyxl", "excel", "reading Excel workbooks (python-calamine, or openpyxl for .xlsx)")
