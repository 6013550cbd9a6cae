"""Memory stays bounded on a multi-GB Parquet file: the CLI's peak RSS, measured with psutil."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

GB = float(os.environ.get("NUVYN_BIG_PARQUET_GB", "2"))
PEAK_LIMIT = 1 << 30  # 1 GiB, for a file of several GiB


def _write_big(path: Path, target_bytes: int) -> int:
    """Incompressible strings and numbers, written batch by batch (the writer's memory stays small)."""
    rng = np.random.default_rng(0)
    rows_per_batch = 200_000
    schema = pa.schema([("id", pa.int64()), ("x", pa.float64()), ("payload", pa.binary())])
    rows = 0
    with pq.ParquetWriter(path, schema, compression="none") as writer:
        while path.stat().st_size < target_bytes if path.exists() else True:
            payload = rng.integers(0, 256, size=rows_per_batch * 48, dtype=np.uint8).tobytes()
            offsets = np.arange(0, (rows_per_batch + 1) * 48, 48, dtype=np.int32)
            binary = pa.Array.from_buffers(
                pa.binary(), rows_per_batch, [None, pa.py_buffer(offsets), pa.py_buffer(payload)]
            )
            batch = pa.record_batch(
                [
                    pa.array(np.arange(rows, rows + rows_per_batch)),
                    pa.array(rng.random(rows_per_batch)),
                    binary,
                ],
                schema=schema,
            )
            writer.write_batch(batch, row_group_size=1_000_000)
            rows += rows_per_batch
    return rows


@pytest.mark.slow
def test_peak_rss_is_bounded_on_a_multi_gb_parquet_file(tmp_path: Path) -> None:
    psutil = pytest.importorskip("psutil")
    path = tmp_path / "big.parquet"
    rows = _write_big(path, int(GB * (1 << 30)))
    size = path.stat().st_size
    proc = subprocess.Popen(
        [sys.executable, "-m", "nuvyn_executor.cli.main", "metadata_extraction", str(path), "--workers", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    peak = 0
    p = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            peak = max(peak, p.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    import json

    (table,) = json.loads(out)["tables"]
    assert table["row_count"] == rows
    print(f"file {size / (1 << 30):.2f} GiB, {rows} rows, peak RSS {peak / (1 << 20):.0f} MiB")
    assert size > (1 << 30)
    assert peak < PEAK_LIMIT, f"peak RSS {peak / (1 << 20):.0f} MiB on a {size / (1 << 30):.2f} GiB file"
