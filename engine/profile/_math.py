"""Every merge formula and every final computation on profile state, in one place and without state.

Profiles (``column.py``, ``table.py``) only hold values; the arithmetic that combines two of them, and
that turns the combined state into output values, lives here so it can be checked against its
definition in isolation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ..kernels.sketches import EXACT_LIMIT, HLL_M, HLL_P, TABLE_CAP, table_to_registers
from ..kernels.types import (
    BOOL_FAMILY,
    DATE_FORMATS,
    NUMERIC_FAMILY,
    T_DATE,
    T_FALSE,
    T_INT32,
    T_INT64,
    T_STRING,
    T_TRUE,
    TEMPORAL_FAMILY,
)

US_PER_DAY = 86_400_000_000
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


# --- type lattice -------------------------------------------------------------------------------------


def string_forever(flags: int, fmt: int) -> bool:
    """Python twin of ``kernels.column.string_forever``: no later value can make the column non-string."""
    if flags & T_STRING:
        return True
    fams = sum(1 for fam in (BOOL_FAMILY, NUMERIC_FAMILY, TEMPORAL_FAMILY) if flags & fam)
    if flags & TEMPORAL_FAMILY and fmt == 0:
        return True
    return fams > 1


def resolve_type(
    flags: int, fmt: int, int_digits: int, frac_digits: int, has_exp: bool, prefer_decimal: bool
) -> tuple[str, int | None]:
    """The narrowest type holding every non-null value, and the date format index for temporal types."""
    if flags == 0 or string_forever(flags, fmt):
        return "string", None
    if flags & ~BOOL_FAMILY == 0:
        return "boolean", None
    if flags & ~NUMERIC_FAMILY == 0:
        if flags & ~T_INT32 == 0:
            return "int", None
        if flags & ~(T_INT32 | T_INT64) == 0:
            return "bigint", None
        if prefer_decimal and not has_exp:
            precision = max(int_digits + frac_digits, 1)
            if precision <= 38:
                return f"decimal({precision},{frac_digits})", None
        return "double", None
    # temporal, with at least one format every value is valid under
    f = (fmt & -fmt).bit_length() - 1
    return ("date" if flags & ~T_DATE == 0 else "timestamp"), f


def date_format_name(f: int | None) -> str | None:
    return None if f is None else DATE_FORMATS[f]


# --- min / max ------------------------------------------------------------------------------------------


def min_opt(a, b):
    """Minimum where ``None`` means "no value" (the identity)."""
    if a is None:
        return b
    if b is None:
        return a
    return a if a <= b else b


def max_opt(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a if a >= b else b


def double_min(a: tuple[float, bytes] | None, b: tuple[float, bytes] | None):
    """Smallest (value, text); equal values keep the byte-smaller text so the result is order-free."""
    return min_opt(a, b)


def double_max(a: tuple[float, bytes] | None, b: tuple[float, bytes] | None):
    """Largest value; equal values keep the byte-smaller text (as the kernel does)."""
    if a is None:
        return b
    if b is None:
        return a
    if a[0] != b[0]:
        return a if a[0] > b[0] else b
    return a if a[1] <= b[1] else b


# --- distinct-count sketch ------------------------------------------------------------------------------


def hll_registers_from_hashes(hashes: np.ndarray) -> np.ndarray:
    """Registers of a set of hashes (the kernel's own fold, so both paths agree bit for bit)."""
    regs = np.zeros(HLL_M, dtype=np.uint8)
    table_to_registers(np.array(hashes, dtype=np.uint64), regs)  # a writable copy: one compiled signature
    return regs


def merge_distinct(
    a: tuple[bytes | None, bytes | None], b: tuple[bytes | None, bytes | None]
) -> tuple[bytes | None, bytes | None]:
    """Merge two sketches, each ``(exact hashes or None, registers or None)``; exactly one is not None.

    The result is a function of the union of the hash sets, so the merge is associative and commutative.
    """
    (ha, ra), (hb, rb) = a, b
    if ha is not None and hb is not None:
        union = np.union1d(np.frombuffer(ha, dtype=np.uint64), np.frombuffer(hb, dtype=np.uint64))
        if union.size <= EXACT_LIMIT:
            return union.astype(np.uint64).tobytes(), None
        return None, hll_registers_from_hashes(union).tobytes()
    regs = np.zeros(HLL_M, dtype=np.uint8)
    for hs, rs in ((ha, ra), (hb, rb)):
        if rs is not None:
            np.maximum(regs, np.frombuffer(rs, dtype=np.uint8), out=regs)
        else:
            np.maximum(regs, hll_registers_from_hashes(np.frombuffer(hs, dtype=np.uint64)), out=regs)
    return None, regs.tobytes()


def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y = 1.0
    z = x
    while True:
        x *= x
        z_old = z
        z += x * y
        y += y
        if z == z_old:
            return z


def _tau(x: float) -> float:
    if x == 0.0 or x == 1.0:
        return 0.0
    y = 1.0
    z = 1.0 - x
    while True:
        x = math.sqrt(x)
        z_old = z
        y *= 0.5
        z -= (1.0 - x) ** 2 * y
        if z == z_old:
            return z / 3.0


def hll_estimate(registers: np.ndarray) -> float:
    """Ertl's improved estimator (arXiv:1702.01284, algorithm 6): nearly unbiased over the whole range
    without empirical bias tables."""
    m = registers.size
    q = 64 - HLL_P
    counts = np.bincount(registers.astype(np.int64), minlength=q + 2).astype(float)
    z = m * _tau(1.0 - counts[q + 1] / m)
    for k in range(q, 0, -1):
        z = 0.5 * (z + counts[k])
    z += m * _sigma(counts[0] / m)
    return (m * m / (2.0 * math.log(2.0))) / z


def distinct_count(hashes: bytes | None, registers: bytes | None) -> int:
    if hashes is not None:
        return len(hashes) // 8
    return round(hll_estimate(np.frombuffer(registers, dtype=np.uint8)))


def hashes_from_table(table: np.ndarray) -> bytes:
    """Canonical form of the kernel's open-addressing table: the sorted non-empty slots."""
    assert table.size == TABLE_CAP
    return np.sort(table[table != 0]).tobytes()


# --- sample ---------------------------------------------------------------------------------------------


def merge_samples(
    a: Iterable[tuple[int, bytes]], b: Iterable[tuple[int, bytes]], k: int
) -> tuple[tuple[int, bytes], ...]:
    """The ``k`` entries with the smallest priorities of the union (a priority identifies its value)."""
    merged = dict(a)
    for prio, value in b:
        merged.setdefault(prio, value)
    return tuple(sorted(merged.items())[:k])


# --- rendering ------------------------------------------------------------------------------------------

_EPOCH_ORDINAL = 719163  # date(1970, 1, 1).toordinal()


def render_date(us: int) -> str:
    import datetime as _dt

    return _dt.date.fromordinal(_EPOCH_ORDINAL + us // US_PER_DAY).isoformat()


def render_timestamp(us: int) -> str:
    import datetime as _dt

    days, rem = divmod(us, US_PER_DAY)
    d = _dt.date.fromordinal(_EPOCH_ORDINAL + days)
    secs, frac = divmod(rem, 1_000_000)
    hh, rest = divmod(secs, 3600)
    mm, ss = divmod(rest, 60)
    text = f"{d.isoformat()} {hh:02d}:{mm:02d}:{ss:02d}"
    if frac:
        text += f".{frac:06d}".rstrip("0")
    return text


def bool_min_max(flags: int) -> tuple[str | None, str | None]:
    lo = "false" if flags & T_FALSE else ("true" if flags & T_TRUE else None)
    hi = "true" if flags & T_TRUE else ("false" if flags & T_FALSE else None)
    return lo, hi


def numeric_extremes(
    flags: int, imin: int, imax: int, dmin: tuple[float, bytes] | None, dmax: tuple[float, bytes] | None
) -> tuple[tuple[float, bytes] | None, tuple[float, bytes] | None]:
    """Minimum and maximum over integer and floating values, as (value, text)."""
    lo = dmin
    hi = dmax
    if flags & (T_INT32 | T_INT64):
        lo = double_min(lo, (float(imin), str(imin).encode()))
        hi = double_max(hi, (float(imax), str(imax).encode()))
    return lo, hi


def or_opt(a: bool | None, b: bool | None) -> bool | None:
    if a is None:
        return b
    if b is None:
        return a
    return a or b


_WIDENING = {
    frozenset(("int", "bigint")): "bigint",
    frozenset(("int", "double")): "double",
    frozenset(("bigint", "double")): "double",
    frozenset(("date", "timestamp")): "timestamp",
}


def widen_declared(a: str | None, b: str | None) -> str | None:
    """The narrowest declared type holding both (``None`` is "not declared", the identity)."""
    if a is None:
        return b
    if b is None or a == b:
        return a
    return _WIDENING.get(frozenset((a, b)), "string")
