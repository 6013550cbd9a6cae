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

from ..discovery.base import FileRef
from ..errors import ExecutorError, ReadError
from ..profile.table import ProfileOptions, TableProfile, TableSummary, TableTracker
from ..readers import ReadOptions, RecordTooLarge, TableStream, open_table
from ..readers.csv_reader import describe_arrow_error, grow_block_size, open_csv_range
from ..readers.dialect import Dialect

log = logging.getLogger(__name__)

#: Exceptions that mean "this file is bad", not "the executor is broken".
EXPECTED_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    UnicodeError,
    zlib.error,
    lzma.LZMAError,
    csv.Error,
    pa.ArrowException,
)


@dataclass(frozen=True)
class TaskOptions:
    read: ReadOptions
    profile: ProfileOptions


@dataclass(frozen=True)
class FileResult:
    """The outcome for one file (or one byte range of a split file, ``part`` set)."""

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

    def merge_part(self, other: FileResult) -> FileResult:
        """Combine two byte ranges of one file (associative and commutative, like the profiles)."""
        if self.error or other.error:
            first = self if self.error else other
            return dataclasses.replace(first, profile=None, part=None)
        assert self.profile is not None
        assert other.profile is not None
        return dataclasses.replace(
            self,
            profile=self.profile.merge(other.profile),
            warnings=tuple(sorted(set(self.warnings) | set(other.warnings))),
            part=None,
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
    tracker = TableTracker(table.names, options)
    try:
        for batch in table.batches:
            tracker.update(batch)
    finally:
        table.close()
    tracker.ragged_long = table.ragged_long
    tracker.ragged_short = table.ragged_short
    tracker.warnings.update(table.warnings)
    return tracker.view()


def _result(ref: FileRef, table: TableStream, profile: TableProfile, part: int | None = None) -> FileResult:
    return FileResult(
        rel_path=ref.rel_path,
        size=ref.size,
        file_type=table.file_type,
        compression=table.compression,
        encoding=table.encoding,
        profile=profile,
        details=table.details,
        warnings=tuple(sorted(set(table.warnings))),
        part=part,
    )


def _guarded(ref: FileRef, opts: TaskOptions, open_fn: Any, part: int | None = None) -> FileResult:
    """Open and profile with ``open_fn(read_options)``, growing the block for huge records."""
    if ref.error:
        return failed(ref, ref.error)
    read = opts.read
    while True:
        try:
            table = open_fn(read)
            return _result(ref, table, profile_stream(table, opts.profile), part)
        except RecordTooLarge:
            try:
                read = dataclasses.replace(read, block_size=grow_block_size(read.block_size))
            except ReadError as err:
                return failed(ref, str(err))
            log.info("`%s`: a record exceeds the block size, retrying with %d MiB blocks", ref.rel_path,
                     read.block_size >> 20)  # fmt: skip
        except ExecutorError as err:
            return failed(ref, str(err))
        except pa.ArrowException as err:
            return failed(ref, describe_arrow_error(err))
        except EXPECTED_ERRORS as err:
            return failed(ref, _describe(err))
        except Exception as err:  # a bug: keep the run going, but say so loudly
            log.error(
                "internal error while profiling `%s`: %s\n%s", ref.rel_path, err, traceback.format_exc()
            )
            return failed(ref, f"internal error: {type(err).__name__}: {err}", internal=True)


def _describe(err: BaseException) -> str:
    if isinstance(err, OSError) and err.strerror:
        return err.strerror.lower() if not err.filename else f"{err.strerror.lower()}"
    return f"{type(err).__name__}: {err}" if not str(err) else str(err)


def _release_memory() -> None:
    """Hand freed Arrow buffers back to the OS between tasks: the allocator would otherwise keep a
    worker's high-water mark (tens of MiB per block size) for the rest of the run."""
    pa.default_memory_pool().release_unused()


def profile_file(ref: FileRef, opts: TaskOptions) -> FileResult:
    """Profile one whole file (its result still holds the mergeable profile)."""
    return _guarded(ref, opts, lambda read: open_table(ref, read))


def w_profile_files(refs: Sequence[FileRef], opts: TaskOptions) -> list[FileResult]:
    """Profile whole files, one after the other; only their summaries travel back to the parent."""
    try:
        return [finalized(profile_file(ref, opts), opts.profile.prefer_decimal) for ref in refs]
    finally:
        _release_memory()


def w_profile_range(
    ref: FileRef, dialect: Dialect, start: int, end: int | None, part: int, opts: TaskOptions
) -> FileResult:
    """Profile the records of one byte range of a plain delimited file."""
    try:
        return _guarded(ref, opts, lambda read: open_csv_range(ref, dialect, start, end, read), part)
    finally:
        _release_memory()
