"""Hypothesis strategies for raw text values: the shapes real CSV fields take, and arbitrary bytes."""

from __future__ import annotations

from hypothesis import strategies as st

_MONTHS = ["Jan", "feb", "MAR", "April", "may", "June", "Jul.", "aug", "Sept", "October", "nov", "December"]

digits = st.integers(min_value=0, max_value=10**25).map(str)
signed_ints = st.integers(min_value=-(2**70), max_value=2**70).map(str)
small_ints = st.integers(min_value=-(2**33), max_value=2**33).map(str)
leading_zero = st.integers(min_value=0, max_value=99999).map(lambda n: "0" + str(n))
doubles = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
    st.builds(lambda a, b: f"{a}.{b}", st.integers(-(10**6), 10**6), st.integers(0, 10**8)),
    st.builds(lambda a, e: f"{a}e{e}", st.integers(-999, 999), st.integers(-30, 30)),
    st.sampled_from([".5", "5.", "-.5", "+1.0", "1e0000005", "1E+3", "0.0", "-0.0", "00.5", "1e", "."]),
)
dates_iso = st.builds(
    lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}", st.integers(1, 9999), st.integers(0, 13), st.integers(0, 32)
)
dates_slash = st.builds(
    lambda a, b, y: f"{a}/{b}/{y:04d}", st.integers(0, 32), st.integers(0, 32), st.integers(1, 9999)
)
dates_dash = st.builds(
    lambda a, b, y: f"{a:02d}-{b}-{y:04d}", st.integers(0, 32), st.integers(0, 32), st.integers(1900, 2100)
)
dates_dot = st.builds(
    lambda a, b, y: f"{a}.{b:02d}.{y}", st.integers(0, 32), st.integers(0, 13), st.integers(1000, 2999)
)
dates_named = st.one_of(
    st.builds(lambda m, d, y, c: f"{m} {d}{',' if c else ''} {y}", st.sampled_from(_MONTHS), st.integers(0, 32),
              st.integers(1000, 2999), st.booleans()),
    st.builds(lambda d, s, m, y: f"{d}{s}{m}{s}{y}", st.integers(0, 32), st.sampled_from([" ", "-"]),
              st.sampled_from(_MONTHS), st.integers(1000, 2999)),
)  # fmt: skip
times = st.builds(
    lambda h, m, s, f, ampm, z: f"{h}:{m:02d}" + (f":{s:02d}" if s is not None else "") + (f".{f}" if f and s is not None else "")
    + (ampm or "") + (z or ""),
    st.integers(0, 25), st.integers(0, 61), st.one_of(st.none(), st.integers(0, 61)),
    st.one_of(st.none(), st.integers(0, 10**10).map(str)),
    st.sampled_from([None, " AM", "PM", " pm"]),
    st.sampled_from([None, "Z", "+05:30", "-0800", "+01", "+05:", " +02:00", "+19:00"]),
)  # fmt: skip
timestamps = st.builds(lambda d, sep, t: f"{d}{sep}{t}", st.one_of(dates_iso, dates_slash, dates_named),
                       st.sampled_from(["T", " ", "T ", "  "]), times)  # fmt: skip
booleans = st.sampled_from(["true", "false", "TRUE", "False", "tRuE", "truth", "f", "yes"])
nullish = st.sampled_from(["", " ", "NULL", "null", "None", "NA", "N/A", "NaN", "nan", "#N/A", " NA "])
words = st.text(min_size=0, max_size=12)
padded = st.builds(lambda pre, v, post: pre + v + post, st.sampled_from(["", " ", "\t", "  "]),
                   st.one_of(small_ints, doubles, dates_iso), st.sampled_from(["", " ", "\t"]))  # fmt: skip

text_values = st.one_of(
    digits,
    signed_ints,
    small_ints,
    leading_zero,
    doubles,
    dates_iso,
    dates_slash,
    dates_dash,
    dates_dot,
    dates_named,
    timestamps,
    booleans,
    nullish,
    words,
    padded,
)
raw_values = st.one_of(
    text_values.map(lambda s: s.encode("utf-8")),
    st.binary(max_size=20),
    st.none(),
)


def column_of(values: st.SearchStrategy = raw_values, max_size: int = 60) -> st.SearchStrategy:
    """A list of raw values that tends to share one shape (so typed columns actually occur)."""
    shaped = st.sampled_from(
        [small_ints, doubles, dates_iso, dates_slash, timestamps, booleans, words]
    ).flatmap(
        lambda s: st.lists(
            st.one_of(s.map(lambda x: x.encode()), st.none(), nullish.map(str.encode)), max_size=max_size
        )
    )
    return st.one_of(st.lists(values, max_size=max_size), shaped)
