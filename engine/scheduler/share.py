"""Work stealing for byte ranges: a worker's range can be cut short while it reads it.

Each pool worker has a ``RangeShare``: three int64 in shared memory under one lock, saying which task it
runs, how far into the file it has read (``claim``: every byte before it is the worker's), and where its
range ends (``end``, a raw offset whose record boundary is where the worker stops).  A worker reading a
range claims each block before it reads it (``RangeShare.claim``); the parent, when a worker falls idle
with nothing queued, moves a busy worker's ``end`` back to about the middle of what it has not claimed
(``RangeShare.cut``) and hands the bytes after it to the idle worker as a new range.  Both sides agree on
the record boundary at the cut because it is a function of the bytes alone (``csv_reader.record_boundary``).

The lock makes the two steps atomic with respect to each other: a worker never reads a byte past an
``end`` it has not seen, and the parent never cuts before a byte the worker has claimed.  Taking it costs
about a microsecond per block of a megabyte or more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_TASK, _CLAIM, _END = range(3)
_NONE = -1


class RangeShare:
    """One worker's range, readable and writable by the worker and the parent (see the module)."""

    def __init__(self, ctx: Any) -> None:
        self._lock = ctx.Lock()
        self._cells = ctx.RawArray("q", 3)
        self._cells[_TASK] = _NONE

    # --- the worker's side

    def assign(self, task_id: int) -> None:
        """A new task starts: nothing of it may be cut until its range is opened (``open``)."""
        with self._lock:
            self._cells[_TASK] = task_id
            self._cells[_CLAIM] = 0
            self._cells[_END] = _NONE

    def open(self, begin: int, end: int) -> int:
        """The running task reads its range from ``begin`` to raw offset ``end``, and may now be cut.
        Returns the end in force: a task that opens its range again (a retry with larger blocks) keeps
        a cut made meanwhile, whose bytes another worker reads."""
        with self._lock:
            now = self._cells[_END]
            if now == _NONE or now > end:
                now = end
            self._cells[_CLAIM] = begin
            self._cells[_END] = now
            return now

    def claim(
        self, pos: int, want: int, end: int, stop: int, settle: Callable[[int], int]
    ) -> tuple[int, int, int]:
        """Claim up to ``want`` bytes from ``pos`` for a reader whose range ends at raw offset ``end``
        and stops reading at ``stop`` (the record boundary at or after ``end``).

        If the parent has moved the end back, ``settle(new end)`` gives the new stop (it is called under
        the lock, so no other cut can come between).  Returns ``(end, stop, n)``: the end and stop now in
        force and how many bytes the reader may read from ``pos``.
        """
        with self._lock:
            now = self._cells[_END]
            if now < end:
                end = now
                stop = settle(end)
            n = max(0, min(want, stop - pos))
            self._cells[_CLAIM] = pos + n
            return end, stop, n

    @property
    def end(self) -> int:
        """The end in force (-1 before the task opens its range)."""
        return int(self._cells[_END])

    # --- the parent's side

    def remaining(self, task_id: int) -> int:
        """Bytes of ``task_id``'s range not yet claimed (0 when it is not running, or not a range); read
        without the lock: a hint for choosing which worker to cut, ``cut`` decides."""
        if self._cells[_TASK] != task_id:
            return 0
        return max(0, self._cells[_END] - self._cells[_CLAIM])

    def cut(self, task_id: int, cost: int) -> tuple[int, int] | None:
        """Move the end of ``task_id``'s range back so that the bytes after it, plus ``cost`` (what
        starting a range of their own is worth in bytes), are half of what it has not claimed yet; only
        if at least twice ``cost`` is left.  Returns ``(cut, old end)``: the bytes the caller hands on."""
        with self._lock:
            if self._cells[_TASK] != task_id:
                return None
            claim, end = self._cells[_CLAIM], self._cells[_END]
            if end - claim < 2 * cost:
                return None
            cut = claim + (end - claim + cost) // 2
            self._cells[_END] = cut
            return cut, end


_current: RangeShare | None = None


def current() -> RangeShare | None:
    """This worker process's share; None in a process that is not a pool worker (``--workers 1``)."""
    return _current


def set_current(share: RangeShare | None) -> None:
    global _current
    _current = share
