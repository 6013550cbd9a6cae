"""The CSV tokenizer against its plain-Python twin and against pyarrow's parser.

Generated text mixes everything the grammar has: quoted fields holding delimiters, LF, CR, CRLF and
doubled quotes, quotes in the middle of unquoted fields, LF / CRLF / lone CR record ends, empty lines,
ragged records, text after a closing quote, a missing last line end, and arbitrary stop offsets (a
block boundary anywhere, including inside quotes and between CR and LF).
"""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from nuvyn_executor.engine.kernels import reference as R
from nuvyn_executor.engine.kernels.csv_tokenize import (
    PADDING,
    TOK_DONE,
    TOK_FALLBACK,
    TOK_FULL,
    TOK_NEED_MORE,
)
from nuvyn_executor.engine.kernels.entry import tokenize
from nuvyn_executor.engine.profile.table import ProfileOptions, TableTracker
from nuvyn_executor.engine.readers.base import FieldBlock, RecordTooLarge
from nuvyn_executor.engine.readers.csv_blocks import bounds, iter_field_blocks
from nuvyn_executor.engine.readers.csv_reader import CsvStats, iter_batches, iter_records, prefixed
from nuvyn_executor.engine.readers.dialect import Dialect

unquoted = st.text(alphabet='abxyz019 .-"', max_size=7).filter(lambda s: not s.startswith('"'))
quoted = st.text(alphabet='ab,;"\n\r 1', max_size=8).map(lambda s: '"' + s.replace('"', '""') + '"')
field = st.one_of(unquoted, quoted, st.just(""), st.just('"x"y'), st.just('""'))
terminator = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def documents(draw, ncols: int | None = None, ragged: bool = True) -> tuple[bytes, int]:
    ncols = ncols or draw(st.integers(1, 4))
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        n = ncols
        if ragged and draw(st.integers(0, 9)) == 0:
            n = draw(st.integers(1, ncols + 2))
        if draw(st.integers(0, 9)) == 0:
            lines.append("")  # an empty line
            continue
        lines.append(",".join(draw(field) for _ in range(n)) + draw(terminator))
    text = "".join(line if line else draw(terminator) for line in lines)
    if text and draw(st.booleans()):
        text = text.rstrip("\r\n")  # no line end after the last record
    return text.encode(), ncols


def _run(data: bytes, stop: int, at_eof: bool, ncols: int, capacity: int) -> tuple[list[bytes], int, int]:
    buf = np.zeros(len(data) + PADDING, dtype=np.uint8)
    buf[: len(data)] = np.frombuffer(data, dtype=np.uint8)
    starts = np.full((ncols, capacity + 1), -7, dtype=np.int32)
    ends = np.full((ncols, capacity + 1), -7, dtype=np.int32)
    rows, nxt, status = tokenize(buf, 0, stop, at_eof, ord(","), ord('"'), starts, ends)
    values = [buf[starts[k, r] : ends[k, r]].tobytes() for r in range(rows) for k in range(ncols)]
    return values, nxt, status


@given(documents(), st.floats(0, 1), st.booleans(), st.integers(1, 12))
def test_tokenizer_matches_its_reference(doc, cut: float, whole: bool, capacity: int) -> None:
    data, ncols = doc
    stop = len(data) if whole else int(cut * len(data))
    got = _run(data, stop, whole, ncols, capacity)
    want = R.tokenize(data, 0, stop, whole, ord(","), ord('"'), ncols, capacity)
    assert got == want


def _pyarrow_values(data: bytes, ncols: int) -> list[bytes]:
    names = [f"c{i}" for i in range(ncols)]
    table = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=names),
        parse_options=pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=True),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.binary() for n in names}, strings_can_be_null=False, null_values=[]
        ),
    )
    columns = [table.column(n).to_pylist() for n in names]
    return [columns[k][r] for r in range(table.num_rows) for k in range(ncols)]


