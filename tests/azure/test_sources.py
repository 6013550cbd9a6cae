"""The CLI against a real Azurite: every PATH form and credential, the errors users meet, retries and faults,
and the acceptance check that a container gives the same rows as the local folder it was copied from."""

from __future__ import annotations

import bz2
import gc
import gzip
import lzma
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pytest

from nuvyn_executor.engine.readers import registered_formats

from ..azurite import (
    ACCOUNT,
    KEY,
    Azurite,
    FaultProxy,
    blob_sas,
    container_sas,
    upload_folder,
)
from ..conftest import DATA_SAMPLES, CliResult
from .conftest import url, write_tree

Cli = Callable[..., CliResult]


def _rows(result: CliResult, table: str) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "source_id"} for row in result.json[table]]


def _error_lines(result: CliResult) -> list[str]:
    return [ln for ln in result.stderr.splitlines() if ln.strip()]


def _assert_one_line_error(result: CliResult, *needles: str) -> str:
    assert result.exit_code == 2, result.stderr
    assert result.stdout == ""
    lines = _error_lines(result)
    assert len(lines) == 1, lines
    assert lines[0].startswith("nuvyn-executor: error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    assert "sig=" not in result.stderr
    return lines[0]


def _tree(root: Path) -> Path:
    """A copy of data_samples/ plus compressed copies, a nested duplicate name and, when a Parquet reader is
    registered, Parquet files: the acceptance folder."""
    shutil.copytree(DATA_SAMPLES, root)
    (root / "compressed").mkdir()
    (root / "compressed" / "amazon_sales.csv.bz2").write_bytes(
        bz2.compress((DATA_SAMPLES / "amazon_sales.csv").read_bytes())
    )
    (root / "compressed" / "customers.csv.xz").write_bytes(
        lzma.compress((DATA_SAMPLES / "customers_with_nulls.csv").read_bytes())
    )
    with pa.CompressedOutputStream(str(root / "compressed" / "orders.csv.zst"), "zstd") as out:
        out.write((DATA_SAMPLES / "orders_dates.csv").read_bytes())
    (root / "compressed" / "tickets.csv.gz").write_bytes(
        gzip.compress((DATA_SAMPLES / "support_tickets.csv").read_bytes())
    )
    (root / "nested").mkdir()
    shutil.copy(DATA_SAMPLES / "orders_dates.csv", root / "nested" / "orders_dates.csv")
    if "parquet" in registered_formats():
        import pyarrow.parquet as pq

        table = pa.table({
            "id": pa.array(range(5000), pa.int64()),
            "name": pa.array([f"n{i % 97}" if i % 13 else None for i in range(5000)]),
            "amount": pa.array([i * 0.25 for i in range(5000)]),
        })  # fmt: skip
        pq.write_table(table, root / "typed.parquet", row_group_size=1000)
    return root


@pytest.fixture
def acceptance(tmp_path: Path, container: Any) -> tuple[Path, Any]:
    root = _tree(tmp_path / "local")
    upload_folder(container, root, "copy/")
    return root, container


def test_container_gives_the_rows_of_the_local_folder(
    main_cli: Cli, azurite: Azurite, acceptance: tuple[Path, Any]
) -> None:
    root, container = acceptance
    local = main_cli("metadata_extraction", str(root), "--workers", "1", "--seed", "7")
    remote = main_cli("metadata_extraction", url(azurite.endpoint, container.container_name, "copy", container_sas(container.container_name)),
                 "--workers", "1", "--seed", "7")  # fmt: skip
    assert local.exit_code == 0, local.stderr
    assert remote.exit_code == 0, remote.stderr
    expected_formats = {"csv"} | ({"parquet"} if "parquet" in registered_formats() else set())
    assert {t["file_type"] for t in remote.json["tables"]} == expected_formats
    assert {t["compression"] for t in remote.json["tables"]} >= {None, "gzip", "bz2", "xz", "zstd"}
    assert _rows(remote, "tables") == _rows(local, "tables")
    assert _rows(remote, "columns") == _rows(local, "columns")
    ls, rs = local.json["sources"][0], remote.json["sources"][0]
    for key in ("files_found", "total_size_bytes", "status", "files_failed", "tenant_id"):
        assert rs[key] == ls[key], key
    assert rs["source_type"] == "azure_blob"
    assert rs["source_path"] == f"{azurite.endpoint}/{container.container_name}/copy"


def test_single_blob_with_a_blob_sas(main_cli: Cli, azurite: Azurite, container: Any) -> None:
    container.upload_blob("in/amazon_sales.csv", (DATA_SAMPLES / "amazon_sales.csv").read_bytes())
    sas = blob_sas(container.container_name, "in/amazon_sales.csv")
    remote = main_cli("metadata_extraction", url(azurite.endpoint, container.container_name, "in/amazon_sales.csv", sas),
                 "azure_blob", "client-123", "--workers", "1")  # fmt: skip
    local = main_cli("metadata_extraction", str(DATA_SAMPLES / "amazon_sales.csv"), "--workers", "1")
    assert remote.exit_code == 0, remote.stderr
    assert _rows(remote, "tables") == _rows(local, "tables")
    assert remote.json["tables"][0]["file_path"] == "amazon_sales.csv"
    source = remote.json["sources"][0]
    assert (source["tenant_id"], source["source_type"], source["files_found"]) == (
        "client-123",
        "azure_blob",
        1,
    )
    assert source["total_size_bytes"] == (DATA_SAMPLES / "amazon_sales.csv").stat().st_size
    assert source["source_path"] == f"{azurite.endpoint}/{container.container_name}/in/amazon_sales.csv"


@pytest.mark.parametrize("path", ["raw/2024", "raw/2024/"])
def test_prefix_profiles_only_the_blobs_under_it(
    main_cli: Cli, azurite: Azurite, container: Any, path: str
) -> None:
    for name in ("raw/2024/a.csv", "raw/2024/q1/b.csv", "raw/2024x/not-me.csv", "raw/2023/c.csv", "top.csv"):
        container.upload_blob(name, b"id,v\n1,x\n2,y\n")
    result = main_cli("metadata_extraction", url(azurite.endpoint, container.container_name, path,
                                            container_sas(container.container_name)), "--workers", "1")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert [t["file_path"] for t in result.json["tables"]] == ["a.csv", "q1/b.csv"]
    assert all(t["row_count"] == 2 for t in result.json["tables"])


def test_hidden_files_folders_and_globs_follow_the_local_rules(
    main_cli: Cli, azurite: Azurite, container: Any, tmp_path: Path
) -> None:
    csv = "k,v\n1,a\n"
    files = {
        "a.csv": csv, "_SUCCESS": "", ".hidden.csv": csv, "part-0.csv.crc": "x", "_tmp/x.csv": csv,
        ".git/y.csv": csv, "sub/b.csv": csv, "sub/c.tsv": "k\tv\n1\ta\n", "sub/_committed_1": "", "notes.md": "#",
        "deep/er/d.csv.gz": gzip.compress(csv.encode()), "noext": csv, "sub/data.parquet": b"PAR1junk",
    }  # fmt: skip
    root = write_tree(tmp_path / "tree", files)
    upload_folder(container, root)
    # ADLS Gen2 directories as the blob endpoint shows them, and a "folder/" marker blob
    container.upload_blob("sub", b"", metadata={"hdi_isfolder": "true"})
    container.upload_blob("emptydir/", b"")
    base = url(azurite.endpoint, container.container_name, "", container_sas(container.container_name))
    for extra in (
        [],
        ["--include", "*.csv"],
        ["--exclude", "sub/*"],
        ["--include", "sub/*", "--exclude", "*.tsv"],
    ):
        for word in ([], ["csv"]):
            local = main_cli("metadata_extraction", str(root), *word, "--workers", "1", *extra)
            remote = main_cli("metadata_extraction", base, *word, "--workers", "1", *extra)
            paths = [t["file_path"] for t in remote.json["tables"]]
            assert paths == [t["file_path"] for t in local.json["tables"]], (word, extra)
            assert remote.exit_code == local.exit_code
    full = main_cli("metadata_extraction", base, "--workers", "1")
    assert [t["file_path"] for t in full.json["tables"]] == [
        "a.csv", "deep/er/d.csv.gz", "noext", "sub/b.csv", "sub/c.tsv", "sub/data.parquet",
    ]  # fmt: skip


def test_connection_string(
    main_cli: Cli, azurite: Azurite, container: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    container.upload_blob("d/orders.csv", (DATA_SAMPLES / "orders_dates.csv").read_bytes())
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    result = main_cli(
        "metadata_extraction", url(azurite.endpoint, container.container_name, "d"), "--workers", "1"
    )
    assert result.exit_code == 0, result.stderr
    assert result.json["tables"][0]["row_count"] == 60
    assert KEY not in result.stdout + result.stderr


def test_abfss_url_reaches_the_connection_strings_endpoint(
    main_cli: Cli, azurite: Azurite, container: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    container.upload_blob("lake/events.csv.gz", (DATA_SAMPLES / "events.csv.gz").read_bytes())
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    path = f"abfss://{container.container_name}@{ACCOUNT}.dfs.core.windows.net/lake"
    result = main_cli("metadata_extraction", path, "--workers", "1")
    assert result.exit_code == 0, result.stderr
    assert result.json["sources"][0]["source_type"] == "adls"
    assert result.json["sources"][0]["source_path"] == path
    assert [(t["file_path"], t["compression"]) for t in result.json["tables"]] == [("events.csv.gz", "gzip")]


@pytest.mark.parametrize("variable", ["AZURE_STORAGE_SAS_TOKEN", "AZURE_STORAGE_KEY"])
def test_sas_token_or_account_key_from_the_environment(
    main_cli: Cli, azurite: Azurite, container: Any, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    container.upload_blob("x.csv", b"a,b\n1,2\n")
    value = container_sas(container.container_name) if variable == "AZURE_STORAGE_SAS_TOKEN" else KEY
    monkeypatch.setenv(variable, value)
    result = main_cli(
        "metadata_extraction", url(azurite.endpoint, container.container_name), "--workers", "1"
    )
    assert result.exit_code == 0, result.stderr
    assert result.json["tables"][0]["row_count"] == 1


def test_expired_sas_is_a_clear_error(main_cli: Cli, azurite: Azurite, container: Any) -> None:
    container.upload_blob("x.csv", b"a\n1\n")
    sas = container_sas(container.container_name, hours=-1)
    result = main_cli(
        "metadata_extraction", url(azurite.endpoint, container.container_name, "", sas), "--workers", "1"
    )
    line = _assert_one_line_error(result, "access denied", "the SAS token in the URL", "expired at")
    assert line.startswith(f"nuvyn-executor: error: `{azurite.endpoint}/{container.container_name}`: ")


def test_expired_single_blob_sas_is_a_clear_error(main_cli: Cli, azurite: Azurite, container: Any) -> None:
    container.upload_blob("x.csv", b"a\n1\n")
    sas = blob_sas(container.container_name, "x.csv", hours=-1)
    result = main_cli("metadata_extraction", url(azurite.endpoint, container.container_name, "x.csv", sas))
    _assert_one_line_error(result, "access denied while reading blob `x.csv`", "expired at")


def test_sas_without_list_permission_is_a_clear_error(
    main_cli: Cli, azurite: Azurite, container: Any
) -> None:
    container.upload_blob("x.csv", b"a\n1\n")
    sas = container_sas(container.container_name, permission="r")
    result = main_cli("metadata_extraction", url(azurite.endpoint, container.container_name, "", sas))
    _assert_one_line_error(
        result, "access denied while listing container", "sp=r ", "listing a container r and l"
    )


def test_no_credential_names_what_was_looked_for(main_cli: Cli, azurite: Azurite, container: Any) -> None:
    container.upload_blob("x.csv", b"a\n1\n")
    result = main_cli("metadata_extraction", url(azurite.endpoint, container.container_name))
    _assert_one_line_error(
        result, "without a credential", "AZURE_STORAGE_CONNECTION_STRING (unset)", "AZURE_STORAGE_SAS_TOKEN (unset)",
        "AZURE_STORAGE_KEY (unset)", "DefaultAzureCredential",
    )  # fmt: skip


def test_missing_container(main_cli: Cli, azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    result = main_cli("metadata_extraction", url(azurite.endpoint, "no-such-container", "x/"))
    _assert_one_line_error(
        result, "container `no-such-container` does not exist in account `devstoreaccount1`"
    )
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING")
    sas = container_sas("no-such-container")
    result = main_cli("metadata_extraction", url(azurite.endpoint, "no-such-container", "", sas))
    _assert_one_line_error(result, "container `no-such-container` does not exist")


def test_missing_blob_or_prefix(main_cli: Cli, azurite: Azurite, container: Any) -> None:
    container.upload_blob("here.csv", b"a\n1\n")
    sas = container_sas(container.container_name)
    result = main_cli(
        "metadata_extraction", url(azurite.endpoint, container.container_name, "not-here.csv", sas)
    )
    _assert_one_line_error(result, "no blob named `not-here.csv` and no blobs under `not-here.csv/`")


def test_unreachable_endpoint_is_a_clear_error(main_cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXECUTOR_AZURE_RETRIES", "1")
    result = main_cli(
        "metadata_extraction", f"http://127.0.0.1:9/{ACCOUNT}/data?sv=1&sp=rl&sig=UNREACHABLESIG"
    )
    line = _assert_one_line_error(result, "cannot reach `http://127.0.0.1:9/devstoreaccount1`")
    assert "UNREACHABLESIG" not in line


def _range(header: str) -> tuple[int, int]:
    """(start, length) of a ``bytes=START-END`` header."""
    start, _, end = header.removeprefix("bytes=").partition("-")
    return int(start), int(end) - int(start) + 1


def _blob_of(request_path: str) -> str:
    return urlsplit(request_path).path.rsplit("/", 1)[-1]


# The reset leaves the SDK's dropped connection to the garbage collector, whose ResourceWarning (in the
# SDK's socket, not ours) may land during this test or a later one.
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_throttled_and_reset_requests_are_retried(
    main_cli: Cli, azurite: Azurite, container: Any, proxy: FaultProxy
) -> None:
    for name in ("a.csv", "b.csv", "c.csv"):
        container.upload_blob(name, b"id,v\n1,x\n2,y\n3,z\n")
    target = lambda r: r.method == "GET" and _blob_of(r.path) == "b.csv"  # noqa: E731
    proxy.inject(target, status=503, times=2)
    proxy.inject(target, status=0, times=1)  # a connection reset before any response
    proxy.inject(lambda r: "comp=list" in r.path, status=503, times=1)  # the listing too
    endpoint = azurite.endpoint_via(proxy.port)
    result = main_cli("metadata_extraction", url(endpoint, container.container_name, "", container_sas(container.container_name)),
                 "--workers", "1")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert [t["row_count"] for t in result.json["tables"]] == [3, 3, 3]
    statuses = [r.status for r in proxy.requests if r.method == "GET" and _blob_of(r.path) == "b.csv"]
    assert statuses[:3] == [503, 503, 0]
    assert statuses[3] in (200, 206)
    assert [r.status for r in proxy.requests if "comp=list" in r.path] == [503, 200]
    gc.collect()  # collect the dropped connection here, under this test's warning filter


def test_a_blob_that_keeps_failing_is_an_error_row(
    main_cli: Cli, azurite: Azurite, container: Any, proxy: FaultProxy
) -> None:
    for name in ("a.csv", "b.csv", "c.csv"):
        container.upload_blob(name, b"id,v\n1,x\n2,y\n")
    proxy.inject(lambda r: r.method == "GET" and _blob_of(r.path) == "b.csv", status=503, times=float("inf"))
    endpoint = azurite.endpoint_via(proxy.port)
    result = main_cli("metadata_extraction", url(endpoint, container.container_name, "", container_sas(container.container_name)),
                 "--workers", "1")  # fmt: skip
    assert result.exit_code == 3, result.stderr
    rows = {t["file_path"]: t for t in result.json["tables"]}
    assert rows["a.csv"]["row_count"] == rows["c.csv"]["row_count"] == 2
    error = rows["b.csv"]["error"]
    assert error == (
        f"reading blob `{container.container_name}/b.csv` failed after 4 attempts "
        "(503 ServerBusy: The server is busy (injected by the test proxy).)"
    )
    attempts = [r for r in proxy.requests if r.method == "GET" and _blob_of(r.path) == "b.csv"]
    assert len(attempts) == 4  # EXECUTOR_AZURE_RETRIES=3: bounded
    assert result.json["sources"][0]["status"] == "partial"


def test_mixed_container_with_a_corrupt_blob(
    main_cli: Cli, azurite: Azurite, container: Any, tmp_path: Path
) -> None:
    good = (DATA_SAMPLES / "events.csv.gz").read_bytes()
    root = write_tree(tmp_path / "mixed", {
        "good.csv": (DATA_SAMPLES / "orders_dates.csv").read_bytes(),
        "events.csv.gz": good,
        "truncated.csv.gz": good[: len(good) // 2],
        "empty.csv": b"",
    })  # fmt: skip
    upload_folder(container, root)
    local = main_cli("metadata_extraction", str(root), "--workers", "1")
    remote = main_cli("metadata_extraction", url(azurite.endpoint, container.container_name, "", container_sas(container.container_name)),
                 "--workers", "1")  # fmt: skip
    assert remote.exit_code == local.exit_code == 3
    rows = {t["file_path"]: t for t in remote.json["tables"]}
    assert rows["truncated.csv.gz"]["error"]
    assert rows["good.csv"]["row_count"] == 60
    assert rows["good.csv"]["error"] is None
    assert rows["events.csv.gz"]["error"] is None
    assert _rows(remote, "tables") == _rows(local, "tables")  # the same error text as the local file's


@pytest.mark.jit_only
def test_forked_workers_read_split_ranges(
    main_cli: Cli, azurite: Azurite, container: Any, tmp_path: Path, proxy: FaultProxy
) -> None:
    """A 20 MB blob is cut into byte ranges profiled by forked workers, each with its own client."""
    path = tmp_path / "big" / "big.csv"
    path.parent.mkdir()
    with path.open("w") as fh:
        fh.write("id,amount,day,label,note\n")
        for i in range(480_000):
            fh.write(
                f'{i},{i * 0.37:.2f},2024-{1 + i % 12:02d}-{1 + i % 28:02d},L{i % 1013},"a, ""b""\nc {i % 7}"\n'
            )
    assert path.stat().st_size > 20 << 20
    upload_folder(container, path.parent)
    args = ("--workers", "2", "--split-size", str(4 << 20), "--seed", "3")
    local = main_cli("metadata_extraction", str(path.parent), *args)
    endpoint = azurite.endpoint_via(proxy.port)
    remote = main_cli("metadata_extraction", url(endpoint, container.container_name, "", container_sas(container.container_name)),
                 *args)  # fmt: skip
    assert remote.exit_code == 0, remote.stderr
    assert remote.json["tables"][0]["row_count"] == 480_000
    # each range's worker looked for its first record boundary with a small ranged read
    starts = {_range(r.range)[0] for r in proxy.requests if r.range and _range(r.range)[1] == 64 << 10}
    assert len([s for s in starts if s > 0]) >= 5, sorted(starts)
    assert _rows(remote, "tables") == _rows(local, "tables")
    assert _rows(remote, "columns") == _rows(local, "columns")


def test_a_blob_failing_mid_stream_is_an_error_row(
    main_cli: Cli, azurite: Azurite, container: Any, proxy: FaultProxy
) -> None:
    """The first range (the cached head) arrives; every later range is refused until retries run out."""
    body = "".join(f"{i},{i * 3},name {i}\n" for i in range(200_000)).encode()
    assert len(body) > 4 << 20
    container.upload_blob("big.csv", b"id,triple,name\n" + body)
    container.upload_blob("small.csv", b"id\n1\n")
    later = lambda r: _blob_of(r.path) == "big.csv" and r.range is not None and _range(r.range)[0] > 0  # noqa: E731
    proxy.inject(later, status=503, times=float("inf"))
    endpoint = azurite.endpoint_via(proxy.port)
    result = main_cli("metadata_extraction", url(endpoint, container.container_name, "", container_sas(container.container_name)),
                 "--workers", "1")  # fmt: skip
    assert result.exit_code == 3, result.stderr
    rows = {t["file_path"]: t for t in result.json["tables"]}
    assert rows["small.csv"]["error"] is None
    assert rows["big.csv"]["error"] == (
        f"reading blob `{container.container_name}/big.csv` failed after 4 attempts "
        "(503 ServerBusy: The server is busy (injected by the test proxy).)"
    )


def test_an_archived_blob_is_an_error_row(main_cli: Cli, azurite: Azurite, container: Any) -> None:
    container.upload_blob("warm.csv", b"a,b\n1,2\n")
    container.upload_blob("cold.csv", b"a,b\n1,2\n").set_standard_blob_tier("Archive")
    result = main_cli("metadata_extraction", url(azurite.endpoint, container.container_name, "", container_sas(container.container_name)),
                 "--workers", "1")  # fmt: skip
    assert result.exit_code == 3, result.stderr
    rows = {t["file_path"]: t for t in result.json["tables"]}
    assert rows["warm.csv"]["error"] is None
    assert (
        rows["cold.csv"]["error"]
        == "the blob is in the Archive access tier: rehydrate it to Hot or Cool first"
    )
    assert rows["cold.csv"]["size_bytes"] == 8


def test_spawned_workers_read_with_the_sas_from_the_url(
    main_cli: Cli, azurite: Azurite, acceptance: tuple[Path, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """macOS and Windows start workers with ``spawn`` (forced here): the SAS that came in the URL exists
    only in the parent's memory, and the workers are given it, so every blob is read, not refused."""
    import multiprocessing as mp

    from nuvyn_executor.engine.scheduler import pool

    root, container = acceptance
    monkeypatch.setattr(pool, "_context", lambda: mp.get_context("spawn"))
    local = main_cli("metadata_extraction", str(root), "--workers", "1", "--seed", "7")
    remote = main_cli("metadata_extraction", url(azurite.endpoint, container.container_name, "copy", container_sas(container.container_name)),
                      "--workers", "2", "--seed", "7")  # fmt: skip
    assert remote.exit_code == 0, remote.stderr
    assert _rows(remote, "tables") == _rows(local, "tables")
    assert "sig=" not in remote.stderr + remote.stdout
