"""Readers: one module per format behind a small registry, plus content-based format detection."""

from __future__ import annotations

from ..discovery.base import UNKNOWN, FileRef, filesystem_for
from ..errors import UnsupportedFormatError
from . import csv_reader as _csv_reader  # noqa: F401  (registers "csv")
from .base import ReadOptions, RecordTooLarge, TableStream, opener_for, registered_formats
from .compression import detect_compression, open_decompressed

_MAGIC_FORMATS: tuple[tuple[bytes, str], ...] = (
    (b"PAR1", "parquet"),
    (b"ORC", "orc"),
    (b"Obj\x01", "avro"),
    (b"PK\x03\x04", "excel"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "excel"),
    (b"ARROW1", "arrow"),
)


_BINARY_FORMATS = ("parquet", "orc", "avro", "excel", "arrow")


def sniff_format(head: bytes, guessed: str) -> str:
    """The format the first (decompressed) bytes announce, else the guess from the name, else CSV."""
    for magic, fmt in _MAGIC_FORMATS:
        if head.startswith(magic):
            return fmt
    if guessed == UNKNOWN or guessed in _BINARY_FORMATS:
        # no name to go by, or a binary format's name on text: read it as what it looks like
        stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        return "json" if stripped[:1] in (b"{", b"[") else "csv"
    return guessed


def detect_format(ref: FileRef) -> tuple[str, str | None]:
    """(format, codec) of a file from its content, falling back to its name."""
    raw = filesystem_for(ref.url).read_range(ref.url, 0, 8)
    codec = detect_compression(raw, ref.compression)
    head = raw
    if codec is not None:
        stream = open_decompressed(ref.url, codec)
        try:
            head = bytes(stream.read(8))
        except Exception:
            head = b""  # corrupt stream: the reader will say so
        finally:
            stream.close()
    return sniff_format(head, ref.format), codec


def open_table(ref: FileRef, options: ReadOptions) -> TableStream:
    """Open a file with the reader its content calls for."""
    fmt, _codec = detect_format(ref)
    return opener_for(fmt)(ref, options)


__all__ = [
    "ReadOptions",
    "RecordTooLarge",
    "TableStream",
    "UnsupportedFormatError",
    "detect_format",
    "open_table",
    "registered_formats",
    "sniff_format",
]
