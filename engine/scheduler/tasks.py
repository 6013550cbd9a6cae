"""The work a worker process does: plain, picklable arguments in; results or per-file error records out.

Nothing here raises for an expected bad file or prints anything: a file that cannot be read becomes a
``FileResult`` with ``error`` set, and the run goes on.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import lzma
import traceback
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from .._deferred import is_deferred
from ..discovery.base import FileRef
from ..errors import ExecutorError, ReadError
from ..kernels.types import T_STRING
from ..profile.table import ProfileOptions, TableProfile, TableSummary, TableTracker
from ..readers import ReadOptions, RecordTooLarge, TableStream, open_tables
from ..readers.csv_reader import describe_arrow_error, grow_block_size, open_csv_range
from ..readers.delta_dv import DeletionVector, load_deleted_rows, without_deleted_rows
from ..readers.dialect import Dialect
from ..readers.parquet import open_parquet_row_groups
from . import share

log = logging.getLogger(__name__)

#: Exceptions that mean "this file is bad", not "the executor is broken".
EXPECTED_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    UnicodeError,
    zlib.error,
    lzma.LZMAError,
    csv.Error,
)  # and Arrow's (``_guarded`` names them in a clause of their own: pyarrow may not be loaded)


@dataclass(frozen=True)
class TaskOptions:
    read: ReadOptions
    profile: ProfileOptions


@dataclass(frozen=True)
class FilePlan:
    """One file to profile as (part of) a table, with what its table adds to it."""

    ref: FileRef
    table_key: str
    # partition columns: (name, value text or None, declared type or None), appended after the file's own
    constants: tuple[tuple[str, str | None, str | None], ...] = ()
    # a Delta table: physical column name -> logical name, and the log's declared types by logical name
    rename: tuple[tuple[str, str], ...] = ()
    declared: tuple[tuple[str, str, bool], ...] = ()
    file_type: str | None = None  # what the table's rows say (``delta``), instead of the file's format
    whole_table: bool = False  # the file is its own table: the worker may finalize its profile
    # a Delta file's deletion vector (rows its table deleted) and the table's root, where the vector is
    deletion_vector: DeletionVector | None = None
    table_root: str = ""


#: Position given to the first partition column, so they sort after every column of the files.
CONSTANT_POSITION = 1 << 20


@dataclass(frozen=True)
class FileResult:
    """The outcome for one file (or one byte range of a split file, ``part`` set), or, once merged, for
    one table of many files (``file_count`` of them, ``failed_files`` naming those that could not be read).
    """

    rel_path: str
    size: int
    file_type: str
    compression: str | None = None
    encoding: str | None = None
    profile: TableProfile | None = None  # mergeable, while parts of the table are still coming in
    summary: TableSummary | None = None  # final, once the table is complete
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    part: int | None = None
    internal_error: bool = False
    table_key: str | None = None  # None: the file is its own table (key = rel_path)
    sub: str | None = None  # the table inside the file (an Excel sheet's name)
    file_count: int = 1
    failed_files: tuple[tuple[str, str], ...] = ()
    partition_columns: tuple[str, ...] = ()
    folder: bool = False  # a folder holding one table (Spark, Hive, Delta), named after the folder
    # A byte range whose assumed end turned out to lie inside a quoted field: the file's ranges are void
    # and the file is profiled again, whole.
    resplit: bool = False

    @property
    def key(self) -> tuple[str, str | None]:
        """Which table this result belongs to: (table key, sheet)."""
        return (self.rel_path if self.table_key is None else self.table_key, self.sub)

    def merge_part(self, other: FileResult) -> FileResult:
        """Combine two byte ranges of one file (associative and commutative, like the profiles)."""
        resplit = self.resplit or other.resplit
        if self.error or other.error:
            first = self if self.error else other
            return dataclasses.replace(
                first, profile=None, part=None, size=self.size + other.size,
                file_count=self.file_count + other.file_count, resplit=resplit,
            )  # fmt: skip
        assert self.profile is not None
        assert other.profile is not None
        return dataclasses.replace(
            self,
            size=self.size + other.size,
            file_count=self.file_count + other.file_count,
            profile=self.profile.merge(other.profile),
            warnings=tuple(sorted(set(self.warnings) | set(other.warnings))),
            part=None,
            resplit=resplit,
        )

    def merge_file(self, other: FileResult) -> FileResult:
        """Combine two files of one table: sizes and file counts add up, profiles merge, and a file that
        failed is remembered in ``failed_files`` while the others are still profiled."""
        failed = set(self.failed_files) | set(other.failed_files)
        for r in (self, other):
            if r.error is not None and r.file_count:
                failed.add((r.rel_path, r.error))
        profiles = [r.profile for r in (self, other) if r.error is None and r.profile is not None]
        profile = (
            profiles[0].merge(profiles[1]) if len(profiles) == 2 else (profiles[0] if profiles else None)
        )
        codecs = {c for r in (self, other) for c in (r.compression or "").split(",") if c}
        encodings = sorted({r.encoding for r in (self, other) if r.encoding})
        return FileResult(
            rel_path=min(self.rel_path, other.rel_path),
            size=self.size + other.size,
            file_type=min(self.file_type, other.file_type),
            compression=",".join(sorted(codecs)) or None,
            encoding=encodings[0] if encodings else None,
            profile=profile,
            error=None,
            details={},
            warnings=tuple(sorted(set(self.warnings) | set(other.warnings))),
            table_key=self.table_key,
            sub=self.sub,
            file_count=self.file_count + other.file_count,
            failed_files=tuple(sorted(failed)),
        )


def finalized(result: FileResult, prefer_decimal: bool) -> FileResult:
    """Replace the mergeable profile (sketches and all) by its compact summary."""
    if result.profile is None or result.summary is not None:
        return result
    # Profiles hold the bytes as read: UTF-8 (UTF-16 files are transcoded on the way in), or the
    # single-byte Windows-1252 text of files that are not UTF-8.
    text_encoding = "cp1252" if result.encoding == "cp1252" else "utf-8"
    summary = result.profile.summarize(prefer_decimal=prefer_decimal, encoding=text_encoding)
    return dataclasses.replace(result, profile=None, summary=summary)


def failed(ref: FileRef, message: str, *, internal: bool = False, file_type: str | None = None) -> FileResult:
    return FileResult(
        rel_path=ref.rel_path,
        size=ref.size,
        file_type=file_type or ref.format,
        compression=ref.compression,
        error=message,
        internal_error=internal,
    )


def profile_stream(table: TableStream, options: ProfileOptions) -> TableProfile:
    """Stream a table's batches through the kernels (or, footers only, turn its statistics into a profile)."""
    if table.stats is not None:
        table.close()
        return profile_from_stats(table, options)
    tracker = TableTracker(table.names, options, typing=table.typing, declared=table.declared)
    try:
        for batch in table.batches:
            tracker.update(batch)
    finally:
        table.close()
    tracker.ragged_long = table.ragged_long
    tracker.ragged_short = table.ragged_short
    tracker.warnings.update(table.warnings)
    return tracker.view()


