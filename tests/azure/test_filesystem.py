"""The Azure FileSystem against Azurite, through the counting proxy: what is read, and how many requests and
bytes it costs (ranged reads, a bounded stream, a footer-first random file), plus blobs that change
mid-read and clients across a fork."""

from __future__ import annotations

import multiprocessing as mp
import os
import random
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nuvyn_executor.engine.discovery import azure as az
from nuvyn_executor.engine.discovery.azure import clients, listing, reading
from nuvyn_executor.engine.discovery.base import FileRef, filesystem_for
from nuvyn_executor.engine.errors import ReadError

from ..azurite import Azurite, FaultProxy, container_sas
from .conftest import url


def _refs(azurite: Azurite, container: Any, port: int | None = None) -> dict[str, FileRef]:
    endpoint = azurite.endpoint_via(port) if port else azurite.endpoint
    found = az.discover_azure(
        url(endpoint, container.container_name, "", container_sas(container.container_name))
    )
    return {r.rel_path: r for r in found}


def _traffic(proxy: FaultProxy, name: str) -> tuple[int, int]:
    """(GET requests, response bytes) for one blob."""
    hits = [r for r in proxy.requests if r.method == "GET" and urlsplit(r.path).path.endswith("/" + name)]
    return len(hits), sum(r.nbytes for r in hits)


def _drain(stream: Any) -> int:
    total = 0
    while chunk := stream.read(1 << 20):
        total += len(chunk)
    return total


