"""Edge cases of the format readers and of tables made of many files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nuvyn_executor.engine import ExtractionSettings, extract_metadata
from tests import formats as F


def run(path: Path, **kw) -> dict:
    return extract_metadata(ExtractionSettings(path=str(path), workers=kw.pop("workers", 1), **kw)).to_dict()


def table(doc: dict, name: str) -> dict:
    (t,) = [t for t in doc["tables"] if t["table_name"] == name]
    return t


def columns(doc: dict, name: str) -> dict[str, dict]:
    return {c["column_name"]: c for c in doc["columns"] if c["table_name"] == name}


def test_spark_files_whose_schemas_differ_are_reconciled(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    pq.write_table(pa.table({"k": pa.array([1, 2], pa.int32()), "v": ["a", "b"]}), out / "part-0.parquet")
    pq.write_table(pa.table({"k": pa.array([3, 4**20], pa.int64()), "v": ["c", "d"]}), out / "part-1.parquet")
    pq.write_table(pa.table({"k": pa.array([5], pa.int32()), "extra": [1.5]}), out / "part-2.parquet")
    doc = run(tmp_path)
    t = table(doc, "out")
    assert (t["row_count"], t["column_count"], t["file_count"]) == (5, 3, 3)
    cols = columns(doc, "out")
    assert cols["k"]["data_type"] == "bigint"
    assert cols["k"]["max_value"] == str(4**20)
    assert cols["v"]["null_count"] == 1
    assert cols["v"]["is_nullable"] is True
    assert cols["extra"]["null_count"] == 4
    warnings = json.loads(t["warnings"])
    assert any(
        "`k` is bigint in 1 file(s) (e.g. `out/part-1.parquet`), int in 2 file(s)" in w for w in warnings
    ), warnings
    assert any("`extra` is missing from 2 of 3 files" in w for w in warnings)
    assert any("`v` is missing from 1 of 3 files (e.g. `out/part-2.parquet`)" in w for w in warnings)


def test_a_bad_file_in_a_table_is_named_and_the_rest_profiled(tmp_path: Path) -> None:
    out = tmp_path / "out"
    F.write_spark_folder(out, files=2)
    (out / "part-00009-bad.c000.snappy.parquet").write_bytes(b"PAR1 this is not parquet at all PAR1")
    doc = run(tmp_path)
    t = table(doc, "out")
    assert t["row_count"] == 20
    assert t["file_count"] == 3
    assert t["error"] is None
    assert any("part-00009-bad" in w and "Parquet" in w for w in json.loads(t["warnings"]))
    assert doc["sources"][0]["files_failed"] == 1
    assert doc["sources"][0]["status"] == "partial"


def test_large_parquet_split_in_row_groups_equals_whole(tmp_path: Path) -> None:
    n = 40_000
    t = pa.table({"i": pa.array(range(n), pa.int64()), "s": [f"v{i % 777}" for i in range(n)],
                  "d": pa.array([i / 7 for i in range(n)])})  # fmt: skip
    pq.write_table(t, tmp_path / "big.parquet", row_group_size=3000, compression="none")
    size = (tmp_path / "big.parquet").stat().st_size
    whole = run(tmp_path / "big.parquet", workers=1)
    split = run(tmp_path / "big.parquet", workers=2, split_size=max(1 << 16, size // 5), block_size=1 << 16)
    assert whole["tables"][0]["row_count"] == split["tables"][0]["row_count"] == n
    assert split["tables"][0]["file_count"] == 1
    assert split["tables"][0]["size_bytes"] == size
    strip = [{k: v for k, v in c.items() if k != "source_id"} for c in whole["columns"]]
    assert strip == [{k: v for k, v in c.items() if k != "source_id"} for c in split["columns"]]


def test_delta_checkpoint_and_column_mapping(tmp_path: Path) -> None:
    import deltalake

    folder = F.write_delta(tmp_path / "d")
    deltalake.DeltaTable(str(folder)).create_checkpoint()
    more = pa.table({"id": pa.array([20], pa.int64()), "country": ["fr"], "v": [9.0]})
    deltalake.write_deltalake(str(folder), more, mode="append", partition_by=["country"])
    doc = run(folder)
    t = table(doc, "d")
    assert (t["row_count"], t["file_count"]) == (5, 3)
    assert columns(doc, "d")["id"]["max_value"] == "20"


def test_delta_log_without_commits_is_a_clear_error(tmp_path: Path) -> None:
    folder = F.write_delta(tmp_path / "d")
    (folder / "_delta_log" / "00000000000000000001.json").unlink()
    doc = run(folder)
    t = table(doc, "d")
    assert t["error"] is not None
    assert "00000000000000000001.json is missing" in t["error"]


def test_json_edge_cases(tmp_path: Path) -> None:
    (tmp_path / "one.json").write_text('{"a": 1, "b": {"c": [1, 2]}}')
    (tmp_path / "mixed.jsonl").write_text('{"x": 1}\n{"x": "two"}\n{"x": null}\n')
    (tmp_path / "bad.jsonl").write_text('{"x": 1}\n{"x": \n')
    (tmp_path / "empty.json").write_text("")
    (tmp_path / "big.jsonl.gz").write_bytes(gzip.compress(b"".join(b'{"n": %d}\n' % i for i in range(5000))))
    doc = run(tmp_path)
    assert table(doc, "one.json")["row_count"] == 1
    assert columns(doc, "one.json")["b"]["data_type"] == "struct<c:array<bigint>>"
    assert columns(doc, "mixed.jsonl")["x"]["data_type"] == "string"
    assert "invalid JSON at line 2" in table(doc, "bad.jsonl")["error"]
    assert table(doc, "empty.json")["row_count"] == 0
    assert table(doc, "empty.json")["error"] is None
    big = table(doc, "big.jsonl.gz")
    assert (big["row_count"], big["compression"], big["file_type"]) == (5000, "gzip", "json")
    assert columns(doc, "big.jsonl.gz")["n"]["data_type"] == "int"


def test_bad_binary_files_are_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "trunc.parquet").write_bytes(b"PAR1" + b"\x00" * 100)
    (tmp_path / "trunc.avro").write_bytes(b"Obj\x01garbage")
    (tmp_path / "bad.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    (tmp_path / "gz.parquet.gz").write_bytes(gzip.compress((tmp_path / "trunc.parquet").read_bytes()))
    doc = run(tmp_path)
    assert "Parquet" in table(doc, "trunc.parquet")["error"]
    assert "Avro" in table(doc, "trunc.avro")["error"]
    assert "Excel" in table(doc, "bad.xlsx")["error"]
    assert "decompress it first" in table(doc, "gz.parquet.gz")["error"]
    assert doc["sources"][0]["status"] == "failed"


def test_missing_optional_package_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    F.write_avro(tmp_path / "o.avro")
    monkeypatch.setitem(sys.modules, "fastavro", None)  # import fastavro now raises ImportError
    doc = run(tmp_path)
    assert "pip install 'nuvyn-executor[avro]'" in table(doc, "o.avro")["error"]


def test_text_that_starts_like_a_binary_format_stays_text(tmp_path: Path) -> None:
    (tmp_path / "orcid.csv").write_text("ORCID,name\n0000-0001,Ann\n0000-0002,Bo\n")
    doc = run(tmp_path)
    t = table(doc, "orcid.csv")
    assert (t["file_type"], t["row_count"]) == ("csv", 2)


def test_dates_and_timestamps_outside_python_years_render_in_iso_expanded_form(tmp_path: Path) -> None:
    """Arrow dates span millions of years and Python's 1-9999: such values (sentinels such as year 0, or
    garbage) are rendered, as ISO 8601's expanded years, instead of failing the file."""
    days = [-719_528, -719_162, 0, 2_932_897, None]  # 0000-01-01, 0001-01-01, the epoch, 10000-01-01
    seconds = [(-719_528 + 335) * 86_400, 0, 2_932_897 * 86_400]  # 0000-12-01, the epoch, 10000-01-01
    pq.write_table(
        pa.table({"d": pa.array(days, pa.date32()), "t": pa.array([*seconds, None, 1], pa.timestamp("s"))}),
        tmp_path / "far.parquet",
    )
    doc = extract_metadata(ExtractionSettings(path=str(tmp_path), workers=1)).to_dict()
    assert doc["tables"][0]["error"] is None
    cols = columns(doc, "far.parquet")
    assert (cols["d"]["min_value"], cols["d"]["max_value"]) == ("0000-01-01", "+10000-01-01")
    assert set(json.loads(cols["d"]["sample_values"])) == {
        "0000-01-01",
        "0001-01-01",
        "1970-01-01",
        "+10000-01-01",
    }
    assert (cols["t"]["min_value"], cols["t"]["max_value"]) == (
        "0000-12-01 00:00:00",
        "+10000-01-01 00:00:00",
    )
    assert cols["d"]["data_type"] == "date"
    assert cols["d"]["null_count"] == 1


