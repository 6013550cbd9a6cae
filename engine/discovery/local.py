"""Local folders and files (a ``/dbfs/...`` FUSE mount is a local folder too).

Walks recursively, following symbolic links but never entering a directory twice (a loop is reported,
not followed) and never reporting a file twice (two links to one file give one record).  A file that
cannot be stat-ed or opened becomes a ``FileRef`` with ``error`` set, so it shows up in the catalog.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import stat
from collections.abc import Iterator
from typing import Any, BinaryIO

import pyarrow as pa

from ..errors import SourceNotFoundError
from .base import FileRef, data_file, guess_format, matches, skip_entry

log = logging.getLogger(__name__)


def _describe(err: OSError) -> str:
    if err.errno == errno.ELOOP:
        return "symbolic link loop"
    if err.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if err.errno == errno.ENOENT:
        return "no such file (a dangling symbolic link?)"
    return err.strerror or str(err)


def discover_local(
    root: str,
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    format_filter: str | None = None,
) -> Iterator[FileRef]:
    """Yield the data files under ``root`` (or ``root`` itself when it is a file), sorted by path."""
    try:
        st = os.stat(root)
    except OSError as err:
        raise SourceNotFoundError(f"cannot open `{root}`: {_describe(err)}") from None
    if not os.path.isdir(root):
        name = os.path.basename(root)
        fmt, compression = guess_format(name)
        yield _file_ref(os.path.abspath(root), name, st, fmt or "unknown", compression)
        return
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[tuple[int, int]] = set()
    yield from _walk(os.path.abspath(root), "", st, seen_dirs, seen_files, include, exclude, format_filter)


def _file_ref(path: str, rel: str, st: os.stat_result, fmt: str, compression: str | None) -> FileRef:
    error = None
    if not os.access(path, os.R_OK):
        error = "permission denied"
    return FileRef(url=path, rel_path=rel, size=st.st_size, mtime=st.st_mtime, format=fmt,
                   compression=compression, error=error)  # fmt: skip


def _walk(
    path: str,
    rel: str,
    st: os.stat_result,
    seen_dirs: set[tuple[int, int]],
    seen_files: set[tuple[int, int]],
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    format_filter: str | None,
) -> Iterator[FileRef]:
    key = (st.st_dev, st.st_ino)
    if key in seen_dirs:
        log.warning("skipping `%s`: a symbolic link loop leads back to a folder already listed", rel or path)
        return
    seen_dirs.add(key)
    try:
        with os.scandir(path) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as err:
        log.warning("cannot list `%s`: %s", rel or path, _describe(err))
        if rel:
            yield FileRef(
                url=path,
                rel_path=rel,
                size=0,
                format="unknown",
                error=f"cannot list folder: {_describe(err)}",
            )
        return
    for entry in entries:
        if skip_entry(entry.name):
            continue
        child_rel = f"{rel}/{entry.name}" if rel else entry.name
        try:
            child_st = entry.stat(follow_symlinks=True)
        except OSError as err:
            fmt, compression = guess_format(entry.name)
            if fmt is not None and matches(child_rel, include, exclude):
                yield FileRef(url=entry.path, rel_path=child_rel, size=0, format=fmt,
                              compression=compression, error=_describe(err))  # fmt: skip
            continue
        if entry.is_dir(follow_symlinks=True):
            yield from _walk(
                entry.path, child_rel, child_st, seen_dirs, seen_files, include, exclude, format_filter
            )
            continue
        kept = data_file(child_rel, include, exclude, format_filter)
        if kept is None:
            continue
        fmt, compression = kept
        if not stat.S_ISREG(child_st.st_mode):
            yield FileRef(url=entry.path, rel_path=child_rel, size=0, format=fmt, compression=compression,
                          error="not a regular file (a FIFO, socket or device)")  # fmt: skip
            continue
        fkey = (child_st.st_dev, child_st.st_ino)
        if fkey in seen_files:
            log.info("skipping `%s`: the same file was already listed under another path", child_rel)
            continue
        seen_files.add(fkey)
        yield _file_ref(entry.path, child_rel, child_st, fmt, compression)


class _RangeStream(io.RawIOBase):
    """Bytes ``[start, end)`` of a local file, read with ``pread`` (no shared file position)."""

    def __init__(self, path: str, start: int, end: int | None) -> None:
        self._fd = os.open(path, os.O_RDONLY)
        self._pos = start
        self._end = end

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:  # type: ignore[override]
        n = len(b) if self._end is None else min(len(b), self._end - self._pos)
        if n <= 0:
            return 0
        got = os.preadv(self._fd, [memoryview(b)[:n]], self._pos)
        self._pos += got
        return got

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


class LocalFileSystem:
    """Local files, including FUSE mounts such as ``/dbfs``."""

    def read_range(self, url: str, offset: int, length: int) -> bytes:
        fd = os.open(url, os.O_RDONLY)
        try:
            return os.pread(fd, length, offset)
        finally:
            os.close(fd)

    def open_stream(self, url: str, start: int = 0, end: int | None = None) -> BinaryIO:
        if end is None:  # to the end: an unbuffered file (readers read large blocks into their own buffers)
            f = open(url, "rb", buffering=0)  # noqa: SIM115  (the caller closes it)
            if start:
                f.seek(start)
            return f
        return _RangeStream(url, start, end)  # type: ignore[return-value]

    def open_random(self, url: str) -> Any:
        return pa.OSFile(url, "rb")


LOCAL = LocalFileSystem()
