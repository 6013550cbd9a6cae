"""A worker that dies (killed, out of memory) costs one retry, then one failed file; never the run."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from nuvyn_executor.engine import extract_metadata
from nuvyn_executor.engine.scheduler import run as run_module
from nuvyn_executor.engine.scheduler import tasks
from nuvyn_executor.engine.settings import ExtractionSettings

pytestmark = pytest.mark.timeout(120)

_real = tasks.w_profile_files
_CONTROL = "NUVYN_TEST_CONTROL_DIR"


def _wait_on_victim(plans, opts):
    """Stands in for the worker function: files named victim* hang (recording the worker's pid)."""
    control = Path(os.environ[_CONTROL])
    for plan in plans:
        if plan.ref.name.startswith("victim"):
            attempt = len(list(control.glob("pid-*"))) + 1
            (control / f"pid-{attempt}").write_text(str(os.getpid()))
            if (control / f"spare-{attempt}").exists():
                break  # this attempt is allowed to finish
            time.sleep(60)
    return _real(plans, opts)


def _killer(control: Path, kills: int, done: threading.Event) -> None:
    for attempt in range(1, kills + 1):
        pid_file = control / f"pid-{attempt}"
        while not pid_file.exists() and not done.is_set():
            time.sleep(0.02)
        if done.is_set():
            return
        time.sleep(0.05)
        pid = int(pid_file.read_text())
        assert pid != os.getpid(), "the victim ran in the test process, not in a worker"
        os.kill(pid, signal.SIGKILL)


def _run(folder: Path, control: Path, kills: int, monkeypatch) -> dict:
    monkeypatch.setenv(_CONTROL, str(control))
    monkeypatch.setattr(run_module, "w_profile_files", _wait_on_victim)
    done = threading.Event()
    killer = threading.Thread(target=_killer, args=(control, kills, done), daemon=True)
    killer.start()
    try:
        catalog = extract_metadata(ExtractionSettings(path=str(folder), workers=2))
    finally:
        done.set()
        killer.join(5)
    return {t["file_path"]: t for t in catalog.tables}, catalog


@pytest.fixture
def folder(write, data_dir: Path, tmp_path: Path) -> tuple[Path, Path]:
    for i in range(6):
        write(f"good{i}.csv", f"id,v\n{i},x\n{i + 1},y\n")
    write("victim.csv", "id\n1\n")
    control = tmp_path / "control"
    control.mkdir()
    return data_dir, control


def test_killed_twice_is_recorded_and_the_rest_is_profiled(folder, monkeypatch) -> None:
    data_dir, control = folder
    tables, catalog = _run(data_dir, control, kills=2, monkeypatch=monkeypatch)
    victim = tables.pop("victim.csv")
    assert "worker process died (killed by SIGKILL" in victim["error"]
    assert "twice" in victim["error"]
    assert all(t["error"] is None and t["row_count"] == 2 for t in tables.values())
    assert len(tables) == 6
    assert catalog.source["status"] == "partial"
    assert len(list(control.glob("pid-*"))) == 2  # exactly one retry


def test_killed_once_then_the_retry_succeeds(folder, monkeypatch) -> None:
    data_dir, control = folder
    (control / "spare-2").touch()
    tables, catalog = _run(data_dir, control, kills=1, monkeypatch=monkeypatch)
    assert tables["victim.csv"]["error"] is None
    assert tables["victim.csv"]["row_count"] == 1
    assert catalog.source["status"] == "complete"
    assert len(tables) == 7
