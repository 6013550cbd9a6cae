"""Kernels compile once and load from Numba's on-disk cache, wherever NUMBA_CACHE_DIR puts it (a read-only
install, such as a Databricks cluster library, needs the cache outside the package)."""

from __future__ import annotations

import json
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


def test_warm_loads_skip_numbas_refresh_and_give_the_same_catalog(data_samples: Path, tmp_path: Path) -> None:
    """The cached kernels load without the target-context refresh; the catalog is the one a cold run
    (compiling, refreshing) gives, and the loader is Numba's own again after the warm-up."""
    cache = tmp_path / "numba-cache"
    outputs = []
    for _ in range(2):  # cold (compiles), then warm (loads)
        env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
        proc = subprocess.run(
            [sys.executable, "-m", "nuvyn_executor.cli.main", "-q", "metadata_extraction", str(data_samples)],
            capture_output=True, text=True, env=env, timeout=600,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout)
        outputs.append([{k: v for k, v in c.items() if k != "source_id"} for c in doc["columns"]])
    assert outputs[0] == outputs[1]

    from numba.core import caching

    from nuvyn_executor.engine.kernels._jit import loading_without_refresh

    numbas = caching.Cache.load_overload
    with loading_without_refresh():
        assert caching.Cache.load_overload is not numbas
    assert caching.Cache.load_overload is numbas
