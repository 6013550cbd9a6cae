"""Large CSV files split into byte ranges: where the ranges meet, and what happens when a guess is wrong.

Text without quotes never proves that a newline ends a record (a quoted field could have started before
it), so past ``SPECULATE_AFTER`` bytes the boundary is assumed; the range ending there checks the
assumption, and a file whose ranges met inside a quoted field is profiled again whole.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import random
import time
from pathlib import Path

from nuvyn_executor.engine.discovery.base import FileRef
from nuvyn_executor.engine.extract import extract_metadata
from nuvyn_executor.engine.readers import ReadOptions, csv_reader
from nuvyn_executor.engine.readers.csv_reader import SPECULATE_AFTER, plan_csv_split, record_boundary
from nuvyn_executor.engine.scheduler import run
from nuvyn_executor.engine.scheduler.run import (
    plan,
    range_cost,
    range_size,
    range_sizes,
    row_group_runs,
    task_options,
)
from nuvyn_executor.engine.scheduler.share import RangeShare
from nuvyn_executor.engine.scheduler.tasks import FilePlan
from nuvyn_executor.engine.settings import ExtractionSettings


def _run(path: Path, **kw) -> dict:
    return extract_metadata(ExtractionSettings(path=str(path), workers=kw.pop("workers", 1), **kw)).to_dict()


def _columns(doc: dict) -> list[dict]:
    return [{k: v for k, v in c.items() if k != "source_id"} for c in doc["columns"]]


def _records(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [f"{i},{rng.randint(0, 10**6)},{rng.random() * 100:.2f},2024-01-{i % 28 + 1:02d},w{i % 13}\n"
            for i in range(n)]  # fmt: skip


def test_ranges_cover_the_file_one_long_range_per_worker() -> None:
    mib = 1 << 20
    sf1 = 766 * mib + 123
    # one long range per worker: each range costs its sketches' warm-up, and a worker that finishes
    # first takes half of what another has left instead of the plan ending in small ranges
    assert range_size(sf1, 512 * mib, 2) == 383 * mib + 62
    sizes = range_sizes(sf1, range_size(sf1, 512 * mib, 2), 2, 16 * mib)
    assert sum(sizes) == sf1
    assert len(sizes) == 2
    assert sizes[0] - sizes[1] <= 1
    # capped by --split-size, and as many ranges for every worker
    sizes = range_sizes(sf1, range_size(sf1, 64 * mib, 2), 2, 16 * mib)
    assert len(sizes) == 12
    assert all(63 * mib < n <= 64 * mib for n in sizes)
    assert len(range_sizes(sf1, range_size(sf1, 512 * mib, 4), 4, 16 * mib)) == 4
    assert len(range_sizes(sf1, range_size(sf1, 100 * mib, 3), 3, 16 * mib)) == 9
    # rounding up to a multiple of the workers never goes below the floor
    assert range_sizes(100 * mib, 40 * mib, 2, 16 * mib) == [25 * mib] * 4
    assert range_sizes(40 * mib, 30 * mib, 2, 16 * mib) == [20 * mib] * 2
    assert range_sizes(40 * mib, 30 * mib, 4, 16 * mib) == [20 * mib] * 2
    for size in (1, 17 * mib, 129 * mib + 5, 3000 * mib):
        for workers in (2, 3, 4, 8):
            sizes = range_sizes(size, range_size(size, 64 * mib, workers), workers, 16 * mib)
            assert sum(sizes) == size
            assert all(sizes)
            assert max(sizes) - min(sizes) <= 1
    assert range_size(766 * mib, 64 * mib, 2) == 64 * mib  # never above --split-size
    assert range_size(20 * mib, 64 * mib, 4) == 16 * mib  # nor below the smallest range
    # what a range's fixed cost is worth in bytes (an idle worker takes the end of a busy one's range only
    # when twice that is left, and that much less than half): more for wide tables, whose sketches cost
    # more each to fill and merge
    assert range_cost(16) == 1.5 * mib
    assert range_cost(5) == 1 * mib
    assert range_cost(400) == 37.5 * mib


def test_row_groups_split_into_as_many_runs_for_every_worker() -> None:
    mib = 1 << 20
    sf1 = 231_672_087  # lineitem.parquet: 53 row groups of ~6.8 MiB uncompressed, 221 MiB on disk
    groups = [7_130_000] * 53
    assert row_group_runs(groups, sf1, range_size(sf1, 512 * mib, 2), 2) == [(0, 27), (27, 53)]
    runs = row_group_runs(groups, sf1, range_size(sf1, 64 * mib, 2), 2)
    assert len(runs) == 4  # capped by --split-size, rounded up to a multiple of the workers
    assert max(b - a for a, b in runs) - min(b - a for a, b in runs) <= 1
    # cut by the row groups' own sizes, never into empty runs, never more runs than row groups
    assert row_group_runs([100, 1, 1, 1], 100 * mib, 50 * mib, 2) == [(0, 1), (1, 4)]
    assert row_group_runs([1, 1, 1, 100], 100 * mib, 50 * mib, 2) == [(0, 4)]  # no share reached before
    assert row_group_runs([5, 5], 100 * mib, 10 * mib, 4) == [(0, 1), (1, 2)]
    assert row_group_runs([5], 100 * mib, 10 * mib, 2) == [(0, 1)]


def test_a_file_of_odd_size_is_split_too(tmp_path: Path) -> None:
    """One range per worker: a file of 2k+1 bytes once failed ``size >= 2 * ceil(size / 2)`` and was
    profiled whole by one worker (planning only; the file just exceeds two 16 MiB ranges)."""
    path = tmp_path / "odd.csv"
    block = "".join(_records(1_000, 3))
    text = "id,n,x,day,w\n" + block * (33 * (1 << 20) // len(block) + 1)
    path.write_text(text if len(text) % 2 else text[:-1])  # the last record without its line end
    size = path.stat().st_size
    assert size % 2 == 1
    ref = FileRef(url=str(path), rel_path=path.name, size=size, format="csv")
    settings = ExtractionSettings(path=str(path), workers=2)
    units = plan([FilePlan(ref=ref, table_key=ref.rel_path)], settings, task_options(settings), 2)
    assert [u.split for u in units] == ["range", "range"]


def test_a_file_without_quotes_splits_where_its_ranges_meet(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("id,n,x,day,w\n" + "".join(_records(120_000, 1)))
    size = path.stat().st_size
    ref = FileRef(url=str(path), rel_path=path.name, size=size, format="csv")
    dialect = plan_csv_split(ref, ReadOptions(block_size=1 << 20))
    assert dialect is not None
    offset = size // 2
    boundary, certain = record_boundary(ref, offset, dialect)
    assert not certain  # no quote in sight: assumed
    assert offset < boundary < offset + 80  # the next line end, not the end of the file
    assert path.read_bytes()[boundary - 1 : boundary] == b"\n"

    whole = _run(path)
    split = _run(path, workers=2, split_size=size // 5, block_size=1 << 16)
    assert split["tables"][0]["row_count"] == 120_000
    assert _columns(split) == _columns(whole)


def test_ranges_meeting_inside_a_long_quoted_field_are_profiled_again_whole(tmp_path: Path, caplog) -> None:
    # A quoted field of 3 MiB of lines without quotes: split points inside it are guesses, and wrong.
    long_field = '"' + "a line of text, inside quotes\n" * ((3 * SPECULATE_AFTER) // 30) + '"'
    head = "".join(_records(5_000, 2))
    tail = "".join(_records(40_000, 3))
    path = tmp_path / "quoted.csv"
    path.write_text("id,n,x,day,w\n" + head + f"5000,{long_field},1.5,2024-02-01,w0\n" + tail)
    size = path.stat().st_size

    whole = _run(path)
    with caplog.at_level(logging.INFO, logger="nuvyn_executor"):
        split = _run(path, workers=2, split_size=size // 5, block_size=4 << 20)
    assert any("profiling it whole" in r.getMessage() for r in caplog.records)
    assert split["tables"][0]["row_count"] == whole["tables"][0]["row_count"] == 45_001
    assert split["tables"][0]["error"] is None
    assert _columns(split) == _columns(whole)


def test_an_idle_worker_takes_half_of_what_a_busy_one_has_left(tmp_path: Path, caplog, monkeypatch) -> None:
    """Work stealing end to end: the worker reading the first half of the file stalls (a slow disk,
    simulated in the forked workers) until its range has been cut, so the worker with the second half
    finishes first and takes the end of the first range; the profile is the one-worker profile."""
    path = tmp_path / "skewed.csv"
    # quoted fields on every line, so every boundary is certain a few bytes after its offset
    records = "".join(r.replace(",w", ',"w, ') + '"' for r in _records(20_000, 4)).replace('\n"', '"\n')
    header = "id,n,x,day,w\n" if len(records) % 2 else "id,n,x,day,ww\n"
    path.write_text(header + records)
    size = path.stat().st_size
    assert size % 2 == 0  # two ranges of --split-size each
    whole = _run(path)

    read = csv_reader._ClaimedStream.readinto

    def stall_until_cut(self, b):
        deadline = time.monotonic() + 10
        # the first range, after its first read, until it is cut (at about a quarter of the file)
        while 0 < self._pos < size // 4 and self._claims.end == size // 2 and time.monotonic() < deadline:
            time.sleep(0.001)
        return read(self, b)

    monkeypatch.setattr(csv_reader._ClaimedStream, "readinto", stall_until_cut)
    monkeypatch.setattr(run, "MIN_RANGE_COST", 32 << 10)
    monkeypatch.setattr(run, "RANGE_COST_PER_COLUMN", 0)
    with caplog.at_level(logging.DEBUG, logger="nuvyn_executor.engine.scheduler.run"):
        split = _run(path, workers=2, split_size=size // 2, block_size=64 << 10)
    steals = [r.getMessage() for r in caplog.records if "an idle worker takes" in r.getMessage()]
    assert steals
    assert split["tables"][0]["row_count"] == 20_000
    assert split["tables"][0]["error"] is None
    assert _columns(split) == _columns(whole)


def test_a_cut_range_ends_at_the_cut_if_it_is_run_again(tmp_path: Path) -> None:
    """The parent's bookkeeping of a cut: the running unit now ends at the cut (a retry after its worker
    died reads only that far), the new unit reads from there to the old end, and the file expects one
    part more before it is complete."""
    path = tmp_path / "f.csv"
    path.write_text("id,n,x,day,w\n" + "".join(_records(1_000, 5)))
    ref = FileRef(url=str(path), rel_path=path.name, size=40 << 20, format="csv")
    dialect = plan_csv_split(ref, ReadOptions(block_size=1 << 20))
    settings = ExtractionSettings(path=str(path), workers=2)
    opts = task_options(settings)
    unit = run._Unit(plans=(FilePlan(ref=ref, table_key=ref.rel_path),), nbytes=20 << 20, split="range",
                     dialect=dialect, start=20 << 20, end=None, part=1)  # fmt: skip
    state = run._State(splits={ref.rel_path: run._Split(parts=2)})
    share = RangeShare(mp.get_context())

    class Pool:
        def running_share(self, task_id: int) -> RangeShare | None:
            return share if task_id == 7 else None

    share.assign(7)
    assert run._steal(Pool(), {7: unit}, state, opts, iter([8])) == []  # not opened yet: nothing to cut
    assert share.open(20 << 20, 40 << 20) == 40 << 20
    share.claim(20 << 20, 2 << 20, 40 << 20, 40 << 20, lambda end: end)
    by_task = {7: unit}
    ((task_id, fn, args),) = run._steal(Pool(), by_task, state, opts, iter([8]))
    assert (task_id, fn) == (8, run.w_profile_range)
    # 18 MiB not claimed yet: the taker gets half of it less half a range's cost (1 MiB for 5 columns)
    cut = (22 << 20) + (19 << 20) // 2
    assert args[2:5] == (cut, None, 2)  # from the cut to the old end, as part 2
    assert (unit.start, unit.end, unit.nbytes) == (20 << 20, cut, cut - (20 << 20))
    assert by_task[8].nbytes == (40 << 20) - cut
    assert state.splits[ref.rel_path].parts == 3
    assert share.end == cut
    # the worker's next claim sees the cut; a retry that opens the range again keeps it
    assert share.claim(22 << 20, 1 << 20, 40 << 20, 40 << 20, lambda end: end + 5) == (cut, cut + 5, 1 << 20)
    assert share.open(20 << 20, 40 << 20) == cut
