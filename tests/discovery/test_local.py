"""Discovery of local folders: filters, hidden files, links, loops and the single-file case."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nuvyn_executor.engine.discovery import resolve_source
from nuvyn_executor.engine.discovery.base import guess_format, matches
from nuvyn_executor.engine.discovery.dbfs import dbfs_local_path
from nuvyn_executor.engine.discovery.local import discover_local
from nuvyn_executor.engine.errors import ConfigurationError, SourceNotFoundError


def _paths(root: Path, **kw) -> list[str]:
    return [r.rel_path for r in discover_local(str(root), **kw)]


def test_walks_recursively_in_order_and_skips_hidden_and_bookkeeping(write, data_dir) -> None:
    for rel in ("b.csv", "a/z.tsv", "a/y.csv.gz", ".hidden.csv", "_SUCCESS", "_committed_1", "part.csv.crc",
                ".git/config.csv", "_temporary/x.csv", "photo.png", "notes.md", "noext"):  # fmt: skip
        write(rel, "x\n1\n")
    assert _paths(data_dir) == ["a/y.csv.gz", "a/z.tsv", "b.csv", "noext"]


def test_include_and_exclude(write, data_dir) -> None:
    for rel in ("a/x.csv", "a/y.tsv", "b/x.csv"):
        write(rel, "x\n")
    assert _paths(data_dir, include=("*.csv",)) == ["a/x.csv", "b/x.csv"]
    assert _paths(data_dir, include=("a/*",)) == ["a/x.csv", "a/y.tsv"]
    assert _paths(data_dir, exclude=("b/*", "*.tsv")) == ["a/x.csv"]
    assert matches("deep/er/x.csv", ("x.csv",), ())  # a name pattern matches at any depth


def test_links_never_give_a_file_twice_and_loops_are_not_followed(write, data_dir, caplog) -> None:
    write("real/data.csv", "x\n")
    os.symlink(data_dir / "real", data_dir / "alias")  # the same folder twice
    os.symlink(data_dir / "real" / "data.csv", data_dir / "link.csv")  # the same file twice
    os.symlink(data_dir, data_dir / "real" / "up")  # a loop
    refs = list(discover_local(str(data_dir)))
    assert [r.rel_path for r in refs] == ["alias/data.csv"]
    assert "loop" in caplog.text


def test_single_file_source(write) -> None:
    path = write("deep/one.csv", "x\n1\n")
    (ref,) = discover_local(str(path))
    assert (ref.rel_path, ref.size, ref.format) == ("one.csv", 4, "csv")


def test_missing_root_is_a_configuration_error(tmp_path) -> None:
    with pytest.raises(SourceNotFoundError, match="no such file"):
        list(discover_local(str(tmp_path / "missing")))


@pytest.mark.parametrize(
    ("name", "expected"),
    [("a.csv", ("csv", None)), ("a.CSV.GZ", ("csv", "gzip")), ("a.tsv.zst", ("csv", "zstd")), ("a.parquet", ("parquet", None)),
     ("a", ("unknown", None)), ("a.gz", ("unknown", "gzip")), ("a.png", (None, None)), ("x.jsonl.xz", ("json", "xz"))],
)  # fmt: skip
def test_guess_format(name, expected) -> None:
    assert guess_format(name) == expected


def test_source_resolution(tmp_path) -> None:
    s = resolve_source(str(tmp_path), None)
    assert (s.kind, s.source_type, s.format_filter) == ("local", "local", None)
    s = resolve_source(str(tmp_path), "CSV")
    assert (s.kind, s.source_type, s.format_filter) == ("local", "csv", "csv")
    with pytest.raises(ConfigurationError, match="unknown SOURCE_TYPE"):
        resolve_source(str(tmp_path), "ftp")
    with pytest.raises(ConfigurationError, match="not a local path"):
        resolve_source("s3://bucket/x", None)


def test_dbfs_paths(tmp_path) -> None:
    fuse = tmp_path / "dbfs"
    (fuse / "mnt" / "raw").mkdir(parents=True)
    assert dbfs_local_path("dbfs:/mnt/raw", str(fuse)) == str(fuse / "mnt" / "raw")
    assert dbfs_local_path("/dbfs/mnt/raw", str(fuse)) == "/dbfs/mnt/raw"
    with pytest.raises(SourceNotFoundError, match="not mounted"):
        dbfs_local_path("dbfs:/mnt/raw", str(tmp_path / "absent"))
    assert resolve_source("/dbfs/mnt/raw", None).source_type == "dbfs"
