"""Fixtures of the Azure tests: a session's Azurite, a fault-injecting proxy in front of it, a fresh container
per test, and an environment with no Azure credential of the developer's own and quick retries."""

from __future__ import annotations

import contextlib
import io
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ..azurite import Azurite, FaultProxy, azurite_for
from ..conftest import CliResult

CREDENTIAL_VARIABLES = ("AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_SAS_TOKEN", "AZURE_STORAGE_KEY")


@pytest.fixture(autouse=True)
def _azure_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EXECUTOR_AZURE_RETRIES", "3")
    monkeypatch.setenv("EXECUTOR_AZURE_BACKOFF", "0.01")


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    yield from azurite_for(tmp_path_factory)


@pytest.fixture(scope="session")
def service(azurite: Azurite) -> Iterator[Any]:
    """A shared-key client for setting up containers (the code under test never sees this key)."""
    client = azurite.service()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def container(service: Any) -> Iterator[Any]:
    """A new, empty container (a ContainerClient) for one test."""
    client = service.get_container_client(f"t{uuid.uuid4().hex[:16]}")
    client.create_container()
    try:
        yield client
    finally:
        client.delete_container()
        client.close()


@pytest.fixture(scope="session")
def _proxy(azurite: Azurite) -> Iterator[FaultProxy]:
    proxy = FaultProxy(azurite.port)
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture
def proxy(_proxy: FaultProxy) -> Iterator[FaultProxy]:
    """The fault-injecting proxy, with an empty log and no faults."""
    _proxy.reset()
    yield _proxy
    _proxy.reset()


def url(endpoint: str, container: str, path: str = "", sas: str | None = None) -> str:
    """An emulator path-style URL: ENDPOINT/CONTAINER[/PATH][?SAS]."""
    out = f"{endpoint}/{container}" + (f"/{path}" if path else "")
    return out + (f"?{sas}" if sas else "")


def write_tree(root: Path, files: dict[str, bytes | str]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


@pytest.fixture
def main_cli() -> Callable[..., CliResult]:
    """The console script's ``main`` in-process: the real exit-code mapping and one-line errors, stdout and
    stderr kept apart (the suite's ``cli`` fixture calls the Click group, which lets errors propagate)."""
    from nuvyn_executor.cli.main import main

    def _run(*args: str) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(list(args))
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
        return CliResult(code, out.getvalue(), err.getvalue())

    return _run
