"""Delta deletion vectors: which rows of a data file a table has deleted without rewriting the file.

An ``add`` action may carry a ``deletionVector`` descriptor (Delta protocol, "Deletion Vectors"):

* ``storageType`` ``u``: in a file beside the data, ``<root>/<prefix>/deletion_vector_<uuid>.bin``, where
  ``pathOrInlineDv`` is the prefix followed by the UUID in Z85 (20 characters);
* ``p``: in the file at the absolute path ``pathOrInlineDv``;
* ``i``: inline, ``pathOrInlineDv`` being the Z85 text of the serialized bitmap.

A DV file is a version byte (1) and serialized vectors: at the descriptor's ``offset``, the size (4 bytes,
big-endian, equal to ``sizeInBytes``), the bitmap, and its CRC-32 (4 bytes, big-endian).  The bitmap is a
``RoaringBitmapArray``: the magic number 1681511377 (4 bytes, little-endian), the number of 32-bit
bitmaps (8 bytes), and each bitmap's key (the high 32 bits of its rows, 4 bytes) followed by the bitmap
in Roaring's portable format.  Everything here is bounds-checked: a vector that does not decode, whose
checksum or row count disagrees with the log, is an error naming the data file, never a guess.
"""

from __future__ import annotations

import dataclasses
import posixpath
import struct
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..discovery.base import filesystem_for
from ..errors import ReadError
from .base import TableStream

MAGIC = 1681511377
MAX_SIZE = 1 << 30  # a vector of every row of a file of 8 billion rows holds ~1 GiB of bitmaps
_COOKIE_NO_RUNS = 12346
_COOKIE_RUNS = 12347
_NO_OFFSET_THRESHOLD = 4  # a portable bitmap with runs lists container offsets from this many containers
_ARRAY_MAX = 4096  # containers of at most this many values are sorted arrays, larger ones bitmaps
_Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
_Z85_VALUE = {c: i for i, c in enumerate(_Z85)}


