"""Every kernel against its plain-Python twin (kernels/reference.py), on generated values.

Covers multi-byte UTF-8, empty strings, nulls (validity bitmap and tokens), sliced arrays (a non-zero
array offset, bitmaps crossing byte boundaries) and int32/int64 offsets.
"""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
from hypothesis import example, given, settings
from hypothesis import strategies as st

from nuvyn_executor.engine.kernels import column as K
from nuvyn_executor.engine.kernels import reference as R
from nuvyn_executor.engine.kernels.entry import classify, hash_bytes  # the backend's: compiled, JIT or Python
from nuvyn_executor.engine.profile.column import ColumnTracker
from nuvyn_executor.engine.profile.table import ProfileOptions
from nuvyn_executor.engine.settings import DEFAULT_NULL_TOKENS

from ..strategies import column_of, text_values

TOKENS = DEFAULT_NULL_TOKENS


def _buf(value: bytes) -> np.ndarray:
    buf = np.zeros(max(8, len(value)), dtype=np.uint8)
    buf[: len(value)] = np.frombuffer(value, dtype=np.uint8)
    return buf


@given(st.binary(max_size=80))
@example(b"")
@example(b"abcdefgh")
@example("é日本語🙂".encode())
def test_hash_matches_reference(value: bytes) -> None:
    assert int(hash_bytes(_buf(value), 0, len(value))) == R.hash_bytes(value)


@given(st.binary(max_size=40), st.binary(min_size=1, max_size=30))
def test_hash_is_position_independent(prefix: bytes, value: bytes) -> None:
    """The same bytes hash the same wherever they sit in a buffer (including its very end)."""
    data = prefix + value
    buf = np.frombuffer(data.ljust(8, b"\0"), dtype=np.uint8)
    assert int(hash_bytes(buf, len(prefix), len(data))) == R.hash_bytes(value)


@given(text_values)
@example("2024-02-29")
@example("2023-02-29")
@example("12/31/2024 11:59:59.999999 PM")
@example("31/12/2024")
@example("1e0000005")
@example("+05:")
def test_classify_matches_reference(text: str) -> None:
    value = text.strip(" \t").encode()
    if not value:
        return
    got = tuple(classify(_buf(value), 0, len(value)))
    want = R.classify(value)
    assert got[0] == want[0], (text, got, want)
    assert got[1] == want[1], (text, got, want)
    assert got[3:] == want[3:], (text, got, want)
    assert got[2] == want[2] or (np.isnan(got[2]) and np.isnan(want[2])), (text, got, want)


@given(st.text(alphabet="0123456789.-+e/ :", min_size=1, max_size=20).filter(lambda s: s[0].isdigit()))
@example("0.04")
@example("00.5")
@example("007")
@example("12345678")
@example("1234567.")
@example("9007199254740993")
@example("1.2.3")
def test_numbers_read_a_word_at_a_time_match_reference(text: str) -> None:
    """Values that start with a digit take the word-at-a-time paths (``123``, ``123.45``, digit runs)."""
    value = text.encode()
    assert tuple(classify(_buf(value), 0, len(value))) == R.classify(value)


def _arrow(values: list[bytes | None], large: bool, prefix: int) -> pa.Array:
    padding = [b"pad"] * prefix
    arr = pa.array(padding + values, type=pa.large_binary() if large else pa.binary())
    return arr.slice(prefix)


@given(
    column_of(),
    st.booleans(),
    st.integers(0, 9),
    st.integers(1, 5),
    st.integers(0, 6),
    st.integers(0, 2**64 - 1),
)
def test_column_kernel_matches_reference(values, large, prefix, nchunks, k, seed) -> None:
    """Profiling through the kernels, in any number of chunks of a sliced array, equals the twin."""
    opts = ProfileOptions(sample_size=k, seed=seed, null_tokens=TOKENS)
    mix = opts.column_seed_mix("c")
    tracker = ColumnTracker("c", 0, k)
    arr = _arrow(values, large, prefix)
    bounds = np.linspace(0, len(values), nchunks + 1).astype(int)
    from nuvyn_executor.engine.kernels.nulls import pack_tokens

    tokens = pack_tokens(TOKENS)
    for lo, hi in itertools.pairwise(bounds):
        tracker.update(arr.slice(lo, hi - lo), tokens, mix)
    want = R.profile_values(values, tokens=TOKENS, seed_mix=int(mix), sample_size=k)
    assert tracker.view() == want


