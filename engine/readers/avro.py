"""Avro object container files through ``fastavro`` (the ``avro`` extra), record by record.

The writer's schema declares the types: it is mapped to Arrow (and so to the contract's names) and every
batch of records is built against it.  A union of ``null`` and one type is that type, nullable; other
unions and enums are text.  Compressed files (``.avro.gz``) stream through the decompressor.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from .._optional import import_fastavro
from ..discovery.base import FileRef
from ..errors import ReadError
from .base import ReadOptions, TableStream, register, typed_stream
from .compression import detect_compression, open_decompressed


@functools.cache
def _primitives() -> dict[str, pa.DataType]:
    return {
        "boolean": pa.bool_(),
        "int": pa.int32(),
        "long": pa.int64(),
        "float": pa.float32(),
        "double": pa.float64(),
        "bytes": pa.binary(),
        "string": pa.string(),
        "null": pa.null(),
    }


@functools.cache
def _logical() -> dict[str, pa.DataType]:
    return {
        "date": pa.date32(),
        "timestamp-millis": pa.timestamp("ms", tz="UTC"),
        "timestamp-micros": pa.timestamp("us", tz="UTC"),
        "local-timestamp-millis": pa.timestamp("ms"),
        "local-timestamp-micros": pa.timestamp("us"),
        "time-millis": pa.time32("ms"),
        "time-micros": pa.time64("us"),
        "uuid": pa.string(),
    }


def arrow_type(schema: Any) -> tuple[pa.DataType, bool, bool]:
    """(Arrow type, nullable, rendered as text) of an Avro schema (as fastavro parses it)."""
    if isinstance(schema, list):  # a union
        branches = [s for s in schema if s != "null"]
        nullable = len(branches) < len(schema)
        if len(branches) == 1:
            t, _, text = arrow_type(branches[0])
            return t, nullable, text
        return pa.string(), True, True
    if isinstance(schema, str):
        if schema in _primitives():
            return _primitives()[schema], schema == "null", False
        return pa.string(), False, True  # a named type defined elsewhere: shown as text
    logical = schema.get("logicalType")
    kind = schema.get("type")
    if logical == "decimal":
        return pa.decimal128(int(schema["precision"]), int(schema.get("scale", 0))), False, False
    if logical in _logical():
        return _logical()[logical], False, False
    if kind == "record":
        fields = []
        for f in schema["fields"]:
            t, nullable, _ = arrow_type(f["type"])
            fields.append(pa.field(f["name"], t, nullable))
        return pa.struct(fields), False, False
    if kind == "array":
        t, nullable, _ = arrow_type(schema["items"])
        return pa.list_(pa.field("element", t, nullable)), False, False
    if kind == "map":
        t, _, _ = arrow_type(schema["values"])
        return pa.map_(pa.string(), t), False, False
    if kind == "fixed":
        return pa.binary(), False, False
    if kind == "enum":
        return pa.string(), False, False
    if isinstance(kind, (str, list, dict)):
        return arrow_type(kind)
    return pa.string(), True, True


def _mentions_uuid(schema: Any) -> bool:
    """Whether a field's Avro schema has the ``uuid`` logical type anywhere in it."""
    if isinstance(schema, dict):
        return schema.get("logicalType") == "uuid" or any(_mentions_uuid(v) for v in schema.values())
    if isinstance(schema, list):
        return any(_mentions_uuid(v) for v in schema)
    return False


def _plain_uuids(value: Any) -> Any:
    """fastavro reads a ``uuid`` as a ``uuid.UUID``; Arrow takes its text (in records, arrays and maps)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain_uuids(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_uuids(v) for v in value]
    return value


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, default=str, ensure_ascii=False)


def _batches(
    reader: Any, schema: pa.Schema, text_cols: list[str], rows: int, stream: Any, uuid_cols: list[str]
) -> Iterator[pa.RecordBatch]:
    maps = [f.name for f in schema if pa.types.is_map(f.type)]
    try:
        buf: list[dict[str, Any]] = []
        for record in reader:
            if text_cols or maps or uuid_cols:
                record = dict(record)
                for c in uuid_cols:
                    record[c] = _plain_uuids(record.get(c))
                for c in text_cols:
                    record[c] = _text(record.get(c))
                for c in maps:
                    v = record.get(c)
                    record[c] = None if v is None else list(v.items())
            buf.append(record)
            if len(buf) >= rows:
                yield pa.RecordBatch.from_pylist(buf, schema=schema)
                buf = []
        if buf:
            yield pa.RecordBatch.from_pylist(buf, schema=schema)
    except (ValueError, EOFError, OSError, StopIteration) as err:
        raise ReadError(f"corrupt Avro data: {type(err).__name__}: {err}") from None
    finally:
        stream.close()


@register("avro")
def open_avro_table(ref: FileRef, options: ReadOptions) -> TableStream:
    fastavro = import_fastavro()
    from ..discovery.base import filesystem_for

    codec = detect_compression(filesystem_for(ref.url).read_range(ref.url, 0, 8), ref.compression)
    stream = open_decompressed(ref.url, codec)
    try:
        reader = fastavro.reader(stream)
        writer_schema = reader.writer_schema
        codec_name = getattr(reader, "codec", None)
    except (ValueError, EOFError, OSError, StopIteration) as err:
        stream.close()
        raise ReadError(f"not a readable Avro file: {type(err).__name__}: {err}") from None
    if not isinstance(writer_schema, dict) or writer_schema.get("type") != "record":
        # a file of plain values: one column named "value", as Spark names it
        writer_schema = {
            "type": "record",
            "name": "value",
            "fields": [{"name": "value", "type": writer_schema}],
        }
        reader = ({"value": v} for v in reader)
    fields = []
    text_cols = []
    for f in writer_schema["fields"]:
        t, nullable, text = arrow_type(f["type"])
        fields.append(pa.field(f["name"], t, nullable))
        if text:
            text_cols.append(f["name"])
    uuid_cols = [f["name"] for f in writer_schema["fields"] if _mentions_uuid(f["type"])]
    schema = pa.schema(fields)
    batches = _batches(reader, schema, text_cols, options.batch_rows // 4, stream, uuid_cols)
    out = typed_stream(schema, batches, "avro", close=stream.close)
    out.compression = codec if codec else (None if codec_name in (None, "null") else codec_name)
    return out
