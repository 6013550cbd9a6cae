"""Profiling the same CSV from a local folder and from an Azurite container, in one run.

Reports the wall time of both and their ratio (Azurite / local) in ``extra_info`` (``--benchmark-json``)
and on the terminal.  Nothing here asserts
on a timing.  Default scale: 8 MiB of CSV; ``BENCH_SCALE=full``: 100 MiB.  The data is generated once
(seeded) under ``benchmarks/.data/`` and uploaded to a fresh Azurite each run.
"""

from __future__ import annotations

import os
import random
import statistics
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from nuvyn_executor.engine.extract import extract_metadata
from nuvyn_executor.engine.kernels.warmup import warmup
from nuvyn_executor.engine.settings import ExtractionSettings
from tests.azurite import (
    Azurite,
    azurite_for,
    container_sas,
    upload_folder,
)

DATA = Path(__file__).resolve().parent / ".data"
FULL = os.environ.get("BENCH_SCALE", "").lower() == "full"
MIB = 100 if FULL else 8
ROUNDS = 3


def _generate(path: Path, mib: int) -> None:
    """Orders-like CSV: ids, codes, amounts, dates, a small set of statuses and a quoted comment."""
    rng = random.Random(20240101)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w") as fh:
        fh.write("order_id,customer,amount,quantity,order_date,status,comment\n")
        i = size = 0
        while size < mib << 20:
            rows = []
            for _ in range(10_000):
                i += 1
                rows.append(
                    f"{i},C{rng.randrange(50_000):06d},{rng.random() * 1000:.2f},{rng.randrange(1, 20)},"
                    f"2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d},"
                    f'{rng.choice(("open", "shipped", "returned", "cancelled"))},"note {rng.randrange(1000)}, ok"\n'
                )
            chunk = "".join(rows)
            fh.write(chunk)
            size += len(chunk)
    tmp.rename(path)


@pytest.fixture(scope="module")
def folder() -> Path:
    d = DATA / f"azure-csv-{MIB}mib"
    if not (d / "orders.csv").exists():
        d.mkdir(parents=True, exist_ok=True)
        _generate(d / "orders.csv", MIB)
    return d


@pytest.fixture(scope="module")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    yield from azurite_for(tmp_path_factory)


@pytest.fixture(scope="module")
def container_url(azurite: Azurite, folder: Path) -> Iterator[str]:
    name = f"bench{uuid.uuid4().hex[:12]}"
    service = azurite.service()
    container = service.create_container(name)
    try:
        upload_folder(container, folder)
        yield f"{azurite.endpoint}/{name}?{container_sas(name)}"
    finally:
        container.close()
        service.close()


def test_csv_local_vs_azurite(
    benchmark: object, folder: Path, container_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    warmup()  # compile the kernels before anything is timed
    local = ExtractionSettings(path=str(folder))
    remote = ExtractionSettings(path=container_url)
    local_times = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        expected = extract_metadata(local)
        local_times.append(time.perf_counter() - t0)
    result = benchmark.pedantic(extract_metadata, args=(remote,), rounds=ROUNDS, iterations=1)  # type: ignore[attr-defined]
    # the same answer from both (not a timing)
    assert [t["row_count"] for t in result.tables] == [t["row_count"] for t in expected.tables]
    azure_mean = benchmark.stats.stats.mean  # type: ignore[attr-defined]
    local_mean = statistics.mean(local_times)
    size = sum(p.stat().st_size for p in folder.iterdir())
    info = benchmark.extra_info  # type: ignore[attr-defined]
    info.update(
        {
            "mib": round(size / (1 << 20), 1),
            "workers": local.effective_workers,
            "local_mean_s": round(local_mean, 3),
            "azurite_mean_s": round(azure_mean, 3),
            "ratio_azurite_to_local": round(azure_mean / local_mean, 2),
            "local_mib_per_s": round(size / (1 << 20) / local_mean, 1),
            "azurite_mib_per_s": round(size / (1 << 20) / azure_mean, 1),
        }
    )
    with capsys.disabled():
        print(f"\nazure vs local, {info['mib']} MiB of CSV, {info['workers']} workers: local {info['local_mean_s']} s, "
              f"azurite {info['azurite_mean_s']} s, ratio {info['ratio_azurite_to_local']}")  # fmt: skip
