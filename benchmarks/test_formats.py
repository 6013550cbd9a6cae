"""Benchmarks of the typed formats (pytest-benchmark; nothing here asserts on time).

* TPC-H ``lineitem`` as Parquet profiled by the executor, beside pyarrow reading the same file one row
  group at a time (the floor any profiler has to pay): ``extra_info["ratio"]`` is executor / pyarrow.
  Target: <= 1.3 at scale factor 1.
* ``--metadata-only`` over many small Parquet files: ``extra_info["files_per_second"]``.  Target: >= 500
  over 10,000 files.

``BENCH_SCALE=full`` runs the full sizes (SF1: 6,001,215 rows, ~230 MB; 10,000 files); the default is a
small scale that finishes in seconds for CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from .conftest import record

FULL = os.environ.get("BENCH_SCALE", "").lower() == "full"
SCALE_FACTOR = "1" if FULL else "0.05"
SMALL_FILES = 10_000 if FULL else 1_000


@pytest.fixture(scope="module")
def lineitem(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tpch")
    exe = shutil.which("tpchgen-cli") or str(Path(sys.executable).with_name("tpchgen-cli"))
    subprocess.run(
        [exe, "parquet", "-s", SCALE_FACTOR, "--tables", "lineitem", "--output-dir", str(out)],
        check=True, capture_output=True,
    )  # fmt: skip
    return out / "lineitem.parquet"


@pytest.fixture(scope="module")
def small_parquet_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("small")
    t = pa.table({"id": pa.array(range(100), pa.int64()), "name": [f"n{i}" for i in range(100)],
                  "x": pa.array([i / 3 for i in range(100)])})  # fmt: skip
    for i in range(SMALL_FILES):
        pq.write_table(t, out / f"f{i:05d}.parquet")
    return out


def _read_row_groups(path: Path) -> int:
    pf = pq.ParquetFile(path)
    rows = 0
    for i in range(pf.metadata.num_row_groups):
        rows += pf.read_row_group(i).num_rows
    return rows


def _profile(path: Path, **kw) -> dict:
    from nuvyn_executor.engine import ExtractionSettings, extract_metadata

    return extract_metadata(ExtractionSettings(path=str(path), **kw)).to_dict()


def test_lineitem_parquet_vs_pyarrow(benchmark, lineitem: Path) -> None:
    from nuvyn_executor.engine.kernels.warmup import warmup

    warmup()
    _read_row_groups(lineitem)  # warm the page cache for both
    t0 = time.perf_counter()
    rows = _read_row_groups(lineitem)
    baseline = time.perf_counter() - t0
    benchmark.group = "formats: lineitem.parquet"
    doc = benchmark.pedantic(_profile, args=(lineitem,), rounds=3, iterations=1)
    assert doc["tables"][0]["row_count"] == rows
    assert doc["tables"][0]["column_count"] == 16
    best = benchmark.stats.stats.min
    info = {"rows": rows, "pyarrow_row_groups_s": round(baseline, 3), "executor_s": round(best, 3),
            "ratio": round(best / baseline, 2), "scale_factor": SCALE_FACTOR}  # fmt: skip
    benchmark.extra_info.update(info)
    record("lineitem_parquet", info)


def test_metadata_only_many_small_files(benchmark, small_parquet_files: Path) -> None:
    from nuvyn_executor.engine.kernels.warmup import warmup

    warmup()
    benchmark.group = "formats: --metadata-only"
    doc = benchmark.pedantic(_profile, args=(small_parquet_files,), kwargs={"metadata_only": True}, rounds=3)
    assert len(doc["tables"]) == SMALL_FILES
    assert all(t["row_count"] == 100 for t in doc["tables"])
    best = benchmark.stats.stats.min
    info = {"files": SMALL_FILES, "files_per_second": round(SMALL_FILES / best)}
    benchmark.extra_info.update(info)
    record("metadata_only_small_parquet", info)
