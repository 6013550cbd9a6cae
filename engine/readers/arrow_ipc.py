"""Arrow IPC: the file format (Feather v2, ``ARROW1``) read batch by batch from its footer, and the
streaming format read in order.  Feather v1 files (``FEA1``, written before 2020) are refused by name."""

from __future__ import annotations

import pyarrow as pa

from ..discovery.base import FileRef, filesystem_for
from ..errors import ReadError
from .base import ReadOptions, TableStream, guarded_batches, register, typed_stream
from .compression import detect_compression, open_decompressed

IPC_FILE_MAGIC = b"ARROW1"
FEATHER_V1_MAGIC = b"FEA1"


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
        batches = guarded_batches(
            (reader.get_batch(i) for i in range(reader.num_record_batches)), source, "Arrow IPC data"
        )
        return typed_stream(reader.schema, batches, "arrow", close=source.close,
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
    stream = typed_stream(reader.schema, guarded_batches(reader, source, "Arrow IPC stream"), "arrow",
                          close=source.close)  # fmt: skip
    stream.compression = codec
    return stream
