"""Plain-Python twins of the kernels, for the property tests (and as a baseline in benchmarks).

Written from the definitions, with regular expressions, ``datetime`` and Python integers, not by
transcribing the kernels.  Never called on a production path.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Sequence

from .sketches import EXACT_LIMIT, HLL_M, HLL_P
from .types import (
    F_D_MON_Y,
    F_DMY_DOT,
    F_ISO,
    F_MDY_DASH,
    F_MDY_SLASH,
    F_MON_D_Y,
    F_YMD_SLASH,
    T_BIGNUM,
    T_DATE,
    T_DOUBLE,
    T_FALSE,
    T_INT32,
    T_INT64,
    T_STRING,
    T_TIMESTAMP,
    T_TRUE,
)

M64 = (1 << 64) - 1
SEED = 0x9E3779B97F4A7C15


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & M64


def fmix64(k: int) -> int:
    k ^= k >> 33
    k = (k * 0xFF51AFD7ED558CCD) & M64
    k ^= k >> 33
    k = (k * 0xC4CEB9FE1A85EC53) & M64
    return k ^ (k >> 33)


def _mix(w: int) -> int:
    w = (w * 0x87C37B91114253D5) & M64
    w = _rotl(w, 31)
    return (w * 0x4CF5AD432745937F) & M64


def hash_bytes(value: bytes) -> int:
    """The definition in ``hashing``'s docstring."""
    n = len(value)
    h = SEED ^ n
    full = n - n % 8
    for i in range(0, full, 8):
        h ^= _mix(int.from_bytes(value[i : i + 8], "little"))
        h = (_rotl(h, 27) * 5 + 0x52DCE729) & M64
    if full < n:
        h ^= _mix(int.from_bytes(value[full:], "little"))
    return fmix64(h) or 1


# --- nulls ----------------------------------------------------------------------------------------------


def trim(value: bytes) -> bytes:
    return value.strip(b" \t")


def is_null(value: bytes | None, tokens: Iterable[str]) -> bool:
    if value is None:
        return True
    t = trim(value)
    return not t or t in {tok.strip(" \t").encode() for tok in tokens}


# --- classification -------------------------------------------------------------------------------------

_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"]  # fmt: skip
_US_DAY = 86_400_000_000
_EPOCH = dt.date(1970, 1, 1)
STRING_RESULT = (T_STRING, 0, 0.0, 0, 0, 0, 0, 0)


def month_number(word: str) -> int:
    """1..12 for an English month name or 3-letter abbreviation (or "sept"), any case; 0 otherwise."""
    w = word.lower()
    for i, name in enumerate(_MONTHS):
        if w in (name, name[:3]) or (i == 8 and w == "sept"):
            return i + 1
    return 0


def _days(y: int, m: int, d: int) -> int | None:
    try:
        return (dt.date(y, m, d) - _EPOCH).days
    except ValueError:
        return None


_TIME = re.compile(
    r"(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)? ?(?:([AaPp])[Mm])?(Z|[+-]\d{2}(?::?\d{2})?)?"
)


def _time_us(text: str) -> int | None:
    m = _TIME.fullmatch(text)
    if not m:
        return None
    hh, mi = int(m[1]), int(m[2])
    ss = int(m[3]) if m[3] else 0
    frac = int((m[4] or "0")[:6].ljust(6, "0"))
    if m[5]:
        if not 1 <= hh <= 12:
            return None
        hh = hh % 12 + (12 if m[5] in "Pp" else 0)
    if hh > 23 or mi > 59 or ss > 59:
        return None
    offset = 0
    zone = m[6]
    if zone and zone != "Z":
        digits = zone[1:].replace(":", "")
        oh, om = int(digits[:2]), int(digits[2:] or 0)
        if oh > 18 or om > 59:
            return None
        offset = (oh * 3600 + om * 60) * 1_000_000 * (-1 if zone[0] == "+" else 1)
    return (hh * 3600 + mi * 60 + ss) * 1_000_000 + frac + offset


_DATE_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(\d{4})-(\d{2})-(\d{2})"), "iso"),
    (re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"), "ymd_slash"),
    (re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})"), "slash"),
    (re.compile(r"(\d{1,2})-(\d{1,2})-(\d{4})"), "dash"),
    (re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})"), "dot"),
    (re.compile(r"([A-Za-z]{3,9})(\.?) (\d{1,2}),? (\d{4})"), "mon_d_y"),
    (re.compile(r"(\d{1,2})([ -])([A-Za-z]{3,9})(\.?)\2(\d{4})"), "d_mon_y"),
]


