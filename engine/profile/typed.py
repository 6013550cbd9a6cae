"""Typed Arrow values (Parquet, ORC, Avro, Arrow, Delta, JSON): their SQL type names, how their values
reach the fused kernel, their minimum and maximum in typed order, and how they are rendered as text.

The kernel only knows byte strings.  A typed column reaches it in one of two ways:

* strings and binaries as they are (``MODE_TYPED_TEXT``: nulls from the validity bitmap only, byte-order
  minimum and maximum kept);
* fixed-width values (integers, floats, decimals, dates, timestamps, booleans) as their raw little-endian
  bytes (``MODE_HASH``): the kernel hashes them for the distinct sketch and the sample priorities, and
  only the few sampled values are rendered as text.  Integers are widened to 64 bits and floats to double
  first, so a column written as ``int`` in one file and ``bigint`` in another hashes the same values the
  same way.

Nested values (lists, structs, maps) are rendered as JSON text and hashed as such.

A typed minimum or maximum is ``(family, key, text)``: ``key`` orders values within a family (numbers by
value, dates and timestamps by UTC nanoseconds, booleans false < true), the family makes any two keys
comparable, and ``text`` breaks ties, so ``min``/``max`` over them are associative and commutative.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
from typing import Any

import numpy as np
import pyarrow as pa

from ..kernels.column import MODE_HASH, MODE_TYPED_TEXT
from ..kernels.fixed import KEY_INT, KEY_NONE
from ._math import render_ns

FAMILY_NUMBER = 1
FAMILY_TEMPORAL = 2
FAMILY_BOOLEAN = 3
FAMILY_TIME = 4

TypedBound = tuple[int, Any, str]

_NS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
_NS_PER_DAY = 86_400 * 1_000_000_000
_MS_PER_DAY = 86_400_000


# --- SQL type names -------------------------------------------------------------------------------------


def quote_field(name: str) -> str:
    """A struct field name as Databricks writes it: backticks unless it is a plain identifier."""
    if name and (name[0].isalpha() or name[0] == "_") and all(c.isalnum() or c == "_" for c in name):
        return name
    return "`" + name.replace("`", "``") + "`"


def sql_type(t: pa.DataType) -> str:
    """The contract's (lower-case Databricks SQL) name of an Arrow type."""
    if pa.types.is_dictionary(t):
        return sql_type(t.value_type)
    if isinstance(t, pa.ExtensionType):
        return sql_type(t.storage_type)
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_int64(t) or pa.types.is_uint32(t) or pa.types.is_duration(t):
        return "bigint"
    if pa.types.is_integer(t):
        return "decimal(20,0)" if pa.types.is_uint64(t) else "int"
    if pa.types.is_floating(t):
        return "double"
    if pa.types.is_decimal(t):
        return f"decimal({t.precision},{t.scale})"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if (
        pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
        or pa.types.is_fixed_size_binary(t)
        or pa.types.is_binary_view(t)
    ):
        return "binary"
    if pa.types.is_map(t):
        return f"map<{sql_type(t.key_type)},{sql_type(t.item_type)}>"
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return f"array<{sql_type(t.value_type)}>"
    if pa.types.is_list_view(t) or pa.types.is_large_list_view(t):
        return f"array<{sql_type(t.value_type)}>"
    if pa.types.is_struct(t):
        inner = ",".join(
            f"{quote_field(t.field(i).name)}:{sql_type(t.field(i).type)}" for i in range(t.num_fields)
        )
        return f"struct<{inner}>"
    if pa.types.is_null(t):
        return "string"  # nothing but nulls: the contract's type of an all-null column
    return "string"  # time of day, intervals, unions: no Databricks type; shown as text


def is_nested(t: pa.DataType) -> bool:
    return pa.types.is_nested(t)


# --- feeding the kernel ---------------------------------------------------------------------------------


def _decoded(arr: pa.Array) -> pa.Array:
    t = arr.type
    if pa.types.is_dictionary(t):
        return _decoded(arr.dictionary_decode())
    if isinstance(t, pa.ExtensionType):
        return _decoded(arr.storage)
    if pa.types.is_string_view(t):
        return _narrow_cast(arr, pa.string(), pa.large_string())
    if pa.types.is_binary_view(t) or pa.types.is_fixed_size_binary(t):
        return _narrow_cast(arr, pa.binary(), pa.large_binary())
    return arr