def profile_from_stats(table: TableStream, options: ProfileOptions) -> TableProfile:
    """A profile from a file's metadata alone (``--metadata-only``): row count, declared types and
    nullability, and null counts and bounds where the footers have statistics."""
    from ..profile.column import ORIGIN_SCHEMA, ColumnProfile
    from ..profile.typed import bound_of_value

    assert table.stats is not None
    rows = table.row_count or 0
    columns = []
    for i, name in enumerate(table.names):
        st = table.stats.get(name)
        data_type, nullable = table.declared.get(name, ("string", None))
        arrow_type = table.arrow_types.get(name)
        smin = smax = tmin = tmax = None
        if st is not None and st.min is not None and arrow_type is not None:
            if isinstance(st.min, (str, bytes)):
                smin = st.min.encode("utf-8") if isinstance(st.min, str) else st.min
                smax = st.max.encode("utf-8") if isinstance(st.max, str) else st.max
            else:
                tmin, tmax = bound_of_value(st.min, arrow_type), bound_of_value(st.max, arrow_type)
        known = st is not None and st.null_count is not None
        columns.append(
            ColumnProfile(
                name=name, position=i, count=rows, null_count=st.null_count if known else 0,  # type: ignore[union-attr]
                smin=smin, smax=smax, tmin=tmin, tmax=tmax, flags=T_STRING, sample_size=options.sample_size,
                declared_type=data_type, declared_nullable=nullable, type_origin=ORIGIN_SCHEMA,
                values_read=False, nulls_known=known,
            ).canonical()
        )  # fmt: skip
    return TableProfile(columns=tuple(columns), row_count=rows, warnings=tuple(sorted(set(table.warnings))))