@dataclass(frozen=True)
class DeletionVector:
    """A data file's ``deletionVector`` descriptor, as the log gives it."""

    storage_type: str
    path_or_inline: str
    offset: int | None
    size: int
    cardinality: int

    @property
    def unique_id(self) -> str:
        """The protocol's ``uniqueId``: with the path, what identifies a logical file of the table."""
        suffix = "" if self.offset is None else f"@{self.offset}"
        return f"{self.storage_type}{self.path_or_inline}{suffix}"

    @classmethod
    def from_action(cls, dv: dict) -> DeletionVector:
        try:
            offset = dv.get("offset")
            return cls(
                storage_type=str(dv["storageType"]),
                path_or_inline=str(dv["pathOrInlineDv"]),
                offset=None if offset is None else int(offset),
                size=int(dv["sizeInBytes"]),
                cardinality=int(dv["cardinality"]),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ReadError(f"the Delta log has a malformed deletion vector descriptor: {err}") from None


def z85_decode(text: str) -> bytes:
    """Z85 (ZeroMQ's Base85) text to bytes: five characters give four bytes, big-endian."""
    if len(text) % 5:
        raise ValueError(f"Z85 text of {len(text)} characters (not a multiple of 5)")
    out = bytearray()
    for i in range(0, len(text), 5):
        value = 0
        for c in text[i : i + 5]:
            digit = _Z85_VALUE.get(c)
            if digit is None:
                raise ValueError(f"{c!r} is not a Z85 character")
            value = value * 85 + digit
        if value >= 1 << 32:
            raise ValueError("Z85 group out of range")
        out += value.to_bytes(4, "big")
    return bytes(out)


def dv_file_path(dv: DeletionVector, table_root: str) -> str:
    """Where an on-disk vector is: under the table's root (``u``) or at its own absolute path (``p``)."""
    if dv.storage_type == "p":
        path = dv.path_or_inline
        return path[len("file:") :] if path.startswith("file:/") else path
    text = dv.path_or_inline
    if len(text) < 20:
        raise ValueError(f"`{text}` is too short for a prefix and a Z85 UUID")
    prefix, encoded = text[:-20], text[-20:]
    name = f"deletion_vector_{uuid.UUID(bytes=z85_decode(encoded))}.bin"
    return f"{table_root}/{prefix}/{name}" if prefix else f"{table_root}/{name}"  # as data files' URLs are


def load_deleted_rows(dv: DeletionVector, table_root: str) -> np.ndarray:
    """The sorted row indices (uint64) that ``dv`` deletes from its data file."""
    if not 0 < dv.size <= MAX_SIZE:  # read before it is checked: a corrupt log must not allocate gigabytes
        raise ReadError(f"its deletion vector's size in the log, {dv.size} bytes, is not plausible")
    if dv.storage_type == "i":
        try:
            payload = z85_decode(dv.path_or_inline + "0" * (-len(dv.path_or_inline) % 5))[: dv.size]
        except ValueError as err:
            raise ReadError(f"its inline deletion vector is not Z85: {err}") from None
    elif dv.storage_type in ("u", "p"):
        try:
            path = dv_file_path(dv, table_root)
        except ValueError as err:
            raise ReadError(f"its deletion vector's path cannot be decoded: {err}") from None
        payload = _read_stored(dv, path)
    else:
        raise ReadError(f"its deletion vector has an unknown storage type `{dv.storage_type}`")
    if len(payload) != dv.size:
        raise ReadError(f"its deletion vector holds {len(payload)} bytes, the log says {dv.size}")
    try:
        rows = decode_bitmap_array(payload)
    except (ValueError, struct.error) as err:
        raise ReadError(f"its deletion vector does not decode: {err}") from None
    if len(rows) != dv.cardinality:
        raise ReadError(f"its deletion vector deletes {len(rows)} rows, the log says {dv.cardinality}")
    return rows


def _read_stored(dv: DeletionVector, path: str) -> bytes:
    offset = 1 if dv.offset is None else dv.offset
    name = posixpath.basename(path)
    try:
        raw = filesystem_for(path).read_range(path, offset, dv.size + 8)
    except FileNotFoundError:
        raise ReadError(f"its deletion vector file `{name}` is missing") from None
    except OSError as err:
        raise ReadError(f"its deletion vector file `{name}` cannot be read: {err}") from None
    if len(raw) < dv.size + 8:
        raise ReadError(f"its deletion vector file `{name}` ends before the vector does")
    (size,) = struct.unpack_from(">i", raw, 0)
    if size != dv.size:  # (the bytes read are not echoed: the log chose the file and the offset)
        raise ReadError(f"`{name}` holds no vector of {dv.size} bytes at offset {offset}, where the log says")
    payload = raw[4 : 4 + size]
    (crc,) = struct.unpack_from(">I", raw, 4 + size)
    if zlib.crc32(payload) != crc:
        raise ReadError(f"its deletion vector in `{name}` fails its checksum")
    return payload


def decode_bitmap_array(payload: bytes) -> np.ndarray:
    """A serialized ``RoaringBitmapArray`` (with its magic number) as sorted uint64 row indices."""
    (magic,) = struct.unpack_from("<I", payload, 0)
    if magic != MAGIC:
        raise ValueError(f"magic number {magic}, not {MAGIC}")
    (count,) = struct.unpack_from("<q", payload, 4)
    if count < 0 or count > len(payload):
        raise ValueError(f"{count} bitmaps")
    pos = 12
    parts = []
    last_key = -1
    for _ in range(count):
        (key,) = struct.unpack_from("<I", payload, pos)
        if key <= last_key:
            raise ValueError("bitmap keys out of order")
        last_key = key
        values, pos = decode_portable(payload, pos + 4)
        parts.append((np.uint64(key) << np.uint64(32)) | values.astype(np.uint64))
    if pos != len(payload):
        raise ValueError(f"{len(payload) - pos} bytes after the last bitmap")
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)


