"""Fixtures shared by the whole suite: sample data, CSV writers, CLI runners and a fresh DuckDB path.

Services a test needs (DuckDB files, Azurite, the warehouse emulator) are started by fixtures on
127.0.0.1 only.  Tests never depend on the network or on run order.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
DATA_SAMPLES = ROOT / "data_samples"
JIT_DISABLED = os.environ.get("NUMBA_DISABLE_JIT") == "1"

# Hypothesis: CI-sized defaults; without the JIT everything runs in Python, so fewer examples.
settings.register_profile(
    "default", max_examples=60 if JIT_DISABLED else 200, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)  # fmt: skip
settings.load_profile("default")


@pytest.fixture(scope="session")
def data_samples() -> Path:
    return DATA_SAMPLES


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """``write("a/b.csv", "text" or b"bytes")`` creates a file under a fresh folder and returns its path."""

    def _write(rel: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = tmp_path / "data" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode(encoding)
        path.write_bytes(content)
        return path

    return _write


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir(exist_ok=True)
    return d


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.stdout)

    def table(self, name: str) -> dict[str, Any]:
        rows = [t for t in self.json["tables"] if t["table_name"] == name]
        assert len(rows) == 1, f"no single table {name!r} in {[t['table_name'] for t in self.json['tables']]}"
        return rows[0]

    def columns(self, table: str) -> dict[str, dict[str, Any]]:
        return {c["column_name"]: c for c in self.json["columns"] if c["table_name"] == table}


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    """Run the CLI in-process (Click's runner); stdout and stderr are kept apart."""
    from nuvyn_executor.cli.main import cli as group

    def _run(*args: str, env: dict[str, str] | None = None) -> CliResult:
        runner = CliRunner()
        result = runner.invoke(group, list(args), env=env, catch_exceptions=False)
        code = result.return_value if isinstance(result.return_value, int) else result.exit_code
        return CliResult(code, result.stdout, result.stderr)

    return _run


@pytest.fixture
def cli_process() -> Callable[..., CliResult]:
    """Run the real console script in a subprocess, as a user would."""

    def _run(
        *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 300
    ) -> CliResult:
        full_env = {**os.environ, **(env or {})}
        proc = subprocess.run(
            [sys.executable, "-m", "nuvyn_executor.cli.main", *args],
            capture_output=True, text=True, env=full_env, cwd=cwd, timeout=timeout,
        )  # fmt: skip
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    return _run


@pytest.fixture
def duckdb_path(tmp_path: Path) -> Path:
    return tmp_path / "meta.duckdb"


@pytest.fixture(autouse=True)
def _wrapping_arithmetic_without_jit():
    """Kernels hash with wrapping uint64 arithmetic; as plain Python, numpy warns about each wrap."""
    if not JIT_DISABLED:
        yield
        return
    import numpy as np

    with np.errstate(over="ignore"):
        yield


@pytest.fixture(scope="session")
def warehouse_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The Databricks SQL warehouse emulator (``tests/warehouse``), one per session on 127.0.0.1."""
    pytest.importorskip("databricks.sql")
    from tests.warehouse import Warehouse

    server = Warehouse(tmp_path_factory.mktemp("warehouse"))
    # In-process clients too must reach it directly, whatever proxy the environment sets.
    no_proxy = os.environ.get("NO_PROXY")
    os.environ["NO_PROXY"] = ",".join(filter(None, [no_proxy, "127.0.0.1", "localhost"]))
    yield server
    server.close()
    if no_proxy is None:
        del os.environ["NO_PROXY"]
    else:
        os.environ["NO_PROXY"] = no_proxy


@pytest.fixture
def warehouse(warehouse_server: Any) -> Any:
    """The emulator, emptied: no table, fault or logged request.  ``warehouse.env()`` points the CLI
    at it (host:port, http_path, token, CA bundle); ``warehouse.inject(...)`` queues faults;
    ``warehouse.query(...)`` reads its data; ``warehouse.statements`` and ``.requests`` are its log."""
    warehouse_server.reset()
    return warehouse_server
