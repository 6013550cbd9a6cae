"""ORC through pyarrow: the schema and row count from the file's footer, values one stripe at a time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from ..discovery.base import FileRef, filesystem_for
from ..errors import ReadError
from .base import ReadOptions, TableStream, register, typed_stream


def _stripes(orc: Any, source: Any) -> Iterator[pa.RecordBatch]:
    try:
        for i in range(orc.nstripes):
            yield orc.read_stripe(i)
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as err:
        raise ReadError(f"corrupt ORC data: {err}") from None
    finally:
        source.close()


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
    stream = typed_stream(schema, _stripes(orc, source), "orc", row_count=rows, close=source.close,
                          details={"stripes": orc.nstripes})  # fmt: skip
    stream.compression = None if codec in ("uncompressed", "none") else codec
    return stream
