"""Every entry kernel is called with exactly the argument types it is compiled for (``build.SIGNATURES``).

An ahead-of-time function cannot compile a version for other types, and checks only the arrays' item
sizes: a caller passing another layout, dimension or writability would go unnoticed there.  The JIT does
notice (each new type combination is a new signature), so a mixed run under ``EXECUTOR_KERNELS=jit``
shows every type combination the engine really uses.  Numba also makes a read-only array a type of its
own; ``kernels.buffers`` hands the column kernel read-only views only, so it has two signatures (int32
and int64 bounds), which the JIT backend's warm-up loads before forking.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ..formats import write_arrow, write_avro, write_delta, write_json_array, write_orc, write_xlsx

pytestmark = pytest.mark.jit_only

_PROBE = """
import json, sys
from nuvyn_executor.engine.extract import extract_metadata
from nuvyn_executor.engine.settings import ExtractionSettings
from nuvyn_executor.engine.kernels import entry
from nuvyn_executor.engine.kernels.warmup import warmup
assert entry.BACKEND == sys.argv[2], entry.BACKEND
warmup()
def used():
    import importlib
    from nuvyn_executor.engine.kernels.build import SIGNATURES
    out = {}
    for name, (module, function, _) in SIGNATURES.items():
        disp = getattr(importlib.import_module("nuvyn_executor.engine.kernels." + module), function)
        out[module + "." + function] = sorted(repr(tuple(sig)) for sig in disp.signatures)
    return out
warm = used() if entry.BACKEND == "jit" else {}
doc = extract_metadata(ExtractionSettings(path=sys.argv[1], workers=1)).to_dict()
print(json.dumps({
    "tables": len(doc["tables"]), "failed": [t["error"] for t in doc["tables"] if t["error"]],
    "warm": warm, "used": used() if entry.BACKEND == "jit" else {},
    "columns": sorted(json.dumps({k: v for k, v in c.items() if k != "source_id"}, sort_keys=True)
                      for c in doc["columns"]),
    "numba_imported": "numba" in sys.modules or "llvmlite" in sys.modules,
}))
"""


def _mixed_folder(data_samples: Path, tmp_path: Path) -> Path:
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
    # every other reader, with the nested, decimal, temporal and dictionary columns of the fixtures
    write_orc(folder / "people.orc")
    write_arrow(folder / "people.arrow")
    write_avro(folder / "events.avro")
    write_json_array(folder / "records.json")
    write_xlsx(folder / "book.xlsx")
    write_delta(folder / "delta_table")
    return folder


def _probe(folder: Path, backend: str) -> dict:
    env = {**os.environ, "EXECUTOR_KERNELS": "auto" if backend == "compiled" else backend}
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(folder), backend],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["tables"] >= len(list(folder.iterdir()))  # a workbook is a table per sheet
    assert out["failed"] == []
    return out


@pytest.fixture(scope="module")
def mixed(data_samples: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _mixed_folder(data_samples, tmp_path_factory.mktemp("signatures"))


def test_a_mixed_run_uses_exactly_the_compiled_signatures(mixed: Path) -> None:
    from nuvyn_executor.engine.kernels.build import SIGNATURES

    out = _probe(mixed, "jit")
    declared: dict[str, list[str]] = {}
    for module, function, signature in SIGNATURES.values():
        declared.setdefault(f"{module}.{function}", []).append(repr(tuple(signature.args)))
    assert out["used"] == {name: sorted(sigs) for name, sigs in declared.items()}
    # forked workers inherit what the warm-up loaded: a signature it missed would compile in each of them
    assert out["used"] == out["warm"]
    column = out["used"]["column.update_column"]
    assert [sig.split(",")[0] for sig in column] == ["(Array(int32", "(Array(int64"], column


def test_the_compiled_kernels_give_the_jit_catalog_without_importing_numba(mixed: Path) -> None:
    compiled = _probe(mixed, "compiled")
    jit = _probe(mixed, "jit")
    assert not compiled["numba_imported"]
    assert jit["numba_imported"]
    assert compiled["columns"] == jit["columns"]
