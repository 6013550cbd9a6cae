"""Delta deletion vectors: decoded as the protocol writes them, and the rows they delete left out.

The bitmaps are serialized by pyroaring (CRoaring's portable format, the one Delta's writers use), so the
decoder is checked against an implementation that is not ours; the DV file's framing (version byte,
big-endian size, payload, CRC-32) and the Z85 names follow the protocol's appendix.  (The deltalake
package the other Delta fixtures are written with refuses tables with deletion vectors, so it cannot
write these, nor read them back as a second opinion.)
"""

from __future__ import annotations

import json
import struct
import uuid
import zlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nuvyn_executor.engine import ExtractionSettings, extract_metadata
from nuvyn_executor.engine.readers.delta_dv import MAGIC, decode_bitmap_array, z85_decode

pyroaring = pytest.importorskip("pyroaring")

_Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"


def z85_encode(data: bytes) -> str:
    assert len(data) % 4 == 0
    out = []
    for i in range(0, len(data), 4):
        value = int.from_bytes(data[i : i + 4], "big")
        chars = []
        for _ in range(5):
            value, digit = divmod(value, 85)
            chars.append(_Z85[digit])
        out.append("".join(reversed(chars)))
    return "".join(out)


def bitmap_array(rows: list[int], optimize: bool = True) -> bytes:
    """A ``RoaringBitmapArray`` as Delta serializes it, each 32-bit part serialized by pyroaring."""
    by_key: dict[int, list[int]] = {}
    for r in sorted(set(rows)):
        by_key.setdefault(r >> 32, []).append(r & 0xFFFFFFFF)
    out = struct.pack("<I", MAGIC) + struct.pack("<q", len(by_key))
    for key, low in sorted(by_key.items()):
        bm = pyroaring.BitMap(low)
        if optimize:
            bm.run_optimize()
        out += struct.pack("<I", key) + bm.serialize()
    return out


def test_z85_decodes_the_specs_example() -> None:
    assert z85_decode("HelloWorld") == bytes([0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B])
    with pytest.raises(ValueError, match="multiple of 5"):
        z85_decode("Hell")
    with pytest.raises(ValueError, match="not a Z85 character"):
        z85_decode("Hell~")


rows_strategy = st.one_of(
    st.lists(st.integers(0, 200_000), max_size=300),  # array containers
    st.builds(lambda a, n: list(range(a, a + n)), st.integers(0, 1 << 20), st.integers(1, 20_000)),  # runs
    st.builds(lambda s: list(range(s, 70_000, 3)), st.integers(0, 2)),  # bitmap containers (> 4096 values)
    st.lists(st.integers(0, (1 << 34)), max_size=50),  # several 32-bit keys
)


@settings(deadline=None, max_examples=60)
@given(rows_strategy, st.booleans())
def test_bitmap_arrays_decode_to_their_rows(rows: list[int], optimize: bool) -> None:
    decoded = decode_bitmap_array(bitmap_array(rows, optimize))
    assert decoded.dtype == np.uint64
    assert decoded.tolist() == sorted(set(rows))


def test_a_malformed_bitmap_is_an_error_not_a_guess() -> None:
    good = bitmap_array([1, 5, 9])
    with pytest.raises(ValueError, match="magic number"):
        decode_bitmap_array(b"\0\0\0\0" + good[4:])
    with pytest.raises((ValueError, struct.error)):
        decode_bitmap_array(good[:-2])
    with pytest.raises(ValueError, match="after the last bitmap"):
        decode_bitmap_array(good + b"\0")


# --- a Delta table whose files have deletion vectors --------------------------------------------------


def _dv_file(folder: Path, payloads: list[bytes], prefix: str = "") -> tuple[str, list[int]]:
    """A DV file holding ``payloads``: (``pathOrInlineDv`` for storage type ``u``, each one's offset)."""
    ident = uuid.uuid4()
    where = folder / prefix if prefix else folder
    where.mkdir(parents=True, exist_ok=True)
    data = bytearray(b"\x01")
    offsets = []
    for p in payloads:
        offsets.append(len(data))
        data += struct.pack(">i", len(p)) + p + struct.pack(">I", zlib.crc32(p))
    (where / f"deletion_vector_{ident}.bin").write_bytes(bytes(data))
    return prefix + z85_encode(ident.bytes), offsets


def _descriptor(storage: str, path_or_inline: str, payload: bytes, cardinality: int, offset=None) -> dict:
    d = {"storageType": storage, "pathOrInlineDv": path_or_inline, "sizeInBytes": len(payload),
         "cardinality": cardinality}  # fmt: skip
    if offset is not None:
        d["offset"] = offset
    return d


