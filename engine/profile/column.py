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
from ..kernels._jit import JIT_ENABLED
from ..kernels.buffers import binary_views
from ..kernels.sketches import HLL_M, TABLE_CAP, empty_sample
from ..kernels.types import ALL_FORMATS, N_FORMATS, T_STRING
from . import _math as M

SAMPLE_TEXT_LIMIT = 200  # characters kept of each sample value, minimum and maximum


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
        ).canonical()

    __add__ = merge

    @property
    def distinct_count(self) -> int:
        return M.distinct_count(self.hashes, self.registers)

    def finalize(self, *, prefer_decimal: bool = False, encoding: str = "utf-8") -> ColumnSummary:
        """Resolve the type and render minimum, maximum and samples as text."""
        date_format = None
        if self.declared_type is not None:
            data_type = self.declared_type
        else:
            data_type, f = M.resolve_type(
                self.flags, self.fmt_mask, self.int_digits, self.frac_digits, self.has_exp, prefer_decimal
            )
            date_format = M.date_format_name(f)
        lo, hi = self._min_max(data_type, date_format, encoding)
        if self.declared_nullable is not None:
            nullable = self.declared_nullable
        else:
            nullable = self.null_count > 0
        return ColumnSummary(
            name=self.name,
            position=self.position,
            data_type=data_type,
            is_nullable=nullable,
            null_count=self.null_count,
            distinct_count=self.distinct_count,
            min_value=None if lo is None else _cut(lo),
            max_value=None if hi is None else _cut(hi),
            sample_values=tuple(_cut(decode_text(v, encoding)) for _, v in self.samples),
            date_format=date_format,
        )

    def _min_max(
        self, data_type: str, date_format: str | None, encoding: str
    ) -> tuple[str | None, str | None]:
        if date_format is not None:
            f = M.DATE_FORMATS.index(date_format)
            lo, hi = self.fmt_min[f], self.fmt_max[f]
            render = M.render_date if data_type == "date" else M.render_timestamp
            return render(lo), render(hi)
        if data_type == "boolean" and self.declared_type is None:
            return M.bool_min_max(self.flags)
        if self.declared_type is None and data_type in ("int", "bigint"):
            return str(self.imin), str(self.imax)
        if self.declared_type is None and (data_type == "double" or data_type.startswith("decimal")):
            lo, hi = M.numeric_extremes(self.flags, self.imin, self.imax, self.dmin, self.dmax)
            return (
                None if lo is None else decode_text(lo[1], encoding),
                None if hi is None else decode_text(hi[1], encoding),
            )
        return (
            None if self.smin is None else decode_text(self.smin, encoding),
            None if self.smax is None else decode_text(self.smax, encoding),
        )


class ColumnTracker:
    """Mutable per-column state for the fused kernel while one worker streams one table."""

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
        "name",
        "position",
        "sample_size",
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
        self._smin = np.zeros(0, dtype=np.uint8)
        self._smax = np.zeros(0, dtype=np.uint8)
        self._dmin: tuple[float, bytes] | None = None
        self._dmax: tuple[float, bytes] | None = None
        self._count = 0
        self._memo = np.zeros(K.MEMO_SIZE, dtype=np.uint64)

    def update(self, arr: pa.Array, tokens: tuple[np.ndarray, np.ndarray], seed_mix: np.uint64) -> None:
        """Fold one chunk (a binary/string Arrow array) into the state."""
        n = len(arr)
        if n == 0:
            return
        self._count += n
        v = binary_views(arr)
        self._fst[0] = np.inf
        self._fst[1] = -np.inf
        self._s_idx[:] = -1
        ist = self._ist
        if JIT_ENABLED:
            K.update_column(
                v.offsets, v.data, v.validity, v.validity_bit_offset, n, tokens[0], tokens[1], seed_mix,
                ist, self._fst, self._fmt_mm, self._table, self._registers, self._s_prio, self._s_idx,
                self._smin, self._smax, self._memo,
            )  # fmt: skip
        else:
            with np.errstate(over="ignore"):  # uint64 hashing wraps on purpose
                K.update_column(
                    v.offsets, v.data, v.validity, v.validity_bit_offset, n, tokens[0], tokens[1], seed_mix,
                    ist, self._fst, self._fmt_mm, self._table, self._registers, self._s_prio, self._s_idx,
                    self._smin, self._smax, self._memo,
                )  # fmt: skip
        off, data = v.offsets, v.data

        def raw(i: int) -> bytes:
            return data[off[i] : off[i + 1]].tobytes()

        if ist[K.I_SMIN_IDX] >= 0:
            b = raw(ist[K.I_SMIN_IDX])
            self._smin = np.frombuffer(b, dtype=np.uint8).copy()
            ist[K.I_SMIN_LEN] = len(b)
        if ist[K.I_SMAX_IDX] >= 0:
            b = raw(ist[K.I_SMAX_IDX])
            self._smax = np.frombuffer(b, dtype=np.uint8).copy()
            ist[K.I_SMAX_LEN] = len(b)
        if ist[K.I_SMIN_IDX] >= 0 or ist[K.I_SMAX_IDX] >= 0:
            ist[K.I_HAS_SMINMAX] = 1
        if ist[K.I_DMIN_IDX] >= 0:
            self._dmin = M.double_min(self._dmin, (float(self._fst[0]), raw(ist[K.I_DMIN_IDX]).strip(b" \t")))
        if ist[K.I_DMAX_IDX] >= 0:
            self._dmax = M.double_max(self._dmax, (float(self._fst[1]), raw(ist[K.I_DMAX_IDX]).strip(b" \t")))
        if self.sample_size:
            kept: dict[int, bytes] = {}
            for prio, idx in zip(self._s_prio.tolist(), self._s_idx.tolist()):
                if idx >= 0:
                    kept[prio] = raw(idx)
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
            smin=self._smin.tobytes() if has else None,
            smax=self._smax.tobytes() if has else None,
            hashes=hashes,
            registers=registers,
            samples=tuple(sorted(self._samples.items())),
            sample_size=self.sample_size,
        ).canonical()
