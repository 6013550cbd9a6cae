"""Progress on stderr: a tqdm bar by bytes on a terminal, a log line every few seconds otherwise."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from ..engine.scheduler.run import Progress

log = logging.getLogger("nuvyn_executor.progress")


def _mib(n: int) -> str:
    return f"{n / (1 << 20):,.1f} MiB"


class ProgressReporter:
    """Callable handed to the engine; ``bar`` None decides from whether stderr is a terminal."""

    def __init__(self, bar: bool | None = None, interval: float = 10.0) -> None:
        # no bar without a stderr (the process was started with it closed: ``2>&-``)
        self.bar_enabled = sys.stderr is not None and (sys.stderr.isatty() if bar is None else bar)
        self.interval = interval
        self._bar: Any = None
        self._last_log = time.monotonic()
        self._last_done = 0
        self._started = time.monotonic()

    def __call__(self, p: Progress) -> None:
        if self.bar_enabled:
            if self._bar is None:
                import tqdm

                tqdm.tqdm.monitor_interval = 0  # no monitor thread: workers are forked later
                self._bar = tqdm.tqdm(total=p.bytes_total, unit="B", unit_scale=True, unit_divisor=1024,
                                      file=sys.stderr, desc="profiling", leave=True)  # fmt: skip
            self._bar.set_postfix_str(f"{p.files_done}/{p.files_total} files", refresh=False)
            self._bar.update(p.bytes_done - self._last_done)
            self._last_done = p.bytes_done
            return
        now = time.monotonic()
        if now - self._last_log >= self.interval and p.files_done < p.files_total:
            self._last_log = now
            elapsed = now - self._started
            log.info("profiled %d/%d files, %s of %s (%.0fs)", p.files_done, p.files_total, _mib(p.bytes_done),
                     _mib(p.bytes_total), elapsed)  # fmt: skip

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
