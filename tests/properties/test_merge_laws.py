"""Profiles are values: merge is associative and commutative, zero is its identity, and the result does
not depend on how the data was chunked or whether it crossed a process boundary (pickle)."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from nuvyn_executor.engine.profile._math import sorted_union
from nuvyn_executor.engine.profile.column import ColumnProfile
from nuvyn_executor.engine.profile.table import ProfileOptions, TableProfile, TableTracker

from ..strategies import column_of

OPTS = ProfileOptions(sample_size=4, seed=7)


def profile(columns: dict[str, list[bytes | None]], chunks: int = 1) -> TableProfile:
    names = list(columns)
    n = len(next(iter(columns.values()))) if columns else 0
    tracker = TableTracker(names, OPTS)
    arrays = [pa.array(columns[c], type=pa.binary()) for c in names]
    bounds = np.linspace(0, n, chunks + 1).astype(int)
    for lo, hi in itertools.pairwise(bounds):
        tracker.update(pa.RecordBatch.from_arrays([a.slice(lo, hi - lo) for a in arrays], names=names))
    return tracker.view()


@st.composite
def tables(draw, names=("a", "b")):
    n = draw(st.integers(0, 40))
    cols = {}
    for name in names:
        values = draw(column_of(max_size=n))
        cols[name] = (values + [None] * n)[:n]
    return cols


def _split(cols: dict[str, list], at: int) -> tuple[dict[str, list], dict[str, list]]:
    return {k: v[:at] for k, v in cols.items()}, {k: v[at:] for k, v in cols.items()}


@given(tables(), tables(), tables())
def test_merge_is_associative(x, y, z) -> None:
    a, b, c = profile(x), profile(y), profile(z)
    assert a.merge(b).merge(c) == a.merge(b.merge(c))


@given(tables(), tables())
def test_merge_is_commutative(x, y) -> None:
    a, b = profile(x), profile(y)
    assert a.merge(b) == b.merge(a)


@given(tables())
def test_zero_is_the_identity(x) -> None:
    a = profile(x)
    assert a.merge(TableProfile.zero()) == a
    assert TableProfile.zero().merge(a) == a
    for col in a.columns:
        zero = ColumnProfile.zero(col.name, col.position, col.sample_size)
        assert col.merge(zero) == col
        assert zero.merge(col) == col


@given(tables(), st.sampled_from([2, 7]))
def test_chunking_does_not_change_the_profile(x, chunks) -> None:
    one = profile(x, 1)
    assert profile(x, chunks) == one
    assert one.finalize() == profile(x, chunks).finalize()


@given(tables(), st.data())
def test_parts_merged_equal_the_whole(x, data) -> None:
    n = len(next(iter(x.values())))
    at = data.draw(st.integers(0, n))
    left, right = _split(x, at)
    assert profile(left).merge(profile(right)) == profile(x)


@given(tables(), tables())
def test_merge_survives_pickling(x, y) -> None:
    a, b = profile(x), profile(y)
    a2, b2 = pickle.loads(pickle.dumps(a)), pickle.loads(pickle.dumps(b))
    assert a2 == a
    assert a2.merge(b2) == a.merge(b)


def test_hll_mode_merges_like_the_whole() -> None:
    """Past the exact limit, merged registers equal the registers of the whole column."""
    values = [str(i).encode() for i in range(6000)]
    whole = profile({"a": values})
    parts = profile({"a": values[:2500]}).merge(profile({"a": values[2500:]}))
    assert whole == parts
    assert whole.columns[0].hashes is None
    assert abs(whole.columns[0].distinct_count - 6000) / 6000 < 0.03


hash_arrays = st.lists(st.integers(0, 2**64 - 1) | st.integers(0, 5), max_size=30).map(
    lambda xs: np.array(xs, dtype=np.uint64)
)


@given(hash_arrays, hash_arrays)
def test_sorted_union_is_numpys_union(a: np.ndarray, b: np.ndarray) -> None:
    got = sorted_union(a, b)
    assert got.dtype == np.uint64
    assert got.tolist() == np.union1d(a, b).tolist()
