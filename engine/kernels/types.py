"""Per-value type classification of text (CSV fields, JSON strings, Excel cell text).

``classify(data, a, b)`` looks at the trimmed, non-null bytes ``data[a:b]`` and returns one type code
(a single bit of the ``T_*`` flags below) and the parsed value.  A column's type is decided later from
the union of the codes of all its values (see ``profile/_math.py``); this module only knows single
values.  Rules (CONTRACT.md, "Data types"):

* ``true``/``false`` in any case are booleans.
* An optional sign and digits is an integer: ``int`` when it fits 32 bits, ``bigint`` for 64 bits,
  larger integers count as ``double`` (as in Spark's CSV inference).  A number whose integer part has
  more than one digit and starts with ``0`` (``02134``) is an identifier: a string.
* A fraction or an exponent makes a ``double``.
* Dates: ISO ``YYYY-MM-DD`` or one of the common formats in ``DATE_FORMATS``, real calendar dates only.
  A value written ``01/02/2024`` is valid under both ``M/d/yyyy`` and ``d/M/yyyy``: the returned mask has
  a bit per format the value is valid under, so that a column settles on one consistent format.
* A date followed by ``T`` or a space and a time (``H:mm[:ss[.fraction]]``, optional ``AM``/``PM``,
  optional ``Z`` or ``+HH[:MM]`` offset) is a timestamp, normalised to UTC microseconds.
"""

from __future__ import annotations

import numpy as np

from ._jit import U0, U1, U_ALL, ctz64, njit
from .hashing import load_word

# --- type codes (bit flags; a column ORs the codes of its values) -------------------------------------
T_TRUE = 1
T_FALSE = 2
T_INT32 = 4
T_INT64 = 8
T_BIGNUM = 16  # an integer beyond 64 bits: held as a double
T_DOUBLE = 32
T_DATE = 64
T_TIMESTAMP = 128
T_STRING = 256

BOOL_FAMILY = T_TRUE | T_FALSE
NUMERIC_FAMILY = T_INT32 | T_INT64 | T_BIGNUM | T_DOUBLE
TEMPORAL_FAMILY = T_DATE | T_TIMESTAMP

# --- date formats (bit i of a format mask) ------------------------------------------------------------
F_ISO = 0  # 2024-01-31
F_YMD_SLASH = 1  # 2024/1/31
F_MDY_SLASH = 2  # 1/31/2024
F_DMY_SLASH = 3  # 31/1/2024
F_MDY_DASH = 4  # 1-31-2024
F_DMY_DASH = 5  # 31-1-2024
F_DMY_DOT = 6  # 31.1.2024
F_MON_D_Y = 7  # Jan 31 2024, Jan 31, 2024, January 31, 2024
F_D_MON_Y = 8  # 31 Jan 2024, 31-Jan-2024
N_FORMATS = 9
ALL_FORMATS = (1 << N_FORMATS) - 1

#: Spark datetime patterns of the formats, in priority order (the lowest bit left in a column's mask wins).
DATE_FORMATS = (
    "yyyy-MM-dd",
    "yyyy/M/d",
    "M/d/yyyy",
    "d/M/yyyy",
    "M-d-yyyy",
    "d-M-yyyy",
    "d.M.yyyy",
    "MMM d yyyy",
    "d MMM yyyy",
)

_INT32_MIN = -(2**31)
_INT32_MAX = 2**31 - 1
_INT64_MAX_U = np.uint64(2**63 - 1)
_INT64_MIN_MAG_U = np.uint64(2**63)
_US_PER_DAY = 86_400_000_000
_US_PER_SEC = 1_000_000

# Month names, lower case, padded with zeros: row m-1 is month m.
_MONTHS = np.zeros((12, 9), dtype=np.uint8)
for _m, _name in enumerate(
    (
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    )
):
    _MONTHS[_m, : len(_name)] = np.frombuffer(_name.encode(), dtype=np.uint8)
_MONTH_LEN = np.array([7, 8, 5, 5, 3, 4, 4, 6, 9, 7, 8, 8], dtype=np.int64)
_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)

