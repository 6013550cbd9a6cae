"""``metadata_extraction PATH [SOURCE_TYPE] [TENANT_ID]``: profile a source, print JSON, maybe write it."""

from __future__ import annotations

import logging
import sys

import click

from ..options import extraction_options, output_options, sink_options

log = logging.getLogger("nuvyn_executor.cli")


@click.command(
    context_settings={"max_content_width": 110},
    short_help="Profile every file under PATH into sources/tables/columns rows.",
)
@click.argument("path")
@click.argument("source_type", required=False)
@click.argument("tenant_id", required=False)
@sink_options
@extraction_options
@output_options
def metadata_extraction(
    path: str,
    source_type: str | None,
    tenant_id: str | None,
    write_to_db: bool,
    db_url: str | None,
    catalog: str | None,
    schema: str,
    workers: int | None,
    sample_size: int,
    seed: int,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    null_values: tuple[str, ...],
    prefer_decimal: bool,
    header: str,
    block_size: int,
    split_size: int,
    metadata_only: bool,
    group_tables: bool,
    output_format: str,
    output: str | None,
    progress: bool | None,
) -> int:
    """Profile every file under PATH (a folder, a file, /dbfs/..., dbfs:/..., an Azure blob or container URL
    with or without a SAS token, abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PREFIX).

    SOURCE_TYPE (optional) is stored as sources.source_type: local, dbfs, azure_blob or adls (detected when
    omitted), or a format word (csv, parquet, json, ...) that restricts discovery to that format.  TENANT_ID
    (optional) is stored as sources.tenant_id.  Azure credentials, first found wins: a SAS token in the URL,
    AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_SAS_TOKEN, AZURE_STORAGE_KEY, DefaultAzureCredential.
    """
    from ...engine._gc import collection_paused

    with collection_paused():
        from ...engine._allocator import configure_process
        from ...engine.errors import SinkError
        from ...engine.extract import extract_metadata, write_catalog
        from ...engine.settings import (
            DEFAULT_NULL_TOKENS,
            ExtractionSettings,
            SinkSettings,
            databricks_from_env,
        )
        from ...engine.sinks import open_sink
        from ..main import EXIT_OK, EXIT_PARTIAL
        from ..progress import ProgressReporter
        from ..render import summary

        configure_process()  # this process is the CLI's: see engine/_allocator.py

    settings = ExtractionSettings(
        path=path,
        source_type=source_type,
        tenant_id=tenant_id,
        workers=workers,
        sample_size=sample_size,
        seed=seed,
        include=include,
        exclude=exclude,
        null_values=null_values or DEFAULT_NULL_TOKENS,
        prefer_decimal=prefer_decimal,
        header=header,
        block_size=block_size,
        split_size=split_size,
        metadata_only=metadata_only,
        group_tables=group_tables,
    )
    sink_settings = None
    if write_to_db:
        # Resolve the target before profiling, so a bad --db fails fast.  The write's limits (retries,
        # backoff, timeout, statement size) come from their EXECUTOR_DB_* / EXECUTOR_MAX_* variables.
        sink_settings = SinkSettings.from_env(
            write_to_db=True,
            db_url=db_url,
            catalog=catalog,
            schema=schema,
            databricks=None if db_url else databricks_from_env(catalog=catalog),
        )
        open_sink(sink_settings).close()  # parses --db (no connection yet): a bad URL fails here
    reporter = ProgressReporter(progress, settings.progress_interval)
    try:
        result = extract_metadata(settings, progress=reporter)
    finally:
        reporter.close()
    code = EXIT_OK
    failed = result.failed_tables
    for t in failed:
        log.error("`%s`: %s", t["file_path"], t["error"])
    if failed or result.source["files_failed"]:
        # a table of many files can be profiled while some of its files failed (named in its warnings)
        code = EXIT_PARTIAL
    if sink_settings is not None:
        try:
            report = write_catalog(result, sink_settings)
            log.info("wrote %d rows in %d statement(s) to %s", report.rows, report.statements, report.target)
        except SinkError as err:
            log.error("writing the metadata tables failed: %s", err)
            code = EXIT_PARTIAL
    document = result.to_json()
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(document + "\n")
    text = summary(result) if output_format == "summary" else document + "\n"
    if sys.stdout is None:  # started with its standard output closed (``>&-``): nowhere to print
        log.warning("standard output is closed: the catalog was not printed")
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    s = result.source
    log.info(
        "%s: %d file(s), %d failed, %d ms", s["status"], s["files_found"], s["files_failed"], s["duration_ms"]
    )
    if code:
        click.get_current_context().exit(code)
    return code