def used_dictionary_values(arr: pa.DictionaryArray) -> pa.Array | None:
    """The dictionary entries ``arr``'s indices use, each once; None when a null entry stands for a value
    (rare: the chunk is then decoded instead).

    Every effect of a value on a typed column's state but the count is the same for one occurrence as for
    many (``kernels.column``), so a dictionary-encoded chunk (Parquet strings read as such, categoricals in
    Arrow files) is folded through these few values, not the decoded column.
    """
    dictionary = arr.dictionary
    if dictionary.null_count:
        return None
    indices = arr.indices
    if indices.null_count == 0 and len(dictionary) <= len(indices) and not pa.types.is_uint64(indices.type):
        codes = np.frombuffer(indices.buffers()[1], dtype=indices.type.to_pandas_dtype())
        codes = codes[indices.offset : indices.offset + len(indices)]
        used = np.flatnonzero(np.bincount(codes, minlength=len(dictionary)))
    else:
        import pyarrow.compute as pc

        used = np.sort(pc.unique(indices.drop_null()).to_numpy(zero_copy_only=False))
    if len(used) == len(dictionary):
        return dictionary
    return dictionary.take(pa.array(used, type=pa.int64()))


def _narrow_cast(arr: pa.Array, narrow: pa.DataType, wide: pa.DataType) -> pa.Array:
    """Cast to 32-bit offsets (the cheapest cast from views), or 64-bit when the data is over 2 GiB."""
    try:
        return arr.cast(narrow)
    except (pa.ArrowInvalid, pa.ArrowCapacityError):
        return arr.cast(wide)


def kernel_input(arr: pa.Array) -> tuple[pa.Array, int, bool]:
    """(array, kernel mode, fixed width) that the fused kernel folds for a typed column."""
    arr = _decoded(arr)
    t = arr.type
    if (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
    ):
        return arr, MODE_TYPED_TEXT, False
    if pa.types.is_boolean(t):
        return arr.cast(pa.uint8()), MODE_HASH, True
    if pa.types.is_integer(t):
        return (arr if pa.types.is_uint64(t) else arr.cast(pa.int64())), MODE_HASH, True
    if pa.types.is_floating(t):
        return arr.cast(pa.float64()), MODE_HASH, True
    if pa.types.is_date64(t):
        return _date32(arr), MODE_HASH, True
    if pa.types.is_decimal(t) or (pa.types.is_primitive(t) and t.bit_width >= 8):
        return arr, MODE_HASH, True  # decimals, dates, timestamps, times, durations
    return pa.array(render_nested(arr), type=pa.large_string()), MODE_HASH, False


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return str(value)


def _plain(value: Any) -> Any:
    """Python values of nested Arrow scalars as JSON-ready values (maps become objects)."""
    if isinstance(value, list):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
            return {str(k): _plain(v) for k, v in value}
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _plain_as(value: Any, t: pa.DataType) -> Any:
    """``_plain`` guided by the value's Arrow type: an empty map is an object too (``{}``), not ``[]``."""
    if value is None:
        return None
    if pa.types.is_dictionary(t):
        return _plain_as(value, t.value_type)
    if pa.types.is_map(t):
        return {str(k): _plain_as(v, t.item_type) for k, v in value}
    if isinstance(value, list) and hasattr(t, "value_type"):
        return [_plain_as(v, t.value_type) for v in value]
    if isinstance(value, dict) and pa.types.is_struct(t):
        types = {t.field(i).name: t.field(i).type for i in range(t.num_fields)}
        return {k: _plain_as(v, types[k]) if k in types else _plain(v) for k, v in value.items()}
    return _plain(value)


def render_nested(arr: pa.Array) -> list[str | None]:
    """Nested values as compact JSON text (None for nulls)."""
    t = arr.type
    return [
        None
        if v is None
        else json.dumps(_plain_as(v, t), ensure_ascii=False, separators=(",", ":"), default=_json_default)
        for v in arr.to_pylist()
    ]


# --- rendering ------------------------------------------------------------------------------------------


def _float_text(value: float, t: pa.DataType) -> str:
    if pa.types.is_float32(t) or pa.types.is_float16(t):
        return str(np.float32(value))
    return repr(float(value))


