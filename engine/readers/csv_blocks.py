"""Delimited text as tokenized blocks: the fast path of the CSV reader.

Bytes are read into one reusable buffer, ``kernels.csv_tokenize`` finds the bounds of every field of the
complete records in it, and the block is handed on as a ``FieldBlock``: the kernels then profile each
column straight from the buffer.  Nothing is copied per value and no Arrow array is built, which is what
made pyarrow's parse the larger half of the work.

Records the tokenizer does not take (a ragged record, text after a closing quote, an unterminated
quote at the end) are pyarrow's: from the first such record on, the rest of the stream is parsed by
``csv_reader.iter_batches``, which counts ragged records and profiles them as Spark's PERMISSIVE mode
reads them.  The tokenizer follows pyarrow's grammar, so the profile does not depend on which path read
a record (property-tested).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pyarrow as pa

from ..kernels.csv_tokenize import PADDING, TOK_FALLBACK, TOK_FULL
from ..kernels.entry import tokenize
from .base import FieldBlock, RecordTooLarge
from .dialect import Dialect

#: Field bounds per tokenizer call (8 bytes each): 1 MiB, whatever the block size.  A column's values
#: and bounds then stay in the core's cache while the kernel makes its pass.
FIELDS_PER_CALL = 1 << 17
#: ... but at least this many records per call, up to ``MAX_FIELDS_PER_CALL`` fields (32 MiB of bounds):
#: each kernel call first brings its column's sketches into cache, which a few hundred values of a wide
#: table do not pay for.  Reads grow up to ``MAX_READ_SIZE`` to find that many records.
MIN_ROWS_PER_CALL = 4096
MAX_FIELDS_PER_CALL = 1 << 22
MAX_READ_SIZE = 32 << 20
#: Bytes between the addresses that ``bounds`` gives a column's starts and its ends, modulo a page.
_PAGE = 4096
_ENDS_OFFSET = _PAGE // 2


def bounds(ncols: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """``(starts, ends)``: ``(ncols, capacity + 1)`` int32 arrays for at least ``rows`` records, laid out
    so that the tokenizer's writes do not collide in the cache.

    For each field the tokenizer stores a start and an end in two arrays, and each column's bounds in
    their own row.  Allocated separately, two arrays of the same size both start 16 bytes into a fresh
    page (glibc maps large blocks whole), so ``starts[k, r]`` and ``ends[k, r]`` share a page offset and
    the core's memory disambiguation stalls on every pair (4K aliasing): the tokenizer ran 30 % slower,
    55 against 42 ms per 64 MiB of lineitem.  Here both live in one allocation, the row length is
    rounded so that consecutive columns start one cache line apart (mod a page), and the ends sit half a
    page away from the starts.
    """
    itemsize = np.dtype(np.int32).itemsize
    line = 64 // itemsize  # int32s per cache line
    per_page = _PAGE // itemsize
    cap = rows + 1
    cap += (line - cap) % per_page  # cap * 4 == 64 (mod 4096)
    size = ncols * cap
    gap = (_ENDS_OFFSET // itemsize - size) % per_page
    flat = np.empty(2 * size + gap + per_page, dtype=np.int32)
    first = (-flat.ctypes.data // itemsize) % per_page  # start the starts on a page boundary
    starts = flat[first : first + size].reshape(ncols, cap)
    ends = flat[first + size + gap : first + 2 * size + gap].reshape(ncols, cap)
    return starts, ends


def single_bytes(dialect: Dialect) -> tuple[int, int] | None:
    """(delimiter, quote or -1) as bytes, or None when either is not one byte (pyarrow's business)."""
    delim = dialect.delimiter.encode("utf-8")
    quote = dialect.quote.encode("utf-8") if dialect.quote else b""
    if len(delim) != 1 or len(quote) > 1:
        return None
    return delim[0], quote[0] if quote else -1


def reader_into(stream: Any) -> Callable[[memoryview], int]:
    """``readinto`` of ``stream``, or an equivalent over ``read`` (one copy more)."""
    readinto = getattr(stream, "readinto", None)
    if readinto is not None:
        return readinto  # type: ignore[no-any-return]

    def via_read(view: memoryview) -> int:
        chunk = stream.read(len(view))
        view[: len(chunk)] = chunk
        return len(chunk)

    return via_read


def iter_field_blocks(
    stream: Any,
    dialect: Dialect,
    block_size: int,
    fallback: Callable[[bytes, Any], Iterator[pa.RecordBatch]],
    fields_per_call: int = FIELDS_PER_CALL,
    min_rows: int = MIN_ROWS_PER_CALL,
) -> Iterator[FieldBlock | pa.RecordBatch]:
    """Tokenized blocks of a headerless stream of records; from a record the tokenizer does not take,
    ``fallback(unread bytes, stream)``'s batches instead.  A block holds about ``fields_per_call`` fields
    (see ``MIN_ROWS_PER_CALL``)."""
    marks = single_bytes(dialect)
    assert marks is not None
    delim, quote = marks
    ncols = len(dialect.names)
    rows = max(1, min(max(fields_per_call // ncols, min_rows), MAX_FIELDS_PER_CALL // ncols))
    starts, ends = bounds(ncols, rows)
    read_size = block_size
    buf = np.zeros(2 * read_size + PADDING, dtype=np.uint8)
    readinto = reader_into(stream)
    fill = 0
    eof = False
    while True:
        target = fill + read_size
        if target + PADDING > buf.shape[0]:
            grown = np.zeros(2 * read_size + PADDING, dtype=np.uint8)
            grown[:fill] = buf[:fill]
            buf = grown
        view = memoryview(buf)
        while fill < target and not eof:
            got = readinto(view[fill:target])
            if not got:
                eof = True
            else:
                fill += got
        buf[fill : fill + PADDING] = 0
        pos = 0
        total = 0
        while True:
            got, pos, status = tokenize(buf, pos, fill, eof, delim, quote, starts, ends)
            total += got
            if got:
                data = buf[: fill + PADDING]
                data.setflags(write=False)  # a read-only view, as the kernels get Arrow's data
                yield FieldBlock(data, starts, ends, got)
            if status != TOK_FULL:
                break
        if status == TOK_FALLBACK:
            yield from fallback(bytes(buf[pos:fill]), stream)
            return
        if eof:
            return  # at the end of the text the tokenizer consumes everything or falls back
        carry = fill - pos
        if pos == 0 and carry >= block_size:
            raise RecordTooLarge(f"a record is larger than the {block_size >> 20} MiB block")
        if total < rows and read_size < MAX_READ_SIZE:
            read_size *= 2  # wide records: read more at a time, so each kernel call gets enough rows
        buf[:carry] = buf[pos:fill]
        fill = carry
