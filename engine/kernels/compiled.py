"""The kernels as one compiled extension module, built once per machine and loaded without Numba.

Numba's JIT cache makes every run import Numba (~0.13 s) and load each cached kernel (~0.05 s): serial
start-up that no number of workers can share.  So the kernels' entry points are also compiled ahead of
time (Numba's ``pycc``, from the very same source) into an extension module kept in a cache folder; a run
imports it in well under a millisecond and never imports Numba at all.

The module is built on the first run whose kernel sources, Numba, Python or CPU differ from every build
in the cache (``build.py``, in a child process: the parent never imports Numba for it), under a file lock
so that concurrent first runs build it once.  When it cannot be built (no C compiler, a Numba without
``pycc``), the reason is kept next to it, the run falls back to Numba's JIT, and later runs do not retry
until something in the key changes.

Where: ``$NUMBA_CACHE_DIR/nuvyn-executor`` when set (a read-only install, a Databricks cluster keeping its
kernels on /dbfs), else the package's ``kernels/__pycache__`` when writable, else the user's cache folder.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import importlib.util
import logging
import os
import platform
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from .._digest import blake2b
from ..settings import ENV_KERNELS, environ_without_secrets, kernel_cache_root

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
# Sources without compiled code: editing them does not invalidate a build (editing ``build.py`` does).
NOT_KERNEL_SOURCES = frozenset({"reference.py", "warmup.py", "__init__.py", "compiled.py", "entry.py"})
BUILD_TIMEOUT = 900  # seconds; a build takes ~11 s on 2 cores (~5 s when Numba has cached the helpers)


def source_digest(exclude: frozenset[str] = NOT_KERNEL_SOURCES) -> Any:
    """BLAKE2b over the kernel package's sources (names and bytes) but ``exclude``."""
    digest = blake2b()
    for path in sorted(HERE.glob("*.py")):
        if path.name not in exclude:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest


def _package_version(name: str) -> str:
    """A package's version without importing it (importing Numba is what this module avoids)."""
    spec = importlib.util.find_spec(name)
    origin = spec.origin if spec is not None else None
    if origin:
        version_file = Path(origin).parent / "_version.py"
        if version_file.is_file():
            return blake2b(version_file.read_bytes()).hexdigest()
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "none"


def _cpu_identity() -> str:
    """The CPU the code is compiled for: its model and instruction-set flags (compiled code is specific)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            first = fh.read(1 << 16).split("\n\n", 1)[0]
        keep = ("vendor_id", "cpu family", "model", "model name", "flags", "Features", "CPU implementer")
        lines = [ln for ln in first.splitlines() if ln.split(":", 1)[0].strip() in keep]
        if lines:
            return "\n".join(lines)
    except OSError:
        pass
    return f"{platform.machine()} {platform.processor()}"


def module_name() -> str:
    """The extension's name: a digest of everything its code depends on."""
    digest = source_digest()
    for part in (_package_version("numba"), _package_version("llvmlite"), sys.version, _cpu_identity()):
        digest.update(b"\0" + part.encode())
    return "nuvyn_kernels_" + digest.hexdigest()[:20]


def cache_dir() -> Path:
    """The folder the compiled module lives in (see the module docstring)."""
    root = kernel_cache_root()
    if root is not None:
        return Path(root) / "nuvyn-executor"
    local = HERE / "__pycache__"
    with contextlib.suppress(OSError):
        local.mkdir(exist_ok=True)
    if os.access(local, os.W_OK):
        return local
    return Path.home() / ".cache" / "nuvyn-executor"


def _suffix() -> str:
    return importlib.machinery.EXTENSION_SUFFIXES[0]


def _import(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - not an extension suffix
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def _build_lock(folder: Path) -> Iterator[None]:
    """Serialise builds across processes (without a lock where the file system or platform has none:
    the module is moved into place atomically either way, so a race only costs a second build)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with open(folder / ".build.lock", "a+b") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX)
        except OSError:  # e.g. a FUSE mount such as /dbfs
            yield
            return
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _build(folder: Path, name: str, target: Path) -> None:
    """Compile into a private folder of ``folder``, then move the module in place (atomically)."""
    # imported here: every run loads this module, builds are rare, and the two cost ~5 ms to import
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix=".build-", dir=folder) as tmp:
        # the build itself uses the JIT; a compiler needs no credentials
        env = environ_without_secrets(**{ENV_KERNELS: "jit", "PYTHONWARNINGS": "ignore"})
        proc = subprocess.run(
            [sys.executable, "-m", "nuvyn_executor.engine.kernels.build", tmp, name],
            capture_output=True, text=True, env=env, timeout=BUILD_TIMEOUT,
        )  # fmt: skip
        built = Path(tmp) / (name + _suffix())
        if proc.returncode != 0 or not built.is_file():
            lines = [ln for ln in (proc.stderr or proc.stdout or "").strip().splitlines() if ln.strip()]
            raise RuntimeError(lines[-1] if lines else f"the build exited with status {proc.returncode}")
        os.replace(built, target)


def load(required: bool = False) -> tuple[ModuleType | None, str | None]:
    """The compiled kernels, building them first if needed; ``(None, reason)`` when they are unavailable.

    ``required`` (``EXECUTOR_KERNELS=compiled``) retries a build that failed before (say, a C compiler
    was installed since) instead of trusting the kept reason.  Called once, when ``_jit`` is imported.
    """
    name = module_name()
    folder = cache_dir()
    target = folder / (name + _suffix())
    failed = folder / (name + ".failed")
    if not target.is_file():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if required:
                failed.unlink(missing_ok=True)
            elif failed.is_file():
                return None, _kept_reason(failed)
            with _build_lock(folder):
                if not target.is_file() and not failed.is_file():  # another process may have built it
                    _build_logged(folder, name, target, failed)
            if not target.is_file():
                return None, _kept_reason(failed)
        except OSError as exc:
            return _unavailable(f"the compiled kernels could not be kept in {folder}: {exc.strerror or exc}")
    try:
        return _import(target, name), None
    except ImportError as exc:
        return _unavailable(f"the compiled kernels in {target} could not be loaded: {exc}")


def _kept_reason(failed: Path) -> str:
    return failed.read_text(encoding="utf-8", errors="replace").strip()


def _unavailable(reason: str) -> tuple[None, str]:
    log.warning("%s; using Numba's JIT instead", reason)
    return None, reason


def _build_logged(folder: Path, name: str, target: Path, failed: Path) -> None:
    from subprocess import SubprocessError

    log.info("compiling the kernels for this machine, once (about 10 s)")
    t0 = time.perf_counter()
    try:
        _build(folder, name, target)
    except (OSError, RuntimeError, SubprocessError) as exc:
        reason = f"the compiled kernels could not be built: {exc}"
        log.warning("%s; using Numba's JIT instead (%s keeps the reason)", reason, failed)
        failed.write_text(reason + "\n", encoding="utf-8")
        return
    log.info("compiled the kernels in %.1f s into %s", time.perf_counter() - t0, folder)
