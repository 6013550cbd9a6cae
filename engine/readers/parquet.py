"""Parquet: the footer first (row count, schema, per-row-group statistics), then the values one batch at a
time, row group by row group, never a whole file.

With ``metadata_only`` no data page is read: the stream has no batches, and ``stats`` holds what the
footers say (null counts, minimum and maximum where the writer kept statistics).  A file may also be read
for a range of its row groups only (``open_parquet_row_groups``): the scheduler splits large files that
way across workers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..discovery.base import FileRef, filesystem_for
from ..errors import ReadError
from .base import ColumnStats, ReadOptions, TableStream, register, typed_stream

if TYPE_CHECKING:  # imported where a file is opened: runs without Parquet files skip it (~10 ms)
    import pyarrow.parquet as pq

#: Bytes read from storage at a time while decoding a column chunk (pages stream; chunks are not
#: pre-buffered whole, so memory stays bounded however large a row group is).
READ_BUFFER = 1 << 20
#: A dictionary page (compressed) up to this size is taken as a chunk without plain fallback pages.
SMALL_DICTIONARY = 64 * 1024
#: ... for reads of at least this many rows: reopening the footer with dictionaries (~40 us) and finding
#: the values indices use cost more than they save on a small file (3,000 files of 100 rows: +6 %)
DICTIONARY_MIN_ROWS = 10_000


def open_parquet_file(ref: FileRef) -> tuple[Any, pq.ParquetFile]:
    """(source, ParquetFile) with its footer parsed; a file that is not Parquet raises ``ReadError``."""
    import pyarrow.parquet as pq

    source = filesystem_for(ref.url).open_random(ref.url)
    try:
        return source, pq.ParquetFile(source, buffer_size=READ_BUFFER, pre_buffer=False)
    except (pa.ArrowInvalid, OSError) as err:
        source.close()
        raise ReadError(f"not a readable Parquet file: {_short(err)}") from None


def dictionary_columns(meta: pq.FileMetaData, schema: pa.Schema, row_groups: Sequence[int]) -> list[str]:
    """Top-level string and binary columns to read as dictionary arrays: those whose chunks in
    ``row_groups`` are all dictionary-encoded with a small dictionary.

    Decoded, a dictionary-encoded string column is every value materialised; read as a dictionary it is
    the dictionary once and an index per row, and the profile folds only the values the indices use
    (``profile.typed.used_dictionary_values``): SF1 lineitem's four flag and mode columns read in 0.03 s
    instead of 0.31 s.  A writer falls back to plain pages once a chunk's dictionary outgrows its limit
    (1 MiB by default in parquet-cpp, parquet-mr and arrow-rs), and pyarrow then has to build a dictionary
    from those values, which costs more than decoding them (1.7x for lineitem's comments).  The footer
    does not say whether a chunk fell back, so a column is read as a dictionary only when every
    dictionary page (compressed) is under ``SMALL_DICTIONARY``, far below any default limit.
    """
    leaf_index = _leaf_index(meta)
    names = []
    for field in schema:
        t = field.type
        if not (
            pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)
            or pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t)
        ):  # fmt: skip
            continue
        j = leaf_index.get(field.name)
        if (
            j is not None
            and row_groups
            and all(_small_dictionary(meta.row_group(i).column(j)) for i in row_groups)
        ):
            names.append(field.name)
    return names


def _leaf_index(meta: pq.FileMetaData) -> dict[str, int]:
    """The index of the first leaf column at each path (a top-level column's path is its name)."""
    leaf_index: dict[str, int] = {}
    for j in range(meta.num_columns):
        leaf_index.setdefault(meta.schema.column(j).path, j)
    return leaf_index


def _small_dictionary(chunk: Any) -> bool:
    start = chunk.dictionary_page_offset
    if not chunk.has_dictionary_page or not start:
        return False
    return 0 < chunk.data_page_offset - start <= SMALL_DICTIONARY


def _with_dictionaries(source: Any, meta: pq.FileMetaData, columns: list[str]) -> pq.ParquetFile:
    import pyarrow.parquet as pq

    return pq.ParquetFile(
        source, metadata=meta, read_dictionary=columns, buffer_size=READ_BUFFER, pre_buffer=False
    )


def _short(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def compression_of(meta: pq.FileMetaData) -> str | None:
    """The codec of the column chunks (comma-separated when they differ), lower case; None if none."""
    codecs = set()
    for i in range(meta.num_row_groups):
        rg = meta.row_group(i)
        for j in range(rg.num_columns):
            codecs.add(rg.column(j).compression.lower())
    codecs.discard("uncompressed")
    return ",".join(sorted(codecs)) or None


def footer_stats(pf: pq.ParquetFile, row_groups: Sequence[int]) -> dict[str, ColumnStats]:
    """Per top-level column: null count and minimum/maximum over ``row_groups`` from the footer alone.

    A count or bound is None as soon as one row group lacks it (the writer kept no statistics).  Nested
    columns have no single bound: only their null count when the column is one leaf.
    """
    meta = pf.metadata
    schema = pf.schema_arrow
    leaf_index = _leaf_index(meta)
    out: dict[str, ColumnStats] = {}
    for field in schema:
        j = leaf_index.get(field.name)
        if j is None or pa.types.is_nested(field.type):
            out[field.name] = ColumnStats(null_count=None)
            continue
        nulls: int | None = 0
        lo: Any = None
        hi: Any = None
        bounds = True
        for i in row_groups:
            col = meta.row_group(i).column(j)
            st = col.statistics
            if st is None or not st.has_null_count:
                nulls = None
            elif nulls is not None:
                nulls += st.null_count
            if st is None or not st.has_min_max:
                if col.num_values > (st.null_count if st is not None and st.has_null_count else 0):
                    bounds = False
                continue
            try:
                smin, smax = st.min, st.max
            except (ValueError, pa.ArrowException):
                bounds = False
                continue
            lo = smin if lo is None or smin < lo else lo
            hi = smax if hi is None or smax > hi else hi
        out[field.name] = ColumnStats(
            null_count=nulls, min=lo if bounds else None, max=hi if bounds else None
        )
    return out


def _batches(
    pf: pq.ParquetFile, row_groups: Sequence[int], batch_rows: int, source: Any, threads: bool
) -> Iterator[pa.RecordBatch]:
    try:
        if row_groups:
            yield from pf.iter_batches(
                batch_size=batch_rows, row_groups=list(row_groups), use_threads=threads
            )
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as err:
        raise ReadError(f"corrupt Parquet data: {_short(err)}") from None
    finally:
        source.close()


def open_parquet_row_groups(
    ref: FileRef, options: ReadOptions, first: int = 0, end: int | None = None
) -> TableStream:
    """Row groups ``[first, end)`` of a Parquet file (all of them by default)."""
    source, pf = open_parquet_file(ref)
    meta = pf.metadata
    row_groups = list(range(first, meta.num_row_groups if end is None else min(end, meta.num_row_groups)))
    rows = sum(meta.row_group(i).num_rows for i in row_groups)
    first_row = sum(meta.row_group(i).num_rows for i in range(min(first, meta.num_row_groups)))
    details = {"row_groups": len(row_groups), "created_by": meta.created_by}
    if options.metadata_only:
        stats = footer_stats(pf, row_groups)
        source.close()
        stream = typed_stream(
            pf.schema_arrow, iter(()), "parquet", row_count=rows, stats=stats, details=details,
            first_row=first_row,
        )  # fmt: skip
    else:
        schema = pf.schema_arrow
        dictionaries = dictionary_columns(meta, schema, row_groups) if rows >= DICTIONARY_MIN_ROWS else []
        if dictionaries:  # the same footer, read with those columns as dictionaries
            pf = _with_dictionaries(source, meta, dictionaries)
        stream = typed_stream(
            schema, _batches(pf, row_groups, options.batch_rows, source, options.arrow_threads), "parquet",
            row_count=rows, details=details, close=source.close, first_row=first_row,
        )  # fmt: skip
    stream.compression = compression_of(meta)
    return stream


@register("parquet")
def open_parquet_table(ref: FileRef, options: ReadOptions) -> TableStream:
    return open_parquet_row_groups(ref, options)


def row_group_sizes(ref: FileRef) -> list[int]:
    """Compressed bytes of each row group (for splitting a large file across workers)."""
    source, pf = open_parquet_file(ref)
    try:
        meta = pf.metadata
        return [meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)]
    finally:
        source.close()
