"""Detecting compression from magic bytes (and the name), and opening decompressed byte streams.

pyarrow decompresses gzip, bz2, zstd and lz4 (frame) streams natively; it has no xz codec, so ``.xz`` goes
through the standard library's ``lzma``.  Every stream returned here is read sequentially in large
blocks and never holds more than a block in memory.
"""

from __future__ import annotations

import io
import lzma
from typing import Any

import pyarrow as pa

from ..discovery.base import filesystem_for
from ..errors import ReadError

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\x04\x22\x4d\x18", "lz4"),
    (b"\xfd7zXZ\x00", "xz"),
)


def detect_compression(head: bytes, guessed: str | None) -> str | None:
    """The codec the first bytes announce; a name that says ``.gz`` on plain text is plain text."""
    for magic, codec in _MAGIC:
        if head.startswith(magic):
            return codec
    if head.startswith(b"BZh") and len(head) > 3 and head[3:4].isdigit():
        return "bz2"
    if guessed and not head:
        return guessed  # an empty file: nothing to contradict the name
    return None


class _LzmaStream(io.RawIOBase):
    """``lzma`` decompression as a raw stream with errors translated to ``ReadError``."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self._f = lzma.LZMAFile(raw, "rb")  # noqa: SIM115  (closed in close())

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            return self._f.readinto(b)
        except (lzma.LZMAError, EOFError) as err:
            raise ReadError(f"corrupt or truncated xz stream: {err}") from None

    def close(self) -> None:
        self._f.close()  # LZMAFile closes only files it opened itself
        self._raw.close()
        super().close()


def decompressed(raw: Any, codec: str | None) -> Any:
    """A sequential stream of the decompressed bytes of ``raw`` (itself a sequential byte stream)."""
    if codec is None:
        return raw
    if codec == "xz":
        return io.BufferedReader(_LzmaStream(raw), buffer_size=1 << 20)
    try:
        return pa.CompressedInputStream(raw, codec)
    except (pa.ArrowNotImplementedError, ValueError) as err:
        raise ReadError(f"{codec} decompression is not available in this pyarrow build: {err}") from None


def open_decompressed(url: str, codec: str | None) -> Any:
    """A sequential byte stream of a file's (decompressed) contents, from whichever store holds it."""
    return decompressed(filesystem_for(url).open_stream(url), codec)