def _noise(n: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(n)


def test_read_range_at_and_past_the_end(azurite: Azurite, container: Any) -> None:
    data = _noise(300_000)
    container.upload_blob("blob.dat", data)
    container.upload_blob("empty.csv", b"")
    refs = _refs(azurite, container)
    fs = filesystem_for(refs["blob.dat"].url)
    assert isinstance(fs, az.AzureFileSystem)
    u = refs["blob.dat"].url
    assert fs.read_range(u, 0, 8) == data[:8]
    assert fs.read_range(u, 299_990, 100) == data[299_990:]
    assert fs.read_range(u, 100_000, 250_000) == data[100_000:350_000]
    assert fs.read_range(u, 300_000, 10) == b""
    assert fs.read_range(u, 999_999, 10) == b""
    assert fs.read_range(refs["empty.csv"].url, 0, 8) == b""
    with fs.open_stream(refs["empty.csv"].url) as stream:
        assert stream.read() == b""
    assert refs["blob.dat"].size == 300_000
    assert "sig=" not in u


@pytest.mark.parametrize(
    ("start", "end"), [(0, None), (0, 5_000_000), (1, None), (1_500_000, 4_200_001), (7, 7)]
)
def test_stream_returns_exactly_the_range(
    azurite: Azurite, container: Any, start: int, end: int | None
) -> None:
    data = _noise(5 << 20, seed=start)
    container.upload_blob("s.dat", data)
    u = _refs(azurite, container)["s.dat"].url
    with filesystem_for(u).open_stream(u, start, end) as stream:
        parts = []
        while chunk := stream.read(777_777):
            parts.append(chunk)
    assert b"".join(parts) == data[start:end]


def test_stream_stays_one_range_ahead_of_the_reader(
    azurite: Azurite, container: Any, proxy: FaultProxy
) -> None:
    data = _noise(24 << 20, seed=1)
    container.upload_blob("big.csv", data)
    u = _refs(azurite, container, proxy.port)["big.csv"].url
    proxy.reset()
    stream = filesystem_for(u).open_stream(u)
    consumed = len(stream.read(3 << 20))
    stream.close()  # waits for the download in flight
    requests, transferred = _traffic(proxy, "big.csv")
    assert consumed == 3 << 20
    assert transferred <= consumed + clients.MAX_CHUNK + reading.HEAD_BYTES
    assert requests <= 4


def test_parquet_footer_costs_a_couple_of_small_requests(
    azurite: Azurite, container: Any, proxy: FaultProxy, tmp_path: Path
) -> None:
    n = 400_000
    table = pa.table({
        "id": pa.array(range(n), pa.int64()),
        "noise": pa.array(np.random.default_rng(7).random(n)),
        "text": pa.array(np.arange(n) * 7919 % 10007).cast(pa.string()),
    })  # fmt: skip
    path = tmp_path / "wide.parquet"
    pq.write_table(table, path, row_group_size=50_000, compression="none")
    assert path.stat().st_size > 8 << 20
    container.upload_blob("wide.parquet", path.read_bytes())
    u = _refs(azurite, container, proxy.port)["wide.parquet"].url
    reading.forget_head()
    proxy.reset()
    meta = pq.ParquetFile(filesystem_for(u).open_random(u)).metadata
    requests, transferred = _traffic(proxy, "wide.parquet")
    assert (meta.num_rows, meta.num_row_groups) == (n, 8)
    assert requests <= 3
    assert transferred < 1 << 20
    assert pq.read_table(filesystem_for(u).open_random(u)).equals(pq.read_table(path))


def test_small_blob_random_access_is_one_request(
    azurite: Azurite, container: Any, proxy: FaultProxy, tmp_path: Path
) -> None:
    path = tmp_path / "small.parquet"
    pq.write_table(pa.table({"a": [1, 2, 3], "b": ["x", None, "z"]}), path)
    container.upload_blob("small.parquet", path.read_bytes())
    u = _refs(azurite, container, proxy.port)["small.parquet"].url
    reading.forget_head()
    proxy.reset()
    f = filesystem_for(u).open_random(u)
    assert pq.read_table(f).equals(pq.read_table(path))
    assert f.size() == path.stat().st_size
    assert _traffic(proxy, "small.parquet")[0] == 1


def test_random_file_seeks_and_reads(azurite: Azurite, container: Any) -> None:
    data = _noise(3 << 20, seed=5)
    container.upload_blob("r.dat", data)
    u = _refs(azurite, container)["r.dat"].url
    f = filesystem_for(u).open_random(u)
    assert f.size() == len(data)
    for pos, n in [
        (len(data) - 8, 8),
        (0, 4),
        (1 << 20, 100_000),
        (len(data) - 70_000, 70_000),
        (123, 2 << 20),
    ]:
        f.seek(pos)
        assert f.read(n) == data[pos : pos + n]
    f.seek(-10, 2)
    assert f.read(100) == data[-10:]
    assert f.read(10) == b""


def test_a_blob_replaced_mid_read_is_a_read_error(azurite: Azurite, container: Any) -> None:
    container.upload_blob("moving.csv", _noise(12 << 20, seed=2))
    u = _refs(azurite, container)["moving.csv"].url
    reading.forget_head()
    stream = filesystem_for(u).open_stream(u)
    stream.read(300_000)
    container.upload_blob("moving.csv", _noise(12 << 20, seed=3), overwrite=True)
    with pytest.raises(ReadError, match=r"blob `.*/moving.csv` changed while it was being read"):
        _drain(stream)
    stream.close()


def _child_read(u: str, queue: Any) -> None:
    data = filesystem_for(u).read_range(u, 300_000, 1000)
    mine = [key for key in clients._CLIENTS if key[0] == os.getpid()]
    queue.put((os.getpid(), data, len(mine)))


def test_forked_children_build_their_own_clients(azurite: Azurite, container: Any) -> None:
    data = _noise(400_000, seed=9)
    container.upload_blob("f.dat", data)
    u = _refs(azurite, container)["f.dat"].url
    fs = filesystem_for(u)
    assert fs.read_range(u, 300_000, 1000) == data[300_000:301_000]  # the parent's client now exists
    parent_client = clients._CLIENTS[(os.getpid(), clients.scope_for(u)[0].prefix)]
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_child_read, args=(u, queue)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert {pid for pid, _, _ in results} == {p.pid for p in procs}
    assert all(got == data[300_000:301_000] and clients == 1 for _, got, clients in results)
    # the parent's own client is untouched by its children and still works
    assert clients._CLIENTS[(os.getpid(), clients.scope_for(u)[0].prefix)] is parent_client
    assert fs.read_range(u, 350_000, 10) == data[350_000:350_010]


def test_listing_pages_through_the_container(
    azurite: Azurite, container: Any, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [f"p/{i:02d}.csv" for i in range(10)] + ["p/_SUCCESS", "p/.hidden.csv", "p/notes.md"]
    for name in names:
        container.upload_blob(name, b"a\n1\n")
    monkeypatch.setattr(listing, "LIST_PAGE_SIZE", 3)
    proxy.reset()
    found = az.discover_azure(url(azurite.endpoint_via(proxy.port), container.container_name, "p",
                                  container_sas(container.container_name)))  # fmt: skip
    first = next(found)  # a generator: the first page is enough for the first file
    assert first.rel_path == "00.csv"
    assert len([r for r in proxy.requests if "comp=list" in r.path]) == 1
    rest = list(found)
    assert [r.rel_path for r in [first, *rest]] == [f"{i:02d}.csv" for i in range(10)]
    assert all(r.size == 4 and r.format == "csv" for r in rest)
    pages = [r for r in proxy.requests if "comp=list" in r.path]
    assert len(pages) == 5  # 13 names, 3 a page
    assert all("marker=" in r.path for r in pages[1:])