def test_every_typed_column_a_writer_may_produce_is_profiled(tmp_path: Path) -> None:
    """Types pyarrow has no min_max for (durations, half floats), casts it refuses (a date64 that is not whole days),
    values Python cannot hold (nanosecond times): each column is profiled, none fails the file."""
    import decimal

    import pyarrow.feather as feather

    written = pa.table({
        "d64": pa.array([86_400_001, None, -1], pa.date64()),  # not whole days: their days
        "dur": pa.array([1, 2, None], pa.duration("ms")),
        "t64": pa.array([1, 86_399_999_999_999, None], pa.time64("ns")),
        "t32": pa.array([0, 86_399, None], pa.time32("s")),
        "dec": pa.array([decimal.Decimal("1.5"), None, decimal.Decimal("-" + "9" * 29 + ".9")], pa.decimal256(40, 1)),
        "f16": pa.array([1.5, None, -2.0], pa.float16()),  # no min_max of halves either
        "nul": pa.array([None, None, None], pa.null()),
    })  # fmt: skip
    feather.write_feather(written, tmp_path / "types.arrow")
    pq.write_table(written.drop(["nul"]), tmp_path / "types.parquet")
    doc = run(tmp_path)
    for name in ("types.arrow", "types.parquet"):
        assert table(doc, name)["error"] is None
        cols = columns(doc, name)
        assert (cols["dur"]["min_value"], cols["dur"]["max_value"]) == ("0:00:00.001000", "0:00:00.002000")
        assert set(json.loads(cols["t32"]["sample_values"])) == {"00:00:00", "23:59:59"}
        assert cols["dec"]["min_value"] == "-" + "9" * 29 + ".9"
        assert (cols["f16"]["min_value"], cols["f16"]["max_value"]) == ("-2.0", "1.5")
    arrow = columns(doc, "types.arrow")  # (Parquet keeps dates in days, times to the microsecond)
    assert (arrow["d64"]["min_value"], arrow["d64"]["max_value"]) == ("1969-12-31", "1970-01-02")
    assert set(json.loads(arrow["t64"]["sample_values"])) == {"00:00:00.000000001", "23:59:59.999999999"}
    assert arrow["nul"]["null_count"] == 3


