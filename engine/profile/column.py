"""Column profiles as values, and the mutable tracker that builds them from Arrow chunks.

``ColumnProfile`` is an immutable, picklable value with an identity (``ColumnProfile.zero``), a merge
(associative and commutative) and a ``finalize`` that produces the output values.  ``ColumnTracker`` owns
the kernel's preallocated state while a worker streams a file, and hands out a ``ColumnProfile`` through
``view()``; only views cross process boundaries.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..kernels import column as K
from ..kernels import fixed as KF
from ..kernels.buffers import binary_views, field_views, fixed_views
from ..kernels.entry import NATIVE, update_column, update_fixed
from ..kernels.fixed import KEY_NONE
from ..kernels.sketches import HLL_M, TABLE_CAP, empty_sample
from ..kernels.types import ALL_FORMATS, N_FORMATS, T_STRING
from . import _math as M
from . import typed as T

SAMPLE_TEXT_LIMIT = 200  # characters kept of each sample value, minimum and maximum

# Where a column's type comes from (``ColumnProfile.type_origin``; a merge keeps the highest).
ORIGIN_TEXT = 0  # inferred from text (CSV, Excel cells): the type lattice over every value
ORIGIN_VALUES = 1  # the kinds of self-describing values (JSON), refined: strings may be dates, numbers int
ORIGIN_SCHEMA = 2  # declared by the file's schema (Parquet, ORC, Avro, Arrow, Delta)


@dataclass(frozen=True)
class ColumnSummary:
    """The finalized facts about one column, ready to become a ``columns`` row."""

    name: str
    position: int
    data_type: str
    is_nullable: bool
    null_count: int
    distinct_count: int
    min_value: str | None
    max_value: str | None
    sample_values: tuple[str, ...]
    date_format: str | None = None
    # None where only footers were read (``--metadata-only``) and they did not say
    null_count_known: bool = True
    distinct_known: bool = True


def decode_text(raw: bytes, encoding: str = "utf-8") -> str:
    """Bytes from a data file as text: UTF-8 when valid, else Windows-1252, else Latin-1."""
    if encoding != "utf-8":
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            return raw.decode("latin-1")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError:
            return raw.decode("latin-1")


def _cut(text: str) -> str:
    return text if len(text) <= SAMPLE_TEXT_LIMIT else text[:SAMPLE_TEXT_LIMIT]


@dataclass(frozen=True)
class ColumnProfile:
    """Everything known about one column of one table, in a mergeable form."""

    name: str
    position: int
    count: int = 0  # values seen, nulls included
    null_count: int = 0
    flags: int = 0  # union of kernels.types.T_* codes of the non-null values
    fmt_mask: int = ALL_FORMATS  # date formats every temporal value is valid under
    fmt_min: tuple[int, ...] = (M.INT64_MAX,) * N_FORMATS  # per format, smallest UTC microseconds
    fmt_max: tuple[int, ...] = (M.INT64_MIN,) * N_FORMATS
    imin: int = M.INT64_MAX
    imax: int = M.INT64_MIN
    int_digits: int = 0
    frac_digits: int = 0
    has_exp: bool = False
    dmin: tuple[float, bytes] | None = None  # smallest floating value and its text
    dmax: tuple[float, bytes] | None = None
    smin: bytes | None = None  # byte-order minimum of the raw values
    smax: bytes | None = None
    hashes: bytes | None = b""  # exact distinct set (sorted uint64), or None once it is a HyperLogLog
    registers: bytes | None = None
    samples: tuple[tuple[int, bytes], ...] = ()  # (priority, raw value), smallest priorities first
    sample_size: int = 5
    # Typed formats (Parquet, ORC, ...) declare a type and nullability instead of inferring them.
    declared_type: str | None = None
    declared_nullable: bool | None = None
    type_origin: int = ORIGIN_TEXT
    tmin: tuple | None = None  # typed minimum ``(family, key, text)`` (see ``profile.typed``)
    tmax: tuple | None = None
    values_read: bool = True  # False: footers only (``--metadata-only``): no distinct count or samples
    nulls_known: bool = True  # False: some footer had no null count

    def pad(self, rows: int) -> ColumnProfile:
        """This column over ``rows`` more records that do not have it (another file of the table): nulls."""
        if rows <= 0:
            return self
        return dataclasses.replace(
            self,
            count=self.count + rows,
            null_count=self.null_count + rows,
            declared_nullable=None if self.declared_nullable is None else True,
        )

    @classmethod
    def zero(cls, name: str, position: int, sample_size: int = 5) -> ColumnProfile:
        """The identity of ``merge``."""
        return cls(name=name, position=position, sample_size=sample_size)

    def canonical(self) -> ColumnProfile:
        """Clear typed statistics that can no longer matter, so equal knowledge gives equal values."""
        if not M.string_forever(self.flags, self.fmt_mask):
            return self
        blank = ColumnProfile.zero(self.name, self.position, self.sample_size)
        return dataclasses.replace(
            self,
            flags=T_STRING,
            fmt_mask=blank.fmt_mask,
            fmt_min=blank.fmt_min,
            fmt_max=blank.fmt_max,
            imin=blank.imin,
            imax=blank.imax,
            int_digits=0,
            frac_digits=0,
            has_exp=False,
            dmin=None,
            dmax=None,
        )

    def merge(self, other: ColumnProfile) -> ColumnProfile:
        if other.name != self.name:
            raise ValueError(f"cannot merge column `{self.name}` with column `{other.name}`")
        hashes, registers = M.merge_distinct((self.hashes, self.registers), (other.hashes, other.registers))
        k = max(self.sample_size, other.sample_size)
        if self.declared_type == other.declared_type:
            declared = self.declared_type
        else:
            declared = M.widen_declared(self.declared_type, other.declared_type)
        return ColumnProfile(
            name=self.name,
            position=min(self.position, other.position),
            count=self.count + other.count,
            null_count=self.null_count + other.null_count,
            flags=self.flags | other.flags,
            fmt_mask=self.fmt_mask & other.fmt_mask,
            fmt_min=tuple(map(min, self.fmt_min, other.fmt_min)),
            fmt_max=tuple(map(max, self.fmt_max, other.fmt_max)),
            imin=min(self.imin, other.imin),
            imax=max(self.imax, other.imax),
            int_digits=max(self.int_digits, other.int_digits),
            frac_digits=max(self.frac_digits, other.frac_digits),
            has_exp=self.has_exp or other.has_exp,
            dmin=M.double_min(self.dmin, other.dmin),
            dmax=M.double_max(self.dmax, other.dmax),
            smin=M.min_opt(self.smin, other.smin),
            smax=M.max_opt(self.smax, other.smax),
            hashes=hashes,
            registers=registers,
            samples=M.merge_samples(self.samples, other.samples, k),
            sample_size=k,
            declared_type=declared,
            declared_nullable=M.or_opt(self.declared_nullable, other.declared_nullable),
            type_origin=max(self.type_origin, other.type_origin),
            tmin=M.min_opt(self.tmin, other.tmin),
            tmax=M.max_opt(self.tmax, other.tmax),
            values_read=self.values_read and other.values_read,
            nulls_known=self.nulls_known and other.nulls_known,
        ).canonical()

    __add__ = merge

    @property
    def distinct_count(self) -> int:
        return M.distinct_count(self.hashes, self.registers)

    def resolved_type(self, prefer_decimal: bool = False) -> tuple[str, str | None]:
        """(data type, date format) of the column: declared, refined from value kinds, or inferred."""
        inferred, f = M.resolve_type(
            self.flags, self.fmt_mask, self.int_digits, self.frac_digits, self.has_exp, prefer_decimal
        )
        if self.type_origin == ORIGIN_TEXT:
            return inferred, M.date_format_name(f)
        declared = self.declared_type or "string"
        if self.type_origin == ORIGIN_VALUES:
            if declared == "string" and inferred in ("date", "timestamp"):
                return inferred, M.date_format_name(f)
            if declared == "bigint" and self.tmin is not None and self.tmax is not None:
                return M.narrow_integer(declared, self.tmin[1], self.tmax[1]), None
        return declared, None

    def finalize(self, *, prefer_decimal: bool = False, encoding: str = "utf-8") -> ColumnSummary:
        """Resolve the type and render minimum, maximum and samples as text."""
        data_type, date_format = self.resolved_type(prefer_decimal)
        lo, hi = self._min_max(data_type, date_format, encoding)
        if self.declared_nullable is not None:
            nullable = self.declared_nullable
        else:
            nullable = self.null_count > 0
        render = _hex if data_type == "binary" else (lambda v: decode_text(v, encoding))
        return ColumnSummary(
            name=self.name,
            position=self.position,
            data_type=data_type,
            is_nullable=nullable,
            null_count=self.null_count,
            distinct_count=self.distinct_count,
            min_value=None if lo is None else _cut(lo),
            max_value=None if hi is None else _cut(hi),
            sample_values=tuple(_cut(render(v)) for _, v in self.samples),
            date_format=date_format,
            null_count_known=self.nulls_known,
            distinct_known=self.values_read,
        )

    def _min_max(
        self, data_type: str, date_format: str | None, encoding: str
    ) -> tuple[str | None, str | None]:
        if date_format is not None:
            f = M.DATE_FORMATS.index(date_format)
            lo, hi = self.fmt_min[f], self.fmt_max[f]
            render = M.render_date if data_type == "date" else M.render_timestamp
            return render(lo), render(hi)
        if self.type_origin != ORIGIN_TEXT:
            if self.tmin is not None and self.tmax is not None and data_type not in ("string", "binary"):
                return self.tmin[2], self.tmax[2]
            if data_type.startswith(("array<", "struct<", "map<")):
                return None, None
            if data_type == "binary":
                return (
                    None if self.smin is None else _hex(self.smin),
                    None if self.smax is None else _hex(self.smax),
                )
        elif data_type == "boolean":
            return M.bool_min_max(self.flags)
        elif data_type in ("int", "bigint"):
            return str(self.imin), str(self.imax)
        elif data_type == "double" or data_type.startswith("decimal"):
            lo, hi = M.numeric_extremes(self.flags, self.imin, self.imax, self.dmin, self.dmax)
            return (
                None if lo is None else decode_text(lo[1], encoding),
                None if hi is None else decode_text(hi[1], encoding),
            )
        return (
            None if self.smin is None else decode_text(self.smin, encoding),
            None if self.smax is None else decode_text(self.smax, encoding),
        )


def _hex(raw: bytes) -> str:
    return raw.hex()


_NO_TOKENS = (np.zeros(0, dtype=np.uint8), np.zeros(1, dtype=np.int64))


def _word_padded(value: bytes) -> np.ndarray:
    """A copy of ``value`` in a buffer of at least 8 bytes: kernels compare 64-bit words (its length is
    kept beside it)."""
    buf = np.zeros(max(8, len(value)), dtype=np.uint8)
    buf[: len(value)] = np.frombuffer(value, dtype=np.uint8)
    return buf


class ColumnTracker:
    """Mutable per-column state for the fused kernel while one worker streams one table.

    ``update`` folds text (CSV, Excel cells: nulls include blank values and null tokens, every value is
    classified); ``update_typed`` folds a typed Arrow array (Parquet, ORC, Avro, Arrow, Delta, JSON):
    nulls come from the validity bitmap only, minimum and maximum are kept in typed order, and only JSON
    strings are classified (they may hold dates and timestamps).
    """

    __slots__ = (
        "_count",
        "_dmax",
        "_dmin",
        "_fmt_mm",
        "_fst",
        "_ist",
        "_memo",
        "_registers",
        "_s_idx",
        "_s_prio",
        "_samples",
        "_smax",
        "_smin",
        "_table",
        "declared_nullable",
        "declared_type",
        "name",
        "position",
        "sample_size",
        "tmax",
        "tmin",
        "type_origin",
    )

    def __init__(self, name: str, position: int, sample_size: int) -> None:
        self.name = name
        self.position = position
        self.sample_size = sample_size
        ist = np.zeros(K.N_ISTATE, dtype=np.int64)
        ist[K.I_FMT] = ALL_FORMATS
        ist[K.I_IMIN] = M.INT64_MAX
        ist[K.I_IMAX] = M.INT64_MIN
        self._ist = ist
        self._fst = np.array([np.inf, -np.inf])
        mm = np.empty(2 * N_FORMATS, dtype=np.int64)
        mm[0::2] = M.INT64_MAX
        mm[1::2] = M.INT64_MIN
        self._fmt_mm = mm
        self._table = np.zeros(TABLE_CAP, dtype=np.uint64)
        self._registers = np.zeros(HLL_M, dtype=np.uint8)
        self._s_prio, self._s_idx = empty_sample(sample_size)
        self._samples: dict[int, bytes] = {}
        self._smin = _word_padded(b"")
        self._smax = _word_padded(b"")
        self._dmin: tuple[float, bytes] | None = None
        self._dmax: tuple[float, bytes] | None = None
        self._count = 0
        self._memo = np.zeros(K.MEMO_SIZE, dtype=np.uint64)
        self.declared_type: str | None = None
        self.declared_nullable: bool | None = None
        self.type_origin = ORIGIN_TEXT
        self.tmin: tuple | None = None
        self.tmax: tuple | None = None

    def declare(self, data_type: str | None, nullable: bool | None, origin: int) -> None:
        """Set (or widen to) the column's declared type; the kernel stops classifying declared columns."""
        self.type_origin = max(self.type_origin, origin)
        self.declared_type = M.widen_declared(self.declared_type, data_type)
        self.declared_nullable = M.or_opt(self.declared_nullable, nullable)

    def add_nulls(self, n: int) -> None:
        """``n`` records without a value (a column that is missing from some records)."""
        self._count += n
        self._ist[K.I_NULLS] += n

    def update(self, arr: pa.Array, tokens: tuple[np.ndarray, np.ndarray], seed_mix: np.uint64) -> None:
        """Fold one chunk (a binary/string Arrow array of text) into the state."""
        if len(arr) == 0:
            return
        self._fold(binary_views(arr), tokens, seed_mix, K.MODE_TEXT, None)

    def update_fields(
        self,
        data: np.ndarray,
        starts: np.ndarray,
        ends: np.ndarray,
        tokens: tuple[np.ndarray, np.ndarray],
        seed_mix: np.uint64,
    ) -> None:
        """Fold one column of a tokenized text block: value ``i`` is ``data[starts[i]:ends[i]]``."""
        if len(ends) == 0:
            return
        self._fold(field_views(data, starts, ends), tokens, seed_mix, K.MODE_TEXT, None)

    def update_typed(self, arr: pa.Array, seed_mix: np.uint64, classify_strings: bool = False) -> None:
        """Fold one chunk of a typed Arrow array (see the class docstring)."""
        n = len(arr)
        if n == 0:
            return
        used = T.used_dictionary_values(arr) if pa.types.is_dictionary(arr.type) else None
        if pa.types.is_dictionary(arr.type) and used is None:
            arr = arr.dictionary_decode()  # a null entry: its indices are nulls the validity does not show
        if pa.types.is_null(arr.type) or arr.null_count == n:
            self.add_nulls(n)
            return
        if used is not None:  # the chunk's values, each once: count its rows and nulls here
            self.add_nulls(arr.null_count)
            self._count += n - arr.null_count - len(used)
            arr = used
        feed, mode, fixed = T.kernel_input(arr)
        if fixed:
            self._ist[K.I_FLAGS] |= T_STRING  # declared: nothing to infer
            key = T.key_kind(feed.type)
            keys = self._fold_fixed(feed, key, seed_mix, lambda i: T.sample_text(arr, i))
            lo, hi = T.typed_min_max(arr) if key == KEY_NONE else keys
            self.tmin = M.min_opt(self.tmin, lo)
            self.tmax = M.max_opt(self.tmax, hi)
            return
        lo, hi = T.typed_min_max(arr)
        self.tmin = M.min_opt(self.tmin, lo)
        self.tmax = M.max_opt(self.tmax, hi)
        if (
            classify_strings
            and mode == K.MODE_TYPED_TEXT
            and (pa.types.is_string(feed.type) or pa.types.is_large_string(feed.type))
        ):
            mode |= K.MODE_CLASSIFY
        else:
            self._ist[K.I_FLAGS] |= T_STRING  # declared: nothing to infer
        self._fold(binary_views(feed), _NO_TOKENS, seed_mix, mode, None)

    def _fold_fixed(self, feed: pa.Array, key: int, seed_mix: np.uint64, text_of) -> tuple:
        """Fold a fixed-width chunk with ``update_fixed``; with ``KEY_INT``, the chunk's typed bounds."""
        v = fixed_views(feed)
        self._count += v.length
        self._s_idx[:] = -1
        bounds = np.empty(KF.N_BOUNDS, dtype=np.int64)
        args = (
            v.data, v.first, v.width, key, v.validity, v.validity_bit_offset, v.length, seed_mix,
            self._ist, self._table, self._registers, self._s_prio, self._s_idx, self._memo, bounds,
        )  # fmt: skip
        if NATIVE:
            update_fixed(*args)
        else:
            with np.errstate(over="ignore"):  # uint64 hashing wraps on purpose
                update_fixed(*args)
        self._keep_samples(text_of)
        if key == KEY_NONE or bounds[KF.B_MIN_IDX] < 0:
            return None, None
        return T.bounds_of_keys(feed.type, int(bounds[KF.B_MIN]), int(bounds[KF.B_MAX]))

    def _fold(self, v, tokens, seed_mix: np.uint64, mode: int, text_of) -> None:
        n = v.length
        self._count += n
        self._fst[0] = np.inf
        self._fst[1] = -np.inf
        self._s_idx[:] = -1
        ist = self._ist
        if NATIVE:
            update_column(
                v.starts, v.ends, v.data, v.validity, v.validity_bit_offset, n, tokens[0], tokens[1],
                seed_mix, ist, self._fst, self._fmt_mm, self._table, self._registers, self._s_prio,
                self._s_idx, self._smin, self._smax, self._memo, mode,
            )  # fmt: skip
        else:
            with np.errstate(over="ignore"):  # uint64 hashing wraps on purpose
                update_column(
                    v.starts, v.ends, v.data, v.validity, v.validity_bit_offset, n, tokens[0], tokens[1],
                    seed_mix, ist, self._fst, self._fmt_mm, self._table, self._registers, self._s_prio,
                    self._s_idx, self._smin, self._smax, self._memo, mode,
                )  # fmt: skip
        starts, ends, data = v.starts, v.ends, v.data

        def raw(i: int) -> bytes:
            return data[starts[i] : ends[i]].tobytes()

        if ist[K.I_SMIN_IDX] >= 0:
            b = raw(ist[K.I_SMIN_IDX])
            self._smin = _word_padded(b)
            ist[K.I_SMIN_LEN] = len(b)
        if ist[K.I_SMAX_IDX] >= 0:
            b = raw(ist[K.I_SMAX_IDX])
            self._smax = _word_padded(b)
            ist[K.I_SMAX_LEN] = len(b)
        if ist[K.I_SMIN_IDX] >= 0 or ist[K.I_SMAX_IDX] >= 0:
            ist[K.I_HAS_SMINMAX] = 1
        if ist[K.I_DMIN_IDX] >= 0:
            self._dmin = M.double_min(self._dmin, (float(self._fst[0]), raw(ist[K.I_DMIN_IDX]).strip(b" \t")))
        if ist[K.I_DMAX_IDX] >= 0:
            self._dmax = M.double_max(self._dmax, (float(self._fst[1]), raw(ist[K.I_DMAX_IDX]).strip(b" \t")))
        self._keep_samples(raw if text_of is None else text_of)

    def _keep_samples(self, sample) -> None:
        """The bottom-k sample after a chunk: the values the chunk put in it (``sample(index)``), and the
        earlier ones it kept."""
        if self.sample_size:
            kept: dict[int, bytes] = {}
            for prio, idx in zip(self._s_prio.tolist(), self._s_idx.tolist()):
                if idx >= 0:
                    kept[prio] = sample(idx)
                elif prio in self._samples:
                    kept[prio] = self._samples[prio]
            self._samples = kept

    def view(self) -> ColumnProfile:
        ist = self._ist
        has = ist[K.I_HAS_SMINMAX] != 0
        if ist[K.I_NDISTINCT] >= 0:
            hashes, registers = M.hashes_from_table(self._table), None
        else:
            hashes, registers = None, self._registers.tobytes()
        mm = self._fmt_mm
        return ColumnProfile(
            name=self.name,
            position=self.position,
            count=self._count,
            null_count=int(ist[K.I_NULLS]),
            flags=int(ist[K.I_FLAGS]),
            fmt_mask=int(ist[K.I_FMT]),
            fmt_min=tuple(int(x) for x in mm[0::2]),
            fmt_max=tuple(int(x) for x in mm[1::2]),
            imin=int(ist[K.I_IMIN]),
            imax=int(ist[K.I_IMAX]),
            int_digits=int(ist[K.I_INT_DIGITS]),
            frac_digits=int(ist[K.I_FRAC_DIGITS]),
            has_exp=bool(ist[K.I_HAS_EXP]),
            dmin=self._dmin,
            dmax=self._dmax,
            smin=self._smin[: ist[K.I_SMIN_LEN]].tobytes() if has else None,
            smax=self._smax[: ist[K.I_SMAX_LEN]].tobytes() if has else None,
            hashes=hashes,
            registers=registers,
            samples=tuple(sorted(self._samples.items())),
            sample_size=self.sample_size,
            declared_type=self.declared_type,
            declared_nullable=self.declared_nullable,
            type_origin=self.type_origin,
            tmin=self.tmin,
            tmax=self.tmax,
        ).canonical()
