"""pyarrow loaded on first use, in the console script's process: a run over delimited text never needs it.

The tokenizer and the kernels profile CSV straight from the bytes; pyarrow serves the other formats,
compressed streams, and records the tokenizer hands over (ragged ones).  Importing it costs ~20 ms of
every run (loading ``libarrow``: the largest import after NumPy's), paid before the first byte is read,
and with 2 workers it is the serial part of the run that does not shrink.

``defer_pyarrow()`` puts a stand-in module under ``pyarrow`` in ``sys.modules``: ``import pyarrow as pa``
binds it without loading anything, and the first attribute read through any such binding imports the
real package, copies its namespace into the stand-in (later reads are plain dictionary hits) and runs
the hooks registered with ``when_loaded`` (the Arrow allocator, see ``_allocator``).  Only the console
script does this (``cli.main.console``); a library caller imports pyarrow as usual.  Processes forked
while it is deferred inherit the stand-in and load pyarrow themselves if they need it.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

_NAME = "pyarrow"
_hooks: list[Callable[[], None]] = []
_lock = threading.RLock()


class _Deferred(types.ModuleType):
    """Stands for pyarrow until an attribute is read; then holds pyarrow's namespace."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_load(), name)


def defer_pyarrow() -> bool:
    """Install the stand-in; False when pyarrow is already imported (or not installed)."""
    if _NAME in sys.modules:
        return False
    spec = importlib.util.find_spec(_NAME)
    if spec is None:
        return False
    stand_in = _Deferred(_NAME)
    stand_in.__spec__ = spec  # what the import statement checks of a module found in sys.modules
    sys.modules[_NAME] = stand_in
    return True


def is_deferred() -> bool:
    """Whether pyarrow stands deferred (not loaded) in this process."""
    return isinstance(sys.modules.get(_NAME), _Deferred)  # loading puts the real package in its place


def when_loaded(hook: Callable[[], None]) -> None:
    """Run ``hook`` once pyarrow is loaded: now if it is, else when the stand-in loads it."""
    with _lock:
        if is_deferred():
            if hook not in _hooks:  # a forked worker inherits its parent's hooks
                _hooks.append(hook)
            return
    hook()


def _load() -> types.ModuleType:
    with _lock:
        current = sys.modules.get(_NAME)
        if isinstance(current, _Deferred):
            stand_in = current
            del sys.modules[_NAME]
            try:
                real = importlib.import_module(_NAME)
            except BaseException:
                sys.modules[_NAME] = stand_in
                raise
            stand_in.__dict__.update(real.__dict__)
            hooks, _hooks[:] = list(_hooks), []
            for hook in hooks:
                hook()
            return real
        return importlib.import_module(_NAME)
