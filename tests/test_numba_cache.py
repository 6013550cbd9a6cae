"""Kernels compile once and load from Numba's on-disk cache, wherever NUMBA_CACHE_DIR puts it (a read-only
install, such as a Databricks cluster library, needs the cache outside the package)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.jit_only]


def _run(folder: Path, cache: Path) -> float:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "nuvyn_executor.cli.main", "-q", "metadata_extraction", str(folder), "--workers", "1"],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return time.perf_counter() - t0


def test_the_cache_goes_where_numba_cache_dir_says(write, data_dir: Path, tmp_path: Path) -> None:
    write("a.csv", "id,when\n1,2024-01-01\n")
    cache = tmp_path / "numba-cache"
    _run(data_dir, cache)  # compiles: the first run fills the cache
    written = list(cache.rglob("*.nbi"))
    assert written, "no kernel was cached under NUMBA_CACHE_DIR"
    assert any("column" in p.name and "update_column" in p.name for p in written)
    before = {p: p.stat().st_mtime_ns for p in cache.rglob("*")}
    _run(data_dir, cache)  # loads: nothing is compiled or written again
    after = {p: p.stat().st_mtime_ns for p in cache.rglob("*")}
    assert after == before
