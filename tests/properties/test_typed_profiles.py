"""Typed columns keep the profile laws: kernel = twin in the typed modes, merge associative and
commutative, the same answer however a column is cut into chunks or files, and a type join that is a
join (commutative, associative, idempotent)."""

from __future__ import annotations

import decimal
import itertools

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from nuvyn_executor.engine.kernels import column as K
from nuvyn_executor.engine.kernels.reference import profile_values
from nuvyn_executor.engine.profile import _math as M
from nuvyn_executor.engine.profile.column import ColumnTracker
from nuvyn_executor.engine.profile.table import ProfileOptions, TableProfile, TableTracker

values = st.lists(
    st.one_of(st.none(), st.binary(max_size=12), st.text(max_size=8).map(str.encode)), max_size=60
)
ints = st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), max_size=80)


def _cuts(n: int, data: st.DataObject) -> list[int]:
    return sorted(set(data.draw(st.lists(st.integers(0, n), max_size=4))) | {0, n})


@given(values, st.sampled_from([K.MODE_TYPED_TEXT, K.MODE_TYPED_TEXT | K.MODE_CLASSIFY]), st.data())
def test_kernel_equals_twin_in_typed_modes(vals: list[bytes | None], mode: int, data: st.DataObject) -> None:
    from nuvyn_executor.engine.kernels.buffers import binary_views
    from nuvyn_executor.engine.kernels.types import T_STRING

    arr = pa.array(vals, type=pa.binary())
    tracker = ColumnTracker("c", 0, 5)
    if not mode & K.MODE_CLASSIFY:
        tracker._ist[K.I_FLAGS] |= T_STRING
    cuts = _cuts(len(vals), data)
    for a, b in itertools.pairwise(cuts):
        chunk = arr.slice(a, b - a)
        if len(chunk):
            tracker._fold(
                binary_views(chunk), (np.zeros(0, np.uint8), np.zeros(1, np.int64)), np.uint64(7), mode, None
            )
    assert tracker.view() == profile_values(vals, seed_mix=7, mode=mode)


def _typed_profile(chunks: list[pa.RecordBatch]) -> TableProfile:
    tracker = TableTracker([], ProfileOptions(), typing="schema", declared={"i": ("bigint", True)})
    for batch in chunks:
        tracker.update(batch)
    return tracker.view()


@given(ints.filter(bool), st.data())
def test_typed_chunking_does_not_matter(vals: list[int | None], data: st.DataObject) -> None:
    batch = pa.record_batch({"i": pa.array(vals, pa.int64())})
    whole = _typed_profile([batch])
    cuts = _cuts(len(vals), data)
    parts = [_typed_profile([batch.slice(a, b - a)]) for a, b in itertools.pairwise(cuts)]
    merged = TableProfile.zero()
    for p in parts:
        merged = merged.merge(p)
    one_tracker = _typed_profile([batch.slice(a, b - a) for a, b in itertools.pairwise(cuts)])
    assert merged.finalize() == whole.finalize() == one_tracker.finalize()


@given(ints, ints, ints)
def test_typed_merge_is_associative_and_commutative(a, b, c) -> None:
    pa_, pb, pc = (_typed_profile([pa.record_batch({"i": pa.array(v, pa.int64())})]) for v in (a, b, c))
    assert pa_.merge(pb) == pb.merge(pa_)
    assert pa_.merge(pb).merge(pc) == pa_.merge(pb.merge(pc))
    assert pa_.merge(TableProfile.zero()) == pa_


@given(
    st.lists(st.one_of(st.integers(-5, 5), st.text(max_size=3)), min_size=1, max_size=6),
    st.lists(st.one_of(st.integers(-5, 5), st.text(max_size=3)), min_size=1, max_size=6),
)
def test_json_columns_whose_kinds_differ_merge_either_way(xs, ys) -> None:
    """Files (or batches) of a JSON table whose values have different kinds: merge order is irrelevant."""
    from nuvyn_executor.engine.readers.json_reader import records_to_batch

    def prof(vals):
        t = TableTracker([], ProfileOptions(), typing="values")
        t.update(records_to_batch([{"x": v} for v in vals]))
        return t.view()

    a, b = prof(xs), prof(ys)
    assert a.merge(b).finalize() == b.merge(a).finalize()