# Result of classify: (code, int value, double value, format mask, micros for the lower format bit,
# micros for the higher format bit, integer digits, fraction digits).
_STRING_RESULT = (T_STRING, 0, 0.0, 0, 0, 0, 0, 0)
_NOT_SHORT = (0, 0, 0.0, 0, 0, 0, 0, 0)


# Exact powers of ten: with a mantissa below 2**53 and |exponent| <= 22 one multiplication or division
# is correctly rounded (Clinger's fast path); beyond that the steps below are deterministic.
POW10 = np.array([10.0**i for i in range(23)])


@njit
def scale_pow10(v: float, e: int) -> float:
    """``v * 10**e`` the same way in every process (and in ``reference.scale_pow10``)."""
    if v == 0.0:
        return 0.0
    if e > 400:
        return np.inf
    if e < -400:
        return 0.0
    while e > 22:
        v *= 1e22
        e -= 22
    while e < -22:
        v /= 1e22
        e += 22
    if e > 0:
        v *= POW10[e]
    elif e < 0:
        v /= POW10[-e]
    return v


@njit
def _isdigit(c: int) -> bool:
    return 48 <= c <= 57


@njit
def _lower(c: int) -> int:
    if 65 <= c <= 90:
        return int(c) + 32
    return c


@njit
def days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    if m <= 2:
        y -= 1
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    mp = m + 9 if m <= 2 else m - 3
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@njit
def valid_date(y: int, m: int, d: int) -> bool:
    if y < 1 or y > 9999 or m < 1 or m > 12 or d < 1:
        return False
    dim = _DAYS_IN_MONTH[m - 1]
    if m == 2 and (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)):
        dim = 29
    return d <= dim


@njit
def _digits(data: np.ndarray, p: int, b: int, maxn: int) -> tuple[int, int]:
    """Read up to ``maxn`` digits at ``p``; return (value, number of digits)."""
    v = 0
    n = 0
    while p + n < b and n < maxn and _isdigit(data[p + n]):
        v = v * 10 + (int(data[p + n]) - 48)
        n += 1
    return v, n


_POW10 = np.array([10**i for i in range(9)], dtype=np.int64)
_ZEROS = np.uint64(0x3030303030303030)
_P46 = np.uint64(0x4646464646464646)
_HIGH = np.uint64(0x8080808080808080)
_LANE8 = np.uint64(0x000000FF000000FF)
_MUL1 = np.uint64(0x000F424000000064)  # 100 + (1000000 << 32)
_MUL2 = np.uint64(0x0000271000000001)  # 1 + (10000 << 32)
_TEN = np.uint64(10)
_U8 = np.uint64(8)
_U16 = np.uint64(16)
_U32 = np.uint64(32)


@njit
def _non_digits(w: np.uint64) -> np.uint64:
    """The high bit of every byte of ``w`` that is not an ASCII digit, or that sits above one that is not.

    A byte is a digit when neither ``byte - '0'`` nor ``byte + 0x46`` sets its high bit; borrows and
    carries only run upwards from a non-digit byte, so the lowest flagged byte is the first non-digit.
    """
    return ((w + _P46) | (w - _ZEROS)) & _HIGH


@njit
def _low_bytes(n: int) -> np.uint64:
    """A mask of the ``n`` (1..8) low bytes of a word."""
    return U_ALL if n == 8 else (U1 << np.uint64(8 * n)) - U1


@njit
def _word_digits(data: np.ndarray, p: int, m: int) -> tuple[int, int]:
    """The leading digits among the ``m`` (1..8) bytes at ``p``: (value, count), without a loop: the first
    byte ``_non_digits`` flags ends them; they are then combined pairwise (Lemire's method).
    """
    w = load_word(data, p, m)
    flagged = _non_digits(w)
    nd = m
    if flagged != U0:
        first = ctz64(flagged) >> 3
        if first < nd:
            nd = first
    if nd == 0:
        return 0, 0
    keep = _low_bytes(nd)
    return _combine_digits((w & keep) - (_ZEROS & keep), nd), nd


@njit
def _combine_digits(d: np.uint64, nd: int) -> np.int64:
    """The value of the ``nd`` (1..8) digit values in the low bytes of ``d`` (first digit lowest)."""
    d = d << np.uint64(8 * (8 - nd))
    d = d * _TEN + (d >> _U8)
    d = ((d & _LANE8) * _MUL1 + ((d >> _U16) & _LANE8) * _MUL2) >> _U32
    return np.int64(d)


