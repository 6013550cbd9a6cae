"""Planning, submitting, collecting and merging the work of one run.

Plan: every table (``discovery.tables``) becomes file plans: its files, with what the table adds to each
(partition values, a Delta table's logical names and declared types, read from its log here).  Plain
delimited files larger than twice the split size are cut into byte ranges and large Parquet files into
runs of row groups (one task each); other files are batched into units of a few MiB so per-task overhead
stays small.  Run: units go to a process pool (or run inline for ``--workers 1`` and tiny inputs);
a worker left with nothing queued takes the end of the busiest running byte range (``_steal``);
results are merged as they arrive, in two steps: the parts of one file into the file's result, then the
files of one table into the table's (the same merge whether a table is one file split in ranges or a
folder of many files); a unit whose worker died is retried once, file by file, and then recorded as
failed.  Progress is reported through a callback; nothing here writes to stdout or stderr.
"""

from __future__ import annotations

import dataclasses
import gc
import itertools
import logging
import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..discovery import worker_state
from ..discovery.base import FileRef
from ..discovery.tables import KIND_DELTA, KIND_FILE, TableGroup
from ..errors import ExecutorError
from ..kernels.warmup import warmup
from ..profile.table import ProfileOptions, TableProfile
from ..readers import ReadOptions, detect_format
from ..readers.csv_reader import plan_csv_split
from ..readers.dialect import Dialect
from ..readers.parquet import row_group_sizes
from ..settings import DEFAULT_SMALL_UNIT_BYTES, DEFAULT_SMALL_UNIT_FILES, ExtractionSettings
from .pool import InlinePool, ProcessPool, Task
from .share import RangeShare
from .tasks import (
    CONSTANT_POSITION,
    FilePlan,
    FileResult,
    TaskOptions,
    failed,
    finalized,
    w_profile_files,
    w_profile_range,
    w_profile_row_groups,
)

if TYPE_CHECKING:
    from ..readers.delta import DeltaSnapshot

log = logging.getLogger(__name__)

INLINE_BYTES = 16 << 20  # below this much data, forking workers costs more than it saves
MIN_RANGE = 16 << 20  # the smallest byte range (or run of row groups) a large file is split into
# A range cut from a running one (``_steal``) costs its worker a fixed amount beyond its bytes: the scan for
# its first record, and its sketches filling from empty, being sent back and merged (~3 ms for SF1
# lineitem's 16 columns, ~0.2 ms a column).  In bytes of work (``range_cost``): this much per column, and
# at least the minimum.
MIN_RANGE_COST = 1 << 20
RANGE_COST_PER_COLUMN = 96 << 10


@dataclass(frozen=True)
class Progress:
    bytes_done: int
    bytes_total: int
    files_done: int
    files_total: int


ProgressCallback = Callable[[Progress], None]


@dataclass
class _Unit:
    plans: tuple[FilePlan, ...]
    nbytes: int
    attempts: int = 0
    # one part of a split file: a byte range of delimited text, or a run of Parquet row groups
    split: str | None = None  # "range" or "row_groups"
    dialect: object | None = None
    start: int = 0
    end: int | None = None
    part: int = 0

    @property
    def is_part(self) -> bool:
        return self.split is not None


@dataclass
class _Split:
    parts: int
    merged: FileResult | None = None
    received: int = 0


@dataclass
class _Table:
    group: TableGroup
    expected: int
    snapshot: DeltaSnapshot | None = None
    done: set[str] = field(default_factory=set)
    merged: dict[str | None, FileResult] = field(default_factory=dict)


@dataclass
class _State:
    tables: dict[str, _Table] = field(default_factory=dict)
    splits: dict[str, _Split] = field(default_factory=dict)
    finished: list[FileResult] = field(default_factory=list)
    bytes_done: int = 0
    files_done: int = 0
    prefer_decimal: bool = False


def arrow_threads(inline: bool, processes: int) -> bool:
    """Whether Arrow may decode on its own threads: in-process, or with fewer worker processes than
    cores; not when the workers keep every core busy already (``ReadOptions.arrow_threads``)."""
    return inline or processes < (os.cpu_count() or 1)


