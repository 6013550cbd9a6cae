"""Allocator settings for the processes the executor owns: the CLI's (``cli``) and its workers
(``scheduler.pool``).  A library caller's process keeps its own, and so does anyone who chose them in the
environment.

**Arrow: jemalloc rather than pyarrow's default, mimalloc.**  On a machine with transparent huge pages set
to ``always`` (common, and so on this project's CI host), mimalloc's first touch of each 2 MiB stretch of a
fresh segment makes the kernel allocate and zero a whole huge page, and pages it hands back are zeroed
again when reused: on SF1 Parquet with 2 workers that was 0.5-0.9 s of system time (``clear_page_erms``
under ``do_huge_pmd_anonymous_page``, 18 % of the run in a ``perf`` profile) and 1.31-1.46 s of wall,
against 0.16-0.28 s and 1.18-1.34 s with jemalloc (five interleaved runs each).  Delimited text hardly
allocates through Arrow and is unaffected.  ``ARROW_DEFAULT_MEMORY_POOL`` overrides it.

**glibc's malloc: blocks up to 32 MiB from the heap, and freed heap memory kept for reuse.**  Each part of
a split file allocates ~6 MiB of NumPy buffers (the text block, the field bounds, every column's sketches)
and frees them at its end.  By default glibc maps blocks over 128 KiB (a threshold it raises as they are
freed) and hands the top of the heap back to the kernel once more than twice that is free, so every part
faulted its buffers in again: ~1,500 page faults per part, 31,000 on SF1 with 2 workers against 9,000
unsplit, and 0.16-0.18 s of system time.  Kept, the parts reuse the same memory (20,000 faults; 2-worker
SF1 0.965 -> 0.931 s, median of five interleaved runs).  The peak does not change: memory is kept only up
to what a part has already used.  ``GLIBC_TUNABLES`` (``glibc.malloc.*``) or ``MALLOC_*_`` variables
override it.
"""

from __future__ import annotations

import ctypes
import sys

from ._deferred import when_loaded
from .settings import arrow_pool_chosen_by_user, malloc_tuned_by_user

# mallopt(3) parameters
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: blocks below this size come from the heap (glibc's largest allowed value on 64-bit systems)
MMAP_THRESHOLD = 32 << 20
#: free memory at the top of the heap is handed back to the kernel only beyond this much
TRIM_THRESHOLD = 64 << 20


def use_jemalloc() -> None:
    """Make jemalloc Arrow's default pool in this process: now, or when pyarrow is loaded if it is deferred
    (``_deferred``)."""
    if not arrow_pool_chosen_by_user():
        when_loaded(_jemalloc_pool)


def _jemalloc_pool() -> None:
    import pyarrow as pa

    try:
        pool = pa.jemalloc_memory_pool()
    except (NotImplementedError, AttributeError):  # a pyarrow built without jemalloc
        return
    pa.set_memory_pool(pool)


def keep_heap_memory() -> bool:
    """Set glibc's mmap and trim thresholds in this process (inherited by processes it forks); False
    where the C library is not glibc or the environment set them."""
    if not sys.platform.startswith("linux") or malloc_tuned_by_user():
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018  (glibc only: musl's mallopt ignores every parameter)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )


def configure_process() -> None:
    """Both settings, for a process the executor owns."""
    use_jemalloc()
    keep_heap_memory()
