"""Streaming delimited text (CSV, TSV, PSV, ...) as raw bytes: tokenized blocks or binary columns.

Every column is read as ``binary``: no type conversion and no UTF-8 validation happen in the parser, the
kernels see the raw bytes, and a file with bytes that are not UTF-8 still streams (its text is decoded as
Windows-1252 when rendered).  Memory is bounded by the block size: the parser never holds more than a
block or two.

Records are tokenized into blocks of field bounds by ``csv_blocks`` (the fast path); pyarrow's parser
takes over from the first record that path leaves to it.

A whole file streams from its start (decompressing on the way); a plain file larger than the split size
is cut into byte ranges whose record boundaries ``kernels.csv_scan.find_boundary`` finds independently.

Ragged records (too many or too few fields) are counted and still profiled, as Spark's PERMISSIVE mode
reads them: extra fields are dropped and missing ones are null.
"""

from __future__ import annotations

import codecs
import csv as pycsv
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from ..discovery.base import FileRef, filesystem_for
from ..errors import ReadError
from ..kernels.csv_scan import (
    S_FIELD_START,
    S_QUOTED,
    TRANSITIONS,
    initial_hypotheses,
    unquoted_hypotheses,
)
from ..kernels.entry import advance_state, find_boundary
from .base import FieldBlock, ReadOptions, RecordTooLarge, TableStream, register
from .compression import detect_compression, open_decompressed
from .csv_blocks import iter_field_blocks, reader_into, single_bytes
from .dialect import Dialect, NeedMoreSample, sniff

log = logging.getLogger(__name__)

SAMPLE_BYTES = 64 << 10
MAX_SAMPLE_BYTES = 16 << 20  # a header longer than this is not a header
MAX_BLOCK_SIZE = 512 << 20
_SCAN_WINDOW = 1 << 20
SPECULATE_AFTER = 1 << 20  # bytes scanned for a certain record boundary before settling for a speculative one
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass
class CsvStats:
    """What the reader noticed, reported beside the profile."""

    ragged_long: int = 0  # records with more fields than columns (extra fields dropped)
    ragged_short: int = 0  # records with fewer fields (missing ones null)
    ends_in_quotes: bool = False  # the text ended inside a quoted field (known once it is all read)


class _QuoteState(io.RawIOBase):
    """Passes a stream through, following the quote state from a record start; at its end, records in
    ``stats`` whether the text ended inside a quoted field (pyarrow would accept that silently)."""

    def __init__(self, raw: Any, dialect: Dialect, stats: CsvStats) -> None:
        self._raw = raw
        self._classes = dialect.classes
        self._state = S_FIELD_START
        self._stats = stats

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:  # type: ignore[override]
        n = self._raw.readinto(b)
        if n:
            view = np.frombuffer(b, dtype=np.uint8, count=n)
            self._state = int(advance_state(view, self._classes, TRANSITIONS, self._state))
        else:
            self._stats.ends_in_quotes = self._state == S_QUOTED
        return n