def task_options(settings: ExtractionSettings) -> TaskOptions:
    return TaskOptions(
        read=ReadOptions(
            block_size=settings.block_size,
            header=settings.header,
            null_values=settings.null_values,
            metadata_only=settings.metadata_only,
        ),
        profile=ProfileOptions(
            sample_size=settings.sample_size,
            seed=settings.seed,
            null_tokens=settings.null_values,
            prefer_decimal=settings.prefer_decimal,
        ),
    )


# --- planning -------------------------------------------------------------------------------------------


def _delta_plans(group: TableGroup) -> tuple[DeltaSnapshot, list[FilePlan]]:
    """Read a Delta table's log; its live files become plans (values read from those files only)."""
    from ..readers.delta import read_snapshot  # Delta tables only

    snapshot = read_snapshot(group.log)
    types = {c.name: c for c in snapshot.columns}
    rename = tuple((c.physical, c.name) for c in snapshot.columns if c.physical != c.name)
    declared = tuple((c.name, c.data_type, c.nullable) for c in snapshot.columns)
    prefix = f"{group.key}/" if group.key else ""
    plans = []
    for f in snapshot.files:
        pv = dict(f.partition_values)
        constants = tuple(
            (name, pv.get(name), types[name].data_type if name in types else None)
            for name in snapshot.partition_columns
        )
        ref = FileRef(
            url=f"{group.location}/{f.path}", rel_path=prefix + f.path, size=f.size, format="parquet"
        )
        plans.append(FilePlan(ref=ref, table_key=group.key, constants=constants, rename=rename,
                              declared=declared, file_type="delta", deletion_vector=f.deletion_vector,
                              table_root=group.location))  # fmt: skip
    return snapshot, plans


def _group_plans(group: TableGroup) -> list[FilePlan]:
    if group.kind == KIND_FILE:
        return [FilePlan(ref=group.files[0], table_key=group.key, whole_table=True)]
    plans = []
    for i, ref in enumerate(group.files):
        values = group.partitions[i] if group.partitions else ()
        plans.append(FilePlan(ref=ref, table_key=group.key, constants=tuple((k, v, None) for k, v in values)))
    return plans


def range_size(size: int, split_size: int, workers: int) -> int:
    """Bytes per range of a split file (see ``range_sizes``): one range per worker where ``split_size``
    allows, and not below ``MIN_RANGE``.

    Fewer, longer ranges: each one starts its columns' sketches empty, so every value a column has seen
    in an earlier range is classified and inserted again, and the sketches are sent back and merged.  On
    SF1 lineitem that was ~5 ms of CPU per range: 14 ranges of 64 MiB took ~70 ms more than one pass in
    a single process, and 2 workers finished SF1 in 0.98 s against 0.95 s with one range each and a
    tail (median of seven interleaved runs).
    """
    floor = min(MIN_RANGE, split_size)
    return min(split_size, max(floor, math.ceil(size / workers)))


def _split_units(
    plan: FilePlan, settings: ExtractionSettings, opts: TaskOptions, workers: int
) -> list[_Unit] | None:
    ref = plan.ref
    if workers < 2 or ref.error or opts.read.metadata_only:
        return None
    step_size = range_size(ref.size, settings.split_size, workers)
    if ref.size < 2 * min(MIN_RANGE, settings.split_size):  # room for two ranges
        return None
    if ref.format not in ("csv", "parquet", "unknown"):
        return None
    try:
        fmt, codec = detect_format(ref)
        if codec is not None:
            return None
        if fmt == "parquet":
            return _row_group_units(plan, row_group_sizes(ref), step_size, workers)
        if fmt != "csv":
            return None
        dialect = plan_csv_split(ref, opts.read)
    except (ExecutorError, OSError) as err:
        log.debug("not splitting `%s`: %s", ref.rel_path, err)
        return None  # the worker reading it whole will report the problem
    if dialect is None:
        return None
    sizes = range_sizes(ref.size, step_size, workers, min(MIN_RANGE, settings.split_size))
    units = []
    start = 0
    for i, n in enumerate(sizes):
        end = None if i == len(sizes) - 1 else start + n
        units.append(_Unit(plans=(plan,), nbytes=n, split="range", dialect=dialect, start=start, end=end,
                           part=i))  # fmt: skip
        start += n
    return units