def _result(plan: FilePlan, table: TableStream, profile: TableProfile, opts: TaskOptions,
            part: int | None = None, sub: str | None = None) -> FileResult:  # fmt: skip
    ref = plan.ref
    if plan.constants:
        profile = profile.with_constants(plan.constants, opts.profile, CONSTANT_POSITION)
    return FileResult(
        rel_path=ref.rel_path,
        size=ref.size,
        file_type=plan.file_type or table.file_type,
        compression=table.compression,
        encoding=table.encoding,
        profile=profile.with_schema(ref.rel_path),
        details=table.details,
        warnings=tuple(sorted(set(table.warnings))),
        part=part,
        table_key=plan.table_key if plan.table_key != ref.rel_path else None,
        sub=sub,
        resplit=table.speculative_end and table.ends_in_quotes,
    )


def _for_plan(plan: FilePlan, table: TableStream) -> TableStream:
    """A Delta file as its table sees it: without the rows its deletion vector deletes, logical column
    names, the log's declared types."""
    if plan.deletion_vector is not None:
        table = without_deleted_rows(table, load_deleted_rows(plan.deletion_vector, plan.table_root))
    if not plan.rename and not plan.declared:
        return table
    rename = dict(plan.rename)
    names = tuple(rename.get(n, n) for n in table.names)
    inner = table.batches

    def renamed() -> Any:
        for batch in inner:
            yield batch.rename_columns([rename.get(n, n) for n in batch.schema.names])

    declared = {rename.get(n, n): v for n, v in table.declared.items()}
    declared.update({n: (t, nullable) for n, t, nullable in plan.declared})
    return dataclasses.replace(
        table,
        names=names,
        batches=renamed(),
        declared=declared,
        arrow_types={rename.get(n, n): v for n, v in table.arrow_types.items()},
        stats=None if table.stats is None else {rename.get(n, n): v for n, v in table.stats.items()},
    )


def _guarded(plan: FilePlan, opts: TaskOptions, open_fn: Any, part: int | None = None) -> list[FileResult]:
    """Open and profile with ``open_fn(read_options)`` (a list of ``(sheet or None, stream)``), growing
    the block for huge records."""
    ref = plan.ref
    tagged = [plan.table_key if plan.table_key != ref.rel_path else None]

    def fail(message: str, internal: bool = False) -> list[FileResult]:
        return [dataclasses.replace(failed(ref, message, internal=internal), table_key=tagged[0], part=part)]

    if ref.error:
        return fail(ref.error)
    read = opts.read
    while True:
        try:
            out = []
            for sub, table in open_fn(read):
                table = _for_plan(plan, table)
                out.append(_result(plan, table, profile_stream(table, opts.profile), opts, part, sub))
            return out
        except RecordTooLarge:
            try:
                read = dataclasses.replace(read, block_size=grow_block_size(read.block_size))
            except ReadError as err:
                return fail(str(err))
            log.info("`%s`: a record exceeds the block size, retrying with %d MiB blocks", ref.rel_path,
                     read.block_size >> 20)  # fmt: skip
        except ExecutorError as err:
            return fail(str(err))
        except pa.ArrowException as err:
            return fail(describe_arrow_error(err, ref.compression))
        except EXPECTED_ERRORS as err:
            return fail(_describe(err))
        except Exception as err:  # a bug: keep the run going, but say so loudly
            log.error(
                "internal error while profiling `%s`: %s\n%s", ref.rel_path, err, traceback.format_exc()
            )
            return fail(f"internal error: {type(err).__name__}: {err}", internal=True)


