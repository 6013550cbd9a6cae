"""The console script loads pyarrow only when a run needs it (engine/_deferred.py): never for delimited
text the tokenizer takes, in the CLI's process or its workers; on first use otherwise, with jemalloc as
Arrow's pool (engine/_allocator.py) and the same catalog as an eager run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nuvyn_executor.engine import _deferred

from ..formats import write_parquet

ROOT = Path(__file__).resolve().parents[2]

# As the console script starts (cli.main.console), and noting every process that loads pyarrow.
_PROBE = """
import json, os, sys
from nuvyn_executor.engine import _deferred
assert _deferred.defer_pyarrow()
marker = sys.argv[1]
real_load = _deferred._load
def _noting_load():
    if _deferred.is_deferred():
        with open(marker, "a") as fh:
            fh.write(f"{os.getpid()}\\n")
    return real_load()
_deferred._load = _noting_load
from nuvyn_executor.cli.main import main
try:
    main(["-q", "metadata_extraction", *sys.argv[2:]])
except SystemExit as exc:
    code = exc.code
loaded = "pyarrow.lib" in sys.modules
pool = "multiprocessing" in sys.modules
_deferred._load = real_load  # what follows is the probe's own doing
import pyarrow as pa  # binds the stand-in; reading the pool through it loads pyarrow now if it was not
print(json.dumps({"code": code, "loaded": loaded, "pool": pa.default_memory_pool().backend_name,
                  "pid": os.getpid(), "openssl": "_hashlib" in sys.modules,
                  "multiprocessing": pool}), file=sys.stderr)
"""


def _probe(tmp_path: Path, *args: str) -> tuple[dict, dict, list[int]]:
    marker = tmp_path / "loads.txt"
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(marker), *args],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    loads = [int(x) for x in marker.read_text().split()] if marker.exists() else []
    return json.loads(proc.stdout), report, loads


def _rows(doc: dict) -> list[tuple]:
    return sorted(
        (c["column_name"], c["data_type"], c["null_count"], c["distinct_count"]) for c in doc["columns"]
    )


def _csv(write, rows: int = 40_000) -> Path:
    lines = "".join(f"{i},name {i % 97},{i * 0.25:.2f},2024-01-{i % 28 + 1:02d}\n" for i in range(rows))
    return write("plain.csv", "id,name,price,day\n" + lines)


def test_text_the_tokenizer_takes_never_loads_pyarrow(tmp_path, write) -> None:
    path = _csv(write)
    assert path.stat().st_size > 8 * 65536
    # inline, and split across two workers (small ranges): no process loads pyarrow
    for args in ((str(path), "--workers", "1"), (str(path), "--workers", "2", "--split-size", "65536")):
        doc, report, loads = _probe(tmp_path, *args)
        assert report["code"] == 0
        assert loads == []
        assert not report["loaded"]
        assert not report["openssl"]  # nor hashlib's OpenSSL (engine/_digest.py): ~2.5 ms more
        # multiprocessing (~7 ms with what it imports) only when workers start
        assert report["multiprocessing"] == (args[2] == "2")
        assert doc["tables"][0]["row_count"] == 40_000
    # loaded afterwards (here by the probe), Arrow's pool is still the executor's choice
    assert report["pool"] == "jemalloc"


def test_runs_that_need_pyarrow_load_it_once_and_profile_the_same(tmp_path, write, data_dir) -> None:
    _csv(write, rows=2_000)
    write("ragged.csv", "a,b\n1,2\n3\n4,5,6\n7,8\n")  # ragged records: pyarrow's parser reads them
    write_parquet(data_dir / "t.parquet")
    doc, report, loads = _probe(tmp_path, str(data_dir), "--workers", "1")
    assert report["code"] == 0
    assert report["loaded"]
    assert loads == [report["pid"]]  # once, in the CLI's process
    assert report["pool"] == "jemalloc"
    eager = subprocess.run(  # main() without the console script's deferral imports pyarrow up front
        [sys.executable, "-c", "import sys; from nuvyn_executor.cli.main import main; main(sys.argv[1:])",
         "-q", "metadata_extraction", str(data_dir), "--workers", "1"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert _rows(doc) == _rows(json.loads(eager.stdout))
    ragged = next(t for t in doc["tables"] if t["table_name"] == "ragged.csv")
    assert ragged["row_count"] == 4


def test_a_worker_that_needs_pyarrow_loads_it_itself(tmp_path, write) -> None:
    for i in range(4):  # ragged records, read by pyarrow's parser in the workers
        write(f"ragged{i}.csv", "a,b\n" + "1,2\n3\n4,5,6\n" * 2000)
    doc, report, loads = _probe(tmp_path, str(tmp_path / "data"), "--workers", "2")
    assert report["code"] == 0
    assert sorted(t["row_count"] for t in doc["tables"]) == [6000] * 4
    assert loads
    assert report["pid"] not in loads  # planning plain text needs no pyarrow: only the workers loaded it
    assert not report["loaded"]


def test_deferral_is_for_a_fresh_process_only() -> None:
    assert "pyarrow" in sys.modules  # this test process imported it (a library caller)
    assert not _deferred.defer_pyarrow()
    assert not _deferred.is_deferred()
    ran = []
    _deferred.when_loaded(lambda: ran.append(True))
    assert ran == [True]  # loaded already: the hook runs at once


@pytest.mark.parametrize("name", ["__version__", "RecordBatch"])
def test_the_stand_in_loads_on_any_attribute(tmp_path, name) -> None:
    code = (
        "import sys\n"
        "from nuvyn_executor.engine import _deferred\n"
        "assert _deferred.defer_pyarrow()\n"
        "import pyarrow as pa\n"
        "assert 'pyarrow.lib' not in sys.modules\n"
        f"getattr(pa, {name!r})\n"
        "assert not _deferred.is_deferred()\n"
        "import pyarrow\n"
        "assert pyarrow.RecordBatch is pa.RecordBatch\n"
        "import pyarrow.csv\n"
        "assert pa.csv is pyarrow.csv\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
