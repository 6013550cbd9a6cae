"""The fused column kernel is compiled for two argument types only: int32 and int64 bounds.

Every compiled signature costs ~10 ms to load in every run (and ~10 s to compile on a cold cache), and
Numba makes a read-only array a type of its own, so views whose writable flags differ with the buffer's
origin would each add one.  ``kernels.buffers`` hands the kernel read-only views only; this holds it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.jit_only

_PROBE = """
import json, sys
from nuvyn_executor.engine.extract import extract_metadata
from nuvyn_executor.engine.settings import ExtractionSettings
from nuvyn_executor.engine.kernels import column
from nuvyn_executor.engine.kernels.warmup import warmup
warmup()
warm = [[str(t) for t in sig] for sig in column.update_column.signatures]
doc = extract_metadata(ExtractionSettings(path=sys.argv[1], workers=1)).to_dict()
print(json.dumps({"tables": len(doc["tables"]), "failed": [t["error"] for t in doc["tables"] if t["error"]],
                  "warm": warm, "signatures": [[str(t) for t in sig] for sig in column.update_column.signatures]}))
"""


def test_every_reader_shares_the_two_signatures_the_warm_up_loads(data_samples: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for f in data_samples.iterdir():
        if f.suffix in (".csv", ".gz"):
            (folder / f.name).write_bytes(f.read_bytes())
    table = pa.table({
        "i": pa.array([1, None, 3], pa.int64()), "s": pa.array(["a", None, "b"]),
        "big": pa.array([b"x", b"yy", None], pa.large_binary()), "d": pa.array([1.5, 2.5, None]),
    })  # fmt: skip
    pq.write_table(table, folder / "typed.parquet")
    (folder / "docs.jsonl").write_text('{"a": 1, "b": "2024-01-01"}\n{"a": null, "b": "x"}\n')
    (folder / "ragged.csv").write_text("a,b\n1,2\n3\n4,5,6\n")  # read through pyarrow: Arrow arrays
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(folder)], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["tables"] == len(list(folder.iterdir()))
    assert out["failed"] == []
    signatures = out["signatures"]
    # forked workers inherit what the warm-up loaded: a signature it missed would compile in each of them
    assert signatures == out["warm"]
    assert sorted(sig[0] for sig in signatures) == [
        "readonly array(int32, 1d, C)",
        "readonly array(int64, 1d, C)",
    ], signatures
    assert all(t.startswith("readonly array(") for sig in signatures for t in sig[:4]), signatures
