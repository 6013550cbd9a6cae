"""Every merge formula and every final computation on profile state, in one place and without state.

Profiles (``column.py``, ``table.py``) only hold values; the arithmetic that combines two of them, and
that turns the combined state into output values, lives here so it can be checked against its
definition in isolation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ..kernels.entry import table_to_registers
from ..kernels.sketches import EXACT_LIMIT, HLL_M, HLL_P, TABLE_CAP
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


def sorted_union(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The sorted distinct values of both arrays (``np.union1d`` without ``np.unique``, which in NumPy 2.3
    imports ``numpy.ma`` on first use: ~20 ms of the parent's CPU, taken from a busy worker, in every run
    that merges the parts of a split file)."""
    both = np.concatenate((a, b))
    both.sort()
    if both.size < 2:
        return both
    keep = np.empty(both.size, dtype=bool)
    keep[0] = True
    np.not_equal(both[1:], both[:-1], out=keep[1:])
    return both[keep]


def merge_distinct(
    a: tuple[bytes | None, bytes | None], b: tuple[bytes | None, bytes | None]
) -> tuple[bytes | None, bytes | None]:
    """Merge two sketches, each ``(exact hashes or None, registers or None)``; exactly one is not None.

    The result is a function of the union of the hash sets, so the merge is associative and commutative.
    """
    (ha, ra), (hb, rb) = a, b
    if ha is not None and hb is not None:
        union = sorted_union(np.frombuffer(ha, dtype=np.uint64), np.frombuffer(hb, dtype=np.uint64))
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


def merge_schemas(a, b, make):
    """Union of ``SchemaSeen`` records by schema: file counts add up, the smallest example path stays."""
    by_schema = {s.schema: s for s in a}
    for s in b:
        seen = by_schema.get(s.schema)
        by_schema[s.schema] = (
            s if seen is None else make(s.schema, seen.files + s.files, min(seen.example, s.example))
        )
    return tuple(sorted(by_schema.values(), key=lambda s: (-s.files, s.example)))


# --- rendering ------------------------------------------------------------------------------------------

_EPOCH_ORDINAL = 719163  # date(1970, 1, 1).toordinal()
_MAX_ORDINAL = 3652059  # date(9999, 12, 31).toordinal()


_NS_PER_DAY = 86_400 * 1_000_000_000


def render_day(days: int) -> str:
    """Days since 1970-01-01 as an ISO 8601 date in the proleptic Gregorian calendar: ``YYYY-MM-DD``, and
    outside years 1-9999 (which Parquet and Arrow dates reach, Python's do not) the expanded form with
    astronomical years: ``0000-01-01`` is 1 BC, ``-0001-...`` 2 BC, ``+10000-...`` after 9999."""
    import datetime as _dt

    ordinal = _EPOCH_ORDINAL + days
    if 1 <= ordinal <= _MAX_ORDINAL:
        return _dt.date.fromordinal(ordinal).isoformat()
    # civil_from_days (H. Hinnant): eras of 400 years, 146,097 days each, counted from 0000-03-01
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (1 if month <= 2 else 0)
    sign = "-" if year < 0 else ("+" if year > 9999 else "")
    return f"{sign}{abs(year):04d}-{month:02d}-{day:02d}"


def render_ns(ns: int, date_only: bool = False) -> str:
    """UTC nanoseconds since the epoch as ``YYYY-MM-DD[ HH:MM:SS[.fraction]]`` (the fraction trimmed)."""
    days, rem = divmod(ns, _NS_PER_DAY)
    d = render_day(days)
    if date_only:
        return d
    secs, frac = divmod(rem, 1_000_000_000)
    hh, rest = divmod(secs, 3600)
    mm, ss = divmod(rest, 60)
    text = f"{d} {hh:02d}:{mm:02d}:{ss:02d}"
    if frac:
        text += f".{frac:09d}".rstrip("0")
    return text


def render_date(us: int) -> str:
    return render_ns(us * 1000, date_only=True)


def render_timestamp(us: int) -> str:
    return render_ns(us * 1000)


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


# --- declared types: a join over the contract's type names ------------------------------------------------
#
# Types are parsed from their names (``struct<a:int,b:array<string>>``) into trees, joined, and rendered
# back.  The join is the narrowest type holding both: ``int`` < ``bigint`` < ``decimal`` < ``double``,
# ``date`` < ``timestamp``, structs union their fields by name, arrays and maps join their parts;
# anything else gives ``string``.

_INT_DIGITS = {"int": 10, "bigint": 19}


def parse_type(text: str):
    """A type name as a tree: a leaf name, ``("array", T)``, ``("map", K, V)`` or ``("struct", ((n, T), ...))``."""
    tree, rest = _parse(text.strip(), 0)
    if rest != len(text.strip()):
        raise ValueError(f"not a type name: {text!r}")
    return tree


