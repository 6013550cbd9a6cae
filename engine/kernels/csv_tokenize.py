"""Tokenizing delimited text into field bounds, eight bytes at a time, for the fused column kernel.

``tokenize`` walks the complete records of a block and writes, for every field, the offsets of its first
byte and of the byte after it (``starts[column, row]``, ``ends[column, row]``): no value is copied, no
Arrow array is built, and ``column.update_column`` then reads each column's values straight from the
block.  Special bytes (delimiter, LF, CR, quote) are found with SWAR word tests and visited one set bit
at a time, so the loop runs per field, not per byte.

The grammar is pyarrow's (``double_quote=True``, no escape character, ``ignore_empty_lines=True``):
records end at LF, CRLF or a lone CR; a quote opens a quoted field only at the start of a field and is
literal anywhere else in an unquoted field; inside quotes ``""`` is a literal quote (the value is
unescaped in place, so the block is modified) and delimiters and line ends are text.  What the tokenizer
does not handle it hands back instead of guessing: a record with another number of fields than the
table has columns (ragged), or text after a closing quote.  The caller then parses from that record on
with pyarrow, whose results these are identical to (property-tested against it), and an unterminated
quote at the end of the text is left to pyarrow too.

``reference.tokenize`` is the same definition in plain Python.
"""

from __future__ import annotations

import numpy as np

from ._jit import U0, U1, ctz64, load_u64_le, njit

#: Statuses returned with (rows, next position).
TOK_DONE = 0  # every byte up to ``stop`` is consumed (``at_eof``: the last record included)
TOK_NEED_MORE = 1  # stopped at a record that is not complete before ``stop``; it starts at next position
TOK_FULL = 2  # the row capacity is reached; tokenizing resumes at next position
TOK_FALLBACK = 3  # the record at next position is ragged or has text after a closing quote

#: Bytes a block buffer holds beyond the data: word loads may read past ``stop``.
PADDING = 8

LF = 10
CR = 13

_LO = np.uint64(0x0101010101010101)
_7F = np.uint64(0x7F7F7F7F7F7F7F7F)


@njit
def _bytes_equal(w: np.uint64, pattern: np.uint64) -> np.uint64:
    """The high bit of every byte of ``w`` equal to the byte repeated in ``pattern`` (exact, no carries)."""
    t = w ^ pattern
    return ~(((t & _7F) + _7F) | t | _7F)


@njit
def _unescape(buf: np.ndarray, s: int, e: int, quote: int) -> int:
    """Collapse every ``""`` of ``buf[s:e]`` to one quote, in place; returns the new end."""
    r = s
    w = s
    while r < e:
        c = buf[r]
        buf[w] = c
        w += 1
        r += 2 if c == quote else 1
    return w