def _describe(err: BaseException) -> str:
    if isinstance(err, OSError) and err.strerror:
        return err.strerror.lower()  # the file is named by the caller, once
    return str(err) or type(err).__name__


def _release_memory() -> None:
    """Hand freed Arrow buffers back to the OS after a task of whole files: the allocator would otherwise
    keep a worker's high-water mark (tens of MiB per block size) for the rest of the run.  Not after a
    part of a split file: the worker's next task is most often the next part, which needs the same
    memory again (on SF1 Parquet, 2 workers, releasing after each part meant ~60,000 page faults instead
    of ~25,000, ~0.06 s more system time); the peak is the same either way.  Nothing to do where pyarrow
    was never loaded (``_deferred``)."""
    if not is_deferred():
        pa.default_memory_pool().release_unused()


def profile_file(ref: FileRef, opts: TaskOptions) -> list[FileResult]:
    """Profile one whole file as its own table (results still hold the mergeable profiles)."""
    return _guarded(FilePlan(ref=ref, table_key=ref.rel_path), opts, lambda read: open_tables(ref, read))


def w_profile_files(plans: Sequence[FilePlan], opts: TaskOptions) -> list[FileResult]:
    """Profile whole files, one after the other (a workbook gives one result per sheet).

    A file that is its own table is complete here: only its summary travels back to the parent.
    """
    try:
        out = []
        for plan in plans:
            for r in _guarded(plan, opts, lambda read, ref=plan.ref: open_tables(ref, read)):
                out.append(finalized(r, opts.profile.prefer_decimal) if plan.whole_table else r)
        return out
    finally:
        _release_memory()


def _profile_part(plan: FilePlan, opts: TaskOptions, part: int, open_stream: Any) -> list[FileResult]:
    """Profile one part of a split file, opened by ``open_stream(read_options)``."""
    return [_as_part(r, part) for r in _guarded(plan, opts, lambda read: [(None, open_stream(read))], part)]


def w_profile_range(
    plan: FilePlan, dialect: Dialect, start: int, end: int | None, part: int, opts: TaskOptions
) -> list[FileResult]:
    """Profile the records of one byte range of a plain delimited file.  In a pool worker the range's end
    may move back while it is read, its last bytes going to an idle worker (``share``)."""
    claims = share.current()
    return _profile_part(
        plan, opts, part, lambda read: open_csv_range(plan.ref, dialect, start, end, read, claims)
    )


def w_profile_row_groups(
    plan: FilePlan, first: int, end: int, part: int, opts: TaskOptions
) -> list[FileResult]:
    """Profile row groups ``[first, end)`` of a Parquet file."""
    return _profile_part(plan, opts, part, lambda read: open_parquet_row_groups(plan.ref, read, first, end))


def _as_part(result: FileResult, part: int) -> FileResult:
    """One part of a split file: only part 0 counts the file (its size, and its schema among the table's
    files), so merged parts count it once."""
    if part == 0:
        return dataclasses.replace(result, part=part)
    profile = result.profile
    if profile is not None:
        profile = dataclasses.replace(
            profile, schemas=tuple(dataclasses.replace(s, files=0) for s in profile.schemas)
        )
    return dataclasses.replace(result, part=part, size=0, file_count=0, profile=profile)
