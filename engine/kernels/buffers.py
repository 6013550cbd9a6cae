"""The only code that turns Arrow arrays into numpy views for the kernels.

A variable-width binary array is three buffers: the validity bitmap, the offsets and the data bytes.
An array may be a slice of a larger one (``array.offset != 0``); the views returned here account for
that, so kernels index values ``0 .. len(array)`` and never see the offset themselves.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pyarrow as pa

_EMPTY_U8 = np.zeros(0, dtype=np.uint8)
# Numba compiles a read-only array as a type of its own, and whether a view of an Arrow buffer is writable
# depends on who made the buffer: every view handed to the kernel is made read-only (``_ro``), so there is
# one compiled signature per offset width (int32, int64), not one per combination of flags.  Each
# signature is ~10 ms to load from the cache in every run and ~15 s to compile on a cold one.
_EMPTY_U8.setflags(write=False)


def _ro(a: np.ndarray) -> np.ndarray:
    """``a`` itself, flagged read-only (the array object is ours; the memory is not touched)."""
    a.setflags(write=False)
    return a


class BinaryViews(NamedTuple):
    """Zero-copy views of one binary/string array: value ``i`` is ``data[starts[i]:ends[i]]``."""

    starts: np.ndarray  # int32 or int64: the offsets without the last (shifted by the array offset)
    ends: np.ndarray  # the offsets without the first
    data: np.ndarray  # uint8, the whole data buffer (offsets index into it), at least 8 bytes
    validity: np.ndarray  # uint8 bitmap, or an empty array when every value is valid
    validity_bit_offset: int  # bit index of value 0 inside ``validity``
    length: int


def _u8(buf: pa.Buffer | None) -> np.ndarray:
    if buf is None or buf.size == 0:
        return _EMPTY_U8
    return _ro(np.frombuffer(buf, dtype=np.uint8))


def _data_u8(buf: pa.Buffer | None) -> np.ndarray:
    """The data bytes, at least 8 of them: kernels load whole 64-bit words (``hashing.load_word``)."""
    view = _u8(buf)
    if view.size >= 8:
        return view
    padded = np.zeros(8, dtype=np.uint8)
    padded[: view.size] = view
    padded.setflags(write=False)  # same (read-only) array type as the zero-copy views
    return padded


def binary_views(arr: pa.Array) -> BinaryViews:
    """Views of a ``binary``/``string`` (int32 offsets) or ``large_*`` (int64 offsets) array."""
    t = arr.type
    if pa.types.is_large_binary(t) or pa.types.is_large_string(t):
        off_dtype = np.int64
    elif pa.types.is_binary(t) or pa.types.is_string(t):
        off_dtype = np.int32
    else:
        raise TypeError(f"binary_views needs a binary or string array, not {t}")
    n = len(arr)
    validity_buf, offsets_buf, data_buf = arr.buffers()[:3]
    offsets = np.frombuffer(offsets_buf, dtype=off_dtype, count=arr.offset + n + 1)[arr.offset :]
    if arr.null_count == 0:
        validity = _EMPTY_U8
    else:
        validity = _u8(validity_buf)
    return BinaryViews(_ro(offsets[:-1]), _ro(offsets[1:]), _data_u8(data_buf), validity, arr.offset, n)


class FixedViews(NamedTuple):
    """Zero-copy views of one fixed-width array: value ``i`` is ``data[(first + i) * width:][:width]``."""

    data: np.ndarray  # uint8, the whole values buffer, at least 8 bytes
    first: int  # the array offset, in values
    width: int  # bytes a value
    validity: np.ndarray  # uint8 bitmap, or an empty array when every value is valid
    validity_bit_offset: int
    length: int


def _width(arr: pa.Array) -> int:
    t = arr.type
    width = t.byte_width if hasattr(t, "byte_width") else t.bit_width // 8
    if width <= 0 or pa.types.is_boolean(t):
        raise TypeError(f"a fixed-width array of whole bytes is needed, not {t}")
    return int(width)


def fixed_views(arr: pa.Array) -> FixedViews:
    """Views of a fixed-width primitive array (integers, floats, dates, timestamps, decimals) for
    ``fixed.update_fixed``."""
    width = _width(arr)
    validity_buf, data_buf = arr.buffers()[:2]
    validity = _EMPTY_U8 if arr.null_count == 0 else _u8(validity_buf)
    return FixedViews(_data_u8(data_buf), arr.offset, width, validity, arr.offset, len(arr))


def fixed_width_views(arr: pa.Array) -> BinaryViews:
    """Views of a fixed-width primitive array as if it were a binary array of ``byte_width``-byte values:
    what ``column.update_column`` folds in ``MODE_HASH`` as ``fixed.update_fixed`` does (the property
    tests hold one to the other).

    The bounds are synthesised (one ``arange``); the data is the values buffer itself, zero-copy.
    """
    width = _width(arr)
    n = len(arr)
    validity_buf, data_buf = arr.buffers()[:2]
    start = arr.offset * width
    offsets = np.arange(start, start + (n + 1) * width, width, dtype=np.int64)
    if arr.null_count == 0:
        validity = _EMPTY_U8
    else:
        validity = _u8(validity_buf)
    return BinaryViews(_ro(offsets[:-1]), _ro(offsets[1:]), _data_u8(data_buf), validity, arr.offset, n)


def field_views(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> BinaryViews:
    """Views of one column of a tokenized text block (``kernels.csv_tokenize``): every value valid.

    ``data`` is the block (with its padding, so word loads stay inside it), handed over read-only like
    Arrow's data (``readers.csv_blocks`` does it once per block), so the kernel's compiled variant for
    binary arrays serves both; ``starts``/``ends`` are the column's contiguous int32 bounds.
    """
    if data.flags.writeable:
        data = _ro(data.view())
    return BinaryViews(_ro(starts.view()), _ro(ends.view()), data, _EMPTY_U8, 0, len(ends))
