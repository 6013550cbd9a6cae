"""The executor's own processes allocate Arrow memory with jemalloc and keep NumPy's buffers on glibc's heap
(see engine/_allocator.py); a library caller's process and allocator settings from the environment are
left alone."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from nuvyn_executor.engine.scheduler.pool import ProcessPool

jemalloc = pytest.mark.skipif(
    not hasattr(pa, "jemalloc_memory_pool") or sys.platform != "linux", reason="pyarrow without jemalloc"
)
glibc = pytest.mark.skipif(
    sys.platform != "linux" or platform.libc_ver()[0] != "glibc", reason="glibc's malloc only"
)

_CLI_PROBE = """
import sys
import pyarrow as pa
from nuvyn_executor.cli.main import main
try:
    main(["-q", "metadata_extraction", sys.argv[1]])
except SystemExit as exc:
    assert exc.code == 0, exc.code
print(pa.default_memory_pool().backend_name, file=sys.stderr)
"""
_HEAP_PROBE = """
import sys
from nuvyn_executor.engine.scheduler.pool import ProcessPool
from tests.scheduler.test_allocator import on_heap
if sys.argv[2] == "cli":
    from nuvyn_executor.cli.main import main
    try:
        main(["-q", "metadata_extraction", sys.argv[1]])
    except SystemExit as exc:
        assert exc.code == 0, exc.code
else:  # a library caller that starts the executor's workers
    with ProcessPool(1) as pool:
        pool.submit(1, on_heap)
        while pool.pending:
            assert all(e.value for e in pool.events(timeout=60))
print(on_heap(), file=sys.stderr)
"""
BLOCK = 16 << 20  # under the executor's 32 MiB threshold, far above glibc's default (128 KiB, raised as
# mapped blocks are freed: this size is not freed on the way here)


def _backend() -> str:
    return pa.default_memory_pool().backend_name


def _cli_backend(data_samples, **env: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", _CLI_PROBE, str(data_samples / "amazon_sales.csv")],
        capture_output=True, text=True, timeout=300, env={**os.environ, **env},
    )  # fmt: skip
    return proc.stderr.strip().splitlines()[-1]


def on_heap(nbytes: int = BLOCK) -> bool:
    """Whether a NumPy buffer of ``nbytes`` comes from glibc's heap (``[heap]`` in /proc/self/maps) rather
    than from a mapping of its own."""
    address = np.empty(nbytes, dtype=np.uint8).ctypes.data
    with open("/proc/self/maps") as fh:
        for line in fh:
            if line.rstrip().endswith("[heap]"):
                lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
                if lo <= address < hi:
                    return True
    return False


@jemalloc
def test_the_cli_process_uses_jemalloc(data_samples) -> None:
    assert _cli_backend(data_samples) == "jemalloc"


@jemalloc
def test_an_explicit_arrow_pool_is_kept(data_samples) -> None:
    assert _cli_backend(data_samples, ARROW_DEFAULT_MEMORY_POOL="system") == "system"


@jemalloc
def test_workers_use_jemalloc_and_the_library_caller_keeps_its_pool() -> None:
    before = _backend()
    with ProcessPool(1) as pool:
        pool.submit(1, _backend)
        events = []
        while pool.pending:
            events.extend(pool.events(timeout=60))
    assert [(e.task_id, e.ok, e.value) for e in events] == [(1, True, "jemalloc")]
    assert _backend() == before  # this test's process is a library caller's


def _heap_probe(data_samples, mode: str, **env: str) -> bool:
    proc = subprocess.run(
        [sys.executable, "-c", _HEAP_PROBE, str(data_samples / "amazon_sales.csv"), mode],
        capture_output=True, text=True, timeout=300, env={**os.environ, **env},
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return {"True": True, "False": False}[proc.stderr.strip().splitlines()[-1]]


@glibc
def test_the_cli_and_its_workers_keep_buffers_on_the_heap(data_samples) -> None:
    assert _heap_probe(data_samples, "cli")


@glibc
def test_malloc_settings_from_the_environment_are_kept(data_samples) -> None:
    tunables = "glibc.malloc.trim_threshold=1048576"  # says nothing of the mmap threshold: default stays
    assert not _heap_probe(data_samples, "cli", GLIBC_TUNABLES=tunables)
    assert not _heap_probe(data_samples, "cli", MALLOC_TRIM_THRESHOLD_="1048576")


@glibc
def test_a_library_caller_keeps_glibc_defaults_while_workers_change_theirs(data_samples) -> None:
    # the probe asserts that its worker's buffers are on the heap, then reports its own
    assert not _heap_probe(data_samples, "library")