def test_avro_uuids_are_read_as_their_text(tmp_path: Path) -> None:
    """fastavro hands a ``uuid`` logical value over as a ``uuid.UUID``: at the top level, in a union and
    inside a record, the column holds its text (the file failed with "Expected bytes, got a 'UUID'")."""
    import uuid

    import fastavro

    uid = {"type": "string", "logicalType": "uuid"}
    schema = {"type": "record", "name": "r", "fields": [
        {"name": "id", "type": uid},
        {"name": "maybe", "type": ["null", uid]},
        {"name": "inner", "type": {"type": "record", "name": "i", "fields": [{"name": "ref", "type": uid}]}},
    ]}  # fmt: skip
    ids = [uuid.UUID(int=i) for i in range(3)]
    records = [{"id": u, "maybe": None if i == 1 else u, "inner": {"ref": u}} for i, u in enumerate(ids)]
    with open(tmp_path / "ids.avro", "wb") as fh:
        fastavro.writer(fh, fastavro.parse_schema(schema), records)
    doc = run(tmp_path)
    assert table(doc, "ids.avro")["error"] is None
    cols = columns(doc, "ids.avro")
    assert (cols["id"]["data_type"], cols["id"]["min_value"]) == ("string", str(ids[0]))
    assert cols["maybe"]["null_count"] == 1
    assert json.loads(cols["inner"]["sample_values"])[0].startswith(
        '{"ref":"00000000-0000-0000-0000-00000000000'
    )


def test_nested_values_are_json_and_an_empty_map_is_an_object(tmp_path: Path) -> None:
    m = pa.map_(pa.string(), pa.int64())
    pq.write_table(pa.table({
        "m": pa.array([[("k", 1)], None, []], m),
        "s": pa.array([{"inner": []}, {"inner": [("x", 2)]}, None], pa.struct([("inner", m)])),
        "l": pa.array([[[]], [], None], pa.list_(m)),
    }), tmp_path / "nested.parquet")  # fmt: skip
    cols = columns(run(tmp_path), "nested.parquet")
    assert set(json.loads(cols["m"]["sample_values"])) == {'{"k":1}', "{}"}
    assert set(json.loads(cols["s"]["sample_values"])) == {'{"inner":{}}', '{"inner":{"x":2}}'}
    assert set(json.loads(cols["l"]["sample_values"])) == {"[{}]", "[]"}
    assert cols["m"]["data_type"] == "map<string,bigint>"
