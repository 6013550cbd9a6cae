"""The one Numba policy of the project, the choice of kernel backend, and the machine primitives.

Every kernel is written once, as a Python function under :func:`njit`, and runs one of three ways
(``BACKEND``):

* ``compiled``: the entry points come from the extension module ``compiled.py`` builds once per machine;
  Numba is not imported at all, and the decorator below returns the plain function (the kernel modules
  then only provide constants and the Python helpers).  The default.
* ``jit``: Numba compiles each kernel (nopython, GIL released, cached on disk, ``NUMBA_CACHE_DIR`` moves
  the cache): ``EXECUTOR_KERNELS=jit``, and the fallback when the compiled module cannot be built.
* ``python``: with ``NUMBA_DISABLE_JIT=1`` the decorator returns the plain Python function, which is how
  the no-JIT test run exercises the very same code; the primitives fall back to their Python definitions.

Callers reach the entry points through ``entry.py``, which picks the backend's function.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any, TypeVar

import numpy as np

from ..errors import ConfigurationError
from ..settings import kernel_backend_request
from .compiled import NOT_KERNEL_SOURCES, load, source_digest

F = TypeVar("F", bound=Callable[..., Any])

# ``njit`` is nopython by definition; the rest is the policy.  Kernels never allocate, so they run without
# Numba's reference-counted runtime (``_nrt=False``): with it, every array argument of an inlined helper
# inside a loop costs an atomic incref/decref pair per iteration, which measured as 4x slower hashing.
_POLICY = {"nogil": True, "cache": True, "error_model": "numpy", "_nrt": False}


def _choose_backend() -> tuple[str, ModuleType | None, str | None]:
    request = kernel_backend_request()
    if request in ("python", "jit"):
        return request, None, None
    module, reason = load(required=request == "compiled")
    if module is not None:
        return "compiled", module, None
    if request == "compiled":
        raise ConfigurationError(f"EXECUTOR_KERNELS=compiled, but {reason}")
    return "jit", None, reason


BACKEND, COMPILED_MODULE, FALLBACK_REASON = _choose_backend()
JIT_ENABLED: bool = BACKEND == "jit"  # the decorator compiles with Numba
NATIVE: bool = BACKEND != "python"  # entry points run machine code (no Python integer semantics)

if JIT_ENABLED:
    import numba

# The uint64 constants every kernel module needs (Numba folds module globals into the compiled code).
U0 = np.uint64(0)
U1 = np.uint64(1)
U_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)


# Numba's cache does not depend on how the compiled module is built
_NOT_JIT_SOURCES = NOT_KERNEL_SOURCES | {"build.py"}


def _install_package_stamp() -> None:
    """Key the on-disk cache of every kernel on the sources of the whole kernels package.

    Numba keys a cached kernel on the file that defines it, so editing a helper in ``hashing.py`` would
    leave ``column.py``'s cached kernel (which inlined the old helper) in place.  The locator below wraps
    whichever locator Numba would pick (so ``NUMBA_CACHE_DIR`` still decides where the cache lives) and
    replaces the stamp with a digest of all ``*.py`` files of this package.  If Numba's internals ever
    change shape, caching simply falls back to Numba's own behaviour.
    """
    try:
        from numba.core import caching
    except ImportError:  # pragma: no cover - very old or very new numba
        return
    here = os.path.dirname(os.path.abspath(__file__))
    stamp = source_digest(_NOT_JIT_SOURCES).hexdigest()
    base = getattr(caching, "_CacheLocator", None)
    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)
    if base is None or impl is None or not hasattr(impl, "_locator_classes"):
        return
    defaults = list(impl._locator_classes)

    class KernelPackageLocator(base):  # type: ignore[misc, valid-type]
        def __init__(self, inner: Any, py_file: str) -> None:
            self._inner = inner
            self._py_file = py_file

        def ensure_cache_path(self) -> None:
            self._inner.ensure_cache_path()

        def get_cache_path(self) -> str:
            return self._inner.get_cache_path()

        def get_source_stamp(self) -> str:
            return stamp

        def get_disambiguator(self) -> str:
            return self._inner.get_disambiguator()

        @classmethod
        def from_function(cls, py_func: Any, py_file: str) -> Any:
            if os.path.dirname(os.path.abspath(py_file)) != here:
                return None
            for locator_cls in defaults:
                inner = locator_cls.from_function(py_func, py_file)
                if inner is not None:
                    return cls(inner, py_file)
            return None

    impl._locator_classes = [KernelPackageLocator, *defaults]


@contextlib.contextmanager
def loading_without_refresh() -> Iterator[None]:
    """Load cached kernels without Numba's target-context refresh.

    Before loading a cached kernel Numba refreshes its target context: it imports and registers every
    lowering implementation it has (NumPy, linear algebra, random generators, typed containers...),
    about 0.1 s that only compiling needs, and compiling refreshes again by itself (Numba's compiler
    does, whatever the path).  Loaded code needs none of it: ours calls no runtime (``_nrt=False``)
    and no helper of those registries.  Only used around ``warmup``; if Numba's cache class ever
    changes shape, loading simply keeps its own behaviour.
    """
    try:
        from numba.core import caching

        cache_cls = caching.Cache
        original = cache_cls.load_overload
        _ = (cache_cls._guard_against_spurious_io_errors, cache_cls._load_overload)
    except (ImportError, AttributeError):  # pragma: no cover - another numba
        yield
        return

    def load_overload(self: Any, sig: Any, target_context: Any) -> Any:
        with self._guard_against_spurious_io_errors():
            return self._load_overload(sig, target_context)
        return None  # the guard swallowed an I/O error: Numba compiles instead

    cache_cls.load_overload = load_overload
    try:
        yield
    finally:
        cache_cls.load_overload = original


def njit(fn: F) -> F:
    """Compile ``fn`` with the project's policy (nopython, nogil, cached, numpy error model)."""
    if not JIT_ENABLED:
        return fn
    return numba.njit(**_POLICY)(fn)  # type: ignore[no-any-return]


