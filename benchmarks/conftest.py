"""Benchmark fixtures: generated data sets, a process-tree meter, and baselines measured in the same run.

Scale: ``BENCH_SCALE=small`` (default, CI) or ``full`` (the issue's sizes, e.g. TPC-H SF1 lineitem).
Data is generated once into ``benchmarks/.data/`` (git-ignored).  Nothing here asserts on timings:
figures go to pytest-benchmark's ``extra_info`` and to ``benchmarks/.results/<name>.json``.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil
import pytest

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
RESULTS = HERE / ".results"
SCALE = os.environ.get("BENCH_SCALE", "small")
TPCH_SF = {"small": "0.1", "full": "1"}[SCALE]


@dataclass
class Measurement:
    wall_s: float
    cpu_s: float
    peak_rss_mib: float  # the whole process tree, summed (shared pages counted once per process)
    peak_pss_mib: float  # the whole process tree, proportional set size (shared pages split)
    returncode: int


def measure(
    cmd: list[str], env: dict[str, str] | None = None, *, memory: bool = False, interval: float = 0.02
) -> Measurement:
    """Run ``cmd``; with ``memory``, sample the memory of it and all its descendants until it exits.

    CPU time is the change in this process's RUSAGE_CHILDREN: the command and every worker it waited for.
    Timed runs sample nothing: finding a process's descendants walks all of /proc, and on a 2-core machine
    a sampler every 20 ms took ~40 ms from a run whose two workers kept both cores busy, and nothing from a
    one-worker run, which leaves it a core (the speedup read 1.70 sampled, 1.75 not).  So memory comes from
    runs of their own (``with_memory``), whose timing is not used: RSS every 20 ms, and PSS (from
    /proc/PID/smaps, slow to read, holding the process's memory lock) every fifth sample.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **(env or {})}
    )
    root = psutil.Process(proc.pid)
    peak = {"rss": 0.0, "pss": 0.0}
    stop = threading.Event()

    def sample() -> None:
        n = 0
        while not stop.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                break
            with_pss = n % 5 == 0
            rss = pss_total = 0
            for p in procs:
                try:
                    info = p.memory_full_info() if with_pss else p.memory_info()
                except psutil.Error:
                    continue
                rss += info.rss
                pss_total += getattr(info, "pss", info.rss) if with_pss else 0
            peak["rss"] = max(peak["rss"], rss)
            peak["pss"] = max(peak["pss"], pss_total)
            n += 1
            stop.wait(interval)

    thread = threading.Thread(target=sample, daemon=True)
    if memory:
        thread.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    stop.set()
    if memory:
        thread.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 3):
        raise RuntimeError(f"{cmd[:4]} failed ({proc.returncode}): {err.decode()[-2000:]}")
    return Measurement(wall, cpu, peak["rss"] / 2**20, peak["pss"] / 2**20, proc.returncode)


def with_memory(timed: Measurement, cmd: list[str]) -> Measurement:
    """``timed`` with the peak RSS and PSS of one more run of ``cmd``, sampled (see ``measure``)."""
    mem = measure(cmd, memory=True)
    return Measurement(timed.wall_s, timed.cpu_s, max(timed.peak_rss_mib, mem.peak_rss_mib), mem.peak_pss_mib,
                       timed.returncode)  # fmt: skip


def best_of(runs: list[Measurement]) -> Measurement:
    best = min(runs, key=lambda m: m.wall_s)
    return Measurement(best.wall_s, best.cpu_s, max(m.peak_rss_mib for m in runs),
                       max(m.peak_pss_mib for m in runs), best.returncode)  # fmt: skip


def executor_cmd(*args: str) -> list[str]:
    """The console script installed beside this Python, as a user runs it (``python -m`` costs ~5 ms
    more: runpy, and the module imported a second time under its own name)."""
    script = Path(sys.executable).with_name("nuvyn-executor")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "nuvyn_executor.cli.main"]
    return [*head, "-q", "metadata_extraction", *args]


def record(name: str, payload: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    payload = {"scale": SCALE, "cores": os.cpu_count(), **payload}
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2, default=lambda o: asdict(o)))


def tpch_lineitem(scale_factor: str) -> Path:
    """TPC-H lineitem as CSV at a scale factor, generated once by tpchgen-cli into ``benchmarks/.data``."""
    out = DATA / f"tpch-sf{scale_factor}"
    path = out / "lineitem.csv"
    if not path.exists():
        exe = shutil.which("tpchgen-cli") or str(Path(sys.executable).parent / "tpchgen-cli")
        out.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [exe, "csv", "-s", scale_factor, "--tables", "lineitem", "--output-dir", str(out)], check=True
        )
    return path


@pytest.fixture(scope="session")
def lineitem_csv() -> Path:
    """TPC-H lineitem as CSV (SF 0.1 small, SF 1 full)."""
    return tpch_lineitem(TPCH_SF)


@pytest.fixture(scope="session")
def warm_kernels() -> None:
    """Compile (or load) the kernels once, so no benchmark round pays for compilation.

    The package's bytecode is compiled too, as pip does when it installs a wheel: an editable install
    under ``PYTHONDONTWRITEBYTECODE=1`` (set in some CI images) would otherwise compile every module from
    source in every run, ~60 ms that no installed copy pays.
    """
    import compileall

    import nuvyn_executor.cli
    import nuvyn_executor.engine

    for pkg in (nuvyn_executor.engine, nuvyn_executor.cli):
        compileall.compile_dir(str(Path(pkg.__file__).parent), quiet=1)
    subprocess.run([*executor_cmd(str(HERE.parent / "data_samples"))], check=True, stdout=subprocess.DEVNULL)


@pytest.fixture
def once(benchmark):
    """``once(fn, rounds, setup)``: time ``fn`` with pytest-benchmark, a few rounds, no warm-up iterations."""

    def run(fn, rounds: int = 3, setup=None):
        # ``setup`` runs, untimed, before each round: baselines measured there alternate with the timed
        # runs, so a machine whose speed drifts (shared cloud hosts do) slows both sides alike
        return benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=0, setup=setup)

    return run