@njit
def short_number(data: np.ndarray, a: int, b: int):
    """``classify`` of the commonest short values, starting with a digit, in one word: ``123`` and
    ``123.45`` (up to 8 bytes, no superfluous leading zero).  Code 0: not one of them."""
    n = b - a
    w = load_word(data, a, n)
    keep = _low_bytes(n)
    flagged = _non_digits(w) & keep
    first_zero = (w & np.uint64(0xFF)) == np.uint64(48)
    if flagged == U0:
        if n > 1 and first_zero:
            return _NOT_SHORT
        v = _combine_digits((w & keep) - (_ZEROS & keep), n)
        return (T_INT32, v, float(v), 0, 0, 0, n if not first_zero else 0, 0)  # 8 digits < 2**31
    k = ctz64(flagged) >> 3  # the first non-digit (the flags above it may come from its borrow)
    if data[a + k] != 46 or k == 0 or k == n - 1:
        return _NOT_SHORT
    w2 = w + (np.uint64(2) << np.uint64(8 * k))  # the '.' made a '0': every byte must now be a digit
    if _non_digits(w2) & keep != U0:
        return _NOT_SHORT
    if k > 1 and first_zero:
        return _NOT_SHORT
    low = (U1 << np.uint64(8 * k)) - U1
    digits = (w & low) | ((w >> _U8) & ~low)  # the dot taken out
    dkeep = keep >> _U8
    mant = _combine_digits((digits & dkeep) - (_ZEROS & dkeep), n - 1)
    nf = n - 1 - k
    return (T_DOUBLE, 0, scale_pow10(float(mant), -nf), 0, 0, 0, k if not first_zero else 0, nf)


@njit
def _leading_digits(data: np.ndarray, p: int, b: int, maxn: int) -> tuple[int, int]:
    """``_digits(data, p, b, maxn)``, a word at a time (the integer and fraction digits of numbers)."""
    v = 0
    n = 0
    while n < maxn:
        m = b - p - n
        if m > 8:
            m = 8
        if m > maxn - n:
            m = maxn - n
        if m <= 0:
            break
        dv, dn = _word_digits(data, p + n, m)
        v = v * _POW10[dn] + dv
        n += dn
        if dn < 8:
            break
    return v, n


@njit
def _month_name(data: np.ndarray, p: int, b: int) -> tuple[int, int]:
    """Match an English month name or its 3-letter abbreviation (any case, optional '.') at ``p``.

    Returns (month 1..12 or 0, bytes consumed).
    """
    n = 0
    while p + n < b and n < 10:
        c = _lower(data[p + n])
        if c < 97 or c > 122:
            break
        n += 1
    if n < 3:
        return 0, 0
    for m in range(12):
        full = _MONTH_LEN[m]
        if n != 3 and n != full and not (m == 8 and n == 4):  # "sept"
            continue
        ok = True
        for j in range(n):
            if _lower(data[p + j]) != _MONTHS[m, j]:
                ok = False
                break
        if ok:
            used = n
            if p + used < b and data[p + used] == 46 and n <= 4:  # "Jan."
                used += 1
            return m + 1, used
    return 0, 0