def _profile(folder: Path, **kw) -> tuple[dict, dict[str, dict]]:
    doc = extract_metadata(ExtractionSettings(path=str(folder), **kw)).to_dict()
    (table,) = doc["tables"]
    return table, {c["column_name"]: c for c in doc["columns"]}


@pytest.fixture
def delta_with_dvs(tmp_path: Path) -> tuple[Path, int, list[str]]:
    """Two files of 3,000 rows (``id`` 0-5999, row groups of 500): the first loses its 100 smallest
    ids through a vector in a DV file under a random prefix (beside another file's vector), the second
    its 50 largest through an inline vector.  Returns (folder, live rows, the data files' paths)."""
    import deltalake

    folder = tmp_path / "events"
    for part in range(2):
        ids = range(part * 3000, part * 3000 + 3000)
        t = pa.table({"id": pa.array(ids, pa.int64()), "kind": [f"k{i % 7}" for i in ids]})
        deltalake.write_deltalake(str(folder), t, mode="append" if part else "error",
                                  writer_properties=deltalake.WriterProperties(max_row_group_size=500))  # fmt: skip
    paths = [
        json.loads(line)["add"]["path"]
        for f in sorted((folder / "_delta_log").glob("*.json"))
        for line in f.read_text().splitlines()
        if '"add"' in line
    ]
    first = pq.read_table(folder / paths[0]).column("id").to_pylist()
    second = pq.read_table(folder / paths[1]).column("id").to_pylist()
    gone_first = sorted(i for i, v in enumerate(first) if v < 100)
    gone_second = sorted(i for i, v in enumerate(second) if v >= 5950)
    p1 = bitmap_array(gone_first)
    other = bitmap_array([7])  # another data file's vector, first in the same DV file
    name, offsets = _dv_file(folder, [other, p1], prefix="ab")
    p2 = bitmap_array(gone_second)
    inline = z85_encode(p2 + b"\0" * (-len(p2) % 4))
    dvs = {
        paths[0]: _descriptor("u", name, p1, len(gone_first), offset=offsets[1]),
        paths[1]: _descriptor("i", inline, p2, len(gone_second)),
    }
    _merge_commits(folder, dvs)
    return folder, 6000 - 150, paths


def _merge_commits(folder: Path, dvs: dict[str, dict], add_first: bool = False) -> None:
    """Commit what a DELETE with deletion vectors commits: each file removed with its current vector (if
    any) and added again with its new one, the two actions in either order."""
    log = folder / "_delta_log"
    adds = {}
    for f in sorted(log.glob("*.json")):
        for line in f.read_text().splitlines():
            action = json.loads(line)
            if "add" in action:
                adds[action["add"]["path"]] = action["add"]
    version = len(list(log.glob("*.json")))
    actions = [{"protocol": {"minReaderVersion": 3, "minWriterVersion": 7,
                             "readerFeatures": ["deletionVectors"], "writerFeatures": ["deletionVectors"]}}]  # fmt: skip
    for path, dv in dvs.items():
        old = adds[path]
        remove = {"path": path, "dataChange": True, "deletionTimestamp": 1}
        if old.get("deletionVector"):
            remove["deletionVector"] = old["deletionVector"]
        pair = [{"remove": remove}, {"add": {**old, "dataChange": True, "deletionVector": dv}}]
        actions += pair[::-1] if add_first else pair
    (log / f"{version:020d}.json").write_text("".join(json.dumps(a) + "\n" for a in actions))


@pytest.mark.parametrize("workers", [1, 2])
def test_deleted_rows_are_not_profiled(delta_with_dvs, workers: int) -> None:
    folder, live, _ = delta_with_dvs
    table, cols = _profile(folder, workers=workers, split_size=1 << 13)  # 2 workers: runs of row groups
    assert table["error"] is None
    assert table["row_count"] == live
    assert (cols["id"]["min_value"], cols["id"]["max_value"]) == ("100", "5949")
    assert cols["id"]["distinct_count"] == pytest.approx(live, rel=0.02)
    assert not any("deletion" in w for w in json.loads(table["warnings"]))


def test_a_missing_deletion_vector_file_fails_that_file_only(delta_with_dvs) -> None:
    folder, _, _ = delta_with_dvs
    (dv_file,) = (folder / "ab").glob("deletion_vector_*.bin")
    dv_file.unlink()
    table, cols = _profile(folder, workers=1)
    assert table["error"] is None
    warnings = " ".join(json.loads(table["warnings"]))
    assert f"deletion vector file `{dv_file.name}` is missing" in warnings
    assert cols["id"]["min_value"] == "3000"