@given(documents(ragged=False))
def test_what_the_tokenizer_takes_pyarrow_reads_the_same(doc) -> None:
    data, ncols = doc
    values, nxt, status = _run(data, len(data), True, ncols, 1 << 10)
    if status == TOK_FALLBACK:
        data = data[:nxt]  # what the tokenizer took: pyarrow must read exactly that
    else:
        assert (nxt, status) == (len(data), TOK_DONE)
    assume(data.strip(b"\r\n"))
    assert values == _pyarrow_values(data, ncols)


def test_statuses() -> None:
    assert _run(b"a,b\nc,d\n", 8, False, 2, 64) == ([b"a", b"b", b"c", b"d"], 8, TOK_DONE)
    assert _run(b"a,b\nc,d", 7, False, 2, 64) == ([b"a", b"b"], 4, TOK_NEED_MORE)
    assert _run(b"a,b\nc,d", 7, True, 2, 64) == ([b"a", b"b", b"c", b"d"], 7, TOK_DONE)
    assert _run(b"a,b\nc,d\ne,f\n", 12, False, 2, 2) == ([b"a", b"b", b"c", b"d"], 8, TOK_FULL)
    assert _run(b"a,b\nc\n", 6, True, 2, 64) == ([b"a", b"b"], 4, TOK_FALLBACK)  # too few
    assert _run(b"a,b\nc,d,e\n", 10, True, 2, 64) == ([b"a", b"b"], 4, TOK_FALLBACK)  # too many
    assert _run(b'"a"b,c\n', 7, True, 2, 64) == ([], 0, TOK_FALLBACK)  # text after the closing quote
    assert _run(b'"a\n', 3, True, 1, 64) == ([], 0, TOK_FALLBACK)  # unterminated
    assert _run(b'"a""', 4, False, 1, 64) == ([], 0, TOK_NEED_MORE)  # "" or the closing quote?
    assert _run(b"a\r", 2, False, 1, 64) == ([], 0, TOK_NEED_MORE)  # CR or CRLF?
    assert _run(b'x,"a""b\nc"\r\n\n\ry,z', 17, True, 2, 64) == ([b"x", b'a"b\nc', b"y", b"z"], 17, TOK_DONE)
    assert _run(b'a"b,"c"\r', 8, True, 2, 64) == ([b'a"b', b"c"], 8, TOK_DONE)


# --- the reader: tokenized blocks and pyarrow's batches give one profile ---------------------------------


def _profile(items, ncols: int):
    tracker = TableTracker([f"c{i}" for i in range(ncols)], ProfileOptions(sample_size=3))
    for item in items:
        tracker.update(item)
    return tracker.view(), tracker.row_count


def _longest_record(data: bytes, ncols: int) -> int:
    """Bytes of the longest record up to the first the tokenizer leaves to pyarrow (that one included)."""
    pos, longest = 0, 0
    while pos < len(data):
        _values, nxt, status = R.tokenize(data, pos, len(data), True, ord(","), ord('"'), ncols, 1)
        if status == TOK_FALLBACK:  # the state machine's record end
            end = R.first_record_end(data[nxt:], ord(","), ord('"'))
            return max(longest, end if end >= 0 else len(data) - nxt)
        longest, pos = max(longest, nxt - pos), nxt
    return longest


@given(documents(), st.sampled_from([16, 40, 1 << 16]), st.integers(1, 9))
def test_blocks_profile_like_pyarrow(doc, block_size: int, fields_per_call: int) -> None:
    data, ncols = doc
    assume(data.strip(b"\r\n"))
    dialect = Dialect(names=tuple(f"c{i}" for i in range(ncols)))
    arrow_stats, block_stats = CsvStats(), CsvStats()
    want = _profile(iter_batches(io.BytesIO(data), dialect, 1 << 16, arrow_stats), ncols)

    def fallback(unread: bytes, rest):
        return iter_batches(prefixed(unread, rest), dialect, 1 << 16, block_stats)

    blocks = iter_field_blocks(io.BytesIO(data), dialect, block_size, fallback, fields_per_call, min_rows=1)
    try:
        got = _profile(blocks, ncols)
    except RecordTooLarge:
        assert _longest_record(data, ncols) >= block_size - 1  # only for a record as large as the block
        return
    assert got == want
    assert (block_stats.ragged_long, block_stats.ragged_short) == (
        arrow_stats.ragged_long,
        arrow_stats.ragged_short,
    )


