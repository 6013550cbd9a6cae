"""With the JIT backend: compile (or load from Numba's disk cache) every kernel signature the engine uses,
once, in the parent.

Workers are forked afterwards and inherit the compiled code.  Compiling in several processes at once
can corrupt Numba's cache, and compiling in each worker would cost seconds per worker.  With the compiled
module (the default backend) there is nothing to do: importing it made every kernel callable.
"""

from __future__ import annotations

import time

import numpy as np
import pyarrow as pa

from .._gc import collection_paused
from ._jit import JIT_ENABLED, loading_without_refresh

_done = False


def warmup() -> float:
    """Make every kernel callable without compiling; returns the seconds it took (0 when already warm)."""
    global _done
    if _done or not JIT_ENABLED:
        _done = True
        return 0.0
    t0 = time.perf_counter()
    with collection_paused(), loading_without_refresh():
        _call_every_kernel()
    _done = True
    return time.perf_counter() - t0


def _call_every_kernel() -> None:
    from ..profile._math import hll_registers_from_hashes
    from ..profile.table import ProfileOptions, TableTracker
    from ..readers.base import FieldBlock
    from .csv_scan import (
        TRANSITIONS,
        advance_state,
        byte_classes,
        find_boundary,
        first_record_end,
        initial_hypotheses,
    )
    from .csv_tokenize import PADDING, tokenize
    from .entry import classify_bytes

    values = ["1", "2.5", "2024-01-31", "x", None, "true", "01/02/2024 10:00", "", "NULL"]
    # The column kernel has two signatures (``buffers`` hands it read-only views of any binary or string
    # array): int32 bounds (binary and string arrays, tokenized blocks) and int64 bounds (large ones,
    # fixed-width typed values).
    for typ in (pa.binary(), pa.large_binary()):
        arr = pa.array([None if v is None else v.encode() for v in values], type=typ)
        tracker = TableTracker(["c"], ProfileOptions())
        tracker.update(pa.RecordBatch.from_arrays([arr], names=["c"]))
        tracker.update(pa.RecordBatch.from_arrays([arr.slice(1)], names=["c"]))
        tracker.view()
    # the fixed-width kernel (one signature): typed values, as Parquet and the other typed formats give
    typed = TableTracker([], ProfileOptions(), typing="schema", declared={"i": ("bigint", True)})
    typed.update(pa.record_batch({"i": pa.array([1, None, 3], pa.int64())}))
    typed.view()
    hll_registers_from_hashes(np.arange(1, 5, dtype=np.uint64))
    text = b'1,"a""b"\r\n2.5,x\n,NULL'
    block = np.zeros(len(text) + PADDING, dtype=np.uint8)
    block[: len(text)] = np.frombuffer(text, dtype=np.uint8)
    starts, ends = np.empty((2, 4), dtype=np.int32), np.empty((2, 4), dtype=np.int32)
    rows, _pos, _status = tokenize(block, 0, len(text), True, ord(","), ord('"'), starts, ends)
    fields = TableTracker(["a", "b"], ProfileOptions())
    block.setflags(write=False)  # as ``readers.csv_blocks`` hands blocks over
    fields.update(FieldBlock(block, starts, ends, rows))
    fields.view()
    buf = np.frombuffer(b'a,"b\nc"\r\nd\n', dtype=np.uint8)
    classes = byte_classes(b",", b'"')
    find_boundary(buf, classes, TRANSITIONS, initial_hypotheses())
    first_record_end(buf, classes, TRANSITIONS, 0)
    advance_state(buf, classes, TRANSITIONS, 0)
    classify_bytes(b"2024-01-31")