def test_a_column_missing_from_one_file_is_null_there() -> None:
    a = _typed_profile([pa.record_batch({"i": pa.array([1, 2], pa.int64())})])
    other = TableTracker([], ProfileOptions(), typing="schema")
    other.update(pa.record_batch({"j": pa.array(["x", "y", "z"])}))
    merged = a.merge(other.view())
    cols = {c.name: c for c in merged.finalize()}
    assert merged.row_count == 5
    assert (cols["i"].null_count, cols["j"].null_count) == (3, 2)


leaves = st.sampled_from(
    [
        "int",
        "bigint",
        "double",
        "decimal(10,2)",
        "decimal(5,4)",
        "date",
        "timestamp",
        "string",
        "boolean",
        "binary",
    ]
)
types = st.recursive(
    leaves,
    lambda inner: st.one_of(
        inner.map(lambda t: ("array", t)),
        st.tuples(st.just("map"), st.just("string"), inner),
        st.lists(
            st.tuples(st.sampled_from(["a", "b", "c"]), inner), max_size=3, unique_by=lambda f: f[0]
        ).map(lambda fs: ("struct", tuple(fs))),
    ),
    max_leaves=6,
)


@given(types, types, types)
def test_type_join_is_a_join(a, b, c) -> None:
    j = M.join_types
    assert j(a, b) == j(b, a)
    assert j(j(a, b), c) == j(a, j(b, c))
    assert j(a, a) == a
    # and names round-trip through the parser
    assert M.parse_type(M.render_type(a)) == a


def _profile_of(arrays: list[pa.Array], declared: str) -> TableProfile:
    tracker = TableTracker([], ProfileOptions(), typing="schema", declared={"c": (declared, True)})
    for arr in arrays:
        tracker.update(pa.record_batch({"c": arr}))
    return tracker.view()


@given(
    st.lists(st.one_of(st.none(), st.text(max_size=4)), min_size=1, max_size=80),
    st.lists(st.text(max_size=4), max_size=5),
    st.sampled_from([pa.int8(), pa.int32(), pa.uint16(), pa.int64(), pa.uint64()]),
    st.data(),
)
def test_a_dictionary_chunk_profiles_like_its_decoded_values(
    vals: list[str | None], unused: list[str], index_type: pa.DataType, data: st.DataObject
) -> None:
    """``used_dictionary_values``: entries the indices never use (and entries used many times, or an index
    array sliced from a longer one) leave the profile what the decoded column gives, chunk by chunk."""
    entries = list(dict.fromkeys([v for v in vals if v is not None] + unused))
    data.draw(st.randoms()).shuffle(entries)
    codes = [None if v is None else entries.index(v) for v in vals]
    pad = data.draw(st.integers(0, 3))
    indices = pa.array([0] * pad + codes + [0] * pad, type=index_type).slice(pad, len(codes))
    encoded = pa.DictionaryArray.from_arrays(indices, pa.array(entries or [""], pa.string()))
    cuts = _cuts(len(vals), data)
    chunks = [encoded.slice(a, b - a) for a, b in itertools.pairwise(cuts)]
    decoded = [c.dictionary_decode() for c in chunks]
    assert _profile_of(chunks, "string") == _profile_of(decoded, "string")


@given(st.lists(st.one_of(st.none(), st.integers(-3, 3)), min_size=1, max_size=40), st.data())
def test_a_dictionary_of_numbers_or_with_null_entries_profiles_like_its_decoded_values(
    vals: list[int | None], data: st.DataObject
) -> None:
    entries = sorted({v for v in vals if v is not None}) or [0]
    with_null = data.draw(st.booleans())
    dictionary = pa.array([*entries, None] if with_null else entries, pa.int64())
    codes = [
        (len(entries) if with_null and data.draw(st.booleans()) else None) if v is None else entries.index(v)
        for v in vals
    ]
    encoded = pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), dictionary)
    assert _profile_of([encoded], "bigint") == _profile_of([encoded.dictionary_decode()], "bigint")


