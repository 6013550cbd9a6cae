"""Databricks File System paths: ``dbfs:/mnt/x`` is read through the driver's FUSE mount ``/dbfs/mnt/x``."""

from __future__ import annotations

import os

from ..errors import SourceNotFoundError

DBFS_FUSE_ROOT = "/dbfs"


def is_dbfs(path: str) -> bool:
    return path.startswith(("dbfs:/", DBFS_FUSE_ROOT + "/")) or path == DBFS_FUSE_ROOT


def dbfs_local_path(path: str, fuse_root: str = DBFS_FUSE_ROOT) -> str:
    """The local FUSE path of a ``dbfs:/`` URI (``/dbfs/...`` paths are returned unchanged)."""
    if not path.startswith("dbfs:"):
        return path
    rest = path[len("dbfs:") :].lstrip("/")
    if not os.path.isdir(fuse_root):
        raise SourceNotFoundError(
            f"`{path}` is a DBFS path, but `{fuse_root}` is not mounted here: run on a Databricks cluster, "
            f"or pass the `{fuse_root}/...` path of a mount"
        )
    return os.path.join(fuse_root, rest)
