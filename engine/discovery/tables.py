"""Which files make one table: grouping ``FileRef`` records by their paths alone (no content is read).

A folder is one table when it is

* a **Delta table**: it holds a ``_delta_log`` folder.  Its data files are the ones the log says are
  live (the planner reads the log); the files found on disk under it are not tables of their own.
* **Hive-partitioned**: its data files all sit below ``key=value`` folders, with the same keys in the
  same order on every path (``sales/year=2024/month=01/part-0.parquet``).  The table is the folder above
  the first ``key=value`` level, and the keys become columns (``__HIVE_DEFAULT_PARTITION__`` is null).
* **Spark output**: data files named ``part-*`` directly inside it (Spark and Databricks name their
  output so; ``_SUCCESS``, ``_committed_*`` and ``.crc`` files beside them are skipped by discovery).

The files of one table must also share a format (the one their names say); otherwise, and for any
other folder, every file is a table of its own.  ``group=False`` (``--no-group-tables``) makes every
file a table of its own (a Delta table's log is then ignored).
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from .base import DELTA_LOG, DELTA_LOG_DIR, UNKNOWN, FileRef

HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"

KIND_FILE = "file"
KIND_FOLDER = "folder"  # Spark/Databricks part files
KIND_HIVE = "hive"
KIND_DELTA = "delta"

Partition = tuple[tuple[str, str | None], ...]


@dataclass(frozen=True)
class TableGroup:
    """The files of one table, and what their paths say about it."""

    key: str  # the table's relative path: a file's, or a folder's ("" for the source root itself)
    kind: str  # KIND_*
    files: tuple[FileRef, ...]
    partition_columns: tuple[str, ...] = ()
    partitions: tuple[Partition, ...] = ()  # per file (aligned with ``files``): ((key, value), ...)
    log: tuple[FileRef, ...] = ()  # a Delta table's ``_delta_log`` files
    location: str = ""  # a folder table's URL or path (for the files a Delta log names)

    @property
    def is_folder(self) -> bool:
        return self.kind != KIND_FILE


def _hive_part(component: str) -> tuple[str, str | None] | None:
    key, sep, value = component.partition("=")
    if not sep or not key or "/" in key:
        return None
    from urllib.parse import unquote

    text = unquote(value)
    return key, (None if text == HIVE_NULL else text)


def _split_hive(rel_path: str) -> tuple[str, Partition]:
    """(table folder, partition values) of a file: the ``key=value`` folders right above it."""
    parts = rel_path.split("/")[:-1]
    values: list[tuple[str, str | None]] = []
    while parts:
        kv = _hive_part(parts[-1])
        if kv is None:
            break
        values.insert(0, kv)
        parts.pop()
    return "/".join(parts), tuple(values)


def _one_format(refs: Sequence[FileRef]) -> bool:
    known = {r.format for r in refs if r.format != UNKNOWN}
    return len(known) <= 1


def _folder_url(ref: FileRef, rel_folder: str) -> str:
    """The URL of ``rel_folder`` (an ancestor of ``ref``), from the file's own URL."""
    depth = ref.rel_path.count("/") - (rel_folder.count("/") + 1 if rel_folder else 0)
    url = ref.url
    for _ in range(depth + 1):
        url = url.rsplit("/", 1)[0]
    return url


def group_tables(refs: Sequence[FileRef], *, group: bool = True) -> list[TableGroup]:
    """The tables of a source, sorted by key.  ``refs`` are discovery's records (Delta log files included)."""
    logs = [r for r in refs if r.format == DELTA_LOG]
    data = [r for r in refs if r.format != DELTA_LOG]
    if not group:
        return [TableGroup(key=r.rel_path, kind=KIND_FILE, files=(r,)) for r in data]
    tables: list[TableGroup] = []

    # Delta tables: the folder above each _delta_log
    delta_logs: dict[str, list[FileRef]] = defaultdict(list)
    for r in logs:
        folder = posixpath.dirname(r.rel_path)  # .../_delta_log
        root = posixpath.dirname(folder) if posixpath.basename(folder) == DELTA_LOG_DIR else folder
        delta_logs[root].append(r)
    for root, log in sorted(delta_logs.items()):
        log_refs = tuple(sorted(log, key=lambda r: r.rel_path))
        tables.append(
            TableGroup(key=root, kind=KIND_DELTA, files=(), log=log_refs, location=_folder_url(log[0], root))
        )
    roots = sorted(delta_logs)

    def in_delta(rel: str) -> bool:
        return any(root == "" or rel.startswith(root + "/") for root in roots)

    rest = [r for r in data if not in_delta(r.rel_path)]

    # Hive-partitioned folders
    by_root: dict[str, list[tuple[FileRef, Partition]]] = defaultdict(list)
    for r in rest:
        root, values = _split_hive(r.rel_path)
        if values:
            by_root[root].append((r, values))
    claimed: set[str] = set()
    for root, members in sorted(by_root.items()):
        keys = {tuple(k for k, _ in values) for _, values in members}
        files = [r for r, _ in members]
        direct = [r for r in rest if posixpath.dirname(r.rel_path) == root]
        if len(keys) != 1 or direct or not _one_format(files):
            continue  # not one consistent layout: the files stay tables of their own
        (key_names,) = keys
        tables.append(
            TableGroup(
                key=root,
                kind=KIND_HIVE,
                files=tuple(files),
                partition_columns=key_names,
                partitions=tuple(values for _, values in members),
                location=_folder_url(files[0], root),
            )
        )
        claimed.update(r.rel_path for r in files)
    rest = [r for r in rest if r.rel_path not in claimed]

    # Spark output folders
    by_folder: dict[str, list[FileRef]] = defaultdict(list)
    for r in rest:
        if r.name.lower().startswith("part-"):
            by_folder[posixpath.dirname(r.rel_path)].append(r)
    for folder, files in sorted(by_folder.items()):
        if not _one_format(files):
            continue
        tables.append(
            TableGroup(
                key=folder, kind=KIND_FOLDER, files=tuple(files), location=_folder_url(files[0], folder)
            )
        )
        claimed.update(r.rel_path for r in files)

    tables.extend(
        TableGroup(key=r.rel_path, kind=KIND_FILE, files=(r,)) for r in rest if r.rel_path not in claimed
    )
    return sorted(tables, key=lambda t: t.key)
