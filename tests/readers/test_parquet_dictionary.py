"""Parquet string columns with a small dictionary are read as dictionary arrays and profiled through the
values their indices use (``readers.parquet.dictionary_columns``, ``profile.typed.used_dictionary_values``):
the catalog is the one the decoded columns give, and a chunk whose dictionary outgrew the writer's limit
(plain fallback pages) is decoded as before."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nuvyn_executor.engine.discovery.base import FileRef
from nuvyn_executor.engine.readers import parquet as P
from nuvyn_executor.engine.readers.base import ReadOptions

ROWS = 30_000


def _write(path: Path) -> None:
    rng = random.Random(7)
    flags = [None if i % 11 == 0 else rng.choice(["A", "N", "R"]) for i in range(ROWS)]
    modes = [rng.choice(["AIR", "MAIL", "SHIP", "TRUCK", "RAIL", "FOB", "REG AIR"]) for _ in range(ROWS)]
    # ~25 random characters a row, all distinct: the dictionary outgrows 1 MiB and the writer falls back
    comments = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz ", k=25)) + str(i) for i in range(ROWS)]
    table = pa.table(
        {
            "id": pa.array(range(ROWS), pa.int64()),
            "flag": pa.array(flags, pa.string()),
            "mode": pa.array(modes, pa.large_string()),
            "comment": pa.array(comments, pa.string()),
            "tag": pa.array([str(i % 50).encode() for i in range(ROWS)], pa.binary()),
        }
    )
    pq.write_table(table, path, row_group_size=ROWS // 3, use_dictionary=True, compression="snappy")


def _catalog(cli, path: Path, *args: str) -> dict:
    result = cli("-q", "metadata_extraction", str(path), *args)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    volatile = {"source_id", "extraction_timestamp", "duration_ms", "last_modified"}
    return {
        part: [{k: v for k, v in row.items() if k not in volatile} for row in doc[part]]
        for part in ("tables", "columns")
    }


def test_small_dictionaries_are_chosen_and_a_fallen_back_column_is_not(data_dir) -> None:
    path = data_dir / "t.parquet"
    _write(path)
    pf = pq.ParquetFile(path)
    meta = pf.metadata
    assert meta.num_row_groups == 3
    chosen = P.dictionary_columns(meta, pf.schema_arrow, range(3))
    assert chosen == ["flag", "mode", "tag"]  # not the numbers, not the comments
    assert P.dictionary_columns(meta, pf.schema_arrow, []) == []
    ref = FileRef(url=str(path), rel_path=path.name, size=path.stat().st_size, format="parquet")
    stream = P.open_parquet_row_groups(ref, ReadOptions(block_size=1 << 20), 1, 3)
    batch = next(iter(stream.batches))
    types = dict(zip(batch.schema.names, batch.schema.types))
    assert pa.types.is_dictionary(types["flag"])
    assert not pa.types.is_dictionary(types["comment"])
    assert stream.declared["flag"] == ("string", True)
    assert stream.declared["tag"] == ("binary", True)
    stream.close()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_catalog_is_the_one_the_decoded_columns_give(cli, data_dir, monkeypatch, workers) -> None:
    path = data_dir / "t.parquet"
    _write(path)
    fast = _catalog(cli, path, "--workers", workers)
    monkeypatch.setattr(P, "SMALL_DICTIONARY", 0)  # nothing read as a dictionary
    decoded = _catalog(cli, path, "--workers", workers)
    monkeypatch.setattr(P, "SMALL_DICTIONARY", 1 << 30)  # every string column, the fallen-back one too
    everything = _catalog(cli, path, "--workers", workers)
    assert fast == decoded == everything
    flag = next(c for c in fast["columns"] if c["column_name"] == "flag")
    assert flag["null_count"] == len(range(0, ROWS, 11))
    assert flag["distinct_count"] == 3