class _NoTrailingCR(io.RawIOBase):
    """Reads that never end with a CR unless the text does: pyarrow's parser treats every read as a
    chunk, and a chunk ending between the CR and LF of a quoted CRLF loses the LF (pyarrow 26 reads
    ``"xy\r\nz"`` as ``xy\rz``).  A CR that would end a read is held back and starts the next one."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self._held = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:  # pyarrow reads with read(): one copy fewer than readinto
        data = self._held
        self._held = b""
        if size is None or size < 0:
            return data + (self._raw.read() or b"")
        if len(data) < size:
            data += self._raw.read(size - len(data)) or b""
        while data.endswith(b"\r"):
            more = self._raw.read(1)
            if not more:
                break  # the text itself ends with a CR
            if len(data) > 1:
                self._held = data[-1:] + more
                data = data[:-1]
                break
            data += more  # a read of one CR: the next byte comes with it
        if len(data) > size:  # only for a read of one byte
            self._held = data[size:] + self._held
            data = data[:size]
        return data

    def readinto(self, b: Any) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


class _PrefixedStream(io.RawIOBase):
    """Bytes already read (the sniffed sample) followed by the rest of a stream."""

    def __init__(self, prefix: bytes, rest: Any) -> None:
        self._prefix = memoryview(prefix)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:  # type: ignore[override]
        # Fill ``b`` across the seam: pyarrow's parser treats every read as a chunk (see ``_NoTrailingCR``),
        # and fewer, larger chunks parse faster.
        n = 0
        if self._prefix:
            n = min(len(b), len(self._prefix))
            b[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
        while n < len(b):
            chunk = self._rest.read(len(b) - n)
            if not chunk:
                break
            b[n : n + len(chunk)] = chunk
            n += len(chunk)
        return n

    def close(self) -> None:
        try:
            self._rest.close()
        finally:
            super().close()


class _Utf16ToUtf8(io.RawIOBase):
    """Transcode a UTF-16 stream (with BOM) to UTF-8, so the parser and kernels only ever see UTF-8."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder("utf-16")()
        self._buf = b""
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:  # type: ignore[override]
        while not self._buf and not self._eof:
            chunk = self._raw.read(1 << 20)
            if not chunk:
                self._eof = True
            try:
                self._buf = self._decoder.decode(chunk, final=self._eof).encode("utf-8")
            except UnicodeDecodeError as err:
                raise ReadError(f"invalid UTF-16 text: {err}") from None
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def _read_exact(stream: Any, n: int) -> bytes:
    parts = []
    got = 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            break
        parts.append(bytes(chunk))
        got += len(chunk)
    return b"".join(parts)


def open_text_stream(ref: FileRef) -> tuple[Any, str | None, bool]:
    """(stream, codec, utf16) of a file's decompressed, UTF-8 (or single-byte) content."""
    head = filesystem_for(ref.url).read_range(ref.url, 0, 8)
    codec = detect_compression(head, ref.compression)
    if ref.compression and codec != ref.compression and head:
        log.info("`%s` is named as %s but its content is %s", ref.rel_path, ref.compression,
                 codec or "not compressed")  # fmt: skip
    stream = open_decompressed(ref.url, codec)
    utf16 = False
    first = _read_exact(stream, 2)
    if first in UTF16_BOMS:
        utf16 = True
        stream = io.BufferedReader(_Utf16ToUtf8(_PrefixedStream(first, stream)), buffer_size=1 << 20)
    else:
        stream = _PrefixedStream(first, stream)
    return stream, codec, utf16


def sniff_stream(stream: Any, header_mode: str, null_tokens: tuple[str, ...]) -> tuple[Dialect, bytes]:
    """Sniff the dialect from the start of ``stream``; returns it with the bytes consumed."""
    size = SAMPLE_BYTES
    sample = _read_exact(stream, size)
    while True:
        at_eof = len(sample) < size
        try:
            return sniff(sample, at_eof, header_mode, null_tokens), sample
        except NeedMoreSample:
            if size >= MAX_SAMPLE_BYTES:
                raise ReadError(
                    f"no end of the header record in the first {MAX_SAMPLE_BYTES >> 20} MiB"
                ) from None
            more = _read_exact(stream, size)
            sample += more
            size *= 2


