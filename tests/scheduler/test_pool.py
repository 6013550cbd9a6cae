"""The process pool hands out one task at a time and lets a worker go as soon as nothing is left for it,
so that its process ends while the others still work (engine/scheduler/pool.py)."""

from __future__ import annotations

import os
import time

import pytest

from nuvyn_executor.engine.scheduler.pool import ProcessPool

pytestmark = pytest.mark.timeout(120)


def _pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def _drain(pool: ProcessPool) -> list:
    events = []
    while pool.pending:
        events.extend(pool.events(timeout=60))
    return events


def test_an_idle_worker_goes_while_another_still_works() -> None:
    with ProcessPool(2) as pool:
        pool.submit(1, _pid_after, 0.0)
        pool.submit(2, _pid_after, 1.5)
        first = []
        while not first:
            first = list(pool.events(timeout=60))
        assert [(e.task_id, e.ok) for e in first] == [(1, True)]
        # the quick task's worker was told to stop: its process ends while task 2 still runs
        assert [w.task for w in pool._workers] == [2]
        gone = first[0].value
        deadline = time.monotonic() + 10
        while _alive(gone) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not _alive(gone)
        assert pool.pending == 1
        # a task submitted now (a retry, say) starts a fresh worker
        pool.submit(3, _pid_after, 0.0)
        rest = _drain(pool)
    assert sorted((e.task_id, e.ok) for e in rest) == [(2, True), (3, True)]
    assert {e.value for e in rest}.isdisjoint({gone})


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_arrow_decodes_on_its_threads_only_where_cores_are_left(monkeypatch) -> None:
    from nuvyn_executor.engine.scheduler import run

    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    assert run.arrow_threads(inline=True, processes=1)
    assert run.arrow_threads(inline=False, processes=3)
    assert not run.arrow_threads(inline=False, processes=4)  # every core has a worker of its own
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # unknown: one core assumed
    assert not run.arrow_threads(inline=False, processes=2)
    assert run.arrow_threads(inline=True, processes=2)
