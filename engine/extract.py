"""The library entry points: profile a source into a ``Catalog``, write it, or both.

The CLI and a Databricks job call the same functions and get the same rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from .catalog import Catalog, build_catalog, new_source_id, utc_now
from .discovery import discover, resolve_source
from .discovery.tables import KIND_DELTA, group_tables
from .redact import redact_url
from .scheduler.run import Progress, run_tables
from .settings import ExtractionSettings, SinkSettings
from .sinks.base import WriteReport

log = logging.getLogger(__name__)


def extract_metadata(
    settings: ExtractionSettings,
    progress: Callable[[Progress], None] | None = None,
    on_discovered: Callable[[int, int], None] | None = None,
) -> Catalog:
    """Discover and profile every file of ``settings.path``; returns the run's rows.

    Bad files do not raise: each becomes a ``tables`` row with ``error`` set.  Raises
    ``ConfigurationError`` (a subclass of ``ExecutorError``) when the path itself is unusable.
    """
    started = utc_now()
    source = resolve_source(settings.path, settings.source_type)
    refs = discover(source, settings)
    groups = group_tables(refs, group=settings.group_tables)
    if source.format_filter == "delta":
        groups = [g for g in groups if g.kind == KIND_DELTA]
    total = sum(r.size for r in refs)
    log.info("found %d file(s) in %d table(s), %d bytes, under `%s`", len(refs), len(groups), total,
             redact_url(source.display_path))  # fmt: skip
    if on_discovered is not None:
        on_discovered(len(refs), total)
    results = run_tables(groups, settings, progress)
    return build_catalog(
        source_id=new_source_id(),
        source_path=redact_url(source.display_path),
        source_type=source.source_type,
        tenant_id=settings.tenant_id,
        started=started,
        finished=utc_now(),
        results=results,
        prefer_decimal=settings.prefer_decimal,
        root_name=source_root_name(source.location),
    )


def source_root_name(location: str) -> str:
    """The name a table that is the whole source gets: the last segment of its path or URL."""
    return location.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or location


def write_catalog(catalog: Catalog, sink_settings: SinkSettings) -> WriteReport:
    """Write the rows to the configured target (Databricks SQL or the embedded DuckDB file)."""
    from .sinks import open_sink

    sink = open_sink(sink_settings)
    try:
        return sink.write(catalog)
    finally:
        sink.close()
