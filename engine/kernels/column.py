"""The fused per-column pass: one loop over a chunk of raw text values does everything a profile needs.

For every value: validity and null tokens, the 64-bit hash (distinct sketch and sample priority), the
running byte-order minimum and maximum, and the type classification with its typed minimum and maximum.
State lives in preallocated arrays owned by ``profile.column.ColumnTracker`` and is updated in place;
the kernel allocates nothing and touches no Python object.

Every effect of a value on the state is idempotent (OR, AND, min, max, set insertion, bottom-k), except
the null count, which is taken before hashing.  So a value the column has already folded in can be
skipped entirely: while the distinct sketch is exact, its hash table says so; once it is a HyperLogLog, a
small direct-mapped memo of recently processed hashes does.  Repeated values (flags, categories, dates,
sorted keys) cost one hash and one probe.  The memo is an accelerator only; it is not part of the
profile.

Once a column can only be a string (a value that is text, families mixed, or dates in two formats), the
kernel stops classifying its values: the typed statistics are then irrelevant, and the profile clears
them (see ``profile._math.canonical_type_state``) so the state does not depend on where that happened.
"""

from __future__ import annotations

import numpy as np

from ._jit import njit, prefetch
from .hashing import hash_bytes, load_word
from .nulls import is_null_token, maybe_token, token_lengths, trim
from .sketches import HLL_P, add_new, sample_new, sample_threshold, table_slot
from .types import (
    BOOL_FAMILY,
    N_FORMATS,
    NUMERIC_FAMILY,
    T_BIGNUM,
    T_DOUBLE,
    T_INT32,
    T_INT64,
    T_STRING,
    TEMPORAL_FAMILY,
    classify_general,
    short_number,
)

# Layout of the int64 state vector ``ist``.
I_NULLS = 0
I_FLAGS = 1
I_FMT = 2  # formats every date/timestamp so far is valid under
I_IMIN = 3
I_IMAX = 4
I_INT_DIGITS = 5  # most integer digits of a number (for --prefer-decimal)
I_FRAC_DIGITS = 6  # most fraction digits of a number
I_HAS_EXP = 7  # a number was written with an exponent
I_NDISTINCT = 8  # exact distinct count, or -1 once the sketch is a HyperLogLog
I_DMIN_IDX = 9  # per chunk: index of the chunk's smallest double, or -1
I_DMAX_IDX = 10
I_SMIN_IDX = 11  # per chunk: index of a value below the running byte-order minimum, or -1
I_SMAX_IDX = 12
I_HAS_SMINMAX = 13  # the running minimum/maximum buffers hold a value
I_SMIN_LEN = 14
I_SMAX_LEN = 15
# The memo's bookkeeping (an accelerator only, never part of the profile): probes and hits of the current
# trial, and values left to skip probing for after a trial that did not pay off.
I_MEMO_PROBES = 16
I_MEMO_HITS = 17
I_MEMO_PAUSE = 18
N_ISTATE = 19

# Bits of ``mode``: what the pass does besides hashing, distinct counting and sampling.
#: blank values and null tokens are nulls (text formats); without it only the validity bitmap says null
MODE_TOKENS = 1
#: classify every value into the type lattice (text, and strings of JSON documents)
MODE_CLASSIFY = 2
#: keep the byte-order minimum and maximum (strings; fixed-width values keep theirs typed elsewhere)
MODE_MINMAX = 4
MODE_TEXT = MODE_TOKENS | MODE_CLASSIFY | MODE_MINMAX
MODE_TYPED_TEXT = MODE_MINMAX  # declared strings and binaries
MODE_HASH = 0  # fixed-width typed values: distinct sketch and sample only

_M32 = np.uint64(0x00000000FFFFFFFF)
_M16 = np.uint64(0x0000FFFF0000FFFF)
_M8 = np.uint64(0x00FF00FF00FF00FF)
_S32 = np.uint64(32)
_S16 = np.uint64(16)
_S8 = np.uint64(8)

MEMO_TRIAL = 1024  # memo probes judged at once: under 1 hit in 8, probing pauses ...
MEMO_PAUSE = 1 << 16  # ... for this many values, then is tried again (values may start repeating)
# Entries of the per-column memo (a power of two: 128 KiB, whose pages are touched only once a column is
# a HyperLogLog); large enough that a column of ~10,000 values hits it nearly always.
MEMO_SIZE = 16384

