"""Shared option decorators.  Every option that may come from the environment names its ``EXECUTOR_*``
variable (imported from the engine's settings), so ``--help`` shows it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ..engine import settings as S

F = Callable[..., Any]


def _opt(*args: Any, **kw: Any) -> Callable[[F], F]:
    if "envvar" in kw:
        kw.setdefault("show_envvar", True)
    return click.option(*args, **kw)


def extraction_options(fn: F) -> F:
    for deco in reversed(
        [
            _opt("--workers", type=click.IntRange(min=1), envvar=S.ENV_WORKERS, default=None,
                 help="Worker processes (default: the CPU count); 1 runs in this process."),
            _opt("--sample-size", type=click.IntRange(min=0), envvar=S.ENV_SAMPLE_SIZE,
                 default=S.DEFAULT_SAMPLE_SIZE, show_default=True, help="Sample values kept per column."),
            _opt("--seed", type=int, envvar=S.ENV_SEED, default=S.DEFAULT_SEED, show_default=True,
                 help="Seed of the random sample; the same seed gives the same samples."),
            _opt("--include", multiple=True, envvar=S.ENV_INCLUDE, metavar="GLOB",
                 help="Only files whose relative path (or name) matches; repeatable."),
            _opt("--exclude", multiple=True, envvar=S.ENV_EXCLUDE, metavar="GLOB",
                 help="Skip files whose relative path (or name) matches; repeatable."),
            _opt("--null-value", "null_values", multiple=True, envvar=S.ENV_NULL_VALUE, metavar="TOKEN",
                 help="A text that means null (repeatable); replaces the defaults NULL, null, None, NA, N/A, "
                      "NaN, nan, #N/A.  Empty fields are always null."),
            _opt("--prefer-decimal", is_flag=True, envvar=S.ENV_PREFER_DECIMAL,
                 help="Infer decimal(p,s) rather than double for numbers with a fraction."),
            _opt("--header", type=click.Choice(S.HEADER_MODES), envvar=S.ENV_HEADER, default="auto",
                 show_default=True, help="Whether delimited files start with a header row."),
            _opt("--block-size", type=click.IntRange(min=1 << 16), envvar=S.ENV_BLOCK_SIZE,
                 default=S.DEFAULT_BLOCK_SIZE, show_default=True, help="Bytes parsed at a time per worker."),
            _opt("--split-size", type=click.IntRange(min=1 << 16), envvar=S.ENV_SPLIT_SIZE,
                 default=S.DEFAULT_SPLIT_SIZE, show_default=True,
                 help="The largest byte range (of a plain CSV file) or run of row groups (of a Parquet file) "
                      "one worker profiles at once; files of 32 MiB or more are split into about one range "
                      "per worker (of ~16 MiB at least), and CSV files end in a few smaller ones."),
            _opt("--metadata-only", is_flag=True, envvar=S.ENV_METADATA_ONLY,
                 help="Profile Parquet files from their footers alone (row counts, types, null counts and "
                      "min/max where statistics exist; no distinct counts or samples): for huge mounts."),
            _opt("--group-tables/--no-group-tables", envvar=S.ENV_GROUP_TABLES, default=True, show_default=True,
                 help="Treat a Spark output folder (part-* files), a Hive-partitioned folder (key=value/...) "
                      "or a Delta table (_delta_log/) as one table; otherwise every file is a table."),
        ]
    ):  # fmt: skip
        fn = deco(fn)
    return fn


def sink_options(fn: F) -> F:
    for deco in reversed(
        [
            _opt("--write-to-db", is_flag=True, envvar=S.ENV_WRITE_TO_DB,
                 help="Also write the metadata tables (Databricks SQL, or the embedded DuckDB file)."),
            _opt("--db", "db_url", envvar=S.ENV_DB_URL, metavar="URL",
                 help="duckdb:///path/file.duckdb or databricks://token:TOKEN@HOST?http_path=PATH[&catalog=C]. "
                      "Default: Databricks SQL when DATABRICKS_SERVER_HOSTNAME, DATABRICKS_HTTP_PATH and "
                      f"DATABRICKS_ACCESS_TOKEN are set, else ./{S.DEFAULT_DB_FILE}."),
            _opt("--catalog", envvar=S.ENV_CATALOG, help="Unity Catalog catalog of the metadata schema."),
            _opt("--schema", envvar=S.ENV_SCHEMA, default=S.DEFAULT_SCHEMA, show_default=True,
                 help="Schema of the metadata tables."),
        ]
    ):  # fmt: skip
        fn = deco(fn)
    return fn


def output_options(fn: F) -> F:
    for deco in reversed(
        [
            _opt("--format", "output_format", type=click.Choice(["json", "summary"]), envvar=S.ENV_FORMAT,
                 default="json", show_default=True, help="What to print on stdout."),
            _opt("--output", type=click.Path(dir_okay=False, writable=True), envvar=S.ENV_OUTPUT,
                 metavar="FILE", help="Also write the JSON document to FILE."),
            _opt("--progress/--no-progress", envvar=S.ENV_PROGRESS, default=None,
                 help="Progress bar on stderr (default: when stderr is a terminal; log lines otherwise)."),
        ]
    ):  # fmt: skip
        fn = deco(fn)
    return fn