def test_a_vector_that_disagrees_with_the_log_is_an_error(delta_with_dvs) -> None:
    folder, _, _ = delta_with_dvs
    log = folder / "_delta_log"
    last = sorted(log.glob("*.json"))[-1]
    last.write_text(last.read_text().replace('"cardinality": 50', '"cardinality": 51'))
    table, _ = _profile(folder, workers=1)
    warnings = " ".join(json.loads(table["warnings"]))
    assert "its deletion vector deletes 50 rows, the log says 51" in warnings


def test_runs_of_row_groups_skip_the_rows_at_their_own_positions(tmp_path: Path) -> None:
    """A split Parquet file's parts start at the row of their first row group: each part drops the
    deleted rows that fall in it, and the parts together keep exactly the live rows."""
    from nuvyn_executor.engine.discovery.base import FileRef
    from nuvyn_executor.engine.readers import ReadOptions
    from nuvyn_executor.engine.readers.delta_dv import without_deleted_rows
    from nuvyn_executor.engine.readers.parquet import open_parquet_row_groups

    path = tmp_path / "f.parquet"
    pq.write_table(pa.table({"id": pa.array(range(3000), pa.int64())}), path, row_group_size=500)
    ref = FileRef(url=str(path), rel_path=path.name, size=path.stat().st_size, format="parquet")
    deleted = np.array([i for i in range(3000) if i % 7 == 3], dtype=np.uint64)
    kept: list[int] = []
    counts = 0
    for first, end in [(0, 2), (2, 5), (5, 6)]:
        stream = without_deleted_rows(open_parquet_row_groups(ref, ReadOptions(block_size=1 << 20, batch_rows=128), first, end),
                                      deleted)  # fmt: skip
        counts += stream.row_count
        for batch in stream.batches:
            kept += batch.column(0).to_pylist()
    assert kept == [i for i in range(3000) if i % 7 != 3]
    assert counts == len(kept)


def test_metadata_only_counts_live_rows_and_says_what_the_footers_include(delta_with_dvs) -> None:
    folder, live, _ = delta_with_dvs
    table, _ = _profile(folder, workers=1, metadata_only=True)
    assert table["row_count"] == live
    warnings = " ".join(json.loads(table["warnings"]))
    assert "footer statistics still count the 100 rows its deletion vector deletes" in warnings
    assert "footer statistics still count the 50 rows its deletion vector deletes" in warnings


def test_a_second_delete_replaces_the_files_vector_whatever_the_order_of_its_actions(delta_with_dvs) -> None:
    """The log's files are (path, vector): a DELETE removes (path, old vector) and adds (path, new one),
    and a reader keyed on the path alone would drop the file when the add comes first."""
    folder, live, (first_path, _) = delta_with_dvs
    ids = pq.read_table(folder / first_path).column("id").to_pylist()
    gone = sorted(i for i, v in enumerate(ids) if v < 200)
    payload = bitmap_array(gone)
    inline = z85_encode(payload + b"\0" * (-len(payload) % 4))
    _merge_commits(folder, {first_path: _descriptor("i", inline, payload, len(gone))}, add_first=True)
    table, cols = _profile(folder, workers=1)
    assert table["error"] is None
    assert table["row_count"] == live - 100
    assert cols["id"]["min_value"] == "200"
    assert table["file_count"] == 2


def test_an_implausible_vector_size_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    from nuvyn_executor.engine.errors import ReadError
    from nuvyn_executor.engine.readers.delta_dv import DeletionVector, load_deleted_rows

    dv = DeletionVector("u", "ab" + z85_encode(uuid.uuid4().bytes), 1, 1 << 40, 3)
    with pytest.raises(ReadError, match="is not plausible"):
        load_deleted_rows(dv, str(tmp_path))


def test_a_vector_not_where_the_log_says_is_an_error(delta_with_dvs) -> None:
    folder, _, _ = delta_with_dvs
    last = sorted((folder / "_delta_log").glob("*.json"))[-1]
    text = last.read_text()
    offset = json.loads(text.splitlines()[2])["add"]["deletionVector"]["offset"]
    last.write_text(text.replace(f'"offset": {offset}', '"offset": 1'))  # the other file's vector
    table, cols = _profile(folder, workers=1)
    warnings = " ".join(json.loads(table["warnings"]))
    assert "holds no vector of" in warnings
    assert "at offset 1, where the log says" in warnings
    assert cols["id"]["min_value"] == "3000"  # the other file is still profiled
