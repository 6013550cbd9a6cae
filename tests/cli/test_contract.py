"""The CLI's contract: one JSON document on stdout, the documented keys, exit codes, options from the
environment, and rows identical to what the library returns."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nuvyn_executor.engine import ExtractionSettings, extract_metadata
from nuvyn_executor.engine.catalog import SCHEMAS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def folder(write, data_dir: Path) -> Path:
    write("a.csv", "id,when,price\n1,2024-01-02,1.5\n2,2024-02-03,2\n")
    write("nested/b.csv", "x;y\nfoo;true\nbar;FALSE\n")
    write("nested/a.csv", "k\n1\n")
    write(".hidden.csv", "k\n1\n")
    write("_SUCCESS", "")
    write("notes.md", "# not data\n")
    return data_dir


def test_stdout_is_one_json_document_with_the_contract_keys(cli_process, folder) -> None:
    r = cli_process("metadata_extraction", str(folder), "local", "tenant-1")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)  # exactly one document, nothing else on stdout
    assert set(doc) == {"sources", "tables", "columns"}
    for name, schema in SCHEMAS.items():
        for row in doc[name]:
            assert list(row) == [n for n, _ in schema]
    (src,) = doc["sources"]
    assert (src["source_type"], src["tenant_id"], src["files_found"], src["status"]) == (
        "local",
        "tenant-1",
        3,
        "complete",
    )
    assert src["extraction_timestamp"].endswith("Z")
    assert src["total_size_bytes"] == sum(t["size_bytes"] for t in doc["tables"])
    names = {t["file_path"]: t["table_name"] for t in doc["tables"]}
    assert names == {"a.csv": "a.csv", "nested/a.csv": "nested/a.csv", "nested/b.csv": "b.csv"}
    assert "found 3 file(s)" in r.stderr  # logs go to stderr


def test_cli_rows_equal_the_library_rows(cli, folder) -> None:
    via_cli = cli("metadata_extraction", str(folder), "--seed", "11").json
    via_lib = extract_metadata(ExtractionSettings(path=str(folder), seed=11)).to_dict()
    for table in ("tables", "columns"):
        strip = lambda rows: [{k: v for k, v in r.items() if k != "source_id"} for r in rows]  # noqa: E731
        assert strip(via_cli[table]) == strip(via_lib[table])


def test_summary_and_output_file(cli, folder, tmp_path) -> None:
    out = tmp_path / "catalog.json"
    r = cli("metadata_extraction", str(folder), "--format", "summary", "--output", str(out))
    assert r.exit_code == 0
    assert "b.csv" in r.stdout
    assert "boolean" in r.stdout
    assert not r.stdout.lstrip().startswith("{")
    assert json.loads(out.read_text())["tables"][0]["file_path"] == "a.csv"


def test_options_from_the_environment(cli, folder, tmp_path) -> None:
    db = tmp_path / "env.duckdb"
    env = {
        "EXECUTOR_WRITE_TO_DB": "true",
        "EXECUTOR_DB_URL": f"duckdb://{db}",
        "EXECUTOR_INCLUDE": "*.csv",
        "EXECUTOR_EXCLUDE": "nested/a.csv",
        "EXECUTOR_SAMPLE_SIZE": "1",
        "EXECUTOR_WORKERS": "1",
    }
    r = cli("metadata_extraction", str(folder), env=env)
    assert r.exit_code == 0, r.stderr
    assert [t["file_path"] for t in r.json["tables"]] == ["a.csv", "nested/b.csv"]
    assert all(len(json.loads(c["sample_values"])) <= 1 for c in r.json["columns"])
    assert db.exists()


def test_help_documents_every_option_and_its_variable(cli) -> None:
    r = cli("metadata_extraction", "--help")
    for opt in ("--write-to-db", "--db", "--catalog", "--schema", "--workers", "--sample-size", "--seed",
                "--include", "--exclude", "--null-value", "--format", "--output"):  # fmt: skip
        assert opt in r.stdout
    for var in ("EXECUTOR_WRITE_TO_DB", "EXECUTOR_DB_URL", "EXECUTOR_WORKERS", "EXECUTOR_SAMPLE_SIZE"):
        assert var in r.stdout


def test_alias_and_null_value_option(cli, write, data_dir) -> None:
    write("n.csv", "a,b\n-,1\nx,NULL\n")
    r = cli("metadata-extraction", str(data_dir), "--null-value", "-")
    cols = r.columns("n.csv")
    assert cols["a"]["null_count"] == 1
    assert cols["b"]["null_count"] == 0  # NULL is no longer a null token
    assert cols["b"]["data_type"] == "string"


def test_same_seed_same_samples_whatever_the_workers(cli, write, data_dir) -> None:
    write("big.csv", "n,s\n" + "".join(f"{i},v{i % 977}\n" for i in range(30000)))
    runs = [cli("metadata_extraction", str(data_dir), "--seed", "5", "--workers", w, "--split-size", "65536")
            for w in ("1", "2")]  # fmt: skip
    samples = [[c["sample_values"] for c in r.json["columns"]] for r in runs]
    assert samples[0] == samples[1]
    other = cli("metadata_extraction", str(data_dir), "--seed", "6").json
    assert [c["sample_values"] for c in other["columns"]] != samples[0]


def test_main_py_runs_the_same_cli(folder) -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "metadata_extraction", str(folder)],
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["tables"]) == 3


def test_main_py_works_from_a_plain_checkout(folder, tmp_path) -> None:
    """A Databricks Repos checkout has no installed package: main.py maps engine/ and cli/ itself."""
    code = (
        "import sys, builtins; real = builtins.__import__\n"
        "def imp(name, *a, **k):\n"
        "    if name.startswith('nuvyn_executor') and 'nuvyn_executor' not in sys.modules: raise ImportError(name)\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = imp\n"
        f"sys.argv = ['main.py', 'metadata_extraction', {str(folder)!r}]\n"
        f"exec(compile(open({str(ROOT / 'main.py')!r}).read(), 'main.py', 'exec'), {{'__name__': '__main__', '__file__': {str(ROOT / 'main.py')!r}}})\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["tables"]) == 3


def test_every_option_has_an_executor_variable_and_help() -> None:
    """CONTRACT: every option may also come from an EXECUTOR_* variable named after it, shown in --help."""
    import click

    from nuvyn_executor.cli.commands.metadata_extraction import metadata_extraction

    options = [p for p in metadata_extraction.params if isinstance(p, click.Option)]
    assert len(options) >= 19
    for opt in options:
        if opt.name == "help":
            continue
        assert opt.help, opt.name
        assert isinstance(opt.envvar, str), opt.name
        assert opt.envvar.startswith("EXECUTOR_"), opt.envvar
        assert opt.show_envvar, opt.name


def test_the_console_script_leaves_only_after_its_output_is_written(cli_process, write, data_dir) -> None:
    """The console script ends its process without the interpreter's teardown (``cli.main._leave``):
    the document, the last log line and the exit status must all survive."""
    write("a.csv", "id,name\n1,x\n")
    write("broken.parquet", b"PAR1 not really")
    r = cli_process("metadata_extraction", str(data_dir), env={"PYTHONUNBUFFERED": ""})  # buffered stdout
    assert r.exit_code == 3, r.stderr  # one file failed
    doc = json.loads(r.stdout)
    assert sorted(t["table_name"] for t in doc["tables"]) == ["a.csv", "broken.parquet"]
    assert r.stderr.rstrip().splitlines()[-1].startswith("nuvyn-executor: INFO: partial: 2 file(s), 1 failed")
