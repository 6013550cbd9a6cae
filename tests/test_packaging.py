"""The install exposes one package, nuvyn_executor, and a working console script."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys

import nuvyn_executor.engine


def test_no_bare_top_level_engine_or_cli_module() -> None:
    for name in ("engine", "cli"):
        spec = importlib.util.find_spec(name)
        assert spec is None or "nuvyn" not in str(spec.origin or spec.submodule_search_locations), name


def test_importing_the_engine_is_cheap() -> None:
    code = "import sys, nuvyn_executor.engine; print(sorted(m for m in ('numba', 'pyarrow', 'duckdb') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert "extract_metadata" in nuvyn_executor.engine.__all__


def test_console_script_runs() -> None:
    exe = shutil.which("nuvyn-executor", path=str(__import__("pathlib").Path(sys.executable).parent))
    assert exe is not None
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, check=True).stdout
    assert "metadata_extraction" in out
    assert "--version" in out


def test_the_version_is_defined_once() -> None:
    """The package's metadata reads ``engine.__version__``; runs report it without reading the metadata."""
    from importlib.metadata import version

    from nuvyn_executor.engine import __version__
    from nuvyn_executor.engine.catalog import executor_version

    assert version("nuvyn-executor") == __version__ == executor_version()