def record_boundary(ref: FileRef, offset: int, dialect: Dialect) -> tuple[int, bool]:
    """The record boundary at or after ``offset`` that both ranges meeting there use, and whether it is
    certain (the file size if there is none).

    Certain: the first LF outside quotes under every starting state (see ``kernels.csv_scan``).  When the
    first ``SPECULATE_AFTER`` bytes hold none (text without quotes never rules out "inside a quoted
    field"), the boundary is speculative: the first LF outside quotes for a start outside quotes.  The
    range that ends there checks that its parse really ended outside quotes (``CsvStats.ends_in_quotes``);
    if not, the file is profiled again unsplit.  Both are functions of the bytes alone, so the range
    before and the range after compute the same boundary independently.
    """
    if offset <= dialect.data_start:
        return dialect.data_start, True
    fs = filesystem_for(ref.url)
    classes = dialect.classes
    for states, limit in ((initial_hypotheses(), SPECULATE_AFTER), (unquoted_hypotheses(), None)):
        pos = offset
        window = _SCAN_WINDOW >> 4  # boundaries are usually within a line or two: start small
        while pos < ref.size and (limit is None or pos - offset < limit):
            buf = fs.read_range(ref.url, pos, window)
            if not buf:
                break
            i = find_boundary(np.frombuffer(buf, dtype=np.uint8), classes, TRANSITIONS, states)
            if i >= 0:
                return pos + i, limit is not None
            pos += len(buf)
            window = min(window * 4, _SCAN_WINDOW)
        if pos >= ref.size:
            break  # no certain boundary up to the end: the range before reads to the end
    return ref.size, True


def _options(dialect: Dialect, block_size: int, handler: Any) -> tuple[Any, Any, Any]:
    import pyarrow.csv as pacsv  # here: text the tokenizer takes whole never needs it (see _deferred)

    names = list(dialect.names)
    read = pacsv.ReadOptions(block_size=block_size, column_names=names, use_threads=True, encoding="utf8")
    parse = pacsv.ParseOptions(
        delimiter=dialect.delimiter,
        quote_char=dialect.quote if dialect.quote else False,
        double_quote=True,
        escape_char=False,
        newlines_in_values=True,
        ignore_empty_lines=True,
        invalid_row_handler=handler,
    )
    convert = pacsv.ConvertOptions(
        column_types={n: pa.binary() for n in names},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
        null_values=[],
        check_utf8=False,
    )
    return read, parse, convert


class _RaggedCollector:
    """The parser's invalid-row handler: remembers ragged records so they can be profiled too."""

    def __init__(self, dialect: Dialect, stats: CsvStats) -> None:
        self.dialect = dialect
        self.stats = stats
        self.pending: list[str] = []

    def __call__(self, row: Any) -> str:
        if row.actual_columns > row.expected_columns:
            self.stats.ragged_long += 1
        else:
            self.stats.ragged_short += 1
        self.pending.append(row.text)
        return "skip"

    def drain(self) -> pa.RecordBatch | None:
        if not self.pending:
            return None
        texts, self.pending = self.pending, []
        if pycsv.field_size_limit() < MAX_BLOCK_SIZE:  # a record may be as large as a block (default 128 KiB)
            pycsv.field_size_limit(MAX_BLOCK_SIZE)
        n = len(self.dialect.names)
        kw: dict[str, Any] = {"delimiter": self.dialect.delimiter, "strict": False}
        if self.dialect.quote:
            kw.update(quotechar=self.dialect.quote, doublequote=True)
        else:
            kw["quoting"] = pycsv.QUOTE_NONE
        columns: list[list[bytes | None]] = [[] for _ in range(n)]
        for text in texts:
            fields = next(pycsv.reader(io.StringIO(text, newline=""), **kw), [])
            for j in range(n):
                columns[j].append(fields[j].encode("utf-8", "surrogateescape") if j < len(fields) else None)
        arrays = [pa.array(col, type=pa.binary()) for col in columns]
        return pa.RecordBatch.from_arrays(arrays, names=list(self.dialect.names))


def iter_batches(stream: Any, dialect: Dialect, block_size: int, stats: CsvStats) -> Iterator[pa.RecordBatch]:
    """Record batches (raw binary columns) of a headerless stream of records."""
    if not dialect.names:
        # No column at all: an empty file (or blank lines only).
        return
    collector = _RaggedCollector(dialect, stats)
    read, parse, convert = _options(dialect, block_size, collector)
    import pyarrow.csv as pacsv

    try:
        reader = pacsv.open_csv(
            _NoTrailingCR(stream), read_options=read, parse_options=parse, convert_options=convert
        )
    except pa.ArrowInvalid as err:
        if "empty csv" in str(err).lower():
            return  # no record after the header (or an empty byte range)
        raise
    for batch in reader:
        if batch.num_rows:
            yield batch
        extra = collector.drain()
        if extra is not None:
            yield extra
    extra = collector.drain()
    if extra is not None:
        yield extra