def range_cost(columns: int) -> int:
    """A new range's fixed cost in bytes of work, for a table of ``columns`` columns: a running range is
    cut only when at least twice this is left, and the worker taking the end gets this much less than
    the one keeping the start, so both finish together (``share.RangeShare.cut``)."""
    return max(MIN_RANGE_COST, RANGE_COST_PER_COLUMN * columns)


def range_sizes(size: int, step: int, workers: int, floor: int) -> list[int]:
    """Byte counts of the consecutive ranges of a ``size``-byte file: equal ranges of at most ``step``, as
    many for every worker where that keeps them above ``floor``.

    No smaller ranges end the file to even out the workers' finishing times: a worker that falls idle
    takes about half of what a busy one has left instead (``_steal``), so every range is as long as it
    can be (each is a fixed cost).
    """
    n = math.ceil(size / step)
    every = math.ceil(n / workers) * workers
    if size // every >= floor:
        n = every
    return [size // n + (1 if i < size % n else 0) for i in range(n)]


def row_group_runs(sizes: list[int], file_size: int, step: int, workers: int) -> list[tuple[int, int]]:
    """``[first, end)`` runs of consecutive row groups (of ``sizes`` bytes each) for a file of ``file_size``
    bytes: ``file_size / step`` runs rounded up to as many for every worker, each about as large.

    Cut where the running total of the row groups crosses each run's share of their total.  (Counting
    runs in row-group bytes, which are uncompressed, against ``step``, which is in file bytes, would give
    SF1 lineitem's 53 row groups three runs of 17 and one of 2 with one range per worker: one worker would
    profile two thirds of the file.)
    """
    n = min(len(sizes), math.ceil(math.ceil(file_size / step) / workers) * workers)
    if n < 2:
        return [(0, len(sizes))]
    total = sum(sizes) or 1
    cuts = [0]
    acc = 0
    for i, s in enumerate(sizes[:-1]):
        acc += s
        if len(cuts) < n and acc * n >= total * len(cuts):
            cuts.append(i + 1)
    cuts.append(len(sizes))
    return list(itertools.pairwise(cuts))


def _row_group_units(plan: FilePlan, sizes: list[int], step: int, workers: int) -> list[_Unit] | None:
    """The runs of ``row_group_runs`` as work units (None: not worth splitting)."""
    runs = row_group_runs(sizes, plan.ref.size, step, workers)
    if len(runs) < 2:
        return None
    size = plan.ref.size
    total = sum(sizes) or 1
    return [
        _Unit(
            plans=(plan,),
            nbytes=max(1, size * sum(sizes[a:b]) // total),
            split="row_groups",
            start=a,
            end=b,
            part=i,
        )
        for i, (a, b) in enumerate(runs)
    ]


def plan(
    plans: Sequence[FilePlan], settings: ExtractionSettings, opts: TaskOptions, workers: int
) -> list[_Unit]:
    """Work units: parts of large files, and batches of other files."""
    units: list[_Unit] = []
    total = sum(p.ref.size for p in plans)
    # keep at least ~4 units per worker when files are small, so no worker idles at the end
    cap_bytes = max(1 << 20, min(DEFAULT_SMALL_UNIT_BYTES, total // max(1, 4 * workers)))
    cap_files = max(1, min(DEFAULT_SMALL_UNIT_FILES, len(plans) // max(1, 4 * workers)))
    batch: list[FilePlan] = []
    batch_bytes = 0

    def flush() -> None:
        nonlocal batch, batch_bytes
        if batch:
            units.append(_Unit(plans=tuple(batch), nbytes=batch_bytes))
        batch, batch_bytes = [], 0

    for p in plans:
        parts = _split_units(p, settings, opts, workers)
        if parts:
            units.extend(parts)
            continue
        if p.ref.size >= cap_bytes:
            units.append(_Unit(plans=(p,), nbytes=p.ref.size))
            continue
        batch.append(p)
        batch_bytes += p.ref.size
        if batch_bytes >= cap_bytes or len(batch) >= cap_files:
            flush()
    flush()
    # biggest first: a large unit started last would leave the other workers idle
    units.sort(key=lambda u: -u.nbytes)
    return units


# --- running --------------------------------------------------------------------------------------------


def _submit(pool: ProcessPool | InlinePool, task_id: int, unit: _Unit, opts: TaskOptions) -> None:
    unit.attempts += 1
    if unit.split == "range":
        pool.submit(task_id, w_profile_range, *_range_args(unit, opts))
    elif unit.split == "row_groups":
        pool.submit(task_id, w_profile_row_groups, unit.plans[0], unit.start, unit.end, unit.part, opts)
    else:
        pool.submit(task_id, w_profile_files, unit.plans, opts)


def run_tables(
    groups: Sequence[TableGroup],
    settings: ExtractionSettings,
    progress: ProgressCallback | None = None,
) -> list[FileResult]:
    """Profile every table; returns one ``FileResult`` per table (per sheet of a workbook)."""
    opts = task_options(settings)
    workers = settings.effective_workers
    state = _State(prefer_decimal=settings.prefer_decimal)
    plans: list[FilePlan] = []
    for group in groups:
        snapshot = None
        try:
            if group.kind == KIND_DELTA:
                snapshot, group_plans = _delta_plans(group)
            else:
                group_plans = _group_plans(group)
        except (ExecutorError, OSError) as err:
            state.finished.append(_table_failure(group, f"{err}"))
            continue
        if not group_plans:  # a Delta table with no live file
            assert snapshot is not None
            state.finished.append(_finish(_Table(group, 0, snapshot), None, FileResult(
                rel_path=group.key, size=0, file_type="delta", profile=TableProfile(), table_key=group.key,
                file_count=0)))  # fmt: skip
            continue
        state.tables[group.key] = _Table(group, len(group_plans), snapshot)
        plans.extend(group_plans)
    warmup()  # first: planning sniffs text with the kernels, and workers forked later inherit them
    units = plan(plans, settings, opts, workers)
    total_bytes = sum(p.ref.size for p in plans)
    # An explicit --workers N is honoured; by default tiny runs stay in-process (forking costs more).
    inline = workers == 1 or len(units) <= 1 or (settings.workers is None and total_bytes < INLINE_BYTES)
    if not arrow_threads(inline, min(workers, len(units))):
        opts = dataclasses.replace(opts, read=dataclasses.replace(opts.read, arrow_threads=False))
    # Everything alive now (modules, the compiled kernels' object graphs) lives for the whole run: keep it
    # out of the cyclic collector's full passes (measured at ~5% of a large run's CPU) and out of the
    # pages a forked worker would copy when a collection touches their reference counts.  Unfrozen when
    # the run ends, so a notebook calling the library keeps its own garbage collectable.
    gc.freeze()
    try:
        return _run_units(units, state, plans, settings, opts, workers, inline, total_bytes, progress)
    finally:
        gc.unfreeze()


def _run_units(
    units: list[_Unit],
    state: _State,
    plans: list[FilePlan],
    settings: ExtractionSettings,
    opts: TaskOptions,
    workers: int,
    inline: bool,
    total_bytes: int,
    progress: ProgressCallback | None,
) -> list[FileResult]:
    for unit in units:
        if unit.is_part:
            state.splits.setdefault(unit.plans[0].ref.rel_path, _Split(parts=0)).parts += 1

    def report() -> None:
        if progress is not None:
            progress(Progress(state.bytes_done, total_bytes, state.files_done, len(plans)))

    pool: ProcessPool | InlinePool = (
        InlinePool()
        if inline
        else ProcessPool(min(workers, len(units)), worker_state.restore, worker_state.capture())
    )
    by_task: dict[int, _Unit] = {}
    ids = itertools.count()
    if isinstance(pool, ProcessPool):
        pool.when_idle(lambda p: _steal(p, by_task, state, opts, ids))
    with pool:
        for unit in units:
            _submit_all(pool, by_task, opts, ids, [unit])
            if inline:
                _drain(pool, by_task, state, opts, ids, report, timeout=0)
        while pool.pending:
            _drain(pool, by_task, state, opts, ids, report, timeout=settings.progress_interval)
            report()
    report()
    return state.finished


def _steal(
    pool: ProcessPool, by_task: dict[int, _Unit], state: _State, opts: TaskOptions, ids: Iterator[int]
) -> list[Task]:
    """For a worker with nothing queued: the end of what the busiest running byte range has not read yet,
    if enough is left to be worth a range of its own (``range_cost``; ``share.RangeShare.cut``)."""
    best: tuple[int, int, _Unit, RangeShare] | None = None
    for task_id, unit in by_task.items():
        share = pool.running_share(task_id) if unit.split == "range" else None
        left = share.remaining(task_id) if share is not None else 0
        if share is not None and left and (best is None or left > best[0]):
            best = (left, task_id, unit, share)
    if best is None:
        return []
    _, task_id, unit, share = best
    plan = unit.plans[0]
    assert isinstance(unit.dialect, Dialect)
    cut = share.cut(task_id, range_cost(len(unit.dialect.names)))
    if cut is None:
        return []
    at, end = cut
    log.debug("`%s`: an idle worker takes bytes %d-%d from a running range", plan.ref.rel_path, at, end)
    split = state.splits[plan.ref.rel_path]
    rest = _Unit(plans=unit.plans, nbytes=end - at, split="range", dialect=unit.dialect, start=at,
                 end=unit.end, part=split.parts, attempts=1)  # fmt: skip
    split.parts += 1
    # the running unit now ends at the cut: a retry after its worker died reads only that far
    unit.end, unit.nbytes = at, max(0, unit.nbytes - rest.nbytes)
    task_id = next(ids)
    by_task[task_id] = rest
    return [(task_id, w_profile_range, _range_args(rest, opts))]


def _range_args(unit: _Unit, opts: TaskOptions) -> tuple[object, ...]:
    return (unit.plans[0], unit.dialect, unit.start, unit.end, unit.part, opts)


def _drain(
    pool: ProcessPool | InlinePool,
    by_task: dict[int, _Unit],
    state: _State,
    opts: TaskOptions,
    ids: Iterator[int],
    report: Callable[[], None],
    timeout: float | None,
) -> None:
    for event in pool.events(timeout):
        unit = by_task.pop(event.task_id)
        if event.ok:
            _submit_all(pool, by_task, opts, ids, _record_unit(state, unit, list(event.value)))
            state.bytes_done += unit.nbytes
        elif event.died and unit.attempts < 2:
            # Retry once on a fresh worker, one file per unit so a bad file cannot take others down again.
            log.warning("retrying %d file(s) whose worker died", len(unit.plans))
            retries = (
                [unit]
                if unit.is_part
                else [_Unit(plans=(p,), nbytes=p.ref.size, attempts=1) for p in unit.plans]
            )
            _submit_all(pool, by_task, opts, ids, retries)
            continue
        else:
            why = event.error.splitlines()[0] if event.error else "unknown failure"
            if event.died:
                why = f"{why} while profiling this file, twice"
            results = []
            for p in unit.plans:
                r = failed(p.ref, why, internal=not event.died)
                r = dataclasses.replace(r, table_key=p.table_key if p.table_key != p.ref.rel_path else None)
                if unit.is_part:
                    r = dataclasses.replace(r, part=unit.part, size=p.ref.size if unit.part == 0 else 0,
                                            file_count=1 if unit.part == 0 else 0)  # fmt: skip
                results.append(r)
            _submit_all(pool, by_task, opts, ids, _record_unit(state, unit, results))
            state.bytes_done += unit.nbytes
        report()


def _submit_all(
    pool: ProcessPool | InlinePool,
    by_task: dict[int, _Unit],
    opts: TaskOptions,
    ids: Iterator[int],
    units: list[_Unit],
) -> None:
    """Submit ``units``, each under a new task id."""
    for unit in units:
        task_id = next(ids)
        by_task[task_id] = unit
        _submit(pool, task_id, unit, opts)


def _record_unit(state: _State, unit: _Unit, results: list[FileResult]) -> list[_Unit]:
    """Fold a unit's results in: parts into their file, then whole files into their table.  Returns the
    units to run again: a split file whose ranges met inside a quoted field, whole."""
    again: list[_Unit] = []
    by_file: dict[str, list[FileResult]] = {}
    for r in results:
        by_file.setdefault(r.rel_path, []).append(r)
    for rel_path, file_results in by_file.items():
        split = state.splits.get(rel_path)
        if split is not None and unit.is_part:
            (r,) = file_results
            split.received += 1
            split.merged = r if split.merged is None else split.merged.merge_part(r)
            if split.received < split.parts:
                continue
            if split.merged.resplit:
                log.info("`%s`: a quoted field spans a point where the file was split: profiling it whole",
                         rel_path)  # fmt: skip
                again.append(_Unit(plans=unit.plans, nbytes=0))
                continue
            file_results = [dataclasses.replace(split.merged, part=None)]
        state.files_done += 1
        _record_file(state, rel_path, file_results)
    return again


def _record_file(state: _State, rel_path: str, results: list[FileResult]) -> None:
    key = results[0].key[0]
    table = state.tables[key]
    for r in results:
        if not table.group.is_folder:
            state.finished.append(finalized(r, state.prefer_decimal))
            continue
        seen = table.merged.get(r.sub)
        table.merged[r.sub] = r if seen is None else seen.merge_file(r)
    table.done.add(rel_path)
    if len(table.done) == table.expected and table.group.is_folder:
        for sub, merged in sorted(table.merged.items(), key=lambda kv: kv[0] or ""):
            state.finished.append(finalized(_finish(table, sub, merged), state.prefer_decimal))
        table.merged.clear()


def _table_failure(group: TableGroup, message: str) -> FileResult:
    return FileResult(
        rel_path=group.key,
        size=sum(r.size for r in group.files) + sum(r.size for r in group.log),
        file_type="delta"
        if group.kind == KIND_DELTA
        else (group.files[0].format if group.files else "unknown"),
        error=message,
        table_key=group.key,
        file_count=len(group.files),
        folder=group.is_folder,
        partition_columns=group.partition_columns,
    )


def _finish(table: _Table, sub: str | None, merged: FileResult) -> FileResult:
    """A folder table's result: its path, the files that failed, the Delta log's schema and row count."""
    group, snapshot = table.group, table.snapshot
    profile = merged.profile
    warnings = list(merged.warnings)
    error = None
    if merged.failed_files:
        total = merged.file_count
        if profile is None:
            first = merged.failed_files[0]
            error = f"none of the {total} files could be read; `{first[0]}`: {first[1]}"
        else:
            warnings.extend(f"file `{path}` could not be read: {why}" for path, why in merged.failed_files)
    elif merged.error is not None:
        error = merged.error
    if profile is not None and group.partition_columns:
        profile = profile.conform(
            [c.name for c in profile.columns if c.position < CONSTANT_POSITION]
            + list(group.partition_columns)
        )
    if snapshot is not None and profile is not None:
        declared = {c.name: (c.data_type, c.nullable) for c in snapshot.columns}
        profile = profile.conform([c.name for c in snapshot.columns], declared)
        log_rows = snapshot.row_count
        if log_rows is not None and log_rows != profile.row_count:
            warnings.append(
                f"the Delta log counts {log_rows} records, the live files hold {profile.row_count}"
            )
        if log_rows is not None:
            profile = dataclasses.replace(profile, row_count=log_rows)
        warnings.extend(snapshot.warnings)
        warnings.append(f"Delta snapshot version {snapshot.version}, {len(snapshot.files)} live file(s)")
    if profile is not None:
        warnings.extend(profile.schema_differences())
    return dataclasses.replace(
        merged,
        rel_path=group.key,
        table_key=group.key,
        folder=True,
        partition_columns=snapshot.partition_columns if snapshot is not None else group.partition_columns,
        profile=profile,
        error=error,
        file_type="delta" if snapshot is not None else merged.file_type,
        warnings=tuple(sorted(set(warnings))),
    )
