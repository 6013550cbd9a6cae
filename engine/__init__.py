"""nuvyn-executor's engine: the library a CLI, a Databricks job or a notebook calls.

    from nuvyn_executor.engine import ExtractionSettings, SinkSettings, extract_metadata, write_catalog

    catalog = extract_metadata(ExtractionSettings(path="/dbfs/mnt/raw", tenant_id="client-123"))
    write_catalog(catalog, SinkSettings.from_env())
    catalog.tables, catalog.columns  # the same rows the CLI prints and writes

Importing this package is cheap: the heavy modules load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"  # the package's version (pyproject.toml reads it from here)

_EXPORTS = {
    "extract_metadata": ".extract",
    "write_catalog": ".extract",
    "Catalog": ".catalog",
    "ExtractionSettings": ".settings",
    "SinkSettings": ".settings",
    "Progress": ".scheduler.run",
    "WriteReport": ".sinks.base",
    "ExecutorError": ".errors",
    "ConfigurationError": ".errors",
    "SinkError": ".errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
