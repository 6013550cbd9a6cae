"""Every bad input gets a clear error naming the file and the reason, and costs nothing else."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

GOOD = "id,name\n1,alpha\n2,beta\n"


@pytest.fixture
def messy(write, data_dir: Path) -> Path:
    write("good.csv", GOOD)
    write("empty.csv", b"")
    write("header_only.csv", "a,b,c\n")
    write("garbage.csv", bytes(range(256)) * 40)
    write("latin1.csv", "name,city\nJosé,Zürich\nRenée,Málaga\n".encode("cp1252"))
    write("ragged.csv", "a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n")
    write("huge_field.csv", "id,blob,tail\n1," + "x" * (5 << 20) + ",end\n2,short,end\n")
    whole = gzip.compress(("n\n" + "\n".join(str(i) for i in range(20000)) + "\n").encode())
    write("truncated.csv.gz", whole[: len(whole) // 2])
    os.symlink(data_dir / "nowhere.csv", data_dir / "dangling.csv")
    os.symlink(data_dir / "selfloop.csv", data_dir / "selfloop.csv")
    (data_dir / "sub").mkdir()
    os.symlink(data_dir, data_dir / "sub" / "loop")  # a folder loop
    return data_dir


def test_messy_folder_profiles_the_good_files_and_names_every_failure(cli, messy: Path) -> None:
    r = cli("metadata_extraction", str(messy), "--workers", "1")
    assert r.exit_code == 3, r.stderr
    doc = r.json
    tables = {t["file_path"]: t for t in doc["tables"]}
    # nothing reported twice, the loop not followed
    assert sorted(tables) == sorted(
        ["dangling.csv", "empty.csv", "garbage.csv", "good.csv", "header_only.csv", "huge_field.csv",
         "latin1.csv", "ragged.csv", "selfloop.csv", "truncated.csv.gz"]
    )  # fmt: skip
    assert tables["good.csv"]["error"] is None
    assert tables["good.csv"]["row_count"] == 2
    # profiled, with what was noticed
    assert tables["empty.csv"]["error"] is None
    assert (tables["empty.csv"]["row_count"], tables["empty.csv"]["column_count"]) == (0, 0)
    assert "empty file" in json.loads(tables["empty.csv"]["warnings"])
    assert (tables["header_only.csv"]["row_count"], tables["header_only.csv"]["column_count"]) == (0, 3)
    assert tables["latin1.csv"]["error"] is None
    assert tables["latin1.csv"]["encoding"] == "cp1252"
    assert tables["ragged.csv"]["row_count"] == 4
    assert "2 ragged records: 1 with extra fields (dropped), 1 with missing fields (null)" in json.loads(
        tables["ragged.csv"]["warnings"]
    )
    assert tables["huge_field.csv"]["error"] is None
    assert tables["huge_field.csv"]["row_count"] == 2
    # recorded with a clear reason
    assert "binary content" in tables["garbage.csv"]["error"]
    assert (
        "truncated" in tables["truncated.csv.gz"]["error"].lower()
        or "corrupt" in tables["truncated.csv.gz"]["error"]
    )
    assert "dangling" in tables["dangling.csv"]["error"]
    assert "loop" in tables["selfloop.csv"]["error"]
    assert doc["sources"][0]["status"] == "partial"
    assert doc["sources"][0]["files_failed"] == 4
    # one line per failure on stderr, naming the file; no traceback
    for name in ("garbage.csv", "truncated.csv.gz", "dangling.csv", "selfloop.csv"):
        assert f"`{name}`" in r.stderr
    assert "Traceback" not in r.stderr
    cols = r.columns("latin1.csv")
    assert sorted(json.loads(cols["name"]["sample_values"])) == ["José", "Renée"]
    assert json.loads(r.columns("latin1.csv")["city"]["sample_values"]).count("Zürich") == 1
    ragged = r.columns("ragged.csv")
    assert ragged["c"]["null_count"] == 1  # the short record's missing field
    assert ragged["c"]["distinct_count"] == 3  # 3, 8 (from the long record) and 12
    assert (ragged["a"]["min_value"], ragged["a"]["max_value"]) == ("1", "10")


def test_messy_folder_gives_the_same_rows_with_workers(cli, messy: Path) -> None:
    one = cli("metadata_extraction", str(messy), "--workers", "1", "--seed", "3").json
    two = cli("metadata_extraction", str(messy), "--workers", "2", "--seed", "3").json
    strip = lambda rows: [{k: v for k, v in r.items() if k != "source_id"} for r in rows]  # noqa: E731
    assert strip(one["tables"]) == strip(two["tables"])
    assert strip(one["columns"]) == strip(two["columns"])


def test_fifo_is_recorded_not_waited_for(cli, write, data_dir: Path) -> None:
    write("good.csv", GOOD)
    os.mkfifo(data_dir / "pipe.csv")
    r = cli("metadata_extraction", str(data_dir), "--workers", "1")
    assert r.exit_code == 3
    assert "not a regular file" in r.table("pipe.csv")["error"]


def _unprivileged() -> list[str]:
    """A command prefix that makes file permissions apply (root drops its override capabilities)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: chmod 000 cannot hide a file")
    drop = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={drop}", f"--bounding-set={drop}"]


