"""Choosing the kernel backend, and where and under which name the compiled module is kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nuvyn_executor.engine.errors import ConfigurationError
from nuvyn_executor.engine.kernels import compiled, entry
from nuvyn_executor.engine.kernels.csv_tokenize import PADDING
from nuvyn_executor.engine.settings import environ_without_secrets, kernel_backend_request


@pytest.mark.parametrize(
    ("env", "want"),
    [
        ({}, "auto"),
        ({"EXECUTOR_KERNELS": "JIT"}, "jit"),
        ({"EXECUTOR_KERNELS": " compiled "}, "compiled"),
        ({"EXECUTOR_KERNELS": ""}, "auto"),
        ({"NUMBA_DISABLE_JIT": "1", "EXECUTOR_KERNELS": "compiled"}, "python"),
        ({"NUMBA_DISABLE_JIT": "0"}, "auto"),
    ],
)
def test_backend_request(env: dict[str, str], want: str) -> None:
    assert kernel_backend_request(env) == want


def test_an_unknown_backend_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="EXECUTOR_KERNELS` must be one of auto, compiled, jit"):
        kernel_backend_request({"EXECUTOR_KERNELS": "fast"})


def test_the_build_runs_without_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "DATABRICKS_ACCESS_TOKEN": "dapi-secret", "AZURE_STORAGE_SAS_TOKEN": "sv=1&sig=secret",
        "AZURE_STORAGE_KEY": "a2V5", "AZURE_STORAGE_CONNECTION_STRING": "AccountKey=a2V5",
        "EXECUTOR_DB_URL": "databricks://token:dapi-secret@host", "NUMBA_CACHE_DIR": "/cache",
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    env = environ_without_secrets(EXECUTOR_KERNELS="jit")
    assert "secret" not in repr(env)
    assert "a2V5" not in repr(env)
    assert env["NUMBA_CACHE_DIR"] == "/cache"
    assert env["EXECUTOR_KERNELS"] == "jit"


def test_the_module_is_kept_where_numba_cache_dir_says(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert compiled.cache_dir() == tmp_path / "nuvyn-executor"
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    assert compiled.cache_dir() != tmp_path / "nuvyn-executor"


def test_the_module_name_digests_the_kernel_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    name = compiled.module_name()
    assert name == compiled.module_name()
    assert name.startswith("nuvyn_kernels_")
    assert name.isidentifier()  # it is the extension's import name
    real = compiled.source_digest

    def edited(exclude: frozenset[str] = compiled.NOT_KERNEL_SOURCES):
        digest = real(exclude)
        digest.update(b"an edited kernel")
        return digest

    monkeypatch.setattr(compiled, "source_digest", edited)
    assert compiled.module_name() != name
    monkeypatch.setattr(compiled, "_cpu_identity", lambda: "another CPU")
    monkeypatch.setattr(compiled, "source_digest", real)
    assert compiled.module_name() != name


@pytest.mark.skipif(entry.BACKEND != "compiled", reason="the compiled module's guards")
def test_the_compiled_entry_points_refuse_what_they_were_not_compiled_for() -> None:

    text = np.zeros(16 + PADDING, dtype=np.uint8)
    text.setflags(write=False)
    bounds = np.zeros((1, 4), dtype=np.int32)
    with pytest.raises(ValueError, match="writable buffer"):
        entry.tokenize(text, 0, 0, True, 44, 34, bounds, bounds.copy())
    strided = np.zeros(8, dtype=np.int32)[::2]
    with pytest.raises(ValueError, match="contiguous"):
        entry.update_column(strided, strided, np.zeros(8, dtype=np.uint8))