def render_scalar(value: Any, t: pa.DataType) -> str:
    """One non-null value of an Arrow column as text (what samples and minimum/maximum show)."""
    if pa.types.is_dictionary(t):
        t = t.value_type
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _float_text(value, t)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        text = value.isoformat(sep=" ")
        return text
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (list, dict)):
        return json.dumps(_plain(value), ensure_ascii=False, separators=(",", ":"), default=_json_default)
    return str(value)


def sample_text(arr: pa.Array, i: int) -> bytes:
    """Value ``i`` (non-null) of a typed array, rendered, as UTF-8 bytes."""
    t = arr.type
    # dates and timestamps from their integers: Python's cannot hold years outside 1-9999, Arrow's can
    if pa.types.is_timestamp(t):
        raw = arr.cast(pa.int64()).slice(i, 1)[0].as_py()
        return render_ns(raw * _NS[t.unit]).encode()
    if pa.types.is_date32(t):
        return render_ns(arr.slice(i, 1).cast(pa.int32())[0].as_py() * _NS_PER_DAY, True).encode()
    if pa.types.is_date64(t):
        return render_ns(arr.slice(i, 1).cast(pa.int64())[0].as_py() * 1_000_000, True).encode()
    if pa.types.is_time(t) or pa.types.is_duration(t):
        return _unit_text(_integers(arr.slice(i, 1))[0].as_py(), t).encode()
    return render_scalar(arr[i].as_py(), t).encode("utf-8", "surrogateescape")


def _date32(arr: pa.Array) -> pa.Array:
    """A date array as ``date32``.  A ``date64`` value should be whole days (milliseconds); one that is
    not (some writers disagree) is its day, as its sample shows it, rather than a failed cast."""
    if pa.types.is_date32(arr.type):
        return arr
    import pyarrow.compute as pc

    days = pc.floor(pc.divide(arr.cast(pa.int64()).cast(pa.float64()), float(_MS_PER_DAY)))
    return days.cast(pa.int32()).cast(pa.date32())


def _integers(arr: pa.Array) -> pa.Array:
    """The integers of times of day or durations (``time32`` casts to ``int32`` only)."""
    return arr.cast(pa.int32() if arr.type.bit_width == 32 else pa.int64())


def _unit_text(value: int, t: pa.DataType) -> str:
    """A time of day or a duration from its integer, as Python shows it; a duration Python cannot hold
    (beyond a billion days) as its number and unit."""
    if pa.types.is_time(t):  # as Python's ``time`` shows it, to the nanosecond (pyarrow's drops them)
        secs, frac = divmod(value * _NS[t.unit], 1_000_000_000)
        hh, rest = divmod(secs, 3600)
        text = f"{hh:02d}:{rest // 60:02d}:{rest % 60:02d}"
        if frac:
            text += f".{frac // 1000:06d}" if frac % 1000 == 0 else f".{frac:09d}"
        return text
    try:
        return render_scalar(pa.scalar(value, type=t).as_py(), t)
    except (OverflowError, ValueError, pa.ArrowException):
        return f"{value} {t.unit}"


# --- typed minimum and maximum --------------------------------------------------------------------------


def _bound(family: int, key: Any, text: str) -> TypedBound:
    return (family, key, text)


