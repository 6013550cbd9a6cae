"""Kernels are compiled once and kept on disk, wherever NUMBA_CACHE_DIR puts them (a read-only install,
such as a Databricks cluster library, needs them outside the package): the compiled module by default,
Numba's JIT cache with EXECUTOR_KERNELS=jit and when the module cannot be built."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.jit_only]


def _run(folder: Path, cache: Path, **env_vars: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), **env_vars}
    proc = subprocess.run(
        [sys.executable, "-m", "nuvyn_executor.cli.main", "metadata_extraction", str(folder), "--workers", "1"],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc


def _columns(proc: subprocess.CompletedProcess[str]) -> list[dict]:
    return [{k: v for k, v in c.items() if k != "source_id"} for c in json.loads(proc.stdout)["columns"]]


def _files(cache: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()}


def test_the_compiled_module_is_built_once_under_numba_cache_dir(data_samples: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _run(data_samples, cache)
    assert "compiling the kernels for this machine" in first.stderr
    built = list((cache / "nuvyn-executor").glob("nuvyn_kernels_*"))
    assert [p.suffix for p in built] == [".so"], built
    before = _files(cache)
    t0 = time.perf_counter()
    second = _run(data_samples, cache)
    warm = time.perf_counter() - t0
    assert "compiling" not in second.stderr
    assert _files(cache) == before  # loaded: nothing compiled or written again
    assert _columns(second) == _columns(first)
    print(f"warm run with the compiled module: {warm:.2f} s")


def test_without_a_c_compiler_the_run_falls_back_to_the_jit_once(data_samples: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    broken = {"CC": "/bin/false"}  # numba's pycc refuses to start without a working C compiler
    first = _run(data_samples, cache, **broken)
    assert "the compiled kernels could not be built" in first.stderr
    assert "using Numba's JIT instead" in first.stderr
    failed = list((cache / "nuvyn-executor").glob("*.failed"))
    assert len(failed) == 1
    assert "could not be built" in failed[0].read_text()
    assert list(cache.rglob("*.nbi")), "the JIT fallback did not use NUMBA_CACHE_DIR"
    second = _run(data_samples, cache, **broken)
    assert "compiling" not in second.stderr
    assert "WARNING" not in second.stderr
    assert _columns(second) == _columns(first) == _columns(_run(data_samples, tmp_path / "fresh"))
    # EXECUTOR_KERNELS=compiled insists: the build is retried, and its failure is the run's error
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "EXECUTOR_KERNELS": "compiled", **broken}
    proc = subprocess.run(
        [sys.executable, "-m", "nuvyn_executor.cli.main", "metadata_extraction", str(data_samples)],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert proc.returncode != 0
    assert "compiling the kernels" in proc.stderr
    assert "error: EXECUTOR_KERNELS=compiled, but the compiled kernels could not be built" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_the_jit_cache_goes_where_numba_cache_dir_says(write, data_dir: Path, tmp_path: Path) -> None:
    write("a.csv", "id,when\n1,2024-01-01\n")
    cache = tmp_path / "numba-cache"
    _run(data_dir, cache, EXECUTOR_KERNELS="jit")  # compiles: the first run fills the cache
    written = list(cache.rglob("*.nbi"))
    assert written, "no kernel was cached under NUMBA_CACHE_DIR"
    assert any("column" in p.name and "update_column" in p.name for p in written)
    before = _files(cache)
    _run(data_dir, cache, EXECUTOR_KERNELS="jit")  # loads: nothing is compiled or written again
    assert _files(cache) == before


def test_warm_jit_loads_skip_numbas_refresh_and_give_the_same_catalog(
    data_samples: Path, tmp_path: Path
) -> None:
    """The cached kernels load without the target-context refresh; the catalog is the one a cold run
    (compiling, refreshing) gives, and the loader is Numba's own again after the warm-up."""
    cache = tmp_path / "numba-cache"
    cold = _run(data_samples, cache, EXECUTOR_KERNELS="jit")
    warm = _run(data_samples, cache, EXECUTOR_KERNELS="jit")
    assert _columns(cold) == _columns(warm)

    from numba.core import caching

    from nuvyn_executor.engine.kernels._jit import loading_without_refresh

    numbas = caching.Cache.load_overload
    with loading_without_refresh():
        assert caching.Cache.load_overload is not numbas
    assert caching.Cache.load_overload is numbas
