"""The record-boundary scanners against their plain-Python twins, on bytes rich in quotes and line ends."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from nuvyn_executor.engine.kernels import reference as R
from nuvyn_executor.engine.kernels.csv_scan import (
    TRANSITIONS,
    byte_classes,
    initial_hypotheses,
)
from nuvyn_executor.engine.kernels.entry import find_boundary, first_record_end

csv_bytes = st.lists(
    st.sampled_from([b'"', b",", b"\n", b"\r", b"a", b"b", b'""', b"\r\n", b";"]), max_size=60
).map(b"".join)
dialects = st.sampled_from([(",", '"'), (";", '"'), (",", None), ("\t", "'")])


@given(csv_bytes, dialects)
@example(b'a,"b\nc"\nd\n', (",", '"'))
@example(b'x"\n"y\n', (",", '"'))
def test_find_boundary_matches_reference(data: bytes, dialect) -> None:
    delimiter, quote = dialect
    classes = byte_classes(delimiter.encode(), quote.encode() if quote else None)
    got = find_boundary(np.frombuffer(data, dtype=np.uint8), classes, TRANSITIONS, initial_hypotheses())
    assert got == R.find_boundary(data, ord(delimiter), ord(quote) if quote else None)


@given(csv_bytes, dialects)
@example(b'"a\r\nb"\r\nc', (",", '"'))
def test_first_record_end_matches_reference(data: bytes, dialect) -> None:
    delimiter, quote = dialect
    classes = byte_classes(delimiter.encode(), quote.encode() if quote else None)
    got = first_record_end(np.frombuffer(data, dtype=np.uint8), classes, TRANSITIONS, 0)
    assert got == R.first_record_end(data, ord(delimiter), ord(quote) if quote else None)


@given(csv_bytes, st.integers(1, 8))
def test_find_boundary_continues_across_buffers(data: bytes, pieces: int) -> None:
    """Scanning in pieces (carrying the hypotheses) finds the boundary a single scan finds."""
    classes = byte_classes(b",", b'"')
    whole = find_boundary(np.frombuffer(data, dtype=np.uint8), classes, TRANSITIONS, initial_hypotheses())
    states = initial_hypotheses()
    cuts = np.linspace(0, len(data), pieces + 1).astype(int)
    found = -1
    for lo, hi in itertools.pairwise(cuts):
        i = find_boundary(np.frombuffer(data[lo:hi], dtype=np.uint8), classes, TRANSITIONS, states)
        if i >= 0:
            found = lo + i
            break
    assert found == whole
