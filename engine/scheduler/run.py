"""Planning, submitting, collecting and merging the work of one run.

Plan: plain delimited files larger than twice the split size are cut into byte ranges (one task each,
merged when all are back); other files are batched into units of a few MiB so per-task overhead stays
small.  Run: units go to a process pool (or run inline for ``--workers 1`` and tiny inputs); results are
merged as they arrive; a unit whose worker died is retried once, file by file, and then recorded as
failed.  Progress is reported through a callback; nothing here writes to stdout or stderr.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..discovery.base import FileRef
from ..errors import ExecutorError
from ..kernels.warmup import warmup
from ..profile.table import ProfileOptions
from ..readers import ReadOptions, detect_format
from ..readers.csv_reader import plan_csv_split
from ..settings import DEFAULT_SMALL_UNIT_BYTES, DEFAULT_SMALL_UNIT_FILES, ExtractionSettings
from .pool import InlinePool, ProcessPool
from .tasks import FileResult, TaskOptions, failed, finalized, w_profile_files, w_profile_range

log = logging.getLogger(__name__)

INLINE_BYTES = 16 << 20  # below this much data, forking workers costs more than it saves


@dataclass(frozen=True)
class Progress:
    bytes_done: int
    bytes_total: int
    files_done: int
    files_total: int


ProgressCallback = Callable[[Progress], None]


@dataclass
class _Unit:
    refs: tuple[FileRef, ...]
    nbytes: int
    attempts: int = 0
    # byte range of a split file
    dialect: object | None = None
    start: int = 0
    end: int | None = None
    part: int = 0

    @property
    def is_range(self) -> bool:
        return self.dialect is not None


@dataclass
class _Split:
    parts: int
    merged: FileResult | None = None
    received: int = 0
    done: bool = False


@dataclass
class _State:
    results: dict[str, FileResult] = field(default_factory=dict)
    splits: dict[str, _Split] = field(default_factory=dict)
    bytes_done: int = 0
    files_done: int = 0
    prefer_decimal: bool = False


def task_options(settings: ExtractionSettings) -> TaskOptions:
    return TaskOptions(
        read=ReadOptions(
            block_size=settings.block_size, header=settings.header, null_values=settings.null_values
        ),
        profile=ProfileOptions(
            sample_size=settings.sample_size,
            seed=settings.seed,
            null_tokens=settings.null_values,
            prefer_decimal=settings.prefer_decimal,
        ),
    )


def _splittable(
    ref: FileRef, settings: ExtractionSettings, opts: TaskOptions, workers: int
) -> list[_Unit] | None:
    if workers < 2 or ref.error or ref.size < 2 * settings.split_size or ref.format not in ("csv", "unknown"):
        return None
    try:
        fmt, codec = detect_format(ref)
        if fmt != "csv" or codec is not None:
            return None
        dialect = plan_csv_split(ref, opts.read)
    except (ExecutorError, OSError) as err:
        log.debug("not splitting `%s`: %s", ref.rel_path, err)
        return None  # the worker reading it whole will report the problem
    if dialect is None:
        return None
    n = math.ceil(ref.size / settings.split_size)
    step = math.ceil(ref.size / n)
    units = []
    for i in range(n):
        start = i * step
        end = None if i == n - 1 else (i + 1) * step
        units.append(
            _Unit(
                refs=(ref,), nbytes=(end or ref.size) - start, dialect=dialect, start=start, end=end, part=i
            )
        )
    return units


def plan(
    refs: Sequence[FileRef], settings: ExtractionSettings, opts: TaskOptions, workers: int
) -> list[_Unit]:
    """Work units: byte ranges of large plain CSV files, and batches of other files."""
    units: list[_Unit] = []
    total = sum(r.size for r in refs)
    # keep at least ~4 units per worker when files are small, so no worker idles at the end
    cap_bytes = max(1 << 20, min(DEFAULT_SMALL_UNIT_BYTES, total // max(1, 4 * workers)))
    cap_files = max(1, min(DEFAULT_SMALL_UNIT_FILES, len(refs) // max(1, 4 * workers)))
    batch: list[FileRef] = []
    batch_bytes = 0

    def flush() -> None:
        nonlocal batch, batch_bytes
        if batch:
            units.append(_Unit(refs=tuple(batch), nbytes=batch_bytes))
        batch, batch_bytes = [], 0

    for ref in refs:
        ranges = _splittable(ref, settings, opts, workers)
        if ranges:
            units.extend(ranges)
            continue
        if ref.size >= cap_bytes:
            units.append(_Unit(refs=(ref,), nbytes=ref.size))
            continue
        batch.append(ref)
        batch_bytes += ref.size
        if batch_bytes >= cap_bytes or len(batch) >= cap_files:
            flush()
    flush()
    # biggest first: a large unit started last would leave the other workers idle
    units.sort(key=lambda u: -u.nbytes)
    return units


def _submit(pool: ProcessPool | InlinePool, task_id: int, unit: _Unit, opts: TaskOptions) -> None:
    unit.attempts += 1
    if unit.is_range:
        pool.submit(
            task_id, w_profile_range, unit.refs[0], unit.dialect, unit.start, unit.end, unit.part, opts
        )
    else:
        pool.submit(task_id, w_profile_files, unit.refs, opts)


def run_units(
    refs: Sequence[FileRef],
    settings: ExtractionSettings,
    progress: ProgressCallback | None = None,
) -> list[FileResult]:
    """Profile every file; returns one ``FileResult`` per file, in the order of ``refs``."""
    opts = task_options(settings)
    workers = settings.effective_workers
    units = plan(refs, settings, opts, workers)
    total_bytes = sum(r.size for r in refs)
    # An explicit --workers N is honoured; by default tiny runs stay in-process (forking costs more).
    inline = workers == 1 or len(units) <= 1 or (settings.workers is None and total_bytes < INLINE_BYTES)
    warmup()  # before any fork: workers inherit compiled kernels
    state = _State(prefer_decimal=settings.prefer_decimal)
    for unit in units:
        if unit.is_range:
            state.splits.setdefault(unit.refs[0].rel_path, _Split(parts=0)).parts += 1

    def report() -> None:
        if progress is not None:
            progress(Progress(state.bytes_done, total_bytes, state.files_done, len(refs)))

    pool: ProcessPool | InlinePool = InlinePool() if inline else ProcessPool(min(workers, len(units)))
    by_task: dict[int, _Unit] = {}
    next_id = 0
    with pool:
        for unit in units:
            by_task[next_id] = unit
            _submit(pool, next_id, unit, opts)
            next_id += 1
            if inline:
                next_id = _drain(pool, by_task, state, opts, next_id, report, timeout=0)
        while pool.pending:
            next_id = _drain(pool, by_task, state, opts, next_id, report, timeout=settings.progress_interval)
            report()
    report()
    return [state.results[r.rel_path] for r in refs]


def _drain(
    pool: ProcessPool | InlinePool,
    by_task: dict[int, _Unit],
    state: _State,
    opts: TaskOptions,
    next_id: int,
    report: Callable[[], None],
    timeout: float | None,
) -> int:
    for event in pool.events(timeout):
        unit = by_task.pop(event.task_id)
        if event.ok:
            values = event.value if isinstance(event.value, list) else [event.value]
            for result in values:
                _record(state, result)
            state.bytes_done += unit.nbytes
        elif event.died and unit.attempts < 2:
            # Retry once on a fresh worker, one file per unit so a bad file cannot take others down again.
            log.warning("retrying %d file(s) whose worker died", len(unit.refs))
            retries = (
                [unit] if unit.is_range else [_Unit(refs=(r,), nbytes=r.size, attempts=1) for r in unit.refs]
            )
            for retry in retries:
                by_task[next_id] = retry
                _submit(pool, next_id, retry, opts)
                next_id += 1
            continue
        else:
            why = event.error.splitlines()[0] if event.error else "unknown failure"
            if event.died:
                why = f"{why} while profiling this file, twice"
            for ref in unit.refs:
                result = failed(ref, why, internal=not event.died)
                _record(state, result if not unit.is_range else _as_part(result, unit.part))
            state.bytes_done += unit.nbytes
        report()
    return next_id


def _as_part(result: FileResult, part: int) -> FileResult:
    import dataclasses

    return dataclasses.replace(result, part=part)


def _record(state: _State, result: FileResult) -> None:
    split = state.splits.get(result.rel_path)
    if split is None or result.part is None:
        state.results[result.rel_path] = result
        state.files_done += 1
        return
    split.received += 1
    split.merged = result if split.merged is None else split.merged.merge_part(result)
    if split.received == split.parts:
        state.results[result.rel_path] = finalized(split.merged, state.prefer_decimal)
        split.merged = None
        state.files_done += 1