def is_block_size_error(err: Exception) -> bool:
    text = str(err).lower()
    return "straddl" in text or "block size" in text or "block_size" in text


def grow_block_size(block_size: int) -> int:
    if block_size >= MAX_BLOCK_SIZE:
        raise ReadError(f"a record is larger than {MAX_BLOCK_SIZE >> 20} MiB")
    return min(block_size * 8, MAX_BLOCK_SIZE)


def prefixed(prefix: bytes, rest: Any) -> Any:
    return _PrefixedStream(prefix, rest)


def iter_records(
    stream: Any, dialect: Dialect, block_size: int, stats: CsvStats, track_quotes: bool = False
) -> Iterator[pa.RecordBatch | FieldBlock]:
    """The records of a headerless stream: tokenized blocks, and pyarrow's batches from the first record
    the tokenizer leaves to pyarrow (or for every record, when the delimiter or quote is not one byte).

    With ``track_quotes``, ``stats.ends_in_quotes`` says whether the text ended inside a quoted field
    (the tokenizer knows; text pyarrow parses is followed by the quote state machine as it is read).
    """
    if not dialect.names:
        return

    def pyarrow_from(unread: bytes, rest: Any) -> Iterator[pa.RecordBatch]:
        body = prefixed(unread, rest)
        return iter_batches(
            _QuoteState(body, dialect, stats) if track_quotes else body, dialect, block_size, stats
        )

    if single_bytes(dialect) is None:
        yield from pyarrow_from(b"", stream)
        return
    yield from iter_field_blocks(stream, dialect, block_size, pyarrow_from)


def _batches_with_stats(
    table: TableStream, body: Any, dialect: Dialect, block_size: int, track_quotes: bool = False
) -> Iterator[pa.RecordBatch | FieldBlock]:
    """The records, with the ragged-record counts written to ``table`` as they are consumed."""
    stats = CsvStats()
    track = track_quotes or table.speculative_end
    try:
        yield from iter_records(body, dialect, block_size, stats, track_quotes=track)
    except (pa.ArrowInvalid, pa.ArrowException) as err:
        if is_block_size_error(err):
            raise RecordTooLarge(f"a record is larger than the {block_size >> 20} MiB block") from None
        raise ReadError(describe_arrow_error(err, table.compression)) from None
    finally:
        table.ragged_long = stats.ragged_long
        table.ragged_short = stats.ragged_short
        table.ends_in_quotes = stats.ends_in_quotes


def describe_arrow_error(err: Exception, codec: str | None = None) -> str:
    """pyarrow's message without its C++ source locations, saying which codec failed."""
    text = str(err).strip()
    lines = [ln for ln in text.splitlines() if not ln.strip().startswith(("/", "In ", "arrow/"))]
    text = " ".join(lines) or text
    lower = text.lower()
    if codec and any(w in lower for w in ("compress", "truncat", codec, "corrupt", "invalid data", "stream")):
        return f"corrupt or truncated {codec} data: {text}"
    return text


def _details(dialect: Dialect) -> dict[str, Any]:
    return {"delimiter": dialect.delimiter, "quote": dialect.quote, "header": dialect.header}


