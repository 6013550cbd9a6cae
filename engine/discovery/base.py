"""What discovery produces: plain, picklable ``FileRef`` records, and format detection by name.

Discovery never opens file contents (that would serialise I/O in the parent); it guesses the format
and compression from the name, and the reader confirms them from the first bytes.
"""

from __future__ import annotations

import fnmatch
import logging
import posixpath
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

log = logging.getLogger(__name__)

#: File name suffixes of compressed files, and the codec each names.
COMPRESSION_SUFFIXES = {
    ".gz": "gzip",
    ".gzip": "gzip",
    ".bz2": "bz2",
    ".zst": "zstd",
    ".zstd": "zstd",
    ".lz4": "lz4",
    ".xz": "xz",
}

#: File name suffixes of data formats.
FORMAT_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".tab": "csv",
    ".psv": "csv",
    ".txt": "csv",
    ".dat": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".orc": "orc",
    ".avro": "avro",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".xls": "excel",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".ipc": "arrow",
    ".arrows": "arrow",
}

UNKNOWN = "unknown"  # no suffix: the reader decides from the content
DELTA_LOG_DIR = "_delta_log"
DELTA_LOG = "delta_log"  # the format of the files of a Delta table's log: read by the planner, not profiled


@dataclass(frozen=True)
class FileRef:
    """One file found by discovery."""

    url: str  # absolute local path, or a URL without credentials
    rel_path: str  # POSIX path relative to the source root (the file's name for a single-file source)
    size: int
    mtime: float | None = None
    format: str = UNKNOWN
    compression: str | None = None
    error: str | None = None  # set when the file was found but cannot be used (unreadable, a loop)

    @property
    def name(self) -> str:
        return posixpath.basename(self.rel_path)


def guess_format(name: str) -> tuple[str | None, str | None]:
    """(format, compression) from a file name; format None means "not a data file"."""
    lower = name.lower()
    root, ext = posixpath.splitext(lower)
    compression = COMPRESSION_SUFFIXES.get(ext)
    if compression:
        root, ext = posixpath.splitext(root)
    if not ext or ext == lower:
        return UNKNOWN, compression
    fmt = FORMAT_SUFFIXES.get(ext)
    if fmt is None and compression:
        return UNKNOWN, compression  # "data.gz": look inside
    return fmt, compression


def is_hidden(name: str) -> bool:
    """Hidden files and Spark/Hadoop bookkeeping (``_SUCCESS``, ``_committed_*``, ``.crc``)."""
    return name.startswith((".", "_")) or name.endswith(".crc")


def skip_entry(name: str) -> bool:
    """Whether discovery skips a file or folder: hidden ones, except a Delta table's ``_delta_log``."""
    return is_hidden(name) and name != DELTA_LOG_DIR


def format_at(rel_path: str) -> tuple[str | None, str | None]:
    """(format, compression) of a file from its relative path: a Delta log's files are ``delta_log``,
    other files are guessed from their name (``guess_format``)."""
    parent = posixpath.basename(posixpath.dirname(rel_path))
    if parent == DELTA_LOG_DIR:
        return DELTA_LOG, None
    return guess_format(posixpath.basename(rel_path))


def wanted(
    rel_path: str, fmt: str, include: tuple[str, ...], exclude: tuple[str, ...], format_filter: str | None
) -> bool:
    """Whether a data file passes the filters: a format word (``csv``, ...: files that may be of that format;
    ``delta`` keeps the Parquet files of Delta tables) and the include/exclude globs.  A Delta log's files
    always pass: their table needs all of them."""
    if fmt == DELTA_LOG:
        return True
    if (
        format_filter
        and fmt not in (format_filter, UNKNOWN)
        and not (format_filter == "delta" and fmt == "parquet")
    ):
        return False
    return matches(rel_path, include, exclude)


def data_file(
    rel_path: str, include: tuple[str, ...], exclude: tuple[str, ...], format_filter: str | None
) -> tuple[str, str | None] | None:
    """(format, compression) of a file that discovery keeps; None for one that is not a data file (logged
    at debug level) or that the filters leave out."""
    fmt, compression = format_at(rel_path)
    if fmt is None:
        log.debug("ignoring `%s`: not a data file", rel_path)
        return None
    if not wanted(rel_path, fmt, include, exclude, format_filter):
        return None
    return fmt, compression


def matches(rel_path: str, include: tuple[str, ...], exclude: tuple[str, ...]) -> bool:
    """``--include``/``--exclude`` globs: a pattern matches the relative path or, without '/', the name."""

    def hit(pattern: str) -> bool:
        if fnmatch.fnmatchcase(rel_path, pattern):
            return True
        return "/" not in pattern and fnmatch.fnmatchcase(posixpath.basename(rel_path), pattern)

    if include and not any(hit(p) for p in include):
        return False
    return not any(hit(p) for p in exclude)


class FileSystem(Protocol):
    """How readers get at a file's bytes, wherever it lives (one implementation per store)."""

    def read_range(self, url: str, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes at ``offset`` (fewer at the end of the file)."""

    def open_stream(self, url: str, start: int = 0, end: int | None = None) -> BinaryIO:
        """A sequential stream of bytes ``[start, end)`` (``end`` None: to the end of the file)."""

    def open_random(self, url: str) -> Any:
        """A seekable file object (or a ``pyarrow.NativeFile``) for formats that read footers first."""


_FILESYSTEMS: list[tuple[Callable[[str], bool], Callable[[], FileSystem]]] = []
_instances: dict[Callable[[], FileSystem], FileSystem] = {}  # by factory: registration order may change


def register_filesystem(accepts: Callable[[str], bool], factory: Callable[[], FileSystem]) -> None:
    """Register a store; the first whose ``accepts(url)`` is true serves a URL.  Local paths are the default."""
    _FILESYSTEMS.insert(0, (accepts, factory))


def filesystem_for(url: str) -> FileSystem:
    """The store that serves ``url`` (one instance per store per process: workers open their own clients)."""
    for accepts, factory in _FILESYSTEMS:
        if accepts(url):
            fs = _instances.get(factory)
            if fs is None:
                fs = _instances[factory] = factory()
            return fs
    if "://" in url and "nuvyn_executor.engine.discovery.azure" not in sys.modules:
        # A URL in a process that has not loaded the Azure module (it registers its store on import): a
        # spawned worker, or a library caller handing over FileRefs.
        from . import azure  # noqa: F401

        return filesystem_for(url)
    from .local import LOCAL

    return LOCAL
