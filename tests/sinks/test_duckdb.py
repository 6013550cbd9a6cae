"""The embedded DuckDB store: schema, evolution, one transaction per run, and the seed's queries."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from nuvyn_executor.engine.catalog import SCHEMAS

from ..seed import SEED_QUERIES


@pytest.fixture
def amazon(write, data_dir: Path) -> Path:
    write(
        "amazon-sales/amazon.csv",
        "product_id,product_name,rating\nB07JW9H4J1,Cable,4.2\nB098NS6PVG,Charger,\n",
    )
    write("other/readme.csv", "a\n1\n")
    return data_dir


def _db(cli, amazon: Path, db: Path, *extra: str):
    return cli("metadata_extraction", str(amazon / "amazon-sales"), "csv", "client-123", "--write-to-db",
               "--db", f"duckdb://{db}", *extra)  # fmt: skip


def test_write_creates_the_contract_tables(cli, amazon, duckdb_path) -> None:
    r = _db(cli, amazon, duckdb_path)
    assert r.exit_code == 0, r.stderr
    con = duckdb.connect(str(duckdb_path))
    for table, schema in SCHEMAS.items():
        cols = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = '_executor_metadata' AND table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
        assert [c for c, _ in cols] == [n for n, _ in schema]
    # the seed's columns first, in the seed's order
    assert [n for n, _ in SCHEMAS["columns"]][:7] == [
        "source_id", "table_name", "column_name", "data_type", "position", "is_nullable", "sample_values"]  # fmt: skip
    src = con.execute(
        "SELECT source_type, tenant_id, files_found, status FROM _executor_metadata.sources"
    ).fetchall()
    assert src == [("csv", "client-123", 1, "complete")]


def test_rows_in_the_database_equal_the_json(cli, amazon, duckdb_path) -> None:
    r = _db(cli, amazon, duckdb_path)
    con = duckdb.connect(str(duckdb_path))
    for table, schema in SCHEMAS.items():
        names = [n for n, _ in schema]
        rows = con.execute(
            f"SELECT {', '.join(names)} FROM _executor_metadata.{table} ORDER BY ALL"
        ).fetchall()
        db_rows = [dict(zip(names, row)) for row in rows]
        for row in db_rows:
            if row.get("extraction_timestamp") is not None:
                row["extraction_timestamp"] = row["extraction_timestamp"].strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        want = sorted(
            (tuple(r.json[table][i][n] for n in names) for i in range(len(r.json[table]))), key=repr
        )
        got = sorted((tuple(row[n] for n in names) for row in db_rows), key=repr)
        assert got == want, table


def test_seed_queries_run_unchanged(cli, amazon, duckdb_path) -> None:
    r = _db(cli, amazon, duckdb_path)
    source_id = r.json["sources"][0]["source_id"]
    con = duckdb.connect(str(duckdb_path))
    assert len(con.execute(SEED_QUERIES["sources_by_time"]).fetchall()) == 1
    tables = con.execute(SEED_QUERIES["tables_for_source"]).fetchall()
    assert tables == [("amazon.csv", "csv", 2, 3, r.json["tables"][0]["size_bytes"])]
    cols = con.execute(SEED_QUERIES["columns_for_table"]).fetchall()
    assert [(c[0], c[1], c[2], c[3]) for c in cols] == [
        ("product_id", "string", 0, False), ("product_name", "string", 1, False), ("rating", "double", 2, True)]  # fmt: skip
    assert sorted(json.loads(cols[0][4])) == ["B07JW9H4J1", "B098NS6PVG"]
    full = con.execute(SEED_QUERIES["complete_metadata"].replace("your-source-id", source_id)).fetchall()
    assert len(full) == 3


def test_runs_accumulate_and_rows_are_never_duplicated(cli, amazon, duckdb_path) -> None:
    first = _db(cli, amazon, duckdb_path).json["sources"][0]["source_id"]
    second = _db(cli, amazon, duckdb_path).json["sources"][0]["source_id"]
    assert first != second
    con = duckdb.connect(str(duckdb_path))
    counts = con.execute(
        "SELECT source_id, count(*) FROM _executor_metadata.columns GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert sorted(counts) == sorted([(first, 3), (second, 3)])


def test_older_tables_get_the_missing_columns(cli, amazon, duckdb_path) -> None:
    con = duckdb.connect(str(duckdb_path))
    con.execute("CREATE SCHEMA _executor_metadata")
    con.execute("""CREATE TABLE _executor_metadata.columns (source_id VARCHAR, table_name VARCHAR,
        column_name VARCHAR, data_type VARCHAR, position INTEGER, is_nullable BOOLEAN, sample_values VARCHAR)""")
    con.execute("INSERT INTO _executor_metadata.columns VALUES ('old', 't', 'c', 'string', 0, true, '[]')")
    con.close()
    r = _db(cli, amazon, duckdb_path)
    assert r.exit_code == 0, r.stderr
    con = duckdb.connect(str(duckdb_path))
    names = [row[0] for row in con.execute("DESCRIBE _executor_metadata.columns").fetchall()]
    assert names == [n for n, _ in SCHEMAS["columns"]]
    assert con.execute(
        "SELECT count(*) FROM _executor_metadata.columns WHERE source_id = 'old'"
    ).fetchone() == (1,)
    assert con.execute(
        "SELECT null_count FROM _executor_metadata.columns WHERE column_name = 'rating'"
    ).fetchone() == (1,)


def test_a_locked_database_fails_the_write_but_not_the_output(cli, amazon, duckdb_path, monkeypatch) -> None:
    import nuvyn_executor.engine.sinks.duckdb as sink_module

    holder = duckdb.connect(str(duckdb_path))  # an exclusive lock held by this process is not enough:
    holder.close()
    monkeypatch.setattr(sink_module.DuckDBSink, "__init__", _no_wait_init(sink_module.DuckDBSink.__init__))

    def locked(*args, **kwargs):
        raise duckdb.IOException('IO Error: Could not set lock on file "x.duckdb": Conflicting lock is held')

    monkeypatch.setattr(sink_module.import_duckdb(), "connect", locked)
    r = _db(cli, amazon, duckdb_path)
    assert r.exit_code == 3
    assert r.json["tables"][0]["row_count"] == 2  # the full JSON is still printed
    assert "writing the metadata tables failed" in r.stderr
    assert "locked by another process" in r.stderr


def _no_wait_init(original):
    def init(self, path, schema, **kw):
        original(self, path, schema, retries=2, backoff=0.0, backoff_max=0.0)

    return init
