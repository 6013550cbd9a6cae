"""Which files make one table: the rules of discovery/tables.py, on paths alone."""

from __future__ import annotations

from nuvyn_executor.engine.discovery.base import DELTA_LOG, FileRef, format_at
from nuvyn_executor.engine.discovery.tables import (
    KIND_DELTA,
    KIND_FILE,
    KIND_FOLDER,
    KIND_HIVE,
    group_tables,
)


def refs(*paths: str) -> list[FileRef]:
    out = []
    for p in paths:
        fmt, codec = format_at(p)
        out.append(FileRef(url=f"/src/{p}", rel_path=p, size=10, format=fmt or "unknown", compression=codec))
    return out


def kinds(groups) -> dict[str, tuple[str, int]]:
    return {g.key: (g.kind, len(g.files)) for g in groups}


def test_unrelated_files_stay_separate() -> None:
    groups = group_tables(refs("a/sales.csv", "a/customers.csv", "a/orders.parquet"))
    assert kinds(groups) == {
        "a/customers.csv": (KIND_FILE, 1), "a/orders.parquet": (KIND_FILE, 1), "a/sales.csv": (KIND_FILE, 1),
    }  # fmt: skip


def test_spark_part_files_are_one_table_but_not_their_neighbours_folders() -> None:
    groups = group_tables(refs("out/part-00000.parquet", "out/part-00001.parquet", "out/sub/readme.csv"))
    assert kinds(groups) == {"out": (KIND_FOLDER, 2), "out/sub/readme.csv": (KIND_FILE, 1)}
    assert groups[0].location == "/src/out"


def test_part_files_of_different_formats_are_not_one_table() -> None:
    groups = group_tables(refs("out/part-0.parquet", "out/part-1.csv"))
    assert {g.kind for g in groups} == {KIND_FILE}


def test_hive_partitions() -> None:
    groups = group_tables(
        refs(
            "t/y=2024/m=01/part-0.parquet",
            "t/y=2024/m=02/part-0.parquet",
            "t/y=__HIVE_DEFAULT_PARTITION__/m=01/x.parquet",
        )
    )
    (g,) = groups
    assert (g.key, g.kind, g.partition_columns) == ("t", KIND_HIVE, ("y", "m"))
    assert g.partitions[2] == (("y", None), ("m", "01"))


def test_inconsistent_partition_keys_are_not_one_table() -> None:
    groups = group_tables(refs("t/y=2024/part-0.parquet", "t/m=01/part-0.parquet"))
    assert KIND_HIVE not in {g.kind for g in groups}


def test_delta_log_claims_the_folder() -> None:
    groups = group_tables(
        refs(
            "d/_delta_log/00000000000000000000.json", "d/part-0.parquet", "d/c=1/part-1.parquet", "other.csv"
        )
    )
    assert kinds(groups) == {"d": (KIND_DELTA, 0), "other.csv": (KIND_FILE, 1)}
    assert [r.format for r in groups[0].log] == [DELTA_LOG]
    assert groups[0].location == "/src/d"


def test_the_source_root_can_be_the_table() -> None:
    (g,) = group_tables(refs("part-0.parquet", "part-1.parquet"))
    assert (g.key, g.kind, g.location) == ("", KIND_FOLDER, "/src")


def test_switched_off_every_file_is_a_table() -> None:
    groups = group_tables(
        refs("out/part-0.parquet", "out/part-1.parquet", "d/_delta_log/0.json"), group=False
    )
    assert kinds(groups) == {"out/part-0.parquet": (KIND_FILE, 1), "out/part-1.parquet": (KIND_FILE, 1)}


def test_discovery_lists_the_delta_log_and_skips_bookkeeping(tmp_path) -> None:
    from nuvyn_executor.engine.discovery.local import discover_local

    (tmp_path / "t" / "_delta_log").mkdir(parents=True)
    (tmp_path / "t" / "_delta_log" / "00000000000000000000.json").write_text("{}")
    (tmp_path / "t" / "_delta_log" / "_last_checkpoint").write_text("{}")
    (tmp_path / "t" / "part-0.parquet").write_bytes(b"PAR1")
    (tmp_path / "t" / "_SUCCESS").write_bytes(b"")
    (tmp_path / "t" / ".part-0.parquet.crc").write_bytes(b"")
    found = {r.rel_path: r.format for r in discover_local(str(tmp_path), exclude=("*.json",))}
    assert found == {"t/_delta_log/00000000000000000000.json": DELTA_LOG, "t/part-0.parquet": "parquet"}
