"""Executors: worker processes that report exactly which task they were running, or an inline stand-in.

``ProcessPool`` keeps one pipe per worker and hands each worker one task at a time, so when a worker dies
(killed, out of memory) the parent knows which task it was running: that task is reported as ``died``
and the caller decides whether to retry it (on a fresh worker, started on demand).  Workers are forked
after the parent has compiled or loaded every kernel (``kernels.warmup``), so they start instantly and
never compile in parallel (parallel first compiles can corrupt Numba's cache).

``InlinePool`` runs tasks in the calling process behind the same interface (``--workers 1``, tiny runs).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._allocator import configure_process
from . import share
from .share import RangeShare

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

log = logging.getLogger(__name__)


Task = tuple[int, Callable[..., Any], tuple[Any, ...]]  # (task id, function, arguments)


@dataclass(frozen=True)
class TaskEvent:
    """The end of one task: ``ok`` with its value, an exception text, or the death of its worker."""

    task_id: int
    ok: bool
    value: Any = None
    error: str | None = None
    died: bool = False
    exitcode: int | None = None


def _worker_main(
    conn: Connection, range_share: RangeShare, setup: Callable[[Any], None] | None, state: Any
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C means
    configure_process()  # a worker is the executor's own process (forked ones usually inherit it already)
    share.set_current(range_share)
    if setup is not None:
        setup(state)
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        task_id, fn, args = msg
        range_share.assign(task_id)
        try:
            conn.send((task_id, True, fn(*args), None))
        except BaseException as err:
            text = f"{type(err).__name__}: {err}\n{traceback.format_exc()}"
            try:
                conn.send((task_id, False, None, text))
            except Exception:
                return


class _Worker:
    def __init__(self, ctx: Any, setup: Callable[[Any], None] | None, state: Any) -> None:
        parent, child = ctx.Pipe(duplex=True)
        self.share = RangeShare(ctx)
        self.proc = ctx.Process(target=_worker_main, args=(child, self.share, setup, state), daemon=True)
        self.proc.start()
        child.close()
        self.conn: Connection = parent
        self.task: int | None = None

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.send(None)
        self.conn.close()


def _context() -> Any:
    # fork: workers inherit the compiled kernels and start in milliseconds.  Elsewhere (macOS, Windows)
    # spawn, where each worker loads the kernels from Numba's on-disk cache.  multiprocessing is imported
    # only by runs that start workers: ~5 ms a run with ``--workers 1`` or a single small file would pay.
    import multiprocessing as mp

    if sys.platform.startswith("linux"):
        return mp.get_context("fork")
    return mp.get_context("spawn")


def _wait(handles: list[Any], timeout: float | None) -> list[Any]:
    from multiprocessing.connection import wait  # loaded with the pool's context by then

    return wait(handles, timeout)


class ProcessPool:
    """``size`` worker processes; tasks are queued and handed out one per idle worker.

    ``setup(state)`` runs first in each worker that was spawned rather than forked (``_context``): what a
    forked worker inherits from this process, a spawned one must be given (``discovery.worker_state``).
    """

    def __init__(self, size: int, setup: Callable[[Any], None] | None = None, state: Any = None) -> None:
        self._ctx = _context()
        self._setup = setup if self._ctx.get_start_method() != "fork" else None
        self._state = state if self._setup is not None else None
        self._size = size
        self._workers: list[_Worker] = []
        self._retired: list[_Worker] = []  # told to stop, not yet reaped
        self._queue: deque[Task] = deque()
        self._running: dict[int, _Worker] = {}
        self._steal: Callable[[ProcessPool], list[Task]] | None = None

    def __enter__(self) -> ProcessPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(kill=exc[0] is not None)

    def submit(self, task_id: int, fn: Callable[..., Any], *args: Any) -> None:
        self._queue.append((task_id, fn, args))
        self._dispatch()

    @property
    def pending(self) -> int:
        return len(self._queue) + len(self._running)

    def when_idle(self, steal: Callable[[ProcessPool], list[Task]]) -> None:
        """Call ``steal(pool)`` while a worker is idle and nothing is queued: it returns tasks to run
        there, typically the end of a running task's byte range (see ``running_share``), or nothing, and
        then the idle worker is let go."""
        self._steal = steal

    def running_share(self, task_id: int) -> RangeShare | None:
        """The share of the worker running ``task_id`` (None: not running)."""
        worker = self._running.get(task_id)
        return None if worker is None else worker.share

    def _dispatch(self) -> None:
        self._hand_out()
        while self._steal is not None and not self._queue and any(w.task is None for w in self._workers):
            stolen = self._steal(self)
            if not stolen:
                break
            self._queue.extend(stolen)
            self._hand_out()
        self._retire_idle()

    def _hand_out(self) -> None:
        while self._queue:
            idle = next((w for w in self._workers if w.task is None), None)
            if idle is None:
                if len(self._workers) >= self._size:
                    return
                idle = _Worker(self._ctx, self._setup, self._state)
                self._workers.append(idle)
            task_id, fn, args = self._queue.popleft()
            idle.task = task_id
            self._running[task_id] = idle
            idle.conn.send((task_id, fn, args))

    def _retire_idle(self) -> None:
        # Nothing left to hand out: a worker with no task goes now, so that its process ends (3-5 ms of
        # the kernel unmapping it) while the others, or the parent's last merge, still run, not after.
        # A task submitted later (a retry) starts a fresh worker.
        for worker in [w for w in self._workers if w.task is None]:
            worker.stop()
            self._workers.remove(worker)
            self._retired.append(worker)

    def events(self, timeout: float | None = None) -> Iterator[TaskEvent]:
        """Wait up to ``timeout`` for finished tasks and yield them (nothing on timeout)."""
        busy = [w for w in self._workers if w.task is not None]
        if not busy:
            return
        ready = _wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout)
        by_handle: dict[Any, _Worker] = {}
        for w in busy:
            by_handle[w.conn] = w
            by_handle[w.proc.sentinel] = w
        done: list[TaskEvent] = []
        for worker in {id(by_handle[h]): by_handle[h] for h in ready}.values():
            done.append(self._collect(worker))
        self._dispatch()
        yield from done

    def _collect(self, worker: _Worker) -> TaskEvent:
        task_id = worker.task
        assert task_id is not None
        try:
            if worker.conn.poll():
                tid, ok, value, error = worker.conn.recv()
                worker.task = None
                del self._running[task_id]
                return TaskEvent(tid, ok, value, error)
        except (EOFError, OSError):
            pass
        # The worker is gone without an answer.
        worker.proc.join(timeout=5)
        code = worker.proc.exitcode
        self._workers.remove(worker)
        worker.conn.close()
        del self._running[task_id]
        log.warning("a worker process (pid %s) died %s", worker.proc.pid, describe_exit(code))
        return TaskEvent(
            task_id, False, died=True, exitcode=code, error=f"worker process died {describe_exit(code)}"
        )

    def close(self, kill: bool = False) -> None:
        """Stop the workers (``kill``: kill them: an error, Ctrl-C) and wait for every process to end, so
        that none is left unreaped and their CPU time counts as this process's children's."""
        for w in self._workers:
            if kill:
                w.proc.kill()
            else:
                w.stop()
        for w in self._retired + self._workers:
            w.proc.join(timeout=5)
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join()
        self._workers.clear()
        self._retired.clear()


def describe_exit(code: int | None) -> str:
    if code is None:
        return "(still running)"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (out of memory?)" if -code == signal.SIGKILL else ""
        return f"(killed by {name}{hint})"
    return f"(exit status {code})"


class InlinePool:
    """Runs each task when it is submitted, in this process."""

    def __init__(self) -> None:
        self._done: deque[TaskEvent] = deque()

    def __enter__(self) -> InlinePool:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def submit(self, task_id: int, fn: Callable[..., Any], *args: Any) -> None:
        try:
            self._done.append(TaskEvent(task_id, True, fn(*args)))
        except Exception as err:
            self._done.append(
                TaskEvent(task_id, False, error=f"{type(err).__name__}: {err}\n{traceback.format_exc()}")
            )

    @property
    def pending(self) -> int:
        return len(self._done)

    def events(self, timeout: float | None = None) -> Iterator[TaskEvent]:
        while self._done:
            yield self._done.popleft()