@settings(max_examples=25)
@given(st.integers(2040, 4000), st.integers(0, 10**9), st.integers(1, 4))
def test_sketch_switches_to_hll_like_reference(n, salt, nchunks) -> None:
    """Around and past the exact limit both sides hold the same exact set or the same registers."""
    from nuvyn_executor.engine.kernels.nulls import pack_tokens

    values = [f"{salt}-{i}".encode() for i in range(n)] * 2
    opts = ProfileOptions()
    tracker = ColumnTracker("c", 0, 5)
    arr = pa.array(values, type=pa.binary())
    step = -(-len(values) // nchunks)
    for lo in range(0, len(values), step):
        tracker.update(arr.slice(lo, step), pack_tokens(()), opts.column_seed_mix("c"))
    want = R.profile_values(values, tokens=(), seed_mix=int(opts.column_seed_mix("c")))
    got = tracker.view()
    assert (got.hashes, got.registers) == (want.hashes, want.registers)
    assert got.distinct_count == want.distinct_count


@settings(max_examples=40)
@given(column_of(max_size=80), st.integers(600, 3000), st.integers(0, 6))
def test_values_far_apart_match_reference(values, filler, k) -> None:
    """Values kilobytes apart (a wide table's rows) are folded with their bytes and the state they will
    probe fetched ahead; the profile is the twin's all the same.  The first column of a tokenized
    two-column block, the second filler."""
    from nuvyn_executor.engine.kernels.column import PREFETCH_AHEAD, PREFETCH_STRIDE
    from nuvyn_executor.engine.kernels.csv_tokenize import PADDING, TOK_DONE
    from nuvyn_executor.engine.kernels.entry import tokenize
    from nuvyn_executor.engine.kernels.nulls import pack_tokens

    assert filler > PREFETCH_STRIDE
    cells = [b"" if v is None else v for v in values]  # an empty field is a null, as None is
    cells = [c for c in cells if not any(b in c for b in b',"\r\n')]  # plain fields only
    if not cells:
        return
    text = b"".join(c + b"," + b"x" * filler + b"\n" for c in cells)
    buf = np.zeros(len(text) + PADDING, dtype=np.uint8)
    buf[: len(text)] = np.frombuffer(text, dtype=np.uint8)
    starts = np.empty((2, len(cells) + 1), dtype=np.int32)
    ends = np.empty((2, len(cells) + 1), dtype=np.int32)
    rows, _pos, status = tokenize(buf, 0, len(text), True, ord(","), ord('"'), starts, ends)
    assert (rows, status) == (len(cells), TOK_DONE)
    if rows > PREFETCH_AHEAD:  # the kernel's condition for fetching ahead holds
        assert starts[0, rows - 1] - starts[0, 0] > PREFETCH_STRIDE * rows
    opts = ProfileOptions(sample_size=k, null_tokens=TOKENS)
    mix = opts.column_seed_mix("c")
    tracker = ColumnTracker("c", 0, k)  # the twin's name for its column
    buf.setflags(write=False)
    tracker.update_fields(buf, starts[0, :rows], ends[0, :rows], pack_tokens(TOKENS), mix)
    want = R.profile_values(cells, tokens=TOKENS, seed_mix=int(mix), sample_size=k)
    assert tracker.view() == want


@settings(max_examples=4, deadline=None)
@given(st.integers(0, 10**9), st.sampled_from([1, 3]))
def test_values_far_apart_past_the_exact_limit_match_reference(salt, nchunks) -> None:
    """Fetching ahead in every state of the sketch: the exact table, the switch to registers inside a
    call, then registers with the memo probed, and repeats the memo finds."""
    from nuvyn_executor.engine.kernels.column import PREFETCH_STRIDE
    from nuvyn_executor.engine.kernels.nulls import pack_tokens
    from nuvyn_executor.engine.kernels.sketches import EXACT_LIMIT

    distinct = [f"{salt}-{i}".encode() for i in range(EXACT_LIMIT + 1500)]
    # past the limit every value comes twice: half the memo's probes hit, so it stays on
    values = distinct[: EXACT_LIMIT + 1] + [v for v in distinct[EXACT_LIMIT + 1 :] for _ in (0, 1)]
    gap = PREFETCH_STRIDE + 100
    data = np.zeros(len(values) * gap + 8, dtype=np.uint8)
    starts = np.arange(0, len(values) * gap, gap, dtype=np.int32)
    for v, at in zip(values, starts):
        data[at : at + len(v)] = np.frombuffer(v, dtype=np.uint8)
    ends = (starts + np.array([len(v) for v in values], dtype=np.int32)).astype(np.int32)
    data.setflags(write=False)
    opts = ProfileOptions(null_tokens=TOKENS)
    mix = opts.column_seed_mix("c")
    tracker = ColumnTracker("c", 0, 5)
    step = -(-len(values) // nchunks)
    for lo in range(0, len(values), step):
        tracker.update_fields(data, starts[lo : lo + step], ends[lo : lo + step], pack_tokens(TOKENS), mix)
    want = R.profile_values(values, tokens=TOKENS, seed_mix=int(mix), sample_size=5)
    assert tracker.view() == want
    assert tracker._ist[K.I_NDISTINCT] == -1  # registers by the end ...
    assert tracker._ist[K.I_MEMO_PAUSE] == 0  # ... with the memo probed throughout
