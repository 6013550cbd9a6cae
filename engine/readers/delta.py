"""Delta tables: the current snapshot from ``_delta_log`` (the newest complete checkpoint, then the JSON
commits after it), read through the store's ``FileSystem`` like every other byte.

The snapshot gives the table's schema (declared types and nullability), its partition columns, and the
data files that are live now, each with its record count when the writer kept statistics.  Values are
then profiled from those Parquet files only (files removed by later commits are never read).  Column
mapping (``delta.columnMapping.mode`` ``name``/``id``) is honoured: files hold physical names, the table
reports logical ones.  Rows deleted through deletion vectors are left out: the log's row count subtracts
them, and the files' readers skip them (``delta_dv`` decodes the vectors).
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import pyarrow as pa

from ..discovery.base import FileRef, filesystem_for
from ..errors import ReadError
from .delta_dv import DeletionVector

_COMMIT = re.compile(r"^(\d{20})\.json$")
_CHECKPOINT = re.compile(r"^(\d{20})\.checkpoint(?:\.(\d+)\.(\d+))?\.parquet$")

_PRIMITIVE = {
    "string": "string",
    "long": "bigint",
    "integer": "int",
    "short": "int",
    "byte": "int",
    "float": "double",
    "double": "double",
    "boolean": "boolean",
    "binary": "binary",
    "date": "date",
    "timestamp": "timestamp",
    "timestamp_ntz": "timestamp",
}


@dataclass(frozen=True)
class DeltaColumn:
    name: str  # logical
    physical: str  # as written in the data files
    data_type: str  # contract name
    nullable: bool


@dataclass(frozen=True)
class DeltaFile:
    path: str  # relative to the table's root, decoded
    size: int
    num_records: int | None
    partition_values: tuple[tuple[str, str | None], ...] = ()
    deletion_vector: DeletionVector | None = None

    @property
    def deleted_rows(self) -> int:
        return 0 if self.deletion_vector is None else self.deletion_vector.cardinality


@dataclass(frozen=True)
class DeltaSnapshot:
    version: int
    columns: tuple[DeltaColumn, ...]
    partition_columns: tuple[str, ...]
    files: tuple[DeltaFile, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def row_count(self) -> int | None:
        """Records in the snapshot according to the log; None when a file has no statistics."""
        if any(f.num_records is None for f in self.files):
            return None
        return sum(f.num_records - f.deleted_rows for f in self.files)  # type: ignore[operator]


def delta_type(t: Any) -> str:
    """The contract's name of a Delta (Spark JSON schema) type."""
    from ..profile.typed import quote_field

    if isinstance(t, str):
        if t in _PRIMITIVE:
            return _PRIMITIVE[t]
        if t.startswith("decimal"):
            return t.replace(" ", "")
        return "string"
    kind = t.get("type")
    if kind == "struct":
        inner = ",".join(f"{quote_field(f['name'])}:{delta_type(f['type'])}" for f in t.get("fields", []))
        return f"struct<{inner}>"
    if kind == "array":
        return f"array<{delta_type(t['elementType'])}>"
    if kind == "map":
        return f"map<{delta_type(t['keyType'])},{delta_type(t['valueType'])}>"
    return "string"


def _columns(meta: dict[str, Any]) -> tuple[DeltaColumn, ...]:
    try:
        schema = json.loads(meta["schemaString"])
    except (KeyError, TypeError, ValueError) as err:
        raise ReadError(f"the Delta log's metaData has no readable schema: {err}") from None
    out = []
    for f in schema.get("fields", []):
        physical = (f.get("metadata") or {}).get("delta.columnMapping.physicalName") or f["name"]
        out.append(DeltaColumn(f["name"], physical, delta_type(f["type"]), bool(f.get("nullable", True))))
    return tuple(out)


def _add(action: dict[str, Any]) -> DeltaFile:
    path = action["path"]
    if "://" in path:
        raise ReadError(f"the Delta log names a data file outside the table (`{path}`): not supported")
    stats = action.get("stats")
    num = None
    if isinstance(stats, str) and stats:
        try:
            num = json.loads(stats).get("numRecords")
        except ValueError:
            num = None
    pv = action.get("partitionValues") or {}
    if isinstance(pv, list):  # a map read from a checkpoint: [(key, value), ...]
        pv = dict(pv)
    dv = action.get("deletionVector")
    return DeltaFile(
        path=unquote(path),
        size=int(action.get("size") or 0),
        num_records=None if num is None else int(num),
        partition_values=tuple(sorted(pv.items())),
        deletion_vector=DeletionVector.from_action(dv) if dv else None,
    )


