"""Table profiles as values: the columns of one table plus table-level counts, mergeable like columns."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from .._digest import blake2b
from ..kernels.hashing import fmix64_py
from ..kernels.nulls import pack_tokens
from ..readers.base import FieldBlock
from ..settings import DEFAULT_NULL_TOKENS
from . import _math as M
from .column import ORIGIN_SCHEMA, ORIGIN_VALUES, ColumnProfile, ColumnSummary, ColumnTracker
from .typed import sql_type


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
        name_hash = int.from_bytes(blake2b(column.encode("utf-8"), digest_size=8).digest(), "little")
        return np.uint64(fmix64_py(self.seed ^ 0x2545F4914F6CDD1D ^ name_hash))


#: One file's columns: ``((name, declared type or ""), ...)`` in the file's order.
Schema = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SchemaSeen:
    """A schema some files of a table have: how many, and the first of them by path."""

    schema: Schema
    files: int
    example: str


@dataclass(frozen=True)
class TableProfile:
    """One table: its columns (by name), its record count and what was noticed while reading it.

    A table may be made of many files (Spark part files, Hive partitions, Delta) or of byte ranges of one
    file; ``schemas`` remembers the distinct schemas its files had, so a table can say which files
    differed and how.  A column missing from one side of a merge is null for that side's records.
    """

    columns: tuple[ColumnProfile, ...] = ()
    row_count: int = 0
    ragged_long: int = 0  # records with more fields than columns (counted in row_count)
    ragged_short: int = 0  # records with fewer fields than columns (counted in row_count)
    warnings: tuple[str, ...] = field(default=())
    schemas: tuple[SchemaSeen, ...] = ()

    @property
    def ragged_rows(self) -> int:
        return self.ragged_long + self.ragged_short

    @classmethod
    def zero(cls) -> TableProfile:
        return cls()

    def merge(self, other: TableProfile) -> TableProfile:
        mine = {c.name: c for c in self.columns}
        theirs = {c.name: c for c in other.columns}
        merged = []
        for name in mine.keys() | theirs.keys():
            a, b = mine.get(name), theirs.get(name)
            if a is None:
                merged.append(b.pad(self.row_count))  # type: ignore[union-attr]
            elif b is None:
                merged.append(a.pad(other.row_count))
            else:
                merged.append(a.merge(b))
        columns = tuple(sorted(merged, key=lambda c: (c.position, c.name)))
        return TableProfile(
            columns=columns,
            row_count=self.row_count + other.row_count,
            ragged_long=self.ragged_long + other.ragged_long,
            ragged_short=self.ragged_short + other.ragged_short,
            warnings=tuple(sorted(set(self.warnings) | set(other.warnings))),
            schemas=M.merge_schemas(self.schemas, other.schemas, SchemaSeen),
        )

    __add__ = merge

    def with_schema(self, path: str) -> TableProfile:
        """This profile as one file's, recording its schema under ``path``."""
        schema = tuple(
            (c.name, (c.declared_type or "") if c.type_origin == ORIGIN_SCHEMA else "")
            for c in sorted(self.columns, key=lambda c: c.position)
        )
        return dataclasses.replace(self, schemas=(SchemaSeen(schema, 1, path),))

    def with_constants(
        self,
        values: Sequence[tuple[str, str | None, str | None]],
        options: ProfileOptions,
        first_position: int,
    ) -> TableProfile:
        """Add columns that hold one value in every record (Hive/Delta partition keys): ``(name, text
        or None, declared type or None)``; the text is typed by inference unless a type is declared."""
        added = []
        for i, (name, text, declared) in enumerate(values):
            tracker = ColumnTracker(name, first_position + i, options.sample_size)
            mix = options.column_seed_mix(name)
            if text is not None and self.row_count:
                tracker.update(pa.array([text.encode("utf-8")], type=pa.binary()), pack_tokens(()), mix)
            if declared is not None:
                tracker.declare(declared, True, ORIGIN_SCHEMA)
            col = tracker.view()
            nulls = self.row_count if text is None else 0
            added.append(dataclasses.replace(col, count=self.row_count, null_count=nulls))
        keep = tuple(c for c in self.columns if c.name not in {v[0] for v in values})
        return dataclasses.replace(self, columns=keep + tuple(added))

    def conform(
        self, names: Sequence[str], declared: Mapping[str, tuple[str, bool | None]] | None = None
    ) -> TableProfile:
        """The columns in the order of ``names`` (a table's schema), then any others; a named column that
        no file had is all null.  ``declared`` types (a Delta log's) replace the files' own."""
        by_name = {c.name: c for c in self.columns}
        ordered = []
        for name in names:
            col = by_name.pop(name, None)
            if col is None:
                col = ColumnProfile.zero(name, 0).pad(self.row_count)
            ordered.append(col)
        ordered.extend(sorted(by_name.values(), key=lambda c: (c.position, c.name)))
        out = []
        for i, col in enumerate(ordered):
            col = dataclasses.replace(col, position=i)
            if declared and col.name in declared:
                data_type, nullable = declared[col.name]
                col = dataclasses.replace(
                    col, declared_type=data_type, declared_nullable=nullable, type_origin=ORIGIN_SCHEMA
                )
            out.append(col)
        return dataclasses.replace(self, columns=tuple(out))

    def schema_differences(self, examples: int = 1) -> list[str]:
        """How the files of a table differed, one sentence per column that was not the same everywhere."""
        if len(self.schemas) <= 1:
            return []
        total = sum(s.files for s in self.schemas)
        final = {c.name: c.declared_type for c in self.columns}
        notes = []
        names: dict[str, None] = {}
        for seen in self.schemas:
            for name, _ in seen.schema:
                names.setdefault(name, None)
        for name in names:
            missing = [s for s in self.schemas if name not in dict(s.schema)]
            if missing:
                n = sum(s.files for s in missing)
                notes.append(
                    f"column `{name}` is missing from {n} of {total} files (e.g. `{missing[0].example}`): "
                    "null in their records"
                )
            types: dict[str, list[SchemaSeen]] = {}
            for s in self.schemas:
                t = dict(s.schema).get(name)
                if t:
                    types.setdefault(t, []).append(s)
            if len(types) > 1:
                parts = [
                    f"{t} in {sum(s.files for s in seen)} file(s) (e.g. `{min(s.example for s in seen)}`)"
                    for t, seen in sorted(types.items())
                ]
                widened = final.get(name) or "string"
                notes.append(f"column `{name}` is {', '.join(parts)}: widened to {widened}")
        return notes

    def finalize(self, *, prefer_decimal: bool = False, encoding: str = "utf-8") -> list[ColumnSummary]:
        """Column summaries, positions renumbered 0.. in the table's column order."""
        return [
            dataclasses.replace(c.finalize(prefer_decimal=prefer_decimal, encoding=encoding), position=i)
            for i, c in enumerate(self.columns)
        ]

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
    """Streams record batches through the column kernels.

    Text batches (``typing="text"``: CSV, Excel) have a fixed set of binary columns.  Typed batches
    (``"schema"``: Parquet, ORC, Avro, Arrow, Delta; ``"values"``: JSON) may add columns as they go (JSON
    keys that appear later); a column missing from a batch is null for its records.
    """

    def __init__(
        self,
        names: Sequence[str],
        options: ProfileOptions,
        typing: str = "text",
        declared: Mapping[str, tuple[str, bool | None]] | None = None,
    ) -> None:
        self.names = list(names)
        self.options = options
        self.typing = typing
        self.declared = dict(declared or {})
        self._columns: dict[str, ColumnTracker] = {}
        self._tokens = pack_tokens(options.null_tokens)
        self._seed_mixes: dict[str, np.uint64] = {}
        self.row_count = 0
        self.ragged_long = 0
        self.ragged_short = 0
        self.warnings: set[str] = set()
        for n in self.names:
            self._column(n)

    def _column(self, name: str) -> ColumnTracker:
        tracker = self._columns.get(name)
        if tracker is None:
            tracker = ColumnTracker(name, len(self._columns), self.options.sample_size)
            tracker.add_nulls(self.row_count)  # appeared late: null in every record so far
            if name in self.declared:
                data_type, nullable = self.declared[name]
                tracker.declare(data_type, nullable, ORIGIN_SCHEMA)
            self._columns[name] = tracker
            self._seed_mixes[name] = self.options.column_seed_mix(name)
        return tracker

    def update(self, batch: pa.RecordBatch | FieldBlock) -> None:
        """Fold a record batch, or a tokenized block of text (``readers.base.FieldBlock``)."""
        if isinstance(batch, FieldBlock):  # asked first: text the tokenizer takes never loads pyarrow
            self._update_fields(batch)
            return
        if self.typing == "text":
            if batch.num_columns != len(self._columns):
                raise ValueError(f"batch has {batch.num_columns} columns, the table {len(self._columns)}")
            for tracker, arr in zip(self._columns.values(), batch.columns):
                tracker.update(arr, self._tokens, self._seed_mixes[tracker.name])
            self.row_count += batch.num_rows
            return
        seen = set()
        for name, arr in zip(batch.schema.names, batch.columns):
            tracker = self._column(name)
            seen.add(name)
            if self.typing == "values":
                tracker.declare(
                    None if pa.types.is_null(arr.type) else sql_type(arr.type), None, ORIGIN_VALUES
                )
            tracker.update_typed(arr, self._seed_mixes[name], classify_strings=self.typing == "values")
        for name, tracker in self._columns.items():
            if name not in seen:
                tracker.add_nulls(batch.num_rows)
        self.row_count += batch.num_rows

    def _update_fields(self, block: FieldBlock) -> None:
        if block.columns != len(self._columns):
            raise ValueError(f"block has {block.columns} columns, the table {len(self._columns)}")
        for k, tracker in enumerate(self._columns.values()):
            starts, ends = block.column(k)
            tracker.update_fields(block.data, starts, ends, self._tokens, self._seed_mixes[tracker.name])
        self.row_count += block.rows

    def view(self) -> TableProfile:
        return TableProfile(
            columns=tuple(c.view() for c in self._columns.values()),
            row_count=self.row_count,
            ragged_long=self.ragged_long,
            ragged_short=self.ragged_short,
            warnings=tuple(sorted(self.warnings)),
        )
