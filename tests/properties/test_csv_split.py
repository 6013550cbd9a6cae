"""Splitting a CSV file into byte ranges changes nothing: the same records, the same profile.

The generated files have quoted fields holding delimiters, newlines (LF and CRLF) and doubled quotes,
unquoted fields with a quote in the middle, CRLF or LF record ends, and empty fields; the split points
are arbitrary byte offsets, including inside quoted fields and between CR and LF.
"""

from __future__ import annotations

import csv
import io
import itertools
import multiprocessing as mp
from functools import reduce
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from nuvyn_executor.engine.discovery.base import FileRef
from nuvyn_executor.engine.profile.table import ProfileOptions
from nuvyn_executor.engine.readers import ReadOptions
from nuvyn_executor.engine.readers.csv_reader import plan_csv_split
from nuvyn_executor.engine.scheduler.share import RangeShare, set_current
from nuvyn_executor.engine.scheduler.tasks import FilePlan, TaskOptions, profile_file, w_profile_range

OPTS = TaskOptions(read=ReadOptions(block_size=1 << 16), profile=ProfileOptions(sample_size=3))

plain = st.text(alphabet="abcxyz0123456789 .-", max_size=8)
tricky = st.text(alphabet='ab,"\n\r; ', max_size=10)
mid_quote = st.builds(lambda a, b: f'{a}"{b}', st.text(alphabet="abc12", min_size=1, max_size=4),
                      st.text(alphabet="abc12", max_size=4))  # fmt: skip


@st.composite
def csv_documents(draw) -> bytes:
    ncols = draw(st.integers(1, 4))
    nrows = draw(st.integers(0, 25))
    terminator = draw(st.sampled_from(["\n", "\r\n"]))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=terminator, quoting=csv.QUOTE_MINIMAL)
    writer.writerow([f"col{i}" for i in range(ncols)])
    for _ in range(nrows):
        row = [draw(st.one_of(plain, tricky, st.just(""))) for _ in range(ncols)]
        if ncols > 1 and all(f == "" for f in row):
            row[0] = "x"  # an all-empty row of one column would be a blank line, which is no record
        if ncols == 1 and row[0] in ("",):
            row[0] = "x"
        line = io.StringIO()
        csv.writer(line, lineterminator=terminator).writerow(row)
        text = line.getvalue()
        if draw(st.booleans()) and ncols > 1:
            # an unquoted field with a quote in the middle: literal, as pyarrow (and Spark) read it
            raw = draw(mid_quote)
            text = raw + "," + text if not text.startswith(",") else raw + text
            text = text.split(terminator)[0]
            fields = next(csv.reader([text])) if '"' not in raw else None
            del fields
            text = ",".join([raw, *["y"] * (ncols - 1)]) + terminator
        out.write(text)
    return out.getvalue().encode()


def _ref(path: Path) -> FileRef:
    return FileRef(url=str(path), rel_path=path.name, size=path.stat().st_size, format="csv")


@given(csv_documents(), st.lists(st.floats(0, 1), max_size=6))
def test_ranges_give_the_same_profile(tmp_path_factory, doc: bytes, cuts: list[float]) -> None:
    path = tmp_path_factory.mktemp("split") / "f.csv"
    path.write_bytes(doc)
    ref = _ref(path)
    (whole,) = profile_file(ref, OPTS)
    assert whole.error is None, whole.error
    dialect = plan_csv_split(ref, OPTS.read)
    if dialect is None:
        return
    offsets = sorted({0, *(int(c * len(doc)) for c in cuts)})
    bounds = [*offsets, None]
    plan = FilePlan(ref=ref, table_key=ref.rel_path)
    parts = [
        part
        for i, (start, end) in enumerate(itertools.pairwise(bounds))
        for part in w_profile_range(plan, dialect, start, end, i, OPTS)
    ]
    for p in parts:
        assert p.error is None, p.error
        assert not p.resplit  # under SPECULATE_AFTER bytes every boundary is certain
    merged = reduce(lambda a, b: a.merge_part(b), parts)
    assert merged.profile.row_count == whole.profile.row_count
    assert merged.profile == whole.profile


def test_split_in_the_middle_of_a_quoted_newline(tmp_path) -> None:
    rows = ["id,text", '1,"first line', 'second line, still the field"', '2,"a ""quoted"" word"', "3,plain"]
    doc = ("\r\n".join(rows) + "\r\n").encode()
    path = tmp_path / "q.csv"
    path.write_bytes(doc)
    ref = _ref(path)
    dialect = plan_csv_split(ref, OPTS.read)
    assert dialect is not None
    (whole,) = profile_file(ref, OPTS)
    assert whole.profile.row_count == 3
    for cut in range(1, len(doc)):
        plan = FilePlan(ref=ref, table_key=ref.rel_path)
        (a,) = w_profile_range(plan, dialect, 0, cut, 0, OPTS)
        (b,) = w_profile_range(plan, dialect, cut, None, 1, OPTS)
        merged = a.merge_part(b)
        assert merged.profile == whole.profile, f"split at byte {cut}"


class _CutWhileReading(RangeShare):
    """A pool worker's share whose range the parent cuts just before the reader's ``k``-th claim: the
    parent's side of the protocol, run in between two of the reader's steps."""

    def __init__(self, task_id: int, k: int) -> None:
        super().__init__(mp.get_context())
        self.task_id = task_id
        self.k = k
        self.cut_at: tuple[int, int] | None = None
        self.assign(task_id)

    def claim(self, *args, **kwargs):
        self.k -= 1
        if self.k == 0:
            self.cut_at = self.cut(self.task_id, 1)
        return super().claim(*args, **kwargs)


@settings(deadline=None)
@given(csv_documents(), st.lists(st.integers(1, 6), min_size=1, max_size=4), st.sampled_from([32, 64, 256]))
def test_ranges_cut_while_they_are_read_give_the_same_profile(
    tmp_path_factory, doc: bytes, claims_before_cut: list[int], block_size: int
) -> None:
    """Work stealing: each range is cut before one of its reads, at the middle of what it has not read
    yet (the bytes after the cut become a range of their own, which may be cut in turn); small blocks
    make many reads, and records larger than a block make the reader open its range again."""
    path = tmp_path_factory.mktemp("cut") / "f.csv"
    path.write_bytes(doc)
    ref = _ref(path)
    (whole,) = profile_file(ref, OPTS)
    dialect = plan_csv_split(ref, OPTS.read)
    if dialect is None:
        return
    opts = TaskOptions(read=ReadOptions(block_size=block_size), profile=OPTS.profile)
    plan = FilePlan(ref=ref, table_key=ref.rel_path)
    pending = [(0, None)]
    parts = []
    cuts = iter(claims_before_cut)
    try:
        while pending:
            start, end = pending.pop()
            share = _CutWhileReading(len(parts), next(cuts, 0))
            set_current(share)
            parts.extend(w_profile_range(plan, dialect, start, end, len(parts), opts))
            if share.cut_at is not None:
                at, old_end = share.cut_at
                assert old_end == (len(doc) if end is None else end)
                pending.append((at, end))
    finally:
        set_current(None)
    for p in parts:
        assert p.error is None, p.error
        assert not p.resplit
    merged = reduce(lambda a, b: a.merge_part(b), parts)
    assert merged.profile.row_count == whole.profile.row_count
    assert merged.profile == whole.profile
