"""The access token is a canary: it must never show in stdout, stderr (the logs), files or the warehouse.

The emulator's token (``tok-`` and random hex) has no shape the redaction patterns know, so only the
exact-match registration (``redact.register_secret``) can catch it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .dbx import INSERT_INTO


def _warehouse_text(warehouse: Any) -> str:
    """Every value of every table in the warehouse, as text."""
    tables = warehouse.query("SELECT table_catalog, table_schema, table_name FROM information_schema.tables")
    assert tables
    return "\n".join(repr(warehouse.query(f'SELECT * FROM "{c}"."{s}"."{t}"')) for c, s, t in tables)


def test_the_token_is_nowhere(executor, warehouse, amazon: Path, tmp_path: Path) -> None:
    canary = warehouse.token
    assert canary.startswith("tok-")
    warehouse.inject("drop", when="after", match=INSERT_INTO["columns"])
    warehouse.inject("status", status=503, match=INSERT_INTO["tables"])
    warehouse.inject("status", status=500, when="after", match=INSERT_INTO["sources"])
    out = tmp_path / "out.json"
    r = executor(amazon, "--output", str(out), global_options=("-vv",), env={"EXECUTOR_LOG_LEVEL": ""})
    assert r.exit_code == 0, r.stderr
    assert "DEBUG" in r.stderr  # the drivers' own logs were on, retries included
    assert "writing them again" in r.stderr
    for text in (
        r.stdout,
        r.stderr,
        out.read_text(),
        _warehouse_text(warehouse),
        "\n".join(warehouse.statements),
    ):
        assert canary not in text


def test_the_token_is_not_in_a_failed_write(executor, warehouse, amazon: Path) -> None:
    canary = warehouse.token
    url = warehouse.url().replace(warehouse.http_path, "/sql/1.0/warehouses/missing")
    r = executor(amazon, "--db", url, global_options=("-vv",), databricks_env=False)
    assert r.exit_code == 3
    assert "HTTP 404" in r.stderr
    assert canary not in r.stdout
    assert canary not in r.stderr


def test_the_token_is_not_in_a_configuration_error(executor, warehouse, amazon: Path) -> None:
    canary = warehouse.token
    r = executor(amazon, "--db", f"databricks://token:{canary}@{warehouse.hostname}", databricks_env=False)
    assert r.exit_code == 2
    assert "http_path" in r.stderr
    assert "found" not in r.stderr  # refused before any file was profiled
    assert canary not in r.stderr
    assert r.stdout == ""
