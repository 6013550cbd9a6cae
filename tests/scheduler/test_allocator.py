"""The executor's own processes allocate Arrow memory with jemalloc (see engine/_allocator.py); a library
caller's process and an explicit ARROW_DEFAULT_MEMORY_POOL are left alone."""

from __future__ import annotations

import os
import subprocess
import sys

import pyarrow as pa
import pytest

from nuvyn_executor.engine.scheduler.pool import ProcessPool

pytestmark = pytest.mark.skipif(
    not hasattr(pa, "jemalloc_memory_pool") or sys.platform != "linux", reason="pyarrow without jemalloc"
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


def _backend() -> str:
    return pa.default_memory_pool().backend_name


def _cli_backend(data_samples, **env: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", _CLI_PROBE, str(data_samples / "amazon_sales.csv")],
        capture_output=True, text=True, timeout=300, env={**os.environ, **env},
    )  # fmt: skip
    return proc.stderr.strip().splitlines()[-1]


def test_the_cli_process_uses_jemalloc(data_samples) -> None:
    assert _cli_backend(data_samples) == "jemalloc"


def test_an_explicit_arrow_pool_is_kept(data_samples) -> None:
    assert _cli_backend(data_samples, ARROW_DEFAULT_MEMORY_POOL="system") == "system"


def test_workers_use_jemalloc_and_the_library_caller_keeps_its_pool() -> None:
    before = _backend()
    with ProcessPool(1) as pool:
        pool.submit(1, _backend)
        events = []
        while pool.pending:
            events.extend(pool.events(timeout=60))
    assert [(e.task_id, e.ok, e.value) for e in events] == [(1, True, "jemalloc")]
    assert _backend() == before  # this test's process is a library caller's