@njit
def _time_part(data: np.ndarray, p: int, b: int) -> tuple[bool, int]:
    """Parse ``H:mm[:ss[.f]][ ][AM|PM][Z|+HH[:MM]]`` spanning exactly ``data[p:b]``.

    Returns (ok, microseconds since midnight, UTC-adjusted; may fall outside one day).
    """
    hh, n = _digits(data, p, b, 2)
    if n == 0 or p + n >= b or data[p + n] != 58:  # ':'
        return False, 0
    p += n + 1
    mi, n = _digits(data, p, b, 2)
    if n != 2:
        return False, 0
    p += 2
    ss = 0
    frac_us = 0
    if p < b and data[p] == 58:
        ss, n = _digits(data, p + 1, b, 2)
        if n != 2:
            return False, 0
        p += 3
        if p < b and (data[p] == 46 or data[p] == 44):  # '.' or ','
            p += 1
            nf = 0
            scale = 100_000
            while p < b and _isdigit(data[p]):
                if nf < 6:
                    frac_us += (int(data[p]) - 48) * scale
                    scale //= 10
                nf += 1
                p += 1
            if nf == 0 or nf > 9:
                return False, 0
    if p < b and data[p] == 32:
        p += 1
    # 12-hour clock
    if p + 1 < b and (_lower(data[p]) == 97 or _lower(data[p]) == 112) and _lower(data[p + 1]) == 109:
        if hh < 1 or hh > 12:
            return False, 0
        if _lower(data[p]) == 112 and hh != 12:
            hh += 12
        elif _lower(data[p]) == 97 and hh == 12:
            hh = 0
        p += 2
    if hh > 23 or mi > 59 or ss > 59:
        return False, 0
    offset_us = 0
    if p < b:
        c = data[p]
        if c == 90 and p + 1 == b:  # 'Z'
            p += 1
        elif c == 43 or c == 45:  # '+' / '-'
            oh, n = _digits(data, p + 1, b, 2)
            if n != 2:
                return False, 0
            p += 3
            om = 0
            colon = p < b and data[p] == 58
            if colon:
                p += 1
            if p < b or colon:
                om, n = _digits(data, p, b, 2)
                if n != 2:
                    return False, 0
                p += 2
            if oh > 18 or om > 59:
                return False, 0
            offset_us = (oh * 3600 + om * 60) * _US_PER_SEC
            if c == 43:
                offset_us = -offset_us
        else:
            return False, 0
    if p != b:
        return False, 0
    return True, (hh * 3600 + mi * 60 + ss) * _US_PER_SEC + frac_us + offset_us


@njit
def _finish_temporal(data: np.ndarray, p: int, b: int, mask: int, days_a: int, days_b: int):
    """Given a date ending at ``p``, classify the rest as nothing (date) or a time (timestamp)."""
    if mask == 0:
        return _STRING_RESULT
    if p == b:
        return (T_DATE, 0, 0.0, mask, days_a * _US_PER_DAY, days_b * _US_PER_DAY, 0, 0)
    c = data[p]
    if c != 84 and c != 32:  # 'T' or ' '
        return _STRING_RESULT
    p += 1
    while p < b and data[p] == 32:
        p += 1
    ok, tus = _time_part(data, p, b)
    if not ok:
        return _STRING_RESULT
    return (T_TIMESTAMP, 0, 0.0, mask, days_a * _US_PER_DAY + tus, days_b * _US_PER_DAY + tus, 0, 0)


@njit
def _numeric_date(data: np.ndarray, a: int, b: int, v1: int, n1: int):
    """Dates that start with digits: ISO, y/m/d, m/d/y and d/m/y with '/', '-' or '.', and d-Mon-y."""
    sep = data[a + n1]
    p = a + n1 + 1
    if n1 == 4:
        if sep != 45 and sep != 47:  # '-' '/'
            return _STRING_RESULT
        v2, n2 = _digits(data, p, b, 2)
        if n2 == 0 or p + n2 >= b or data[p + n2] != sep:
            return _STRING_RESULT
        p += n2 + 1
        v3, n3 = _digits(data, p, b, 2)
        if n3 == 0:
            return _STRING_RESULT
        p += n3
        if sep == 45 and (n2 != 2 or n3 != 2):  # ISO wants two-digit month and day
            return _STRING_RESULT
        if not valid_date(v1, v2, v3):
            return _STRING_RESULT
        d = days_from_civil(v1, v2, v3)
        fmt = F_ISO if sep == 45 else F_YMD_SLASH
        return _finish_temporal(data, p, b, 1 << fmt, d, d)
    if n1 > 2:
        return _STRING_RESULT
    if sep == 32 or (sep == 45 and p < b and not _isdigit(data[p])):  # "31 Jan 2024", "31-Jan-2024"
        m, used = _month_name(data, p, b)
        if m == 0:
            return _STRING_RESULT
        p += used
        if p >= b or data[p] != sep:
            return _STRING_RESULT
        y, n3 = _digits(data, p + 1, b, 4)
        if n3 != 4:
            return _STRING_RESULT
        p += 5
        if not valid_date(y, m, v1):
            return _STRING_RESULT
        d = days_from_civil(y, m, v1)
        return _finish_temporal(data, p, b, 1 << F_D_MON_Y, d, d)
    if sep != 47 and sep != 45 and sep != 46:
        return _STRING_RESULT
    v2, n2 = _digits(data, p, b, 2)
    if n2 == 0 or p + n2 >= b or data[p + n2] != sep:
        return _STRING_RESULT
    p += n2 + 1
    y, n3 = _digits(data, p, b, 4)
    if n3 != 4:
        return _STRING_RESULT
    p += 4
    if sep == 46:
        if not valid_date(y, v2, v1):
            return _STRING_RESULT
        d = days_from_civil(y, v2, v1)
        return _finish_temporal(data, p, b, 1 << F_DMY_DOT, d, d)
    f_md = F_MDY_SLASH if sep == 47 else F_MDY_DASH
    mask = 0
    da = 0
    db = 0
    if valid_date(y, v1, v2):  # month first
        mask |= 1 << f_md
        da = days_from_civil(y, v1, v2)
    if valid_date(y, v2, v1):  # day first
        mask |= 1 << (f_md + 1)
        db = days_from_civil(y, v2, v1)
    if mask == (1 << (f_md + 1)):
        da = db
    elif mask == (1 << f_md):
        db = da
    return _finish_temporal(data, p, b, mask, da, db)