def _date_candidates(head: str) -> list[tuple[int, int]]:
    """(format, days) for every format the date text is valid under."""
    for pattern, kind in _DATE_PATTERNS:
        m = pattern.fullmatch(head)
        if not m:
            continue
        out: list[tuple[int, int | None]] = []
        if kind == "iso":
            out = [(F_ISO, _days(int(m[1]), int(m[2]), int(m[3])))]
        elif kind == "ymd_slash":
            out = [(F_YMD_SLASH, _days(int(m[1]), int(m[2]), int(m[3])))]
        elif kind in ("slash", "dash"):
            a, b, y = int(m[1]), int(m[2]), int(m[3])
            first = F_MDY_SLASH if kind == "slash" else F_MDY_DASH
            out = [(first, _days(y, a, b)), (first + 1, _days(y, b, a))]
        elif kind == "dot":
            out = [(F_DMY_DOT, _days(int(m[3]), int(m[2]), int(m[1])))]
        elif kind == "mon_d_y":
            if m[2] and len(m[1]) > 4:
                return []
            mon = month_number(m[1])
            out = [(F_MON_D_Y, _days(int(m[4]), mon, int(m[3])) if mon else None)]
        else:
            if m[4] and len(m[3]) > 4:
                return []
            mon = month_number(m[3])
            out = [(F_D_MON_Y, _days(int(m[5]), mon, int(m[1])) if mon else None)]
        return [(f, d) for f, d in out if d is not None]
    return []


def _temporal(text: str) -> tuple | None:
    for i in range(len(text), 0, -1):
        head, tail = text[:i], text[i:]
        if tail and tail[0] not in "T ":
            continue
        cands = _date_candidates(head)
        if not cands:
            continue
        if not tail:
            code, extra = T_DATE, 0
        else:
            us = _time_us(tail[1:].lstrip(" "))
            if us is None:
                return None
            code, extra = T_TIMESTAMP, us
        mask = 0
        for f, _ in cands:
            mask |= 1 << f
        lo = cands[0][1] * _US_DAY + extra
        hi = cands[-1][1] * _US_DAY + extra
        return (code, 0, 0.0, mask, lo, hi, 0, 0)
    return None


_NUMBER = re.compile(r"([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?")


def scale_pow10(v: float, e: int) -> float:
    if v == 0.0:
        return 0.0
    if e > 400:
        return float("inf")
    if e < -400:
        return 0.0
    while e > 22:
        v *= 1e22
        e -= 22
    while e < -22:
        v /= 1e22
        e += 22
    if e > 0:
        v *= 10.0**e
    elif e < 0:
        v /= 10.0 ** (-e)
    return v


def _number(text: str) -> tuple:
    m = _NUMBER.fullmatch(text)
    if not m:
        return STRING_RESULT
    sign, ip, fp, exp = m[1], m[2], m[3], m[4]
    has_point = fp is not None
    fp = fp or ""
    if not ip and not fp:
        return STRING_RESULT
    if len(ip) > 1 and ip[0] == "0":
        return STRING_RESULT
    if not has_point and exp is None:
        v = int(sign + ip)
        if -(2**31) <= v < 2**31:
            return (T_INT32, v, float(v), 0, 0, 0, len(ip) if ip != "0" else 0, 0)
        if -(2**63) <= v < 2**63:
            return (T_INT64, v, float(v), 0, 0, 0, len(ip), 0)
        code = T_BIGNUM
    else:
        code = T_DOUBLE
    digits = (ip + fp).lstrip("0")
    dexp = -len(fp)
    sig = digits[:19]
    dexp += len(digits) - len(sig)
    e = 0
    if exp is not None:
        digs = exp.lstrip("+-")
        e = (999999 if len(digs) > 6 else int(digs)) * (
            -1 if exp.startswith("-") else 1
        )  # saturates as the kernel
    value = scale_pow10(float(int(sig or "0")), dexp + e)
    if sign == "-":
        value = -value
    int_digits = -1 if exp is not None else (0 if ip in ("", "0") else len(ip))
    return (code, 0, value, 0, 0, 0, int_digits, len(fp))


