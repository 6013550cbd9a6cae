"""The kernels' entry points, from whichever backend ``_jit.BACKEND`` chose: what the engine calls.

With the compiled module the functions are its exports, called with exactly the argument types they were
compiled for (``build.SIGNATURES``): unlike a JIT dispatcher, an ahead-of-time function does not compile
a new version for other types, and it checks only the arrays' item sizes.  So the few choices and checks
that matter are made here: the offset width picks ``update_column``'s version, whose bounds and data must
be contiguous, and the tokenizer (which writes into its buffer while unescaping quotes) is refused a
read-only buffer.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ._jit import BACKEND, COMPILED_MODULE, FALLBACK_REASON, NATIVE

__all__ = [
    "BACKEND",
    "FALLBACK_REASON",
    "NATIVE",
    "advance_state",
    "classify",
    "classify_bytes",
    "find_boundary",
    "first_record_end",
    "hash_bytes",
    "table_to_registers",
    "tokenize",
    "update_column",
    "update_fixed",
]

if COMPILED_MODULE is not None:
    _m = COMPILED_MODULE
    _update_i32 = _m.update_column_i32
    _update_i64 = _m.update_column_i64
    _tokenize = _m.tokenize
    _update_fixed = _m.update_fixed
    advance_state = _m.advance_state
    classify = _m.classify
    find_boundary = _m.find_boundary
    first_record_end = _m.first_record_end
    hash_bytes = _m.hash_bytes  # for the property tests: the engine hashes inside update_column
    table_to_registers = _m.table_to_registers

    def update_column(starts: np.ndarray, ends: np.ndarray, data: np.ndarray, *args: Any) -> None:
        """Fold a chunk of values into a column's state (``column.update_column``)."""
        # compiled for contiguous arrays, which the views of ``buffers`` are; a strided one would be read
        # as if it were contiguous (~60 ns to rule out, per call of thousands of values)
        if not (starts.flags.c_contiguous and ends.flags.c_contiguous and data.flags.c_contiguous):
            raise ValueError("the column kernel takes contiguous bounds and data")
        (_update_i32 if starts.itemsize == 4 else _update_i64)(starts, ends, data, *args)

    def update_fixed(data: np.ndarray, *args: Any) -> None:
        """Fold a chunk of fixed-width values into a column's state (``fixed.update_fixed``)."""
        if not data.flags.c_contiguous:
            raise ValueError("the fixed-width kernel takes a contiguous values buffer")
        _update_fixed(data, *args)

    def tokenize(buf: np.ndarray, *args: Any) -> tuple[int, int, int]:
        """Field bounds of the complete records in a text block (``csv_tokenize.tokenize``)."""
        if not buf.flags.writeable:
            raise ValueError("the tokenizer unescapes quotes in place: it needs a writable buffer")
        return _tokenize(buf, *args)  # type: ignore[no-any-return]

else:
    from .column import update_column
    from .csv_scan import advance_state, find_boundary, first_record_end
    from .csv_tokenize import tokenize
    from .fixed import update_fixed
    from .hashing import hash_bytes
    from .sketches import table_to_registers
    from .types import classify


def classify_bytes(raw: bytes) -> int:
    """Type code of one trimmed, non-null value: a convenience for sniffing a few rows, not a hot loop.

    Short values are cached: sniffing many small files of one schema classifies the same header and
    values again and again (it was 40% of profiling 1,000 small files).
    """
    return _classify_short(raw) if len(raw) <= 64 else _classify_bytes(raw)


@functools.lru_cache(maxsize=1 << 14)
def _classify_short(raw: bytes) -> int:
    return _classify_bytes(raw)


def _classify_bytes(raw: bytes) -> int:
    buf = np.zeros(max(8, len(raw)), dtype=np.uint8)
    buf[: len(raw)] = np.frombuffer(raw, dtype=np.uint8)
    buf.setflags(write=False)
    if NATIVE:
        return int(classify(buf, 0, len(raw))[0])
    with np.errstate(over="ignore"):  # in plain Python the word-at-a-time digit tests wrap on purpose
        return int(classify(buf, 0, len(raw))[0])