# Values far apart (a wide table's rows: a column's values kilobytes apart) defeat the hardware's
# prefetcher, and every value's bytes then wait on memory: the kernel asks for the bytes of the value
# ``2 * PREFETCH_AHEAD`` places ahead.  Measured on 400 columns: -11 % per value; on 16 (~130-byte rows)
# it cost ~2 %, so it is on only when values are further apart than ``PREFETCH_STRIDE`` bytes on average.
# Such a table also has more columns than the cache holds sketches for (each column's hash table, memo
# and registers are ~200 KiB): a call's first probes of them miss to memory.  So the kernel also hashes
# the value ``PREFETCH_AHEAD`` places ahead (its bytes asked for earlier) and asks for the line of the
# state that value will probe.
PREFETCH_AHEAD = 8
PREFETCH_STRIDE = 512

_REGISTER_SHIFT = np.uint64(64 - HLL_P)  # a hash's register: its top bits (``sketches.hll_add``)

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


@njit
def _bswap64(x: np.uint64) -> np.uint64:
    """Reverse the bytes of a word (LLVM compiles this pattern to one bswap instruction)."""
    x = ((x & _M32) << _S32) | (x >> _S32)
    x = ((x & _M16) << _S16) | ((x >> _S16) & _M16)
    return ((x & _M8) << _S8) | ((x >> _S8) & _M8)


@njit
def compare_bytes(d1: np.ndarray, a1: int, b1: int, d2: np.ndarray, a2: int, b2: int) -> int:
    """-1, 0 or 1 as ``d1[a1:b1]`` sorts before, equal to or after ``d2[a2:b2]`` (unsigned bytes).

    Eight bytes at a time: a word loaded little-endian and byte-swapped compares like the bytes.
    """
    n1 = b1 - a1
    n2 = b2 - a2
    n = n1 if n1 < n2 else n2
    j = 0
    while j < n:
        step = n - j if n - j < 8 else 8
        x = _bswap64(load_word(d1, a1 + j, step))
        y = _bswap64(load_word(d2, a2 + j, step))
        if x != y:
            return -1 if x < y else 1
        j += 8
    if n1 == n2:
        return 0
    return -1 if n1 < n2 else 1


@njit
def seen_before(
    h: np.uint64, ndistinct: int, table: np.ndarray, memo: np.ndarray, probes: int, hits: int, pause: int
) -> tuple[int, bool, int, int, int]:
    """``(slot, seen, probes, hits, pause)``: whether the column has folded a value of hash ``h`` in
    already, by its exact table while there is one, else by the memo (probed unless paused; see
    ``MEMO_TRIAL``), with the slot a new value goes to (-1 while the memo pauses) and the memo's
    bookkeeping after the probe."""
    if ndistinct >= 0:
        slot = table_slot(table, h)
        return slot, slot < 0, probes, hits, pause
    if pause > 0:
        return -1, False, probes, hits, pause - 1
    slot = np.int64(h & np.uint64(memo.shape[0] - 1))
    probes += 1
    if memo[slot] == h:
        return slot, True, probes, hits + 1, pause
    if probes >= MEMO_TRIAL:
        if hits * 8 < probes:
            pause = MEMO_PAUSE  # mostly new values (keys, free text): probes would not pay off
        probes = 0
        hits = 0
    return slot, False, probes, hits, pause


@njit
def string_forever(flags: int, fmt: int) -> bool:
    """True when no further value can give the column a type other than ``string``."""
    if flags & T_STRING:
        return True
    fams = 0
    if flags & BOOL_FAMILY:
        fams += 1
    if flags & NUMERIC_FAMILY:
        fams += 1
    if flags & TEMPORAL_FAMILY:
        fams += 1
        if fmt == 0:
            return True
    return fams > 1


