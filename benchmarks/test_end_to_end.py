"""The executor against the tools a user would run instead, on the same files, in the same run.

Baseline: pyarrow's all-string ``read_csv`` (the parse a profile needs at least), in a fresh process like
the executor.  Reported: wall and CPU time, peak RSS and PSS of the whole process tree, and the ratio.
Targets (issue 2): SF1 lineitem ratio <= 1.5, peak RSS <= 600 MiB; a warm run on data_samples <= 1.5 s.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from .conftest import HERE, best_of, executor_cmd, measure, record

PYARROW_READ = """
import sys, pyarrow as pa, pyarrow.csv as csv
path = sys.argv[1]
names = open(path).readline().strip().split(",")
t = csv.read_csv(path, convert_options=csv.ConvertOptions(column_types={n: pa.string() for n in names}))
print(t.num_rows)
"""


@pytest.fixture(scope="module")
def pyarrow_baseline(lineitem_csv: Path):
    return best_of([measure([sys.executable, "-c", PYARROW_READ, str(lineitem_csv)]) for _ in range(3)])


@pytest.mark.benchmark(group="lineitem-csv")
def test_lineitem_csv_vs_pyarrow(once, benchmark, lineitem_csv, pyarrow_baseline, warm_kernels) -> None:
    runs = []
    once(lambda: runs.append(measure(executor_cmd(str(lineitem_csv)))))
    ours = best_of(runs)
    info = {
        "file_mib": round(lineitem_csv.stat().st_size / 2**20, 1),
        "executor_wall_s": round(ours.wall_s, 3),
        "executor_cpu_s": round(ours.cpu_s, 3),
        "executor_peak_rss_mib": round(ours.peak_rss_mib, 1),
        "executor_peak_pss_mib": round(ours.peak_pss_mib, 1),
        "pyarrow_wall_s": round(pyarrow_baseline.wall_s, 3),
        "pyarrow_peak_rss_mib": round(pyarrow_baseline.peak_rss_mib, 1),
        "ratio_to_pyarrow": round(ours.wall_s / pyarrow_baseline.wall_s, 3),
    }
    benchmark.extra_info.update(info)
    record("lineitem_csv", info)


@pytest.mark.benchmark(group="startup")
def test_data_samples_warm_run(once, benchmark, warm_kernels) -> None:
    runs = []
    once(lambda: runs.append(measure(executor_cmd(str(HERE.parent / "data_samples")))), rounds=5)
    best = best_of(runs)
    info = {"wall_s": round(best.wall_s, 3), "peak_rss_mib": round(best.peak_rss_mib, 1)}
    benchmark.extra_info.update(info)
    record("data_samples_warm", info)