def decode_portable(buf: bytes, pos: int) -> tuple[np.ndarray, int]:
    """One 32-bit Roaring bitmap in the portable format at ``buf[pos:]``: (sorted uint32 values, end)."""
    (cookie,) = struct.unpack_from("<I", buf, pos)
    if cookie & 0xFFFF == _COOKIE_RUNS:
        n = (cookie >> 16) + 1
        pos += 4
        run_flags = buf[pos : pos + (n + 7) // 8]
        if len(run_flags) < (n + 7) // 8:
            raise ValueError("truncated bitmap header")
        pos += (n + 7) // 8
        has_offsets = n >= _NO_OFFSET_THRESHOLD
    elif cookie == _COOKIE_NO_RUNS:
        (n,) = struct.unpack_from("<I", buf, pos + 4)
        pos += 8
        run_flags = b""
        has_offsets = True
    else:
        raise ValueError(f"not a portable Roaring bitmap (cookie {cookie})")
    if n > 1 << 16:
        raise ValueError(f"{n} containers")
    header = np.frombuffer(buf, dtype="<u2", count=2 * n, offset=pos).reshape(n, 2)
    pos += 4 * n
    if has_offsets:
        pos += 4 * n  # container offsets: the containers follow each other, so they are not needed
    out = []
    for i in range(n):
        key, card = int(header[i, 0]), int(header[i, 1]) + 1
        high = np.uint32(key << 16)
        if run_flags and run_flags[i >> 3] & (1 << (i & 7)):
            (runs,) = struct.unpack_from("<H", buf, pos)
            pairs = np.frombuffer(buf, dtype="<u2", count=2 * runs, offset=pos + 2).reshape(runs, 2)
            pos += 2 + 4 * runs
            values = np.concatenate(
                [np.arange(int(s), int(s) + int(length) + 1, dtype=np.uint32) for s, length in pairs]
            ) if runs else np.zeros(0, dtype=np.uint32)  # fmt: skip
        elif card <= _ARRAY_MAX:
            values = np.frombuffer(buf, dtype="<u2", count=card, offset=pos).astype(np.uint32)
            pos += 2 * card
        else:
            words = np.frombuffer(buf, dtype="<u8", count=1024, offset=pos)
            bits = np.unpackbits(words.view(np.uint8), bitorder="little")
            values = np.flatnonzero(bits).astype(np.uint32)
            pos += 8192
        if len(values) != card:
            raise ValueError(f"container {key} holds {len(values)} values, its header says {card}")
        out.append(values | high)
    values = np.concatenate(out) if out else np.zeros(0, dtype=np.uint32)
    if len(values) > 1 and not bool(np.all(values[1:] > values[:-1])):
        raise ValueError("values out of order")
    return values, pos


def without_deleted_rows(table: TableStream, deleted: np.ndarray) -> TableStream:
    """``table`` without the records whose index in the file is in ``deleted`` (sorted): its batches
    filtered by position from ``table.first_row`` on, and its row count (if known) reduced."""
    if not len(deleted):
        return table
    inner = table.batches
    start = table.first_row

    def kept() -> Iterator[pa.RecordBatch]:
        pos = start
        for batch in inner:
            n = batch.num_rows
            lo, hi = np.searchsorted(deleted, [pos, pos + n])
            if hi > lo:
                mask = np.ones(n, dtype=bool)
                mask[(deleted[lo:hi] - np.uint64(pos)).astype(np.int64)] = False
                batch = batch.filter(pa.array(mask))
            pos += n
            yield batch

    row_count = table.row_count
    warnings = list(table.warnings)
    if row_count is not None:
        lo, hi = np.searchsorted(deleted, [start, start + row_count])
        row_count -= int(hi - lo)
        if table.stats is not None and hi > lo:  # --metadata-only: the footers' statistics, not values
            warnings.append(f"footer statistics still count the {hi - lo} rows its deletion vector deletes")
    return dataclasses.replace(table, batches=kept(), row_count=row_count, warnings=warnings)