def classify(value: bytes) -> tuple:
    """The twin of ``types.classify`` for one trimmed, non-null value."""
    try:
        text = value.decode("ascii")
    except UnicodeDecodeError:
        return STRING_RESULT
    if text.lower() == "true":
        return (T_TRUE, 1, 0.0, 0, 0, 0, 0, 0)
    if text.lower() == "false":
        return (T_FALSE, 0, 0.0, 0, 0, 0, 0, 0)
    r = _temporal(text)
    if r is not None:
        return r
    if text[:1].isalpha():
        return STRING_RESULT
    return _number(text)


# --- a whole column -------------------------------------------------------------------------------------


def hll_registers(hashes: Iterable[int]) -> bytes:
    regs = bytearray(HLL_M)
    q = 64 - HLL_P
    for h in hashes:
        idx = h >> q
        w = (h << HLL_P) & M64
        rank = min(64 - w.bit_length(), q) + 1 if w else q + 1
        regs[idx] = max(regs[idx], rank)
    return bytes(regs)


def profile_values(
    values: Sequence[bytes | None],
    *,
    name: str = "c",
    position: int = 0,
    tokens: Sequence[str] = (),
    seed_mix: int = 0,
    sample_size: int = 5,
    mode: int = 7,
):
    """The ``ColumnProfile`` the kernels must produce for these values (in one chunk or many).

    ``mode`` has the kernel's bits: 1 blank values and tokens are null, 2 classify, 4 byte-order min/max.
    """
    import numpy as np

    from ..profile._math import string_forever
    from ..profile.column import ColumnProfile
    from .types import ALL_FORMATS, N_FORMATS

    nulls = 0
    flags = 0
    fmt = ALL_FORMATS
    fmin = [2**63 - 1] * N_FORMATS
    fmax = [-(2**63)] * N_FORMATS
    imin, imax = 2**63 - 1, -(2**63)
    int_digits = frac_digits = 0
    has_exp = False
    dmin = dmax = None
    hashes: set[int] = set()
    raw_values: list[bytes] = []
    for v in values:
        if v is None or (mode & 1 and is_null(v, tokens)):
            nulls += 1
            continue
        raw_values.append(v)
        hashes.add(hash_bytes(v))
        if not mode & 2:
            continue
        code, iv, dv, mask, lo, hi, nint, nfrac = classify(trim(v)) if trim(v) else STRING_RESULT
        flags |= code
        if code & (T_INT32 | T_INT64):
            imin, imax = min(imin, iv), max(imax, iv)
            int_digits = max(int_digits, nint)
        elif code & (T_DOUBLE | T_BIGNUM):
            key = (dv, trim(v))
            dmin = key if dmin is None or key < dmin else dmin
            if dmax is None or dv > dmax[0] or (dv == dmax[0] and trim(v) < dmax[1]):
                dmax = key
            if nint < 0:
                has_exp = True
            else:
                int_digits = max(int_digits, nint)
            frac_digits = max(frac_digits, nfrac)
        elif mask:
            fmt &= mask
            bits = [f for f in range(N_FORMATS) if mask >> f & 1]
            for j, f in enumerate(bits):
                us = lo if j == 0 else hi
                fmin[f], fmax[f] = min(fmin[f], us), max(fmax[f], us)
    if len(hashes) <= EXACT_LIMIT:
        hashes_b, registers = np.array(sorted(hashes), dtype=np.uint64).tobytes(), None
    else:
        hashes_b, registers = None, hll_registers(hashes)
    samples: dict[int, bytes] = {}
    for v in raw_values:
        samples.setdefault(fmix64(hash_bytes(v) ^ seed_mix), v)
    profile = ColumnProfile(
        name=name,
        position=position,
        count=len(values),
        null_count=nulls,
        flags=flags,
        fmt_mask=fmt,
        fmt_min=tuple(fmin),
        fmt_max=tuple(fmax),
        imin=imin,
        imax=imax,
        int_digits=int_digits,
        frac_digits=frac_digits,
        has_exp=has_exp,
        dmin=dmin,
        dmax=dmax,
        smin=min(raw_values) if raw_values and mode & 4 else None,
        smax=max(raw_values) if raw_values and mode & 4 else None,
        hashes=hashes_b,
        registers=registers,
        samples=tuple(sorted(samples.items())[:sample_size]),
        sample_size=sample_size,
    )
    if not mode & 2:
        profile = dataclasses.replace(profile, flags=T_STRING)
    if string_forever(profile.flags, fmt):
        profile = profile.canonical()
    return profile