@njit
def _month_first_date(data: np.ndarray, a: int, b: int):
    """``Jan 31 2024``, ``Jan 31, 2024``, ``January 31, 2024`` (optionally followed by a time)."""
    m, used = _month_name(data, a, b)
    if m == 0:
        return _STRING_RESULT
    p = a + used
    if p >= b or data[p] != 32:
        return _STRING_RESULT
    p += 1
    dd, n = _digits(data, p, b, 2)
    if n == 0:
        return _STRING_RESULT
    p += n
    if p < b and data[p] == 44:  # ','
        p += 1
    if p >= b or data[p] != 32:
        return _STRING_RESULT
    y, n = _digits(data, p + 1, b, 4)
    if n != 4:
        return _STRING_RESULT
    p += 5
    if not valid_date(y, m, dd):
        return _STRING_RESULT
    d = days_from_civil(y, m, dd)
    return _finish_temporal(data, p, b, 1 << F_MON_D_Y, d, d)


@njit
def _number(data: np.ndarray, a: int, b: int):
    """``[+-]digits[.digits][e[+-]digits]`` or ``[+-].digits[...]``; anything else is a string."""
    p = a
    neg = False
    if data[p] == 43 or data[p] == 45:
        neg = data[p] == 45
        p += 1
    int_start = p
    mant = np.uint64(0)
    sig = 0  # significant digits accumulated in mant
    dexp = 0  # decimal exponent adjustment for digits dropped or after the point
    while p < b and _isdigit(data[p]):
        if sig < 19:
            mant = mant * np.uint64(10) + np.uint64(data[p] - 48)
            if mant > 0:
                sig += 1
        else:
            dexp += 1
        p += 1
    n_int = p - int_start
    if n_int > 1 and data[int_start] == 48:
        return _STRING_RESULT  # leading zero: an identifier
    is_double = False
    n_frac = 0
    if p < b and data[p] == 46:
        is_double = True
        p += 1
        while p < b and _isdigit(data[p]):
            if sig < 19:
                mant = mant * np.uint64(10) + np.uint64(data[p] - 48)
                if mant > 0:
                    sig += 1
                dexp -= 1
            n_frac += 1
            p += 1
    if n_int + n_frac == 0:
        return _STRING_RESULT
    has_exp = False
    if p < b and (data[p] == 101 or data[p] == 69):
        is_double = True
        has_exp = True
        p += 1
        eneg = False
        if p < b and (data[p] == 43 or data[p] == 45):
            eneg = data[p] == 45
            p += 1
        ev, en = _digits(data, p, b, 6)
        if en == 0:
            return _STRING_RESULT
        p += en
        while p < b and _isdigit(data[p]):  # absurd exponents: keep scanning, saturate
            ev = 999999
            p += 1
        dexp += -ev if eneg else ev
    if p != b:
        return _STRING_RESULT
    int_digits = n_int
    if n_int >= 1 and data[int_start] == 48:
        int_digits = 0  # "0.5" has no integer digits (decimal(1,1))
    if has_exp:
        int_digits = -1  # exponent notation never fits a decimal: marks "double only"
    if not is_double:
        if n_int <= 18:
            v = np.int64(mant)
            if neg:
                v = -v
            code = T_INT32 if _INT32_MIN <= v <= _INT32_MAX else T_INT64
            return (code, v, float(v), 0, 0, 0, int_digits, 0)
        if n_int == 19 and (mant <= _INT64_MAX_U or (neg and mant == _INT64_MIN_MAG_U)):
            if mant == _INT64_MIN_MAG_U:
                v = np.int64(-9223372036854775807) - np.int64(1)
            else:
                v = np.int64(mant)
                if neg:
                    v = -v
            return (T_INT64, v, float(v), 0, 0, 0, int_digits, 0)
        is_double = True
        code = T_BIGNUM
    else:
        code = T_DOUBLE
    dv = scale_pow10(float(mant), dexp)
    if neg:
        dv = -dv
    return (code, 0, dv, 0, 0, 0, int_digits, n_frac)