def _orderable(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        return _orderable(t.value_type)
    if isinstance(t, pa.ExtensionType):
        return _orderable(t.storage_type)
    return (
        pa.types.is_boolean(t)
        or pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_decimal(t)
        or pa.types.is_temporal(t)
    )


def _min_max(arr: pa.Array) -> Any:
    """``pyarrow.compute.min_max``, imported on first use: a run over text files never needs it (~15 ms)."""
    import pyarrow.compute as pc

    return pc.min_max(arr)


def key_kind(t: pa.DataType) -> int:
    """How the fixed-width kernel can order ``kernel_input``'s values of type ``t`` itself (``KEY_INT``:
    their bytes are the integer key ``bounds_of_keys`` turns into typed bounds), or not (``KEY_NONE``)."""
    if pa.types.is_int64(t) or pa.types.is_date32(t) or pa.types.is_timestamp(t):
        return KEY_INT
    if pa.types.is_decimal128(t) and t.precision <= 18:
        return KEY_INT
    return KEY_NONE


def bounds_of_keys(t: pa.DataType, lo: int, hi: int) -> tuple[TypedBound, TypedBound]:
    """The typed bounds of the smallest and largest integer key of a ``KEY_INT`` type ``t`` (the values'
    own integers: signed integers, days of a date, units of a timestamp, unscaled decimals)."""
    if pa.types.is_decimal(t):
        scale = decimal.Decimal(1).scaleb(-t.scale)
        a, b = ((decimal.Decimal(k) * scale).quantize(scale) for k in (lo, hi))
        return _bound(FAMILY_NUMBER, a, str(a)), _bound(FAMILY_NUMBER, b, str(b))
    if pa.types.is_date(t):
        a, b = lo * _NS_PER_DAY, hi * _NS_PER_DAY
        return _bound(FAMILY_TEMPORAL, a, render_ns(a, True)), _bound(FAMILY_TEMPORAL, b, render_ns(b, True))
    if pa.types.is_timestamp(t):
        f = _NS[t.unit]
        a, b = lo * f, hi * f
        return _bound(FAMILY_TEMPORAL, a, render_ns(a)), _bound(FAMILY_TEMPORAL, b, render_ns(b))
    return _bound(FAMILY_NUMBER, lo, render_scalar(lo, t)), _bound(FAMILY_NUMBER, hi, render_scalar(hi, t))


def typed_min_max(arr: pa.Array) -> tuple[TypedBound | None, TypedBound | None]:
    """The smallest and largest non-null value of an orderable typed array (None, None otherwise)."""
    if not _orderable(arr.type) or len(arr) == arr.null_count:
        return None, None
    arr = _decoded(arr)
    t = arr.type
    if pa.types.is_boolean(t):
        mm = _min_max(arr)
        lo, hi = mm["min"].as_py(), mm["max"].as_py()
        return _bound(FAMILY_BOOLEAN, int(lo), render_scalar(lo, t)), _bound(
            FAMILY_BOOLEAN, int(hi), render_scalar(hi, t)
        )
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        mm = _min_max(arr.cast(pa.float32()) if pa.types.is_float16(t) else arr)  # no min_max of halves
        lo, hi = mm["min"].as_py(), mm["max"].as_py()
        if isinstance(lo, float) and (math.isnan(lo) or math.isnan(hi)):
            return None, None
        return _bound(FAMILY_NUMBER, lo, render_scalar(lo, t)), _bound(
            FAMILY_NUMBER, hi, render_scalar(hi, t)
        )
    if pa.types.is_date(t):
        days = _min_max(_date32(arr).cast(pa.int32()))
        return bounds_of_keys(pa.date32(), days["min"].as_py(), days["max"].as_py())
    if pa.types.is_timestamp(t):
        raw = _min_max(arr.cast(pa.int64()))
        return bounds_of_keys(t, raw["min"].as_py(), raw["max"].as_py())
    if pa.types.is_time(t) or pa.types.is_duration(t):
        key = _min_max(_integers(arr))  # their order is their integers' (pyarrow has no min_max of durations)
        lo, hi = key["min"].as_py(), key["max"].as_py()
        return _bound(FAMILY_TIME, lo, _unit_text(lo, t)), _bound(FAMILY_TIME, hi, _unit_text(hi, t))
    return None, None


def bound_of_value(value: Any, t: pa.DataType) -> TypedBound | None:
    """A typed bound for one Python value of type ``t`` (Parquet footer statistics)."""
    if value is None:
        return None
    if pa.types.is_boolean(t):
        return _bound(FAMILY_BOOLEAN, int(value), render_scalar(value, t))
    if isinstance(value, float) and math.isnan(value):
        return None
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return _bound(FAMILY_NUMBER, value, render_scalar(value, t))
    if pa.types.is_date(t) and isinstance(value, dt.date):
        ns = (value - dt.date(1970, 1, 1)).days * _NS_PER_DAY
        return _bound(FAMILY_TEMPORAL, ns, render_ns(ns, True))
    if pa.types.is_timestamp(t) and isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        delta = value - dt.datetime(1970, 1, 1)
        ns = (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
        return _bound(FAMILY_TEMPORAL, ns, render_ns(ns))
    return None