@register("csv")
def open_csv_table(ref: FileRef, options: ReadOptions) -> TableStream:
    """A whole delimited text file, decompressed on the fly."""
    stream, codec, utf16 = open_text_stream(ref)
    try:
        dialect, sample = sniff_stream(stream, options.header, options.null_values)
    except Exception:
        stream.close()
        raise
    if codec is None and not utf16:
        # A plain file: read the records straight from the file, not through the sniffed bytes.
        stream.close()
        body = filesystem_for(ref.url).open_stream(ref.url, dialect.data_start)
    else:
        body = prefixed(sample[dialect.data_start :], stream)
    table = TableStream(
        names=dialect.names,
        batches=iter(()),
        file_type="csv",
        compression=codec,
        encoding="utf-16" if utf16 else dialect.encoding,
        details=_details(dialect),
        close=body.close,
    )
    if not sample:
        table.warnings.append("empty file")
    elif dialect.encoding != "utf-8":
        log.info("`%s` is not UTF-8: decoding its text as Windows-1252", ref.rel_path)
        table.warnings.append("not UTF-8: text decoded as Windows-1252")
    table.batches = _batches_with_stats(table, body, dialect, options.block_size)
    return table


def plan_csv_split(ref: FileRef, options: ReadOptions) -> Dialect | None:
    """The dialect of a plain (uncompressed, single-byte or UTF-8) file that may be split, else None."""
    stream, codec, utf16 = open_text_stream(ref)
    try:
        if codec is not None or utf16:
            return None
        dialect, _sample = sniff_stream(stream, options.header, options.null_values)
    finally:
        stream.close()
    return dialect if dialect.names else None


class RangeClaims(Protocol):
    """Where a range being read may be cut short by another process (``scheduler.share.RangeShare``)."""

    def open(self, begin: int, end: int) -> int: ...

    def claim(
        self, pos: int, want: int, end: int, stop: int, settle: Callable[[int], int]
    ) -> tuple[int, int, int]: ...


class _ClaimedStream(io.RawIOBase):
    """A range's bytes, each read claimed before it is made, so that the range's end can move back
    meanwhile (see ``scheduler.share``)."""

    def __init__(
        self, body: Any, pos: int, end: int, stop: int, claims: RangeClaims, settle: Callable[[int], int]
    ) -> None:
        self._body = body
        self._readinto = reader_into(body)
        self._pos = pos
        self._claims = claims
        self._settle = settle
        self._end = claims.open(pos, end)
        self._stop = stop if self._end == end else settle(self._end)

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:  # type: ignore[override]
        self._end, self._stop, n = self._claims.claim(self._pos, len(b), self._end, self._stop, self._settle)
        if n <= 0:
            return 0
        got = self._readinto(memoryview(b)[:n])
        self._pos += got
        return int(got)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


def open_csv_range(
    ref: FileRef,
    dialect: Dialect,
    start: int,
    end: int | None,
    options: ReadOptions,
    claims: RangeClaims | None = None,
) -> TableStream:
    """The records between the boundaries at or after ``start`` and ``end`` (None: end of file); see
    ``record_boundary``.  With ``claims``, the end may move back while the range is read (work
    stealing): the records then stop at the new end's boundary, where the range after it starts."""
    begin, _ = record_boundary(ref, start, dialect)
    stop, certain = (ref.size, True) if end is None else record_boundary(ref, end, dialect)
    body = filesystem_for(ref.url).open_stream(ref.url, begin, max(begin, stop))
    table = TableStream(
        names=dialect.names,
        batches=iter(()),
        file_type="csv",
        compression=None,
        encoding=dialect.encoding,
        details=_details(dialect),
        close=body.close,
        speculative_end=not certain,
    )
    if claims is not None:

        def settle(new_end: int) -> int:
            new_stop, new_certain = record_boundary(ref, new_end, dialect)
            table.speculative_end = not new_certain
            return max(begin, new_stop)

        raw_end = ref.size if end is None else end
        body = _ClaimedStream(body, begin, raw_end, max(begin, stop), claims, settle)
        table.close = body.close
    if dialect.encoding != "utf-8" and start == 0:
        table.warnings.append("not UTF-8: text decoded as Windows-1252")
    # A range whose end may move follows quotes from the start: its end may become a speculative boundary.
    table.batches = _batches_with_stats(table, body, dialect, options.block_size, claims is not None)
    return table
