"""Every format, through the real CLI: a folder mixing them as a new user would point the executor at."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests import formats as F


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("mixed")
    F.write_parquet(d / "people.parquet")
    F.write_parquet(d / "people_nostats.parquet", write_statistics=False)
    F.write_orc(d / "people.orc")
    F.write_arrow(d / "people.arrow")
    F.write_arrow(d / "people_stream.arrows", stream=True)
    F.write_avro(d / "orders.avro")
    F.write_ndjson(d / "events.jsonl")
    F.write_json_array(d / "events_array.json")
    F.write_xlsx(d / "book.xlsx")
    F.write_xls(d / "legacy.xls")
    F.write_spark_folder(d / "spark_out")
    F.write_hive_folder(d / "sales")
    F.write_delta(d / "delta_tbl")
    shutil.copy(d / "people.parquet", d / "no_extension")
    shutil.copy(d / "people.parquet", d / "misnamed.csv")
    (d / "plain.csv").write_text("a,b\n1,x\n2,y\n")
    return d


@pytest.fixture(scope="module")
def result(mixed: Path):
    from click.testing import CliRunner

    from nuvyn_executor.cli.main import cli as group
    from tests.conftest import CliResult

    out = CliRunner().invoke(
        group, ["metadata_extraction", str(mixed), "--workers", "1"], catch_exceptions=False
    )
    code = out.return_value if isinstance(out.return_value, int) else out.exit_code
    return CliResult(code, out.stdout, out.stderr)


def test_the_whole_folder_is_profiled_one_row_per_table(result) -> None:
    assert result.exit_code == 0, result.stderr
    names = sorted(t["table_name"] for t in result.json["tables"])
    assert names == sorted(
        [
            "people.parquet", "people_nostats.parquet", "people.orc", "people.arrow", "people_stream.arrows",
            "orders.avro", "events.jsonl", "events_array.json", "book.xlsx#Orders", "book.xlsx#Notes",
            "legacy.xls#Legacy", "spark_out", "sales", "delta_tbl", "no_extension", "misnamed.csv", "plain.csv",
        ]
    )  # fmt: skip
    assert all(t["error"] is None for t in result.json["tables"])
    src = result.json["sources"][0]
    assert src["status"] == "complete"
    # 13 single files (a workbook is one file), 3 Spark part files, 6 Hive files, 2 live Delta files
    assert src["files_found"] == 13 + 3 + 6 + 2


@pytest.mark.parametrize(
    ("table", "file_type", "compression"),
    [
        ("people.parquet", "parquet", "snappy"),
        ("people.orc", "orc", None),
        ("people.arrow", "arrow", None),
        ("orders.avro", "avro", "deflate"),
        ("events.jsonl", "json", None),
        ("no_extension", "parquet", "snappy"),
        ("misnamed.csv", "parquet", "snappy"),
    ],
)
def test_format_and_codec_come_from_the_content(result, table: str, file_type: str, compression) -> None:
    t = result.table(table)
    assert (t["file_type"], t["compression"]) == (file_type, compression)


@pytest.mark.parametrize(
    "table",
    ["people.parquet", "people_nostats.parquet", "people.arrow", "people_stream.arrows", "no_extension"],
)
def test_declared_types_map_exactly(result, table: str) -> None:
    t = result.table(table)
    assert (t["row_count"], t["column_count"]) == (F.N, len(F.PEOPLE_TYPES))
    cols = result.columns(table)
    assert {n: c["data_type"] for n, c in cols.items()} == F.PEOPLE_TYPES
    assert [c["column_name"] for c in sorted(cols.values(), key=lambda c: c["position"])] == list(
        F.PEOPLE_TYPES
    )
    for name, nulls in F.PEOPLE_NULLS.items():
        assert cols[name]["null_count"] == nulls
    assert cols["id"]["distinct_count"] == F.N
    assert (cols["id"]["min_value"], cols["id"]["max_value"]) == ("1", str(F.N))
    assert (cols["balance"]["min_value"], cols["balance"]["max_value"]) == ("1.25", "50.25")
    assert cols["born"]["min_value"] == "1990-01-31"
    assert cols["seen"]["max_value"] == "2024-01-03 14:00:00"
    assert (cols["active"]["min_value"], cols["active"]["max_value"]) == ("false", "true")
    assert cols["blob"]["min_value"] == "0101"
    assert len(json.loads(cols["name"]["sample_values"])) == 5
    # pyarrow writes every field as nullable: typed formats report the declared nullability
    assert all(c["is_nullable"] for c in cols.values())


def test_orc_types(result) -> None:
    cols = result.columns("people.orc")
    expected = {k: v for k, v in F.PEOPLE_TYPES.items() if k not in ("tags", "address")}
    assert {n: c["data_type"] for n, c in cols.items()} == expected
    assert cols["age"]["null_count"] == F.PEOPLE_NULLS["age"]


def test_avro_types_and_nullability(result) -> None:
    t = result.table("orders.avro")
    assert (t["row_count"], t["column_count"]) == (40, 8)
    cols = result.columns("orders.avro")
    assert {n: c["data_type"] for n, c in cols.items()} == F.AVRO_TYPES
    assert cols["note"]["is_nullable"] is True
    assert cols["order_id"]["is_nullable"] is False
    assert cols["note"]["null_count"] == 10
    assert (cols["price"]["min_value"], cols["price"]["max_value"]) == ("0.99", "39.99")


@pytest.mark.parametrize("table", ["events.jsonl", "events_array.json"])
def test_json_kinds_are_refined_like_csv_text(result, table: str) -> None:
    t = result.table(table)
    assert (t["row_count"], t["column_count"]) == (30, 7)
    cols = result.columns(table)
    assert {n: c["data_type"] for n, c in cols.items()} == {
        "id": "int",
        "user": "struct<name:string,langs:array<string>>",
        "when": "date",
        "at": "timestamp",
        "amount": "double",
        "code": "string",  # quoted digits with leading zeros stay text
        "coupon": "string",
    }
    assert cols["coupon"]["is_nullable"] is True
    assert cols["coupon"]["null_count"] == 20
    assert cols["id"]["is_nullable"] is False
    assert (cols["when"]["min_value"], cols["when"]["max_value"]) == ("2024-02-01", "2024-02-28")


def test_excel_one_table_per_sheet_typed_like_csv(result) -> None:
    orders = result.table("book.xlsx#Orders")
    assert (orders["row_count"], orders["column_count"], orders["file_path"]) == (12, 5, "book.xlsx")
    cols = result.columns("book.xlsx#Orders")
    assert {n: c["data_type"] for n, c in cols.items()} == {
        "order": "int", "day": "date", "customer": "string", "amount": "double", "paid": "boolean",
    }  # fmt: skip
    notes = result.columns("book.xlsx#Notes")
    assert result.table("book.xlsx#Notes")["row_count"] == 3
    assert notes["author"]["null_count"] == 1
    assert notes["author"]["is_nullable"] is True
    legacy = result.columns("legacy.xls#Legacy")
    assert {n: c["data_type"] for n, c in legacy.items()} == {"code": "string", "qty": "int"}


def test_spark_folder_is_one_table(result) -> None:
    t = result.table("spark_out")
    assert (t["row_count"], t["column_count"], t["file_count"], t["file_type"]) == (30, 2, 3, "parquet")
    assert t["file_path"] == "spark_out"
    assert t["size_bytes"] == sum(p.stat().st_size for p in Path(result_dir(result)).glob("spark_out/part-*"))
    cols = result.columns("spark_out")
    assert cols["k"]["distinct_count"] == 30
    assert (cols["k"]["min_value"], cols["k"]["max_value"]) == (
        "0",
        "29",
    )


def result_dir(result) -> str:
    return result.json["sources"][0]["source_path"]


def test_hive_partitions_are_columns(result) -> None:
    t = result.table("sales")
    assert (t["row_count"], t["column_count"], t["file_count"]) == (24, 4, 6)
    assert json.loads(t["partition_columns"]) == ["year", "month"]
    cols = result.columns("sales")
    assert [c["column_name"] for c in sorted(cols.values(), key=lambda c: c["position"])] == [
        "amount", "item", "year", "month",
    ]  # fmt: skip
    assert cols["year"]["data_type"] == "int"
    assert cols["year"]["distinct_count"] == 2
    assert cols["month"]["data_type"] == "string"  # "01" is an identifier, as in CSV
    assert json.loads(cols["month"]["sample_values"])
    assert cols["month"]["distinct_count"] == 3


def test_delta_snapshot_only(result) -> None:
    t = result.table("delta_tbl")
    # the overwrite left 4 live records in 2 files; 5 older records are still on disk, not in the table
    assert (t["row_count"], t["column_count"], t["file_count"], t["file_type"]) == (4, 3, 2, "delta")
    assert json.loads(t["partition_columns"]) == ["country"]
    cols = result.columns("delta_tbl")
    assert {n: c["data_type"] for n, c in cols.items()} == {
        "id": "bigint",
        "country": "string",
        "v": "double",
    }
    assert (cols["id"]["min_value"], cols["id"]["max_value"]) == ("10", "13")
    assert sorted(json.loads(cols["country"]["sample_values"])) == ["es", "fr"]


def test_no_group_tables_gives_a_table_per_file(mixed: Path, cli) -> None:
    r = cli("metadata_extraction", str(mixed / "spark_out"), "--workers", "1", "--no-group-tables")
    assert r.exit_code == 0
    assert len(r.json["tables"]) == 3
    assert all(t["file_count"] == 1 for t in r.json["tables"])


def test_the_folder_itself_as_the_source(mixed: Path, cli) -> None:
    r = cli("metadata_extraction", str(mixed / "sales"), "--workers", "1")
    (t,) = r.json["tables"]
    assert (t["table_name"], t["file_path"], t["row_count"], t["file_count"]) == ("sales", "sales", 24, 6)


def test_metadata_only_reads_footers(mixed: Path, cli) -> None:
    r = cli("metadata_extraction", str(mixed), "parquet", "--workers", "1", "--metadata-only")
    assert r.exit_code == 0
    cols = r.columns("people.parquet")
    assert r.table("people.parquet")["row_count"] == F.N
    assert cols["age"]["null_count"] == F.PEOPLE_NULLS["age"]
    assert (cols["id"]["min_value"], cols["id"]["max_value"]) == ("1", str(F.N))
    assert cols["id"]["distinct_count"] is None
    assert cols["id"]["sample_values"] == "[]"
    # without statistics the footer says nothing about nulls
    assert r.columns("people_nostats.parquet")["age"]["null_count"] is None
    assert r.table("sales")["row_count"] == 24


def test_the_real_console_script(mixed: Path, cli_process) -> None:
    r = cli_process("metadata_extraction", str(mixed / "delta_tbl"), "--workers", "2")
    assert r.exit_code == 0, r.stderr
    (t,) = r.json["tables"]
    assert (t["table_name"], t["row_count"]) == ("delta_tbl", 4)
