"""Writers of small fixture files in every format the executor reads, used by the format tests.

Every writer is the format's own library (pyarrow, fastavro, openpyxl, xlwt, deltalake), so the files are
what real tools produce.  Each returns the path it wrote.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

N = 50  # records of the "people" table


def people(n: int = N) -> pa.Table:
    """A table with one column of each common type, nulls in some, nested values in others."""
    ids = list(range(1, n + 1))
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "age": pa.array([20 + i % 50 if i % 7 else None for i in ids], pa.int32()),
            "name": pa.array([f"person {i}" for i in ids], pa.string()),
            "score": pa.array([i * 1.5 for i in ids], pa.float64()),
            "balance": pa.array([decimal.Decimal(i * 100 + 25) / 100 for i in ids], pa.decimal128(10, 2)),
            "born": pa.array([dt.date(1990, 1, 1) + dt.timedelta(days=i * 30) for i in ids], pa.date32()),
            "seen": pa.array(
                [dt.datetime(2024, 1, 1, 12, 0, 0) + dt.timedelta(hours=i) for i in ids],
                pa.timestamp("us", tz="UTC"),
            ),
            "active": pa.array([i % 2 == 0 for i in ids], pa.bool_()),
            "tags": pa.array([[f"t{i % 3}", "x"] if i % 5 else None for i in ids], pa.list_(pa.string())),
            "address": pa.array(
                [{"city": f"c{i % 4}", "zip": i * 10} for i in ids],
                pa.struct([("city", pa.string()), ("zip", pa.int32())]),
            ),
            "blob": pa.array([bytes([i % 256, 1]) for i in ids], pa.binary()),
        }
    )


#: What ``people()`` declares, in the contract's names.
PEOPLE_TYPES = {
    "id": "bigint",
    "age": "int",
    "name": "string",
    "score": "double",
    "balance": "decimal(10,2)",
    "born": "date",
    "seen": "timestamp",
    "active": "boolean",
    "tags": "array<string>",
    "address": "struct<city:string,zip:int>",
    "blob": "binary",
}
PEOPLE_NULLS = {"age": sum(1 for i in range(1, N + 1) if i % 7 == 0), "tags": N // 5}


def write_parquet(path: Path, table: pa.Table | None = None, **kw: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(people() if table is None else table, path, **kw)
    return path


def write_orc(path: Path) -> Path:
    from pyarrow import orc

    path.parent.mkdir(parents=True, exist_ok=True)
    # ORC has no unsigned/timezone-aware distinction worth testing here: the same table without nested types
    orc.write_table(people().drop_columns(["tags", "address"]), str(path))
    return path


def write_arrow(path: Path, stream: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = people()
    with pa.OSFile(str(path), "wb") as sink:
        writer = pa.ipc.new_stream(sink, table.schema) if stream else pa.ipc.new_file(sink, table.schema)
        with writer:
            for batch in table.to_batches(max_chunksize=20):
                writer.write_batch(batch)
    return path


AVRO_SCHEMA = {
    "type": "record",
    "name": "Order",
    "fields": [
        {"name": "order_id", "type": "long"},
        {"name": "qty", "type": "int"},
        {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
        {"name": "note", "type": ["null", "string"], "default": None},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "items", "type": {"type": "array", "items": "string"}},
        {"name": "ok", "type": "boolean"},
    ],
}
AVRO_TYPES = {
    "order_id": "bigint",
    "qty": "int",
    "price": "decimal(9,2)",
    "note": "string",
    "day": "date",
    "at": "timestamp",
    "items": "array<string>",
    "ok": "boolean",
}


def write_avro(path: Path, n: int = 40, codec: str = "deflate") -> Path:
    import fastavro

    path.parent.mkdir(parents=True, exist_ok=True)
    records = [
        {
            "order_id": 10_000_000_000 + i,
            "qty": i % 9,
            "price": decimal.Decimal(i) + decimal.Decimal("0.99"),
            "note": None if i % 4 == 0 else f"note {i}",
            "day": dt.date(2024, 3, 1) + dt.timedelta(days=i),
            "at": dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=i),
            "items": ["a", "b"][: i % 3],
            "ok": i % 3 == 0,
        }
        for i in range(n)
    ]
    with open(path, "wb") as fh:
        fastavro.writer(fh, fastavro.parse_schema(AVRO_SCHEMA), records, codec=codec)
    return path


def json_records(n: int = 30) -> list[dict[str, Any]]:
    """Records with optional keys, nested objects and arrays, dates held in strings."""
    out = []
    for i in range(n):
        r: dict[str, Any] = {
            "id": i,
            "user": {"name": f"u{i}", "langs": ["en", "fr"][: 1 + i % 2]},
            "when": f"2024-02-{1 + i % 28:02d}",
            "at": f"2024-02-01T10:{i % 60:02d}:00Z",
            "amount": i + 0.5,
            "code": f"{i:05d}",
        }
        if i % 3 == 0:
            r["coupon"] = f"C{i}"
        out.append(r)
    return out


def write_ndjson(path: Path, records: list[dict[str, Any]] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = json_records() if records is None else records
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_json_array(path: Path, records: list[dict[str, Any]] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = json_records() if records is None else records
    path.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return path


def write_xlsx(path: Path) -> Path:
    """Two sheets: ``Orders`` (header, 12 rows of ints, dates, text, floats) and ``Notes`` (3 rows)."""
    import openpyxl

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Orders"
    ws.append(["order", "day", "customer", "amount", "paid"])
    for i in range(12):
        ws.append([i + 1, dt.date(2024, 5, 1 + i), f"cust {i}", 10.5 * (i + 1), i % 2 == 0])
    notes = wb.create_sheet("Notes")
    notes.append(["note", "author"])
    for i in range(3):
        notes.append([f"note {i}", None if i == 1 else f"a{i}"])
    wb.save(path)
    return path


def write_xls(path: Path) -> Path:
    import xlwt

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlwt.Workbook()
    ws = wb.add_sheet("Legacy")
    for j, h in enumerate(["code", "qty"]):
        ws.write(0, j, h)
    for i in range(5):
        ws.write(i + 1, 0, f"K{i}")
        ws.write(i + 1, 1, i * 2)
    wb.save(str(path))
    return path


def write_spark_folder(folder: Path, files: int = 3, rows: int = 10, fmt: str = "parquet") -> Path:
    """A Spark-style output folder: part files, ``_SUCCESS``, ``.crc`` files."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        t = pa.table(
            {"k": pa.array(range(i * rows, (i + 1) * rows), pa.int64()), "v": [f"v{j}" for j in range(rows)]}
        )
        name = f"part-{i:05d}-abc.c000.snappy.{fmt}"
        if fmt == "parquet":
            pq.write_table(t, folder / name)
        else:
            _csv(folder / name, t)
        (folder / f".{name}.crc").write_bytes(b"crc")
    (folder / "_SUCCESS").write_bytes(b"")
    (folder / "_committed_123").write_text("{}")
    return folder