@njit
def tokenize(
    buf: np.ndarray,
    pos: int,
    stop: int,
    at_eof: bool,
    delim: int,
    quote: int,
    starts: np.ndarray,
    ends: np.ndarray,
) -> tuple[int, int, int]:
    """Field bounds of the complete records in ``buf[pos:stop]``, ``pos`` being a record start.

    ``starts`` and ``ends`` are ``(columns, capacity + 1)`` int32 arrays: field ``k`` of record ``r`` is
    ``buf[starts[k, r]:ends[k, r]]``, so each column's bounds are contiguous (the kernels read one column
    at a time).  ``quote`` < 0 disables quoting; ``at_eof`` says ``stop`` is the end of the text (a last
    record needs no line end).  ``buf`` must hold ``PADDING`` bytes beyond ``stop``.  Returns
    ``(rows, next position, status)``.
    """
    ncols = starts.shape[0]
    cap = starts.shape[1] - 1
    flat_s = starts.reshape(-1)
    flat_e = ends.reshape(-1)
    step = starts.shape[1]  # from a field to the next of the same record
    p_delim = np.uint64(delim) * _LO
    p_lf = np.uint64(LF) * _LO
    p_cr = np.uint64(CR) * _LO
    quoting = quote >= 0
    p_quote = np.uint64(quote if quoting else 0) * _LO
    last = ncols - 1
    row = 0  # records written
    col = 0  # the current field's column
    ix = 0  # its index in the flat arrays: col * step + row
    rec = pos  # start of the current record
    closed = False  # the current field was quoted and is recorded already
    unescape = False  # the current record has a quoted field with ""
    flat_s[0] = pos
    i = pos
    while i < stop:
        w = load_u64_le(buf, i)
        m = _bytes_equal(w, p_delim) | _bytes_equal(w, p_lf) | _bytes_equal(w, p_cr)
        if quoting:
            m |= _bytes_equal(w, p_quote)
        if stop - i < 8:
            m &= (U1 << np.uint64(8 * (stop - i))) - U1
        nxt = i + 8
        while m != U0:
            p = i + (ctz64(m) >> 3)
            m &= m - U1
            c = buf[p]
            if c == delim:
                if col == last:
                    return row, rec, TOK_FALLBACK
                if closed:
                    closed = False
                else:
                    flat_e[ix] = p
                col += 1
                ix += step
                flat_s[ix] = p + 1
            elif c in (LF, CR):
                if c == CR:
                    if p + 1 < stop:
                        term = p + 2 if buf[p + 1] == LF else p + 1
                    elif at_eof:
                        term = p + 1
                    else:
                        return row, rec, TOK_NEED_MORE  # CR at the end: is an LF next?
                else:
                    term = p + 1
                if col == 0 and not closed and flat_s[ix] == p:
                    rec = term  # an empty line: skipped, as pyarrow does
                    flat_s[ix] = term
                else:
                    if col != last:
                        return row, rec, TOK_FALLBACK  # fewer fields than columns
                    if closed:
                        closed = False
                    else:
                        flat_e[ix] = p
                    if unescape:
                        _unescape_record(buf, starts, ends, row, quote)
                        unescape = False
                    row += 1
                    col = 0
                    ix = row
                    rec = term
                    if row == cap:
                        return row, rec, TOK_DONE if rec >= stop else TOK_FULL
                    flat_s[ix] = term
                if term != p + 1:
                    nxt = term
                    break
            elif not closed and flat_s[ix] == p:  # a quote opening a quoted field
                q = p + 1
                while True:
                    while q < stop and buf[q] != quote:
                        q += 1
                    if q >= stop:
                        if at_eof:
                            return row, rec, TOK_FALLBACK  # unterminated: pyarrow's call
                        return row, rec, TOK_NEED_MORE
                    if q + 1 < stop:
                        if buf[q + 1] == quote:
                            unescape = True
                            q += 2
                            continue
                    elif not at_eof:
                        return row, rec, TOK_NEED_MORE  # is the quote doubled?
                    break
                after = q + 1
                if after < stop:
                    b = buf[after]
                    if b != delim and b != LF and b != CR:
                        return row, rec, TOK_FALLBACK  # text after the closing quote
                flat_s[ix] = p + 1
                flat_e[ix] = q
                closed = True
                nxt = after
                break
            # else: a quote inside an unquoted field is text
        i = nxt
    if not at_eof:
        return row, rec, TOK_DONE if rec >= stop else TOK_NEED_MORE
    if rec < stop:  # the last record has no line end
        if col != last:
            return row, rec, TOK_FALLBACK
        if not closed:
            flat_e[ix] = stop
        if unescape:
            _unescape_record(buf, starts, ends, row, quote)
        row += 1
    return row, stop, TOK_DONE


@njit
def _unescape_record(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, row: int, quote: int) -> None:
    """Unescape the quoted fields of a complete record (only quoted fields follow a quote)."""
    for k in range(starts.shape[0]):
        s = starts[k, row]
        if s > 0 and buf[s - 1] == quote:
            ends[k, row] = _unescape(buf, s, ends[k, row], quote)