if JIT_ENABLED:
    _install_package_stamp()

    from llvmlite import ir
    from numba import types
    from numba.cpython.unsafe.numbers import leading_zeros as _leading_zeros
    from numba.cpython.unsafe.numbers import trailing_zeros as _trailing_zeros
    from numba.extending import intrinsic

    @intrinsic
    def load_u64_le(typingctx, arr, idx):  # type: ignore[no-untyped-def]
        """The 8 bytes at ``arr[idx:idx+8]`` as a little-endian uint64: one unaligned load.

        The caller guarantees ``idx + 8 <= len(arr)``.
        """
        sig = types.uint64(arr, idx)

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            ary = context.make_array(signature.args[0])(context, builder, args[0])
            ptr = builder.gep(ary.data, [args[1]])
            return builder.load(builder.bitcast(ptr, ir.IntType(64).as_pointer()), align=1)

        return sig, codegen

    @intrinsic
    def prefetch(typingctx, arr, idx):  # type: ignore[no-untyped-def]
        """Ask for ``arr[idx]``'s cache line ahead of its use (``llvm.prefetch``: a hint; never faults)."""
        sig = types.void(arr, idx)

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            ary = context.make_array(signature.args[0])(context, builder, args[0])
            i8p = ir.IntType(8).as_pointer()
            i32 = ir.IntType(32)
            fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
            fn = builder.module.declare_intrinsic("llvm.prefetch", [i8p], fnty)
            ptr = builder.bitcast(builder.gep(ary.data, [args[1]]), i8p)
            builder.call(fn, [ptr, i32(0), i32(3), i32(1)])  # a read, kept in every cache level, data
            return context.get_dummy_value()

        return sig, codegen

    @numba.njit(**_POLICY)
    def clz64(x: np.uint64) -> int:
        """Leading zero bits of a uint64 (64 for 0)."""
        return np.int64(_leading_zeros(x))  # int() would keep uint64, which mixes into float64

    @numba.njit(**_POLICY)
    def ctz64(x: np.uint64) -> int:
        """Trailing zero bits of a uint64 (64 for 0)."""
        return np.int64(_trailing_zeros(x))

else:

    def load_u64_le(arr: np.ndarray, idx: int) -> np.uint64:
        return np.uint64(int.from_bytes(arr[idx : idx + 8].tobytes(), "little"))

    def prefetch(arr: np.ndarray, idx: int) -> None:
        """A no-op without the JIT: a hint has no effect on results."""

    def clz64(x: np.uint64) -> int:
        return 64 - int(x).bit_length()

    def ctz64(x: np.uint64) -> int:
        x = int(x)
        return (x & -x).bit_length() - 1 if x else 64
