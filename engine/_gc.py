"""Pausing Python's cyclic garbage collector around start-up work that only builds long-lived objects."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic collection inside the block; the collector's previous state is restored after it.

    Importing the engine and loading its kernels create ~100,000 objects that live as long as the process:
    the collector's passes over them free nothing and cost 10-20 ms of every run.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