def test_a_ragged_record_hands_the_rest_to_pyarrow_and_is_counted() -> None:
    data = b"1,a\n2,b\n3\n4,d,extra\n5,e\n"
    stats = CsvStats()
    items = list(iter_records(io.BytesIO(data), Dialect(names=("n", "s")), 1 << 16, stats))
    assert isinstance(items[0], FieldBlock)
    assert any(isinstance(i, pa.RecordBatch) for i in items)
    assert (stats.ragged_long, stats.ragged_short) == (1, 1)
    profile, rows = _profile(items, 2)
    assert rows == 5
    assert profile.columns[1].null_count == 1  # the short record's missing field


def test_a_ragged_record_with_a_field_beyond_pythons_csv_limit_is_still_profiled() -> None:
    big = "x" * 300_000  # the csv module refuses fields over 128 KiB by default
    data = f"1,a\n2,{big},extra\n3,c\n".encode()
    stats = CsvStats()
    profile, rows = _profile(iter_records(io.BytesIO(data), Dialect(names=("n", "s")), 1 << 20, stats), 2)
    assert (rows, stats.ragged_long) == (3, 1)
    assert profile.columns[1].smax == big.encode()


@pytest.mark.parametrize(
    ("text", "inside"),
    [(b'1,a\n2,"b\nc"\n', False), (b'1,a\n2,"b\nc\n', True), (b'1,a\n2\n3,"x\n', True)],
)
def test_the_reader_says_whether_the_text_ended_inside_quotes(text: bytes, inside: bool) -> None:
    """Whichever path read the end (the tokenizer, or pyarrow after a ragged record)."""
    stats = CsvStats()
    list(iter_records(io.BytesIO(text), Dialect(names=("n", "s")), 1 << 16, stats, track_quotes=True))
    assert stats.ends_in_quotes is inside


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
def test_every_single_byte_delimiter_takes_the_fast_path(delimiter: str) -> None:
    data = f'a{delimiter}"b{delimiter}c"\n1{delimiter}2\n'.encode()
    items = list(
        iter_records(io.BytesIO(data), Dialect(delimiter=delimiter, names=("x", "y")), 1 << 16, CsvStats())
    )
    assert len(items) == 1
    block = items[0]
    values = [[block.data[s:e].tobytes() for s, e in zip(*block.column(k))] for k in range(2)]
    assert values == [[b"a", b"1"], [f"b{delimiter}c".encode(), b"2"]]


@given(st.integers(1, 450), st.integers(1, 70_000))
def test_field_bounds_layout(ncols: int, rows: int) -> None:
    """The tokenizer's two bound arrays: room for ``rows`` records, C-contiguous (the compiled kernel's
    signature), not overlapping, each column a cache line further along a page than the one before, and
    a column's ends half a page from its starts (two arrays at one page offset ran the tokenizer 30 %
    slower)."""
    starts, ends = bounds(ncols, rows)
    assert starts.shape == ends.shape
    assert starts.shape[0] == ncols
    assert starts.shape[1] > rows
    assert starts.dtype == ends.dtype == np.int32
    assert starts.flags.c_contiguous
    assert ends.flags.c_contiguous
    assert starts.ctypes.data + starts.nbytes <= ends.ctypes.data
    assert starts.strides[0] % 4096 == 64
    assert (ends.ctypes.data - starts.ctypes.data) % 4096 == 2048
    starts[:] = 1
    ends[:] = 2
    assert (starts == 1).all()  # writing the ends did not touch the starts
