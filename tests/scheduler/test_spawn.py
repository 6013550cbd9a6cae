"""Workers started with ``spawn`` (macOS and Windows; Linux forks): forced here, to check that they get
what forked workers inherit (the containers a run may read, the secrets to redact) and that a split file
profiles the same way, its byte ranges shared and cut across processes that did not fork."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest

from nuvyn_executor.engine import ExtractionSettings, extract_metadata
from nuvyn_executor.engine.discovery import azure, worker_state
from nuvyn_executor.engine.redact import redact_text, register_secret
from nuvyn_executor.engine.scheduler import pool as pool_module
from nuvyn_executor.engine.scheduler.pool import ProcessPool

pytestmark = pytest.mark.timeout(180)

SAS = "sv=2024-01-01&sp=rl&sig=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5"


@pytest.fixture
def spawned(monkeypatch):
    monkeypatch.setattr(pool_module, "_context", lambda: mp.get_context("spawn"))


def _what_the_worker_knows(text: str) -> tuple[str, list[tuple[str, str, str, str | None]]]:
    scopes = [(e, c, g.kind, g.secret) for e, c, g in azure.registered_scopes()]
    return redact_text(text), scopes


def test_a_spawned_worker_is_given_the_runs_containers_and_secrets(spawned) -> None:
    endpoint = "https://acct.blob.core.windows.net"
    azure.register_sas(SAS)
    azure.register_scope(endpoint, "data", azure.Grant("sas", "the SAS token in the URL", secret=SAS))
    register_secret("a-token-of-no-known-shape")
    with ProcessPool(1, worker_state.restore, worker_state.capture()) as pool:
        pool.submit(1, _what_the_worker_knows, "failed with a-token-of-no-known-shape")
        events = []
        while pool.pending:
            events.extend(pool.events(timeout=120))
    (event,) = events
    assert event.ok, event.error
    redacted, scopes = event.value
    assert "a-token-of-no-known-shape" not in redacted
    assert (endpoint, "data", "sas", SAS) in scopes


def test_a_split_file_profiles_the_same_with_spawned_workers(spawned, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("id,name,score\n" + "".join(f'{i},"n, {i % 97}",{i % 13}.5\n' for i in range(60_000)))
    size = path.stat().st_size

    def run(**kw) -> list[dict]:
        doc = extract_metadata(ExtractionSettings(path=str(path), **kw)).to_dict()
        assert doc["tables"][0]["error"] is None
        return [{k: v for k, v in c.items() if k != "source_id"} for c in doc["columns"]]

    assert run(workers=2, split_size=size // 4, block_size=1 << 16) == run(workers=1)
