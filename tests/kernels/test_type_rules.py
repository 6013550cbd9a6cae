"""The contract's type rules, value by value and column by column (a readable table of examples)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from nuvyn_executor.engine.profile.table import ProfileOptions, TableTracker


def column_type(values: list[str | None], **opts) -> tuple[str, str | None, str | None, str | None]:
    tracker = TableTracker(["c"], ProfileOptions(**opts))
    tracker.update(pa.RecordBatch.from_arrays([pa.array(values, type=pa.string())], names=["c"]))
    prefer = opts.pop("prefer_decimal", False) if "prefer_decimal" in opts else False
    (summary,) = tracker.view().finalize(prefer_decimal=prefer)
    return summary.data_type, summary.min_value, summary.max_value, summary.date_format


@pytest.mark.parametrize(
    ("values", "expected_type", "lo", "hi"),
    [
        (["1", "-2", "+3"], "int", "-2", "3"),
        (["1", "3000000000"], "bigint", "1", "3000000000"),
        (["1", "99999999999999999999"], "double", "1", "99999999999999999999"),
        (["1.5", "2", "1e3"], "double", "1.5", "1e3"),
        (["02134", "12345"], "string", "02134", "12345"),
        (["0", "0.5"], "double", "0", "0.5"),
        (["true", "FALSE", "True"], "boolean", "false", "true"),
        (["true", "1"], "string", "1", "true"),
        (["2024-02-29", "2024-01-01"], "date", "2024-01-01", "2024-02-29"),
        (["2023-02-29"], "string", "2023-02-29", "2023-02-29"),
        (
            ["2024-01-01", "2024-01-01T10:00:00+02:00"],
            "timestamp",
            "2024-01-01 00:00:00",
            "2024-01-01 08:00:00",
        ),
        (["2024-01-01 10:00:00.25Z"], "timestamp", "2024-01-01 10:00:00.25", "2024-01-01 10:00:00.25"),
        (["1/2/2024", "3/4/2024"], "date", "2024-01-02", "2024-03-04"),  # ambiguous: month first
        (["1/2/2024", "13/4/2024"], "date", "2024-02-01", "2024-04-13"),  # 13 settles it: day first
        (["1/13/2024", "13/1/2024"], "string", "1/13/2024", "13/1/2024"),  # no one format holds both
        (["2024-01-01", "02/01/2024"], "string", "02/01/2024", "2024-01-01"),
        (["Jan 5, 2024", "Dec 31 2023"], "date", "2023-12-31", "2024-01-05"),
        (["5-Jan-2024", "31 Dec 2023"], "date", "2023-12-31", "2024-01-05"),  # '-' or ' ': one format
        (["31.12.2024"], "date", "2024-12-31", "2024-12-31"),
        (["1/2/2024 3:04 PM"], "timestamp", "2024-01-02 15:04:00", "2024-01-02 15:04:00"),
        ([None, "", " ", "NULL", "N/A"], "string", None, None),
        ([" 7 ", "8"], "int", "7", "8"),
        (["1", "x"], "string", "1", "x"),
        (["₹1,099", "₹399"], "string", "₹1,099", "₹399"),
    ],
)
def test_column_types(values, expected_type, lo, hi) -> None:
    data_type, mn, mx, _ = column_type(values)
    assert (data_type, mn, mx) == (expected_type, lo, hi)


def test_prefer_decimal() -> None:
    tracker = TableTracker(["c"], ProfileOptions())
    tracker.update(pa.RecordBatch.from_arrays([pa.array(["12.50", "0.125", "7"])], names=["c"]))
    (s,) = tracker.view().finalize(prefer_decimal=True)
    assert s.data_type == "decimal(5,3)"
    tracker.update(pa.RecordBatch.from_arrays([pa.array(["1e3"])], names=["c"]))
    (s,) = tracker.view().finalize(prefer_decimal=True)
    assert s.data_type == "double"


def test_the_date_format_is_reported() -> None:
    assert column_type(["31/12/2024"])[3] == "d/M/yyyy"
    assert column_type(["2024-12-31"])[3] == "yyyy-MM-dd"
    assert column_type(["x"])[3] is None


def test_distinct_counts_are_exact_below_the_limit_and_close_above() -> None:
    for n in (1, 999, 1000, 2048):
        tracker = TableTracker(["c"], ProfileOptions())
        tracker.update(pa.RecordBatch.from_arrays([pa.array([str(i) for i in range(n)] * 2)], names=["c"]))
        assert tracker.view().columns[0].distinct_count == n
    for n in (5000, 50_000, 300_000):
        tracker = TableTracker(["c"], ProfileOptions())
        tracker.update(pa.RecordBatch.from_arrays([pa.array([f"v{i}" for i in range(n)])], names=["c"]))
        assert abs(tracker.view().columns[0].distinct_count - n) / n < 0.03, n


def test_values_are_cut_to_200_characters() -> None:
    long = "é" * 300
    data_type, mn, mx, _ = column_type([long])
    assert (data_type, len(mn), len(mx)) == ("string", 200, 200)
