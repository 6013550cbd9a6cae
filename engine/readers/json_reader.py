"""JSON: newline-delimited records, a top-level array of records, or a single object (one record).

The text streams through the standard library's decoder one value at a time (``raw_decode`` over a
sliding buffer), so neither a large NDJSON file nor a large top-level array is ever held whole.  Records
are collected into batches; every key becomes a column (keys missing from a record are null there, keys
that appear late are null before).  Each column of a batch is an Arrow array of the values' own kinds:
integers ``int64``, other numbers ``double``, ``true``/``false`` booleans, strings, objects structs and
arrays lists.  A column whose values mix kinds (a number here, a string there) is text.  The profile then
refines the kinds as CSV text is typed: integers that fit 32 bits are ``int``, strings that all hold dates
or timestamps are ``date``/``timestamp`` (other strings stay strings, even ``"123"``: the writer quoted
them).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from ..discovery.base import FileRef
from ..errors import ReadError
from .base import ReadOptions, TableStream, register
from .csv_reader import open_text_stream

READ_CHUNK = 1 << 20
MAX_RECORD_CHARS = 64 << 20  # a single JSON value larger than this is refused
_WS = " \t\r\n"


class _Values:
    """Successive top-level JSON values of a text stream (and the elements of a top-level array)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._decode = codecs.getincrementaldecoder("utf-8-sig")()
        self._decoder = json.JSONDecoder()
        self._buf = ""
        self._pos = 0
        self._eof = False
        self._line = 1  # line number of the buffer's start
        self.layout = "empty"

    def _more(self) -> bool:
        if self._eof:
            return False
        chunk = self._stream.read(READ_CHUNK)
        if not chunk:
            self._eof = True
        try:
            text = self._decode.decode(bytes(chunk), final=self._eof)
        except UnicodeDecodeError as err:
            raise ReadError(f"not UTF-8 text near line {self._line}: {err.reason}") from None
        consumed = self._buf[: self._pos]
        self._line += consumed.count("\n")
        self._buf = self._buf[self._pos :] + text
        self._pos = 0
        return True

    def _skip(self, chars: str) -> str:
        """Skip ``chars``; the next character ('' at the end)."""
        while True:
            buf, i = self._buf, self._pos
            while i < len(buf) and buf[i] in chars:
                i += 1
            self._pos = i
            if i < len(buf):
                return buf[i]
            if not self._more():
                return ""

    def _where(self) -> str:
        line = self._line + self._buf.count("\n", 0, self._pos)
        return f"line {line}"

    def __iter__(self) -> Iterator[Any]:
        first = self._skip(_WS)
        if not first:
            return
        in_array = first == "["
        self.layout = "array" if in_array else "lines"
        if in_array:
            self._pos += 1
        while True:
            nxt = self._skip(_WS + ",") if in_array else self._skip(_WS)
            if not nxt:
                if in_array:
                    raise ReadError(f"unterminated top-level JSON array at {self._where()}")
                return
            if in_array and nxt == "]":
                self._pos += 1
                if self._skip(_WS):
                    raise ReadError(f"text after the top-level JSON array at {self._where()}")
                return
            while True:
                try:
                    value, end = self._decoder.raw_decode(self._buf, self._pos)
                except json.JSONDecodeError as err:
                    # perhaps the value goes on in the next chunk; past the limit, it is just invalid
                    if len(self._buf) - self._pos < MAX_RECORD_CHARS and self._more():
                        continue
                    raise ReadError(f"invalid JSON at {self._where()}: {err.msg}") from None
                if end == len(self._buf) and self._more():
                    continue  # a number may go on in the next chunk
                break
            self._pos = end
            yield value


def _column(values: list[Any]) -> pa.Array:
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        # kinds mixed (or an integer beyond 64 bits): the column is text
        return pa.array(
            [v if v is None or isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in values],
            type=pa.string(),
        )


def records_to_batch(records: list[Any]) -> pa.RecordBatch:
    """One batch from parsed records; a record that is not an object is one value in a ``value`` column."""
    keys: dict[str, None] = {}
    rows = []
    for r in records:
        if not isinstance(r, dict):
            r = {"value": r}
        rows.append(r)
        for k in r:
            keys.setdefault(k, None)
    arrays = [_column([r.get(k) for r in rows]) for k in keys]
    return pa.RecordBatch.from_arrays(arrays, names=list(keys)) if keys else pa.RecordBatch.from_pydict({})


def _batches(values: _Values, rows: int, stream: Any, table: TableStream) -> Iterator[pa.RecordBatch]:
    try:
        buf: list[Any] = []
        for value in values:
            buf.append(value)
            if len(buf) >= rows:
                yield records_to_batch(buf)
                buf = []
        if buf:
            batch = records_to_batch(buf)
            if values.layout != "array" or batch.num_columns or batch.num_rows:
                yield batch
        table.details["layout"] = values.layout
        if values.layout == "empty":
            table.warnings.append("empty file")
    finally:
        stream.close()


@register("json")
def open_json_table(ref: FileRef, options: ReadOptions) -> TableStream:
    stream, codec, _utf16 = open_text_stream(ref)
    values = _Values(stream)
    table = TableStream(names=(), batches=iter(()), file_type="json", compression=codec, encoding="utf-8",
                        typing="values", close=stream.close)  # fmt: skip
    table.batches = _batches(values, max(1024, options.batch_rows // 16), stream, table)
    return table