@njit
def update_column(
    starts: np.ndarray,
    ends: np.ndarray,
    data: np.ndarray,
    validity: np.ndarray,
    vbit0: int,
    n: int,
    tok_data: np.ndarray,
    tok_off: np.ndarray,
    seed_mix: np.uint64,
    ist: np.ndarray,
    fst: np.ndarray,
    fmt_mm: np.ndarray,
    table: np.ndarray,
    registers: np.ndarray,
    s_prio: np.ndarray,
    s_idx: np.ndarray,
    smin: np.ndarray,
    smax: np.ndarray,
    memo: np.ndarray,
    mode: int,
) -> None:
    """Fold values ``0 .. n`` (value ``i`` is ``data[starts[i]:ends[i]]``) into the column state.

    The values are those of one binary Arrow array (``starts``/``ends`` are its offsets without the last
    and the first) or one column of a tokenized block (strided views of ``csv_tokenize``'s bounds).

    ``mode`` (``MODE_*`` bits) says whether blank values and tokens are nulls, whether values are
    classified and whether the byte-order minimum and maximum are kept.
    """
    tokens_null = (mode & MODE_TOKENS) != 0
    tok_lengths = token_lengths(tok_off)
    keep_minmax = (mode & MODE_MINMAX) != 0
    has_validity = validity.shape[0] > 0
    probes = ist[I_MEMO_PROBES]
    hits = ist[I_MEMO_HITS]
    pause = ist[I_MEMO_PAUSE]
    threshold = sample_threshold(s_prio)
    nulls = 0
    flags = ist[I_FLAGS]
    fmt = ist[I_FMT]
    imin = ist[I_IMIN]
    imax = ist[I_IMAX]
    int_digits = ist[I_INT_DIGITS]
    frac_digits = ist[I_FRAC_DIGITS]
    has_exp = ist[I_HAS_EXP]
    ndistinct = ist[I_NDISTINCT]
    dmin = fst[0]
    dmax = fst[1]
    dmin_idx = -1
    dmax_idx = -1
    smin_idx = -1
    smax_idx = -1
    has_sminmax = ist[I_HAS_SMINMAX] != 0
    smin_len = ist[I_SMIN_LEN]
    smax_len = ist[I_SMAX_LEN]
    has_min = has_sminmax
    min_key = _bswap64(load_word(smin, 0, smin_len if smin_len < 8 else 8))
    max_key = _bswap64(load_word(smax, 0, smax_len if smax_len < 8 else 8))
    settled = string_forever(flags, fmt) or (mode & MODE_CLASSIFY) == 0
    far_apart = n > PREFETCH_AHEAD and starts[n - 1] - starts[0] > PREFETCH_STRIDE * n
    for i in range(n):
        if far_apart and i + PREFETCH_AHEAD < n:
            if i + 2 * PREFETCH_AHEAD < n:
                prefetch(data, starts[i + 2 * PREFETCH_AHEAD])
            _prefetch_state(
                hash_bytes(data, starts[i + PREFETCH_AHEAD], ends[i + PREFETCH_AHEAD]),
                ndistinct, pause, table, registers, memo,
            )  # fmt: skip
        if has_validity:
            bit = vbit0 + i
            if ((validity[bit >> 3] >> (bit & 7)) & 1) == 0:
                nulls += 1
                continue
        s = starts[i]
        e = ends[i]
        if tokens_null and s == e:
            nulls += 1
            continue
        h = hash_bytes(data, s, e)
        # Seen before?  The table and the memo only ever hold values that are not null, so a value found
        # there needs no null check either: every effect of it is already in the state.
        slot, seen, probes, hits, pause = seen_before(h, ndistinct, table, memo, probes, hits, pause)
        if seen:
            continue
        # the trimmed value matters to the null tokens and the classification only (text)
        a, b = trim(data, s, e) if tokens_null or not settled else (s, e)
        if tokens_null and (
            a == b or (maybe_token(b - a, tok_lengths) and is_null_token(data, a, b, tok_data, tok_off))
        ):
            nulls += 1
            continue
        ndistinct = add_new(h, slot, ndistinct, table, registers, memo)
        threshold = sample_new(h, i, seed_mix, threshold, s_prio, s_idx)
        # running byte-order minimum and maximum of the raw value: the first 8 bytes as a big-endian
        # number decide unless they tie (a strict key order is the byte order), then all bytes do
        if keep_minmax:
            vn = e - s
            vkey = _bswap64(load_word(data, s, vn if vn < 8 else 8))
            if not has_min:
                has_min = True
                smin_idx = i
                min_key = vkey
                smax_idx = i
                max_key = vkey
            else:
                if vkey < min_key or (
                    vkey == min_key
                    and (
                        compare_bytes(data, s, e, data, starts[smin_idx], ends[smin_idx])
                        if smin_idx >= 0
                        else compare_bytes(data, s, e, smin, 0, smin_len)
                    )
                    < 0
                ):
                    smin_idx = i
                    min_key = vkey
                if vkey > max_key or (
                    vkey == max_key
                    and (
                        compare_bytes(data, s, e, data, starts[smax_idx], ends[smax_idx])
                        if smax_idx >= 0
                        else compare_bytes(data, s, e, smax, 0, smax_len)
                    )
                    > 0
                ):
                    smax_idx = i
                    max_key = vkey
        if settled:
            continue
        if a == b:  # a blank string that is not null (only without MODE_TOKENS): text
            flags |= T_STRING
            settled = True
            continue
        # ``classify``, with its first try (short numbers, a helper small enough to be inlined) made
        # here: the rest is a call.
        c0 = data[a]
        if b - a <= 8 and 48 <= c0 <= 57:
            r = short_number(data, a, b)
            if r[0] == 0:
                r = classify_general(data, a, b)
        else:
            r = classify_general(data, a, b)
        code, iv, dv, fmask, us_lo, us_hi, nint, nfrac = r
        if code & (T_INT32 | T_INT64):
            if iv < imin:
                imin = iv
            if iv > imax:
                imax = iv
            if nint > int_digits:
                int_digits = nint
        elif code & (T_DOUBLE | T_BIGNUM):
            # the chunk's first double always counts (it may be +/-inf, equal to the starting bound)
            if (
                dmin_idx < 0
                or dv < dmin
                or (dv == dmin and _cmp_trimmed(data, a, b, starts[dmin_idx], ends[dmin_idx]) < 0)
            ):
                dmin = dv
                dmin_idx = i
            if (
                dmax_idx < 0
                or dv > dmax
                or (dv == dmax and _cmp_trimmed(data, a, b, starts[dmax_idx], ends[dmax_idx]) < 0)
            ):
                dmax = dv
                dmax_idx = i
            if nint < 0:
                has_exp = 1
            elif nint > int_digits:
                int_digits = nint
            if nfrac > frac_digits:
                frac_digits = nfrac
        elif fmask != 0:
            fmt &= fmask
            lo_done = False
            for f in range(N_FORMATS):
                if fmask & (1 << f):
                    us = us_hi if lo_done else us_lo
                    lo_done = True
                    if us < fmt_mm[2 * f]:
                        fmt_mm[2 * f] = us
                    if us > fmt_mm[2 * f + 1]:
                        fmt_mm[2 * f + 1] = us
        if code & ~flags:
            flags |= code
            settled = string_forever(flags, fmt)
        elif fmask != 0 and fmt == 0:
            settled = True
        if settled:
            flags |= T_STRING
    ist[I_NULLS] += nulls
    ist[I_FLAGS] = flags
    ist[I_FMT] = fmt
    ist[I_IMIN] = imin
    ist[I_IMAX] = imax
    ist[I_INT_DIGITS] = int_digits
    ist[I_FRAC_DIGITS] = frac_digits
    ist[I_HAS_EXP] = has_exp
    ist[I_NDISTINCT] = ndistinct
    ist[I_MEMO_PROBES] = probes
    ist[I_MEMO_HITS] = hits
    ist[I_MEMO_PAUSE] = pause
    ist[I_DMIN_IDX] = dmin_idx
    ist[I_DMAX_IDX] = dmax_idx
    ist[I_SMIN_IDX] = smin_idx
    ist[I_SMAX_IDX] = smax_idx
    fst[0] = dmin
    fst[1] = dmax


@njit
def _prefetch_state(
    h: np.uint64, ndistinct: int, pause: int, table: np.ndarray, registers: np.ndarray, memo: np.ndarray
) -> None:
    """Ask for the lines of the state a value of hash ``h`` will probe (a hint: results do not change)."""
    if ndistinct >= 0:
        prefetch(table, np.int64(h & np.uint64(table.shape[0] - 1)))
    else:
        prefetch(registers, np.int64(h >> _REGISTER_SHIFT))
        if pause == 0:
            prefetch(memo, np.int64(h & np.uint64(memo.shape[0] - 1)))


@njit
def _cmp_trimmed(data: np.ndarray, a: int, b: int, s2: int, e2: int) -> int:
    a2, b2 = trim(data, s2, e2)
    return compare_bytes(data, a, b, data, a2, b2)
