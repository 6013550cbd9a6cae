"""Compile the kernels' entry points into one extension module: ``python -m ...kernels.build FOLDER NAME``.

Run by ``compiled.py`` in a child process with the JIT backend, so the kernel modules import as Numba
dispatchers; Numba's ``pycc`` compiles each entry point for the argument types in ``SIGNATURES`` (the
ones the engine passes; ``tests/kernels/test_signatures.py`` holds them to what a mixed run uses) with the
project's policy: the NumPy error model, no reference-counted runtime, the GIL released, and code for
this machine's CPU and instruction set, as the JIT would compile it.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

from numba import types

from ._jit import _POLICY, JIT_ENABLED

_RO_U8 = types.Array(types.uint8, 1, "C", readonly=True)
_U8 = types.Array(types.uint8, 1, "C")
_I8 = types.Array(types.int8, 1, "C")
_I8_2D = types.Array(types.int8, 2, "C")
_I32_2D = types.Array(types.int32, 2, "C")
_I64 = types.Array(types.int64, 1, "C")
_U64 = types.Array(types.uint64, 1, "C")
_F64 = types.Array(types.float64, 1, "C")


def _update_column(bounds: Any) -> Any:
    ro_bounds = types.Array(bounds, 1, "C", readonly=True)
    return types.none(
        ro_bounds, ro_bounds, _RO_U8, _RO_U8, types.int64, types.int64, _U8, _I64, types.uint64,
        _I64, _F64, _I64, _U64, _U8, _U64, _I64, _U8, _U8, _U64, types.int64,
    )  # fmt: skip


_UPDATE_FIXED = types.none(
    _RO_U8, types.int64, types.int64, types.int64, _RO_U8, types.int64, types.int64, types.uint64,
    _I64, _U64, _U8, _U64, _I64, _U64, _I64,
)  # fmt: skip
_TOKENIZE = types.UniTuple(types.int64, 3)(
    _U8, types.int64, types.int64, types.boolean, types.int64, types.int64, _I32_2D, _I32_2D
)
_CLASSIFY = types.Tuple((types.int64, types.int64, types.float64, *[types.int64] * 5))(
    _RO_U8, types.int64, types.int64
)

# exported name -> (kernel module, function, signature)
SIGNATURES: dict[str, tuple[str, str, Any]] = {
    "update_column_i32": ("column", "update_column", _update_column(types.int32)),
    "update_column_i64": ("column", "update_column", _update_column(types.int64)),
    "update_fixed": ("fixed", "update_fixed", _UPDATE_FIXED),
    "tokenize": ("csv_tokenize", "tokenize", _TOKENIZE),
    "find_boundary": ("csv_scan", "find_boundary", types.int64(_RO_U8, _I8, _I8_2D, _I8)),
    "advance_state": ("csv_scan", "advance_state", types.int64(_RO_U8, _I8, _I8_2D, types.int64)),
    "first_record_end": ("csv_scan", "first_record_end", types.int64(_RO_U8, _I8, _I8_2D, types.int64)),
    "classify": ("types", "classify", _CLASSIFY),
    "table_to_registers": ("sketches", "table_to_registers", types.none(_U64, _U8)),
}
# Not called by the engine on its own, exported so the property tests hold the compiled code to its twin.
PROPERTY_EXPORTS: dict[str, tuple[str, str, Any]] = {
    "hash_bytes": ("hashing", "hash_bytes", types.uint64(_RO_U8, types.int64, types.int64)),
}


def _patch_numba_for_the_policy() -> None:
    """``pycc`` compiles with Numba's defaults; give it the project's policy, ``_jit._POLICY``."""
    from numba.core.codegen import AOTCPUCodegen
    from numba.core.compiler import Flags
    from numba.pycc import compiler as pycc_compiler

    class PolicyFlags(Flags):  # type: ignore[misc]
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            self.error_model = _POLICY["error_model"]
            self.release_gil = _POLICY["nogil"]

    pycc_compiler.Flags = PolicyFlags
    # pycc derives the instruction set from the CPU's model name alone; a virtual machine may hide some of
    # the model's features, so name the ones this CPU reports, as the JIT does.
    AOTCPUCodegen._customize_tm_features = lambda self: self._get_host_cpu_features()


def build(folder: str, name: str) -> None:
    """Write ``NAME<extension suffix>`` into ``folder``."""
    import importlib

    if not JIT_ENABLED:
        raise SystemExit(
            "the kernels build needs the JIT backend (EXECUTOR_KERNELS=jit, no NUMBA_DISABLE_JIT)"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pycc's pending-deprecation notice
        from numba.pycc import CC
    _patch_numba_for_the_policy()
    cc = CC(name)
    cc.output_dir = folder
    cc.use_nrt = _POLICY["_nrt"]  # False: the kernels allocate nothing
    cc.target_cpu = "host"
    for exported, (module, function, signature) in {**SIGNATURES, **PROPERTY_EXPORTS}.items():
        dispatcher = getattr(importlib.import_module(f"{__package__}.{module}"), function)
        cc.export(exported, signature)(dispatcher.py_func)
    cc.compile()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python -m nuvyn_executor.engine.kernels.build FOLDER NAME")
    try:
        build(sys.argv[1], sys.argv[2])
    except Exception as exc:  # one line for the caller's message (the traceback helps nobody installing)
        lines = str(exc).strip().splitlines() or [""]
        print(f"{type(exc).__name__}: {lines[0]}", file=sys.stderr)
        raise SystemExit(1) from None
