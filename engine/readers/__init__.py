"""Readers: one module per format behind a small registry, plus content-based format detection."""

from __future__ import annotations

from ..discovery.base import UNKNOWN, FileRef, filesystem_for
from ..errors import UnsupportedFormatError

# Importing a reader module registers its format.
from . import arrow_ipc as _arrow_ipc  # noqa: F401
from . import avro as _avro  # noqa: F401
from . import csv_reader as _csv_reader  # noqa: F401
from . import excel as _excel  # noqa: F401
from . import json_reader as _json_reader  # noqa: F401
from . import orc as _orc  # noqa: F401
from . import parquet as _parquet  # noqa: F401
from .base import (
    ColumnStats,
    ReadOptions,
    RecordTooLarge,
    TableStream,
    multi_opener_for,
    opener_for,
    registered_formats,
)
from .compression import detect_compression, open_decompressed

_MAGIC_FORMATS: tuple[tuple[bytes, str], ...] = (
    (b"PAR1", "parquet"),
    (b"ORC", "orc"),
    (b"Obj\x01", "avro"),
    (b"PK\x03\x04", "excel"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "excel"),
    (b"ARROW1", "arrow"),
    (b"\xff\xff\xff\xff", "arrow"),  # an Arrow IPC stream (continuation marker)
    (b"FEA1", "arrow"),  # Feather v1: refused by the Arrow reader with a clear message
)


def _tail_agrees(fmt: str, tail: bytes) -> bool:
    """Parquet ends with ``PAR1``; ORC's last byte is the postscript's length, after its ``ORC`` magic."""
    if fmt == "parquet":
        return tail.endswith(b"PAR1")
    if fmt == "orc":
        return len(tail) >= 4 and tail[-4:-1] == b"ORC"
    return True


_BINARY_FORMATS = ("parquet", "orc", "avro", "excel", "arrow")


def sniff_format(head: bytes, guessed: str, tail: bytes | None = None) -> str:
    """The format the first (decompressed) bytes announce, else the guess from the name, else CSV.

    ``tail`` (the last bytes of an uncompressed file) confirms formats with a trailing magic (Parquet's
    ``PAR1``, ORC's postscript): a text file that happens to start with ``ORC`` stays text.
    """
    for magic, fmt in _MAGIC_FORMATS:
        if head.startswith(magic):
            # a name that agrees is enough (a truncated file then gets the format's own error)
            if tail is not None and guessed != fmt and not _tail_agrees(fmt, tail):
                continue
            return fmt
    if guessed == UNKNOWN or guessed in _BINARY_FORMATS:
        # no name to go by, or a binary format's name on text: read it as what it looks like
        stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        return "json" if stripped[:1] in (b"{", b"[") else "csv"
    return guessed


def detect_format(ref: FileRef) -> tuple[str, str | None]:
    """(format, codec) of a file from its content, falling back to its name."""
    fs = filesystem_for(ref.url)
    raw = fs.read_range(ref.url, 0, 8)
    codec = detect_compression(raw, ref.compression)
    head = raw
    tail = None
    if codec is None and ref.size >= 8 and raw[:3] in (b"PAR", b"ORC"):
        tail = fs.read_range(ref.url, ref.size - 4, 4)
    if codec is not None:
        stream = open_decompressed(ref.url, codec)
        try:
            head = bytes(stream.read(8))
        except Exception:
            head = b""  # corrupt stream: the reader will say so
        finally:
            stream.close()
    return sniff_format(head, ref.format, tail), codec


#: Formats read from their footer or as a whole archive: they cannot be read through a decompressor.
_RANDOM_ACCESS = ("parquet", "orc", "excel")


def open_tables(ref: FileRef, options: ReadOptions) -> list[tuple[str | None, TableStream]]:
    """Open a file with the reader its content calls for: ``[(None, stream)]``, or one stream per table
    of a file that holds several (``[("Sheet1", stream), ...]`` for a workbook)."""
    fmt, codec = detect_format(ref)
    if codec is not None and fmt in _RANDOM_ACCESS:
        raise UnsupportedFormatError(
            f"a {codec}-compressed {fmt} file cannot be read in place: decompress it first"
        )
    multi = multi_opener_for(fmt)
    if multi is not None:
        return list(multi(ref, options))
    return [(None, opener_for(fmt)(ref, options))]


def open_table(ref: FileRef, options: ReadOptions) -> TableStream:
    """Open a file that holds one table with the reader its content calls for."""
    tables = open_tables(ref, options)
    if len(tables) != 1:
        raise UnsupportedFormatError(f"`{ref.rel_path}` holds {len(tables)} tables, not one")
    return tables[0][1]


__all__ = [
    "ColumnStats",
    "ReadOptions",
    "RecordTooLarge",
    "TableStream",
    "UnsupportedFormatError",
    "detect_format",
    "open_table",
    "open_tables",
    "registered_formats",
    "sniff_format",
]