@njit
def classify(data: np.ndarray, a: int, b: int):
    """Classify the trimmed, non-empty, non-null value ``data[a:b]``.

    Returns ``(code, int_value, double_value, format_mask, micros_lo, micros_hi, int_digits,
    frac_digits)``: ``micros_lo`` belongs to the lowest bit of ``format_mask`` and ``micros_hi`` to the
    highest (they differ only for ``M/d/yyyy`` read as ``d/M/yyyy`` and the like).
    """
    if b - a <= 8 and _isdigit(data[a]):
        r = short_number(data, a, b)
        if r[0] != 0:
            return r
    return classify_general(data, a, b)


@njit
def classify_general(data: np.ndarray, a: int, b: int):
    """``classify`` without its first try, ``short_number`` (for a caller that has made it already)."""
    c = data[a]
    if _isdigit(c):
        v1, n1 = _leading_digits(data, a, b, 20)
        if a + n1 == b:
            if n1 <= 18 and (n1 == 1 or c != 48):  # the common case, already parsed: a plain integer
                code = T_INT32 if v1 <= _INT32_MAX else T_INT64
                return (code, v1, float(v1), 0, 0, 0, n1 if c != 48 else 0, 0)
            return _number(data, a, b)
        sep = data[a + n1]
        if (n1 == 4 or n1 <= 2) and (sep == 45 or sep == 47 or sep == 32 or (sep == 46 and n1 <= 2)):
            r = _numeric_date(data, a, b, v1, n1)
            if r[0] != T_STRING or sep != 46:
                return r
        if sep == 46 and (n1 == 1 or c != 48):  # the common "12345.67", parsed as _number would
            frac, nf = _leading_digits(data, a + n1 + 1, b, 18)
            if a + n1 + 1 + nf == b and n1 + nf <= 18:
                mant = v1
                for _ in range(nf):
                    mant *= 10
                mant += frac
                return (T_DOUBLE, 0, scale_pow10(float(mant), -nf), 0, 0, 0, n1 if c != 48 else 0, nf)
        return _number(data, a, b)
    if c == 43 or c == 45 or c == 46:
        return _number(data, a, b)
    lc = _lower(c)
    n = b - a
    if (
        n == 4
        and lc == 116
        and _lower(data[a + 1]) == 114
        and _lower(data[a + 2]) == 117
        and _lower(data[a + 3]) == 101
    ):
        return (T_TRUE, 1, 0.0, 0, 0, 0, 0, 0)
    if (
        n == 5
        and lc == 102
        and _lower(data[a + 1]) == 97
        and _lower(data[a + 2]) == 108
        and _lower(data[a + 3]) == 115
        and _lower(data[a + 4]) == 101
    ):
        return (T_FALSE, 0, 0.0, 0, 0, 0, 0, 0)
    if 97 <= lc <= 122:
        return _month_first_date(data, a, b)
    return _STRING_RESULT