# A logical file of the table: its path and its deletion vector's unique id (the protocol's identity: a
# DELETE commits the same path removed with its old vector and added with its new one, in any order).
_FileKey = tuple[str, str | None]


def _key(f: DeltaFile) -> _FileKey:
    return (f.path, None if f.deletion_vector is None else f.deletion_vector.unique_id)


def _remove(active: dict[_FileKey, DeltaFile], action: dict[str, Any]) -> None:
    path = unquote(action["path"])
    dv = action.get("deletionVector")
    key = (path, DeletionVector.from_action(dv).unique_id if dv else None)
    if active.pop(key, None) is None and not dv:
        # a remove that names no vector (a writer older than deletion vectors): the path's file, whatever
        for other in [k for k in active if k[0] == path]:
            del active[other]


def _read_checkpoint(parts: Sequence[FileRef]) -> tuple[dict[_FileKey, DeltaFile], dict | None]:
    import pyarrow.parquet as pq  # here, not at the top: runs without Delta tables skip it

    active: dict[_FileKey, DeltaFile] = {}
    meta = None
    for ref in parts:
        source = filesystem_for(ref.url).open_random(ref.url)
        try:
            pf = pq.ParquetFile(source)
            names = set(pf.schema_arrow.names)
            cols = [c for c in ("add", "metaData") if c in names]
            for batch in pf.iter_batches(columns=cols, batch_size=8192):
                table = batch.to_pydict()
                for add in table.get("add", []):
                    if add:
                        f = _add(add)
                        active[_key(f)] = f
                for m in table.get("metaData", []):
                    if m:
                        meta = m
        except (pa.ArrowException, OSError, KeyError) as err:
            raise ReadError(f"Delta checkpoint `{ref.name}` cannot be read: {err}") from None
        finally:
            source.close()
    return active, meta


def read_snapshot(log: Sequence[FileRef]) -> DeltaSnapshot:
    """The current snapshot of a Delta table from the files of its ``_delta_log`` folder."""
    commits: dict[int, FileRef] = {}
    checkpoints: dict[int, dict[int, FileRef]] = {}
    expected_parts: dict[int, int] = {}
    for ref in log:
        name = posixpath.basename(ref.rel_path)
        m = _COMMIT.match(name)
        if m:
            commits[int(m[1])] = ref
            continue
        m = _CHECKPOINT.match(name)
        if m:
            v = int(m[1])
            part, total = (int(m[2]), int(m[3])) if m[2] else (1, 1)
            checkpoints.setdefault(v, {})[part] = ref
            expected_parts[v] = total
    complete = sorted(v for v, parts in checkpoints.items() if len(parts) == expected_parts[v])
    if not commits and not complete:
        raise ReadError("the `_delta_log` folder holds no commit and no checkpoint")
    latest = max([*commits, *complete])
    active: dict[_FileKey, DeltaFile] = {}
    meta: dict | None = None
    start = 0
    if complete:
        cp = complete[-1]
        active, meta = _read_checkpoint([checkpoints[cp][p] for p in sorted(checkpoints[cp])])
        start = cp + 1
    missing = [v for v in range(start, latest + 1) if v not in commits]
    if missing:
        raise ReadError(
            f"the Delta log is incomplete: commit {missing[0]:020d}.json is missing"
            + ("" if complete else " and there is no checkpoint")
        )
    warnings = []
    for v in range(start, latest + 1):
        ref = commits[v]
        try:
            text = filesystem_for(ref.url).read_range(ref.url, 0, max(ref.size, 1)).decode("utf-8")
        except UnicodeDecodeError:
            raise ReadError(f"Delta commit `{ref.name}` is not UTF-8 JSON") from None
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                action = json.loads(line)
            except ValueError as err:
                raise ReadError(f"Delta commit `{ref.name}` line {n} is not JSON: {err}") from None
            if action.get("add"):
                f = _add(action["add"])
                active[_key(f)] = f
            elif action.get("remove"):
                _remove(active, action["remove"])
            elif action.get("metaData"):
                meta = action["metaData"]
    if meta is None:
        raise ReadError("the Delta log has no metaData action (no schema)")
    files = tuple(sorted(active.values(), key=lambda f: f.path))
    partition_columns = tuple(meta.get("partitionColumns") or ())
    return DeltaSnapshot(latest, _columns(meta), partition_columns, files, tuple(warnings))
