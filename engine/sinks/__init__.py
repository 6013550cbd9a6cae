"""Sinks: where the metadata tables are written.  ``open_sink`` picks one from the settings."""

from __future__ import annotations

import logging
import os
from urllib.parse import unquote

from ..errors import ConfigurationError
from ..redact import redact_url
from ..settings import DEFAULT_DB_FILE, SinkSettings
from .base import Sink, SinkCapabilities, WriteReport

log = logging.getLogger(__name__)


def duckdb_path(url: str) -> str | None:
    """The file of a ``duckdb:`` URL (``duckdb:///abs/file.duckdb``, ``duckdb:rel.duckdb``), or None."""
    if not url.lower().startswith("duckdb:"):
        if url.lower().endswith((".duckdb", ".ddb")) and "://" not in url:
            return url
        return None
    rest = url[len("duckdb:") :]
    if rest.startswith("//"):
        rest = rest[2:]
    if not rest:
        raise ConfigurationError("`--db duckdb:` needs a file, e.g. duckdb:///tmp/metadata.duckdb")
    return os.path.expanduser(unquote(rest))


def _duckdb(path: str, settings: SinkSettings) -> Sink:
    from .duckdb import DuckDBSink

    if settings.catalog:
        log.warning("`--catalog %s` is ignored: the embedded DuckDB store has no catalogs", settings.catalog)
    return DuckDBSink(path, settings.schema, retries=settings.retries, backoff=settings.backoff,
                      backoff_max=settings.backoff_max)  # fmt: skip


def open_sink(settings: SinkSettings) -> Sink:
    """The sink the settings ask for: ``--db`` first, then Databricks from ``DATABRICKS_*``, else DuckDB."""
    url = settings.db_url
    if url:
        path = duckdb_path(url)
        if path is not None:
            return _duckdb(path, settings)
        if url.lower().startswith("databricks://"):
            from .databricks import DatabricksSink, databricks_settings_from_url

            return DatabricksSink(databricks_settings_from_url(url, settings.catalog), settings)
        raise ConfigurationError(
            f"unsupported `--db` URL `{redact_url(url)}`: use duckdb:///path/file.duckdb or "
            "databricks://token:TOKEN@HOST?http_path=PATH"
        )
    if settings.databricks is not None:
        from .databricks import DatabricksSink

        return DatabricksSink(settings.databricks, settings)
    return _duckdb(DEFAULT_DB_FILE, settings)


__all__ = ["Sink", "SinkCapabilities", "WriteReport", "duckdb_path", "open_sink"]
