"""Arrow's allocator in the processes the executor owns: jemalloc rather than pyarrow's default, mimalloc.

On a machine with transparent huge pages set to ``always`` (common, and so on this project's CI host),
mimalloc's first touch of each 2 MiB stretch of a fresh segment makes the kernel allocate and zero a whole
huge page, and pages it hands back are zeroed again when reused: on SF1 Parquet with 2 workers that was
0.5-0.9 s of system time (``clear_page_erms`` under ``do_huge_pmd_anonymous_page``, 18 % of the run in a
``perf`` profile) and 1.31-1.46 s of wall, against 0.16-0.28 s and 1.18-1.34 s with jemalloc (five
interleaved runs each).  Delimited text hardly allocates through Arrow and is unaffected.

Only processes the executor owns switch: the CLI's (``cli``) and its workers (``scheduler.pool``); a
library caller's process keeps its own choice, and so does anyone who set ``ARROW_DEFAULT_MEMORY_POOL``.
"""

from __future__ import annotations

from .settings import arrow_pool_chosen_by_user


def use_jemalloc() -> bool:
    """Make jemalloc Arrow's default pool in this process; False where this pyarrow has no jemalloc."""
    if arrow_pool_chosen_by_user():
        return False
    import pyarrow as pa

    try:
        pool = pa.jemalloc_memory_pool()
    except (NotImplementedError, AttributeError):  # a pyarrow built without jemalloc
        return False
    pa.set_memory_pool(pool)
    return True