# --- CSV record boundaries ------------------------------------------------------------------------------


def _csv_step(state: str, ch: int, delimiter: int, quote: int | None) -> str:
    """One byte of the CSV state machine: 'start' (of a field), 'field' (unquoted), 'quoted', 'quote'
    (a quote seen inside quotes)."""
    is_end = ch in (10, 13)
    if state == "quoted":
        return "quote" if ch == quote else "quoted"
    if state == "quote" and ch == quote:
        return "quoted"
    if ch == delimiter or is_end:
        return "start"
    if state == "start" and ch == quote:
        return "quoted"
    return "field"


def find_boundary(data: bytes, delimiter: int, quote: int | None) -> int:
    """Twin of ``csv_scan.find_boundary`` from all four starting states: the index after the first LF at
    which no hypothesis is inside quotes, or -1."""
    states = ["start", "field", "quoted", "quote"]
    for i, ch in enumerate(data):
        if ch == 10 and "quoted" not in states:
            return i + 1
        states = [_csv_step(s, ch, delimiter, quote) for s in states]
    return -1


def first_record_end(data: bytes, delimiter: int, quote: int | None) -> int:
    """Twin of ``csv_scan.first_record_end`` from the start of a record: just after its CR, LF or CRLF."""
    state = "start"
    for i, ch in enumerate(data):
        if ch in (10, 13) and state != "quoted":
            return i + 2 if ch == 13 and data[i + 1 : i + 2] == b"\n" else i + 1
        state = _csv_step(state, ch, delimiter, quote)
    return -1


# --- CSV tokenizing -------------------------------------------------------------------------------------

TOK_DONE, TOK_NEED_MORE, TOK_FULL, TOK_FALLBACK = 0, 1, 2, 3


def tokenize(
    data: bytes, pos: int, stop: int, at_eof: bool, delim: int, quote: int, ncols: int, capacity: int
) -> tuple[list[bytes], int, int]:
    """Twin of ``csv_tokenize.tokenize`` (``capacity`` records at most), one record at a time: (the field
    values of the complete records, row by row; the next position; the status)."""
    cap = capacity * ncols
    out: list[bytes] = []
    i = pos
    while i < stop:
        rec = i
        fields: list[bytes] = []
        quoted = False
        j = i
        while True:
            if quote >= 0 and j < stop and data[j] == quote:
                value = bytearray()
                k = j + 1
                while True:
                    if k >= stop:
                        return out, rec, TOK_FALLBACK if at_eof else TOK_NEED_MORE
                    if data[k] == quote:
                        if k + 1 < stop and data[k + 1] == quote:
                            value.append(quote)
                            k += 2
                            continue
                        if k + 1 >= stop and not at_eof:
                            return out, rec, TOK_NEED_MORE
                        break
                    value.append(data[k])
                    k += 1
                fields.append(bytes(value))
                quoted = True
                j = k + 1
                if j < stop and data[j] not in (delim, 10, 13):
                    return out, rec, TOK_FALLBACK
            else:
                k = j
                while k < stop and data[k] not in (delim, 10, 13):
                    k += 1
                fields.append(data[j:k])
                j = k
            if j >= stop:
                if not at_eof:
                    return out, rec, TOK_NEED_MORE
                term = stop
                break
            c = data[j]
            if c == delim:
                if len(fields) == ncols:
                    return out, rec, TOK_FALLBACK  # more fields than columns
                j += 1
                continue
            if c == 13:
                if j + 1 < stop:
                    term = j + 2 if data[j + 1] == 10 else j + 1
                elif at_eof:
                    term = j + 1
                else:
                    return out, rec, TOK_NEED_MORE
            else:
                term = j + 1
            break
        i = term
        if fields == [b""] and not quoted and term > j:
            continue  # an empty line
        if len(fields) != ncols:
            return out, rec, TOK_FALLBACK
        out.extend(fields)
        if len(out) + ncols > cap and i < stop:
            return out, i, TOK_FULL
    return out, stop, TOK_DONE
