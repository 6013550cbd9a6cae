"""Arrow IPC: the file format (Feather v2, ``ARROW1``) read batch by batch from its footer, and the
streaming format read in order.  Feather v1 files (``FEA1``, written before 2020) are refused by name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from ..discovery.base import FileRef, filesystem_for
from ..errors import ReadError
from .base import ReadOptions, TableStream, register, typed_stream
from .compression import detect_compression, open_decompressed

IPC_FILE_MAGIC = b"ARROW1"
FEATHER_V1_MAGIC = b"FEA1"


def _file_batches(reader: Any, source: Any) -> Iterator[pa.RecordBatch]:
    try:
        for i in range(reader.num_record_batches):
            yield reader.get_batch(i)
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as err:
        raise ReadError(f"corrupt Arrow IPC data: {err}") from None
    finally:
        source.close()


def _stream_batches(reader: Any, source: Any) -> Iterator[pa.RecordBatch]:
    try:
        yield from reader
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as err:
        raise ReadError(f"corrupt Arrow IPC stream: {err}") from None
    finally:
        source.close()


@register("arrow")
def open_arrow_table(ref: FileRef, options: ReadOptions) -> TableStream:
    fs = filesystem_for(ref.url)
    head = fs.read_range(ref.url, 0, 8)
    if head.startswith(FEATHER_V1_MAGIC):
        raise ReadError("Feather v1 files are not supported: rewrite it with pyarrow.feather (v2)")
    codec = detect_compression(head, ref.compression)
    if head.startswith(IPC_FILE_MAGIC) and codec is None:
        source = fs.open_random(ref.url)
        try:
            reader = pa.ipc.open_file(source)
        except (pa.ArrowInvalid, OSError) as err:
            source.close()
            raise ReadError(f"not a readable Arrow IPC file: {err}") from None
        return typed_stream(reader.schema, _file_batches(reader, source), "arrow", close=source.close,
                            details={"record_batches": reader.num_record_batches})  # fmt: skip
    source = open_decompressed(ref.url, codec)
    try:
        if head.startswith(IPC_FILE_MAGIC):
            raise ReadError("a compressed Arrow IPC file cannot be read from its footer: decompress it first")
        reader = pa.ipc.open_stream(source)
    except (pa.ArrowInvalid, OSError) as err:
        source.close()
        raise ReadError(f"not a readable Arrow IPC stream: {err}") from None
    except ReadError:
        source.close()
        raise
    stream = typed_stream(reader.schema, _stream_batches(reader, source), "arrow", close=source.close)
    stream.compression = codec
    return stream
