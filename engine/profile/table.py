"""Table profiles as values: the columns of one table plus table-level counts, mergeable like columns."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from ..kernels.hashing import fmix64_py
from ..kernels.nulls import DEFAULT_NULL_TOKENS, pack_tokens
from .column import ColumnProfile, ColumnSummary, ColumnTracker


@dataclass(frozen=True)
class ProfileOptions:
    """What a profile computes; part of every work unit, so it must stay small and picklable."""

    sample_size: int = 5
    seed: int = 0
    null_tokens: tuple[str, ...] = DEFAULT_NULL_TOKENS
    prefer_decimal: bool = False

    def column_seed_mix(self, column: str) -> np.uint64:
        """What sample priorities of ``column`` are mixed with: the seed and the column's name, so that
        columns holding the same values do not all show the same sample."""
        name_hash = int.from_bytes(hashlib.blake2b(column.encode("utf-8"), digest_size=8).digest(), "little")
        return np.uint64(fmix64_py(self.seed ^ 0x2545F4914F6CDD1D ^ name_hash))


@dataclass(frozen=True)
class TableProfile:
    """One table: its columns (by name), its record count and what was noticed while reading it."""

    columns: tuple[ColumnProfile, ...] = ()
    row_count: int = 0
    ragged_long: int = 0  # records with more fields than columns (counted in row_count)
    ragged_short: int = 0  # records with fewer fields than columns (counted in row_count)
    warnings: tuple[str, ...] = field(default=())

    @property
    def ragged_rows(self) -> int:
        return self.ragged_long + self.ragged_short

    @classmethod
    def zero(cls) -> TableProfile:
        return cls()

    def merge(self, other: TableProfile) -> TableProfile:
        by_name = {c.name: c for c in self.columns}
        for c in other.columns:
            mine = by_name.get(c.name)
            by_name[c.name] = c if mine is None else mine.merge(c)
        columns = tuple(sorted(by_name.values(), key=lambda c: (c.position, c.name)))
        return TableProfile(
            columns=columns,
            row_count=self.row_count + other.row_count,
            ragged_long=self.ragged_long + other.ragged_long,
            ragged_short=self.ragged_short + other.ragged_short,
            warnings=tuple(sorted(set(self.warnings) | set(other.warnings))),
        )

    __add__ = merge

    def finalize(self, *, prefer_decimal: bool = False, encoding: str = "utf-8") -> list[ColumnSummary]:
        return [c.finalize(prefer_decimal=prefer_decimal, encoding=encoding) for c in self.columns]

    def summarize(self, *, prefer_decimal: bool = False, encoding: str = "utf-8") -> TableSummary:
        """The final, compact facts (no sketches): what a finished table keeps until output."""
        return TableSummary(
            columns=tuple(self.finalize(prefer_decimal=prefer_decimal, encoding=encoding)),
            row_count=self.row_count,
            ragged_long=self.ragged_long,
            ragged_short=self.ragged_short,
        )


@dataclass(frozen=True)
class TableSummary:
    """A finalized table profile: rendered column facts and counts, no mergeable state."""

    columns: tuple[ColumnSummary, ...]
    row_count: int
    ragged_long: int = 0
    ragged_short: int = 0


class TableTracker:
    """Streams record batches of binary columns through the column kernels."""

    def __init__(self, names: Sequence[str], options: ProfileOptions) -> None:
        self.names = list(names)
        self.options = options
        self._columns = [ColumnTracker(n, i, options.sample_size) for i, n in enumerate(self.names)]
        self._tokens = pack_tokens(options.null_tokens)
        self._seed_mixes = [options.column_seed_mix(n) for n in self.names]
        self.row_count = 0
        self.ragged_long = 0
        self.ragged_short = 0
        self.warnings: set[str] = set()

    def update(self, batch: pa.RecordBatch) -> None:
        if batch.num_columns != len(self._columns):
            raise ValueError(f"batch has {batch.num_columns} columns, the table {len(self._columns)}")
        self.row_count += batch.num_rows
        for tracker, arr, mix in zip(self._columns, batch.columns, self._seed_mixes):
            tracker.update(arr, self._tokens, mix)

    def view(self) -> TableProfile:
        return TableProfile(
            columns=tuple(c.view() for c in self._columns),
            row_count=self.row_count,
            ragged_long=self.ragged_long,
            ragged_short=self.ragged_short,
            warnings=tuple(sorted(self.warnings)),
        )
