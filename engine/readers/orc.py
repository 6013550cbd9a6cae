"""ORC through pyarrow: the schema and row count from the file's footer, values one stripe at a time."""

from __future__ import annotations

import pyarrow as pa

from ..discovery.base import FileRef, filesystem_for
from ..errors import ReadError
from .base import ReadOptions, TableStream, guarded_batches, register, typed_stream


@register("orc")
def open_orc_table(ref: FileRef, options: ReadOptions) -> TableStream:
    from pyarrow import orc as paorc

    source = filesystem_for(ref.url).open_random(ref.url)
    try:
        orc = paorc.ORCFile(source)
        schema = orc.schema
        rows = orc.nrows
        codec = str(orc.compression).lower()
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as err:
        source.close()
        raise ReadError(f"not a readable ORC file: {err}") from None
    stripes = guarded_batches((orc.read_stripe(i) for i in range(orc.nstripes)), source, "ORC data")
    stream = typed_stream(schema, stripes, "orc", row_count=rows, close=source.close,
                          details={"stripes": orc.nstripes})  # fmt: skip
    stream.compression = None if codec in ("uncompressed", "none") else codec
    return stream
