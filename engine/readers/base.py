"""The reader contract and the registry of readers by format.

A reader turns a ``FileRef`` into a ``TableStream``: column names, a bounded iterator of record batches,
and facts about the file (format, codec, encoding, dialect, warnings).  Text formats yield ``binary``
columns of raw text, or (delimited text) ``FieldBlock``s: the raw block with every field's bounds, which
the kernels read without an Arrow array being built.  Readers never compute statistics.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa

from ..discovery.base import FileRef
from ..errors import ReadError, UnsupportedFormatError


class RecordTooLarge(ReadError):
    """A record does not fit the parser's block; the caller retries with a larger block."""


@dataclass(frozen=True)
class ReadOptions:
    """What readers need to know; travels with every work unit."""

    block_size: int
    header: str = "auto"
    null_values: tuple[str, ...] = ()
    metadata_only: bool = False  # Parquet: footers only, no data pages
    batch_rows: int = 128 * 1024  # records per batch of typed formats
    #: Arrow may decode on its thread pool; off when the run's worker processes keep every core busy
    #: already (SF1 Parquet, 2 workers on 2 cores: 1.69 CPU-s and 0.865 s against 1.75 and 0.90 with)
    arrow_threads: bool = True


class FieldBlock(NamedTuple):
    """Records of delimited text, tokenized: field ``k`` of record ``r`` is
    ``data[starts[k, r]:ends[k, r]]`` for ``r < rows``.

    Valid until the next block is asked for: the reader reuses its buffers.
    """

    data: np.ndarray  # uint8: the block, with padding after the last record for word loads
    starts: np.ndarray  # int32 (columns, capacity): each column's bounds are contiguous
    ends: np.ndarray
    rows: int

    @property
    def columns(self) -> int:
        return self.starts.shape[0]

    def column(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(starts, ends) of column ``k``."""
        return self.starts[k, : self.rows], self.ends[k, : self.rows]


@dataclass(frozen=True)
class ColumnStats:
    """What a file's metadata says about one column (Parquet footers): None where it says nothing."""

    null_count: int | None
    min: Any = None
    max: Any = None


@dataclass
class TableStream:
    """One table being read: names, batches and what was learnt about the file."""

    names: tuple[str, ...]
    batches: Iterator[pa.RecordBatch | FieldBlock]
    file_type: str
    compression: str | None = None
    encoding: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    # Updated by the reader while (and once) the batches are consumed:
    warnings: list[str] = field(default_factory=list)
    ragged_long: int = 0  # records with more fields than columns
    ragged_short: int = 0  # records with fewer fields than columns
    ends_in_quotes: bool = False  # the text ended inside a quoted field
    speculative_end: bool = False  # a byte range ending at a boundary that was assumed, not proven
    close: Callable[[], None] = lambda: None
    # How column types are known: "text" (inferred from every value: CSV, Excel), "schema" (declared by
    # the file: Parquet, ORC, Avro, Arrow, Delta) or "values" (JSON: the kinds of the values, refined).
    typing: str = "text"
    declared: dict[str, tuple[str, bool | None]] = field(default_factory=dict)  # name: (type, nullable)
    arrow_types: dict[str, pa.DataType] = field(default_factory=dict)  # declared Arrow types, by name
    row_count: int | None = None  # records, when the metadata says so (footers, the Delta log)
    first_row: int = 0  # the file's index of the stream's first record (a run of Parquet row groups)
    stats: dict[str, ColumnStats] | None = None  # footer facts, when values are not read


Opener = Callable[[FileRef, ReadOptions], TableStream]
#: Formats whose files hold several tables (Excel sheets): ``[(table suffix, stream), ...]``.
MultiOpener = Callable[[FileRef, ReadOptions], list[tuple[str, TableStream]]]
_READERS: dict[str, Opener] = {}
_MULTI: dict[str, MultiOpener] = {}


def register_multi(fmt: str) -> Callable[[MultiOpener], MultiOpener]:
    def deco(fn: MultiOpener) -> MultiOpener:
        _MULTI[fmt] = fn
        return fn

    return deco


def multi_opener_for(fmt: str) -> MultiOpener | None:
    return _MULTI.get(fmt)


def register(fmt: str) -> Callable[[Opener], Opener]:
    def deco(fn: Opener) -> Opener:
        _READERS[fmt] = fn
        return fn

    return deco


def opener_for(fmt: str) -> Opener:
    try:
        return _READERS[fmt]
    except KeyError:
        raise UnsupportedFormatError(f"{fmt} files are not supported yet") from None


def registered_formats() -> tuple[str, ...]:
    return tuple(sorted(set(_READERS) | set(_MULTI)))


def typed_stream(
    schema: pa.Schema, batches: Iterator[pa.RecordBatch], file_type: str, **kw: Any
) -> TableStream:
    """A stream of a format with a declared schema: types and nullability from ``schema``."""
    from ..profile.typed import sql_type

    return TableStream(
        names=tuple(schema.names),
        batches=batches,
        file_type=file_type,
        typing="schema",
        declared={f.name: (sql_type(f.type), f.nullable) for f in schema},
        arrow_types={f.name: f.type for f in schema},
        **kw,
    )


def guarded_batches(batches: Iterable[pa.RecordBatch], source: Any, what: str) -> Iterator[pa.RecordBatch]:
    """Yield ``batches``, turning Arrow's and the OS's errors into a ``ReadError`` about ``what`` (e.g.
    "ORC data"), and close ``source`` once the batches are done or abandoned."""
    try:
        yield from batches
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as err:
        raise ReadError(f"corrupt {what}: {err}") from None
    finally:
        source.close()
