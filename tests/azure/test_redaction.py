"""Canary tests: the whole CLI, as a user runs it, with recognisable credentials; none of them may appear in
stdout, stderr, the JSON file or the bytes of the DuckDB file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote

import pytest

from ..azurite import KEY, Azurite, connection_string, container_sas
from ..conftest import DATA_SAMPLES, CliResult
from .conftest import url, write_tree

Run = Callable[..., CliResult]


def _forms(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), unquote(secret)}


def _outputs(result: CliResult, *files: Path) -> dict[str, bytes]:
    out = {"stdout": result.stdout.encode(), "stderr": result.stderr.encode()}
    for f in files:
        for path in (f, f.with_name(f.name + ".wal")):
            if path.exists():
                out[path.name] = path.read_bytes()
    return out


def _assert_absent(outputs: dict[str, bytes], secrets: set[str]) -> None:
    for where, data in outputs.items():
        for secret in secrets:
            assert secret.encode() not in data, f"a credential leaked into {where}"


def _mixed_container(container: Any, tmp_path: Path) -> None:
    good = (DATA_SAMPLES / "events.csv.gz").read_bytes()
    root = write_tree(tmp_path / "src", {
        "orders.csv": (DATA_SAMPLES / "orders_dates.csv").read_bytes(),
        "events.csv.gz": good,
        "broken/truncated.csv.gz": good[:3000],
    })  # fmt: skip
    for path in sorted(root.rglob("*")):
        if path.is_file():
            container.upload_blob(path.relative_to(root).as_posix(), path.read_bytes())


def test_a_real_sas_never_reaches_any_output(
    cli_process: Run, azurite: Azurite, container: Any, tmp_path: Path
) -> None:
    _mixed_container(container, tmp_path)
    sas = container_sas(container.container_name)
    secrets = _forms(sas) | _forms(parse_qs(sas)["sig"][0])
    db, doc = tmp_path / "meta.duckdb", tmp_path / "out.json"
    result = cli_process(
        "-vv", "metadata_extraction", url(azurite.endpoint, container.container_name, "", sas), "azure_blob",
        "client-123", "--write-to-db", "--db", f"duckdb:///{db}", "--output", str(doc), "--workers", "2",
    )  # fmt: skip
    assert result.exit_code == 3, result.stderr  # the truncated blob is an error row; the rest is profiled
    assert db.exists()
    assert "Request URL:" in result.stderr  # the SDK's debug log went through our handler, and was scanned
    _assert_absent(_outputs(result, db, doc), secrets)
    source = result.json["sources"][0]
    assert source["source_path"] == f"{azurite.endpoint}/{container.container_name}"
    assert {t["file_path"]: t["error"] is None for t in result.json["tables"]} == {
        "broken/truncated.csv.gz": False, "events.csv.gz": True, "orders.csv": True,
    }  # fmt: skip
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        paths = con.sql("SELECT source_path FROM _executor_metadata.sources").fetchall()
    assert paths == [(source["source_path"],)]


FAKE_SIG = "NUVYNCANARYSIGNATURE0123456789abc%2Bdef%3D"


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_refused_fake_signature_never_reaches_any_output(
    cli_process: Run, azurite: Azurite, container: Any, tmp_path: Path, workers: str
) -> None:
    _mixed_container(container, tmp_path)
    real = container_sas(container.container_name)
    fake = "&".join(p for p in real.split("&") if not p.startswith("sig=")) + f"&sig={FAKE_SIG}"
    db = tmp_path / "meta.duckdb"
    result = cli_process(
        "-vv", "metadata_extraction", url(azurite.endpoint, container.container_name, "orders.csv", fake),
        "--write-to-db", "--db", f"duckdb:///{db}", "--workers", workers,
    )  # fmt: skip
    assert result.exit_code == 2
    assert "access denied" in result.stderr
    assert "Traceback" not in result.stderr
    _assert_absent(_outputs(result, db), _forms(FAKE_SIG) | _forms(fake) | {"NUVYNCANARY"})


def test_credentials_from_the_environment_never_reach_any_output(
    cli_process: Run, azurite: Azurite, container: Any, tmp_path: Path
) -> None:
    _mixed_container(container, tmp_path)
    fake_key = "TlVZVk5DQU5BUllLRVlOT1RBUkVBTEtFWQ=="  # valid base64, refused by the emulator
    db = tmp_path / "meta.duckdb"
    for env in (
        {"AZURE_STORAGE_CONNECTION_STRING": connection_string(azurite.endpoint, key=fake_key)},
        {"AZURE_STORAGE_KEY": fake_key},
        {"AZURE_STORAGE_SAS_TOKEN": f"sv=2024-08-04&sp=rl&sr=c&se=2099-01-01T00%3A00%3A00Z&sig={FAKE_SIG}"},
    ):  # fmt: skip
        result = cli_process(
            "-vv", "metadata_extraction", url(azurite.endpoint, container.container_name), "--write-to-db",
            "--db", f"duckdb:///{db}", env=env,
        )  # fmt: skip
        assert result.exit_code == 2, result.stderr
        assert "access denied" in result.stderr
        secrets = {fake_key, "NUVYNCANARY", *_forms(FAKE_SIG)}
        _assert_absent(_outputs(result, db), secrets)
    # the real key, through a connection string, in a full run that writes the database
    result = cli_process(
        "-vv", "metadata_extraction", url(azurite.endpoint, container.container_name), "--write-to-db",
        "--db", f"duckdb:///{db}", env={"AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string},
    )  # fmt: skip
    assert result.exit_code == 3, result.stderr
    _assert_absent(_outputs(result, db), {KEY, azurite.connection_string})
