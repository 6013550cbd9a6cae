"""Streaming a large CSV blob keeps memory bounded as for the same local file (``tox -e slow``)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from nuvyn_executor.engine.discovery.azure import clients, reading

from ..azurite import Azurite, container_sas, upload_folder
from .conftest import url

# Runs the console script's main and reports the process's peak RSS on stderr when it exits.
_PEAK = (
    "import atexit, resource, sys\n"
    "atexit.register(lambda: print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
    "file=sys.stderr))\n"
    "from nuvyn_executor.cli.main import main\n"
    "main(sys.argv[1:])\n"
)


def _peak_mib(*args: str) -> tuple[float, str]:
    proc = subprocess.run([sys.executable, "-c", _PEAK, *args], capture_output=True, text=True, timeout=900,
                          env=dict(os.environ))  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = re.search(r"PEAK_RSS_KB (\d+)", proc.stderr)
    assert m, proc.stderr[-2000:]
    return int(m.group(1)) / 1024, proc.stdout


def _sdk_import_mib() -> float:
    """Resident memory the Azure SDK's modules cost a process that imports them."""
    code = (
        "import psutil; p = psutil.Process(); a = p.memory_info().rss\n"
        "import azure.storage.blob, azure.core.exceptions\n"
        "print((p.memory_info().rss - a) / 2**20)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return float(out.strip())


def _write_csv(path: Path, mib: int) -> None:
    block = "".join(
        f'{i},C{i * 7919 % 50_000:06d},{i * 0.37:.2f},2024-{1 + i % 12:02d}-{1 + i % 28:02d},"text, {i % 991}"\n'
        for i in range(20_000)
    ).encode()
    with path.open("wb") as fh:
        fh.write(b"id,customer,amount,day,note\n")
        while fh.tell() < mib << 20:
            fh.write(block)


@pytest.mark.slow
def test_a_large_blob_streams_with_memory_bounded_as_for_a_local_file(
    azurite: Azurite, container: Any, tmp_path: Path
) -> None:
    sas = container_sas(container.container_name)
    peaks: dict[tuple[str, int], float] = {}
    rows: dict[tuple[str, int], list[str]] = {}
    for mib in (64, 320):
        folder = tmp_path / f"m{mib}"
        folder.mkdir()
        _write_csv(folder / "data.csv", mib)
        upload_folder(container, folder, f"m{mib}/")
        # --workers 1: one process reads the whole file as one stream (no byte-range split)
        for where, path in (
            ("local", str(folder)),
            ("azure", url(azurite.endpoint, container.container_name, f"m{mib}", sas)),
        ):
            peaks[where, mib], out = _peak_mib("-q", "metadata_extraction", path, "--workers", "1")
            rows[where, mib] = re.findall(r'"row_count": \d+', out)
        (folder / "data.csv").unlink()
    assert rows["azure", 320] == rows["local", 320]
    assert rows["azure", 64] == rows["local", 64]
    # What the Azure run may hold beyond the local one: the SDK's code (measured), the cached head, and
    # two ranges in flight (one downloading ahead, one being parsed) with a copy of each on its way into
    # the parser.  The local reader no longer has those copies: it hands pyarrow the file itself.
    allowance = _sdk_import_mib() + (reading.HEAD_BYTES + 4 * clients.MAX_CHUNK) / (1 << 20) + 16
    assert peaks["azure", 320] <= peaks["local", 320] + allowance, peaks
    # 256 MiB more data costs far less than 256 MiB more memory: nothing holds the blob (the local reader
    # grows by some 80 MiB here too: allocator pools, not data)
    assert peaks["azure", 320] - peaks["azure", 64] < 128, peaks