def _parse(s: str, i: int):
    while i < len(s) and s[i] == " ":
        i += 1
    j = i
    while j < len(s) and (s[j].isalnum() or s[j] == "_"):
        j += 1
    if j < len(s) and s[j] == "(":  # decimal(p,s)
        j = s.index(")", j) + 1
    word = s[i:j].replace(" ", "")
    if not word:
        raise ValueError(f"expected a type at {i} in {s!r}")
    if j < len(s) and s[j] == "<":
        if word == "array":
            elem, j = _parse(s, j + 1)
            return ("array", elem), _expect(s, j, ">")
        if word == "map":
            key, j = _parse(s, j + 1)
            j = _expect(s, j, ",")
            val, j = _parse(s, j)
            return ("map", key, val), _expect(s, j, ">")
        if word == "struct":
            fields = []
            j += 1
            while j < len(s) and s[j] != ">":
                name, j = _field_name(s, j)
                j = _expect(s, j, ":")
                typ, j = _parse(s, j)
                fields.append((name, typ))
                if j < len(s) and s[j] == ",":
                    j += 1
            return ("struct", tuple(fields)), _expect(s, j, ">")
        raise ValueError(f"unknown type constructor {word!r}")
    return word, j


def _field_name(s: str, i: int) -> tuple[str, int]:
    if s[i] == "`":
        out = []
        j = i + 1
        while j < len(s):
            if s[j] == "`":
                if j + 1 < len(s) and s[j + 1] == "`":
                    out.append("`")
                    j += 2
                    continue
                return "".join(out), j + 1
            out.append(s[j])
            j += 1
        raise ValueError("unterminated field name")
    j = s.index(":", i)
    return s[i:j], j


def _expect(s: str, i: int, ch: str) -> int:
    if i >= len(s) or s[i] != ch:
        raise ValueError(f"expected {ch!r} at {i} in {s!r}")
    return i + 1


def render_type(tree) -> str:
    from .typed import quote_field

    if isinstance(tree, str):
        return tree
    if tree[0] == "array":
        return f"array<{render_type(tree[1])}>"
    if tree[0] == "map":
        return f"map<{render_type(tree[1])},{render_type(tree[2])}>"
    return "struct<" + ",".join(f"{quote_field(n)}:{render_type(t)}" for n, t in tree[1]) + ">"


def _decimal(leaf: str) -> tuple[int, int] | None:
    """(integer digits, scale) of ``int``, ``bigint`` and ``decimal(p,s)``; None for other leaves."""
    if leaf in _INT_DIGITS:
        return _INT_DIGITS[leaf], 0
    if leaf.startswith("decimal(") and leaf.endswith(")"):
        p, s = (int(x) for x in leaf[8:-1].split(","))
        return p - s, s
    return None


def _join_leaf(a: str, b: str) -> str:
    if a == b:
        return a
    pair = {a, b}
    if pair == {"int", "bigint"}:
        return "bigint"
    if pair == {"date", "timestamp"}:
        return "timestamp"
    if "double" in pair and (_decimal(a if b == "double" else b) is not None):
        return "double"
    da, db = _decimal(a), _decimal(b)
    if da is not None and db is not None:
        digits, scale = max(da[0], db[0]), max(da[1], db[1])
        if digits + scale > 38:
            return "double"
        return f"decimal({digits + scale},{scale})"
    return "string"


def join_types(a, b):
    """The narrowest type tree holding both (see above)."""
    if isinstance(a, str) and isinstance(b, str):
        return _join_leaf(a, b)
    if isinstance(a, str) or isinstance(b, str) or a[0] != b[0]:
        return "string"
    if a[0] == "array":
        return ("array", join_types(a[1], b[1]))
    if a[0] == "map":
        return ("map", join_types(a[1], b[1]), join_types(a[2], b[2]))
    fa, fb = dict(a[1]), dict(b[1])
    names_a, names_b = [n for n, _ in a[1]], [n for n, _ in b[1]]
    # The common order when both agree, else the union sorted by name: either way independent of the
    # order of the operands and of grouping.
    order = names_a if names_a == names_b else sorted(set(names_a) | set(names_b))
    fields = []
    for n in order:
        if n in fa and n in fb:
            fields.append((n, join_types(fa[n], fb[n])))
        else:
            fields.append((n, fa.get(n, fb.get(n))))
    return ("struct", tuple(fields))


def widen_declared(a: str | None, b: str | None) -> str | None:
    """The narrowest declared type holding both (``None`` is "not declared", the identity)."""
    if a is None:
        return b
    if b is None or a == b:
        return a
    try:
        return render_type(join_types(parse_type(a), parse_type(b)))
    except ValueError:
        return "string"


def narrow_integer(declared: str, lo: int | None, hi: int | None) -> str:
    """``bigint`` values that all fit 32 bits are ``int`` (JSON numbers follow CSV's integer rule)."""
    if declared == "bigint" and lo is not None and hi is not None and lo >= -(2**31) and hi < 2**31:
        return "int"
    return declared