def _csv(path: Path, t: pa.Table) -> None:
    import pyarrow.csv as pacsv

    pacsv.write_csv(t, path)


def write_hive_folder(folder: Path) -> Path:
    """``year=/month=`` partitions written by pyarrow's dataset writer (Hive flavour)."""
    import pyarrow.dataset as ds

    rows = []
    for year in (2023, 2024):
        for month in ("01", "02", "11"):
            for i in range(4):
                rows.append({"year": year, "month": month, "amount": i * 1.25, "item": f"i{i}"})
    t = pa.Table.from_pylist(rows)
    ds.write_dataset(
        t,
        folder,
        format="parquet",
        partitioning=ds.partitioning(
            pa.schema([("year", pa.int64()), ("month", pa.string())]), flavor="hive"
        ),
    )
    return folder


def write_delta(folder: Path) -> Path:
    """A Delta table with three commits: two appends, then an overwrite of one partition's worth of data
    (so files removed from the snapshot are still on disk)."""
    import deltalake

    t1 = pa.table(
        {"id": pa.array([1, 2, 3], pa.int64()), "country": ["fr", "fr", "de"], "v": [1.0, 2.0, 3.0]}
    )
    t2 = pa.table({"id": pa.array([4, 5], pa.int64()), "country": ["de", "it"], "v": [4.0, None]})
    deltalake.write_deltalake(str(folder), t1, partition_by=["country"])
    deltalake.write_deltalake(str(folder), t2, mode="append", partition_by=["country"])
    t3 = pa.table(
        {
            "id": pa.array([10, 11, 12, 13], pa.int64()),
            "country": ["fr", "fr", "es", "es"],
            "v": [1.5, 2.5, 3.5, 4.5],
        }
    )
    deltalake.write_deltalake(str(folder), t3, mode="overwrite", partition_by=["country"])
    return folder