_FIXED_TYPES = [
    pa.int64(),
    pa.int32(),
    pa.uint64(),
    pa.date32(),
    pa.timestamp("us"),
    pa.timestamp("ns", tz="UTC"),
    pa.decimal128(12, 3),
    pa.decimal128(30, 2),
    pa.float64(),
    pa.bool_(),
]


def _fixed_values(t: pa.DataType) -> st.SearchStrategy:
    if pa.types.is_boolean(t):
        return st.booleans()
    if pa.types.is_floating(t):
        return st.floats(allow_nan=False)
    if pa.types.is_decimal(t):
        digits = t.precision - t.scale
        return st.decimals(
            -(10**digits) + 1, 10**digits - 1, places=t.scale, allow_nan=False, allow_infinity=False
        )
    if pa.types.is_date(t):
        return st.integers(-(10**6), 10**6)
    if pa.types.is_timestamp(t) or pa.types.is_int64(t):
        return st.integers(-(2**63), 2**63 - 1)
    if pa.types.is_uint64(t):
        return st.integers(0, 2**64 - 1)
    return st.integers(-(2**31), 2**31 - 1)


@given(st.sampled_from(_FIXED_TYPES), st.data())
def test_the_fixed_width_kernel_folds_like_the_general_one_and_bounds_like_pyarrow(t, data) -> None:
    """``update_fixed`` (its own loop over the values buffer, the typed bounds from the bytes) leaves the
    state ``update_column`` leaves in ``MODE_HASH`` over the same bytes, and the bounds pyarrow's
    ``min_max`` gives: over chunks, sliced arrays and nulls, with few values or many (the sketch's
    exact table, then registers and the memo)."""
    from nuvyn_executor.engine.kernels.buffers import fixed_width_views
    from nuvyn_executor.engine.profile import typed as T
    from nuvyn_executor.engine.profile.column import _NO_TOKENS

    vals = data.draw(st.lists(st.one_of(st.none(), _fixed_values(t)), min_size=1, max_size=60))
    if data.draw(st.booleans()) and not pa.types.is_boolean(t):
        # past the exact limit (registers, the memo), every new value twice so the memo finds repeats
        base = data.draw(st.integers(0, 10**5))
        many = [base + i for i in range(4200)]
        if pa.types.is_decimal(t):
            many = [decimal.Decimal(v).scaleb(-t.scale) for v in many]
        elif pa.types.is_floating(t):
            many = [v / 8 for v in many]
        vals = vals + [v for v in many for _ in (0, 1)]
    pad = data.draw(st.integers(0, 3))
    arr = pa.array([None] * pad + vals, type=t).slice(pad)
    cuts = _cuts(len(vals), data)
    fast = ColumnTracker("c", 0, 5)
    slow = ColumnTracker("c", 0, 5)
    mix = np.uint64(data.draw(st.integers(0, 2**64 - 1)))
    for a, b in itertools.pairwise(cuts):
        chunk = arr.slice(a, b - a)
        if not len(chunk) or chunk.null_count == len(chunk):
            continue
        fast.update_typed(chunk, mix)
        # the general path, as it was before update_fixed
        lo, hi = T.typed_min_max(chunk)
        slow.tmin, slow.tmax = M.min_opt(slow.tmin, lo), M.max_opt(slow.tmax, hi)
        feed, mode, fixed = T.kernel_input(chunk)
        assert fixed
        assert mode == K.MODE_HASH
        slow._ist[K.I_FLAGS] |= K.T_STRING
        slow._fold(fixed_width_views(feed), _NO_TOKENS, mix, mode, lambda i, c=chunk: T.sample_text(c, i))
    got, want = fast.view(), slow.view()
    assert (got.hashes, got.registers, got.samples) == (want.hashes, want.registers, want.samples)
    assert (got.count, got.null_count, got.tmin, got.tmax) == (
        want.count,
        want.null_count,
        want.tmin,
        want.tmax,
    )