def test_unreadable_file_is_an_error_row(write, data_dir: Path) -> None:
    write("good.csv", GOOD)
    secret = write("secret.csv", GOOD)
    secret.chmod(0)
    try:
        proc = subprocess.run(
            [*_unprivileged(), sys.executable, "-m", "nuvyn_executor.cli.main", "metadata_extraction", str(data_dir),
             "--workers", "1"],
            capture_output=True, text=True,
        )  # fmt: skip
    finally:
        secret.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert proc.returncode == 3, proc.stderr
    tables = {t["file_path"]: t for t in json.loads(proc.stdout)["tables"]}
    assert tables["good.csv"]["row_count"] == 2
    assert tables["secret.csv"]["error"] == "permission denied"
    assert "`secret.csv`: permission denied" in proc.stderr


def test_missing_path_is_a_usage_error(cli_process, tmp_path: Path) -> None:
    r = cli_process("metadata_extraction", str(tmp_path / "nope"))
    assert r.exit_code == 2
    assert r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        f"nuvyn-executor: error: cannot open `{tmp_path / 'nope'}`: no such file (a dangling symbolic link?)"
    ]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--workers", "0"], "--workers"),
        (["--sample-size", "-1"], "--sample-size"),
        (["--format", "xml"], "--format"),
        (["--write-to-db", "--db", "postgres://x"], "unsupported `--db` URL"),
        (["frobnicate"], "unknown SOURCE_TYPE `frobnicate`"),
    ],
)
def test_bad_options_are_one_line_usage_errors(cli_process, write, args: list[str], needle: str) -> None:
    path = write("good.csv", GOOD)
    r = cli_process("metadata_extraction", str(path), *args)
    assert r.exit_code == 2, r.stderr
    assert needle in r.stderr
    assert "Traceback" not in r.stderr
    assert r.stdout == ""


def _run_with_closed(fd: int, *args: str) -> subprocess.CompletedProcess:
    """The console script started with ``fd`` closed (``>&-`` or ``2>&-``), the other stream captured."""
    return subprocess.run(
        [sys.executable, "-m", "nuvyn_executor.cli.main", *args],
        stdout=subprocess.PIPE if fd == 2 else subprocess.DEVNULL,
        stderr=subprocess.PIPE if fd == 1 else subprocess.DEVNULL,
        preexec_fn=lambda: os.close(fd), text=True, timeout=120, check=False,
    )  # fmt: skip


def test_a_closed_stdout_says_the_catalog_was_not_printed(write, data_dir: Path) -> None:
    write("a.csv", "id,name\n1,x\n")
    r = _run_with_closed(1, "metadata_extraction", str(data_dir))
    assert r.returncode == 0, r.stderr
    assert "standard output is closed: the catalog was not printed" in r.stderr
    assert "Traceback" not in r.stderr
    assert "complete: 1 file(s), 0 failed" in r.stderr


@pytest.mark.parametrize("progress", ["--progress", "--no-progress"])
def test_a_closed_stderr_still_prints_the_catalog(write, data_dir: Path, progress: str) -> None:
    write("a.csv", "id,name\n1,x\n")
    r = _run_with_closed(2, "metadata_extraction", str(data_dir), progress)
    assert r.returncode == 0
    assert [t["table_name"] for t in json.loads(r.stdout)["tables"]] == ["a.csv"]
